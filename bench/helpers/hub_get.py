#!/usr/bin/env python3
"""One HTTP/1.0 GET to each of N addresses, all fired at once (bench/hub).

  hub_get.py --addrs FILE --port 8080 [--timeout 60] [--deadline 120]

FILE holds one IPv4 address a line. Every connection is opened at the same
moment (one asyncio task each, no concurrency cap); each sends a GET, reads
to EOF and counts as ok when the reply starts with "HTTP/1.0 200". Prints
one JSON object: n, ok, failed, errors (by kind), wall_s (first connect
fired to the last reply or failure), latency p50/p90/p99/max (s).
Bounded: each request by --timeout, the whole run by --deadline.
"""
import argparse
import asyncio
import json
import resource
import sys
import time

REQUEST = b"GET / HTTP/1.0\r\nHost: bench\r\n\r\n"


async def one(addr, port, timeout):
    t0 = time.monotonic()
    writer = None
    try:
        async def go():
            nonlocal writer
            reader, writer = await asyncio.open_connection(addr, port)
            writer.write(REQUEST)
            await writer.drain()
            return await reader.read(65536 * 4)
        data = await asyncio.wait_for(go(), timeout)
        kind = "ok" if data.startswith(b"HTTP/1.0 200") else ("empty" if not data else "bad-reply")
    except asyncio.TimeoutError:
        kind = "timeout"
    except ConnectionResetError:
        kind = "reset"
    except OSError as e:
        kind = "oserror-%s" % (e.errno,)
    finally:
        if writer is not None:
            writer.close()
    return kind, time.monotonic() - t0


def pct(sorted_values, p):
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return round(sorted_values[i], 4)


async def main_async(a, addrs):
    t0 = time.monotonic()
    tasks = [asyncio.ensure_future(one(x, a.port, a.timeout)) for x in addrs]
    done, pending = await asyncio.wait(tasks, timeout=a.deadline)
    for t in pending:
        t.cancel()
    wall = time.monotonic() - t0
    results = [t.result() for t in done if not t.cancelled() and t.exception() is None]
    errors = {}
    lat = []
    for kind, dt in results:
        if kind == "ok":
            lat.append(dt)
        else:
            errors[kind] = errors.get(kind, 0) + 1
    if pending:
        errors["deadline"] = len(pending)
    lat.sort()
    ok = len(lat)
    return {"n": len(addrs), "ok": ok, "failed": len(addrs) - ok, "errors": errors,
            "wall_s": round(wall, 4), "p50_s": pct(lat, 50), "p90_s": pct(lat, 90),
            "p99_s": pct(lat, 99), "max_s": round(lat[-1], 4) if lat else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addrs", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--deadline", type=float, default=120)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with open(a.addrs) as f:
        addrs = [line.strip() for line in f if line.strip()]
    r = asyncio.run(main_async(a, addrs))
    json.dump(r, sys.stdout)
    print()
    return 0 if r["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
