#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# gwB's sshd session processes are killed while downloads through both modes
# are flowing: each in-flight connection is reset (RST, never a clean short
# EOF) within a few seconds, and the next connections reconnect and work.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

step "two slow 1 GiB downloads through site B (netcat and direct)"
for mode in netcat direct; do
  client_bg "dl-$mode" 60 bulk "$(siteb_ip "$mode")" "$BULK_PORT" --recv 1GiB --rate 8MiB \
    --progress-file "$GW_DIR/dl-$mode.progress" --timeout 55
done
for mode in netcat direct; do
  retry_for 15 progress_at_least "dl-$mode" 1048576 || { bg_finish "dl-$mode" || true; fail "download via $mode did not start"; }
done

step "kill every sshd session process under gwB's listener"
victims=$(gw_session_pids | tr '\n' ' ')
[ -n "$victims" ] || fail "no sshd session process under gwB's sshd"
info "killing $victims"
# shellcheck disable=SC2086
kill -KILL $victims
t0=$(now_ms)
for mode in netcat direct; do
  expect_rc 3 "in-flight download via $mode reset (exit 3 = RST)" bg_finish "dl-$mode"
done
waited=$(($(now_ms) - t0))
info "both resets seen ${waited} ms after the kill"
[ "$waited" -le 5000 ] || fail "resets took ${waited} ms after the session died"

step "next connections reconnect"
for mode in netcat direct; do
  expect_rc 0 "GET via $mode after the session died" http_get_ok "$(siteb_ip "$mode")"
done
