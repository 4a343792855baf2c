#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Site B's endpoint is a DNS name (gwb.dvpn.test, served by a dnsmasq of the
# test's own on gwC) that first resolves to gwB's address X. Traffic goes to
# X. Then gwB is renumbered: the name now gives a second address Y, and X
# goes dead (every packet to or from X:22 dropped, no RST), so the session on
# X dies by keepalive. The next session must look the name up again and go
# to Y at once: gwB's sshd sees the connection arrive on Y, and not one SYN
# reaches X after the change (a cached X would cost connect_timeout and a
# reset). The other halves of re-resolution have tests of their own: every
# address of a name tried in order (dead_first_address.sh), a hanging lookup
# holding up no other gateway (slow_dns.sh).
set -euo pipefail
GW_PREFIX=${GW_PREFIX:-dvn}   # /etc/netns/PREFIX-gwA is ours alone
GW_START_DVPND=0
KEEPALIVE_S=2
GW_SSH_EXTRA=("keepalive: ${KEEPALIVE_S}s")
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
# shellcheck source=netns_etc.sh
. "$(dirname "$0")/netns_etc.sh"
gateway_topology_up

NAME=gwb.dvpn.test
X=$GWB_WAN
Y=198.51.100.4
# dead_link.sh's bound (which that test holds dvpnd to): a tick + 1 s of
# libssh2's whole seconds + TCP_USER_TIMEOUT (idle + 3 probes 1 s apart) + 1 s.
DEAD_BOUND_S=$((KEEPALIVE_S + 1 + KEEPALIVE_S + 3 + 1))

# sshd_conns_on ADDR — connections from gwA that gwB's sshd logged as arriving on ADDR:22.
sshd_conns_on() {
  grep -cE "Connection from 198\.51\.100\.1 port [0-9]+ on ${1//./\\.} port 22( |$)" "$(sshd_log gwB 22)" || true
}
# gwb_established_on ADDR — gwB's established sshd sockets on ADDR:22.
gwb_established_on() { ns_exec gwB ss -tnH state established "( src $1 and sport = :22 )" | wc -l; }
# no_session_to ADDR — gwA holds no SSH connection to ADDR:22 (every session on it has ended).
no_session_to() { [ -z "$(ns_exec gwA ss -tnH "( dst $1 and dport = :22 )")" ]; }
# syns_to_x — SYNs to X:22 gwB has dropped since the renumbering.
syns_to_x() { ns_exec gwB iptables -nvxL INPUT | awk -v x="$X" '$3 == "DROP" && $9 == x && /tcp dpt:22 flags:/ {print $1}'; }

step "$NAME -> $X from a dnsmasq on gwC ($GWC_WAN); site B's endpoint is $NAME"
netns_dns_up gwC "$GWC_WAN" gwA
netns_dns_set "$NAME" "$X"
retry_for 5 netns_resolves gwA "$NAME" "$X" || fail "setup: $NAME does not resolve to $X in gwA"
siteb_endpoint "$NAME"
dvpnd_start
pass "$(ns_exec gwA getent ahosts "$NAME" | head -1)"

step "traffic through site B goes to $X"
expect_rc 0 "GET via $NAME" http_get_ok "$SRVB_IP"
[ "$(sshd_conns_on "$X")" -ge 1 ] || fail "gwB's sshd logged no connection on $X"
[ "$(gwb_established_on "$X")" -ge 1 ] || fail "no established SSH connection on $X:22 at gwB"
pass "gwB's sshd: $(grep -m1 -E "Connection from .* on ${X//./\\.} port 22" "$(sshd_log gwB 22)" | sed 's/^.*Connection/Connection/')"

step "gwB renumbered: $NAME -> $Y, and $X dead (its packets dropped both ways, no RST)"
ns_exec gwB ip addr add "$Y/24" dev wan0
netns_dns_set "$NAME" "$Y"
retry_for 5 netns_resolves gwA "$NAME" "$Y" || fail "$NAME does not resolve to $Y in gwA after the change"
pass "$NAME now resolves to $Y in gwA"
# A SYN-only rule first, so its counter tells new connections to X apart.
ns_exec gwB iptables -I INPUT 1 -d "$X" -p tcp --dport 22 --syn -j DROP
ns_exec gwB iptables -A INPUT -d "$X" -p tcp --dport 22 -j DROP
ns_exec gwB iptables -A OUTPUT -s "$X" -p tcp --sport 22 -j DROP
t_dead=$(now_ms)
KEY_RE="$GW_USER@${NAME//./\\.}:22"
DIED="gateway $KEY_RE: session [0-9]+ died: .*Connection timed out"
retry_for $((DEAD_BOUND_S + 10)) dvpnd_log_has "$DIED" ||
  fail "the session on $X was not declared dead within $((DEAD_BOUND_S + 10)) s"
dead_ms=$(($(now_ms) - t_dead))
info "$(grep -m1 -E "$DIED" "$DVPND_LOG" | sed 's/^dvpnd: //')"
pass "the session on the dead $X ended $dead_ms ms after it went dead"
# The first GET's burst may have started a second session on X; it dies the
# same way a moment later, and a GET it took would be reset with it.
retry_for $((DEAD_BOUND_S + 10)) no_session_to "$X" || fail "gwA still has a session on the dead $X"

step "the next session looks $NAME up again and goes to $Y"
# A new session and a GET; trying X first would take connect_timeout at least.
get_within "$SRVB_IP" $((CONNECT_TIMEOUT_S * 1000)) "connect_timeout ${CONNECT_TIMEOUT_S}s: was the old address tried first?"
[ "$(sshd_conns_on "$Y")" -ge 1 ] || fail "gwB's sshd logged no connection on $Y"
[ "$(gwb_established_on "$Y")" -ge 1 ] || fail "no established SSH connection on $Y:22 at gwB"
pass "gwB's sshd: $(grep -m1 -E "Connection from .* on ${Y//./\\.} port 22" "$(sshd_log gwB 22)" | sed 's/^.*Connection/Connection/')"
syns=$(syns_to_x)
[ "$syns" = 0 ] || fail "$syns SYN(s) to the old address $X:22 after the change: the old address was used"
pass "no SYN to $X:22 since the change (a cached address would have been tried)"
expect_rc 0 "and the next GET (same session on $Y)" http_get_ok "$SRVB_IP"
_netlib_alive "$DVPND_PID" || fail "dvpnd is gone"
