#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# A destination inside vpn_networks but in no site is reset at once (< 1 s),
# IPv4 and IPv6; a clean EOF or a hang is a failure.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

step "destinations in no site"
expect_rc 0 "$NOSITE_IP:80 reset within 1 s" client 10 expect-reset "$NOSITE_IP" 80 --within 1
expect_rc 0 "[fd00:99::5]:80 reset within 1 s" client 10 expect-reset fd00:99::5 80 --within 1
expect_rc 0 "20 at once, each reset within 1 s" \
  client 10 expect-reset "$NOSITE_IP" 443 --within 1 --count 20 --concurrency 20
step "the daemon still serves sites"
expect_rc 0 "GET via site B afterwards" http_get_ok "$SRVB_IP"
