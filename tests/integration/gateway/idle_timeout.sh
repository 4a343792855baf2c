#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Bounded resources: a connection that moves no byte for limits.idle_timeout
# is reset (in both modes), one that keeps talking is not, and LAN client
# sockets carry TCP keepalive (limits.client_keepalive) so a vanished client
# frees its channel.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
IDLE_S=3
GW_CONFIG_EXTRA=("limits: {idle_timeout: ${IDLE_S}s, client_keepalive: 7s}")
gateway_topology_up

# talker DST SECONDS — one echo connection that sends a line every 0.5 s for
# SECONDS and checks each echo; exit 0 if the connection lived throughout.
talker() {
  ns_exec hostA timeout 30 "$PY" - "$1" "$ECHO_PORT" "$2" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
end = time.monotonic() + float(sys.argv[3])
n = 0
while time.monotonic() < end:
    line = f"ping {n}\n".encode()
    s.sendall(line)
    got = b""
    while len(got) < len(line):
        chunk = s.recv(len(line) - len(got))
        if not chunk:
            sys.exit(f"closed after {n} pings")
        got += chunk
    if got != line:
        sys.exit(f"wrong echo {got!r}")
    n += 1
    time.sleep(0.5)
print(f"{n} pings echoed")
PY
}

for mode in netcat direct; do
  dst=$(siteb_ip "$mode")
  step "mode $mode: an idle connection is reset after ${IDLE_S}s"
  hold_open "idle-$mode" "$dst" 1
  sleep $((IDLE_S * 2))
  rc=0
  hold_release "idle-$mode" || rc=$?
  [ "$rc" = 3 ] || fail "mode $mode: idle connection ended with exit $rc, expected 3 (reset)"
  dvpnd_log_has "-> $dst:$ECHO_PORT .*end=idle-timeout: no byte either way for ${IDLE_S}s \(limits.idle_timeout\) \(reset\)" ||
    fail "mode $mode: no idle-timeout line in dvpnd's log"
  pass "mode $mode: reset, logged as idle-timeout"

  step "mode $mode: a connection that keeps talking outlives the idle timeout"
  out=$(talker "$dst" $((IDLE_S * 2))) || fail "mode $mode: talking connection failed: $out"
  pass "mode $mode: $out"
done

step "LAN client sockets have TCP keepalive"
hold_open keep "$SRVB_IP" 1
timers=$(ns_exec gwA ss -tnoH state established "( sport = :$LISTEN_PORT )")
echo "$timers" | sed 's/^/   /'
grep -q 'timer:(keepalive' <<<"$timers" || fail "the accepted socket has no keepalive timer"
pass "the accepted client socket runs a keepalive timer"
hold_release keep || fail "held connection failed"
