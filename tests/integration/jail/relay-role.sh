#!/usr/bin/env bash
# The relay role (issue #14): on a relay R (`dvpn-jail install --relay`), the
# key of site B behind NAT may listen on its one port of R's loopback and
# nothing else, and the key of site A may dial that port and nothing else;
# neither runs a command. Real sshd, real OpenSSH client:
#   B: ssh -N -R 127.0.0.1:2201:127.0.0.1:7001 (B's own service) works; any
#      other listen port or address, -L/-W, a shell or command is refused;
#   A: ssh -W 127.0.0.1:2201 reaches B's service through R; any other port or
#      host, -R (also B's port while B is away), a shell is refused;
#   a netcat site key of the same account forwards nothing;
#   `check` passes, and names each tampered key option or Match setting;
#   `remove` takes the relay account away like any other.
#
# Network (namespaces dvr-*, user dvrtest: apart from the dvj-* jail tests):
#   a 198.51.100.1 ──── 198.51.100.2 gw (the relay's sshd :22)
#   b 203.0.113.1  ──── 203.0.113.2  gw
# b runs its service on 127.0.0.1:7001: "site-b" then, after the client's
# EOF, "len=N" and the N bytes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2034  # read by lib.sh
DVJ_PREFIX=dvr
DVJ_USER=dvrtest

readonly R_A=198.51.100.2 R_B=203.0.113.2 PORT=2201
readonly nothing=none.invalid:1
dvj_init
out=$NETLIB_DIR/out
keys=$DVJ_BASE/authorized_keys
dropin=$DVJ_BASE/sshd_config.d/dvpn-jail-$DVJ_USER.conf

step "setup: namespaces, the relay's sshd, B's service"
ns_add a
ns_add b
ns_add gw
link a dvr-a 198.51.100.1/24 gw dvr-gwa "$R_A/24"
link b dvr-b 203.0.113.1/24 gw dvr-gwb "$R_B/24"
dvj_sshd "Include $DVJ_BASE/sshd_config.d/*.conf" "GatewayPorts yes" "PermitOpen any"
DVJ_OPTS+=(--dropin "$dropin")
printf '%s %s\n' "$R_B" "$(cut -d' ' -f1,2 "$SSHD_HOSTKEY_PUB")" >>"$NETLIB_DIR/known_hosts"
cp -p "$DVJ_SSHD_CONFIG" "$NETLIB_DIR/config.orig"
cat >"$NETLIB_DIR/service.py" <<'EOF'
import socket, socketserver, threading
class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(b"site-b\n")
        data = bytearray()
        while chunk := self.request.recv(65536):
            data += chunk
        self.request.sendall(b"len=%d\n" % len(data) + bytes(data))
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True
server = socketserver.ThreadingTCPServer(("127.0.0.1", 7001), Handler)
print("ready", flush=True)
server.serve_forever()
EOF
spawn b "$NETLIB_DIR/service.log" python3 -u "$NETLIB_DIR/service.py"
NETLIB_FAIL_LOGS+=("$NETLIB_DIR/service.log" "$(sshd_log gw 22)")
wait_port b 7001 10 || fail "B's service did not start"
dvj_key alpha
dvj_key bravo
dvj_key charlie
dvj_key site

# ssh_opts KEY — the OpenSSH client's options for KEY, in $opts.
ssh_opts() {
  opts=(-F /dev/null -i "$NETLIB_DIR/$1" -o IdentitiesOnly=yes -o IdentityAgent=none
    -o BatchMode=yes -o UserKnownHostsFile="$NETLIB_DIR/known_hosts"
    -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o ConnectTimeout=5)
}
# as_a KEY ARGS... / as_b KEY ARGS... — ssh from site A's / B's namespace to
# the relay; ARGS are ssh's options (the destination is added), then after
# "--" a remote command.
relay_ssh() {
  local ns=$1 host=$2 key=$3 extra=()
  shift 3
  while [ $# -gt 0 ] && [ "$1" != -- ]; do extra+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  ssh_opts "$key"
  ns_exec "$ns" timeout 10 ssh "${opts[@]}" "${extra[@]}" "$DVJ_USER@$host" "$@"
}
as_a() { relay_ssh a "$R_A" "$@"; }
as_b() { relay_ssh b "$R_B" "$@"; }

# refused DESC WANT SIDE KEY ARGS... — ssh exits non-zero, saying WANT.
refused() {
  local desc=$1 want=$2 side=$3 rc=0
  shift 3
  "as_$side" "$@" </dev/null >"$out" 2>"$out.err" || rc=$?
  [ "$rc" != 0 ] || fail "$desc: exit 0 (stdout: $(head -c 200 "$out"))"
  ! grep -q site-b "$out" || fail "$desc: B's service answered"
  assert_contains "$out.err" "$want" "$desc"
  pass "$desc (exit $rc)"
}
# no_listener_but_loopback — nothing on the relay listens on a relay port
# (2200-2299) at an address other than 127.0.0.1.
no_listener_but_loopback() {
  local wide
  wide=$(ns_exec gw ss -ltnH | awk '{ print $4 }' | grep -E ':22[0-9][0-9]$' | grep -v '^127\.0\.0\.1:' || true)
  [ -z "$wide" ] || fail "$1: the relay listens on $wide"
}
# listen_b [ARGS...] — B's forward (-R ARGS, default B's port to its service)
# in the background; waits until the relay listens on it. PID in $b_pid.
listen_b() {
  local spec=${1:-127.0.0.1:$PORT:127.0.0.1:7001} port
  port=$(cut -d: -f2 <<<"$spec")
  ssh_opts bravo
  spawn b "$NETLIB_DIR/b-listen.log" timeout 60 ssh "${opts[@]}" -N -o ExitOnForwardFailure=yes \
    -R "$spec" "$DVJ_USER@$R_B"
  b_pid=$SPAWNED_PID
  wait_port gw "$port" 10 || fail "B's -R $spec does not listen on the relay ($(cat "$NETLIB_DIR/b-listen.log"))"
}
# stop_b — B's forward ends, and the relay's listener with it.
stop_b() {
  stop_pid "$b_pid"
  b_pid=""
  # shellcheck disable=SC2016  # expanded by eval, at each try
  retry_for 5 eval '[ -z "$(ns_exec gw ss -ltnH "sport >= :2200 and sport <= :2299")" ]' ||
    fail "the relay still listens after B's forward ended"
}
# through_a — A fetches B's service through the relay; the reply in $out.
through_a() {
  dvj_payload "$NETLIB_DIR/sent" 50000
  as_a alpha -W "127.0.0.1:$PORT" -- <"$NETLIB_DIR/sent" >"$out" 2>"$out.err"
}

step "authorize-relay needs install --relay"
dvj_install
rc=0
dvj_jail authorize-relay "$NETLIB_DIR/bravo.pub" --site b --listen "$PORT" >"$out" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$out" >&2; fail "authorize-relay on a netcat account: exit $rc, expected 1"; }
assert_contains "$out" "run install --relay first" "authorize-relay"
pass "refused on an account installed without --relay"
rc=0
dvj_jail install --relay --allow-direct >"$out" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "install --relay --allow-direct: exit $rc, expected 2"
pass "install --relay --allow-direct is a usage error"

step "install --relay, B listens on $PORT, A dials it"
dvj_install --relay
dvj_jail authorize-relay "$NETLIB_DIR/bravo.pub" --site b --listen "$PORT"
dvj_jail authorize-relay "$NETLIB_DIR/alpha.pub" --site a --dial "$PORT"
dvj_jail authorize "$NETLIB_DIR/site.pub" --site thursday --subnet 10.20.0.0/24
command="command=\"echo 'dvpn-jail: relay key: port forwarding only, no commands' >&2; exit 1\""
assert_contains "$keys" "restrict,port-forwarding,permitlisten=\"127.0.0.1:$PORT\",permitopen=\"$nothing\",$command $(cut -d' ' -f1,2 "$NETLIB_DIR/bravo.pub") dvpn-relay:b" "authorize-relay"
assert_contains "$keys" "restrict,port-forwarding,permitlisten=\"$nothing\",permitopen=\"127.0.0.1:$PORT\",$command $(cut -d' ' -f1,2 "$NETLIB_DIR/alpha.pub") dvpn-relay:a" "authorize-relay"
pass "keys: $(grep -c 'dvpn-relay:' "$keys") relay lines"
dvj_check_passes "relay install"
cp -p "$keys" "$NETLIB_DIR/keys.good"
dvj_jail authorize-relay "$NETLIB_DIR/bravo.pub" --site b --listen "$PORT"
cmp -s "$keys" "$NETLIB_DIR/keys.good" || fail "authorizing B again changed the keys file"
rc=0
dvj_jail authorize-relay "$NETLIB_DIR/charlie.pub" --site c --listen "$PORT" >"$out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a second site on B's port: exit $rc, expected 1"
assert_contains "$out" "port $PORT is already the listen port of dvpn-relay:b" "authorize-relay"
rc=0
dvj_jail authorize-relay "$NETLIB_DIR/site.pub" --site t2 --dial "$PORT" >"$out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "the netcat key as a relay key: exit $rc, expected 1"
assert_contains "$out" "already authorized for site thursday" "authorize-relay"
rc=0
dvj_jail authorize-relay "$NETLIB_DIR/charlie.pub" --site c --listen 22 >"$out" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--listen 22: exit $rc, expected 2"
cmp -s "$keys" "$NETLIB_DIR/keys.good" || fail "a refused authorize-relay changed the keys file"
pass "idempotent; a taken port, a key of another line and a privileged port are refused"

listen_b
no_listener_but_loopback "B's forward"
pass "B listens on 127.0.0.1:$PORT only (sshd's top level says GatewayPorts yes)"
through_a || fail "A's ssh -W 127.0.0.1:$PORT: exit $? ($(cat "$out.err"))"
{ echo site-b; echo len=50000; cat "$NETLIB_DIR/sent"; } | cmp -s - "$out" ||
  fail "A through the relay: reply differs from B's service's"
pass "A -W 127.0.0.1:$PORT reaches B's service through the relay, 50000 bytes each way"

step "B's key: nothing but its own port"
for spec in "127.0.0.1:2202:127.0.0.1:7001" "0.0.0.0:2202:127.0.0.1:7001" "localhost:2202:127.0.0.1:7001" \
  "*:2203:127.0.0.1:7001" "$R_B:2204:127.0.0.1:7001"; do
  refused "B -R $spec" "remote port forwarding failed" b bravo -N -o ExitOnForwardFailure=yes -R "$spec" --
done
stop_b
# (a bare "PORT:..." makes the client ask for "localhost")
for spec in "0.0.0.0:$PORT:127.0.0.1:7001" "*:$PORT:127.0.0.1:7001" "$R_B:$PORT:127.0.0.1:7001" \
  "localhost:$PORT:127.0.0.1:7001" "$PORT:127.0.0.1:7001"; do
  refused "B -R $spec" "remote port forwarding failed" b bravo -N -o ExitOnForwardFailure=yes -R "$spec" --
done
no_listener_but_loopback "after B's refused requests"
pass "B's port on any other address is refused; nothing listens off loopback"
listen_b
for dest in 127.0.0.1:22 "127.0.0.1:$PORT" 198.51.100.1:22 "$nothing" localhost:22; do
  refused "B -W $dest" "stdio forwarding failed" b bravo -W "$dest" --
done
ssh_opts bravo
ns_exec b timeout 10 ssh "${opts[@]}" -N -o ExitOnForwardFailure=yes -L 127.0.0.1:9000:127.0.0.1:22 \
  "$DVJ_USER@$R_B" </dev/null >"$NETLIB_DIR/l.log" 2>&1 &
lpid=$!
wait_port b 9000 10 || fail "B's ssh -L did not listen ($(cat "$NETLIB_DIR/l.log"))"
ns_exec b nc -w 3 127.0.0.1 9000 </dev/null >"$out" 2>/dev/null || true
[ ! -s "$out" ] || fail "B's ssh -L: data came through ($(head -c 100 "$out"))"
# shellcheck disable=SC2046  # one PID per word
netlib_kill_pids $(descendants "$lpid") "$lpid"
assert_contains "$NETLIB_DIR/l.log" "open failed" "B's ssh -L"
pass "B -L 127.0.0.1:9000:127.0.0.1:22: the channel is refused"
refused "B runs a command" "relay key: port forwarding only, no commands" b bravo -- id
refused "B asks for a shell" "relay key: port forwarding only, no commands" b bravo --
refused "B asks for a tty" "PTY allocation request failed" b bravo -tt -- id
through_a || fail "B's session (ssh -N) no longer carries A after the refusals ($(cat "$out.err"))"
pass "B's -N session ran no command and still carries A"

step "A's key: nothing but B's port"
for dest in 127.0.0.1:22 127.0.0.1:2202 "localhost:$PORT" "$R_A:$PORT" "198.51.100.1:$PORT" 203.0.113.1:22 "$nothing"; do
  refused "A -W $dest" "stdio forwarding failed" a alpha -W "$dest" --
done
refused "A -R 127.0.0.1:2205" "remote port forwarding failed" \
  a alpha -N -o ExitOnForwardFailure=yes -R 127.0.0.1:2205:127.0.0.1:22 --
stop_b
refused "A -R B's port while B is away" "remote port forwarding failed" \
  a alpha -N -o ExitOnForwardFailure=yes -R "127.0.0.1:$PORT:127.0.0.1:22" --
refused "A -R $nothing" "remote port forwarding failed" \
  a alpha -N -o ExitOnForwardFailure=yes -R "$nothing:127.0.0.1:22" --
refused "A runs a command" "relay key: port forwarding only, no commands" a alpha -- 'nc 127.0.0.1 2201'
refused "A asks for a shell" "relay key: port forwarding only, no commands" a alpha --
rc=0
as_a alpha -W "127.0.0.1:$PORT" -- </dev/null >"$out" 2>"$out.err" || rc=$?
[ "$rc" != 0 ] && [ ! -s "$out" ] || fail "A -W $PORT with B away: exit $rc, output $(head -c 100 "$out")"
pass "A's -W 127.0.0.1:$PORT fails while B is away (nothing took B's port)"

step "a netcat site key of the relay account forwards nothing"
refused "netcat key -W B's port" "stdio forwarding failed" a site -W "127.0.0.1:$PORT" --
refused "netcat key -R" "remote port forwarding failed" \
  a site -N -o ExitOnForwardFailure=yes -R 127.0.0.1:2206:127.0.0.1:22 --

step "check names each tampered relay key option"
# tamper SED — the keys file from keys.good, edited
tamper() { sed -e "$1" "$NETLIB_DIR/keys.good" >"$keys"; }
tamper "/dvpn-relay:b\$/s/permitlisten=\"127.0.0.1:$PORT\",//"
dvj_check_names "(dvpn-relay:b): relay key without permitlisten= (it may listen on any port"
# ... and the hole is real: B now listens on another port (the Match block
# still keeps it on loopback).
listen_b "127.0.0.1:2207:127.0.0.1:7001"
refused "untied B -R 0.0.0.0:2208" "remote port forwarding failed" b bravo -N -o ExitOnForwardFailure=yes -R 0.0.0.0:2208:127.0.0.1:7001 --
no_listener_but_loopback "untied B"
stop_b
pass "without permitlisten B listens on 127.0.0.1:2207: the deviation check names is real"
# One check for the rest: each line below carries its own defects.
tamper "/dvpn-relay:b\$/s/permitopen=\"$nothing\",//;/dvpn-relay:a\$/s/permitopen=\"127.0.0.1:$PORT\"/permitopen=\"127.0.0.1:*\"/;/dvpn-relay:a\$/s/^restrict,/restrict,pty,/"
charlie=$(cut -d' ' -f1,2 "$NETLIB_DIR/charlie.pub")
cat >>"$keys" <<EOF
restrict,port-forwarding,permitlisten="$nothing",permitlisten="127.0.0.1:2209",permitopen="10.20.0.2:$PORT" $charlie dvpn-relay:c1
port-forwarding,permitlisten="127.0.0.1:$PORT",permitopen="$nothing",$command $charlie dvpn-relay:c2
EOF
dvj_check_names "(dvpn-relay:b): relay key without permitopen= (it may open any port" \
  "(dvpn-relay:a): permitopen=\"127.0.0.1:*\" is not 127.0.0.1:PORT" \
  "(dvpn-relay:a): option 'pty'" \
  "(dvpn-relay:c1): permitlisten=\"$nothing\" (nothing) next to other permitlisten=" \
  "(dvpn-relay:c1): permitopen=\"10.20.0.2:$PORT\" is not 127.0.0.1:PORT" \
  "(dvpn-relay:c1): relay key without its command=" \
  "(dvpn-relay:c2): relay key without restrict" \
  "(dvpn-relay:c2): listens on port $PORT, as $keys:1 (dvpn-relay:b)"
cp -p "$NETLIB_DIR/keys.good" "$keys"
dvj_check_passes "keys restored"

step "check names each overridden relay setting of the Match block"
org=$DVJ_BASE/sshd_config.d/00-org.conf
printf 'Match User %s\n\t%s\n\t%s\n\t%s\n\t%s\n' "$DVJ_USER" "GatewayPorts yes" "PermitOpen any" \
  "PermitListen any" "AllowTcpForwarding local" >"$org"
dvj_check_names "'gatewayports yes' to user $DVJ_USER" "'permitopen any' to user $DVJ_USER" \
  "'permitlisten any' to user $DVJ_USER" "'allowtcpforwarding local' to user $DVJ_USER"
rm "$org"
sed -i 's/^\tPermitOpen 127.0.0.1:\*$/\tPermitOpen any/' "$dropin"
dvj_check_names "$dropin: altered" "'permitopen any' to user $DVJ_USER, expected 'permitopen 127.0.0.1:*'"
dvj_install --relay
dvj_check_passes "install --relay restores the drop-in"

step "remove takes the relay account away"
dvj_jail remove
cmp -s "$NETLIB_DIR/config.orig" "$DVJ_SSHD_CONFIG" || fail "remove left sshd_config changed"
[ ! -e "$dropin" ] && [ ! -e "$keys" ] && [ ! -e "$DVJ_JAIL" ] || fail "remove left the drop-in, keys or jail"
! id "$DVJ_USER" >/dev/null 2>&1 || fail "remove left the account $DVJ_USER"
pass "sshd_config as before; no drop-in, relay keys, jail or account"
