#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# A site with two paths to its gateway (#!A,B): gwB's IPv4 address, then its
# IPv6 address. With new SSH connections to the IPv4 address dropped (SYNs
# unanswered), the first connection waits for that path's connect_timeout
# and is handed to the second path; the next ones go to the second path at
# once. The failed path keeps retrying in the background, and once it works
# again new connections return to it, while a transfer running on the
# second path finishes intact.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up
dst=$SRVB_DIRECT_IP
path1="$GW_USER@$GWB_WAN:22"
path2="$GW_USER@[$GWB_WAN6]:22"

step "path 1 down: new TCP connections to gwB's IPv4 sshd dropped"
ns_exec gwB iptables -A INPUT -p tcp -d "$GWB_WAN" --dport 22 -m conntrack --ctstate NEW -j DROP
hosts_drop failover.hosts "10.21.0.1	sitefo	#!$path1,$path2	subnet=$dst/32	mode=direct"
retry_for 5 dvpnd_log_has "hosts reloaded .*: 4 sites" || fail "dvpnd did not reload the hosts map"

step "the first connection waits for path 1 and is served by path 2"
get_within "$dst" $((CONNECT_TIMEOUT_S * 1000 + 3000)) "path 1's connect_timeout, then path 2"

step "the next connections skip the failing path"
get_within "$dst" 2500 "it should go to path 2 at once (path 1 takes connect_timeout)"
[ "$(connections_via "$path2")" -ge 2 ] || fail "path 2 did not carry the connections"
client_bg long 60 bulk "$dst" "$BULK_PORT" --send 6MiB --recv 6MiB --rate 1MiB --progress-file "$GW_DIR/long.progress"
retry_for 10 progress_at_least long 65536 || fail "the transfer on path 2 did not start"

step "path 1 back: new connections return to it after its next probe"
ns_exec gwB iptables -D INPUT -p tcp -d "$GWB_WAN" --dport 22 -m conntrack --ctstate NEW -j DROP
before=$(connections_via "$path1")
back() {
  http_get_ok "$dst" >/dev/null 2>&1 || return 1
  [ "$(connections_via "$path1")" -gt "$before" ]
}
retry_for 20 back || fail "no connection went to path 1 within 20 s of its return"
pass "a new connection went to path 1 again"
expect_rc 0 "the transfer on path 2 finished intact (SHA-256 both ways)" bg_finish long
