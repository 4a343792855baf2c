#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# One gateway's name hangs in DNS (gwA's resolver is gwC, which drops port 53;
# resolv.conf: 10 s x 2 attempts). While dvpnd waits for that lookup, a site
# whose endpoint is an IP literal and one whose name comes from /etc/hosts
# both connect at once (well within connect_timeout), and the connection to
# the hanging one is reset within connect_timeout. Boost 1.81 runs every
# async_resolve of a process on one thread: without dvpnd's own lookups
# everything waited behind the hung name.
set -euo pipefail
GW_PREFIX=${GW_PREFIX:-dvn}   # /etc/netns/PREFIX-gwA is ours alone
GW_START_DVPND=0
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
# shellcheck source=netns_etc.sh
. "$(dirname "$0")/netns_etc.sh"
gateway_topology_up

SLOW_NAME=gw-slow.example
step "gwA's DNS server ($GWC_WAN) drops every query; gwc-byname is in gwA's /etc/hosts"
ns_exec gwC iptables -A INPUT -p udp --dport 53 -j DROP
ns_exec gwC iptables -A INPUT -p tcp --dport 53 -j DROP
netns_etc gwA resolv.conf "nameserver $GWC_WAN
options timeout:10 attempts:2"
netns_etc gwA hosts "127.0.0.1 localhost
$GWC_WAN gwc-byname"
t0=$(now_ms)
rc=0; ns_exec gwA timeout 2 getent ahosts "$SLOW_NAME" >/dev/null || rc=$?
[ "$rc" = 124 ] || fail "setup: the lookup of $SLOW_NAME did not hang (getent exit $rc)"
ns_exec gwA getent ahosts gwc-byname | grep -q "^$GWC_WAN" || fail "setup: gwc-byname not in gwA's /etc/hosts"
pass "$SLOW_NAME hangs, gwc-byname resolves from the hosts file"

hosts_append "10.31.0.1	slowsite	#!$SLOW_NAME"
hosts_append "10.30.0.1	sitec-name	#!gwc-byname"
gw_known_hosts_lines "$(_netlib_sshd_dir gwC 22)/hostkey.pub" gwc-byname >>"$GW_DIR/known_hosts"
dvpnd_start

step "a connection to the site behind $SLOW_NAME starts its lookup"
t_slow=$(now_ms)
client_bg slow 30 expect-reset "$SRVC_IP_EXTRA" "$HTTP_PORT" --within "$RESET_LIMIT_S"
sleep 0.5

# timed_get NAME DST — http_get_ok DST; fails unless it took less than connect_timeout.
timed_get() {
  local t ms
  t=$(now_ms)
  expect_rc 0 "$1: GET through dvpnd" http_get_ok "$2"
  ms=$(($(now_ms) - t))
  [ "$ms" -lt $((CONNECT_TIMEOUT_S * 1000)) ] ||
    fail "$1: took ${ms} ms, connect_timeout is ${CONNECT_TIMEOUT_S}s"
  pass "$1: served in ${ms} ms (first connection: lookup, TCP, SSH handshake) while $SLOW_NAME resolves"
}
timed_get "siteb (endpoint $GWB_WAN, IP literal)" "$SRVB_IP"
timed_get "sitec-name (endpoint gwc-byname, /etc/hosts)" "$SRVC_IP"
timed_get "sitec (endpoint [$GWC_WAN6], IPv6 literal)" "$SRVC_IP6"
elapsed=$(($(now_ms) - t_slow))
[ "$elapsed" -lt 20000 ] || fail "the checks took ${elapsed} ms: the lookup of $SLOW_NAME may have ended meanwhile"
info "all of it ${elapsed} ms after the lookup of $SLOW_NAME began (it hangs for 20 s)"

expect_rc 0 "the connection to $SLOW_NAME's site reset within ${RESET_LIMIT_S}s" bg_finish slow
retry_for 2 dvpnd_log_has "cannot resolve $SLOW_NAME" || fail "no 'cannot resolve $SLOW_NAME' in dvpnd's log"
pass "dvpnd logged: $(grep -m1 "cannot resolve $SLOW_NAME" "$DVPND_LOG" | sed 's/.*dvpnd: //')"
_netlib_alive "$DVPND_PID" || fail "dvpnd exited"
info "(startup to here: $(($(now_ms) - t0)) ms)"
