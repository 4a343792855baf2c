#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# limits.max_connections 5: with 5 connections open, a 6th is reset at once;
# the 5 keep working, and once they closed new connections are accepted again.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
GW_CONFIG_EXTRA=("limits: {max_connections: 5}")
gateway_topology_up

step "5 connections held open"
hold_open five "$SRVB_IP" 5
expect_rc 0 "6th connection reset within 1 s" \
  client 10 expect-reset "$SRVB_IP" "$HTTP_PORT" --within 1
expect_rc 0 "6th and 7th at once, both reset" \
  client 10 expect-reset "$SRVC_IP6" "$HTTP_PORT" --within 1 --count 2 --concurrency 2
expect_rc 0 "the 5 held connections are unaffected" hold_release five
step "below the limit again"
expect_rc 0 "a new connection works (within 2 s)" retry_for 2 http_get_ok "$SRVB_IP"
