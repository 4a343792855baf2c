#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# A direct-mode destination the far end can neither reach nor get refused by
# (SYNs dropped at srvB) leaves libssh2 1.10 stuck in that channel open, and
# it opens one channel at a time per session. The stuck client is reset at
# connect_timeout; a connection queued behind it on the same session is moved
# to another session (as soon as the open is slow, not at connect_timeout)
# and served, not reset with it.
set -euo pipefail
GW_SSH_EXTRA=("max_sessions_per_gateway: 1")   # one session: the second connection must queue behind the first
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up
dst=$(siteb_ip direct)
BLACKHOLE_PORT=7010
ns_exec srvB iptables -A INPUT -p tcp --dport "$BLACKHOLE_PORT" -j DROP

step "warm the session, then a connection to a blackholed port and one to a good port right behind it"
expect_rc 0 "GET via direct opens the session" http_get_ok "$dst"
client_bg stuck 30 expect-reset "$dst" "$BLACKHOLE_PORT" --within $((CONNECT_TIMEOUT_S + 5))
sleep 0.3   # its open is in flight on the only session
t0=$(now_ms)
expect_rc 0 "a GET queued behind the stuck open is served by another session" \
  client $((3 * CONNECT_TIMEOUT_S + 5)) get "$dst" "$HTTP_PORT" --path "$GW_HTTP_PATH" --expect-file "$GW_HTTP_FILE"
served=$(($(now_ms) - t0))
[ "$served" -lt $((CONNECT_TIMEOUT_S * 1000)) ] ||
  fail "the queued GET took $served ms: it should move as soon as the open ahead of it is slow, not at connect_timeout"
pass "served $served ms after it connected (connect_timeout ${CONNECT_TIMEOUT_S} s)"
expect_rc 0 "the blackholed connection is reset" bg_finish stuck
dvpnd_log_has "stuck on a channel open past connect_timeout" ||
  fail "dvpnd did not report the stalled session"

step "while the session stays stuck, new connections go to the other session at once"
get_within "$dst" 2000 "the stalled session should get no new opens"
