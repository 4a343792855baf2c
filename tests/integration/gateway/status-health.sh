#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# `dvpnd --status` leads with one line per site (issue #16): a site that
# carries connections is `up` with the SSH connection's round-trip time and
# its connection count (siteb-direct shares siteb's endpoint, so it is up
# too, with none of siteb's connections); a site whose endpoint refuses is
# `down` with the error and its age; a site nothing went to is `idle`. The
# JSON's site_health array says the same. Once its sessions close for
# ssh.idle_timeout, the working site is idle again, not down.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
# A short idle timeout for the last step; a 2 s keepalive so the sessions'
# RTT ticks run meanwhile.
GW_SSH_EXTRA+=("idle_timeout: 6s" "keepalive: 2s")
gateway_topology_up

ENDPOINT="$GW_USER@$GWB_WAN:22"
DEAD_ENDPOINT="$GW_USER@$GWC_WAN:2222"  # nothing listens there

status() { ns_exec gwA timeout 5 "$DVPND" -c "$DVPND_CONF" --status "$@"; }
# site_line FILE SITE — the status line of SITE (its first word).
site_line() { awk -v s="$2" '$1 == s { print; exit }' "$1"; }
# expect_line FILE SITE REGEX — SITE's line matches the extended REGEX.
expect_line() {
  local line
  line=$(site_line "$1" "$2")
  [[ $line =~ $3 ]] || fail "$2: line \"$line\" does not match /$3/"
  pass "$2: $line"
}
# json_check FILE PYTHON-EXPR — EXPR (over `sites`, the site_health array by
# site name, and `doc`) is true for the JSON in FILE.
json_check() {
  "$PY" - "$1" "$2" <<'PYEOF' || fail "JSON: $2 is not true: $(cat "$1")"
import json, sys
doc = json.load(open(sys.argv[1]))
sites = {s["site"]: s for s in doc["site_health"]}
sys.exit(0 if eval(sys.argv[2]) else 1)
PYEOF
  pass "JSON: $2"
}

step "before any traffic every site is idle"
status >"$GW_DIR/status0.txt" || fail "dvpnd --status failed"
cat "$GW_DIR/status0.txt" >&2
head -1 "$GW_DIR/status0.txt" | grep -q '^siteb ' || fail "the status view does not lead with the site lines"
pass "the status view leads with the site lines"
for site in siteb siteb-direct sitec; do
  expect_line "$GW_DIR/status0.txt" "$site" " idle +[^ ]+ +conns 0  no session needed yet$"
done
grep -q '^connections: 0 live; sites: 3; gateways in use: 0$' "$GW_DIR/status0.txt" || fail "the summary line is gone"
pass "the summary line follows"

step "a working site: up, with an RTT and its connections"
hold_open held "$SRVB_IP" 2
hosts_drop dead.hosts "10.31.0.1	deadsite	#!$GWC_WAN:2222"
retry_for 10 dvpnd_log_has "hosts reloaded \(file change\): 4 sites" || fail "dead.hosts not loaded"

step "an endpoint that refuses: down, with the error and its age"
expect_rc 0 "a connection to deadsite is reset" \
  client 15 expect-reset "$SRVC_IP_EXTRA" "$HTTP_PORT" --within "$RESET_LIMIT_S"
sleep 1.2  # an age of at least 1s
status >"$GW_DIR/status1.txt" || fail "dvpnd --status failed"
cat "$GW_DIR/status1.txt" >&2
F=$GW_DIR/status1.txt
expect_line "$F" siteb " up +${ENDPOINT//./\\.} +rtt [0-9]+\.[0-9]+ms  conns 2  up [0-9]+s$"
expect_line "$F" siteb-direct " up +${ENDPOINT//./\\.} +rtt [0-9]+\.[0-9]+ms  conns 0  up [0-9]+s$"
expect_line "$F" deadsite " down +${DEAD_ENDPOINT//./\\.} +conns 0  last error [1-9][0-9]*s ago: .*(refused|cannot connect)"
expect_line "$F" sitec " idle +[^ ]+ +conns 0  no session needed yet$"

step "the same in --status --json"
status --json >"$GW_DIR/status1.json" || fail "dvpnd --status --json failed"
J=$GW_DIR/status1.json
json_check "$J" 'doc["sites"] == 4 and len(doc["site_health"]) == 4 and doc["live_connections"] == 2'
json_check "$J" "sites['siteb']['state'] == 'up' and sites['siteb']['path'] == '$ENDPOINT'"
json_check "$J" "sites['siteb']['connections'] == 2 and 0 < sites['siteb']['rtt_us'] < 1000000"
json_check "$J" "sites['siteb']['up_for_ms'] >= 0 and sites['siteb']['last_error'] == ''"
json_check "$J" "sites['siteb-direct']['state'] == 'up' and sites['siteb-direct']['connections'] == 0"
json_check "$J" "sites['deadsite']['state'] == 'down' and sites['deadsite']['path'] == '$DEAD_ENDPOINT'"
json_check "$J" "sites['deadsite']['rtt_us'] is None and sites['deadsite']['last_error'] != ''"
json_check "$J" "1000 <= sites['deadsite']['last_error_age_ms'] < 60000"
json_check "$J" "sites['sitec']['state'] == 'idle' and sites['sitec']['connections'] == 0"
json_check "$J" "sites['sitec']['rtt_us'] is None and sites['sitec']['last_error_age_ms'] is None"
json_check "$J" "any(g['endpoint'] == '$ENDPOINT' and g['channels'] == 2 for g in doc['gateways'])"

step "the held connections end: still up, no connections"
hold_release held || fail "the held connections did not end cleanly"
pass "held connections released"
# siteb_no_conns — a fresh status2.txt whose siteb line counts no connection.
siteb_no_conns() { status >"$GW_DIR/status2.txt" && [[ $(site_line "$GW_DIR/status2.txt" siteb) == *"conns 0"* ]]; }
retry_for 10 siteb_no_conns ||
  fail "siteb still counts connections: $(site_line "$GW_DIR/status2.txt" siteb)"
expect_line "$GW_DIR/status2.txt" siteb " up +[^ ]+ +rtt [0-9.]+ms  conns 0  up [0-9]+s$"

step "its sessions close for idle_timeout: idle again, not down"
retry_for 15 dvpnd_log_has "session [0-9]+ to ${ENDPOINT//./\\.} closed \(idle\)" || fail "no session closed for idleness"
# siteb_idle — a fresh status3.txt with siteb idle (every session of its endpoint closed).
siteb_idle() { status >"$GW_DIR/status3.txt" && [[ $(site_line "$GW_DIR/status3.txt" siteb) == *" idle "* ]]; }
retry_for 15 siteb_idle || fail "siteb is not idle after its sessions closed: $(site_line "$GW_DIR/status3.txt" siteb)"
cat "$GW_DIR/status3.txt" >&2
for site in siteb siteb-direct; do
  expect_line "$GW_DIR/status3.txt" "$site" " idle +[^ ]+ +conns 0  no session needed yet$"
done
expect_line "$GW_DIR/status3.txt" deadsite " down +[^ ]+ +conns 0  last error [0-9]+s ago: "
