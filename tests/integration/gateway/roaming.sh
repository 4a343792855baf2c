#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# gwA roams, as a laptop running dvpnd for its own connections does: with a
# download through site B running, its WAN address 198.51.100.1 goes away
# (and with it the route to gwB), and a second later it has 203.0.113.5 on
# another network, whose router (203.0.113.1, put on gwB to keep the drawing
# small) leads to gwB. The kernel does not end a TCP connection whose local
# address vanished (it can no longer send, and hears nothing); dvpnd watches
# the addresses and routes (rtnetlink) and, on the change, ends every session
# whose own address is gone. Checked: the download is reset within
# LINK_BOUND_MS of the removal (not the keepalive bound of dead_link.sh,
# ssh.keepalive stays 2 s here), a connection opened while gwA has no address
# is reset at once (never left hanging), and a connection opened right after
# the new address appears is served at once from it (gwB's sshd sees it come
# from there), by the same dvpnd: the address's arrival ended the backoff of
# the handshake that failed meanwhile.
# Then a longer absence (no address at all for 12 s, connections asking all
# along): each is reset at once and the failed handshakes back off; back on
# the first network, the first connection is served within LINK_BOUND_MS of
# the address's return, whatever backoff was running.
set -euo pipefail
KEEPALIVE_S=2
GW_SSH_EXTRA=("keepalive: ${KEEPALIVE_S}s")
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

OLD=198.51.100.1 NEW=203.0.113.5 ROUTER=203.0.113.1
AWAY_S=12   # the second absence: long enough for the handshake backoff to grow
# The address's removal or return to dvpnd acting on it: rtnetlink's message,
# its handling, a session's end (or a handshake), + slack for a busy box.
LINK_BOUND_MS=1000
KEY_RE="$GW_USER@${GWB_WAN//./\\.}:22"

# sshd_conns_from ADDR — SSH sessions gwB's sshd authenticated from ADDR
# (not the bare TCP connections of a reachability check).
sshd_conns_from() {
  grep -cE "Accepted publickey for $GW_USER from ${1//./\\.} port " "$(sshd_log gwB 22)" || true
}
_not_alive() { ! _netlib_alive "$1"; }
join_new() {
  ns_exec gwA ip addr add "$NEW/24" dev wanb
  ns_exec gwA ip route add 198.51.100.0/24 via "$ROUTER"
}
leave_new() {
  ns_exec gwA ip route del 198.51.100.0/24 via "$ROUTER"
  ns_exec gwA ip addr del "$NEW/24" dev wanb
}
secs() { awk -v m="$1" 'BEGIN { printf "%.2f", m / 1000 }'; }

ns_exec gwB ip addr add "$ROUTER/24" dev wan0

step "a download through gwB at 1 MiB/s, from $OLD"
client_bg dl 120 bulk "$SRVB_IP" "$BULK_PORT" --recv 256MiB --rate 1MiB --rcvbuf 64KiB \
  --progress-file "$GW_DIR/dl.progress" --timeout 110
retry_for 15 progress_at_least dl 2097152 || { bg_finish dl || true; fail "the download did not start"; }
[ "$(sshd_conns_from "$OLD")" -ge 1 ] || fail "gwB's sshd logged no connection from $OLD"
pass "flowing ($(cat "$GW_DIR/dl.progress") bytes), gwB's sshd saw the session come from $OLD"

step "gwA leaves its network: $OLD removed from wanb"
ns_exec gwA ip addr del "$OLD/24" dev wanb   # its subnet's route goes with it
t_gone=$(now_ms)
retry_for 10 _not_alive "${BG_PIDS[dl]}" ||
  fail "the download still runs 10 s after $OLD went: the dead session was never noticed"
dead_ms=$(($(now_ms) - t_gone))
expect_rc 3 "the download on the old address is reset (exit 3 = RST)" bg_finish dl
[ "$dead_ms" -le "$LINK_BOUND_MS" ] ||
  fail "reset $(secs "$dead_ms") s after the address went, expected within $(secs "$LINK_BOUND_MS") s"
pass "reset $(secs "$dead_ms") s after the address went (bound $(secs "$LINK_BOUND_MS") s)"
DIED="^dvpnd: warning: gateway $KEY_RE: session [0-9]+ died: local address ${OLD//./\\.} went away$"
retry_for 2 dvpnd_log_has "$DIED" || fail "no 'session N died: local address $OLD went away' warning"
pass "$(grep -m1 -E "$DIED" "$DVPND_LOG" | sed 's/^dvpnd: //')"

step "a connection while gwA has no address"
client_bg during 20 expect-reset "$SRVB_IP" "$HTTP_PORT" --within "$RESET_LIMIT_S"
expect_rc 0 "reset within ${RESET_LIMIT_S} s" bg_finish during
info "  (after $(sed -nE 's/.* elapsed=([0-9.]+)s.*/\1/p' "$GW_DIR/during.log") s)"

step "gwA joins another: $NEW, route to gwB's network via $ROUTER"
join_new
t_new=$(now_ms)
# At once: the handshake that failed while away backs off for 1 s, unless
# the new address ended that.
get_within "$SRVB_IP" "$LINK_BOUND_MS" "the first connection after $NEW appeared"
[ "$(sshd_conns_from "$NEW")" -ge 1 ] || fail "gwB's sshd logged no connection from $NEW"
pass "gwB's sshd: $(grep -m1 -E "Accepted publickey for $GW_USER from ${NEW//./\\.} port" "$(sshd_log gwB 22)" | sed 's/^.*Accepted/Accepted/')"
_netlib_alive "$DVPND_PID" || fail "dvpnd is gone"
info "served $(secs $(($(now_ms) - t_new))) s after $NEW appeared, $(secs $(($(now_ms) - t_gone))) s after $OLD went (dvpnd pid $DVPND_PID throughout)"
expect_rc 0 "and the next one too" http_get_ok "$SRVB_IP"

step "away for longer: $NEW gone, ${AWAY_S} s without a network, a connection every 0.5 s"
# Once the session is found dead, each handshake fails at once (no route)
# and the next waits 1 s, doubling (up to 30 s); connections meanwhile are
# reset at once, so none may hang.
leave_new
t_away=$(now_ms)
n=0
while [ $(($(now_ms) - t_away)) -lt $((AWAY_S * 1000)) ]; do
  out=$(client 20 expect-reset "$SRVB_IP" "$HTTP_PORT" --within "$RESET_LIMIT_S") ||
    fail "a connection $(secs $(($(now_ms) - t_away))) s into the absence was not reset within ${RESET_LIMIT_S} s: $out"
  n=$((n + 1))
  sleep 0.5
done
pass "$n connections during the absence, each reset within ${RESET_LIMIT_S} s"
NEXT_RE="^dvpnd: error: gateway $KEY_RE: .*\\(next attempt in ([0-9.]+)s\\)$"
backoff_s=$(grep -E "$NEXT_RE" "$DVPND_LOG" | tail -1 | sed -E "s/$NEXT_RE/\\1/")
[ -n "$backoff_s" ] || fail "no failed handshake while away"
info "the last handshake while away: $(grep -E "$NEXT_RE" "$DVPND_LOG" | tail -1 | sed 's/^dvpnd: //')"

step "back on the first network ($OLD)"
from_old=$(sshd_conns_from "$OLD")
ns_exec gwA ip addr add "$OLD/24" dev wanb
t_back=$(now_ms)
# The address's arrival ends the backoff then running; until dvpnd has
# seen it, connections are reset at once.
retry_for 10 http_get_ok "$SRVB_IP" >/dev/null 2>&1 || fail "site B not served within 10 s of the return"
back_ms=$(($(now_ms) - t_back))
[ "$back_ms" -le "$LINK_BOUND_MS" ] ||
  fail "served $(secs "$back_ms") s after the return, expected within $(secs "$LINK_BOUND_MS") s (backoff then running: $backoff_s s)"
[ "$(sshd_conns_from "$OLD")" -gt "$from_old" ] || fail "gwB's sshd saw no new connection from $OLD"
_netlib_alive "$DVPND_PID" || fail "dvpnd is gone"
pass "served $(secs "$back_ms") s after the return (backoff then running: $backoff_s s), from $OLD, same dvpnd"
