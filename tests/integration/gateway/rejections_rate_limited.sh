#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Rejections do not flood the log: 200 connections straight to dvpnd's
# listener (not redirected), then 200 past limits.max_connections, each make
# only a handful of warning lines; the others go to debug, and the next line
# that speaks says how many were reset meanwhile, so every rejection is
# accounted for. A WAN host looping on :7007 used to write one warning each.
set -euo pipefail
GW_CONFIG_EXTRA=("limits: {max_connections: 2}")
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

MAX_LOUD=8   # warning lines allowed per burst of 200 (one per second of burst, and then some)
# accounted LOUD_REGEX COUNT_REGEX — prints "LOUD SUPPRESSED": warning lines
# matching LOUD_REGEX, and the sum of the counts (first number captured by
# sed -E COUNT_REGEX) in warning lines matching it.
accounted() {
  local loud sum
  loud=$(grep -c "dvpnd: warning: .*$1" "$DVPND_LOG" || true)
  sum=$(grep "dvpnd: warning: " "$DVPND_LOG" | sed -nE "s/.*$2.*/\1/p" | awk '{s += $1} END {print s + 0}')
  echo "$loud $sum"
}

step "200 connections to the listener itself (not redirected)"
expect_rc 0 "200 resets" client 60 expect-reset "$GWA_LAN" "$LISTEN_PORT" --count 200 --concurrency 1 --within 2
read -r loud sum < <(accounted 'end=not-redirected' 'warning: ([0-9]+) more connections to the listener itself \(not redirected\) were reset')
info "$loud warning lines for 200 rejections, $sum reported as suppressed so far"
[ "$loud" -le "$MAX_LOUD" ] || fail "$loud warning lines for 200 not-redirected connections (at most $MAX_LOUD)"
sleep 1.2
expect_rc 0 "one more, after the rate limit's interval" client 10 expect-reset "$GWA_LAN" "$LISTEN_PORT" --within 2
read -r loud sum < <(accounted 'end=not-redirected' 'warning: ([0-9]+) more connections to the listener itself \(not redirected\) were reset')
[ $((loud + sum)) = 201 ] || fail "not-redirected: $loud warned + $sum reported suppressed, expected 201 in all"
pass "not-redirected: 201 rejections, $loud warning lines, $sum counted in: $(grep -m1 'more connections to the listener itself' "$DVPND_LOG" | sed 's/.*dvpnd: //')"
[ "$(grep -c 'debug: conn .*end=not-redirected' "$DVPND_LOG")" = "$sum" ] ||
  fail "the suppressed ones are not all at debug level"

step "2 connections held (max_connections 2), then 200 more"
hold_open two "$SRVB_IP" 2
expect_rc 0 "200 resets" client 60 expect-reset "$SRVC_IP6" "$HTTP_PORT" --count 200 --concurrency 10 --within 2
sleep 5.2   # the max_connections warning speaks every 5 s
expect_rc 0 "one more, after the rate limit's interval" client 10 expect-reset "$SRVC_IP6" "$HTTP_PORT" --within 2
read -r loud sum < <(accounted 'end=max-connections' 'max_connections \(2\) reached; resetting new connections \(([0-9]+) similar suppressed\)')
info "$loud warning lines for 201 rejections, $sum reported as suppressed"
[ "$loud" -le "$MAX_LOUD" ] || fail "$loud warning lines for 201 max-connections rejections (at most $MAX_LOUD)"
[ $((loud + sum)) = 201 ] || fail "max-connections: $loud warned + $sum reported suppressed, expected 201 in all"
pass "max-connections: 201 rejections, $loud warning lines, $sum counted in: $(grep 'max_connections (2) reached' "$DVPND_LOG" | tail -1 | sed 's/.*dvpnd: //')"
expect_rc 0 "the 2 held connections are unaffected" hold_release two
info "dvpnd's log: $(grep -c 'dvpnd: warning' "$DVPND_LOG") warning lines in all"
