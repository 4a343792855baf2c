#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Prometheus metrics after a known load, scraped by a real client (curl on
# metrics_listen, gwA's loopback) and over the control socket (dvpnd
# --metrics): both pages pass `promtool check metrics`, and the counters
# match the traffic exactly — 5 GETs of the 1 MiB file via netcat mode, 3 via
# direct, 2 connections to no site, the closed port once in each mode, one
# SIGHUP — with the histograms' counts, the session gauges and the HTTP
# listener's 404/405/431 answers and its 10 s limit on a silent client; then
# an unreachable endpoint's handshake failures and reconnect.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
METRICS_PORT=9107
GW_CONFIG_EXTRA+=("metrics_listen: 127.0.0.1:$METRICS_PORT")

command -v promtool >/dev/null || { echo "promtool missing (Debian package prometheus)" >&2; exit 77; }
command -v curl >/dev/null || { echo "curl missing" >&2; exit 77; }
gateway_topology_up
wait_port gwA "$METRICS_PORT" 10 || fail "dvpnd does not listen on 127.0.0.1:$METRICS_PORT"

ENDPOINT="$GW_USER@$GWB_WAN:22"
MIB=1048576

# scrape FILE — the page from the HTTP listener into FILE.
scrape() { ns_exec gwA curl -sS --max-time 5 -o "$1" "http://127.0.0.1:$METRICS_PORT/metrics"; }
# value FILE SERIES — the value of SERIES (name{labels} exactly as written), or "absent".
value() { awk -v k="$2" '$1 == k { v = $2 } END { print (v == "" ? "absent" : v) }' "$1"; }
# expect_value FILE SERIES WANT — SERIES has exactly the value WANT.
expect_value() {
  local got
  got=$(value "$1" "$2")
  [ "$got" = "$3" ] || fail "$2 is $got, expected $3"
  pass "$2 $got"
}
# expect_at_least FILE SERIES MIN
expect_at_least() {
  local got
  got=$(value "$1" "$2")
  if [ "$got" = absent ] || ! awk -v g="$got" -v m="$3" 'BEGIN { exit !(g + 0 >= m + 0) }'; then
    fail "$2 is $got, expected at least $3"
  fi
  pass "$2 $got (>= $3)"
}
# settled FILE N — scraped into FILE: no connection is live and N have ended.
settled() {
  scrape "$1" || return 1
  [ "$(value "$1" dvpn_connections_active)" = 0 ] &&
    [ "$(awk '/^dvpn_connections_total\{/ { n += $2 } END { print n + 0 }' "$1")" = "$2" ]
}

step "the page before any traffic"
scrape "$GW_DIR/before.prom" || fail "curl could not fetch /metrics"
promtool check metrics <"$GW_DIR/before.prom" || fail "promtool: the empty page is not valid"
pass "promtool check metrics: the page before traffic is valid"
expect_value "$GW_DIR/before.prom" dvpn_sites 3
expect_value "$GW_DIR/before.prom" dvpn_connections_active 0
version=$("$DVPND" --version | awk '{ print $2 }')
expect_value "$GW_DIR/before.prom" "dvpn_build_info{version=\"$version\"}" 1

step "a known load"
expect_rc 0 "5 GETs of 1 MiB via netcat mode" \
  client 60 get "$SRVB_IP" "$HTTP_PORT" --path "$GW_HTTP_PATH" --expect-file "$GW_HTTP_FILE" --count 5
expect_rc 0 "3 GETs of 1 MiB via direct mode" \
  client 60 get "$SRVB_DIRECT_IP" "$HTTP_PORT" --path "$GW_HTTP_PATH" --expect-file "$GW_HTTP_FILE" --count 3
expect_rc 0 "2 connections to no site, reset" client 10 expect-reset "$NOSITE_IP" 80 --within 1 --count 2
expect_rc 0 "the closed port via netcat mode, reset" \
  client 15 expect-reset "$SRVB_IP" "$CLOSED_PORT" --within "$RESET_LIMIT_S"
expect_rc 0 "the closed port via direct mode, reset" \
  client 15 expect-reset "$SRVB_DIRECT_IP" "$CLOSED_PORT" --within "$RESET_LIMIT_S"
kill -HUP "$DVPND_PID"
retry_for 10 dvpnd_log_has "hosts reloaded \(SIGHUP\)" || fail "no reload after SIGHUP"

step "scraped with curl"
P=$GW_DIR/after.prom
retry_for 10 settled "$P" 12 || fail "the page never showed 12 ended connections and none live"
headers=$(ns_exec gwA curl -sS --max-time 5 -D - -o /dev/null "http://127.0.0.1:$METRICS_PORT/metrics")
grep -qi '^Content-Type: text/plain; version=0.0.4' <<<"$headers" || fail "wrong Content-Type: $headers"
pass "Content-Type: text/plain; version=0.0.4"
promtool check metrics <"$P" || fail "promtool: the page is not valid"
pass "promtool check metrics: the page after traffic is valid"
expect_value "$P" 'dvpn_connections_total{site="siteb",result="ok"}' 5
expect_value "$P" 'dvpn_connections_total{site="siteb",result="far_end_failed"}' 1
expect_value "$P" 'dvpn_connections_total{site="siteb-direct",result="ok"}' 3
expect_value "$P" 'dvpn_connections_total{site="siteb-direct",result="far_end_refused"}' 1
expect_value "$P" 'dvpn_connections_total{site="",result="no_site"}' 2
n=$(grep -c '^dvpn_connections_total{' "$P")
[ "$n" = 5 ] || fail "$n dvpn_connections_total series, expected the 5 above: $(grep '^dvpn_connections_total{' "$P")"
pass "no other dvpn_connections_total series"
expect_at_least "$P" 'dvpn_bytes_total{site="siteb",direction="down"}' $((5 * MIB))
expect_at_least "$P" 'dvpn_bytes_total{site="siteb-direct",direction="down"}' $((3 * MIB))
down=$(value "$P" 'dvpn_bytes_total{site="siteb",direction="down"}')
[ "$down" -lt $((5 * MIB + 5 * 4096)) ] || fail "siteb down $down: more than 5 MiB plus headers"
pass "siteb down $down is the 5 bodies plus their headers"
expect_at_least "$P" 'dvpn_bytes_total{site="siteb",direction="up"}' 5
# Every connection with a site ends in the duration histogram; a channel
# opened for the 8 GETs and the netcat one (nc started, then failed), not
# for the refused direct-tcpip open.
expect_value "$P" dvpn_connection_duration_seconds_count 10
expect_value "$P" 'dvpn_connection_duration_seconds_bucket{le="+Inf"}' 10
expect_value "$P" dvpn_channel_open_duration_seconds_count 9
expect_value "$P" 'dvpn_channel_open_duration_seconds_bucket{le="+Inf"}' 9
expect_at_least "$P" 'dvpn_channel_open_duration_seconds_bucket{le="1"}' 8
expect_value "$P" dvpn_connections_active 0
expect_at_least "$P" "dvpn_sessions{endpoint=\"$ENDPOINT\",state=\"ready\"}" 1
expect_value "$P" "dvpn_sessions{endpoint=\"$ENDPOINT\",state=\"connecting\"}" 0
expect_value "$P" "dvpn_channels{endpoint=\"$ENDPOINT\"}" 0
expect_value "$P" "dvpn_session_failures_total{endpoint=\"$ENDPOINT\",stage=\"handshake\"}" 0
expect_value "$P" "dvpn_session_failures_total{endpoint=\"$ENDPOINT\",stage=\"established\"}" 0
expect_value "$P" "dvpn_session_reconnects_total{endpoint=\"$ENDPOINT\"}" 0
expect_value "$P" 'dvpn_hosts_reloads_total{result="ok"}' 1
expect_value "$P" 'dvpn_hosts_reloads_total{result="failed"}' 0
expect_value "$P" dvpn_sites 3

step "the same over the control socket (dvpnd --metrics)"
C=$GW_DIR/control.prom
ns_exec gwA "$DVPND" -c "$DVPND_CONF" --metrics >"$C" || fail "dvpnd --metrics failed"
promtool check metrics <"$C" || fail "promtool: dvpnd --metrics output is not valid"
pass "promtool check metrics: dvpnd --metrics output is valid"
# Nothing moved since: every counter and gauge is the same on both pages.
diff <(grep -v '^#' "$P") <(grep -v '^#' "$C") || fail "dvpnd --metrics differs from the HTTP page"
pass "dvpnd --metrics gives the same samples as GET /metrics"

step "the HTTP listener's other answers"
code() { ns_exec gwA curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "http://127.0.0.1:$METRICS_PORT/")" = 404 ] || fail "GET / is not 404"
pass "GET / 404"
[ "$(code "http://127.0.0.1:$METRICS_PORT/metrics?x=1")" = 200 ] || fail "GET /metrics?x=1 is not 200"
pass "GET /metrics?x=1 200"
[ "$(code -X POST "http://127.0.0.1:$METRICS_PORT/metrics")" = 405 ] || fail "POST /metrics is not 405"
pass "POST /metrics 405"
# A client that sends a head over 8 KiB gets 431; one that says nothing is
# closed after 10 s; neither holds up a scrape meanwhile.
big=$(head -c 9000 /dev/zero | tr '\0' a)
[ "$(code -H "X-Big: $big" "http://127.0.0.1:$METRICS_PORT/metrics")" = 431 ] || fail "a 9 KB head is not 431"
pass "a 9 KB request head 431"
spawn gwA "$GW_DIR/silent.log" timeout 30 nc 127.0.0.1 "$METRICS_PORT"
silent=$SPAWNED_PID
sleep 0.5
[ "$(code "http://127.0.0.1:$METRICS_PORT/metrics")" = 200 ] || fail "scrape beside a silent client failed"
pass "a scrape beside a silent client: 200"
retry_for 13 eval '! _netlib_alive '"$silent" || fail "the silent client was not closed within 10 s"
pass "the silent client was closed by the listener"

step "an unreachable endpoint: handshake failures and a reconnect"
DEAD_ENDPOINT="$GW_USER@$GWC_WAN:2222"  # nothing listens there
hosts_drop dead.hosts "10.31.0.1	deadsite	#!$GWC_WAN:2222"
retry_for 10 dvpnd_log_has "hosts reloaded \(file change\): 4 sites" || fail "dead.hosts not loaded"
expect_rc 0 "a connection to deadsite is reset" \
  client 15 expect-reset "$SRVC_IP_EXTRA" "$HTTP_PORT" --within "$RESET_LIMIT_S"
sleep 1.5  # past the 1 s backoff, so the next connection starts a session again
expect_rc 0 "another, after the backoff, is reset" \
  client 15 expect-reset "$SRVC_IP_EXTRA" "$HTTP_PORT" --within "$RESET_LIMIT_S"
D=$GW_DIR/dead.prom
retry_for 10 settled "$D" 14 || fail "the page never showed 14 ended connections"
promtool check metrics <"$D" || fail "promtool: the page is not valid"
pass "promtool check metrics: valid"
expect_value "$D" 'dvpn_connections_total{site="deadsite",result="gateway_unreachable"}' 2
expect_value "$D" "dvpn_session_failures_total{endpoint=\"$DEAD_ENDPOINT\",stage=\"handshake\"}" 2
expect_value "$D" "dvpn_session_failures_total{endpoint=\"$DEAD_ENDPOINT\",stage=\"established\"}" 0
expect_value "$D" "dvpn_session_reconnects_total{endpoint=\"$DEAD_ENDPOINT\"}" 1
expect_value "$D" "dvpn_sessions{endpoint=\"$DEAD_ENDPOINT\",state=\"ready\"}" 0
expect_value "$D" 'dvpn_bytes_total{site="deadsite",direction="down"}' 0
expect_value "$D" dvpn_channel_open_duration_seconds_count 9
expect_value "$D" dvpn_connection_duration_seconds_count 12
expect_value "$D" 'dvpn_hosts_reloads_total{result="ok"}' 2
expect_value "$D" dvpn_sites 4
# The gateway that works is untouched.
expect_value "$D" "dvpn_session_failures_total{endpoint=\"$ENDPOINT\",stage=\"handshake\"}" 0
expect_value "$D" "dvpn_session_reconnects_total{endpoint=\"$ENDPOINT\"}" 0
