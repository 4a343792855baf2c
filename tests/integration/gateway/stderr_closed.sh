#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# dvpnd's stderr is a pipe whose reader is gone (a closed terminal, a dead log
# collector): every log line's write fails with EPIPE, and dvpnd lives on
# (SIGPIPE ignored). It starts, forwards connections, reloads on SIGHUP and
# answers --status. With SIGPIPE at its default, the first log line killed it.
set -euo pipefail
GW_START_DVPND=0
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

step "dvpnd started with stderr a pipe nobody reads (the reader closed it at once)"
WRAP_LOG=$GW_DIR/closed-stderr-wrapper.log
NETLIB_FAIL_LOGS+=("$WRAP_LOG")
# Python ignores SIGPIPE itself, but subprocess gives the child the default back.
spawn gwA "$WRAP_LOG" "$PY" -c '
import subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE)
p.stderr.close()
print("pid", p.pid, flush=True)
rc = p.wait()
print("exit", rc, flush=True)
' "$DVPND" -c "$DVPND_CONF" --foreground
WRAP_PID=$SPAWNED_PID
retry_for 5 grep -q '^pid ' "$WRAP_LOG" || fail "the wrapper did not start dvpnd"
DVPND_PID=$(sed -n 's/^pid //p' "$WRAP_LOG")
netlib_record_pid "$DVPND_PID"
gone() { grep -q '^exit ' "$WRAP_LOG"; }
listening() { gone || [ -n "$(ns_exec gwA ss -ltnH "sport = :$LISTEN_PORT")" ]; }
retry_for 10 listening || fail "dvpnd neither listens nor exits"
if gone; then fail "dvpnd died at start-up: $(grep '^exit ' "$WRAP_LOG") (-13 is SIGPIPE)"; fi
pass "dvpnd (PID $DVPND_PID) listens"

step "work that logs: connections, SIGHUP, --status"
expect_rc 0 "GET through dvpnd (one log line per connection)" http_get_ok "$SRVB_IP"
expect_rc 0 "another site" http_get_ok "$SRVC_IP6"
expect_rc 0 "a reset (a warning line)" client 10 expect-reset "$NOSITE_IP" "$HTTP_PORT" --within 2
kill -HUP "$DVPND_PID"
sleep 0.5
expect_rc 0 "dvpnd --status answers" timeout 5 "$DVPND" -c "$DVPND_CONF" --status
if gone || ! _netlib_alive "$DVPND_PID"; then fail "dvpnd died: $(cat "$WRAP_LOG")"; fi
pass "dvpnd alive after every log line failed with EPIPE"
[[ $(readlink "/proc/$DVPND_PID/fd/2") == pipe:* ]] || fail "dvpnd's stderr is not the pipe"
expect_rc 0 "and still forwarding" http_get_ok "$SRVB_IP"
stop_pid "$DVPND_PID"
wait_pid "$WRAP_PID"
grep -q '^exit 0$' "$WRAP_LOG" || fail "dvpnd did not exit 0 on SIGTERM: $(cat "$WRAP_LOG")"
pass "SIGTERM: exit 0"
