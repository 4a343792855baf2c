#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# ssh.warm_sessions: while a gateway carries a connection, dvpnd keeps that
# many sessions to it ready (for the next burst of opens, one per session per
# round trip), keeps them past idle_timeout while it carries anything, and
# closes them all once it has carried nothing for idle_timeout. A gateway
# that was never used has none.
set -euo pipefail
WARM=6
IDLE_S=2
GW_SSH_EXTRA=("warm_sessions: $WARM" "idle_timeout: ${IDLE_S}s")
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up
dst=$(siteb_ip direct)

# sessions_become N SECONDS — gwA holds N SSH connections to gwB within SECONDS.
sessions_become() {
  local deadline=$((SECONDS + $2))
  while [ "$(gwb_ssh_sockets)" != "$1" ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

step "unused: no session"
[ "$(gwb_ssh_sockets)" = 0 ] || fail "$(gwb_ssh_sockets) sessions before any connection"
pass "none"

step "one held connection: $WARM sessions come up"
hold_open held "$dst" 1
sessions_become "$WARM" 10 || fail "$(gwb_ssh_sockets) sessions with a connection held, expected $WARM"
pass "$WARM sessions"

step "past idle_timeout (${IDLE_S}s) while the connection is held: still $WARM"
sleep $((IDLE_S * 2))
[ "$(gwb_ssh_sockets)" = "$WARM" ] || fail "$(gwb_ssh_sockets) sessions after idle_timeout, expected $WARM kept warm"
pass "kept"

step "a burst of 24 GETs at once is served on them"
out=$(client 60 get "$dst" "$HTTP_PORT" --path "$GW_HTTP_PATH" --expect-file "$GW_HTTP_FILE" \
  --count 24 --concurrency 24) || fail "burst: $out"
pass "$out"

step "released: every session closes after idle_timeout"
hold_release held || fail "the held connection did not end cleanly"
sessions_become 0 $((IDLE_S * 3 + 5)) || fail "$(gwb_ssh_sockets) sessions left with nothing carried"
pass "all closed"
