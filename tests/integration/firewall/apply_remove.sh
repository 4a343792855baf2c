#!/usr/bin/env bash
# dvpn-firewall apply then remove leaves iptables-save, ip6tables-save and
# nft list ruleset as they were, unrelated rules included; --dry-run and status
# change nothing; status reports what is there. Argument: iptables|nft.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
backend=${1:-iptables}
netlib_init dvf

step "setup ($backend backend)"
fw_topology
user_add "$FW_USER"
fw_use_config "$FW_USER"
add_unrelated_rules gw
before=$NETLIB_DIR/before.rules
ruleset gw >"$before"

grep -q "^Usage: dvpn-firewall" <<<"$("$FW" --help)" || fail "--help prints no usage"
pass "--help"

step "status and remove on a ruleset without dvpn rules"
expect_rc 3 "status reports no dvpn rules" fw gw status --backend "$backend"
expect_rc 0 "remove with nothing to remove succeeds" fw gw remove --backend "$backend"
expect_same_ruleset gw "$before" "remove of nothing changes nothing"

step "dry run"
out=$(fw gw apply --backend "$backend" --lan lan0 --lockdown wan0 --ssh-port 22 --dry-run)
expect_same_ruleset gw "$before" "apply --dry-run changes nothing"
if [ "$backend" = iptables ]; then
  grep -q -- '-j REDIRECT --to-ports 7007' <<<"$out" || fail "dry run shows no REDIRECT rule: $out"
  grep -q -- ':DVPN-LOCKDOWN' <<<"$out" || fail "dry run shows no lockdown chain: $out"
else
  grep -q 'redirect to :7007' <<<"$out" || fail "dry run shows no redirect rule: $out"
  grep -q 'table inet dvpn {' <<<"$out" || fail "dry run shows no table: $out"
fi
pass "apply --dry-run prints the batch"

step "apply"
fw gw apply --backend "$backend" --lan lan0 --lockdown wan0 --ssh-port 22 || fail "apply failed"
applied=$NETLIB_DIR/applied.rules
ruleset gw >"$applied"
if diff -q "$before" "$applied" >/dev/null; then fail "apply changed nothing"; fi
grep -q 'OTHER-IN' "$applied" || fail "apply lost the unrelated rules"
if [ "$backend" = iptables ]; then
  # Our jumps come first, so rules of other software cannot bypass them.
  first_pre=$(grep -m1 '^-A PREROUTING' "$applied")
  [[ $first_pre == *"-i lan0"*"--comment dvpn -j DVPN-REDIRECT" ]] || fail "first PREROUTING rule is '$first_pre'"
  first_in=$(grep -m1 '^-A INPUT' "$applied")
  [[ $first_in == *"-i wan0"*"--comment dvpn -j DVPN-LOCKDOWN" ]] || fail "first INPUT rule is '$first_in'"
  pass "dvpn jumps are first in PREROUTING and INPUT"
fi
out=$(fw gw status --backend "$backend") || fail "status after apply exits $?"
if [ "$backend" = iptables ]; then
  grep -q 'DVPN-REDIRECT' <<<"$out" || fail "status shows no redirect chain: $out"
  grep -q 'DVPN-LOCKDOWN' <<<"$out" || fail "status shows no lockdown chain: $out"
else
  grep -q 'table inet dvpn' <<<"$out" || fail "status shows: $out"
fi
grep -q 'OTHER' <<<"$out" && fail "status shows rules that are not ours: $out"
pass "status shows the dvpn rules and only them"
expect_same_ruleset gw "$applied" "status changes nothing"

step "remove"
out=$(fw gw remove --backend "$backend" --dry-run)
[ -n "$out" ] || fail "remove --dry-run printed nothing"
expect_same_ruleset gw "$applied" "remove --dry-run changes nothing"
fw gw remove --backend "$backend" || fail "remove failed"
expect_same_ruleset gw "$before" "apply then remove restores the ruleset exactly"
expect_rc 3 "status after remove reports no dvpn rules" fw gw status --backend "$backend"
fw gw remove --backend "$backend" || fail "second remove failed"
expect_same_ruleset gw "$before" "remove twice = remove once"

step "apply without lockdown or LAN, then remove"
fw gw apply --backend "$backend" || fail "bare apply failed"
fw gw remove --backend "$backend" || fail "remove failed"
expect_same_ruleset gw "$before" "bare apply then remove restores the ruleset"
