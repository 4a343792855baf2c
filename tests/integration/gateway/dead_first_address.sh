#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Site B's endpoint is a name with two addresses (gwA's /etc/hosts): the first,
# 198.51.100.3, is blackholed (gwB drops its SYNs), the second is gwB's sshd.
# dvpnd tries them in order, the first for its share of connect_timeout (half
# of it here), and the connection goes through within connect_timeout. A
# connect bounded only by connect_timeout as a whole spent all of it on the
# dead address and reset the client.
set -euo pipefail
GW_PREFIX=${GW_PREFIX:-dvn}   # /etc/netns/PREFIX-gwA is ours alone
GW_START_DVPND=0
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
# shellcheck source=netns_etc.sh
. "$(dirname "$0")/netns_etc.sh"
gateway_topology_up

DEAD=198.51.100.3
step "gwb-multi: $DEAD (blackholed) first, then $GWB_WAN"
ns_exec gwB ip addr add "$DEAD/24" dev wan0
ns_exec gwB iptables -A INPUT -d "$DEAD" -p tcp --dport 22 -j DROP
netns_etc gwA hosts "127.0.0.1 localhost
$DEAD gwb-multi
$GWB_WAN gwb-multi"
order=$(ns_exec gwA getent ahostsv4 gwb-multi | awk '$2 == "STREAM" {print $1}' | paste -sd' ')
[ "$order" = "$DEAD $GWB_WAN" ] || fail "setup: getaddrinfo gives gwb-multi as '$order', expected '$DEAD $GWB_WAN'"
rc=0; ns_exec gwA timeout 2 nc -z -w 1 "$DEAD" 22 || rc=$?
[ "$rc" != 0 ] || fail "setup: $DEAD:22 answers"
pass "getaddrinfo order: $order; $DEAD:22 does not answer"
siteb_endpoint gwb-multi
dvpnd_start

step "first connection to site B (new session: the dead address first)"
t=$(now_ms)
expect_rc 0 "GET through dvpnd via gwb-multi" http_get_ok "$SRVB_IP"
ms=$(($(now_ms) - t))
info "served in ${ms} ms (connect_timeout ${CONNECT_TIMEOUT_S}s)"
[ "$ms" -lt $((CONNECT_TIMEOUT_S * 1000)) ] || fail "took ${ms} ms, more than connect_timeout"
[ "$ms" -ge $((CONNECT_TIMEOUT_S * 1000 / 2 - 300)) ] ||
  fail "took only ${ms} ms: was $DEAD tried first, for its half of connect_timeout?"
dvpnd_log_has "connecting to $DEAD:22 \(address 1 of 2" || fail "dvpnd did not try $DEAD first"
dvpnd_log_has "$DEAD:22: no answer within its share of connect_timeout; trying the next address" ||
  fail "dvpnd's log does not say it gave up on $DEAD"
dvpnd_log_has "connecting to $GWB_WAN:22 \(address 2 of 2\)" || fail "dvpnd did not try $GWB_WAN second"
pass "dvpnd logged: $(grep -m1 'trying the next address' "$DVPND_LOG" | sed 's/.*dvpnd: //')"
t=$(now_ms)
expect_rc 0 "a second GET (the session is up)" http_get_ok "$SRVB_IP"
ms=$(($(now_ms) - t))
[ "$ms" -lt 1000 ] || fail "the second GET took ${ms} ms"
pass "second GET in ${ms} ms"
