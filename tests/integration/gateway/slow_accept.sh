#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# A destination that accepts slowly (Python's http.server: a listen backlog
# of 5) and 50 GETs to it at once, in direct mode. The far sshd's connects
# beyond the backlog see their SYN dropped and retried a second later, so
# those channel opens take over a second; libssh2 1.10 opens one channel at
# a time per session, so before the opens queued behind a slow one were
# held up with it and 5-17 of 50 were reset at connect_timeout. Plain
# routing only retries the SYN: every GET must be served, five rounds in a
# row, in both modes. dvpnd's default connect_timeout (5 s) here, not the
# other tests' 3 s: a connect whose SYN is dropped twice takes 3 s (retries
# after 1 s and 2 s more), and the open waiting for it keeps its own
# deadline (a destination that never answers is reset at connect_timeout).
set -euo pipefail
GW_SSH_EXTRA=("max_sessions_per_gateway: 2")   # few sessions: opens queue behind slow ones
CONNECT_TIMEOUT_S=5
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up
SLOW_PORT=8080
ROUNDS=5
GETS=50

step "srvB: python3 -m http.server on :$SLOW_PORT (backlog 5)"
spawn srvB "$GW_DIR/http-server.log" "$PY" -m http.server "$SLOW_PORT" --directory "$(dirname "$GW_HTTP_FILE")"
wait_port srvB "$SLOW_PORT" 10 || fail "http.server does not listen on :$SLOW_PORT"
page=/$(basename "$GW_HTTP_FILE")

for mode in direct netcat; do
  dst=$(siteb_ip "$mode")
  for round in $(seq "$ROUNDS"); do
    step "$mode, round $round: $GETS GETs at once through dvpnd"
    out=$(client 60 get "$dst" "$SLOW_PORT" --path "$page" --expect-file "$GW_HTTP_FILE" \
      --count "$GETS" --concurrency "$GETS" --timeout 30) || fail "$mode, round $round: $out"
    pass "$mode, round $round: $out"
  done
done
if dvpnd_log_has "stuck on a channel open past connect_timeout"; then
  fail "a slow open was held to connect_timeout"
fi
pass "$((2 * ROUNDS * GETS)) GETs, none reset"
