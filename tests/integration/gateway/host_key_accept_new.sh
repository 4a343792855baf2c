#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# host_key_policy: accept-new. (1) gwB is not in known_hosts: the first
# connection goes through and gwB's key is appended. (2) gwB's key changes:
# refused (end=gateway-unreachable: host key ... CHANGED), the file keeps the
# recorded key. (3) gwB offers a key of another type only (ECDSA; known_hosts
# holds its ed25519 key): refused the same way, nothing appended. libssh2
# compares entries of the offered type only, so a host known by ed25519 but
# offering ECDSA used to count as new, and an impostor's key was recorded and
# trusted. (4) known_hosts marks gwB's key @revoked (a line libssh2 cannot
# parse): refused, not recorded.
set -euo pipefail
GW_START_DVPND=0
GW_SSH_EXTRA=("host_key_policy: accept-new")
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

KH=$GW_DIR/known_hosts
GWB_KEYDIR=$(_netlib_sshd_dir gwB 22)
gwb_lines() { grep -c "^\(\[\)\?${GWB_WAN}[] :]" "$KH" || true; }
# restart_dvpnd PHASE — a fresh dvpnd (no session to gwB left), its log kept per phase.
restart_dvpnd() {
  if [ -n "${DVPND_PID:-}" ]; then
    dvpnd_stop
    cp "$DVPND_LOG" "$GW_DIR/dvpnd-until-step-$1.log"
    unset 'NETLIB_FAIL_LOGS[-1]'   # dvpnd_start registers the same log again
  fi
  dvpnd_start
}

# refused WHAT — a GET to site B is reset within RESET_LIMIT_S and dvpnd logs
# end=gateway-unreachable: WHAT (a regex).
refused() {
  expect_rc 0 "reset within ${RESET_LIMIT_S}s" \
    client 15 expect-reset "$SRVB_IP" "$HTTP_PORT" --within "$RESET_LIMIT_S"
  retry_for 2 dvpnd_log_has "end=gateway-unreachable: $1" ||
    fail "no end=gateway-unreachable: $1 in dvpnd's log"
  pass "dvpnd logged: $(grep -m1 'end=gateway-unreachable' "$DVPND_LOG" | sed 's/.*end=/end=/' | cut -c1-220)..."
}

step "1. gwB not in known_hosts: accepted and recorded"
gw_known_hosts_lines "$(_netlib_sshd_dir gwC 22)/hostkey.pub" "$GWC_WAN" "$GWC_WAN6" >"$KH"
[ "$(gwb_lines)" = 0 ] || fail "setup: known_hosts still names gwB"
restart_dvpnd 1
expect_rc 0 "GET through dvpnd to site B" http_get_ok "$SRVB_IP"
recorded=$(grep "^$GWB_WAN " "$KH" || true)
[ -n "$recorded" ] || fail "known_hosts has no line for $GWB_WAN: $(cat "$KH")"
[ "$(cut -d' ' -f2,3 <<<"$recorded")" = "$(cut -d' ' -f1,2 "$GWB_KEYDIR/hostkey.pub")" ] ||
  fail "the recorded line is not gwB's key: $recorded"
pass "known_hosts got: $(cut -c1-60 <<<"$recorded")..."
dvpnd_log_has "added to .*accept-new" || fail "dvpnd did not log the new key"
pass "dvpnd logged: $(grep -m1 'added to' "$DVPND_LOG" | sed 's/.*dvpnd: //')"
kh_before=$(cat "$KH")

step "2. gwB's key changed (same type): refused"
sshd_rekey_host gwB 22
restart_dvpnd 2
refused "host key for $GWB_WAN CHANGED"
[ "$(cat "$KH")" = "$kh_before" ] || fail "known_hosts changed: $(cat "$KH")"
pass "known_hosts unchanged"

step "3. gwB offers only an ECDSA key, known_hosts holds its ed25519 key: refused"
sshd_stop gwB 22
rm -f "$GWB_KEYDIR/hostkey" "$GWB_KEYDIR/hostkey.pub"
ssh-keygen -q -t ecdsa -b 256 -N '' -C "netlib-gwB-ecdsa" -f "$GWB_KEYDIR/hostkey"
_netlib_sshd_run gwB 22
# known_hosts still holds the ed25519 key recorded in step 1.
restart_dvpnd 3
refused "host key for $GWB_WAN CHANGED: server offered ecdsa-sha2-nistp256"
if grep -q ecdsa "$KH"; then fail "an ECDSA key was appended to known_hosts: $(grep ecdsa "$KH")"; fi
[ "$(cat "$KH")" = "$kh_before" ] || fail "known_hosts changed: $(cat "$KH")"
pass "known_hosts unchanged, nothing appended"
if grep -q "Accepted publickey for $GW_USER" "$(sshd_log gwB 22)"; then
  fail "dvpnd logged in to gwB with the ECDSA key"
fi
pass "no login on gwB with the unknown key type"
expect_rc 0 "site C unaffected" http_get_ok "$SRVC_IP6"

step "4. gwB's key is marked @revoked and no other line names gwB: refused, not recorded"
grep -v "^\(\[\)\?${GWB_WAN}[] :]" "$KH" >"$KH.new" || true
printf '@revoked %s %s\n' "$GWB_WAN" "$(cut -d' ' -f1,2 "$GWB_KEYDIR/hostkey.pub")" >>"$KH.new"
mv "$KH.new" "$KH"
kh_revoked=$(cat "$KH")
restart_dvpnd 4
refused "host key ecdsa-sha2-nistp256 SHA256:[^ ]* of $GWB_WAN is marked @revoked"
[ "$(cat "$KH")" = "$kh_revoked" ] || fail "known_hosts changed: $(cat "$KH")"
pass "known_hosts unchanged: the revoked key was not recorded"
