#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Clients that never read (issue #11 item 9). 300 LAN clients in direct mode
# each ask srvB for 64 MiB and read nothing. Each channel's window is memory
# the far end may fill, so before the budget dvpnd grew ~250 KB per such
# client (256 KiB windows) and new connections' opens queued behind the
# bulk already in flight. Now a window starts at 16 KiB and grows only while
# its client keeps up, from limits.buffer_budget (8 MiB here): dvpnd's RSS
# may grow by at most the budget plus 48 KiB a client (the floor window,
# one read kept back, libssh2's own per-channel state), 20 GETs at once
# meanwhile are each served within 2 s, and a 16 MiB transfer in both
# directions still runs, SHA-exact. Every stalled connection is still open
# at the end (a slow reader is not an error). Under AddressSanitizer RSS is
# not compared (its allocator quarantines and pads memory); the rest is.
set -euo pipefail
GW_CONFIG_EXTRA=("limits: {buffer_budget: 8MiB}")
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
ulimit -n "$(ulimit -Hn)"
gateway_topology_up
STALLED=300
BUDGET_KIB=$((8 * 1024))
PER_CLIENT_KIB=48
dst=$(siteb_ip direct)

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$DVPND_PID/status"; }

step "warm up: a GET and a 16 MiB transfer each way, then dvpnd's RSS as the baseline"
expect_rc 0 "GET through site B (direct)" http_get_ok "$dst"
expect_rc 0 "16 MiB each way" client 60 bulk "$dst" "$BULK_PORT" --send 16MiB --recv 16MiB
sleep 1
base=$(rss_kib)
info "dvpnd RSS before: $base KiB"

step "$STALLED clients ask for 64 MiB each and never read"
rm -f "$GW_DIR/stall.ready" "$GW_DIR/stall.go"
client_bg stall 300 stall "$dst" "$BULK_PORT" --count "$STALLED" --recv 64MiB \
  --ready-file "$GW_DIR/stall.ready" --go-file "$GW_DIR/stall.go" --hold-max 200
retry_for 120 _bg_ready stall || fail "stalled clients not connected in time"
[ -f "$GW_DIR/stall.ready" ] || { bg_finish stall || true; fail "could not open $STALLED stalled connections"; }
pass "$STALLED stalled connections open"
sleep 3   # the far end fills every window it was given

step "while they stall: 20 GETs at once, each within 2 s, and 16 MiB each way"
expect_rc 0 "20 GETs at once" client 30 get "$dst" "$HTTP_PORT" --path "$GW_HTTP_PATH" \
  --expect-file "$GW_HTTP_FILE" --count 20 --concurrency 20 --timeout 2
expect_rc 0 "16 MiB each way, SHA-exact" client 60 bulk "$dst" "$BULK_PORT" --send 16MiB --recv 16MiB

step "dvpnd's memory stays within the budget"
if ldd "$DVPND" | grep -q libasan; then
  # ASan's allocator keeps freed memory in quarantine and pads every block,
  # so RSS says nothing about what dvpnd holds; the normal build's run checks it.
  info "RSS not compared: dvpnd runs under AddressSanitizer (RSS grew by $(($(rss_kib) - base)) KiB)"
else
  now=$(rss_kib)
  grown=$((now - base))
  limit=$((BUDGET_KIB + STALLED * PER_CLIENT_KIB))
  info "dvpnd RSS after: $now KiB, grown by $grown KiB ($((grown / STALLED)) KiB a stalled client); limit $limit KiB"
  [ "$grown" -le "$limit" ] || fail "RSS grew by $grown KiB, above budget + $STALLED x $PER_CLIENT_KIB KiB ($limit KiB)"
  pass "RSS grew by $grown KiB for $STALLED stalled clients (limit $limit KiB)"
fi

step "every stalled connection is still open"
touch "$GW_DIR/stall.go"
expect_rc 0 "no stalled connection was reset or ended" bg_finish stall
