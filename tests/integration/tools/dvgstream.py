"""Shared pieces of the integration test client and servers.

Deterministic byte streams: a stream is named by (seed, length). It is cut into
64 KiB chunks; chunk i is a per-seed random block whose first 8 bytes are
replaced by i, so reordered, repeated or dropped chunks change the SHA-256.

Wire formats of testserver.py (the first line selects sizes, then raw bytes):
  bulk      C->S "N SEED\n" + any bytes + EOF;  S->C pattern(SEED, N) sent while
            reading, then "SHA256HEX COUNT\n" of what it received, then FIN
  after-eof C->S "N SEED\n" + any bytes + EOF;  S->C nothing until EOF, then
            "SHA256HEX COUNT\n" + pattern(SEED, N), then FIN
  echo      every byte echoed until EOF, then FIN
"""
import hashlib
import random
import re

CHUNK = 65536
_SIZE_RE = re.compile(r"^(\d+)\s*(|B|KiB|MiB|GiB|K|M|G)$")
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KiB": 1 << 10, "M": 1 << 20, "MiB": 1 << 20,
          "G": 1 << 30, "GiB": 1 << 30}


def parse_size(text):
    """'65536', '64KiB', '256MiB', '1GiB' -> bytes (ValueError if malformed)."""
    m = _SIZE_RE.match(text.strip())
    if not m:
        raise ValueError(f"bad size {text!r}, expected e.g. 4096, 64KiB, 256MiB")
    return int(m.group(1)) * _UNITS[m.group(2)]


_bases = {}


def _base(seed):
    block = _bases.get(seed)
    if block is None:
        block = random.Random(seed).randbytes(CHUNK)
        _bases[seed] = block
    return block


def pattern_chunks(seed, length):
    """Yields the stream (seed, length) as chunks of at most CHUNK bytes."""
    base = _base(seed)
    tail = base[8:]
    index = 0
    left = length
    while left > 0:
        chunk = index.to_bytes(8, "big") + tail
        if left < CHUNK:
            chunk = chunk[:left]
        yield chunk
        left -= len(chunk)
        index += 1


_digests = {}


def pattern_digest(seed, length):
    """SHA-256 hex digest of the stream (seed, length)."""
    key = (seed, length)
    if key not in _digests:
        h = hashlib.sha256()
        for chunk in pattern_chunks(seed, length):
            h.update(chunk)
        _digests[key] = h.hexdigest()
    return _digests[key]


def parse_header(line):
    """b'N SEED\\n' -> (N, SEED); ValueError if malformed."""
    parts = line.decode("ascii").split()
    if len(parts) != 2:
        raise ValueError(f"bad header {line!r}")
    return int(parts[0]), int(parts[1])


def trailer(digest, count):
    return f"{digest} {count}\n".encode("ascii")


def parse_trailer(line):
    """b'HEX COUNT\\n' -> (HEX, COUNT); ValueError if malformed."""
    parts = line.decode("ascii", "replace").split()
    if len(parts) != 2 or len(parts[0]) != 64:
        raise ValueError(f"bad trailer {line[:100]!r}")
    return parts[0], int(parts[1])
