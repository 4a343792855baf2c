#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# An IPv6 destination behind a site whose SSH endpoint is an IPv6 literal
# ([2001:db8:2::3]:22): IPv6 REDIRECT, IP6T_SO_ORIGINAL_DST, v6 far end.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

step "site C over IPv6 ([$SRVC_IP6])"
expect_rc 0 "GET [$SRVC_IP6]$GW_HTTP_PATH" http_get_ok "$SRVC_IP6"
expect_rc 0 "16 MiB each way to [$SRVC_IP6]" \
  client 60 bulk "$SRVC_IP6" "$BULK_PORT" --send 16MiB --recv 16MiB --timeout 50
expect_rc 0 "half-close to [$SRVC_IP6]" \
  client 30 halfclose "$SRVC_IP6" "$AFTER_EOF_PORT" --send 1KiB --reply 256KiB

# The connection log names an IPv6 LAN client in brackets, as accept() saw it.
dvpnd_log_has "conn \[$HOSTA_IP6\]:[0-9]+ -> \[$SRVC_IP6\]:$HTTP_PORT .*end=ok" ||
  fail "no connection log line naming the client [$HOSTA_IP6]"
pass "the log names the client [$HOSTA_IP6]"
