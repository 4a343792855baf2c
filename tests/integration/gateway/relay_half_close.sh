#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Half-close through the relay: the client sends its request and shuts down
# its sending side; the server behind B replies only after it read EOF. The
# whole reply arrives (length and SHA-256), then FIN, in both modes: the EOF
# crosses A's tunnel, the inner session, the relay's channel, B's forwarded
# channel and B's sshd, and the reply comes back the same way.
set -euo pipefail
# shellcheck source=relay_topology.sh
. "$(dirname "$0")/relay_topology.sh"
relay_topology_up

for mode in netcat direct; do
  dst=$(siteb_ip "$mode")
  step "half-close through the relay, mode $mode ($dst)"
  half_close_checks "$mode" "$dst" 10 20
done
