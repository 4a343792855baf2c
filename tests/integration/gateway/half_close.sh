#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The client sends its request and shuts down its sending side; the server
# replies only after it has read EOF. The whole reply must arrive (length and
# SHA-256), followed by FIN. Both modes, small and large.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

for mode in netcat direct; do
  dst=$(siteb_ip "$mode")
  step "half-close, mode $mode ($dst)"
  expect_rc 0 "empty request, 1 byte reply via $mode" \
    client 30 halfclose "$dst" "$AFTER_EOF_PORT" --send 0 --reply 1
  expect_rc 0 "100 KiB request, 4 MiB reply via $mode" \
    client 60 halfclose "$dst" "$AFTER_EOF_PORT" --send 100KiB --reply 4MiB --timeout 50
  expect_rc 0 "20 concurrent half-closes via $mode" \
    client 60 halfclose "$dst" "$AFTER_EOF_PORT" --send 10KiB --reply 64KiB --count 20 --concurrency 20
done
