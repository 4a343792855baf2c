#!/usr/bin/env python3
"""Test listener for the dvpn-firewall tests: answers each TCP connection with
one line, then closes it.

  listener.py origdst PORT   "redirected ADDR PORT": the destination the client
                             asked for, read with SO_ORIGINAL_DST (IPv4) or
                             IP6T_SO_ORIGINAL_DST (IPv6), as dvpnd does
  listener.py plain PORT     "direct ADDR": the local address the client reached

Listens on 0.0.0.0:PORT and [::]:PORT (IPV6_V6ONLY), like dvpnd's default listen.
"""
import ipaddress
import selectors
import socket
import struct
import sys

SO_ORIGINAL_DST = 80       # linux/netfilter_ipv4.h
IP6T_SO_ORIGINAL_DST = 80  # linux/netfilter_ipv6/ip6_tables.h
SOL_IP = 0
SOL_IPV6 = 41


def original_destination(conn):
    if conn.family == socket.AF_INET:
        raw = conn.getsockopt(SOL_IP, SO_ORIGINAL_DST, 16)  # struct sockaddr_in
        port, = struct.unpack("!H", raw[2:4])
        return str(ipaddress.IPv4Address(raw[4:8])), port
    raw = conn.getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST, 28)  # struct sockaddr_in6
    port, = struct.unpack("!H", raw[2:4])
    return str(ipaddress.IPv6Address(raw[8:24])), port


def answer(conn, mode):
    try:
        if mode == "origdst":
            try:
                addr, port = original_destination(conn)
                line = "redirected %s %d" % (addr, port)
            except OSError as error:  # not a redirected connection
                line = "no-original-dst %s" % error.strerror
        else:
            line = "direct %s" % conn.getsockname()[0]
        conn.sendall((line + "\n").encode())
    except OSError:
        pass
    finally:
        conn.close()


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode not in ("origdst", "plain"):
        sys.exit("usage: listener.py origdst|plain PORT")
    selector = selectors.DefaultSelector()
    for family, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(64)
        selector.register(sock, selectors.EVENT_READ)
    print("listening %s %d" % (mode, port), flush=True)
    while True:
        for key, _ in selector.select():
            conn, _ = key.fileobj.accept()
            conn.settimeout(5)
            answer(conn, mode)


if __name__ == "__main__":
    main()
