#!/usr/bin/env bash
# dvpn-firewall redirects TCP to vpn_networks, IPv4 and IPv6: a LAN host's
# connection reaches the listen port with its original destination intact;
# local_subnets and the box's own addresses are not redirected; the box's own
# connections are, except those of the run_as user (dvpnd's SSH connections).
# Argument: iptables|nft.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
backend=${1:-iptables}
netlib_init dvf

step "setup ($backend backend)"
fw_topology
user_add "$FW_USER"
fw_use_config "$FW_USER"
listener gw origdst "$FW_PORT"   # stands in for dvpnd
listener gw plain 80             # the box's own service
listener wan plain 80            # hosts behind the WAN: VPN and local subnet

step "before apply nothing is redirected"
expect_line "v4 LAN host reaches the VPN host directly" "direct 10.9.9.9" lan 10.9.9.9 80
expect_line "v6 LAN host reaches the VPN host directly" "direct fd09::9" lan fd09::9 80

step "apply --lan lan0"
fw gw apply --backend "$backend" --lan lan0 || fail "apply failed"

for family in 4 6; do
  if [ "$family" = 4 ]; then vpn=10.9.9.9 local=10.2.0.1 own=10.7.7.7
  else vpn=fd09::9 local=fd02::1 own=fd07::7; fi
  step "IPv$family"
  expect_line "v$family LAN host to a VPN address is redirected" "redirected $vpn 80" lan "$vpn" 80
  expect_line "v$family LAN host to a VPN address keeps its port" "redirected $vpn 443" lan "$vpn" 443
  expect_line "v$family LAN host to a local_subnets address is not redirected" "direct $local" lan "$local" 80
  expect_line "v$family LAN host to the box's own address is not redirected" "direct $own" lan "$own" 80
  expect_line "v$family the box's own connection (root) is redirected" "redirected $vpn 80" gw "$vpn" 80
  expect_line "v$family the box's own connection as run_as is not redirected" "direct $vpn" gw "$vpn" 80 "$FW_USER"
  expect_line "v$family the box to a local_subnets address is not redirected" "direct $local" gw "$local" 80
done

step "traffic arriving on a non-LAN interface is not redirected"
# 10.5.5.5 (inside vpn_networks, not local) lives on the LAN host; wan reaches it through gw.
ns_exec lan ip addr add 10.5.5.5/32 dev lo
ns_exec gw ip route add 10.5.5.5/32 via 10.1.0.2
ns_exec wan ip route add 10.5.5.5/32 via 192.0.2.1
listener lan plain 80
expect_line "WAN host to a VPN address behind gw is forwarded, not redirected" "direct 10.5.5.5" wan 10.5.5.5 80

step "remove"
fw gw remove --backend "$backend" || fail "remove failed"
expect_line "v4 after remove the VPN host is reached directly" "direct 10.9.9.9" lan 10.9.9.9 80
expect_line "v6 after remove the VPN host is reached directly" "direct fd09::9" lan fd09::9 80
expect_line "v4 after remove the box's own connection is not redirected" "direct 10.9.9.9" gw 10.9.9.9 80

step "run_as \"\": only LAN traffic is redirected, with a warning"
fw_use_config ""
err=$(fw gw apply --backend "$backend" --lan lan0 2>&1 >/dev/null) || fail "apply with run_as \"\" failed: $err"
grep -q "warning: run_as is empty" <<<"$err" || fail "no warning about the empty run_as: '$err'"
pass "apply with run_as \"\" warns"
expect_line "v4 LAN host to a VPN address is still redirected" "redirected 10.9.9.9 80" lan 10.9.9.9 80
expect_line "v4 the box's own connection is not redirected" "direct 10.9.9.9" gw 10.9.9.9 80
expect_line "v6 the box's own connection is not redirected" "direct fd09::9" gw fd09::9 80
fw gw remove --backend "$backend" || fail "remove failed"
