#!/usr/bin/env python3
"""Turns a bench/run output directory into the results table.

  report.py OUT_DIR [--md FILE]

Reads OUT_DIR/meta.json, OUT_DIR/raw/records.jsonl (one line per test, with
the client's output file), OUT_DIR/raw/variants.txt and OUT_DIR/hostsdb.md.
Prints markdown: the side-by-side table (median over runs, [min-max] when
there are several, and in parentheses the 1-minute load average when the
figure was taken), ratios vs ssh -L and vs plain routing, the issue's targets,
and every failure. Exit code 1 if any test failed.
"""
import argparse
import json
import os
import statistics
import sys

VARIANTS = ["plain", "sshL", "direct", "netcat", "relay-direct", "relay-netcat"]
HEAD = {"plain": "plain routing", "sshL": "ssh -L (aes128-ctr)", "direct": "dvpnd direct",
        "netcat": "dvpnd netcat", "relay-direct": "dvpnd direct via relay",
        "relay-netcat": "dvpnd netcat via relay"}


def last_json(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    for line in reversed(text.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


def derive(rec):
    """Metrics of one record: dict name -> value (None when not applicable)."""
    m = {}
    clk = rec.get("clk_tck", 100)
    test = rec["test"]
    wall = rec.get("t1", 0) - rec.get("t0", 0)
    fwd = rec.get("fwd_ticks", 0) / clk
    sshd = rec.get("sshd_ticks", 0) / clk
    relay = rec.get("relay_ticks", 0) / clk
    bdvpnd = rec.get("bdvpnd_ticks", 0) / clk
    fwd_applies = rec["variant"] != "plain"
    relay_applies = rec["variant"].startswith("relay-")
    if "box" in rec:
        b = rec["box"]
        busy, total = b[2] - b[0], b[3] - b[1]
        m["box_busy_pct"] = 100.0 * busy / total if total > 0 else None
    if test in ("iperf1", "iperf1r", "iperf4", "iperf4r"):
        j = last_json(rec["out"]) or {}
        end = j.get("end", {})
        recv = end.get("sum_received", {})
        bytes_ = recv.get("bytes")
        m["gbps"] = recv.get("bits_per_second", 0) / 1e9 if recv else None
        if j.get("error") or not bytes_:
            m["failed"] = j.get("error", "no iperf3 result")
        else:
            gb = bytes_ / 1e9
            m["bytes"] = bytes_
            m["fwd_s_per_gb"] = fwd / gb if fwd_applies else None
            m["sshd_s_per_gb"] = sshd / gb if fwd_applies else None
            m["fwd_pct"] = 100.0 * fwd / wall if fwd_applies and wall > 0 else None
            m["relay_s_per_gb"] = relay / gb if relay_applies else None
            m["bdvpnd_s_per_gb"] = bdvpnd / gb if relay_applies else None
        m["retrans"] = end.get("sum_sent", {}).get("retransmits")
    elif test in ("cr_seq", "cr_conc"):
        j = last_json(rec["out"]) or {}
        if not j:
            m["failed"] = "no connrate result"
        else:
            for k in ("conns_per_s", "ttfb_p50_ms", "ttfb_p99_ms", "life_p50_ms", "life_p99_ms", "connect_p50_ms"):
                m[k] = j.get(k)
            ok = j.get("ok", 0)
            if j.get("errors") or ok < j.get("requested", 0):
                m["failed"] = "%s of %s failed %s" % (j.get("requested", 0) - ok, j.get("requested"),
                                                      j.get("error_kinds"))
            if ok and fwd_applies:
                m["fwd_ms_per_conn"] = 1000.0 * fwd / ok
                m["sshd_ms_per_conn"] = 1000.0 * sshd / ok
            if ok and relay_applies:
                m["relay_ms_per_conn"] = 1000.0 * relay / ok
                m["bdvpnd_ms_per_conn"] = 1000.0 * bdvpnd / ok
    elif test == "hold" and rec["count"] > 0:  # HOLD_DIRECT=0 / HOLD_NETCAT=0: nothing held
        n = rec["count"]
        m["rss_idle_mib"] = rec["rss_idle_kib"] / 1024.0
        m["rss_held_mib"] = rec["rss_held_kib"] / 1024.0
        m["rss_per_conn_kib"] = (rec["rss_held_kib"] - rec["rss_idle_kib"]) / n
        m["held"] = n
        m["open_rate"] = n / rec["open_wall_s"] if rec.get("open_wall_s") else None
        m["open_cpu_ms_per_conn"] = 1000.0 * rec.get("open_fwd_ticks", 0) / clk / n
        m["threads"] = rec.get("dvpnd_threads")
        m["gwb_sshd_rss_mib"] = rec.get("gwb_sshd_tree_rss_kib", 0) / 1024.0
        st = rec.get("status")
        try:
            gws = st.get("gateways", []) if isinstance(st, dict) else []
            m["sessions"] = sum(g.get("sessions", 0) for g in gws) if gws else None
            m["channels"] = sum(g.get("channels", 0) for g in gws) if gws else None
        except AttributeError:
            pass
        out = last_json(rec["out"]) or {}
        ready = rec.get("ready") or {}
        problems = []
        if rec.get("rc") != 0:
            problems.append("client rc %s" % rec.get("rc"))
        if ready.get("failed"):
            problems.append("%s of %s failed to open %s" % (ready["failed"], n, ready.get("error_kinds")))
        if out.get("alive_after_hold") is not None and out["alive_after_hold"] != ready.get("ok", n):
            problems.append("%s alive after hold %s" % (out["alive_after_hold"], out.get("late_error_kinds")))
        if not rec.get("dvpnd_alive_after", True):
            problems.append("dvpnd died")
        if problems:
            m["failed"] = "; ".join(problems)
        m["hold_errors"] = (ready.get("failed") or 0) + max(0, (ready.get("ok") or 0) - (out.get("alive_after_hold") or 0))
    if rec.get("rc") not in (0, None) and "failed" not in m:
        m["failed"] = "rc %s" % rec.get("rc")
    return m


# (label, test, metric key, format, target text, {variant: (kind, ratio_base or abs, threshold)})
ROWS = [
    ("iperf3 1 stream, Gbit/s", "iperf1", "gbps", "%.2f"),
    ("iperf3 1 stream download (-R), Gbit/s", "iperf1r", "gbps", "%.2f"),
    ("iperf3 -P 4, Gbit/s", "iperf4", "gbps", "%.2f"),
    ("iperf3 -P 4 download (-R), Gbit/s", "iperf4r", "gbps", "%.2f"),
    ("gwA forwarder CPU s/GB, 1 stream (ssh / dvpnd)", "iperf1", "fwd_s_per_gb", "%.2f"),
    ("gwA forwarder CPU s/GB, -P 4", "iperf4", "fwd_s_per_gb", "%.2f"),
    ("gwA forwarder CPU, % of one core, -P 4", "iperf4", "fwd_pct", "%.0f"),
    ("gwB sshd (+ far nc) CPU s/GB, 1 stream", "iperf1", "sshd_s_per_gb", "%.2f"),
    ("relay R sshd CPU s/GB, 1 stream", "iperf1", "relay_s_per_gb", "%.2f"),
    ("gwB dvpnd (relay_listen) CPU s/GB, 1 stream", "iperf1", "bdvpnd_s_per_gb", "%.2f"),
    ("sequential: new conns/s", "cr_seq", "conns_per_s", "%.0f"),
    ("sequential: TTFB p50, ms", "cr_seq", "ttfb_p50_ms", "%.2f"),
    ("sequential: TTFB p99, ms", "cr_seq", "ttfb_p99_ms", "%.2f"),
    ("sequential: connect->close p50, ms", "cr_seq", "life_p50_ms", "%.2f"),
    ("sequential: connect->close p99, ms", "cr_seq", "life_p99_ms", "%.2f"),
    ("sequential: forwarder CPU ms/conn", "cr_seq", "fwd_ms_per_conn", "%.3f"),
    ("sequential: gwB sshd CPU ms/conn", "cr_seq", "sshd_ms_per_conn", "%.2f"),
    ("20 at once: conns/s", "cr_conc", "conns_per_s", "%.0f"),
    ("20 at once: TTFB p50, ms", "cr_conc", "ttfb_p50_ms", "%.2f"),
    ("20 at once: TTFB p99, ms", "cr_conc", "ttfb_p99_ms", "%.2f"),
    ("20 at once: connect->close p50, ms", "cr_conc", "life_p50_ms", "%.2f"),
    ("20 at once: connect->close p99, ms", "cr_conc", "life_p99_ms", "%.2f"),
    ("20 at once: forwarder CPU ms/conn", "cr_conc", "fwd_ms_per_conn", "%.3f"),
    ("20 at once: relay R sshd CPU ms/conn", "cr_conc", "relay_ms_per_conn", "%.3f"),
    ("20 at once: gwB dvpnd (relay_listen) CPU ms/conn", "cr_conc", "bdvpnd_ms_per_conn", "%.3f"),
    ("held open: connections", "hold", "held", "%.0f"),
    ("held open: errors", "hold", "hold_errors", "%.0f"),
    ("held open: SSH sessions", "hold", "sessions", "%.0f"),
    ("held open: opens/s while filling", "hold", "open_rate", "%.0f"),
    ("held open: dvpnd CPU ms per open while filling", "hold", "open_cpu_ms_per_conn", "%.2f"),
    ("held open: dvpnd RSS idle, MiB", "hold", "rss_idle_mib", "%.1f"),
    ("held open: dvpnd RSS held, MiB", "hold", "rss_held_mib", "%.1f"),
    ("held open: dvpnd RSS per connection, KiB", "hold", "rss_per_conn_kib", "%.1f"),
    ("held open: gwB sshd tree RSS, MiB (sum)", "hold", "gwb_sshd_rss_mib", "%.0f"),
]


def collect(records, table=None, tag=""):
    """(variant, test + tag, key) -> list of (value, load), added to table."""
    table = {} if table is None else table
    for rec in records:
        m = derive(rec)
        for k, v in m.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                table.setdefault((rec["variant"], rec["test"] + tag, k), []).append((v, rec.get("load1")))
    return table


def read_records(outdir):
    """The records of OUT_DIR/raw/records.jsonl; an unreadable line is a failed record."""
    records = []
    with open(os.path.join(outdir, "raw", "records.jsonl")) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    records.append(json.loads(line))
                except ValueError:
                    records.append({"variant": "?", "test": "?", "rc": 1, "bad_line": line})
    return records


def render_table(w, table, present, rows):
    """The side-by-side table: ROWS-style rows, a column per present variant,
    then the ratios of dvpnd's variants to ssh -L and to plain routing, and
    of each relay variant to the same mode's direct path."""
    hdr = ["metric"] + [HEAD[v] for v in present]
    ratios = [(v, "sshL") for v in ("direct", "netcat") if v in present and "sshL" in present]
    ratios += [(v, "plain") for v in ("direct", "netcat") if v in present and "plain" in present]
    ratios += [("relay-" + v, v) for v in ("direct", "netcat") if v in present and "relay-" + v in present]
    short = {"sshL": "ssh -L", "plain": "plain", "direct": "direct", "netcat": "netcat",
             "relay-direct": "direct via relay", "relay-netcat": "netcat via relay"}
    hdr += ["%s ÷ %s" % (short[x], short[y]) for x, y in ratios]
    w("| " + " | ".join(hdr) + " |")
    w("|" + "---|" * len(hdr))
    for label, test, key, f in rows:
        cells = [table.get((v, test, key)) for v in present]
        if not any(cells):
            continue
        row = [label] + [fmt_cell(c, f) for c in cells]
        for x, y in ratios:
            vx = table.get((x, test, key))
            vy = table.get((y, test, key))
            row.append(ratio(med([v for v, _ in vx]) if vx else None, med([v for v, _ in vy]) if vy else None))
        w("| " + " | ".join(row) + " |")
    w("")


def failures_of(records):
    """One line per failed record."""
    failures = []
    for rec in records:
        d = derive(rec) if "bad_line" not in rec else {"failed": "unreadable record"}
        if d.get("failed"):
            failures.append("run %s %s %s: %s (%s)" % (rec.get("run"), rec.get("variant"), rec.get("test"),
                                                      d["failed"], rec.get("out")))
    if not records:
        failures.append("no measurements recorded")
    return failures


def med(vals):
    return statistics.median(vals) if vals else None


def fmt_cell(vals, f):
    if not vals:
        return "-"
    xs = [v for v, _ in vals]
    loads = [l for _, l in vals if l is not None]
    s = f % med(xs)
    if len(xs) > 1:
        s += " [" + (f % min(xs)) + "–" + (f % max(xs)) + "]"
    if loads:
        s += " (%.1f)" % med(loads)
    return s


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    r = a / b
    return ("%.2fx" % r) if r < 10 else ("%.0fx" % r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--md")
    a = ap.parse_args()
    meta = last_json(os.path.join(a.outdir, "meta.json")) or {}
    records = read_records(a.outdir)
    present = [v for v in VARIANTS if any(r["variant"] == v for r in records)]
    table = collect(records)
    out = []
    w = out.append
    w("Date: %s; commit %s; %s cores; load average at start %s" % (
        meta.get("date"), meta.get("commit"), meta.get("nproc"), meta.get("load_start")))
    w("Command: `%s` (mode %s, runs %s; iperf3 %s; sequential %s; %s at %s at once; held %s direct / %s netcat; "
      "sshd MaxSessions %s; dvpnd max_channels_per_session %s; log level %s; gwA quickack %s)" % (
          meta.get("command"), meta.get("mode"), meta.get("runs"), meta.get("iperf"), meta.get("cr_seq"),
          meta.get("cr_conc_n"), meta.get("cr_conc"), meta.get("hold_direct"), meta.get("hold_netcat"),
          meta.get("sshd_maxsessions"), meta.get("dvpn_channels"), meta.get("log_level"), meta.get("quickack", 0)))
    w("dvpnd: %s" % meta.get("dvpnd"))
    w("")
    w("Cells: median [min–max over runs] (1-minute load average when taken).")
    w("")
    render_table(w, table, present, ROWS)

    # Targets of issue 7 that this run can check.
    def m(v, test, key):
        vals = table.get((v, test, key))
        return med([x for x, _ in vals]) if vals else None

    targets = []

    def tgt(text, value, ok):
        targets.append((text, value, "met" if ok else ("MISSED" if ok is False else "n/a")))

    def rel(v, base, test, key, want, text):
        a_, b_ = m(v, test, key), m(base, test, key)
        if a_ is None or not b_:
            tgt(text, "-", None)
        else:
            tgt(text, "%.2fx" % (a_ / b_), a_ / b_ >= want)

    rel("direct", "sshL", "iperf1", "gbps", 1.0, "1 stream, direct >= 1.0x ssh -L")
    rel("netcat", "sshL", "iperf1", "gbps", 0.9, "1 stream, netcat >= 0.9x ssh -L")
    rel("direct", "sshL", "iperf4", "gbps", 1.0, "4 streams, direct >= 1.0x ssh -L")
    rel("direct", "sshL", "cr_seq", "conns_per_s", 20.0, "sequential conns/s, direct >= 20x ssh -L")
    lp, ld = m("plain", "cr_seq", "life_p50_ms"), m("direct", "cr_seq", "life_p50_ms")
    if lp is not None and ld is not None:
        tgt("sequential connect->close p50, direct within 2 ms of plain", "+%.2f ms" % (ld - lp), ld - lp <= 2.0)
    nc = m("netcat", "cr_seq", "conns_per_s")
    if nc is not None:
        tgt("sequential conns/s, netcat >= 2x ControlMaster (anchors: 64/s, so >= 128/s)", "%.0f/s" % nc, nc >= 128)
    rel("direct", "sshL", "cr_conc", "conns_per_s", 1.0, "20 at once conns/s, direct >= 1.0x ssh -L")
    g = m("direct", "iperf1", "gbps")
    if g is not None:
        tgt(">= 20x sshuttle single stream (anchors: 0.15 Gbit/s, so >= 3.0)", "%.2f Gbit/s" % g, g >= 3.0)
    rss = m("direct", "hold", "rss_per_conn_kib")
    if rss is not None:
        errs = m("direct", "hold", "hold_errors") or 0
        tgt("held open (direct, %s): RSS <= 32 KiB/conn, no error" % meta.get("hold_direct"),
            "%.1f KiB, %d errors" % (rss, errs), rss <= 32 and errs == 0)
    pct = m("direct", "iperf4", "fwd_pct")
    if pct is not None:
        tgt("both cores used when busy (dvpnd CPU during -P 4 > 100% of one core)", "%.0f%%" % pct, pct > 100)
    if targets:
        w("| target (issue 7) | this run | |")
        w("|---|---|---|")
        for t in targets:
            w("| %s | %s | %s |" % t)
        w("")

    # variants as run
    vpath = os.path.join(a.outdir, "raw", "variants.txt")
    if os.path.exists(vpath):
        seen = set()
        w("Variants:")
        for line in open(vpath):
            name, _, desc = line.rstrip("\n").partition("\t")
            if name not in seen:
                seen.add(name)
                w("- %s: %s" % (name, desc))
        w("")

    hpath = os.path.join(a.outdir, "hostsdb.md")
    if os.path.exists(hpath):
        w("65,536-site hosts map (bench/hostsdb_bench, same machine, same run):")
        w("")
        w(open(hpath).read().rstrip())
        w("")

    return publish(out, failures_of(records), a.md)


def publish(out, failures, md_path):
    """Ends a report with its failures, prints it, writes it to md_path if
    given; the exit code says whether anything failed."""
    out.append("Failures:" if failures else "Failures: none.")
    out.extend("- " + f for f in failures)
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if md_path:
        with open(md_path, "w") as f:
            f.write(text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
