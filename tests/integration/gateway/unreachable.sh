#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Gateway B unreachable. (1) Its SSH port blackholed: 10 clients that arrive
# together are all reset within connect_timeout (+1.5 s), and meanwhile gwA has
# at most three TCP connection attempts to gwB:22 in flight (one per four waiting). (2) gwB's sshd
# stopped (connection refused): reset within connect_timeout too. Site C is
# not affected.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up


step "blackhole gwB:22"
ns_exec gwB iptables -A INPUT -p tcp --dport 22 -j DROP
ns_exec gwB ip6tables -A INPUT -p tcp --dport 22 -j DROP
client_bg waiters 30 expect-reset "$SRVB_IP" "$HTTP_PORT" --count 10 --concurrency 10 --within "$RESET_LIMIT_S"
attempting() { [ "$(gwb_ssh_sockets)" -ge 1 ]; }
retry_for 2 attempting || fail "dvpnd made no connection attempt to gwB:22"
max=0
for _ in $(seq 10); do
  n=$(gwb_ssh_sockets)
  [ "$n" -gt "$max" ] && max=$n
  sleep 0.15
done
info "at most $max TCP connection(s) to gwB:22 while 10 clients waited"
# One handshake per four waiting connections, at most four in flight: 10 waiting, 3.
[ "$max" -le 3 ] || fail "at most 3 handshakes in flight for 10 waiting connections: saw $max connections to gwB:22"
pass "one connection attempt in flight for 10 waiting clients"
expect_rc 0 "10 waiting clients reset within ${RESET_LIMIT_S}s" bg_finish waiters
expect_rc 0 "site C unaffected" http_get_ok "$SRVC_IP6"

step "gwB reachable again, but its sshd stopped"
ns_exec gwB iptables -D INPUT -p tcp --dport 22 -j DROP
ns_exec gwB ip6tables -D INPUT -p tcp --dport 22 -j DROP
sshd_stop gwB 22
expect_rc 0 "reset within ${RESET_LIMIT_S}s with sshd down" \
  client 15 expect-reset "$SRVB_IP" "$HTTP_PORT" --within "$RESET_LIMIT_S"
