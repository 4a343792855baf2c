#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# gwB's sshd no longer accepts dvpnd's key: connections to site B are reset
# within connect_timeout; site C (same key, still authorized there) works.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

step "authorized_keys on gwB emptied"
: >"$GW_AUTH_KEYS_B"
expect_rc 0 "reset within ${RESET_LIMIT_S}s on auth failure" \
  client 15 expect-reset "$SRVB_IP" "$HTTP_PORT" --within "$RESET_LIMIT_S"
expect_rc 0 "reset again (backoff or retry, still within ${RESET_LIMIT_S}s)" \
  client 15 expect-reset "$SRVB_DIRECT_IP" "$HTTP_PORT" --within "$RESET_LIMIT_S"
expect_rc 0 "site C (key still authorized there) works" http_get_ok "$SRVC_IP6"
