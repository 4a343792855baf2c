#!/usr/bin/python3
"""Stand-in for dvpnd's listener in the topology self-check: accepts on a
dual-stack [::]:PORT behind a REDIRECT rule and answers each connection with
its original destination ("ADDR PORT\\n", from SO_ORIGINAL_DST for IPv4 and
IP6T_SO_ORIGINAL_DST for IPv6), then closes. Stops after --count connections.
"""
import argparse
import ipaddress
import socket
import struct
import sys

SO_ORIGINAL_DST = 80          # <linux/netfilter_ipv4.h>, level SOL_IP
IP6T_SO_ORIGINAL_DST = 80     # <linux/netfilter_ipv6/ip6_tables.h>, level SOL_IPV6 (IPPROTO_IPV6)


def original_destination(conn):
    peer = ipaddress.ip_address(conn.getpeername()[0])
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is None:
        raw = conn.getsockopt(socket.IPPROTO_IPV6, IP6T_SO_ORIGINAL_DST, 28)  # sockaddr_in6
        port = struct.unpack("!H", raw[2:4])[0]
        return str(ipaddress.IPv6Address(raw[8:24])), port
    raw = conn.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)             # sockaddr_in
    port = struct.unpack("!H", raw[2:4])[0]
    return str(ipaddress.IPv4Address(raw[4:8])), port


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=10)
    args = ap.parse_args()
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    srv.bind(("::", args.port))
    srv.listen(64)
    for _ in range(args.count):
        conn, _ = srv.accept()
        with conn:
            try:
                addr, port = original_destination(conn)
                conn.sendall(f"{addr} {port}\n".encode())
            except OSError as e:
                conn.sendall(f"error {e}\n".encode())
                print(f"origdst: {e}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
