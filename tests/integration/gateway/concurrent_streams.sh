#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# 64 concurrent connections each moving 4 MiB each way, in both modes; every
# stream's SHA-256 is checked in both directions.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
# The product's default connect_timeout rather than the suite's quick 3 s:
# this test is about the integrity of 64 simultaneous streams, and the far
# end forks one netcat per channel while 64 x 8 MiB flow; on a loaded
# 2-core box the last of 64 opens took 3-4 s (dvpnd debug log, "open after").
CONNECT_TIMEOUT_S=5
gateway_topology_up

for mode in netcat direct; do
  dst=$(siteb_ip "$mode")
  step "64 streams x 4 MiB each way, mode $mode ($dst)"
  expect_rc 0 "64 concurrent streams via $mode" \
    client 200 bulk "$dst" "$BULK_PORT" --send 4MiB --recv 4MiB --count 64 --concurrency 64 --timeout 180
done
