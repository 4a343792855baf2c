#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Site B sits behind NAT (no inbound path from A or E: the topology checks it)
# and listens on the relay's loopback; two other sites, A and E, each with its
# own dvpnd and key, reach a host behind B through the relay in both modes: an
# HTTP GET from each, then 64 MiB each way at once from both sites at the same
# time, with the SHA-256 of each direction checked at both ends. Both dialing
# sites' dvpnd --status show site B up through the relayed path, and gwB's
# sshd saw both sites' keys arrive on its loopback.
# RELAY_SECOND_SITE=0 runs the same checks from A alone.
set -euo pipefail
RELAY_SECOND_SITE=${RELAY_SECOND_SITE:-1}
# shellcheck source=relay_topology.sh
. "$(dirname "$0")/relay_topology.sh"
relay_topology_up

# bulk_from_all_sites MODE DST — every dialing site's 64 MiB each way at
# once, started together so the relay's sshd and B's forward carry them
# side by side; each one checked on its own.
bulk_from_all_sites() {
  local mode=$1 dst=$2 s
  for s in $(relay_dialing_sites); do
    from_site "$s" client_bg "bulk-$s-$mode" 80 bulk "$dst" "$BULK_PORT" --send 64MiB --recv 64MiB --timeout 75
  done
  for s in $(relay_dialing_sites); do
    expect_rc 0 "64 MiB each way from $s via $mode, SHA-256 exact" bg_finish "bulk-$s-$mode"
  done
}

for mode in netcat direct; do
  dst=$(siteb_ip "$mode")
  step "mode $mode ($dst) through the relay, from $(relay_dialing_sites)"
  for s in $(relay_dialing_sites); do
    from_site "$s" expect_rc 0 "GET from $s via $mode" http_get_ok "$dst"
  done
  t0=$(now_ms)
  bulk_from_all_sites "$mode" "$dst"
  info "64 MiB each way from $(relay_dialing_sites) via $mode: $(($(now_ms) - t0)) ms"
done

# gwB's sshd: every dialing site's key logged in, and only from its loopback.
sshd_b_log=$(sshd_log gwB 22)
grep -q "Accepted publickey for $GW_USER" "$sshd_b_log" || fail "no login on gwB's sshd"
if grep -Eq "Accepted publickey for $GW_USER from (198\.51\.100|203\.0\.113|192\.0\.2)" "$sshd_b_log"; then
  fail "gwB's sshd saw a login from outside its loopback"
fi
for s in $(relay_dialing_sites); do
  key=$GW_DIR/id_ed25519.pub
  [ "$s" = E ] && key=$GW_DIR/id_e.pub
  fp=$(ssh-keygen -lf "$key" | cut -d' ' -f2)
  grep -Fq "$fp" "$sshd_b_log" || fail "gwB's sshd saw no login with $s's key ($fp)"
done
pass "gwB's sshd saw the sessions of $(relay_dialing_sites) arrive on its loopback only (through its own relay_listen)"

for s in $(relay_dialing_sites); do
  status=$(dialing_site_status "$s")
  echo "$status" >&2
  grep -Eq "siteb .*up .*$DVJ_USER@$(site_relay_addr "$s"):22>$GW_USER@127\.0\.0\.1:$RELAY_PORT" <<<"$status" ||
    fail "gw$s's status does not show site B up through the relay"
  pass "gw$s's status: site B up through the relay"
done
if [ "$RELAY_B_SIDE" = dvpnd ]; then
  b=$(b_status)
  echo "$b" >&2
  grep -Eq "^relay_listen $DVJ_USER@$RELAY_B:22 port $RELAY_PORT -> 127\.0\.0\.1:22  up  conns [1-9]" <<<"$b" ||
    fail "gwB's status has no relay_listen line that is up with connections"
  pass "gwB's status: relay_listen up, with the forwarded connections counted"
fi
