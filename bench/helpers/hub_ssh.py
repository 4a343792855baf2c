#!/usr/bin/env python3
"""The ssh baseline of bench/hub: `ssh ... ADDR true` to each of N
addresses, at most --parallel at once (the rest start as earlier ones end).

  hub_ssh.py --addrs FILE --parallel P [--timeout 60] [--deadline 300] -- SSH_ARGV...

SSH_ARGV is the ssh command without the address and `true`; each run is
SSH_ARGV + [ADDR, "true"], stdout/stderr discarded (the first few error
lines are kept in the result). Prints one JSON object: n, ok, failed,
parallel, wall_s (first ssh started to the last one ended), per-run
p50/p99/max (s). Bounded: each ssh by --timeout (killed), the whole run by
--deadline.
"""
import argparse
import asyncio
import json
import resource
import sys
import time


async def one(sem, argv, addr, timeout, errs):
    async with sem:
        t0 = time.monotonic()
        p = await asyncio.create_subprocess_exec(*argv, addr, "true", stdin=asyncio.subprocess.DEVNULL,
                                                 stdout=asyncio.subprocess.DEVNULL,
                                                 stderr=asyncio.subprocess.PIPE)
        try:
            _, err = await asyncio.wait_for(p.communicate(), timeout)
            rc = p.returncode
        except asyncio.TimeoutError:
            p.kill()
            await p.wait()
            rc, err = "timeout", b""
        if rc != 0 and len(errs) < 5:
            errs.append("%s: rc %s: %s" % (addr, rc, err.decode(errors="replace").strip()[-200:]))
        return rc == 0, time.monotonic() - t0


async def main_async(a, argv, addrs):
    sem = asyncio.Semaphore(a.parallel)
    errs = []
    t0 = time.monotonic()
    tasks = [asyncio.ensure_future(one(sem, argv, x, a.timeout, errs)) for x in addrs]
    done, pending = await asyncio.wait(tasks, timeout=a.deadline)
    for t in pending:
        t.cancel()
    wall = time.monotonic() - t0
    lat = sorted(dt for ok, dt in (t.result() for t in done if t.exception() is None) if ok)

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))], 4) if lat else None
    return {"n": len(addrs), "ok": len(lat), "failed": len(addrs) - len(lat), "parallel": a.parallel,
            "wall_s": round(wall, 4), "p50_s": pct(50), "p99_s": pct(99),
            "max_s": round(lat[-1], 4) if lat else None, "errors": errs, "deadline_hit": len(pending)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addrs", required=True)
    ap.add_argument("--parallel", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--deadline", type=float, default=300)
    ap.add_argument("argv", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    argv = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with open(a.addrs) as f:
        addrs = [line.strip() for line in f if line.strip()]
    r = asyncio.run(main_async(a, argv, addrs))
    json.dump(r, sys.stdout)
    print()
    return 0 if r["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
