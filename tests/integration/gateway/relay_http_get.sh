#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Site B sits behind NAT (no inbound path from A: the topology checks it) and
# listens on the relay's loopback; A reaches a host behind B through the
# relay in both modes: an HTTP GET, then 64 MiB each way at once with the
# SHA-256 of each direction checked at both ends. dvpnd --status on gwA shows
# site B up through the relayed path.
set -euo pipefail
# shellcheck source=relay_topology.sh
. "$(dirname "$0")/relay_topology.sh"
relay_topology_up

for mode in netcat direct; do
  dst=$(siteb_ip "$mode")
  step "mode $mode ($dst) through the relay"
  expect_rc 0 "GET via $mode" http_get_ok "$dst"
  expect_rc 0 "64 MiB each way via $mode, SHA-256 exact" \
    client 50 bulk "$dst" "$BULK_PORT" --send 64MiB --recv 64MiB --timeout 45
done
grep -q "Accepted publickey for $GW_USER" "$(sshd_log gwB 22)" || fail "no login on gwB's sshd"
if grep -Eq "Accepted publickey for $GW_USER from (198\.51\.100|203\.0\.113)" "$(sshd_log gwB 22)"; then
  fail "gwB's sshd saw a login from outside its loopback"
fi
pass "gwB's sshd saw A's sessions arrive on its loopback only (through its own relay_listen)"
status=$(ns_exec gwA "$DVPND" -c "$DVPND_CONF" --status)
echo "$status" >&2
grep -Eq "siteb .*up .*$DVJ_USER@$RELAY_A:22>$GW_USER@127\.0\.0\.1:$RELAY_PORT" <<<"$status" ||
  fail "gwA's status does not show site B up through the relay"
pass "gwA's status: site B up through the relay"
if [ "$RELAY_B_SIDE" = dvpnd ]; then
  b=$(b_status)
  echo "$b" >&2
  grep -Eq "^relay_listen $DVJ_USER@$RELAY_B:22 port $RELAY_PORT -> 127\.0\.0\.1:22  up  conns [1-9]" <<<"$b" ||
    fail "gwB's status has no relay_listen line that is up with connections"
  pass "gwB's status: relay_listen up, with the forwarded connections counted"
fi
