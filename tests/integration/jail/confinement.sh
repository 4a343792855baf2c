#!/usr/bin/env bash
# What a stolen gateway key can NOT do at a jailed far end: get a tty, run
# anything but dvpn-gate's nc, see outside the jail, forward ports in netcat
# mode, or reach a destination outside its own site's subnets in either mode.
#
# Besides the site keys (as `authorize` writes them) the test installs one
# "bare" key with no options at all, the misconfiguration `check` flags: it
# shows what the Match block and the chroot alone still deny. Note that with
# a bare key busybox's sh runs some applets (ls, id, awk...) in-process even
# though the jail has no links for them; the forced command is what stops
# that for real keys.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dvj_site_setup 10.20.0.0/24 fd00:20::/64
dvj_key bare
cat "$NETLIB_DIR/bare.pub" >>"$DVJ_BASE/authorized_keys"
out=$NETLIB_DIR/out
ns_exec gw nc -z -w 2 10.99.0.2 7001 || fail "setup: gw cannot reach 10.99.0.2 itself"

# expect_denied DESC WANT_TEXT KEY [ssh args] -- [command] — ssh must exit
# non-zero, relay nothing and say WANT_TEXT on stderr.
expect_denied() {
  local desc=$1 want=$2 rc=0
  shift 2
  dvj_ssh "$@" </dev/null >"$out" 2>"$out.err" || rc=$?
  [ "$rc" != 0 ] || fail "$desc: exit 0 (stdout: $(head -c 200 "$out"))"
  [[ ! -s $out || $(cat "$out") != len=* ]] || fail "$desc: data was relayed"
  assert_contains "$out.err" "$want" "$desc"
  pass "$desc (exit $rc)"
}

step "no tty, even for a key without restrict"
dvj_ssh bare -tt -- 'echo hello' </dev/null >"$out" 2>"$out.err" || true
assert_contains "$out.err" "PTY allocation request failed" "pty request"
pass "pty refused (PermitTTY no in the Match block)"

step "only dvpn-gate's command runs"
expect_denied "ls" "dvpn-gate: denied" site -- ls
expect_denied "cat /etc/passwd" "dvpn-gate: denied" site -- cat /etc/passwd
expect_denied "a shell command" "dvpn-gate: denied" site -- 'sh -c id'
expect_denied "nc with a command appended" "dvpn-gate: denied" site -- 'nc 10.20.0.2 7001; id'
expect_denied "nc -e" "dvpn-gate: denied" site -- 'nc -e /bin/sh 10.20.0.2 7001'
expect_denied "a login shell" "dvpn-gate: denied" site --
# sshd does not forward a subsystem's stderr: the exit status is the witness.
rc=0
dvj_ssh site -s -- sftp </dev/null >"$out" 2>"$out.err" || rc=$?
[ "$rc" = 1 ] && [ ! -s "$out" ] || fail "the sftp subsystem: exit $rc, expected dvpn-gate's 1"
pass "the sftp subsystem gets dvpn-gate too (exit 1)"

step "the jail is all there is to see"
dvj_ssh bare -- 'echo /* /bin/* /dev/*; cd /..; echo *' >"$out" 2>"$out.err" ||
  fail "bare key: listing the jail failed ($(cat "$out.err"))"
[ "$(cat "$out")" = "$(printf '/bin /dev /bin/dvpn-gate /bin/nc /bin/sh /dev/null\nbin dev')" ] ||
  fail "bare key sees: $(cat "$out")"
pass "/ is the jail: bin/{dvpn-gate,nc,sh} and dev/null"
expect_denied "bare key: cat /etc/passwd" "not found" bare -- 'cat /etc/passwd'
expect_denied "bare key: ls /etc" "No such file" bare -- 'ls /etc'
expect_denied "bare key: /usr/bin/id" "not found" bare -- '/usr/bin/id'

step "netcat mode: no port forwarding"
expect_denied "direct-tcpip (ssh -W), site key" "open failed" site -W 10.20.0.2:7001 --
expect_denied "direct-tcpip (ssh -W), bare key" "open failed" bare -W 10.20.0.2:7001 --
expect_denied "remote forwarding (ssh -R)" "forwarding failed" \
  bare -N -o ExitOnForwardFailure=yes -R 127.0.0.1:0:10.20.0.2:7001 --
dvj_ssh site -N -o ExitOnForwardFailure=yes -L 127.0.0.1:9000:10.20.0.2:7001 -- \
  </dev/null >"$NETLIB_DIR/l.log" 2>&1 &
lpid=$!
wait_port cli 9000 10 || fail "ssh -L did not listen ($(cat "$NETLIB_DIR/l.log"))"
ns_exec cli nc -w 3 127.0.0.1 9000 </dev/null >"$out" 2>/dev/null || true
[ ! -s "$out" ] || fail "ssh -L: data came through the forward"
# shellcheck disable=SC2046  # one PID per word
netlib_kill_pids $(descendants "$lpid") "$lpid"
assert_contains "$NETLIB_DIR/l.log" "open failed" "ssh -L"
pass "local forwarding (ssh -L): the channel is refused"

step "netcat mode: destinations outside the site's subnets"
expect_denied "10.99.0.2 via dvpn-gate" "outside this key's subnets" site -- 'nc 10.99.0.2 7001'
expect_denied "fd00:99::2 via dvpn-gate" "outside this key's subnets" site -- 'nc fd00:99::2 7001'
expect_denied "the far end itself" "outside this key's subnets" site -- 'nc 127.0.0.1 22'
expect_denied "a host name" "expected an IPv4 or IPv6 address" site -- 'nc localhost 22'

step "direct mode: only the key's own addresses"
dvj_install --allow-direct
dvj_key direct
# In gw's namespace, as on a real far end: authorize reads the gateway's own addresses.
ns_exec gw "$DVJ_TOOL" "${DVJ_OPTS[@]}" authorize "$NETLIB_DIR/direct.pub" --site friday \
  --subnet 10.20.0.0/30 --mode direct
dvj_payload "$NETLIB_DIR/sent" 100000
dvj_ssh direct -W 10.20.0.2:7001 -- <"$NETLIB_DIR/sent" >"$out" 2>"$out.err" ||
  fail "direct-tcpip to 10.20.0.2: ssh exited $? ($(cat "$out.err"))"
{ echo "len=100000"; cat "$NETLIB_DIR/sent"; } | cmp -s - "$out" || fail "direct-tcpip: reply differs"
pass "direct-tcpip to 10.20.0.2:7001 (in the key's 10.20.0.0/30) relays both ways"
expect_denied "direct-tcpip outside the subnets" "administratively prohibited" direct -W 10.99.0.2:7001 --
expect_denied "direct-tcpip outside the /30, inside the /24" "administratively prohibited" \
  direct -W 10.20.0.5:7001 --
expect_denied "direct-tcpip to the far gateway's own LAN address, inside the /30" \
  "administratively prohibited" direct -W 10.20.0.1:22 --
expect_denied "direct mode key, exec outside the subnets" "outside this key's subnets" \
  direct -- 'nc 10.99.0.2 7001'
expect_denied "direct mode key, remote forwarding" "forwarding failed" \
  direct -N -o ExitOnForwardFailure=yes -R 127.0.0.1:0:10.20.0.2:7001 --
expect_denied "netcat-mode key after --allow-direct, ssh -W" "open failed" site -W 10.20.0.2:7001 --
