#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Silent link death: every packet of the SSH path to gwB dropped, no RST, no
# FIN (iptables DROP inside gwB, both directions). With ssh.keepalive 2s the
# session must be declared dead within a bound derived from the code, the
# download through it reset (never left hanging), a connection opened during
# the outage reset within connect_timeout + 1 s (not queued behind the dead
# session), and once the path is back the next connection works without
# restarting dvpnd.
#
# The bound (daemon/net/socket_options.cpp set_dead_peer_detection with
# idle = keepalive = 2 s; daemon/ssh/session.cpp): TCP keepalive after 2 s
# idle, 3 probes 1 s apart (interval = max(1, idle/3)), and TCP_USER_TIMEOUT
# = idle + 3 * interval = 5 s for unacknowledged data. Something is sent at
# the latest one tick after the drop (the session's tick = keepalive = 2 s
# runs libssh2_keepalive_send, whose own 2 s interval counts in whole seconds:
# +1 s), so the socket fails at most 2 + 1 + 5 = 8 s after the drop; +1 s
# slack for a busy 2-core box.
set -euo pipefail
KEEPALIVE_S=2
GW_SSH_EXTRA=("keepalive: ${KEEPALIVE_S}s")
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

IDLE_S=$KEEPALIVE_S
INTERVAL_S=$((IDLE_S / 3 > 1 ? IDLE_S / 3 : 1))
USER_TIMEOUT_S=$((IDLE_S + 3 * INTERVAL_S))
DEAD_BOUND_MS=$(((KEEPALIVE_S + 1 + USER_TIMEOUT_S + 1) * 1000))
OUTAGE_RESET_S=$((CONNECT_TIMEOUT_S + 1))
GWB_KEY="$GW_USER@$GWB_WAN:22"
KEY_RE=${GWB_KEY//./\\.}

count() { grep -cE -- "$1" "$DVPND_LOG" || true; }
link_down() {
  ns_exec gwB iptables -I INPUT -p tcp --dport 22 -j DROP
  ns_exec gwB iptables -I OUTPUT -p tcp --sport 22 -j DROP
}
link_up() {
  ns_exec gwB iptables -D INPUT -p tcp --dport 22 -j DROP
  ns_exec gwB iptables -D OUTPUT -p tcp --sport 22 -j DROP
}
_not_alive() { ! _netlib_alive "$1"; }
elapsed_of() { sed -nE 's/.* elapsed=([0-9.]+)s.*/\1/p' "$GW_DIR/$1.log"; }

step "a download through gwB at 1 MiB/s (netcat mode)"
client_bg dl 120 bulk "$SRVB_IP" "$BULK_PORT" --recv 256MiB --rate 1MiB --rcvbuf 64KiB \
  --progress-file "$GW_DIR/dl.progress" --timeout 110
retry_for 15 progress_at_least dl 2097152 || { bg_finish dl || true; fail "the download did not start"; }
pass "flowing ($(cat "$GW_DIR/dl.progress") bytes)"
sessions_before=$(gwb_ssh_sockets)
info "$sessions_before SSH connection(s) from gwA to gwB"

step "gwB drops every SSH packet, both ways (no RST)"
link_down
t_drop=$(now_ms)
at_drop=$(cat "$GW_DIR/dl.progress")
sleep 1
info "1 s after the drop: $(($(cat "$GW_DIR/dl.progress") - at_drop)) more bytes arrived"
client_bg during 20 expect-reset "$SRVB_IP" "$HTTP_PORT" --within "$OUTAGE_RESET_S"

retry_for "$(((DEAD_BOUND_MS + 10000) / 1000))" _not_alive "${BG_PIDS[dl]}" ||
  fail "the download still runs $(((DEAD_BOUND_MS + 10000) / 1000)) s after the link died: the dead session was never noticed"
dead_ms=$(($(now_ms) - t_drop))
expect_rc 3 "the download through the dead link is reset (exit 3 = RST)" bg_finish dl
info "the download was reset $(awk -v m="$dead_ms" 'BEGIN { printf "%.2f", m / 1000 }') s after the drop (bound $((DEAD_BOUND_MS / 1000)) s)"
[ "$dead_ms" -le "$DEAD_BOUND_MS" ] ||
  fail "the dead link was noticed ${dead_ms} ms after the drop, expected within ${DEAD_BOUND_MS} ms"
pass "dead session noticed within the bound: ${dead_ms} ms"
DIED="^dvpnd: warning: gateway $KEY_RE: session [0-9]+ died: (connection to $KEY_RE lost|sending to $KEY_RE failed): Connection timed out$"
retry_for 2 dvpnd_log_has "$DIED" || fail "no 'session N died: ... Connection timed out' warning"
pass "$(grep -m1 -E "$DIED" "$DVPND_LOG" | sed 's/^dvpnd: //')"
DL_LINE="^dvpnd: warning: conn 192\.168\.10\.2:[0-9]+ -> 10\.20\.0\.2:$BULK_PORT site=siteb mode=netcat up=[0-9]+ down=[0-9]+ time=[0-9.]+s end=session-died: (connection to $KEY_RE lost|sending to $KEY_RE failed): Connection timed out \(reset\)$"
retry_for 2 dvpnd_log_has "$DL_LINE" || fail "the download's conn line does not say session-died: ... (reset)"
pass "$(grep -m1 -E "$DL_LINE" "$DVPND_LOG" | sed 's/^dvpnd: //')"

expect_rc 0 "a connection opened 1 s into the outage was reset within connect_timeout + 1 s" bg_finish during
during_s=$(elapsed_of during)
info "  (after ${during_s} s)"

step "a new connection once the session is known dead"
out=$(client 20 expect-reset "$SRVB_IP" "$HTTP_PORT" --within "$OUTAGE_RESET_S") ||
  fail "not reset within connect_timeout + 1 s (${OUTAGE_RESET_S} s): $out"
after_s=$(sed -nE 's/.* elapsed=([0-9.]+)s.*/\1/p' <<<"$out")
pass "reset within connect_timeout + 1 s (${OUTAGE_RESET_S} s): after ${after_s} s"
retry_for 2 dvpnd_log_has "^dvpnd: error: gateway $KEY_RE: .*\(next attempt in 1s\)$" ||
  fail "the attempt during the outage did not fail with a 1 s backoff"
pass "$(grep -m1 -E "^dvpnd: error: gateway $KEY_RE: .*\(next attempt in" "$DVPND_LOG" | sed 's/^dvpnd: //')"

step "the path back: the next connection works, same dvpnd"
link_up
t_up=$(now_ms)
retry_for 10 http_get_ok "$SRVB_IP" >/dev/null 2>&1 || fail "site B not served within 10 s of the path's return"
back_ms=$(($(now_ms) - t_up))
_netlib_alive "$DVPND_PID" || fail "dvpnd is gone"
info "site B served $(awk -v m="$back_ms" 'BEGIN { printf "%.2f", m / 1000 }') s after the path came back"
# At most the 1 s backoff left from the failed attempt, a handshake and a GET.
[ "$back_ms" -le 3000 ] || fail "site B served only ${back_ms} ms after the path came back (expected within 3 s)"
pass "served again after ${back_ms} ms, no restart"
expect_rc 0 "and the next one too" http_get_ok "$SRVB_IP"
