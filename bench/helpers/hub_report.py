#!/usr/bin/env python3
"""The table of bench/hub: one row per N and dvpnd, from OUT_DIR/records.jsonl.

  hub_report.py OUT_DIR [--md FILE]

Columns: cold and warm wall time of the N GETs, the ssh baseline of the same
N and cold / baseline, failures, RSS before / after cold / idle (MiB) and
RSS per session = (idle - before) / N in KiB (also from smaps_rollup's
Anonymous). Exit 1 when any GET or ssh failed.
"""
import argparse
import json
import os
import sys


def f(v, fmt="%.2f"):
    return "-" if v is None else fmt % v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--md")
    a = ap.parse_args()
    recs = [json.loads(line) for line in open(os.path.join(a.out_dir, "records.jsonl")) if line.strip()]
    meta = json.load(open(os.path.join(a.out_dir, "meta.json")))
    ssh = {r["n"]: r for r in recs if r["kind"] == "ssh"}
    rows = []
    rows.append("| N | dvpnd | cold s | warm s | ssh baseline s | cold / ssh | failures cold/warm/ssh "
                "| sessions | RSS before MiB | after cold MiB | idle MiB | after warm MiB "
                "| RSS/session KiB | anon/session KiB |")
    rows.append("|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    failed = False
    for r in (r for r in recs if r["kind"] == "hub"):
        n = r["n"]
        s = ssh.get(n, {}).get("result", {})
        cold, warm = r["cold"], r["warm"]
        sw = s.get("wall_s")
        ratio = cold["wall_s"] / sw if sw and cold.get("wall_s") else None
        mb, mc, mi, mw = r["mem_before"], r["mem_cold"], r["mem_idle"], r["mem_warm"]
        per = (mi["rss"] - mb["rss"]) / n
        per_anon = (mi["anon"] - mb["anon"]) / n
        fails = "%s/%s/%s" % (cold["failed"], warm["failed"], s.get("failed", "-"))
        failed = failed or cold["failed"] or warm["failed"] or bool(s.get("failed"))
        rows.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, r["label"], f(cold.get("wall_s")), f(warm.get("wall_s"), "%.3f"), f(sw), f(ratio, "%.1fx"), fails,
            r["sessions_ready"], f(mb["rss"] / 1024, "%.1f"), f(mc["rss"] / 1024, "%.1f"),
            f(mi["rss"] / 1024, "%.1f"), f(mw["rss"] / 1024, "%.1f"), f(per, "%.0f"), f(per_anon, "%.0f")))
    notes = []
    for r in recs:
        if r["kind"] == "hub":
            errs = {k: v for k, v in list(r["cold"].get("errors", {}).items()) + list(r["warm"].get("errors", {}).items())}
            if errs:
                notes.append("- %s N=%d GET errors: %s" % (r["label"], r["n"], errs))
            if r["listen_overflows_cold"]:
                notes.append("- %s N=%d: gwB sshd listen queue overflowed %d times during cold" % (
                    r["label"], r["n"], r["listen_overflows_cold"]))
            if r.get("sshd_other_lines"):
                notes.append("- %s N=%d: gwB sshd logged %d unusual lines during cold (see sshd.log)" % (
                    r["label"], r["n"], r["sshd_other_lines"]))
            if not r["alive"]:
                notes.append("- %s N=%d: dvpnd died" % (r["label"], r["n"]))
        else:
            res = r["result"]
            if res.get("failed"):
                notes.append("- ssh N=%d: %s failed: %s" % (r["n"], res["failed"], res.get("errors")))
            if r["listen_overflows"]:
                notes.append("- ssh N=%d: gwB sshd listen queue overflowed %d times" % (r["n"], r["listen_overflows"]))
            notes.append("- ssh N=%d: %d at once, per-ssh p50 %s s, p99 %s s, load1 %s" % (
                r["n"], res.get("parallel", 0), res.get("p50_s"), res.get("p99_s"), r["load1"]))
    for r in (r for r in recs if r["kind"] == "hub"):
        tck = float(r.get("clk_tck", 100))
        b = r.get("cold_box", [0, 0, 0, 0])
        busy = 100.0 * (b[2] - b[0]) / (b[3] - b[1]) if b[3] > b[1] else 0
        notes.append("- %s N=%d: cold GET p50 %s s p99 %s s, dvpnd CPU %.2f s (%.1f ms per session), box %.0f%% busy; "
                     "warm p50 %s s p99 %s s, dvpnd CPU %.2f s; load1 %s; %s threads" % (
                         r["label"], r["n"], r["cold"].get("p50_s"), r["cold"].get("p99_s"),
                         r.get("cold_cpu_ticks", 0) / tck, 1000.0 * r.get("cold_cpu_ticks", 0) / tck / r["n"], busy,
                         r["warm"].get("p50_s"), r["warm"].get("p99_s"), r.get("warm_cpu_ticks", 0) / tck,
                         r["load1"], r["threads"]))
    text = "\n".join(["%s, commit %s, %s cores, load at start %s; ssh.keepalive %s, idle %s s; `%s`" % (
        meta["date"], meta["commit"], meta["nproc"], meta["load_start"], meta["keepalive"], meta["idle_s"],
        meta["command"]), ""] + rows + [""] + notes) + "\n"
    sys.stdout.write(text)
    if a.md:
        open(a.md, "w").write(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
