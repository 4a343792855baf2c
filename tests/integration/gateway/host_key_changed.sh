#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# gwB presents a host key that differs from known_hosts (host_key_policy
# strict, the default): connections to site B are reset within
# connect_timeout, nothing is forwarded, and dvpnd logs an error naming the
# host key. Other gateways keep working.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

step "regenerate gwB's host key (known_hosts on gwA keeps the old one)"
sshd_rekey_host gwB 22
expect_rc 0 "reset within ${RESET_LIMIT_S}s on host key mismatch" \
  client 15 expect-reset "$SRVB_IP" "$HTTP_PORT" --within "$RESET_LIMIT_S"
expect_rc 0 "direct mode too" \
  client 15 expect-reset "$SRVB_DIRECT_IP" "$HTTP_PORT" --within "$RESET_LIMIT_S"
retry_for 2 dvpnd_log_has 'host.?key' || fail "dvpnd's log has no line about the host key"
pass "dvpnd logged the host key problem: $(grep -Ei -m1 'host.?key' "$DVPND_LOG")"
if grep -q "Accepted publickey for $GW_USER" "$(sshd_log gwB 22)"; then
  fail "dvpnd authenticated to gwB despite the host key mismatch"
fi
pass "no login on gwB"
expect_rc 0 "site C unaffected" http_get_ok "$SRVC_IP6"
