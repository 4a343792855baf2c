#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Malformed site lines appended to the hosts file change nothing for traffic:
# existing sites and open connections keep working, the bad lines route
# nothing, and dvpnd warns with FILE:LINE for each.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

step "baseline"
hold_open open3 "$SRVB_IP" 3
expect_rc 0 "$SRVC_IP_EXTRA is in no site" \
  client 10 expect-reset "$SRVC_IP_EXTRA" "$HTTP_PORT" --within 1

step "append malformed site lines for $SRVC_IP_EXTRA's subnet"
hosts_append "10.31.0.1	bad-option	#!$GWC_WAN frobnicate=yes"
line1=$(wc -l <"$GW_HOSTS")
hosts_append "10.31.0.1	bad-endpoint	#![$GWC_WAN6:22"
line2=$(wc -l <"$GW_HOSTS")
for n in "$line1" "$line2"; do
  retry_for 2 dvpnd_log_has "hosts:$n([^0-9]|$)" || fail "no warning naming hosts:$n"
  pass "warning for hosts:$n: $(grep -E -m1 "hosts:$n([^0-9]|$)" "$DVPND_LOG")"
done

step "traffic after the bad edit"
expect_rc 0 "$SRVC_IP_EXTRA still in no site" \
  client 10 expect-reset "$SRVC_IP_EXTRA" "$HTTP_PORT" --within 1
for mode in netcat direct; do
  expect_rc 0 "site B via $mode still served" http_get_ok "$(siteb_ip "$mode")"
done
expect_rc 0 "site C still served" http_get_ok "$SRVC_IP6"
expect_rc 0 "connections open across the edit still work" hold_release open3
