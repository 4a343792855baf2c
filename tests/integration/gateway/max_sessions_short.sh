#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Netcat mode against sshd's default MaxSessions 10: 500 short HTTP exchanges,
# 100 at a time, all succeed (the pool must spread exec channels over
# several SSH sessions instead of tripping "no more sessions").
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
GW_SSHD_B_EXTRA=("MaxSessions 10")
gateway_topology_up

step "500 GETs, 100 concurrent, netcat mode"
expect_rc 0 "500 short exchanges at concurrency 100" \
  client 170 get "$SRVB_IP" "$HTTP_PORT" --path "$GW_SMALL_PATH" --expect-file "$GW_SMALL_FILE" \
  --count 500 --concurrency 100 --timeout 30
info "sshd on gwB refused $(grep -c 'no more sessions' "$(sshd_log gwB 22)" || true) session opens"
