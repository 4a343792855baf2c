#!/usr/bin/python3
"""Resets, end to end: does an abortive close on one side reach the other as
an RST (ECONNRESET), not as a clean EOF that makes a truncated stream look
complete?

  serve PORT --log FILE   each connection sends one command line:
                            "reset-after N"  N pattern bytes, then close with
                                             SO_LINGER 0 (an RST)
                            "watch"          read to the end; append to FILE
                                             "eof BYTES" or "reset BYTES"
  download HOST PORT N    asks for reset-after N and reads to the end.
                          Exit 0: an RST came (after any number of bytes);
                          5: a clean EOF (the truncation looks complete);
                          6: timeout. Prints "bytes=R end=reset|eof".
  abort HOST PORT N       sends "watch" and N bytes, waits for them to leave,
                          then closes with SO_LINGER 0.
"""
import argparse
import socket
import struct
import sys
import threading
import time

CHUNK = 64 * 1024


def linger_zero(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def read_line(conn):
    line = b""
    while not line.endswith(b"\n") and len(line) < 100:
        byte = conn.recv(1)
        if not byte:
            break
        line += byte
    return line.decode(errors="replace").split()


def read_to_end(sock):
    """Reads until the stream ends; returns (bytes read, "eof"|"reset"|"timeout")."""
    count = 0
    try:
        while data := sock.recv(CHUNK):
            count += len(data)
    except ConnectionResetError:
        return count, "reset"
    except socket.timeout:
        return count, "timeout"
    return count, "eof"


def serve_one(conn, log_path):
    with conn:
        words = read_line(conn)
        if words[:1] == ["reset-after"] and len(words) == 2:
            remaining = int(words[1])
            while remaining > 0:
                remaining -= conn.send(b"r" * min(CHUNK, remaining))
            time.sleep(0.3)  # let the bytes leave before the RST overtakes them
            linger_zero(conn)
        elif words == ["watch"]:
            count, outcome = read_to_end(conn)
            with open(log_path, "a") as log:
                log.write(f"{outcome} {count}\n")


def serve(args):
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind(("::", args.port))
    listener.listen(64)
    print("listening", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_one, args=(conn, args.log), daemon=True).start()


def download(args):
    sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    sock.sendall(f"reset-after {args.bytes}\n".encode())
    count, end = read_to_end(sock)
    print(f"bytes={count} end={end}")
    return {"reset": 0, "eof": 5, "timeout": 6}[end]


def abort(args):
    sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    sock.sendall(b"watch\n" + b"a" * args.bytes)
    time.sleep(args.pause)
    linger_zero(sock)
    sock.close()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="op", required=True)
    p = sub.add_parser("serve")
    p.add_argument("port", type=int)
    p.add_argument("--log", required=True)
    for name in ("download", "abort"):
        p = sub.add_parser(name)
        p.add_argument("host")
        p.add_argument("port", type=int)
        p.add_argument("bytes", type=int)
        p.add_argument("--timeout", type=float, default=20)
        p.add_argument("--pause", type=float, default=0.5, help="abort: seconds before the reset")
    args = ap.parse_args()
    return {"serve": serve, "download": download, "abort": abort}[args.op](args)


if __name__ == "__main__":
    sys.exit(main())
