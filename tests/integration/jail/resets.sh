#!/usr/bin/env bash
# Nothing is silently truncated: a reset on one side reaches the other side as
# a reset, never as a clean end, through a jailed far end (dvpn-gate).
#   - the destination sends 1 MiB, then resets: the LAN client must see RST;
#   - the LAN client sends, then resets: the destination must see RST.
# Both modes; direct mode's limits (what sshd can tell us) are asserted as
# documented in dvpnd(8), FAILURES.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# shellcheck source=../gateway/topology.sh
. "$DVPN_SOURCE_ROOT/tests/integration/gateway/topology.sh"

dvj_gateway_far_end

RESET_PORT=7005
watch_log=$GW_DIR/watch.log
: >"$watch_log"
spawn srvB "$GW_DIR/resets-server.log" "$PY" "$GW_TOOLS/resets.py" serve "$RESET_PORT" --log "$watch_log"
wait_port srvB "$RESET_PORT" 10 || fail "resets server did not start"
dvpnd_start

resets() { ns_exec hostA timeout 40 "$PY" "$GW_TOOLS/resets.py" "$@"; }

# last_watch — waits for the server's next outcome line and prints it.
last_watch() {
  local want=$1 i
  for i in $(seq 50); do
    [ "$(wc -l <"$watch_log")" -ge "$want" ] && break
    sleep 0.2
  done
  sed -n "${want}p" "$watch_log"
}

step "plain routing would give RST: the tool tells the two apart (srvB's own loopback)"
rc=0
out=$(ns_exec srvB timeout 20 "$PY" "$GW_TOOLS/resets.py" download 127.0.0.1 "$RESET_PORT" 1048576) || rc=$?
[ "$rc" = 0 ] || fail "direct download: $out (exit $rc), expected a reset"
pass "without dvpnd: $out"

# What each mode delivers. Direct mode cannot do better: sshd treats a read
# error on its socket as the end of the stream and closes a direct-tcpip
# socket with a FIN, and SSH has no message for an abortive close. Asserted,
# so a change either way shows (documented in doc/dvpnd.8, FAILURE SEMANTICS).
declare -A client_sees=([netcat]=reset [direct]=eof)
declare -A destination_sees=([netcat]=reset [direct]=eof)
watched=0
for mode in netcat direct; do
  dst=$(siteb_ip "$mode")
  step "mode $mode: the destination resets after 1 MiB"
  rc=0
  out=$(resets download "$dst" "$RESET_PORT" 1048576) || rc=$?
  [ "$out" = "bytes=1048576 end=${client_sees[$mode]}" ] ||
    fail "mode $mode: the destination's reset reached the client as '$out' (exit $rc), expected end=${client_sees[$mode]}"
  pass "mode $mode: the client sees every byte, then ${client_sees[$mode]}"

  # The client's EOF and close reach the far end back to back; the gate must
  # take them for a reset every time, so try more than once.
  step "mode $mode: the client resets after sending 64 KiB (${RESETS_ROUNDS:-3} times)"
  for _ in $(seq "${RESETS_ROUNDS:-3}"); do
    resets abort "$dst" "$RESET_PORT" 65536 || fail "abort client failed"
    watched=$((watched + 1))
    got=$(last_watch "$watched")
    [ "$got" = "${destination_sees[$mode]} 65536" ] ||
      fail "mode $mode, round $watched: the client's reset reached the destination as '$got', expected '${destination_sees[$mode]} 65536'"
  done
  pass "mode $mode: the destination sees every byte, then ${destination_sees[$mode]}"
done
dvpnd_log_has "end=far-end-reset: exit 1: dvpn-gate: from 10.20.0.2 port $RESET_PORT: Connection reset by peer" ||
  fail "dvpnd did not log the far end's reset"
pass "dvpnd logs the far end's reset and why"
