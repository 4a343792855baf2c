#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# HTTP GET from hostA to srvB by IP through dvpnd, in both modes: the body
# equals the served file and ends with the server's FIN. Repeated GETs reuse
# the gateway's session.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

for mode in netcat direct; do
  dst=$(siteb_ip "$mode")
  step "site B, mode $mode ($dst)"
  expect_rc 0 "GET $GW_HTTP_PATH via $mode" http_get_ok "$dst"
  expect_rc 0 "5 more GETs via $mode" \
    client 30 get "$dst" "$HTTP_PORT" --path "$GW_HTTP_PATH" --expect-file "$GW_HTTP_FILE" --count 5
done

# The connection log names the LAN client as accept() saw it.
dvpnd_log_has "conn ${HOSTA_IP//./\\.}:[0-9]+ -> $(siteb_ip direct | sed 's/\./\\./g'):$HTTP_PORT site=siteb-direct mode=direct .*end=ok" ||
  fail "no connection log line naming the client $HOSTA_IP"
pass "the log names the client $HOSTA_IP"
