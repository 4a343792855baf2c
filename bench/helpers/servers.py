#!/usr/bin/env python3
"""Far-end servers for bench/run (run in srvB).

  --http PORT   HTTP/1.0 responder: reads the request head, sends one small
                reply, closes (the server closes first, as HTTP/1.0 does).
  --echo PORT   echo: every byte back, closes after the client's EOF. Meant
                for holding many idle connections open at once.

asyncio protocols (no streams) to keep the per-connection cost low; the
open-file limit is raised to its hard limit so 10,000+ sockets fit.
"""
import argparse
import asyncio
import resource
import signal

BODY = b"dvpn bench reply\n"
REPLY = (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
         + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)
MAX_HEAD = 16384


class Http(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.head = b""

    def data_received(self, data):
        self.head += data
        if b"\r\n\r\n" in self.head or len(self.head) > MAX_HEAD:
            self.transport.write(REPLY)
            self.transport.close()

    def eof_received(self):
        # client half-closed before a full head: answer anyway, then close
        self.transport.write(REPLY)
        return False


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        return False


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--http", type=int)
    ap.add_argument("--echo", type=int)
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--max-seconds", type=float, default=7200,
                    help="exit after this long in any case (bounded)")
    a = ap.parse_args()
    raise_nofile()
    loop = asyncio.get_running_loop()
    servers = []
    if a.http:
        servers.append(await loop.create_server(Http, a.bind, a.http, backlog=4096, reuse_address=True))
    if a.echo:
        servers.append(await loop.create_server(Echo, a.bind, a.echo, backlog=4096, reuse_address=True))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), a.max_seconds)
    except asyncio.TimeoutError:
        pass
    for s in servers:
        s.close()


if __name__ == "__main__":
    asyncio.run(main())
