#!/usr/bin/env bash
# demo_test.sh — scripts/demo (the README's first command) runs green against
# the meson-built dvpnd and dvpn-gate, non-interactively (DEMO_NO_BUILD=1, so
# no bootstrap or build). Three runs in a row: --keep (the network stays up
# and carries traffic between all three sites), a plain run over what --keep
# left (stale set-up cleaned first; every step's "[ok]" marker; under two
# minutes; nothing left afterwards), then --down with nothing to remove.
set -euo pipefail

: "${DVPN_SOURCE_ROOT:?run through meson test}" "${DVPN_BUILD_ROOT:?}" "${DVPND:?}"
if [ "$(id -u)" != 0 ]; then
  echo "demo: needs root (network namespaces, accounts); skipping"
  exit 77
fi
if ! command -v dnsmasq >/dev/null; then
  echo "demo: dnsmasq missing (scripts/bootstrap installs dnsmasq-base); skipping"
  exit 77
fi

demo=$DVPN_SOURCE_ROOT/scripts/demo
out=$(mktemp -d /tmp/demo-test.XXXXXX)
cleanup() {
  local rc=$?
  # Whatever a failed run left up (--down is idempotent).
  "$demo" --down >/dev/null 2>&1 || true
  if [ "$rc" != 0 ] && [ -f "$out/demo.log" ]; then
    echo "---- demo log ($out/demo.log)"
    cat "$out/demo.log"
  fi
  rm -rf "$out"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export DEMO_NO_BUILD=1 DVPN_GATE=$DVPN_BUILD_ROOT/chroot/dvpn-gate DEMO_LOG=$out/demo.log NO_COLOR=1

fail() { echo "FAIL $*"; exit 1; }
pass() { echo "PASS $*"; }

# run NAME ARGS... — scripts/demo ARGS, output in $out/NAME.txt (and shown); fails on non-zero.
run() {
  local name=$1 rc=0 start
  shift
  start=$SECONDS
  timeout -k 30 200 "$demo" "$@" >"$out/$name.txt" 2>&1 || rc=$?
  RUN_S=$((SECONDS - start))
  echo "---- scripts/demo $* ($RUN_S s, exit $rc)"
  cat "$out/$name.txt"
  [ "$rc" = 0 ] || fail "scripts/demo $*: exit $rc"
}

# has NAME TEXT — the output of run NAME contains TEXT.
has() { grep -qF -- "$2" "$out/$1.txt" || fail "scripts/demo output ($1) lacks '$2'"; }

namespaces() { ip netns list | grep -Eo '^demo-(wan|gw[abc]|lan[abc])\b' || true; }

# Nothing of the demo remains: namespaces, accounts, files.
assert_clean() {
  local left u
  left=$(namespaces)
  [ -z "$left" ] || fail "$1: namespaces left: $left"
  for u in demo-dvpn-a demo-dvpn-b demo-dvpn-c demo-dvpnd; do
    ! id "$u" >/dev/null 2>&1 || fail "$1: account $u left"
  done
  [ ! -e /var/lib/dvpn-demo ] || fail "$1: /var/lib/dvpn-demo left"
  ! compgen -G '/etc/netns/demo-lan*' >/dev/null || fail "$1: /etc/netns/demo-lan* left"
  ! compgen -G '/tmp/netlib-demo.*' >/dev/null || fail "$1: /tmp/netlib-demo.* left"
  pass "$1: nothing of the demo left"
}

markers=("[ok] 1: " "[ok] 2: " "[ok] 3: " "[ok] 4: " "[ok] 5: ")

run keep --keep
for m in "${markers[@]}"; do has keep "$m"; done
has keep "scripts/demo --down"
[ "$(namespaces | wc -l)" = 7 ] || fail "--keep: expected 7 demo namespaces, found: $(namespaces)"
reply=$(ip netns exec demo-lanc curl -sS -m 10 http://www.sitea/) || fail "--keep: site C cannot fetch site A's page"
[[ $reply == *"site A"* ]] || fail "--keep: site A's page says '$reply'"
reply=$(ip netns exec demo-lanb curl -sS -m 10 http://www.sitec/) || fail "--keep: site B cannot fetch site C's page"
[[ $reply == *"site C"* ]] || fail "--keep: site C's page says '$reply'"
pass "--keep: the network stays up; sites C->A and B->C by name"

run plain
has plain "Cleaned up what an earlier"
for m in "${markers[@]}"; do has plain "$m"; done
has plain "Connection reset by peer"
has plain "end=far-end-failed"
has plain "hosts reloaded"
has plain "[ok] teardown: "
has plain "Demo finished in"
[ "$RUN_S" -lt 120 ] || fail "the demo took $RUN_S s (over two minutes)"
pass "plain run over --keep's leftovers: every step ok in $RUN_S s"
assert_clean "after the plain run"

run down --down
has down "Nothing to tear down"
assert_clean "after --down"
