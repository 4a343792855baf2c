#!/usr/bin/env bash
# dvpn-firewall apply is idempotent: twice gives the ruleset of once, and a
# re-apply with other options replaces the old rules instead of adding to them.
# Argument: iptables|nft.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
backend=${1:-iptables}
netlib_init dvf

step "setup ($backend backend)"
fw_topology
user_add "$FW_USER"
fw_use_config "$FW_USER"
add_unrelated_rules gw
ns_exec gw ip link add lan1 type veth peer name lan1p
before=$NETLIB_DIR/before.rules
ruleset gw >"$before"

step "apply twice"
fw gw apply --backend "$backend" --lan lan0 --lan lan1 --lockdown wan0 || fail "apply failed"
once=$NETLIB_DIR/once.rules
ruleset gw >"$once"
fw gw apply --backend "$backend" --lan lan0 --lan lan1 --lockdown wan0 || fail "second apply failed"
expect_same_ruleset gw "$once" "apply twice = apply once"

step "re-apply with other options replaces the rules"
fw gw apply --backend "$backend" --lan lan1 --ssh-port 2222 || fail "apply with other options failed"
other=$NETLIB_DIR/other.rules
ruleset gw >"$other"
if grep -q -- 'lan0' "$other"; then fail "the old --lan lan0 rule survived a re-apply without it"; fi
if grep -Eq -- 'DVPN-LOCKDOWN|chain lockdown' "$other"; then fail "the lockdown survived a re-apply without --lockdown"; fi
pass "re-apply without lan0 and --lockdown took them away"
fw gw apply --backend "$backend" --lan lan0 --lan lan1 --lockdown wan0 || fail "apply failed"
expect_same_ruleset gw "$once" "apply A, B, A = apply A"

step "remove"
fw gw remove --backend "$backend" || fail "remove failed"
expect_same_ruleset gw "$before" "remove after repeated applies restores the ruleset"
