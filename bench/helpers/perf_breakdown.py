#!/usr/bin/env python3
"""Groups perf samples (with call chains) into cost categories.

  perf script -i perf.data -F comm,tid,ip,sym,dso | perf_breakdown.py [--by-comm]

libssh2 and libcrypto are stripped on Debian, so several hot functions have
no symbol; they are recognised by their callers instead:
  AES-NI blocks       unnamed libcrypto code called by CRYPTO_ctr128_encrypt_ctr32
  EVP_Cipher overhead  everything else under EVP_Cipher (EVP dispatch, the
                      ctr128 wrapper, provider code, libssh2's EVP_Cipher@plt)
  HMAC-SHA256         anything under SHA256_*/HMAC_*
Prints a markdown table: share of samples per category (and per command with
--by-comm), plus the top callers of memmove/memcpy and the top symbols of the
daemon's own code.
"""
import argparse
import collections
import re
import sys

FRAME = re.compile(r"^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")


def samples(stream):
    comm, frames = None, []
    for line in stream:
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
            continue
        if not line[0].isspace():
            if comm is not None:
                yield comm, frames
            comm, frames = line.split()[0], []
            continue
        m = FRAME.match(line)
        if m:
            addr, sym, dso = m.groups()
            sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
            dso = dso.rsplit("/", 1)[-1]
            frames.append((sym, dso))
    if comm is not None:
        yield comm, frames


def resolve_inlined(frames):
    """Inlined frames say "(inlined)"; give them the library of the frame they sit in."""
    out = []
    for i, (sym, dso) in enumerate(frames):
        if dso == "inlined":
            dso = next((d for _, d in frames[i + 1:] if d != "inlined"), "?")
        out.append((sym, dso))
    return out


def unnamed(sym):
    return sym in ("[unknown]", "") or sym.startswith("0x")


def categorize(frames):
    if not frames:
        return "unknown", ""
    sym, dso = frames[0]
    syms = [s for s, _ in frames]
    if "kernel" in dso or dso.startswith("["):
        in_syscall = any(s in ("do_syscall_64", "entry_SYSCALL_64_after_hwframe") for s in syms)
        for s in syms:
            m = re.match(r"(?:__x64_sys_|__sys_|__do_sys_|ksys_|do_sys_|vfs_)(\w+)", s)
            if m and in_syscall:
                return "kernel: syscalls", m.group(1)
        if in_syscall:
            return "kernel: syscalls", "?"
        return "kernel: other (softirq, scheduling)", sym
    if re.match(r"__(memmove|memcpy|memset)", sym) or sym in ("memcpy", "memmove", "memset"):
        caller = next(((s, d) for s, d in frames[1:] if not d.startswith("libc")), ("?", "?"))
        name = "memset" if "memset" in sym else "memmove/memcpy"
        return name, "%s (%s)" % (caller[0], caller[1])
    if any(s.startswith(("SHA256", "HMAC", "sha256")) for s in syms):
        return "HMAC-SHA256 (MAC)", sym
    if "EVP_Cipher" in syms or sym == "EVP_Cipher@plt" or sym.startswith("EVP_CIPHER"):
        if dso.startswith("libcrypto") and unnamed(sym) and len(frames) > 1 and \
                frames[1][0].startswith("CRYPTO_ctr128_encrypt"):
            return "AES-NI blocks (the encryption itself)", ""
        return "EVP_Cipher call overhead (dispatch, ctr128 wrapper)", sym if not unnamed(sym) else dso
    if dso.startswith("libcrypto"):
        return "libcrypto other (RAND, ...)", sym
    if dso.startswith("libssh2"):
        return "libssh2 own code", ""
    if dso.startswith("libc"):
        return "libc other", sym
    if dso.startswith(("libstdc++", "libgcc")):
        return "libstdc++", sym
    return "program's own code (%s)" % dso, sym


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--by-comm", action="store_true")
    ap.add_argument("--top", type=int, default=6)
    a = ap.parse_args()
    total = collections.Counter()
    cats = collections.Counter()
    subs = collections.defaultdict(collections.Counter)
    evp_incl = collections.Counter()
    for comm, frames in samples(sys.stdin):
        frames = resolve_inlined(frames)
        key = comm if a.by_comm else "all"
        total[key] += 1
        cat, sub = categorize(frames)
        cats[(key, cat)] += 1
        subs[(key, cat)][sub] += 1
        if any(s == "EVP_Cipher" for s, _ in frames):
            evp_incl[key] += 1
    for key in sorted(total):
        n = total[key]
        print("%s: %d samples; under EVP_Cipher (inclusive): %.1f%%" % (key, n, 100.0 * evp_incl[key] / n))
        print()
        print("| category | share | top entries |")
        print("|---|---|---|")
        rows = sorted(((c, v) for (k, c), v in cats.items() if k == key), key=lambda r: -r[1])
        for cat, v in rows:
            top = subs[(key, cat)].most_common(a.top)
            detail = ", ".join("%s %.1f%%" % (s, 100.0 * c / n) for s, c in top if s)
            print("| %s | %.1f%% | %s |" % (cat, 100.0 * v / n, detail))
        print()


if __name__ == "__main__":
    main()
