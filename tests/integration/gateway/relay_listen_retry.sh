#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The relay already listens on B's port for someone else (as it does for a
# while for a session of B that died silently: here an OpenSSH `ssh -R` with
# B's key holds it). B's dvpnd is refused the tcpip-forward, keeps its
# session, says so in its status and log, and asks again with its backoff;
# once the port is free it gets it, and A reaches B through it.
set -euo pipefail
# shellcheck source=relay_topology.sh
. "$(dirname "$0")/relay_topology.sh"
RELAY_B_SIDE=ssh
relay_topology_up
squatter=$B_PID

step "B's dvpnd starts while the port is taken"
relay_b_dvpnd_start
refused="refused tcpip-forward 127\\.0\\.0\\.1:$RELAY_PORT"
retry_for 10 grep -Eq "relay_listen .*$refused" "$DVPND_B_LOG" || fail "B's dvpnd was not refused the listen"
pass "B's dvpnd: $(grep -E -m1 "relay_listen .*$refused" "$DVPND_B_LOG")"
b=$(b_status)
echo "$b" >&2
grep -Eq "^relay_listen .* down .*last error .*$refused" <<<"$b" || fail "B's status does not show the refusal"
pass "B's status: down, the refusal as last error"

step "the port is freed"
stop_pid "$squatter"
t0=$(now_ms)
# shellcheck disable=SC2016  # expanded at each try
retry_for 20 eval 'b_status | grep -Eq "^relay_listen .*  up  "' || fail "B's dvpnd did not get the port"
info "B's dvpnd listens $(($(now_ms) - t0)) ms after the port was freed"
sessions=$(grep -Ec "relay_listen .*: opening session" "$DVPND_B_LOG" || true)
[ "$sessions" = 1 ] || fail "B's dvpnd opened $sessions sessions, expected one (the listen is retried on it)"
pass "the listen was retried on B's one session"
expect_rc 0 "GET through the relay from A" http_get_ok "$SRVB_DIRECT_IP"
