#!/usr/bin/env python3
"""The WAN table of a bench/wan output directory.

  wan_report.py OUT_DIR [--md FILE]

OUT_DIR holds one bench/run-style directory per round, rtt-MS/ (meta.json
with rtt_ms and loss_pct, raw/records.jsonl). Prints one table: each traffic
metric of report.py at every RTT (rows grouped by metric, so a column reads
how a variant degrades with the RTT), a column per variant, and the ratios to
ssh -L and to plain routing measured in the same round. Exit code 1 if any
record failed.
"""
import argparse
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import report  # noqa: E402

TESTS = ("iperf1", "iperf1r", "iperf4", "iperf4r", "cr_seq", "cr_conc")
# Throughput and latency only; each round's own table.md (report.py) has the CPU figures.
KEYS = ("gbps", "conns_per_s", "ttfb_p50_ms", "ttfb_p99_ms", "life_p50_ms", "life_p99_ms")


def rounds(outdir):
    """(rtt_ms, directory, meta) of every round, by RTT."""
    found = []
    for name in os.listdir(outdir):
        d = os.path.join(outdir, name)
        meta = report.last_json(os.path.join(d, "meta.json"))
        if name.startswith("rtt-") and meta:
            found.append((meta.get("rtt_ms", 0), d, meta))
    return sorted(found, key=lambda r: r[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--md")
    a = ap.parse_args()
    table, present, failures, metas = {}, set(), [], []
    found = rounds(a.outdir)
    for rtt, d, meta in found:
        records = report.read_records(d)
        report.collect(records, table, "@%s" % rtt)
        present.update(r["variant"] for r in records)
        failures += ["RTT %s ms: %s" % (rtt, f) for f in report.failures_of(records)]
        metas.append(meta)
    if not found:
        failures.append("no rounds (rtt-*/meta.json) in %s" % a.outdir)
    rows = [("%s @ %s ms" % (label, rtt), "%s@%s" % (test, rtt), key, f)
            for label, test, key, f in report.ROWS if test in TESTS and key in KEYS
            for rtt, _, _ in found]
    out = []
    w = out.append
    if metas:
        m = metas[0]
        w("Date: %s; commit %s; %s cores; load average at start %s" % (
            m.get("date"), m.get("commit"), m.get("nproc"), m.get("load_start")))
        w("Command: `%s`; loss %s%% each way; per round: iperf3 %s; sequential and 20-at-once counts: %s" % (
            m.get("command"), m.get("loss_pct"), m.get("iperf"),
            ", ".join("%s ms: %s / %s" % (x.get("rtt_ms"), x.get("cr_seq"), x.get("cr_conc_n")) for x in metas)))
        w("dvpnd: %s" % m.get("dvpnd"))
        w("")
        w("RTT: the delay line's (2 x one-way delay); cells: value (1-minute load average when taken).")
        w("")
    report.render_table(w, table, [v for v in report.VARIANTS if v in present], rows)
    return report.publish(out, failures, a.md)


if __name__ == "__main__":
    sys.exit(main())
