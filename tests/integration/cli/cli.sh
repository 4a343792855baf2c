#!/bin/bash
# dvpnd's one-shot commands (dvpnd(8)): --check, --lookup, --version,
# --help, --status without a daemon, and their exit codes (0 ok, 1 runtime,
# 2 usage or config error) with FILE:LINE in every complaint.
set -euo pipefail
DVPND=${DVPND:?set by meson}
EXAMPLES=${DVPN_SOURCE_ROOT:?set by meson}/examples
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect CODE PATTERN CMD... — CMD exits with CODE and its output matches PATTERN.
expect() {
  local code=$1 pattern=$2 rc=0
  shift 2
  "$@" >"$tmp/out" 2>&1 || rc=$?
  [ "$rc" = "$code" ] || { cat "$tmp/out" >&2; fail "$* exited $rc, expected $code"; }
  grep -Eq -- "$pattern" "$tmp/out" || { cat "$tmp/out" >&2; fail "$*: output lacks /$pattern/"; }
  echo "ok: $* -> $rc"
}

expect 0 "examples/dvpn.yaml: ok, 4 sites" "$DVPND" --check -c "$EXAMPLES/dvpn.yaml"
expect 0 "site thursday .*hosts:[0-9]+" "$DVPND" --lookup 10.0.3.7:80 -c "$EXAMPLES/dvpn.yaml"
expect 0 "endpoint: dvpn@203.0.113.7:22" "$DVPND" --lookup 10.0.3.7:80 -c "$EXAMPLES/dvpn.yaml"
expect 0 "command:  nc 10.0.3.7 80" "$DVPND" --lookup 10.0.3.7:80 -c "$EXAMPLES/dvpn.yaml"
expect 0 "mode:     direct" "$DVPND" --lookup 10.0.5.1:443 -c "$EXAMPLES/dvpn.yaml"
expect 0 "site saturday" "$DVPND" --lookup "[fd00:5::9]:22" -c "$EXAMPLES/dvpn.yaml"
expect 0 "endpoint: dvpn@home.sunday.example:22" "$DVPND" --lookup 10.0.6.9:80 -c "$EXAMPLES/dvpn.yaml"
expect 0 "fallback: dvpn@127.0.0.1:2201 via dvpn@relay.example.net:22" "$DVPND" --lookup 10.0.6.9:80 -c "$EXAMPLES/dvpn.yaml"
expect 1 "no site serves this address" "$DVPND" --lookup 10.99.0.1:80 -c "$EXAMPLES/dvpn.yaml"
expect 2 "expected ADDR" "$DVPND" --lookup nonsense -c "$EXAMPLES/dvpn.yaml"

printf 'listen: ["127.0.0.1:7007"]\nhosts: [%s]\nbogus: 1\n' "$EXAMPLES/hosts" >"$tmp/unknown.yaml"
expect 2 "unknown.yaml:3:1: unknown key \"bogus\"" "$DVPND" --check -c "$tmp/unknown.yaml"

printf '10.0.3.1 ok #!203.0.113.7\n10.0.4.1 bad #!203.0.113.8 frob=1\n' >"$tmp/bad.hosts"
printf 'hosts: [%s]\n' "$tmp/bad.hosts" >"$tmp/badhosts.yaml"
expect 2 "bad.hosts:2: unknown option \"frob=1\"" "$DVPND" --check -c "$tmp/badhosts.yaml"
printf '10.0.3.1 ok #!a.example,r.example>b.example:2201\n10.0.4.1 bad #!r>s>t\n' >"$tmp/relay.hosts"
printf 'hosts: [%s]\n' "$tmp/relay.hosts" >"$tmp/relay.yaml"
expect 2 "relay.hosts:2: bad endpoint \"r>s>t\": two \">\" \\(one relay at most\\)" "$DVPND" --check -c "$tmp/relay.yaml"
expect 2 "cannot read" "$DVPND" --check -c "$tmp/missing.yaml"

expect 0 "^dvpnd [0-9]+\.[0-9]+" "$DVPND" --version
# libssh2's cipher calls must reach dvpnd's batching EVP_Cipher
# (daemon/ssh/ctr_keystream.cpp), not libcrypto's: the dynamic linker says
# where it bound them.
for symbol in EVP_Cipher EVP_CIPHER_CTX_free; do
  expect 0 "libssh2\.so.* to .*dvpnd .*symbol .$symbol'" env LD_BIND_NOW=1 LD_DEBUG=bindings "$DVPND" --version
done
expect 0 "usage: dvpnd" "$DVPND" --help
expect 2 "unknown option \"--bogus\"" "$DVPND" --bogus
printf 'control_socket: %s/none.sock\nhosts: [%s]\n' "$tmp" "$EXAMPLES/hosts" >"$tmp/status.yaml"
expect 1 "cannot reach the daemon" "$DVPND" --status -c "$tmp/status.yaml"
echo "PASS cli"
