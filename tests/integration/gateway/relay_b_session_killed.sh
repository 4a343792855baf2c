#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The relay-side process of B's own session (its tcpip-forward) is killed:
# the relay stops listening, B's dvpnd sees its session die, reconnects
# after its backoff and listens again, its status says so, and A's next
# connection works.
set -euo pipefail
# shellcheck source=relay_topology.sh
. "$(dirname "$0")/relay_topology.sh"
[ "$RELAY_B_SIDE" = dvpnd ] || { echo "needs B's dvpnd (RELAY_B_SIDE=dvpnd)" >&2; exit 77; }
relay_topology_up

expect_rc 0 "GET through the relay before" http_get_ok "$SRVB_DIRECT_IP"
step "kill the relay's sshd processes of B's session"
# The listening process of B's forward, and its session's monitor.
victims=$(ns_exec relay ss -ltnpH "( sport = :$RELAY_PORT )" | grep -Eo 'pid=[0-9]+' | cut -d= -f2 | sort -u)
[ -n "$victims" ] || fail "no process listens on the relay's $RELAY_PORT"
for pid in $victims; do victims+=" $(ps -o ppid= -p "$pid" | tr -d ' ')"; done
info "killing $victims"
# shellcheck disable=SC2086
kill -KILL $victims
retry_for 5 eval '! _relay_listens' || fail "the relay still listens on $RELAY_PORT"
retry_for 5 eval 'grep -Eq "relay_listen .*: .*lost" "$DVPND_B_LOG"' || fail "B's dvpnd did not notice its session died"
pass "B's dvpnd: $(grep -E -m1 "relay_listen .*lost" "$DVPND_B_LOG")"
t0=$(now_ms)
relay_wait_listen 10 || fail "B did not listen on the relay again"
info "B listens again $(($(now_ms) - t0)) ms later"
b=$(b_status)
echo "$b" >&2
grep -Eq "^relay_listen .* up .*last error .*lost" <<<"$b" || fail "B's status: not up again with the last error"
pass "B's status: up again, the last error shown"
expect_rc 0 "A's next GET through the relay" http_get_ok "$SRVB_DIRECT_IP"
expect_rc 0 "netcat mode too" http_get_ok "$SRVB_IP"
