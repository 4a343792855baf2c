#!/usr/bin/env python3
"""Churn load for bench/soak (runs in hostA): COUNT connections through
dvpnd, CONCURRENCY at a time, a fixed mix of kinds, alternating between the
two modes' destinations (site B: netcat and direct).

Kinds (what a connection does, and the outcome that counts as "ok"):
  get           HTTP/1.0 GET of a known file; ok = 200 and the body equals
                the file byte for byte. Any differing, missing (FIN before
                the end) or extra byte counts as a wrong byte.
  refused       connect to a closed port behind the far end; ok = RST
                (ECONNRESET) within --timeout, never a FIN or data.
  dst-reset     tools/resets.py serve: "reset-after N"; the destination sends
                N bytes then closes with SO_LINGER 0. ok = all N bytes, then
                RST (netcat) or FIN (direct: sshd cannot pass a reset on,
                documented in dvpnd(8) FAILURE SEMANTICS). A byte that is
                not the server's pattern, or bytes beyond N, are wrong bytes.
  client-abort  tools/resets.py serve: "watch" + M bytes, a short pause, then
                close with SO_LINGER 0 (RST). ok = the bytes were sent; what
                the destination saw is in the resets server's log (the
                driver tallies it).
  never-read    tools/testserver.py --bulk: ask for a 64 MiB stream, never
                read it, hold --hold seconds, close (unread data: RST).
                ok = data was arriving and the connection was still open.

Each job's kind and mode follow from its index (a fixed pattern), so the
counts per kind are exact. Bounded: COUNT jobs, no new job after
--time-cap seconds, every socket operation times out after --timeout.
Prints one JSON object (also to --json FILE); --progress FILE gets
"done total" every second. Exit 0 if every connection had its ok outcome.
"""
import argparse
import json
import os
import socket
import struct
import sys
import threading
import time

KINDS = ("get", "refused", "dst-reset", "client-abort", "never-read")
EXPECTED = {  # (kind, mode) -> outcome that counts as ok
    ("get", "netcat"): "ok", ("get", "direct"): "ok",
    ("refused", "netcat"): "reset", ("refused", "direct"): "reset",
    ("dst-reset", "netcat"): "reset", ("dst-reset", "direct"): "eof",
    ("client-abort", "netcat"): "sent", ("client-abort", "direct"): "sent",
    ("never-read", "netcat"): "held", ("never-read", "direct"): "held",
}


def linger_zero(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class Job:
    def __init__(self, a, mode):
        self.a = a
        self.mode = mode
        self.host = a.netcat if mode == "netcat" else a.direct
        self.wrong = 0
        self.detail = ""

    def connect(self, port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(self.a.timeout)
        try:
            s.connect((self.host, port))
        except BaseException:
            s.close()
            raise
        return s

    def read_to_end(self, s, limit):
        """Returns (bytes, end) with end 'eof' or 'reset'; raises socket.timeout."""
        chunks, size = [], 0
        while True:
            try:
                data = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return b"".join(chunks), "reset"
            if not data:
                return b"".join(chunks), "eof"
            chunks.append(data)
            size += len(data)
            if size > limit:
                return b"".join(chunks), "overflow"

    # ---- kinds ----
    def get(self):
        s = self.connect(self.a.http_port)
        with s:
            s.sendall(b"GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (self.a.path.encode(), self.host.encode()))
            data, end = self.read_to_end(s, len(self.a.body) + 65536)
        head, sep, body = data.partition(b"\r\n\r\n")
        if end == "reset":
            self.detail = f"reset after {len(data)} bytes"
            return "reset"
        if not sep or not head.startswith(b"HTTP/1.0 200"):
            # Nothing usable arrived: every byte of the body is missing.
            self.wrong = len(self.a.body)
            self.detail = f"no 200 reply ({end}, {len(data)} bytes: {data[:40]!r})"
            return "bad-reply"
        want = self.a.body
        if body == want:
            return "ok"
        common = min(len(body), len(want))
        diff = sum(1 for i in range(common) if body[i] != want[i])
        self.wrong = diff + abs(len(body) - len(want))
        self.detail = f"body {len(body)} bytes, expected {len(want)}, {diff} differ ({end})"
        return "mismatch"

    def refused(self):
        try:
            s = self.connect(self.a.refused_port)
        except ConnectionResetError:
            # The RST beat connect()'s return (a busy box): still a reset.
            return "reset"
        with s:
            try:
                data = s.recv(4096)
            except (ConnectionResetError, BrokenPipeError):
                return "reset"
            if data:
                self.detail = f"data instead of a reset: {data[:40]!r}"
                return "data"
            return "eof"

    def dst_reset(self):
        port = self.a.reset_port_netcat if self.mode == "netcat" else self.a.reset_port_direct
        n = self.a.reset_bytes
        s = self.connect(port)
        with s:
            s.sendall(b"reset-after %d\n" % n)
            data, end = self.read_to_end(s, n + 65536)
        bad = len(data) - data.count(b"r")
        extra = max(0, len(data) - n)
        self.wrong = bad + extra
        if self.wrong:
            self.detail = f"{len(data)} bytes ({bad} not the pattern), expected {n}"
            return "mismatch"
        if len(data) < n:
            self.detail = f"{len(data)} of {n} bytes, then {end}"
            return end + "-short"
        return end

    def client_abort(self):
        port = self.a.reset_port_netcat if self.mode == "netcat" else self.a.reset_port_direct
        s = self.connect(port)
        try:
            s.sendall(b"watch\n" + b"a" * self.a.abort_bytes)
            time.sleep(self.a.abort_pause)
            linger_zero(s)
        except (ConnectionResetError, BrokenPipeError):
            s.close()
            return "reset"
        s.close()
        return "sent"

    def never_read(self):
        s = self.connect(self.a.stream_port)
        with s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            s.sendall(b"%d 7\n" % (64 << 20))
            time.sleep(self.a.hold)
            try:
                peek = s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:
                self.detail = "no data arrived while held"
                return "no-data"
            except (ConnectionResetError, BrokenPipeError):
                return "reset"
            if not peek:
                return "eof"
            return "held"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--time-cap", type=float, default=1500, help="no new connection after this many seconds")
    ap.add_argument("--timeout", type=float, default=20, help="per socket operation")
    ap.add_argument("--netcat", required=True, help="destination address in the netcat-mode site")
    ap.add_argument("--direct", required=True, help="destination address in the direct-mode site")
    ap.add_argument("--http-port", type=int, default=80)
    ap.add_argument("--http-path", required=True)
    ap.add_argument("--http-file", required=True, help="the file the GET must return")
    ap.add_argument("--refused-port", type=int, default=7009)
    ap.add_argument("--reset-port-netcat", type=int, default=7005)
    ap.add_argument("--reset-port-direct", type=int, default=7006)
    ap.add_argument("--reset-bytes", type=int, default=16384)
    ap.add_argument("--abort-bytes", type=int, default=4096)
    ap.add_argument("--abort-pause", type=float, default=0.2)
    ap.add_argument("--stream-port", type=int, default=7002)
    ap.add_argument("--hold", type=float, default=2.0, help="never-read: seconds held")
    ap.add_argument("--mix", default="get=9,refused=3,dst-reset=3,client-abort=3,never-read=2",
                    help="weights per kind, one pattern slot each")
    ap.add_argument("--progress")
    ap.add_argument("--json")
    a = ap.parse_args()
    with open(a.http_file, "rb") as f:
        a.body = f.read()
    a.path = a.http_path

    pattern = []
    for item in a.mix.split(","):
        kind, weight = item.split("=")
        if kind not in KINDS:
            ap.error(f"unknown kind {kind}")
        pattern += [kind] * int(weight)
    # Spread the kinds over the pattern (round robin) so no kind comes in a burst.
    spread = []
    buckets = {k: [k] * pattern.count(k) for k in KINDS}
    while any(buckets.values()):
        for k in KINDS:
            if buckets[k]:
                spread.append(buckets[k].pop())
    pattern = spread

    lock = threading.Lock()
    state = {"next": 0, "done": 0}
    counts = {}   # "kind/mode" -> {outcome: n}
    wrong = {"bytes": 0}
    samples = []  # first unexpected outcomes
    durations = {k: [] for k in KINDS}
    deadline = time.monotonic() + a.time_cap

    def take():
        with lock:
            if state["next"] >= a.count or time.monotonic() > deadline:
                return None
            i = state["next"]
            state["next"] += 1
            return i

    def run_one(i):
        kind = pattern[(i // 2) % len(pattern)]
        mode = "netcat" if i % 2 == 0 else "direct"
        job = Job(a, mode)
        t0 = time.monotonic()
        try:
            outcome = getattr(job, kind.replace("-", "_"))()
        except socket.timeout:
            outcome = "timeout"
        except ConnectionRefusedError:
            outcome = "connect-refused"
        except (ConnectionResetError, BrokenPipeError) as e:
            outcome = "reset-early"
            job.detail = str(e)
        except OSError as e:
            outcome = "error:" + (e.strerror or type(e).__name__)
        dt = time.monotonic() - t0
        with lock:
            key = f"{kind}/{mode}"
            counts.setdefault(key, {})
            counts[key][outcome] = counts[key].get(outcome, 0) + 1
            wrong["bytes"] += job.wrong
            durations[kind].append(dt)
            if outcome != EXPECTED[(kind, mode)] and len(samples) < 20:
                samples.append(f"#{i} {key}: {outcome} {job.detail}".strip())
            state["done"] += 1

    def worker():
        while (i := take()) is not None:
            run_one(i)

    stop_progress = threading.Event()

    def progress():
        while not stop_progress.wait(1.0):
            with lock:
                line = f"{state['done']} {a.count}\n"
            with open(a.progress + ".tmp", "w") as f:
                f.write(line)
            os.replace(a.progress + ".tmp", a.progress)

    t_start = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    if a.progress:
        threading.Thread(target=progress, daemon=True).start()
    # Bounded: each job takes at most a few socket timeouts plus the hold.
    join_deadline = t_start + a.time_cap + 4 * a.timeout + a.hold + 10
    for t in threads:
        t.join(max(0.0, join_deadline - time.monotonic()))
    stop_progress.set()
    wall = time.monotonic() - t_start
    stuck = sum(1 for t in threads if t.is_alive())

    unexpected = 0
    for key, outcomes in counts.items():
        kind, mode = key.split("/")
        unexpected += sum(n for o, n in outcomes.items() if o != EXPECTED[(kind, mode)])
    def p(values, q):
        if not values:
            return None
        values = sorted(values)
        return round(values[min(len(values) - 1, int(q * (len(values) - 1)))] * 1000, 1)
    out = {
        "requested": a.count,
        "started": state["next"],
        "done": state["done"],
        "stuck_workers": stuck,
        "concurrency": a.concurrency,
        "wall_s": round(wall, 1),
        "conns_per_s": round(state["done"] / wall, 1) if wall > 0 else None,
        "time_capped": state["next"] < a.count,
        "counts": counts,
        "expected": {f"{k}/{m}": v for (k, m), v in EXPECTED.items()},
        "unexpected": unexpected,
        "wrong_bytes": wrong["bytes"],
        "samples": samples,
        "ms_p50_p99": {k: [p(v, 0.5), p(v, 0.99)] for k, v in durations.items()},
        "mix": a.mix,
        "abort_bytes": a.abort_bytes,
        "reset_bytes": a.reset_bytes,
        "hold_s": a.hold,
    }
    text = json.dumps(out)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    ok = unexpected == 0 and wrong["bytes"] == 0 and stuck == 0 and state["done"] == a.count
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
