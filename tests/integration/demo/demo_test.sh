#!/usr/bin/env bash
# demo_test.sh — scripts/demo (the README's first command) runs green against
# the meson-built dvpnd and dvpn-gate, non-interactively (DEMO_NO_BUILD=1, so
# no bootstrap or build). Three runs in a row: --keep (the network stays up
# and carries traffic between the sites, to site D only through the relay and
# out of it through its NAT; nothing opens a connection to D from outside,
# not even with a route to its private address), a plain run over what --keep
# left (stale set-up cleaned first; every step's "[ok]" marker and the output
# that backs steps 5-7, site D behind NAT; under two minutes; nothing left
# afterwards), then --down with nothing to remove.
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
# has_re NAME ERE — a line of the output of run NAME matches ERE.
has_re() { grep -qE -- "$2" "$out/$1.txt" || fail "scripts/demo output ($1) has no line matching '$2'"; }

namespaces() { ip netns list | grep -Eo '^demo-(wan|relay|natd|gw[abcd]|lan[abcd])\b' || true; }

# fetch FROM SITE — LAN host FROM fetches www.SITE; fails unless the page names the site.
fetch() {
  local reply
  reply=$(ip netns exec "demo-lan$1" curl -sS -m 10 "http://www.site$2/") || fail "--keep: site $1 cannot fetch site $2's page"
  [[ $reply == *"site ${2^^}"* ]] || fail "--keep: site $2's page says '$reply'"
}

# Even a neighbour on the internet that routes site D's private uplink subnet
# via D's router gets nothing through: the router forwards only replies. And
# the port D listens on at the relay is on the relay's loopback only.
assert_nat_closed() {
  local rc=0
  ip netns exec demo-gwb ip route add 192.168.100.0/24 via 203.0.113.4
  ip netns exec demo-gwb timeout 5 nc -z -w 2 192.168.100.2 22 2>/dev/null || rc=$?
  ip netns exec demo-gwb ip route del 192.168.100.0/24 via 203.0.113.4
  [ "$rc" != 0 ] || fail "--keep: gateway B opened a connection to gateway D's sshd through D's router"
  ! ip netns exec demo-gwb timeout 5 nc -z -w 2 203.0.113.4 22 2>/dev/null ||
    fail "--keep: gateway B opened a connection to port 22 of D's router"
  ! ip netns exec demo-gwb timeout 5 nc -z -w 2 203.0.113.9 2201 2>/dev/null ||
    fail "--keep: gateway B reached the relay's port 2201 from outside the relay"
}

# Nothing of the demo remains: namespaces, accounts, files.
assert_clean() {
  local left u
  left=$(namespaces)
  [ -z "$left" ] || fail "$1: namespaces left: $left"
  for u in demo-dvpn-a demo-dvpn-b demo-dvpn-c demo-dvpn-d demo-dvpn-relay demo-dvpnd; do
    ! id "$u" >/dev/null 2>&1 || fail "$1: account $u left"
  done
  [ ! -e /var/lib/dvpn-demo ] || fail "$1: /var/lib/dvpn-demo left"
  ! compgen -G '/etc/netns/demo-lan*' >/dev/null || fail "$1: /etc/netns/demo-lan* left"
  ! compgen -G '/tmp/netlib-demo.*' >/dev/null || fail "$1: /tmp/netlib-demo.* left"
  pass "$1: nothing of the demo left"
}

markers=("[ok] 1: " "[ok] 2: " "[ok] 3: " "[ok] 4: " "[ok] 5: " "[ok] 6: " "[ok] 7: ")

run keep --keep
for m in "${markers[@]}"; do has keep "$m"; done
has keep "scripts/demo --down"
[ "$(namespaces | wc -l)" = 11 ] || fail "--keep: expected 11 demo namespaces, found: $(namespaces)"
fetch c a
fetch b c
pass "--keep: the network stays up; sites C->A and B->C by name"
fetch b d
fetch c d
fetch d a
grep -q "Accepted publickey for demo-dvpn-d from 127.0.0.1" /tmp/netlib-demo.*/sshd-gwd-22/sshd.log ||
  fail "--keep: gateway D's sshd saw no session on its loopback"
! grep -E "Accepted publickey for .* from (203\.0\.113|192\.168\.100)\." /tmp/netlib-demo.*/sshd-gwd-22/sshd.log ||
  fail "--keep: gateway D's sshd saw a login from outside its loopback"
assert_nat_closed
pass "--keep: sites B and C reach D through the relay, D reaches A out through its NAT; nothing gets in to D"

run plain
has plain "Cleaned up what an earlier"
for m in "${markers[@]}"; do has plain "$m"; done
has plain "Connection reset by peer"
has plain "end=far-end-failed"
has plain "hosts reloaded"
# Steps 5-7: site D behind NAT, reached through the relay.
has plain "-A POSTROUTING -o wan0 -j MASQUERADE"
has plain "ssh: connect to host 203.0.113.4 port 22: Connection timed out"
has plain "ssh: connect to host 192.168.100.2 port 22: Network is unreachable"
has plain "relay_listen demo-dvpn-relay@203.0.113.9:22 port 2201 -> 127.0.0.1:22  up"
has plain "endpoint: demo-dvpn-d@127.0.0.1:2201 via demo-dvpn-relay@203.0.113.9:22"
has plain "Hello from site D"
has_re plain "conn 10\.1\.0\.10:[0-9]+ -> 10\.4\.0\.10:80 site=sited mode=netcat .* end=ok"
has plain "Accepted publickey for demo-dvpn-relay from 203.0.113.4"
has plain "Accepted publickey for demo-dvpn-d from 127.0.0.1"
has_re plain "^ +sited +up +demo-dvpn-relay@203\.0\.113\.9:22>demo-dvpn-d@127\.0\.0\.1:2201 +rtt "
has plain "[ok] teardown: "
has plain "Demo finished in"
[ "$RUN_S" -lt 120 ] || fail "the demo took $RUN_S s (over two minutes)"
pass "plain run over --keep's leftovers: every step ok in $RUN_S s"
assert_clean "after the plain run"

run down --down
has down "Nothing to tear down"
assert_clean "after --down"
