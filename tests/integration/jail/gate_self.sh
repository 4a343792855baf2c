#!/usr/bin/env bash
# A site key reaches its site's LAN, not the far gateway itself: `nc
# 10.20.0.1 22` (the gateway's own LAN address, inside the key's subnet) is
# denied with a reason, as are loopback, the unspecified address and NAT64
# forms under a key whose subnets are 0.0.0.0/0 and ::/0, while a real LAN
# host in the subnet still works and a key that names the gateway's address
# as a /32 of its own reaches it. Then the gate's connect timeout: a LAN
# destination whose SYNs are dropped fails after --connect-timeout (here 2 s)
# or the default 10 s, not after the kernel's ~127 s, with a reason on stderr.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dvj_site_setup 10.20.0.0/24 fd00:20::/64
dvj_key wide
dvj_key self
dvj_jail authorize "$NETLIB_DIR/wide.pub" --site wide --subnet 0.0.0.0/0 --subnet ::/0
dvj_jail authorize "$NETLIB_DIR/self.pub" --site self --subnet 10.20.0.0/24 --subnet 10.20.0.1/32
out=$NETLIB_DIR/out
# What the denied destinations would reach: gw's own sshd, which answers on
# every address of gw (so also on 10.20.0.1 and 127.0.0.1, over lo).
ns_exec gw timeout 5 nc -w 2 10.20.0.1 22 </dev/null >"$out" 2>/dev/null || true
grep -q '^SSH-2.0' "$out" || fail "setup: gw's sshd does not answer on 10.20.0.1:22 itself"

# expect_denied DESC WANT_TEXT KEY COMMAND — ssh exits non-zero, relays
# nothing, and stderr holds WANT_TEXT.
expect_denied() {
  local desc=$1 want=$2 key=$3 command=$4 rc=0
  dvj_ssh "$key" -- "$command" </dev/null >"$out" 2>"$out.err" || rc=$?
  [ "$rc" != 0 ] || fail "$desc: exit 0 (stdout: $(head -c 200 "$out"))"
  [ ! -s "$out" ] || fail "$desc: data was relayed: $(head -c 200 "$out")"
  assert_contains "$out.err" "$want" "$desc"
  pass "$desc (exit $rc): $(grep -m1 dvpn-gate "$out.err")"
}

# expect_relayed DESC KEY HOST — "nc HOST 7001" answers len=N for N bytes.
expect_relayed() {
  local desc=$1 key=$2 host=$3
  printf 'hello %s\n' "$host" >"$NETLIB_DIR/sent"
  dvj_ssh "$key" -- "nc $host 7001" <"$NETLIB_DIR/sent" >"$out" 2>"$out.err" ||
    fail "$desc: ssh exited non-zero ($(cat "$out.err"))"
  { printf 'len=%d\n' "$(stat -c %s "$NETLIB_DIR/sent")"; cat "$NETLIB_DIR/sent"; } | cmp -s - "$out" ||
    fail "$desc: wrong reply: $(head -c 200 "$out")"
  pass "$desc"
}

step "the site key: the gateway's own LAN addresses are denied, a LAN host works"
expect_denied "nc 10.20.0.1 22 (gw's own LAN address)" \
  "dvpn-gate: denied: 10.20.0.1 is an address of this gateway itself" site "nc 10.20.0.1 22"
expect_denied "nc fd00:20::1 22 (gw's own IPv6 LAN address)" \
  "dvpn-gate: denied: fd00:20::1 is an address of this gateway itself" site "nc fd00:20::1 22"
expect_denied "nc ::ffff:10.20.0.1 22 (the mapped spelling)" \
  "dvpn-gate: denied: 10.20.0.1 is an address of this gateway itself" site "nc ::ffff:10.20.0.1 22"
expect_relayed "nc 10.20.0.2 7001 (a LAN host in the subnet) relays" site 10.20.0.2
expect_relayed "nc fd00:20::2 7001 (a LAN host in the IPv6 subnet) relays" site fd00:20::2

step "a key for 0.0.0.0/0 and ::/0: still not the gateway, its loopback or NAT64"
expect_denied "nc :: 22 (unspecified: would reach gw over lo)" \
  "dvpn-gate: denied: :: is an unspecified (this-host) address" wide "nc :: 22"
expect_denied "nc 0.0.0.0 22" "dvpn-gate: denied: 0.0.0.0 is an unspecified" wide "nc 0.0.0.0 22"
expect_denied "nc 127.0.0.1 22" "dvpn-gate: denied: 127.0.0.1 is a loopback address" wide "nc 127.0.0.1 22"
expect_denied "nc ::1 22" "dvpn-gate: denied: ::1 is a loopback address" wide "nc ::1 22"
expect_denied "nc ::ffff:127.0.0.1 22" "dvpn-gate: denied: 127.0.0.1 is a loopback address" \
  wide "nc ::ffff:127.0.0.1 22"
expect_denied "nc 64:ff9b::a14:2 7001 (NAT64)" \
  "dvpn-gate: denied: 64:ff9b::a14:2 is a NAT64 address (64:ff9b::/96) reaching IPv4 10.20.0.2" \
  wide "nc 64:ff9b::a14:2 7001"
expect_denied "nc 198.51.100.2 22 (gw's uplink address)" \
  "dvpn-gate: denied: 198.51.100.2 is an address of this gateway itself" wide "nc 198.51.100.2 22"
expect_denied "nc 224.0.0.1 22 (multicast)" "dvpn-gate: denied: 224.0.0.1 is a multicast address" \
  wide "nc 224.0.0.1 22"
# netlib's links have no broadcast address ("brd"); this one has.
ns_exec gw ip addr add 10.55.0.1/24 brd + dev dvj-gwb
expect_denied "nc 10.55.0.255 22 (a broadcast address of gw's)" \
  "dvpn-gate: denied: 10.55.0.255 is a broadcast address" wide "nc 10.55.0.255 22"
expect_relayed "nc 10.99.0.2 7001 under 0.0.0.0/0 relays" wide 10.99.0.2

step "a key that names 10.20.0.1/32 reaches the gateway's own address"
dvj_ssh self -- "nc 10.20.0.1 22" </dev/null >"$out" 2>"$out.err" || true
grep -q '^SSH-2.0' "$out" || fail "10.20.0.1/32 named: no sshd banner ($(cat "$out.err"))"
pass "10.20.0.1/32 named explicitly: gw's sshd answers through the gate"
expect_relayed "and its LAN neighbours as before" self 10.20.0.2

step "connect timeout: SYNs to 10.20.0.2:7003 are dropped"
ns_exec srv iptables -w -A INPUT -p tcp --dport 7003 -j DROP
# timed_out DESC KEY LOW HIGH WANT_TEXT — the attempt fails within LOW..HIGH s.
timed_out() {
  local desc=$1 key=$2 low=$3 high=$4 want=$5 rc=0 start elapsed
  start=$(now_ms)
  dvj_ssh "$key" -- "nc 10.20.0.2 7003" </dev/null >"$out" 2>"$out.err" || rc=$?
  elapsed=$(($(now_ms) - start))
  [ "$rc" != 0 ] || fail "$desc: exit 0"
  assert_contains "$out.err" "$want" "$desc"
  ((elapsed >= low * 1000 && elapsed <= high * 1000)) ||
    fail "$desc: gave up after $elapsed ms, expected $low-$high s"
  pass "$desc: exit $rc after $elapsed ms: $(grep -m1 dvpn-gate "$out.err")"
}
sed -i 's|command="/bin/dvpn-gate \([^"]*\)" \(.*dvpn-site:thursday\)$|command="/bin/dvpn-gate --connect-timeout 2 \1" \2|' \
  "$DVJ_BASE/authorized_keys"
grep -q 'dvpn-gate --connect-timeout 2 10.20.0.0/24' "$DVJ_BASE/authorized_keys" ||
  fail "setup: could not add --connect-timeout 2 to the site key ($(cat "$DVJ_BASE/authorized_keys"))"
timed_out "--connect-timeout 2" site 2 5 \
  "dvpn-gate: connect to 10.20.0.2 port 7003: no answer within 2 s (--connect-timeout)"
timed_out "default timeout (no option)" self 10 14 \
  "dvpn-gate: connect to 10.20.0.2 port 7003: no answer within 10 s (--connect-timeout)"
expect_relayed "the same key still relays to an answering port" site 10.20.0.2
sed -i 's|command="/bin/dvpn-gate 0.0.0.0/0|command="/bin/dvpn-gate --connect-timeout=0 0.0.0.0/0|' \
  "$DVJ_BASE/authorized_keys"
expect_denied "a bad --connect-timeout denies everything" \
  "dvpn-gate: denied: key misconfigured: bad --connect-timeout \"0\"" wide "nc 10.20.0.2 7001"
