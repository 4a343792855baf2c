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
  half_close_checks "$mode" "$dst" 20 55
done
