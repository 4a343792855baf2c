#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# B's dvpnd stops: nothing listens on the relay's port any more. A's
# connections to site B are reset within connect_timeout and dvpnd says why:
# the relay refused the channel to 127.0.0.1:2201. B's dvpnd starts again and
# A's next connection works, without restarting A's dvpnd.
set -euo pipefail
# shellcheck source=relay_topology.sh
. "$(dirname "$0")/relay_topology.sh"
relay_topology_up

expect_rc 0 "GET through the relay before" http_get_ok "$SRVB_DIRECT_IP"
step "stop gwB's side"
stop_pid "$B_PID"
retry_for 5 eval '! _relay_listens' || fail "the relay still listens on $RELAY_PORT"
# A's sessions to B died with B's side; the next connection needs a new channel.
expect_rc 0 "reset within ${RESET_LIMIT_S}s while B is away" \
  client 15 expect-reset "$SRVB_DIRECT_IP" "$HTTP_PORT" --within "$RESET_LIMIT_S"
want="its channel through relay $DVJ_USER@$RELAY_A:22 ended: far-end-refused"
if ! retry_for 2 dvpnd_log_has "$want"; then
  # A second session may have been mid-handshake when B went: its failure
  # backs the pool off 1 s, and the reset above came from that. The next
  # connection after the backoff must meet the relay's refusal.
  sleep 1.2
  expect_rc 0 "reset within ${RESET_LIMIT_S}s after the backoff" \
    client 15 expect-reset "$SRVB_DIRECT_IP" "$HTTP_PORT" --within "$RESET_LIMIT_S"
  retry_for 2 dvpnd_log_has "$want" || fail "dvpnd's log does not say the relay refused the channel"
fi
pass "dvpnd: $(grep -Eo -m1 "$want.*" "$DVPND_LOG")"
step "gwB's side back"
relay_b_up
get_works_within 20 "$SRVB_DIRECT_IP" || fail "A could not reach B once B was back"
pass "GET through the relay once B is back"
_netlib_alive "$DVPND_PID" || fail "gwA's dvpnd died"
