#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The far end cannot reach the destination (closed port on srvB): the client
# gets RST (nc exits non-zero before data / direct-tcpip open refused), in both
# modes, and the gateway's session keeps serving other connections.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

for mode in netcat direct; do
  dst=$(siteb_ip "$mode")
  step "closed port $dst:$CLOSED_PORT, mode $mode"
  expect_rc 0 "refused target reset via $mode (cold session)" \
    client 15 expect-reset "$dst" "$CLOSED_PORT" --within "$RESET_LIMIT_S"
  expect_rc 0 "refused target reset via $mode (warm session)" \
    client 15 expect-reset "$dst" "$CLOSED_PORT" --within "$RESET_LIMIT_S"
  expect_rc 0 "GET via $mode still works" http_get_ok "$dst"
done
