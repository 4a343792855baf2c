#!/bin/bash
# The sysvinit script (examples/rc/dvpn.init, as meson configured it) run for
# real inside a network namespace, pointed at the built dvpnd and a scratch
# configuration through its defaults file: start returns once dvpnd listens,
# status answers with LSB codes (0 running, 1 dead with a pid file, 3
# stopped), reload checks the configuration and then sends SIGHUP, a broken
# edit is refused before it can touch the running daemon, stop waits while
# dvpnd drains a connection and until the process is gone, and a start that
# fails leaves nothing behind.
#
# Namespace gw routes 10.50.0.0/16 (the sites) and 192.0.2.0/24 (their
# gateways) to namespace sink, which forwards nothing: an SSH connect to a
# gateway hangs. nat OUTPUT redirects 10.50.1.0/24 to dvpnd, as dvpn-firewall
# would.
set -euo pipefail
# shellcheck source=../lib/netlib.sh
. "$DVPN_SOURCE_ROOT/tests/integration/lib/netlib.sh"
netlib_init dvo

INIT_SRC=$DVPN_BUILD_ROOT/examples/rc/dvpn.init
[ -f "$INIT_SRC" ] || fail "no configured init script at $INIT_SRC (examples/ not in the build?)"
D=$NETLIB_DIR
PORT=17007
LOG=$D/dvpnd.log
PIDFILE=$D/dvpnd.pid
CONFIG=$D/dvpn.yaml
SOCK=$D/run/control.sock

step "setup: namespace, key, hosts map, config, defaults file, the script"
ns_add gw
ns_add sink
link gw dvo-gw0 10.49.0.1/30 sink dvo-sink0 10.49.0.2/30
ns_exec gw ip route add 10.50.0.0/16 via 10.49.0.2
ns_exec gw ip route add 192.0.2.0/24 via 10.49.0.2
ns_exec gw iptables -t nat -A OUTPUT -p tcp -d 10.50.1.0/24 -j REDIRECT --to-ports "$PORT"
ssh-keygen -q -t ed25519 -N '' -C dvo-test -f "$D/id_ed25519"
mkdir -p "$D/hosts.d"
printf '10.50.1.1\tsitea\t#!192.0.2.10\n' >"$D/hosts.d/sites.hosts"
cat >"$CONFIG" <<EOF
listen: ["127.0.0.1:$PORT"]
hosts: [hosts.d]
ssh: {identity: id_ed25519, known_hosts: known_hosts, connect_timeout: 30s}
limits: {shutdown_grace: 2s, max_connections: 1000}
log: {level: info, target: stderr}
control_socket: $SOCK
run_as: ""
EOF
cat >"$D/default" <<EOF
DAEMON=$DVPND
CONFIG=$CONFIG
PIDFILE=$PIDFILE
LOGFILE=$LOG
START_TIMEOUT=10
STOP_TIMEOUT=10
EOF
# The copy reads our defaults file instead of /etc/default/dvpn.
grep -q '^DEFAULTS=/etc/default/dvpn$' "$INIT_SRC" || fail "init script: no DEFAULTS=/etc/default/dvpn line"
sed "s|^DEFAULTS=/etc/default/dvpn\$|DEFAULTS=$D/default|" "$INIT_SRC" >"$D/dvpn.init"
NETLIB_FAIL_LOGS+=("$LOG")

# The LSB header that update-rc.d/insserv read.
for field in Provides Required-Start Required-Stop Default-Start Default-Stop Short-Description; do
  sed -n '/^### BEGIN INIT INFO$/,/^### END INIT INFO$/p' "$D/dvpn.init" | grep -q "^# $field:" ||
    fail "LSB header has no $field"
done
pass "LSB header complete"

# initd ACTION — runs the script as init would, inside the namespace. Outside
# /etc/init.d the systemd redirect never applies; say so anyway.
initd() { ns_exec gw env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin SYSTEMCTL_SKIP_REDIRECT=1 sh "$D/dvpn.init" "$@"; }
listening() { [ -n "$(ns_exec gw ss -ltnH "sport = :$PORT")" ]; }
daemon_pid() { cat "$PIDFILE"; }
# A zombie waiting for its reaper counts as gone.
gone() { ! _netlib_alive "$1"; }
# Every process in the namespace: only what the script started runs there.
ns_pids() { ip netns pids "$(ns_name gw)" | sort -n | tr '\n' ' ' | sed 's/ $//'; }
sighup_reloads() { grep -c 'hosts reloaded (SIGHUP)' "$LOG" || true; }

step "status before start"
expect_rc 3 "status of a stopped service is 3" initd status

step "start"
expect_rc 0 "start" initd start
[ -s "$PIDFILE" ] || fail "start: no pid file $PIDFILE"
PID=$(daemon_pid)
[ "$(readlink "/proc/$PID/exe")" = "$(readlink -f "$DVPND")" ] || fail "pid file names $PID, which is not $DVPND"
listening || fail "start returned before dvpnd listened on $PORT"
pass "start returned with dvpnd ($PID) listening on $PORT, pid file written"
expect_rc 0 "status of a running service is 0" initd status
out=$(ns_exec gw "$DVPND" -c "$CONFIG" --status) || fail "dvpnd --status failed: $out"
[[ $out == *"sites: 1"* ]] || fail "--status: expected 'sites: 1' in: $out"
pass "control socket answers: sites: 1"

expect_rc 0 "start while running succeeds" initd start
[ "$(daemon_pid)" = "$PID" ] || fail "second start replaced the daemon"
[ "$(ns_pids)" = "$PID" ] || fail "after a second start the namespace runs: $(ns_pids)"
pass "second start left the one daemon in place"

step "reload: a site added, then SIGHUP"
printf '10.50.2.1\tsiteb\t#!192.0.2.20\n' >>"$D/hosts.d/sites.hosts"
before=$(sighup_reloads)
expect_rc 0 "reload" initd reload
retry_for 5 bash -c "[ \"\$(grep -c 'hosts reloaded (SIGHUP): 2 sites' '$LOG')\" -ge 1 ]" ||
  fail "reload: no 'hosts reloaded (SIGHUP): 2 sites' in $LOG"
[ "$(sighup_reloads)" -eq $((before + 1)) ] || fail "reload: expected one SIGHUP reload"
{ [ "$(daemon_pid)" = "$PID" ] && ! gone "$PID"; } || fail "reload replaced the daemon"
out=$(ns_exec gw "$DVPND" -c "$CONFIG" --status)
[[ $out == *"sites: 2"* ]] || fail "--status after reload: expected 'sites: 2' in: $out"
pass "dvpnd logged 'hosts reloaded (SIGHUP): 2 sites'; --status shows 2 sites; same pid"

step "a broken configuration is refused before the daemon sees it"
cp "$CONFIG" "$D/dvpn.yaml.good"
echo "no_such_key: 1" >>"$CONFIG"
before=$(sighup_reloads)
expect_rc 6 "reload with a broken config exits 6 (not configured)" initd reload
expect_rc 6 "restart with a broken config exits 6" initd restart
sleep 0.3
[ "$(sighup_reloads)" -eq "$before" ] || fail "a broken config still reached the daemon (SIGHUP sent)"
{ ! gone "$PID" && listening; } || fail "the running daemon did not survive a refused reload/restart"
pass "no SIGHUP sent, the daemon ($PID) still runs"
cp "$D/dvpn.yaml.good" "$CONFIG"

step "restart"
expect_rc 0 "restart" initd restart
NEW=$(daemon_pid)
[ "$NEW" != "$PID" ] || fail "restart kept the old pid $PID"
gone "$PID" || fail "restart left the old daemon $PID running"
listening || fail "restart returned before the new daemon listened"
pass "restart: $PID gone, $NEW listening"
PID=$NEW

step "stop while a connection waits for its gateway: the drain is waited for"
# A client of site A; dvpnd holds its connection while the SSH connect hangs.
spawn gw "$D/client.log" python3 -c "
import socket
s = socket.create_connection(('10.50.1.5', 80), timeout=20)
print('connected', flush=True)
try:
    print('read', len(s.recv(1)), flush=True)
except OSError as e:
    print('ended', e, flush=True)"
CLIENT=$SPAWNED_PID
retry_for 5 grep -q connected "$D/client.log" || fail "the client did not connect: $(cat "$D/client.log")"
# one_live — dvpnd's status counts one live connection.
one_live() { "$DVPND" -c "$CONFIG" --status 2>/dev/null | grep -q '^connections: 1 live'; }
retry_for 5 one_live || fail "dvpnd does not hold the connection: $("$DVPND" -c "$CONFIG" --status)"
t0=$(now_ms)
expect_rc 0 "stop" initd stop
took=$(($(now_ms) - t0))
gone "$PID" || fail "stop returned while dvpnd $PID still ran"
[ ! -e "$PIDFILE" ] || fail "stop left the pid file"
listening && fail "port $PORT still listening after stop"
grep -q "stopping: 1 connections draining for up to 2s" "$LOG" || fail "dvpnd did not log its drain of 1 connection"
grep -q "grace period over: resetting 1 connections" "$LOG" || fail "dvpnd did not reset the connection at the end of the grace"
[ "$took" -ge 1800 ] || fail "stop returned after $took ms, before the 2 s drain ended"
pass "stop took $took ms: dvpnd drained for its 2 s grace, then exited; pid file removed, port closed"
wait_pid "$CLIENT"
grep -q "ended\|read 0" "$D/client.log" || fail "the client's connection did not end: $(cat "$D/client.log")"
expect_rc 3 "status after stop is 3" initd status
expect_rc 0 "stop when stopped succeeds" initd stop
expect_rc 7 "reload when stopped exits 7 (not running)" initd reload

step "a stale pid file"
STALE=$(sh -c 'echo $$')
echo "$STALE" >"$PIDFILE"
expect_rc 1 "status with a pid file but no process is 1" initd status
expect_rc 0 "start over a stale pid file" initd start
PID=$(daemon_pid)
{ [ "$PID" != "$STALE" ] && listening; } || fail "start over a stale pid file did not start dvpnd"
expect_rc 0 "stop" initd stop
gone "$PID" || fail "stop left $PID"

step "a start that fails (port taken) leaves nothing behind"
spawn gw "$D/blocker.log" python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $PORT)); s.listen(1); time.sleep(60)"
BLOCKER=$SPAWNED_PID
wait_port gw "$PORT" 5 || fail "blocker did not listen"
echo "START_TIMEOUT=3" >>"$D/default"
t0=$(now_ms)
expect_rc 1 "start with the port taken exits 1" initd start
info "failed start took $(($(now_ms) - t0)) ms"
[ ! -e "$PIDFILE" ] || fail "failed start left the pid file"
[ "$(ns_pids)" = "$BLOCKER" ] || fail "failed start left a process in the namespace: $(ns_pids)"
grep -q "Address already in use" "$LOG" || fail "the log does not say why: $(tail -n 3 "$LOG")"
pass "no pid file, no process; the log says 'Address already in use'"
stop_pid "$BLOCKER"
expect_rc 3 "status after the failed start is 3" initd status
