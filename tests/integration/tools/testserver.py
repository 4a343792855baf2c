#!/usr/bin/python3
"""Far-end servers for the gateway integration tests (one asyncio process).

  --http PORT --http-root DIR   HTTP/1.0 GET of files in DIR (Content-Length, then FIN)
  --after-eof PORT              reads to EOF, only then replies (half-close test)
  --bulk PORT                   sink + source with SHA-256 check (bulk transfers)
  --echo PORT                   echoes bytes until EOF (long-lived connections)

Every listener is dual-stack ([::], v4-mapped accepted) with a deep backlog.
Wire formats: see dvgstream.py. Errors are logged one line each to stderr.
"""
import argparse
import asyncio
import hashlib
import os
import socket
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import dvgstream  # noqa: E402

READ_SIZE = 256 * 1024


def log(msg):
    print(f"testserver: {msg}", file=sys.stderr, flush=True)


async def _finish(writer):
    """Orderly close: FIN after every byte was written."""
    try:
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    except OSError:
        pass


async def _read_to_eof(reader):
    """Returns (sha256 hex, byte count) of everything until EOF."""
    h = hashlib.sha256()
    count = 0
    while True:
        data = await reader.read(READ_SIZE)
        if not data:
            return h.hexdigest(), count
        h.update(data)
        count += len(data)


async def _send_pattern(writer, seed, length):
    for chunk in dvgstream.pattern_chunks(seed, length):
        writer.write(chunk)
        await writer.drain()


def guarded(name):
    """Wraps a connection handler: logs errors, always closes."""
    def wrap(handler):
        async def run(reader, writer):
            try:
                await handler(reader, writer)
            except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
                log(f"{name} {writer.get_extra_info('peername')}: {type(e).__name__}: {e}")
            finally:
                await _finish(writer)
        return run
    return wrap


def http_handler(root):
    @guarded("http")
    async def handle(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(parts) < 2 or parts[0] != "GET":
            writer.write(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        name = os.path.basename(parts[1].split("?", 1)[0]) or "index.html"
        path = os.path.join(root, name)
        try:
            with open(path, "rb") as f:
                body = f.read()
        except OSError:
            writer.write(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
        writer.write(body)
    return handle


@guarded("after-eof")
async def after_eof_handler(reader, writer):
    length, seed = dvgstream.parse_header(await reader.readline())
    digest, count = await _read_to_eof(reader)
    writer.write(dvgstream.trailer(digest, count))
    await _send_pattern(writer, seed, length)


@guarded("bulk")
async def bulk_handler(reader, writer):
    length, seed = dvgstream.parse_header(await reader.readline())
    sender = asyncio.create_task(_send_pattern(writer, seed, length))
    try:
        digest, count = await _read_to_eof(reader)
        await sender
    finally:
        sender.cancel()
    writer.write(dvgstream.trailer(digest, count))


@guarded("echo")
async def echo_handler(reader, writer):
    while True:
        data = await reader.read(READ_SIZE)
        if not data:
            return
        writer.write(data)
        await writer.drain()


async def listen(handler, port):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    sock.listen(4096)
    return await asyncio.start_server(handler, sock=sock, limit=1 << 20)


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--http", type=int)
    ap.add_argument("--http-root")
    ap.add_argument("--after-eof", type=int)
    ap.add_argument("--bulk", type=int)
    ap.add_argument("--echo", type=int)
    args = ap.parse_args()
    servers = []
    if args.http:
        if not args.http_root:
            ap.error("--http needs --http-root")
        servers.append(await listen(http_handler(args.http_root), args.http))
    if args.after_eof:
        servers.append(await listen(after_eof_handler, args.after_eof))
    if args.bulk:
        servers.append(await listen(bulk_handler, args.bulk))
    if args.echo:
        servers.append(await listen(echo_handler, args.echo))
    if not servers:
        ap.error("no server selected")
    log("listening")
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
