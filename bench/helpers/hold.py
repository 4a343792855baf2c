#!/usr/bin/env python3
"""Holds COUNT connections open at once, for bench/run's memory figure (hostA).

Phase 1: opens COUNT connections to an echo server (at most --parallel opens
in flight), sends a line on each and waits for its echo, so every connection
is known to work end to end. Then writes a JSON summary to --ready-file.
Phase 2: holds them until --go-file appears or --hold-max seconds passed.
Phase 3: one more echo on each (still alive after being held?), then closes.
Prints the final JSON; exit code 0 only if every connection worked twice.
Bounded: --open-timeout per connection, --hold-max, --deadline overall.
"""
import argparse
import asyncio
import json
import os
import resource
import sys
import time


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def count_kind(errors, e):
    kind = type(e).__name__
    errors[kind] = errors.get(kind, 0) + 1


async def run(a):
    sem = asyncio.Semaphore(a.parallel)
    errors = {}
    conns = []

    async def echo(r, w, msg):
        """Sends one line; the echo server must return it unchanged."""
        w.write(msg)
        line = await asyncio.wait_for(r.readline(), a.open_timeout)
        if line != msg:
            raise ValueError("bad echo")

    async def open_one(i):
        async with sem:
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection(a.host, a.port), a.open_timeout)
            except Exception as e:  # noqa: BLE001
                count_kind(errors, e)
                return
            try:
                await echo(r, w, b"hold %d\n" % i)
                conns.append((i, r, w))
            except Exception as e:  # noqa: BLE001
                count_kind(errors, e)
                w.close()

    t0 = time.monotonic()
    await asyncio.gather(*(open_one(i) for i in range(a.count)))
    open_s = time.monotonic() - t0
    summary = {"requested": a.count, "ok": len(conns), "failed": a.count - len(conns),
               "error_kinds": dict(errors), "open_s": round(open_s, 3)}
    if a.ready_file:
        tmp = a.ready_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(summary, f)
        os.rename(tmp, a.ready_file)

    t_hold = time.monotonic()
    while time.monotonic() - t_hold < a.hold_max:
        if a.go_file and os.path.exists(a.go_file):
            break
        await asyncio.sleep(0.1)

    alive = 0
    late_errors = {}

    async def check(i, r, w):
        nonlocal alive
        async with sem:
            try:
                await echo(r, w, b"bye %d\n" % i)
                w.write_eof()
                rest = await asyncio.wait_for(r.read(), a.open_timeout)
                if rest:
                    raise ValueError("data after echo")
                alive += 1
            except Exception as e:  # noqa: BLE001
                count_kind(late_errors, e)
            finally:
                w.close()

    t_check = time.monotonic()
    await asyncio.gather(*(check(i, r, w) for i, r, w in conns))
    summary.update({"alive_after_hold": alive, "late_error_kinds": late_errors,
                    "held_s": round(t_check - t_hold, 3), "close_s": round(time.monotonic() - t_check, 3)})
    return summary


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--parallel", type=int, default=200)
    ap.add_argument("--open-timeout", type=float, default=30.0)
    ap.add_argument("--ready-file")
    ap.add_argument("--go-file")
    ap.add_argument("--hold-max", type=float, default=120.0)
    ap.add_argument("--deadline", type=float, default=600.0)
    a = ap.parse_args()
    raise_nofile()
    try:
        summary = asyncio.run(asyncio.wait_for(run(a), a.deadline))
    except asyncio.TimeoutError:
        print(json.dumps({"requested": a.count, "error": "deadline"}))
        return 1
    print(json.dumps(summary))
    ok = summary["failed"] == 0 and summary["alive_after_hold"] == a.count
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
