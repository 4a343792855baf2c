#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Pool exhausted (max_channels_per_session 2, max_sessions_per_gateway 1, both
# held by long-lived connections): a new connection waits for a free channel up
# to connect_timeout, then gets RST; one that gets a channel within that time
# is served.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
GW_SSH_EXTRA=("max_channels_per_session: 2" "max_sessions_per_gateway: 1")
gateway_topology_up

step "hold both channels of site B's only session"
hold_open busy "$SRVB_IP" 2
expect_rc 0 "third connection reset after waiting ~connect_timeout" \
  client 15 expect-reset "$SRVB_IP" "$HTTP_PORT" --not-before "$((CONNECT_TIMEOUT_S - 1))" \
  --within "$RESET_LIMIT_S"

step "a waiting connection gets the channel freed meanwhile"
client_bg waiter 20 get "$SRVB_IP" "$HTTP_PORT" --path "$GW_SMALL_PATH" --expect-file "$GW_SMALL_FILE"
sleep 1
_netlib_alive "${BG_PIDS[waiter]}" || { bg_finish waiter || true; fail "the waiting connection did not wait"; }
expect_rc 0 "held connections still work, then close" hold_release busy
expect_rc 0 "waiting connection served once a channel was free" bg_finish waiter
