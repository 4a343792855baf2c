#!/usr/bin/env bash
# dvpnd end to end against a jailed far end: the gateway tests' network
# (tests/integration/gateway/topology.sh) with gwB's login account replaced by
# one that `dvpn-jail install --allow-direct` set up and `dvpn-jail authorize`
# restricted to site B's subnets. Netcat and direct mode relay (GET,
# half-close), a refused port resets, and a site that points at gwB but lies
# outside the key's subnets is reset too although gwB itself reaches it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# shellcheck source=../gateway/topology.sh
. "$DVPN_SOURCE_ROOT/tests/integration/gateway/topology.sh"

dvj_gateway_far_end

# Two more subnets behind gwB, reachable from it, in no subnet of the key.
ns_exec gwB ip addr add 10.22.0.1/24 dev lan0
ns_exec gwB ip addr add 10.23.0.1/24 dev lan0
ns_exec srvB ip addr add 10.22.0.2/24 dev eth0
ns_exec srvB ip addr add 10.23.0.2/24 dev eth0
for ip in 10.22.0.2 10.23.0.2; do
  ns_exec gwB nc -z -w 2 "$ip" "$HTTP_PORT" || fail "setup: gwB cannot reach $ip"
done

hosts_append "10.22.0.1	outside		#!$DVJ_USER@$GWB_WAN"
hosts_append "10.23.0.1	outside-direct	#!$DVJ_USER@$GWB_WAN:22 mode=direct"
grep -c "#!$DVJ_USER@" "$GW_HOSTS" | grep -qx 4 || fail "setup: hosts file not rewritten"
dvpnd_start

for mode in netcat direct; do
  dst=$(siteb_ip "$mode")
  step "mode $mode to $dst through the jail"
  expect_rc 0 "GET via $mode" http_get_ok "$dst"
  expect_rc 0 "half-close via $mode: 100 KiB request, 1 MiB reply after EOF" \
    client 30 halfclose "$dst" "$AFTER_EOF_PORT" --send 100KiB --reply 1MiB --timeout 25
  expect_rc 0 "refused port resets via $mode" \
    client 15 expect-reset "$dst" "$CLOSED_PORT" --within "$RESET_LIMIT_S"
done
assert_contains "$(sshd_log gwB 22)" "Changed root directory to \"$DVJ_JAIL\"" "gwB sshd log"
assert_contains "$(sshd_log gwB 22)" "Starting session: forced-command (key-option) '/bin/dvpn-gate" \
  "gwB sshd log"
pass "gwB's sessions ran chrooted under the forced dvpn-gate"

step "destinations outside the key's subnets"
expect_rc 0 "netcat mode, 10.22.0.2: reset" \
  client 15 expect-reset 10.22.0.2 "$HTTP_PORT" --within "$RESET_LIMIT_S"
expect_rc 0 "direct mode, 10.23.0.2: reset" \
  client 15 expect-reset 10.23.0.2 "$HTTP_PORT" --within "$RESET_LIMIT_S"
dvpnd_log_has "dvpn-gate: denied: 10.22.0.2 is outside this key's subnets" ||
  fail "dvpnd did not log the far end's reason for 10.22.0.2"
pass "dvpnd logged dvpn-gate's reason"
expect_rc 0 "site B still served afterwards" http_get_ok "$SRVB_IP"
