#!/usr/bin/python3
"""Follows a log file and copies each new line, prefixed with the wall-clock
time (seconds since the epoch, millisecond precision) at which it was seen.

  logstamp.py SRC DST [--poll SECONDS]

dvpnd's stderr lines carry no time of their own; tests that check how far
apart rate-limited lines are read DST instead. A line is stamped within one
poll interval (default 20 ms) of being written. SRC need not exist yet; if it
shrinks (a new process truncated it), reading starts over from its beginning.
Runs until killed.
"""
import argparse
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--poll", type=float, default=0.02)
    args = ap.parse_args()
    offset = 0
    partial = b""
    with open(args.dst, "ab", buffering=0) as out:
        while True:
            try:
                size = os.path.getsize(args.src)
            except OSError:
                size = -1
            if 0 <= size < offset:
                offset, partial = 0, b""
            if size > offset:
                with open(args.src, "rb") as f:
                    f.seek(offset)
                    data = f.read(size - offset)
                offset += len(data)
                stamp = f"{time.time():.3f} ".encode()
                lines = (partial + data).split(b"\n")
                partial = lines.pop()
                if lines:
                    out.write(b"".join(stamp + line + b"\n" for line in lines))
            time.sleep(args.poll)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
