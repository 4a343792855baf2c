#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Hosts and config edits with errors while long transfers flow (dvpnd(8)
# FAILURES, "Hosts edit with errors" and "Configuration edit"):
#  a) a malformed line plus a good one: the bad line is skipped with a
#     FILE:LINE warning, the rest of the map takes effect;
#  b) the hosts file becomes unreadable (replaced by a dangling symlink, seen
#     by the watcher): the whole reload is discarded with the reason, the
#     previous table (4 sites) stays in force;
#  c) hosts.d becomes unreadable (a symlink loop) and a new site line is
#     added meanwhile; SIGHUP: discarded again with the reason, the new site
#     is not taken; once hosts.d is back, SIGHUP takes it;
#  d) dvpn.yaml edited (first a valid but different config, then garbage),
#     SIGHUP each time: SIGHUP reloads the hosts map only (daemon/server.cpp
#     wait_signals), so the running config is untouched: still at debug
#     level, max_connections not lowered, same process.
# Meanwhile two paced transfers (netcat and direct, 64 MiB each way at
# 2 MiB/s) run across every edit and complete with every byte (SHA-256 both
# ways); new connections to existing sites work after every step.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

# count REGEX — lines of dvpnd's log matching REGEX (grep -E).
count() { grep -cE -- "$1" "$DVPND_LOG" || true; }
# wait_count N REGEX — until N lines match (3 s).
_count_ge() { [ "$(count "$2")" -ge "$1" ]; }
wait_count() { retry_for 3 _count_ge "$1" "$2"; }
# sites_served DESC — every existing site serves a new connection.
# sites_served DESC [DST...] — sites B (both modes), C and each DST serve a new connection.
sites_served() {
  local desc=$1 dst
  shift
  for dst in "$SRVB_IP" "$SRVB_DIRECT_IP" "$SRVC_IP6" "$@"; do
    http_get_ok "$dst" || fail "$desc: $dst not served"
  done
  pass "$desc: new connections to site B (both modes), site C${*:+ and $*} served"
}
# expect_count N DESC REGEX / expect_count_0 REGEX WHY
expect_count() { [ "$(count "$3")" = "$1" ] || fail "$2: $(count "$3") lines match /$3/, expected $1"; pass "$2"; }
expect_count_0() { [ "$(count "$1")" = 0 ] || fail "$2: $(grep -E "$1" "$DVPND_LOG" | head -3)"; }
transfers_alive() {
  local m
  for m in netcat direct; do
    _netlib_alive "${BG_PIDS[xfer-$m]}" || { bg_finish "xfer-$m" || true; fail "$1: the $m transfer ended early"; }
  done
}
# shellcheck disable=SC2001,SC2016 # a bracket expression, not a parameter
re() { sed 's/[].[*^$()+?{}|\\]/\\&/g' <<<"$1"; }   # REGEX-quote a path
HOSTS_RE=$(re "$GW_HOSTS")
HOSTS_D_RE=$(re "$GW_HOSTS_D")

dvpnd_log_has '^dvpnd: info: dvpnd .* listening on 2 addresses, 3 sites$' || fail "dvpnd did not start with 3 sites"
step "two transfers, 64 MiB each way at 2 MiB/s (about 32 s), netcat and direct"
for mode in netcat direct; do
  client_bg "xfer-$mode" 90 bulk "$(siteb_ip "$mode")" "$BULK_PORT" --send 64MiB --recv 64MiB --rate 2MiB \
    --progress-file "$GW_DIR/xfer-$mode.progress" --timeout 85
done
for mode in netcat direct; do
  retry_for 15 progress_at_least "xfer-$mode" 1048576 || { bg_finish "xfer-$mode" || true; fail "the $mode transfer did not start"; }
done
pass "both flowing"

# ---- a) malformed line --------------------------------------------------------------
step "a) one edit: a malformed site line and a good one (sitec4, $SRVC_IP's subnet)"
expect_rc 0 "before: $SRVC_IP is in no site" client 10 expect-reset "$SRVC_IP" "$HTTP_PORT" --within 1
bad=$(($(wc -l <"$GW_HOSTS") + 1))
printf '%s\n%s\n' "10.31.0.1	bad-option	#!$GWC_WAN frobnicate=yes" "10.30.0.1	sitec4	#!$GWC_WAN" >>"$GW_HOSTS"
wait_count 1 '^dvpnd: info: hosts reloaded \(file change\): 4 sites$' || fail "no 'hosts reloaded (file change): 4 sites'"
BAD_WARN="^dvpnd: warning: $HOSTS_RE:$bad: unknown option \"frobnicate=yes\": expected "
[ "$(count "$BAD_WARN")" -ge 1 ] || fail "no warning naming $GW_HOSTS:$bad: $(grep -E "$HOSTS_RE:" "$DVPND_LOG" || true)"
[ "$(count "$BAD_WARN")" = "$(count '^dvpnd: info: hosts reloaded \(file change\)')" ] ||
  fail "not one FILE:LINE warning per reload"
pass "skipped with: $(grep -E -m1 "$BAD_WARN" "$DVPND_LOG" | sed 's/^dvpnd: //')"
expect_count_0 'hosts reload .* failed' "a malformed line discarded the whole reload"
expect_rc 0 "the good line took effect: $SRVC_IP served" retry_for 1 http_get_ok "$SRVC_IP"
expect_rc 0 "the bad line routes nothing: $SRVC_IP_EXTRA still in no site" \
  client 10 expect-reset "$SRVC_IP_EXTRA" "$HTTP_PORT" --within 1
sites_served "after the malformed edit"
transfers_alive "after the malformed edit"

# ---- b) the hosts file becomes unreadable -------------------------------------------
step "b) the hosts file replaced by a dangling symlink (atomic rename)"
cp -p "$GW_HOSTS" "$GW_DIR/hosts.saved"
ln -s "$GW_DIR/no-such-hosts-file" "$GW_DIR/.hosts.tmp"
mv -T "$GW_DIR/.hosts.tmp" "$GW_HOSTS"
KEPT_FC='^dvpnd: warning: hosts reload \(file change\) failed; keeping the previous table of 4 sites$'
wait_count 1 "$KEPT_FC" || fail "no 'hosts reload (file change) failed; keeping the previous table of 4 sites'"
expect_count 1 "the reason, FILE: cannot read: ENOENT" \
  "^dvpnd: warning: $HOSTS_RE: cannot read: No such file or directory$"
expect_rc 0 "the previous table stays: sitec4 ($SRVC_IP, from the unreadable file) still served" http_get_ok "$SRVC_IP"
sites_served "with the hosts file unreadable"
transfers_alive "with the hosts file unreadable"
step "b) the hosts file back"
cp -p "$GW_DIR/hosts.saved" "$GW_DIR/.hosts.tmp"
mv -T "$GW_DIR/.hosts.tmp" "$GW_HOSTS"
wait_count 2 '^dvpnd: info: hosts reloaded \(file change\): 4 sites$' || fail "no reload once the file was back"
pass "reloaded: 4 sites"

# ---- c) SIGHUP with hosts.d unreadable ------------------------------------------------
step "c) hosts.d replaced by a symlink loop, a new site line (sitec5, $SRVC_IP_EXTRA) added"
mv -T "$GW_HOSTS_D" "$GW_HOSTS_D.off"   # same inode: the watch on it survives
ln -s "$(basename "$GW_HOSTS_D")" "$GW_HOSTS_D"
hosts_append "10.31.0.1	sitec5	#!$GWC_WAN"
wait_count 2 "$KEPT_FC" || fail "the file change with hosts.d unreadable was not discarded"
kill -HUP "$DVPND_PID"
KEPT_HUP='^dvpnd: warning: hosts reload \(SIGHUP\) failed; keeping the previous table of 4 sites$'
wait_count 1 "$KEPT_HUP" || fail "no 'hosts reload (SIGHUP) failed; keeping the previous table of 4 sites'"
expect_count 2 "the reason, each time: DIR: cannot read: ELOOP" \
  "^dvpnd: warning: $HOSTS_D_RE: cannot read: Too many levels of symbolic links$"
expect_count_0 'hosts reloaded \(SIGHUP\)' "SIGHUP took a map with an unreadable source"
expect_rc 0 "the new line was not taken: $SRVC_IP_EXTRA still in no site" \
  client 10 expect-reset "$SRVC_IP_EXTRA" "$HTTP_PORT" --within 1
sites_served "after SIGHUP with hosts.d unreadable" "$SRVC_IP"
transfers_alive "after SIGHUP with hosts.d unreadable"
step "c) hosts.d back, SIGHUP"
rm "$GW_HOSTS_D"
mv -T "$GW_HOSTS_D.off" "$GW_HOSTS_D"
kill -HUP "$DVPND_PID"
wait_count 1 '^dvpnd: info: hosts reloaded \(SIGHUP\): 5 sites$' || fail "no 'hosts reloaded (SIGHUP): 5 sites'"
expect_rc 0 "sitec5 taken: $SRVC_IP_EXTRA served" retry_for 1 http_get_ok "$SRVC_IP_EXTRA"

# ---- d) configuration edits ------------------------------------------------------------
step "the malformed line removed (so that dvpnd --check can judge the config alone)"
grep -v frobnicate "$GW_HOSTS" >"$GW_DIR/.hosts.tmp"
mv -T "$GW_DIR/.hosts.tmp" "$GW_HOSTS"
wait_count 1 '^dvpnd: info: hosts reloaded \(file change\): 5 sites$' || fail "no 'hosts reloaded (file change): 5 sites'"
pass "reloaded: 5 sites"
expect_rc 0 "dvpnd --check: the running config and hosts are clean" ns_exec gwA "$DVPND" -c "$DVPND_CONF" --check
step "d) dvpn.yaml edited (log level info, max_connections 1), SIGHUP"
cp -p "$DVPND_CONF" "$GW_DIR/dvpn.yaml.orig"
sed -i 's/^  level: debug$/  level: info/' "$DVPND_CONF"
echo "limits: {max_connections: 1}" >>"$DVPND_CONF"
grep -q '^  level: info$' "$DVPND_CONF" || fail "could not edit the log level"
expect_rc 0 "the edited config is valid (dvpnd --check)" ns_exec gwA "$DVPND" -c "$DVPND_CONF" --check
mark=$(wc -l <"$DVPND_LOG")
kill -HUP "$DVPND_PID"
wait_count 2 '^dvpnd: info: hosts reloaded \(SIGHUP\): 5 sites$' || fail "SIGHUP not handled"
sites_served "with 2 transfers open, max_connections 1 not in force"
new=$(tail -n +"$((mark + 1))" "$DVPND_LOG")
grep -q '^dvpnd: debug: ' <<<"$new" || fail "no debug line after the SIGHUP: the log level changed"
pass "still logging at debug level after the SIGHUP"
! grep -E 'max-connections|max_connections|dvpn\.yaml|^dvpnd: error: ' <<<"$new" ||
  fail "the SIGHUP touched the config: see above"
pass "no max_connections rejection, no config message"

step "d) dvpn.yaml garbled, SIGHUP"
printf 'listen: [\n  this is : not : yaml ]]\nssh: {{\n' >"$DVPND_CONF"
expect_rc 2 "the garbled config is rejected by dvpnd --check" ns_exec gwA "$DVPND" -c "$DVPND_CONF" --check
mark=$(wc -l <"$DVPND_LOG")
kill -HUP "$DVPND_PID"
wait_count 3 '^dvpnd: info: hosts reloaded \(SIGHUP\): 5 sites$' || fail "SIGHUP not handled"
_netlib_alive "$DVPND_PID" || fail "dvpnd exited after a SIGHUP with a garbled config"
sites_served "after SIGHUP with a garbled config" "$SRVC_IP" "$SRVC_IP_EXTRA"
new=$(tail -n +"$((mark + 1))" "$DVPND_LOG")
grep -q '^dvpnd: debug: ' <<<"$new" || fail "no debug line after the SIGHUP: the log level changed"
! grep -E 'dvpn\.yaml|yaml|config|^dvpnd: error: ' <<<"$new" || fail "the SIGHUP read the config: see above"
pass "same process, still at debug level, no config message"
cp -p "$GW_DIR/dvpn.yaml.orig" "$DVPND_CONF"

step "the transfers that ran across every edit"
transfers_alive "after the last edit"
for mode in netcat direct; do
  expect_rc 0 "$mode: 64 MiB each way, SHA-256 both ways, FIN after the trailer" bg_finish "xfer-$mode"
done
# up: the 14-byte request line, then 64 MiB; down: 64 MiB, then the 74-byte checksum line.
XFER_OK="^dvpnd: info: conn 192\.168\.10\.2:[0-9]+ -> 10\.2[01]\.0\.2:$BULK_PORT site=siteb(-direct)? mode=(netcat|direct) up=67108878 down=67108938 time=[0-9.]+s end=ok$"
wait_count 2 "$XFER_OK" || true
expect_count 2 "their conn lines: every byte, end=ok" "$XFER_OK"
