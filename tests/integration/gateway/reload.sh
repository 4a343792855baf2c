#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Live hosts changes while a long transfer to site B is flowing: a site
# appended to the hosts file, and a site dropped into hosts.d by atomic
# rename, each serve connections within 1 s; the running transfer completes
# with both SHA-256 sums right (reload never drops established connections).
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

step "before: $SRVC_IP and $SRVC_IP_EXTRA are in no site"
expect_rc 0 "$SRVC_IP reset" client 10 expect-reset "$SRVC_IP" "$HTTP_PORT" --within 1
expect_rc 0 "$SRVC_IP_EXTRA reset" client 10 expect-reset "$SRVC_IP_EXTRA" "$HTTP_PORT" --within 1

step "a long transfer to site B"
client_bg long 90 bulk "$SRVB_IP" "$BULK_PORT" --send 48MiB --recv 48MiB --rate 8MiB \
  --progress-file "$GW_DIR/long.progress" --timeout 85
retry_for 15 progress_at_least long 1048576 || { bg_finish long || true; fail "transfer did not start"; }

# takes_effect DESC DST — DST serves a GET within 1 s from now.
takes_effect() {
  local t0 ms
  t0=$(now_ms)
  retry_for 1 http_get_ok "$2" 2>/dev/null || fail "$1: $2 not served within 1 s"
  ms=$(($(now_ms) - t0))
  pass "$1: $2 served ${ms} ms after the change"
}

step "append a site to the hosts file"
hosts_append "10.30.0.1	sitec4	#!$GWC_WAN"
takes_effect "appended line" "$SRVC_IP"

step "drop a site file into hosts.d (atomic rename)"
hosts_drop sitec5.hosts "10.31.0.1	sitec5	#!$GW_USER@[$GWC_WAN6]:22 mode=direct"
takes_effect "dropped file" "$SRVC_IP_EXTRA"

_netlib_alive "${BG_PIDS[long]}" || info "note: the long transfer ended before the changes were checked"
expect_rc 0 "the transfer that ran across both reloads completed intact" bg_finish long
