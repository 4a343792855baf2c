#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# A destination that accepts slowly (Python's http.server: a listen backlog
# of 5) and 50 GETs to it at once, in direct mode. The far sshd's connects
# beyond the backlog see their SYN dropped and retried a second later, so
# those channel opens take over a second; libssh2 1.10 opens one channel at
# a time per session, so before the opens queued behind a slow one were
# held up with it and 5-17 of 50 were reset at connect_timeout. Plain
# routing only retries the SYN: every GET must be served, five rounds in a row.
set -euo pipefail
GW_SSH_EXTRA=("max_sessions_per_gateway: 2")   # few sessions: opens queue behind slow ones
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up
dst=$(siteb_ip direct)
SLOW_PORT=8080
ROUNDS=5
GETS=50

step "srvB: python3 -m http.server on :$SLOW_PORT (backlog 5)"
spawn srvB "$GW_DIR/http-server.log" "$PY" -m http.server "$SLOW_PORT" --bind "$dst" --directory "$(dirname "$GW_HTTP_FILE")"
wait_port srvB "$SLOW_PORT" 10 || fail "http.server does not listen on :$SLOW_PORT"
page=/$(basename "$GW_HTTP_FILE")

for round in $(seq "$ROUNDS"); do
  step "round $round: $GETS GETs at once through dvpnd (direct mode)"
  out=$(client 60 get "$dst" "$SLOW_PORT" --path "$page" --expect-file "$GW_HTTP_FILE" \
    --count "$GETS" --concurrency "$GETS" --timeout 30) || fail "round $round: $out"
  pass "round $round: $out"
done
if dvpnd_log_has "stuck on a channel open past connect_timeout"; then
  fail "a slow open was held to connect_timeout"
fi
pass "$((ROUNDS * GETS)) GETs, none reset"
