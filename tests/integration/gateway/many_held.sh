#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# With the limits raised (sshd MaxSessions 1000, dvpnd max_channels_per_session
# 100), 500 netcat-mode connections are held open at once, spread over at
# least 5 SSH sessions, and each one still echoes a line afterwards.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
GW_SSHD_B_EXTRA=("MaxSessions 1000")
GW_SSH_EXTRA=("max_channels_per_session: 100")
ulimit -n "$(ulimit -Hn)"
gateway_topology_up

step "open 500 echo connections through site B (netcat)"
hold_open held "$SRVB_IP" 500 --concurrency 50 --timeout 120
sessions=$(gwb_ssh_sockets)
info "gwA holds $sessions SSH connections to gwB"
[ "$sessions" -ge 5 ] || fail "500 channels over $sessions SSH sessions: max_channels_per_session 100 not honoured"
pass "500 channels spread over $sessions sessions"
expect_rc 0 "all 500 held connections still work" hold_release held
