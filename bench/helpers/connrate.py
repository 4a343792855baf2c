#!/usr/bin/env python3
"""New-connection rate and latency client for bench/run (runs in hostA).

Each transaction: connect, send one HTTP/1.0 request, wait for the first
reply byte, read to EOF, close. Measured from just before connect():
  connect  connect() returned (through a transparent proxy: the local gateway)
  ttfb     first reply byte
  life     EOF seen and our socket closed (connect -> close)
CONCURRENCY worker threads each run transactions back to back until COUNT
transactions were started or TIME_CAP seconds passed (bounded both ways).
Prints one JSON object; exit code 0 only if every transaction succeeded.
"""
import argparse
import json
import socket
import sys
import threading
import time


def pct(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--time-cap", type=float, default=60.0)
    ap.add_argument("--timeout", type=float, default=10.0, help="per socket operation")
    a = ap.parse_args()

    request = ("GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % a.host).encode()
    lock = threading.Lock()
    state = {"next": 0}
    results = []  # (connect, ttfb, life) seconds
    errors = {}
    deadline = time.monotonic() + a.time_cap

    def take():
        with lock:
            if state["next"] >= a.count or time.monotonic() > deadline:
                return False
            state["next"] += 1
            return True

    def one():
        t0 = time.perf_counter()
        s = socket.socket(socket.AF_INET6 if ":" in a.host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.settimeout(a.timeout)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.connect((a.host, a.port))
            t_conn = time.perf_counter()
            s.sendall(request)
            first = s.recv(65536)
            if not first:
                raise ConnectionError("EOF before any reply")
            t_first = time.perf_counter()
            data = first
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            if not data.startswith(b"HTTP/1.0 200"):
                raise ValueError("unexpected reply")
        finally:
            s.close()
        t_end = time.perf_counter()
        return (t_conn - t0, t_first - t0, t_end - t0)

    def worker():
        while take():
            try:
                r = one()
                with lock:
                    results.append(r)
            except Exception as e:  # noqa: BLE001 - every failure is counted by kind
                kind = type(e).__name__
                with lock:
                    errors[kind] = errors.get(kind, 0) + 1

    t_start = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.time_cap + a.timeout * 4 + 5)
    wall = time.perf_counter() - t_start

    conn = sorted(r[0] for r in results)
    ttfb = sorted(r[1] for r in results)
    life = sorted(r[2] for r in results)
    ms = lambda v: None if v is None else round(v * 1000.0, 3)  # noqa: E731
    out = {
        "requested": a.count,
        "concurrency": a.concurrency,
        "ok": len(results),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "wall_s": round(wall, 4),
        "conns_per_s": round(len(results) / wall, 2) if wall > 0 else None,
        "connect_p50_ms": ms(pct(conn, 50)),
        "ttfb_p50_ms": ms(pct(ttfb, 50)),
        "ttfb_p99_ms": ms(pct(ttfb, 99)),
        "life_p50_ms": ms(pct(life, 50)),
        "life_p99_ms": ms(pct(life, 99)),
    }
    print(json.dumps(out))
    return 0 if out["errors"] == 0 and out["ok"] == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
