#!/usr/bin/python3
"""LAN-side test client for the gateway integration tests.

Subcommands (all take HOST PORT; --count/--concurrency run many connections):
  get          HTTP/1.0 GET PATH, read to EOF, body must equal --expect-file
  bulk         send --send bytes and receive --recv bytes at once (testserver --bulk),
               both SHA-256 checked; --rate limits each direction
  halfclose    send, shutdown(SHUT_WR), then the whole reply must arrive (--after-eof)
  hold         open --count echo connections, check each, write --ready-file, wait
               for --go-file, then check each again and close
  expect-reset connect and wait: success only if the connection is reset (RST)
               within --within seconds
  stall        open --count connections that ask testserver --bulk for --recv bytes
               and never read (SO_RCVBUF --rcvbuf, 4 KiB unless given); write
               --ready-file once all are open, hold until --go-file or --hold-max;
               then each must still be open (not reset): a slow reader is no error

Exit codes (the first failure's, when several connections ran):
  0 ok  1 usage/internal  2 wrong data  3 reset (ECONNRESET/EPIPE)  4 refused
  5 premature clean EOF  6 timeout  7 other socket error  8 unexpected data/success
  9 reset earlier than --not-before
One summary line goes to stdout: "op=... n=... ok=... reset=... elapsed=...".
"""
import argparse
import asyncio
import hashlib
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import dvgstream  # noqa: E402

OK, USAGE, MISMATCH, RESET, REFUSED, EOF, TIMEOUT, OSERR, UNEXPECTED, EARLY = range(10)
NAMES = {OK: "ok", MISMATCH: "mismatch", RESET: "reset", REFUSED: "refused", EOF: "eof",
         TIMEOUT: "timeout", OSERR: "oserror", UNEXPECTED: "unexpected", EARLY: "early"}
READ_SIZE = 256 * 1024
STREAM_LIMIT = 1 << 20


class Failure(Exception):
    """A connection's outcome other than success."""

    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


def classify(exc):
    """Maps an exception from a connection to a Failure."""
    if isinstance(exc, BaseExceptionGroup):
        return classify(exc.exceptions[0])
    if isinstance(exc, Failure):
        return exc
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return Failure(RESET, f"reset: {exc}")
    if isinstance(exc, ConnectionRefusedError):
        return Failure(REFUSED, f"refused: {exc}")
    if isinstance(exc, asyncio.IncompleteReadError):
        return Failure(EOF, f"clean EOF after {len(exc.partial)} of {exc.expected} bytes")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return Failure(TIMEOUT, "timeout")
    if isinstance(exc, OSError):
        return Failure(OSERR, f"{type(exc).__name__}: {exc}")
    raise exc


class Pacer:
    """Sleeps so that at most `rate` bytes/s pass (0 = unlimited)."""

    def __init__(self, rate):
        self.rate = rate
        self.start = time.monotonic()
        self.done = 0

    async def account(self, n):
        self.done += n
        if self.rate:
            ahead = self.done / self.rate - (time.monotonic() - self.start)
            if ahead > 0:
                await asyncio.sleep(ahead)


async def connect(args):
    if not args.rcvbuf:
        return await asyncio.open_connection(args.host, args.port, limit=STREAM_LIMIT)
    # A fixed small receive buffer turns off autotuning, and a small stream
    # limit keeps asyncio from reading ahead: a paced reader then really holds
    # the sender back instead of megabytes vanishing into buffers.
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (args.host, args.port))
    return await asyncio.open_connection(sock=sock, limit=args.rcvbuf)


async def expect_eof(reader, what):
    data = await reader.read(READ_SIZE)
    if data:
        raise Failure(MISMATCH, f"{what}: {len(data)} unexpected bytes before EOF")


async def read_exact_hashed(reader, length, pacer, progress=None):
    """Reads exactly `length` bytes; returns their SHA-256 hex digest."""
    h = hashlib.sha256()
    left = length
    while left:
        data = await reader.read(min(READ_SIZE, left))
        if not data:
            raise Failure(EOF, f"clean EOF after {length - left} of {length} bytes")
        h.update(data)
        left -= len(data)
        if progress:
            progress(len(data))
        await pacer.account(len(data))
    return h.hexdigest()


async def send_pattern(writer, seed, length, pacer):
    h = hashlib.sha256()
    for chunk in dvgstream.pattern_chunks(seed, length):
        h.update(chunk)
        writer.write(chunk)
        await writer.drain()
        await pacer.account(len(chunk))
    return h.hexdigest()


async def check_trailer(reader, digest, count, what):
    line = await reader.readline()
    if not line.endswith(b"\n"):
        raise Failure(EOF, f"{what}: clean EOF instead of the server's checksum line")
    got_digest, got_count = dvgstream.parse_trailer(line)
    if (got_digest, got_count) != (digest, count):
        raise Failure(MISMATCH, f"{what}: server received {got_count} bytes sha256 {got_digest[:16]}, "
                                f"sent {count} bytes sha256 {digest[:16]}")


# ---- one connection per operation -------------------------------------------------

async def op_get(args, index, shared):
    reader, writer = await connect(args)
    try:
        writer.write(f"GET {args.path} HTTP/1.0\r\nHost: {args.host}\r\n\r\n".encode())
        await writer.drain()
        data = await reader.read(-1)   # to EOF (FIN); a RST raises
    finally:
        writer.close()
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise Failure(EOF if not data else MISMATCH, f"no HTTP header in {len(data)} bytes")
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status + b" ":
        raise Failure(MISMATCH, f"status {status!r}")
    if shared["expect"] is not None and body != shared["expect"]:
        raise Failure(MISMATCH, f"body {len(body)} bytes, expected {len(shared['expect'])} "
                                f"(sha256 {hashlib.sha256(body).hexdigest()[:16]})")


async def op_bulk(args, index, shared):
    reader, writer = await connect(args)
    seed_down, seed_up = args.seed + 2 * index, args.seed + 2 * index + 1
    try:
        writer.write(f"{args.recv} {seed_down}\n".encode())

        async def upstream():
            digest = await send_pattern(writer, seed_up, args.send, Pacer(args.rate))
            writer.write_eof()
            return digest

        async def downstream():
            digest = await read_exact_hashed(reader, args.recv, Pacer(args.rate), shared.get("progress"))
            if digest != dvgstream.pattern_digest(seed_down, args.recv):
                raise Failure(MISMATCH, f"received {args.recv} bytes with the wrong sha256")

        async with asyncio.TaskGroup() as tg:
            up = tg.create_task(upstream())
            tg.create_task(downstream())
        await check_trailer(reader, up.result(), args.send, "bulk")
        await expect_eof(reader, "bulk")
    finally:
        writer.close()


async def op_halfclose(args, index, shared):
    reader, writer = await connect(args)
    seed_down, seed_up = args.seed + 2 * index, args.seed + 2 * index + 1
    try:
        writer.write(f"{args.reply} {seed_down}\n".encode())
        digest = await send_pattern(writer, seed_up, args.send, Pacer(0))
        writer.write_eof()
        await check_trailer(reader, digest, args.send, "halfclose")
        got = await read_exact_hashed(reader, args.reply, Pacer(0))
        if got != dvgstream.pattern_digest(seed_down, args.reply):
            raise Failure(MISMATCH, f"reply of {args.reply} bytes has the wrong sha256")
        await expect_eof(reader, "halfclose")
    finally:
        writer.close()


def _reset_seen(args, start):
    elapsed = time.monotonic() - start
    if elapsed < args.not_before:
        raise Failure(EARLY, f"reset after {elapsed:.3f}s, expected no earlier than {args.not_before}s")
    return elapsed


async def op_expect_reset(args, index, shared):
    start = time.monotonic()
    try:
        reader, writer = await connect(args)
    except ConnectionResetError:      # the RST beat connect()'s completion
        return _reset_seen(args, start)
    except ConnectionRefusedError:
        if args.allow_refused:
            return _reset_seen(args, start)
        raise
    try:
        if args.send:
            writer.write(args.send.encode().decode("unicode_escape").encode("latin-1"))
            await writer.drain()
        data = await reader.read(READ_SIZE)
    except (ConnectionResetError, BrokenPipeError):
        return _reset_seen(args, start)
    finally:
        writer.close()
    if data:
        raise Failure(UNEXPECTED, f"got {len(data)} bytes instead of a reset: {data[:60]!r}")
    raise Failure(EOF, f"clean EOF (FIN) instead of a reset after {time.monotonic() - start:.3f}s")


OPS = {"get": op_get, "bulk": op_bulk, "halfclose": op_halfclose, "expect-reset": op_expect_reset}


async def run_many(args, op, shared):
    """Runs `count` connections, `concurrency` at a time; returns (codes, messages)."""
    sem = asyncio.Semaphore(args.concurrency)
    results = [None] * args.count
    latencies = []

    async def one(i):
        async with sem:
            t0 = time.monotonic()
            try:
                value = await asyncio.wait_for(op(args, i, shared), args.timeout)
                results[i] = (OK, "")
                latencies.append(value if isinstance(value, float) else time.monotonic() - t0)
            except Exception as e:  # noqa: BLE001 - classified, re-raised if unknown
                f = classify(e)
                results[i] = (f.code, str(f))

    await asyncio.gather(*(one(i) for i in range(args.count)))
    return results, latencies


# ---- hold: many long-lived echo connections -------------------------------------

async def hold(args):
    conns = [None] * args.count
    sem = asyncio.Semaphore(args.concurrency)

    async def roundtrip(i, word):
        reader, writer = conns[i]
        line = f"{word} {i}\n".encode()
        writer.write(line)
        await writer.drain()
        got = await reader.readline()
        if got != line:
            raise Failure(MISMATCH if got else EOF, f"conn {i}: echo {got[:40]!r}, expected {line!r}")

    async def open_one(i):
        conns[i] = await connect(args)
        await roundtrip(i, "open")

    async def close_one(i):
        await roundtrip(i, "again")
        reader, writer = conns[i]
        writer.write_eof()
        await expect_eof(reader, f"conn {i}")
        writer.close()

    async def bounded(fn, i):
        async with sem:
            await asyncio.wait_for(fn(i), args.timeout)

    async def phase(fn, name):
        outcomes = await asyncio.gather(*(bounded(fn, i) for i in range(args.count)),
                                        return_exceptions=True)
        failures = [classify(o) for o in outcomes if isinstance(o, BaseException)]
        if failures:
            for f in failures[:5]:
                print(f"tcpclient: hold {name}: {f}", file=sys.stderr)
            raise Failure(failures[0].code, f"{len(failures)} of {args.count} failed in phase {name}")

    t0 = time.monotonic()
    try:
        await phase(open_one, "open")
        if args.ready_file:
            with open(args.ready_file + ".tmp", "w") as f:
                f.write(f"{args.count}\n")
            os.rename(args.ready_file + ".tmp", args.ready_file)
        if args.go_file:
            deadline = time.monotonic() + args.hold_max
            while not os.path.exists(args.go_file):
                if time.monotonic() > deadline:
                    raise Failure(TIMEOUT, f"{args.go_file} did not appear within {args.hold_max}s")
                await asyncio.sleep(0.05)
        else:
            await asyncio.sleep(args.hold_for)
        await phase(close_one, "recheck")
    except Failure as f:
        print(f"op=hold n={args.count} result={NAMES[f.code]} elapsed={time.monotonic() - t0:.2f}s: {f}")
        return f.code
    finally:
        for c in conns:
            if c:
                c[1].close()
    print(f"op=hold n={args.count} result=ok elapsed={time.monotonic() - t0:.2f}s")
    return OK


def stall(args):
    """Plain sockets: asyncio's reader would drain the socket into its buffer."""
    t0 = time.monotonic()
    conns = []
    try:
        for i in range(args.count):
            sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf or 4096)
            sock.settimeout(args.timeout)
            conns.append(sock)
            sock.connect((args.host, args.port))
            sock.sendall(f"{args.recv} {1000 + i}\n".encode())
        with open(args.ready_file, "w") as f:
            f.write(f"{len(conns)}\n")
        deadline = t0 + args.hold_max
        while not os.path.exists(args.go_file) and time.monotonic() < deadline:
            time.sleep(0.05)
        for i, sock in enumerate(conns):
            # Still open: a peek finds data (or would block), not a reset or EOF.
            sock.setblocking(False)
            try:
                if not sock.recv(1, socket.MSG_PEEK):
                    raise Failure(EOF, f"stalled connection {i} got a clean EOF")
            except BlockingIOError:
                pass
    except Failure as f:
        print(f"op=stall n={args.count} result={NAMES[f.code]}: {f}")
        return f.code
    except (ConnectionResetError, BrokenPipeError) as e:
        print(f"op=stall n={args.count} result=reset after {len(conns)} connections: {e}")
        return RESET
    except OSError as e:
        print(f"op=stall n={args.count} result=oserror after {len(conns)} connections: {e}")
        return OSERR
    finally:
        for sock in conns:
            sock.close()
    print(f"op=stall n={args.count} result=ok elapsed={time.monotonic() - t0:.2f}s")
    return OK


# ---- command line -----------------------------------------------------------------

def progress_writer(path):
    """Returns a callback that records the bytes received so far in `path`."""
    state = {"bytes": 0, "last": 0.0}

    def progress(n):
        state["bytes"] += n
        now = time.monotonic()
        if now - state["last"] > 0.1:
            state["last"] = now
            with open(path + ".tmp", "w") as f:
                f.write(f"{state['bytes']}\n")
            os.rename(path + ".tmp", path)
    return progress


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="op", required=True)
    size = dvgstream.parse_size

    def common(p, timeout):
        p.add_argument("host")
        p.add_argument("port", type=int)
        p.add_argument("--count", type=int, default=1)
        p.add_argument("--concurrency", type=int, default=1)
        p.add_argument("--timeout", type=float, default=timeout, help="per connection, seconds")
        p.add_argument("--rcvbuf", type=size, default=0, help="SO_RCVBUF (0: kernel autotuning)")
        return p

    p = common(sub.add_parser("get"), 20)
    p.add_argument("--path", default="/index.html")
    p.add_argument("--expect-file")
    p = common(sub.add_parser("bulk"), 120)
    p.add_argument("--send", type=size, default=0)
    p.add_argument("--recv", type=size, default=0)
    p.add_argument("--rate", type=size, default=0, help="bytes/s per direction (0: unlimited)")
    p.add_argument("--seed", type=int, default=1000)
    p.add_argument("--progress-file", help="bytes received so far, updated ~10/s")
    p = common(sub.add_parser("halfclose"), 20)
    p.add_argument("--send", type=size, default=4096)
    p.add_argument("--reply", type=size, default=65536)
    p.add_argument("--seed", type=int, default=2000)
    p = common(sub.add_parser("hold"), 30)
    p.add_argument("--ready-file")
    p.add_argument("--go-file")
    p.add_argument("--hold-max", type=float, default=120, help="longest wait for --go-file")
    p.add_argument("--hold-for", type=float, default=0, help="seconds to hold without --go-file")
    p = common(sub.add_parser("stall"), 10)
    p.add_argument("--recv", type=size, default=64 << 20)
    p.add_argument("--ready-file", required=True)
    p.add_argument("--go-file", required=True)
    p.add_argument("--hold-max", type=float, default=120, help="longest wait for --go-file")
    p = common(sub.add_parser("expect-reset"), 5)
    p.add_argument("--within", type=float, help="seconds (overrides --timeout)")
    p.add_argument("--not-before", type=float, default=0, help="a reset earlier than this fails (9)")
    p.add_argument("--send", default="", help="bytes to send first (backslash escapes)")
    p.add_argument("--allow-refused", action="store_true", help="count ECONNREFUSED as a reset")
    args = ap.parse_args(argv)
    if args.op == "expect-reset" and args.within:
        args.timeout = args.within
    return args


async def amain(args):
    if args.op == "hold":
        return await hold(args)
    if args.op == "stall":
        return stall(args)
    shared = {"expect": None}
    if getattr(args, "expect_file", None):
        with open(args.expect_file, "rb") as f:
            shared["expect"] = f.read()
    if getattr(args, "progress_file", None):
        shared["progress"] = progress_writer(args.progress_file)
    t0 = time.monotonic()
    results, latencies = await run_many(args, OPS[args.op], shared)
    elapsed = time.monotonic() - t0
    counts = {}
    for code, _ in results:
        counts[NAMES[code]] = counts.get(NAMES[code], 0) + 1
    failures = [(c, m) for c, m in results if c != OK]
    lat = f" max_latency={max(latencies):.3f}s" if latencies else ""
    print(f"op={args.op} n={args.count} " + " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
          + f" elapsed={elapsed:.3f}s{lat}", flush=True)
    for _, msg in failures[:5]:
        print(f"tcpclient: {args.op}: {msg}", file=sys.stderr)
    return failures[0][0] if failures else OK


def main():
    args = parse_args(sys.argv[1:])
    try:
        return asyncio.run(amain(args))
    except Exception as e:  # noqa: BLE001 - internal error: say so, distinct exit code
        print(f"tcpclient: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return USAGE


if __name__ == "__main__":
    sys.exit(main())
