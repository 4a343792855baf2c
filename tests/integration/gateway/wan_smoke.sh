#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# WAN smoke: the gwA-gwB link goes through dvpn-delayline at 20 ms RTT (10 ms
# each way). The delay is really there (a plain TCP connect gwA -> gwB takes
# at least one RTT, measured), a transfer through dvpnd in direct mode is
# byte-exact both ways (SHA-256) and carried by the delay line, an HTTP GET
# is answered in full, and the blackhole switch cuts the link and gives it
# back (what failover tests build on). A few seconds beyond the topology.
set -euo pipefail
ONE_WAY_MS=10
RTT_MS=$((2 * ONE_WAY_MS))
GW_WAN_B=(--delay-ms "$ONE_WAY_MS")
WAN_LIFETIME_S=120   # the delay line's own bound, beyond the test's 60 s timeout
# Namespaces dvw-* (the WAN tests' prefix), not the other gateway tests' dvg-*:
# it neither waits for nor disturbs a run of those in another tree.
GW_PREFIX=${GW_PREFIX:-dvw}
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

# connect_ms DST PORT N — the fastest of N TCP connects from gwA, in ms.
connect_ms() {
  ns_exec gwA "$PY" -c '
import socket, sys, time
best = None
for _ in range(int(sys.argv[3])):
    t = time.perf_counter()
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
    ms = (time.perf_counter() - t) * 1000
    best = ms if best is None else min(best, ms)
print("%.2f" % best)' "$@"
}
# The connect must be one RTT, not less, and not far more (a stuck queue).
within_rtt() { awk -v m="$1" -v r="$RTT_MS" 'BEGIN { exit !(m >= r && m < r + 30) }'; }

step "plain routing gwA -> gwB:22 over the delay line"
ms=$(connect_ms "$GWB_WAN" 22 5) || fail "no TCP connect from gwA to gwB:22"
within_rtt "$ms" || fail "fastest of 5 connects took $ms ms, expected $RTT_MS..$((RTT_MS + 30)) ms"
pass "fastest of 5 TCP connects: $ms ms (RTT $RTT_MS ms)"

dst=$(siteb_ip direct)
step "through dvpnd, direct mode ($dst)"
out_before=$(wan_stat wanb ab.bytes_out)
expect_rc 0 "4 MiB each way, SHA-256 checked both ways" \
  client 30 bulk "$dst" "$BULK_PORT" --send 4MiB --recv 4MiB --timeout 25
expect_rc 0 "HTTP GET $GW_HTTP_PATH (1 MiB), body equals the file" http_get_ok "$dst"
# The status file is refreshed every second.
carried() { [ $(($(wan_stat wanb ab.bytes_out) - out_before)) -ge 4194304 ]; }
retry_for 3 carried || fail "the delay line did not carry the upload ($(wan_stat wanb ab.bytes_out) bytes a->b)"
for k in ab.lost ab.queue_drop ab.buffer_drop ba.lost ba.queue_drop ba.buffer_drop; do
  [ "$(wan_stat wanb "$k")" = 0 ] || fail "delay line counter $k = $(wan_stat wanb "$k"), expected 0"
done
pass "carried by the delay line, nothing dropped ($(wan_stat wanb ab.bytes_out) bytes a->b)"

step "blackhole on: the link is cut; off: it is back"
wan_blackhole wanb on
if connect_ms "$GWB_WAN" 22 1 >/dev/null 2>&1; then fail "gwA reached gwB:22 through the blackhole"; fi
pass "no TCP connect through the blackhole (2 s timeout)"
wan_blackhole wanb off
ms=$(connect_ms "$GWB_WAN" 22 1) || fail "no TCP connect after the blackhole was lifted"
pass "connect after the blackhole: $ms ms"
expect_rc 0 "dvpnd's session still serves after the outage" http_get_ok "$dst"
