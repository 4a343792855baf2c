#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# A site with two paths whose first far end authenticates but cannot reach
# the site (#15 item 2): path 1 is gwC, which reaches site B's LAN only
# through a link to gwB (gwc_to_siteb_up), path 2 is gwB. In each mode:
#  1. gwC's route to site B is gone from the start: the first connection,
#     over path 1, is reset with the far end's answer; that failure is
#     probed at once and path 1 judged unhealthy; the status names path 2
#     and why; the next connection is served by path 2.
#  2. The route is back: the next probe of path 1 succeeds and new
#     connections return to it, while a transfer on path 2 finishes intact.
#  3. The route goes while path 1 carries the site: the periodic probe of
#     the path in use finds it before any connection fails, and the next
#     connection is served by path 2 at once.
set -euo pipefail
PROBE_INTERVAL_S=2
GW_SSH_EXTRA=("probe_interval: ${PROBE_INTERVAL_S}s")
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up
gwc_to_siteb_up
path1="$GW_USER@$GWC_WAN:22"
path2="$GW_USER@$GWB_WAN:22"
# A probe runs within probe_interval and takes a channel open or two.
PROBE_LIMIT_MS=$(((PROBE_INTERVAL_S + CONNECT_TIMEOUT_S) * 1000))

hosts_drop unhealthy.hosts "10.21.0.1	hu-direct	#!$path1,$path2	subnet=$SRVB_DIRECT_IP/32	mode=direct
10.20.0.1	hu-netcat	#!$path1,$path2	subnet=$SRVB_IP/32	mode=netcat"
retry_for 5 dvpnd_log_has "hosts reloaded .*: 5 sites" || fail "dvpnd did not reload the hosts map"

# on_path_within SITE N LIMIT_MS WHY — SITE's new connections take path N
# within LIMIT_MS of $T0; sets TOOK_MS.
on_path_within() {
  local limit_s
  limit_s=$(awk -v ms="$3" 'BEGIN { printf "%.3f", ms / 1000 }')
  retry_for "$limit_s" site_on_path "$1" "$2" || fail "$1 not on path $2 within $3 ms: $4"
  TOOK_MS=$(($(now_ms) - T0))
  pass "$1 on path $2 after $TOOK_MS ms"
}

# served_by ENDPOINT DST — one GET to DST within 2.5 s, carried by ENDPOINT's pool.
served_by() {
  local before
  before=$(connections_via "$1")
  get_within "$2" 2500 "a healthy path serves at once"
  [ "$(connections_via "$1")" -gt "$before" ] || fail "the GET did not go over $1"
}

for mode in direct netcat; do
  site=hu-$mode
  dst=$(siteb_ip "$mode")

  step "$mode: path 1's far end cannot reach the site from the start"
  gwc_to_siteb break
  T0=$(now_ms)
  if http_get_ok "$dst" >/dev/null 2>&1; then fail "a GET over path 1 worked without a route"; fi
  pass "the first connection over path 1 was reset"
  on_path_within "$site" 2 "$((CONNECT_TIMEOUT_S * 1000))" "the failure's probe should judge path 1"
  line=$(ns_exec gwA timeout 5 "$DVPND" -c "$DVPND_CONF" --status | grep "^$site ")
  info "status: $line"
  case $line in
    *"$path2"*"path 2 of 2 (path 1 unhealthy: far end cannot reach $dst port $HTTP_PORT: "*) pass "status names path 2 and why" ;;
    *) fail "status does not say path 2 and why: $line" ;;
  esac
  served_by "$path2" "$dst"

  step "$mode: path 1's far end reaches the site again"
  client_bg long 60 bulk "$dst" "$BULK_PORT" --send 3MiB --recv 3MiB --rate 1MiB --progress-file "$GW_DIR/long.progress"
  retry_for 10 progress_at_least long 65536 || fail "the transfer on path 2 did not start"
  gwc_to_siteb repair
  T0=$(now_ms)
  on_path_within "$site" 1 "$PROBE_LIMIT_MS" "path 1's next probe should succeed"
  [ -z "$(site_status "$site" path_why)" ] || fail "status still gives a reason: $(site_status "$site" path_why)"
  expect_rc 0 "the transfer on path 2 finished intact (SHA-256 both ways)" bg_finish long
  served_by "$path1" "$dst"

  step "$mode: path 1's far end loses the site while in use"
  gwc_to_siteb break
  T0=$(now_ms)
  on_path_within "$site" 2 "$PROBE_LIMIT_MS" "the periodic probe of the path in use should find it"
  served_by "$path2" "$dst"
  gwc_to_siteb repair
  T0=$(now_ms)
  on_path_within "$site" 1 "$PROBE_LIMIT_MS" "path 1's next probe should succeed"
done
