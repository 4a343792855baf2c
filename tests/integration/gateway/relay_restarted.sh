#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The relay's sshd dies with every session it carried (A's and B's), then
# comes back. While it is down A's connections fail (RST); once it is back,
# B's dvpnd reconnects and listens again, and A's next connections work,
# without restarting either dvpnd.
set -euo pipefail
# shellcheck source=relay_topology.sh
. "$(dirname "$0")/relay_topology.sh"
relay_topology_up

expect_rc 0 "GET through the relay before" http_get_ok "$SRVB_DIRECT_IP"
step "kill the relay's sshd and all its sessions"
relay_sshd_kill
retry_for 5 eval '! _relay_listens' || fail "the relay still listens on $RELAY_PORT"
expect_rc 0 "RST while the relay is down" \
  client 15 expect-reset "$SRVB_DIRECT_IP" "$HTTP_PORT" --within "$RESET_LIMIT_S"
step "restart the relay's sshd"
relay_sshd_restart
t0=$(now_ms)
relay_wait_listen 35 || fail "B did not listen on the relay again"
info "B listens again $(($(now_ms) - t0)) ms after the restart"
get_works_within 35 "$SRVB_DIRECT_IP" || fail "A could not reach B through the restarted relay"
pass "GET through the relay after its restart, $(($(now_ms) - t0)) ms after it"
expect_rc 0 "netcat mode too" http_get_ok "$SRVB_IP"
_netlib_alive "$DVPND_PID" || fail "gwA's dvpnd died"
_netlib_alive "$B_PID" || fail "gwB's side died"
pass "neither dvpnd restarted"
