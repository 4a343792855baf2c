#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# B's sshd presents a new host key; A's known_hosts keeps the old one under
# the name the relay sees ([127.0.0.1]:2201). A's connections to site B are
# reset within connect_timeout, dvpnd logs an error naming the key and that
# name, and A never logs in on B. The relay's own session is unaffected.
set -euo pipefail
# shellcheck source=relay_topology.sh
. "$(dirname "$0")/relay_topology.sh"
relay_topology_up

step "regenerate gwB's host key (gwA's known_hosts keeps the old one)"
sshd_rekey_host gwB 22
for mode in netcat direct; do
  expect_rc 0 "reset within ${RESET_LIMIT_S}s on B's host key mismatch ($mode)" \
    client 15 expect-reset "$(siteb_ip "$mode")" "$HTTP_PORT" --within "$RESET_LIMIT_S"
done
want="host key for \[127\.0\.0\.1\]:$RELAY_PORT CHANGED: server offered ssh-ed25519 SHA256:"
retry_for 2 dvpnd_log_has "$want" || fail "dvpnd's log has no error naming B's key as the relay sees it"
pass "dvpnd: $(grep -Eo -m1 "$want[^ ]*" "$DVPND_LOG")"
if grep -q "Accepted publickey for $GW_USER" "$(sshd_log gwB 22)"; then
  fail "dvpnd logged in on gwB despite the host key mismatch"
fi
pass "no login on gwB"
dvpnd_log_has "session [0-9]+ to $DVJ_USER@$RELAY_A:22 ready" || fail "the relay's session never came up"
pass "the relay's own session came up (only B's key is refused)"
