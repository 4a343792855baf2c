#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# SIGTERM drains (dvpnd(8), SIGNALS): dvpnd stops accepting at once, a transfer
# in flight finishes intact within limits.shutdown_grace, and dvpnd exits 0.
# A transfer still running when the grace period ends is reset, never cut
# short with a clean EOF.
set -euo pipefail
GW_CONFIG_EXTRA=("limits: {shutdown_grace: 4s}")
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up
dst=$(siteb_ip direct)

# download NAME SIZE — a rate-limited download in the background, started
# and seen flowing before returning.
download() {
  client_bg "$1" 60 bulk "$dst" "$BULK_PORT" --recv "$2" --rate 4MiB --rcvbuf 64KiB --progress-file "$GW_DIR/$1.progress" --timeout 55
  retry_for 15 progress_at_least "$1" 262144 || { bg_finish "$1" || true; fail "download $1 did not start"; }
}

# terminate — SIGTERM to dvpnd; sets EXIT_RC once it has exited.
terminate() {
  kill -TERM "$DVPND_PID"
}

step "a 10 MiB download at 4 MiB/s (about 2.5 s) outlives SIGTERM and completes"
download short 10MiB
terminate
expect_rc 4 "a new connection after SIGTERM is refused" client 10 get "$dst" "$HTTP_PORT" --path "$GW_HTTP_PATH"
expect_rc 0 "the download in flight completed, every byte checked" bg_finish short
wait_pid "$DVPND_PID"
[ "$WAIT_RC" = 0 ] || fail "dvpnd exited with $WAIT_RC after draining, expected 0"
dvpnd_log_has "stopping: 1 connections draining" || fail "no drain log line"
pass "drained and exited 0"

step "a 256 MiB download at 4 MiB/s outlives the 4 s grace period and is reset"
dvpnd_start
download long 256MiB
t0=$(now_ms)
terminate
expect_rc 3 "the cut-off download is reset (exit 3 = RST), not ended cleanly" bg_finish long
waited=$(($(now_ms) - t0))
info "reset ${waited} ms after SIGTERM"
[ "$waited" -ge 3500 ] && [ "$waited" -le 8000 ] || fail "reset after ${waited} ms, expected about the 4 s grace"
wait_pid "$DVPND_PID"
[ "$WAIT_RC" = 0 ] || fail "dvpnd exited with $WAIT_RC after the grace period, expected 0"
pass "reset at the end of the grace period and exited 0"
