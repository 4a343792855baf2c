#!/usr/bin/env bash
# The jailed account relays a gateway's exec channel ("nc HOST PORT") to an
# allowed destination: bytes flow both ways in full, the client's half-close
# reaches the server and the reply after it still arrives, a server that
# closes first has its EOF passed on while the client's side stays open
# (exact half-close), a gateway gone ends the far end, a
# refused connect exits non-zero, and more
# exec channels than OpenSSH's default MaxSessions share one connection.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dvj_site_setup 10.20.0.0/24 fd00:20::/64
out=$NETLIB_DIR/out

step "client half-close: the server sees EOF and its reply arrives in full"
for host in 10.20.0.2 fd00:20::2; do
  dvj_payload "$NETLIB_DIR/sent" 300000
  dvj_ssh site -- "nc $host 7001" <"$NETLIB_DIR/sent" >"$out" 2>"$out.err" ||
    fail "relay to $host: ssh exited $? ($(cat "$out.err"))"
  { echo "len=300000"; cat "$NETLIB_DIR/sent"; } | cmp -s - "$out" ||
    fail "relay to $host: reply differs from len=300000 + the data sent"
  pass "half-close relay to $host: 300000 bytes each way"
done

step "server closes first: its EOF and every byte reach the client at once; the client's side stays open until it ends it"
mkfifo "$NETLIB_DIR/hold"
exec {hold}<>"$NETLIB_DIR/hold"
dvj_ssh site -- "nc 10.20.0.2 7002" <"$NETLIB_DIR/hold" {hold}>&- >"$out" 2>"$out.err" &
ssh_pid=$!
expected=$((4 + 102400))  # "bye\n" + 100 KiB
output_complete() { [ "$(stat -c %s "$out")" -ge "$expected" ]; }
retry_for 5 output_complete || fail "server-closes-first: got $(stat -c %s "$out") of $expected bytes within 5 s"
kill -0 "$ssh_pid" 2>/dev/null || fail "server-closes-first: the session ended while the client's side was open (no half-close)"
exec {hold}>&-
start=$SECONDS
wait_pid "$ssh_pid"
[ "$WAIT_RC" = 0 ] || fail "server-closes-first: ssh exited $WAIT_RC after the client's EOF ($(cat "$out.err"))"
[ $((SECONDS - start)) -le 5 ] || fail "server-closes-first: the session took $((SECONDS - start)) s to end after the client's EOF"
{ echo bye; head -c 102400 /dev/zero | tr '\0' x; } | cmp -s - "$out" ||
  fail "server-closes-first: got $(wc -c <"$out") bytes, not bye + 102400 x"
pass "server-closes-first: every byte delivered, half-close kept, session ended by the client's EOF"

step "the gateway goes away while the destination is silent: the far end exits, no orphan keeps a session slot"
gates() { pgrep -u "$DVJ_USER" -x dvpn-gate | wc -l; }
[ "$(gates)" = 0 ] || fail "a dvpn-gate is already running"
mkfifo "$NETLIB_DIR/silent"
exec {silent}<>"$NETLIB_DIR/silent"
dvj_ssh site -- "nc 10.20.0.2 7001" <"$NETLIB_DIR/silent" {silent}>&- >/dev/null 2>&1 &
ssh_pid=$!
gate_running() { [ "$(gates)" = 1 ]; }
retry_for 5 gate_running || fail "the far end did not start"
# $! is the subshell running dvj_ssh; its child is `timeout`, which passes
# the signal on to ssh.
kill $(pgrep -P "$ssh_pid")
wait_pid "$ssh_pid"
gate_gone() { [ "$(gates)" = 0 ]; }
retry_for 3 gate_gone || fail "dvpn-gate still runs 3 s after its session went away"
exec {silent}>&-
pass "the far end exited once its session went away"

step "connect refused at the far end: non-zero exit, nothing relayed"
rc=0
dvj_ssh site -- "nc 10.20.0.2 7999" </dev/null >"$out" 2>"$out.err" || rc=$?
[ "$rc" != 0 ] || fail "refused connect: exit 0"
[ ! -s "$out" ] || fail "refused connect: output was relayed"
pass "refused connect exits $rc"

step "MaxSessions raised: 15 exec channels open at once on one SSH connection"
sock=$NETLIB_DIR/cm
dvj_ssh site -o ControlMaster=yes -o ControlPath="$sock" -o ControlPersist=no -N -f --
pids=()
for i in $(seq 15); do
  mkfifo "$NETLIB_DIR/in.$i"
  dvj_ssh site -o ControlPath="$sock" -o ControlMaster=no -- "nc 10.20.0.2 7001" \
    <"$NETLIB_DIR/in.$i" >"$NETLIB_DIR/out.$i" 2>"$NETLIB_DIR/err.$i" &
  pids+=($!)
done
# Writers opened only now, so no client inherits another one's fifo.
fds=()
for i in $(seq 15); do
  exec {fd}>"$NETLIB_DIR/in.$i"
  fds+=("$fd")
  printf 'channel %d\n' "$i" >&"$fd"
done
# Every channel waits for its EOF: the server must see 15 connections at once.
for _ in $(seq 100); do
  n=$(ns_exec srv ss -tnH state established '( sport = :7001 )' | wc -l)
  [ "$n" -ge 15 ] && break
  sleep 0.1
done
[ "$n" -ge 15 ] || fail "only $n of 15 channels reached the server ($(cat "$NETLIB_DIR"/err.*))"
for fd in "${fds[@]}"; do exec {fd}>&-; done
for i in $(seq 15); do
  wait "${pids[i - 1]}" || fail "channel $i: ssh exited non-zero ($(cat "$NETLIB_DIR/err.$i"))"
  [ "$(tail -n 1 "$NETLIB_DIR/out.$i")" = "channel $i" ] || fail "channel $i: wrong reply"
done
dvj_ssh site -o ControlPath="$sock" -O exit -- 2>/dev/null || true
pass "15 exec channels open at once over one connection (OpenSSH's default allows 10)"
