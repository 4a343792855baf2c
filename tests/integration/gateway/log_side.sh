#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The log side of dvpnd(8) FAILURES, line by line and counted:
#  a) no-site: 50 connections in well under a second each get RST; one
#     warning line for them, the others at debug level, and the next loud
#     one says "49 more connections to addresses without a site were reset";
#  b) every channel busy (1 session of 1 channel): connections that waited
#     connect_timeout are reset, the "all 1 sessions at their channel limit"
#     warning speaks at most every 5 s and counts the ones it held back;
#  c) max_connections: "max_connections (2) reached" at most every 5 s, with
#     the count of resets since the last one; those conn lines at debug, and
#     each names its DEST (the original destination, as every conn line must);
#  d) a refused port: the far end's reason in the conn line, netcat mode
#     (busybox nc's stderr) and direct mode (libssh2's refusal);
#  e) backoff per gateway: gwB's sshd stopped, its failed attempts log
#     "(next attempt in 1s)", "2s", "4s"; connections during a wait are reset
#     at once without an attempt; gwC serves all along; gwB serves again once
#     its sshd is back and the wait is over.
# dvpnd is restarted for each part (fresh log, fresh rate limiters); its log is
# followed by tools/logstamp.py to time the rate-limited lines.
set -euo pipefail
GW_START_DVPND=0
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

GWB_KEY="$GW_USER@$GWB_WAN:22"
GWC_KEY="$GW_USER@[$GWC_WAN6]:22"
C='192\.168\.10\.2:[0-9]+'   # hostA's side of a conn line, IPv4 and IPv6
C6='\[fd00:a::2\]:[0-9]+'
T='time=[0-9]+\.[0-9]{3}s'

# ---- helpers ---------------------------------------------------------------------
PHASE="" LOGSTAMP_PID="" STAMPED=""
# phase NAME — dvpnd (re)started with the current GW_SSH_EXTRA and
# GW_CONFIG_EXTRA; the previous part's logs are kept as dvpnd-PART*.log.
phase() {
  if [ -n "$PHASE" ]; then
    dvpnd_stop
    stop_pid "$LOGSTAMP_PID"
    mv "$DVPND_LOG" "$GW_DIR/dvpnd-$PHASE.log"
    mv "$STAMPED" "$GW_DIR/dvpnd-$PHASE.stamped.log"
  fi
  PHASE=$1
  gw_write_config
  dvpnd_start
  NETLIB_FAIL_LOGS=("$DVPND_LOG")
  STAMPED=$GW_DIR/dvpnd.stamped.log
  : >"$STAMPED"
  spawn gwA "$GW_DIR/logstamp.out.log" "$PY" "$GW_TOOLS/logstamp.py" "$DVPND_LOG" "$STAMPED"
  LOGSTAMP_PID=$SPAWNED_PID
}

# soft_fail WHAT — a failed promise that does not stop the later checks; the
# test fails at the end (see the last lines).
SOFT_FAILS=()
soft_fail() {
  _netlib_log "FAIL $*"
  SOFT_FAILS+=("$*")
}

# count REGEX — lines of dvpnd's log matching REGEX (grep -E).
count() { grep -cE -- "$1" "$DVPND_LOG" || true; }
_count_ge() { [ "$(count "$2")" -ge "$1" ]; }
_count_is() { [ "$(count "$2")" = "$1" ]; }
# expect_count WANT DESC REGEX
expect_count() {
  local got
  got=$(count "$3")
  [ "$got" = "$1" ] || fail "$2: $got lines match /$3/, expected $1"
  pass "$2: $got"
}
_stamped_caught_up() { [ "$(wc -l <"$STAMPED")" -ge "$(wc -l <"$DVPND_LOG")" ]; }
# stamps REGEX — the times (epoch seconds) at which matching lines were
# logged, in array TS.
TS=()
stamps() {
  retry_for 2 _stamped_caught_up || fail "logstamp.py fell behind"
  mapfile -t TS < <(grep -E -- "^[0-9.]+ ${1#^}" "$STAMPED" | cut -d' ' -f1)
  [ "${#TS[@]}" -gt 0 ] || fail "no stamped line matches /$1/"
}
# min_gap TIMES... — smallest difference between consecutive times (seconds).
min_gap() { printf '%s\n' "$@" | awk 'NR > 1 { d = $1 - p; if (m == "" || d < m) m = d } { p = $1 } END { printf "%.3f\n", m == "" ? 999 : m }'; }
# now_s — epoch seconds with milliseconds, comparable with stamps.
now_s() { date +%s.%3N; }
# sleep_until EPOCH_S — sleep until that moment (no-op if it has passed).
sleep_until() {
  local d
  d=$(awk -v t="$1" -v n="$(now_s)" 'BEGIN { d = t - n; printf "%.3f", (d > 0 ? d : 0) }')
  sleep "$d"
}
# elapsed_of OUTPUT — the elapsed= figure of a tcpclient summary line.
elapsed_of() { sed -nE 's/.* elapsed=([0-9.]+)s.*/\1/p' <<<"$1"; }
# wait_log REGEX [S] — until dvpnd's log has a matching line (default 3 s).
# expect_spaced_5s REGEX WHAT — the log lines matching REGEX are at least
# 4.9 s apart (a warning rate-limited to one per 5 s).
expect_spaced_5s() {
  local gap
  stamps "$1"
  gap=$(min_gap "${TS[@]}")
  awk -v g="$gap" 'BEGIN { exit !(g >= 4.9) }' || fail "$2 only ${gap}s apart (at most one per 5 s)"
  pass "$2 ${gap}s apart"
}
wait_log() { retry_for "${2:-3}" dvpnd_log_has "$1"; }

# ---- a) no-site ------------------------------------------------------------------
phase no-site
step "a) 50 connections to $NOSITE_IP:80 (in vpn_networks, in no site), 10 at a time"
out=$(client 20 expect-reset "$NOSITE_IP" 80 --count 50 --concurrency 10 --within 1) ||
  fail "not every one of the 50 was reset within 1 s: $out"
burst=$(elapsed_of "$out")
info "$out"
awk -v e="$burst" 'BEGIN { exit !(e < 0.9) }' ||
  fail "the 50 connections took ${burst}s; they must fit in the 1 s rate-limit window for this check"
pass "50 resets in ${burst}s"
retry_for 3 _count_ge 50 "end=no-site" || fail "not 50 no-site conn lines"
expect_count 1 "warning lines for the 50" 'dvpnd: warning: .*(end=no-site|without a site)'
expect_count 1 "the first one is a warning conn line" \
  "^dvpnd: warning: conn $C -> 10\.99\.0\.5:80 up=0 down=0 $T end=no-site \(reset\)$"
expect_count 49 "the other 49 are debug lines" \
  "^dvpnd: debug: conn $C -> 10\.99\.0\.5:80 up=0 down=0 $T end=no-site \(reset\)$"
expect_count 0 "none at info level" 'dvpnd: info: .*end=no-site'
sleep 1.1
expect_rc 0 "one more, after the 1 s window" client 10 expect-reset "$NOSITE_IP" 80 --within 1
wait_log 'more connections to addresses without a site' || fail "no line counting the suppressed no-site resets"
wait_log "warning: conn .*10\.99\.0\.5:80 .*end=no-site.*" || true
expect_count 1 "the count of those left out" \
  '^dvpnd: warning: 49 more connections to addresses without a site were reset$'
retry_for 2 _count_is 2 "^dvpnd: warning: conn .*end=no-site" ||
  fail "the 51st connection's line is not a warning"
n_more=$(grep -nE 'more connections to addresses without a site' "$DVPND_LOG" | cut -d: -f1)
n_last=$(grep -nE '^dvpnd: warning: conn .*end=no-site' "$DVPND_LOG" | tail -1 | cut -d: -f1)
[ "$n_more" -lt "$n_last" ] || fail "the count line does not precede the 51st connection's line"
expect_count 3 "warning lines for all 51" 'dvpnd: warning: .*(end=no-site|without a site)'

# ---- b) every channel busy -----------------------------------------------------------
GW_SSH_EXTRA=("max_sessions_per_gateway: 1" "max_channels_per_session: 1")
phase channel-wait
BUSY_WARN="^dvpnd: warning: gateway $GWB_KEY: all 1 sessions at their channel limit \(ssh\.max_sessions_per_gateway sessions, each at ssh\.max_channels_per_session or the far end's MaxSessions\); connections waited connect_timeout and were reset"
BUSY_CONN="^dvpnd: warning: conn $C -> 10\.20\.0\.2:80 site=siteb mode=netcat up=0 down=0 $T end=timeout: every channel to $GWB_KEY busy for connect_timeout \(reset\)$"
step "b) the one channel of the one session to gwB held; 6 connections 0.5 s apart wait"
hold_open busy "$SRVB_IP" 1
for i in 1 2 3 4 5 6; do
  client_bg "wait$i" 20 expect-reset "$SRVB_IP" "$HTTP_PORT" --not-before "$((CONNECT_TIMEOUT_S - 1))" --within "$RESET_LIMIT_S"
  sleep 0.5
done
for i in 1 2 3 4 5 6; do
  expect_rc 0 "waiting connection $i reset after about connect_timeout" bg_finish "wait$i"
done
expect_count 1 "one busy warning for the 6 (the others held back)" "$BUSY_WARN$"
stamps "$BUSY_WARN"
step "b) a 7th waits and is reset after the 5 s rate-limit interval"
sleep_until "$(awk -v t="${TS[0]}" 'BEGIN { printf "%.3f", t + 5.3 - 3 }')"   # it is reset 3 s later
expect_rc 0 "7th connection reset after about connect_timeout" \
  client 20 expect-reset "$SRVB_IP" "$HTTP_PORT" --not-before "$((CONNECT_TIMEOUT_S - 1))" --within "$RESET_LIMIT_S"
wait_log "$BUSY_WARN \(5 similar suppressed\)$" || fail "no second busy warning counting the 5 held back"
expect_count 2 "busy warnings in all" "$BUSY_WARN"
expect_count 1 "the second counts the 5 held back" "$BUSY_WARN \(5 similar suppressed\)$"
expect_count 7 "7 conn lines end=timeout: every channel ... busy" "$BUSY_CONN"
expect_spaced_5s "$BUSY_WARN" "busy warnings"
expect_rc 0 "the held connection is unaffected" hold_release busy

# ---- c) max_connections ----------------------------------------------------------------
GW_SSH_EXTRA=()
GW_CONFIG_EXTRA=("limits: {max_connections: 2}")
phase max-connections
MAXC_WARN='^dvpnd: warning: max_connections \(2\) reached; resetting new connections'
MAXC_CONN="conn $C6 -> [^ ]+ up=0 down=0 $T end=max-connections \(reset\)$"
# The contract's DEST is the original destination (dvpnd(8), FAILURES).
MAXC_DEST="conn $C6 -> \[fd00:30::2\]:80 "
step "c) 2 connections held (max_connections 2), 30 more at once"
hold_open two "$SRVB_IP" 2
out=$(client 20 expect-reset "$SRVC_IP6" "$HTTP_PORT" --count 30 --concurrency 5 --within 1) ||
  fail "not every one of the 30 was reset within 1 s: $out"
burst=$(elapsed_of "$out")
info "$out"
awk -v e="$burst" 'BEGIN { exit !(e < 4) }' || fail "the 30 took ${burst}s; they must fit in the 5 s window for this check"
retry_for 3 _count_ge 30 "end=max-connections" || fail "not 30 max-connections conn lines"
expect_count 1 "one max_connections warning for the 30" "$MAXC_WARN"
expect_count 1 "  without a count (nothing held back before it)" "$MAXC_WARN$"
expect_count 1 "one warning conn line" "^dvpnd: warning: $MAXC_CONN"
expect_count 29 "29 debug conn lines" "^dvpnd: debug: $MAXC_CONN"
got=$(count "end=max-connections")
if [ "$(count "$MAXC_DEST.*end=max-connections")" = "$got" ]; then
  pass "max-connections conn lines name the destination [fd00:30::2]:80"
else
  soft_fail "max-connections conn lines do not name the original destination [fd00:30::2]:80: $(grep -m1 -E 'end=max-connections' "$DVPND_LOG" | sed 's/^dvpnd: //')"
fi
stamps "$MAXC_WARN"
sleep_until "$(awk -v t="${TS[0]}" 'BEGIN { printf "%.3f", t + 5.3 }')"
expect_rc 0 "one more after the 5 s interval" client 10 expect-reset "$SRVC_IP6" "$HTTP_PORT" --within 1
wait_log "$MAXC_WARN \(29 similar suppressed\)$" || fail "no second max_connections warning counting 29"
expect_count 2 "max_connections warnings in all" "$MAXC_WARN"
expect_count 2 "warning conn lines in all" "^dvpnd: warning: $MAXC_CONN"
expect_spaced_5s "$MAXC_WARN" "max_connections warnings"
expect_rc 0 "the 2 held connections are unaffected" hold_release two

# ---- d) the far end's reason for a refused port ------------------------------------------
GW_CONFIG_EXTRA=()
phase refused
step "d) $SRVB_IP:$CLOSED_PORT (netcat) and $SRVB_DIRECT_IP:$CLOSED_PORT (direct): closed ports"
expect_rc 0 "netcat: reset" client 15 expect-reset "$SRVB_IP" "$CLOSED_PORT" --within "$RESET_LIMIT_S"
NC_LINE="^dvpnd: warning: conn $C -> 10\.20\.0\.2:$CLOSED_PORT site=siteb mode=netcat up=0 down=0 $T end=far-end-failed: exit 1: nc: can't connect to remote host \(10\.20\.0\.2\): Connection refused \(reset\)$"
wait_log "$NC_LINE" || fail "netcat: no conn line with busybox nc's reason"
pass "netcat: $(grep -E "$NC_LINE" "$DVPND_LOG" | sed 's/^dvpnd: //')"
expect_rc 0 "direct: reset" client 15 expect-reset "$SRVB_DIRECT_IP" "$CLOSED_PORT" --within "$RESET_LIMIT_S"
# libssh2 1.10 reports the refusal's reason code (SSH_OPEN_CONNECT_FAILED) as
# LIBSSH2_ERROR_CHANNEL_FAILURE (-21), not OpenSSH's text.
D_LINE="^dvpnd: warning: conn $C -> 10\.21\.0\.2:$CLOSED_PORT site=siteb-direct mode=direct up=0 down=0 $T end=far-end-refused: Channel open failure \(connect failed\) \(-21\) \(reset\)$"
wait_log "$D_LINE" || fail "direct: no conn line with the refusal's reason: $(grep -E "10\.21\.0\.2:$CLOSED_PORT" "$DVPND_LOG" || true)"
pass "direct: $(grep -E "$D_LINE" "$DVPND_LOG" | sed 's/^dvpnd: //')"
expect_count 2 "exactly one conn line each" "-> 10\.2[01]\.0\.2:$CLOSED_PORT "

# ---- e) backoff per gateway --------------------------------------------------------------
phase backoff
GWB_ERR="^dvpnd: error: gateway $GWB_KEY: cannot connect to $GWB_KEY: Connection refused \(next attempt in"
UNREACH_NOW="^dvpnd: warning: conn $C -> 10\.20\.0\.2:80 site=siteb mode=netcat up=0 down=0 $T end=gateway-unreachable: $GWB_KEY \(retrying after backoff; last error: cannot connect to $GWB_KEY: Connection refused\) \(reset\)$"
step "e) gwB's sshd stopped (no session to gwB yet)"
sshd_stop gwB 22
expect_rc 0 "gwC serves meanwhile" http_get_ok "$SRVC_IP6"
fails=0
for wait_s in 1 2 4; do
  expect_rc 0 "a connection to site B: an attempt, reset when it fails" \
    client 10 expect-reset "$SRVB_IP" "$HTTP_PORT" --within 2
  fails=$((fails + 1))
  wait_log "$GWB_ERR ${wait_s}s\)$" || fail "no '(next attempt in ${wait_s}s)' after failure $fails: $(grep -E "gateway $GWB_KEY" "$DVPND_LOG" | tail -3)"
  stamps "$GWB_ERR ${wait_s}s\)$"
  pass "failure $fails: $(grep -E "$GWB_ERR ${wait_s}s\)$" "$DVPND_LOG" | sed 's/^dvpnd: //')"
  expect_count "$fails" "  failed attempts so far" "$GWB_ERR"
  expect_rc 0 "  during the ${wait_s}s wait: reset at once" client 10 expect-reset "$SRVB_IP" "$HTTP_PORT" --within 0.5
  expect_rc 0 "  during the ${wait_s}s wait: gwC serves" http_get_ok "$SRVC_IP6"
  expect_count "$fails" "  no attempt during the wait" "$GWB_ERR"
  expect_count "$fails" "  reset-at-once lines name the backoff" "$UNREACH_NOW"
  [ "$wait_s" = 4 ] && break
  sleep_until "$(awk -v t="${TS[0]}" -v w="$wait_s" 'BEGIN { printf "%.3f", t + w + 0.2 }')"
done
got=$(grep -oE "^dvpnd: error: gateway $GWB_KEY: .*\(next attempt in [0-9.]+s\)$" "$DVPND_LOG" | sed -E 's/.*in ([0-9.]+)s\)$/\1/' | tr '\n' ' ')
[ "$got" = "1 2 4 " ] || fail "gwB's waits were '$got', expected '1 2 4 '"
pass "gwB's waits: $got(seconds)"
expect_count 0 "gwC never backed off" "gateway ${GWC_KEY//[/\\[}: .*next attempt"

step "e) gwB's sshd back: served once the 4 s wait is over"
_netlib_sshd_run gwB 22
t_back=$(awk -v t="${TS[0]}" 'BEGIN { printf "%.3f", t + 4 }')
retry_for 8 http_get_ok "$SRVB_IP" >/dev/null 2>&1 || fail "site B not served within 8 s of its sshd's return"
t_ok=$(now_s)
late=$(awk -v a="$t_ok" -v b="$t_back" 'BEGIN { printf "%.3f", a - b }')
awk -v l="$late" 'BEGIN { exit !(l <= 1.5) }' || fail "site B served ${late}s after the wait ended (expected within 1.5 s)"
pass "site B served again ${late}s after the end of the 4 s wait"
expect_count 3 "no further failed attempt" "$GWB_ERR"

[ "${#SOFT_FAILS[@]}" = 0 ] || fail "${#SOFT_FAILS[@]} promise(s) broken above: ${SOFT_FAILS[*]}"
