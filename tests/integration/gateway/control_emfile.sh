#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# dvpnd out of file descriptors (its RLIMIT_NOFILE lowered with prlimit to the
# descriptors it holds) while clients queue on the control socket: the
# control socket's accept loop pauses between failed accepts instead of
# spinning (dvpnd's CPU time stays low), logs it (rate-limited), and once
# descriptors are available again `dvpnd --status` answers at once. The loop
# used to re-arm before it looked at the error: EMFILE leaves the connection
# queued, so it spun on one core for as long as the shortage lasted.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

SOCK=$GW_DIR/control.sock
MEASURE_S=3
MAX_CPU_MS=300   # 10% of one core over MEASURE_S

status_ok() { timeout 5 "$DVPND" -c "$DVPND_CONF" --status >"$GW_DIR/status.out" 2>&1; }
expect_rc 0 "dvpnd --status answers" status_ok
cpu_ms() {   # utime + stime of dvpnd, in ms
  local s
  s=$(cat "/proc/$DVPND_PID/stat")
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  echo $(((${12} + ${13}) * 1000 / $(getconf CLK_TCK)))
}

step "RLIMIT_NOFILE of dvpnd down to the descriptors it holds"
hard=$(prlimit --pid "$DVPND_PID" --nofile --output HARD --noheadings | tr -d ' ')
free=0
while [ -e "/proc/$DVPND_PID/fd/$free" ]; do free=$((free + 1)); done
prlimit --pid "$DVPND_PID" --nofile="$free:$hard"
info "lowest free descriptor $free; soft limit now $free (hard $hard)"

step "5 clients queue on the control socket for $((MEASURE_S + 2)) s"
spawn gwA "$GW_DIR/queued.log" "$PY" -c '
import socket, sys, time
held = []
for _ in range(5):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(b"status\n")
    held.append(s)
print("queued", flush=True)
time.sleep(float(sys.argv[2]))
' "$SOCK" "$((MEASURE_S + 2))"
QUEUED_PID=$SPAWNED_PID
retry_for 5 grep -q queued "$GW_DIR/queued.log" || fail "the clients could not queue on $SOCK"
sleep 0.3
c0=$(cpu_ms)
sleep "$MEASURE_S"
used=$(($(cpu_ms) - c0))
info "dvpnd used ${used} ms of CPU in ${MEASURE_S} s"
_netlib_alive "$DVPND_PID" || fail "dvpnd exited"
[ "$used" -le "$MAX_CPU_MS" ] || fail "dvpnd used ${used} ms of CPU in ${MEASURE_S} s (at most ${MAX_CPU_MS}): the accept loop spins"
pass "the accept loop waits: ${used} ms of CPU in ${MEASURE_S} s with clients queued and no descriptor free"
dvpnd_log_has 'control socket: accept failed: Too many open files; pausing' ||
  fail "dvpnd did not log the failed accept"
n=$(grep -c 'control socket: accept failed' "$DVPND_LOG")
[ "$n" -le 2 ] || fail "$n log lines about the failed accepts in ${MEASURE_S} s (rate limit 5 s)"
pass "logged $n time(s): $(grep -m1 'control socket: accept failed' "$DVPND_LOG" | sed 's/.*dvpnd: //')"

step "descriptors available again"
prlimit --pid "$DVPND_PID" --nofile="$hard:$hard"
t=$(now_ms)
expect_rc 0 "dvpnd --status answers again" retry_for 2 status_ok
info "after $(($(now_ms) - t)) ms"
grep -q "connections" "$GW_DIR/status.out" || fail "odd status output: $(cat "$GW_DIR/status.out")"
wait_pid "$QUEUED_PID"
expect_rc 0 "traffic flows" http_get_ok "$SRVB_IP"
