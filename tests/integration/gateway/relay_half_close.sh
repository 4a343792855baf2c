#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Half-close through the relay, from both dialing sites (A and E, each with
# its own dvpnd): the client sends its request and shuts down its sending
# side; the server behind B replies only after it read EOF. The whole reply
# arrives (length and SHA-256), then FIN, in both modes: the EOF crosses the
# site's tunnel, the inner session, the relay's channel, B's forwarded
# channel and B's sshd, and the reply comes back the same way.
# RELAY_SECOND_SITE=0 runs the same checks from A alone.
set -euo pipefail
RELAY_SECOND_SITE=${RELAY_SECOND_SITE:-1}
# shellcheck source=relay_topology.sh
. "$(dirname "$0")/relay_topology.sh"
relay_topology_up

for mode in netcat direct; do
  dst=$(siteb_ip "$mode")
  for s in $(relay_dialing_sites); do
    step "half-close through the relay from $s, mode $mode ($dst)"
    from_site "$s" half_close_checks "$mode" "$dst" 10 20
  done
done
