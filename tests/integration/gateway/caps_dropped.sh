#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# dvpnd started as systemd's dvpn.service starts it: an unprivileged account
# with CAP_NET_BIND_SERVICE as an ambient capability (here by setpriv), and a
# listener below 1024. Once its listeners are bound it holds no capability at
# all (/proc/PID/status: CapEff, CapPrm, CapInh and CapAmb zero) and still
# forwards on every listener. It used to keep the capability for its whole run.
set -euo pipefail
GW_START_DVPND=0
LOW_PORT=700
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"
gateway_topology_up

step "dvpnd as an unprivileged account with ambient CAP_NET_BIND_SERVICE, listening on :$LOW_PORT too"
RUN_USER=${NETLIB_PREFIX}dv
user_add "$RUN_USER"
chown "$RUN_USER" "$GW_DIR/id_ed25519"
RUN_DIR=$GW_DIR/run
install -d -o "$RUN_USER" -m 700 "$RUN_DIR"
sed -i -e "s|^listen: .*|listen: [\"0.0.0.0:$LISTEN_PORT\", \"[::]:$LISTEN_PORT\", \"0.0.0.0:$LOW_PORT\"]|" \
  -e "s|^control_socket: .*|control_socket: $RUN_DIR/control.sock|" "$DVPND_CONF"
DVPND_LOG=$GW_DIR/dvpnd.log
NETLIB_FAIL_LOGS+=("$DVPND_LOG")
spawn gwA "$DVPND_LOG" setpriv --reuid="$RUN_USER" --regid="$RUN_USER" --clear-groups \
  --inh-caps=+net_bind_service --ambient-caps=+net_bind_service "$DVPND" -c "$DVPND_CONF" --foreground
DVPND_PID=$SPAWNED_PID
wait_port gwA "$LOW_PORT" 10 || fail "dvpnd did not listen on $LOW_PORT"
wait_port gwA "$LISTEN_PORT" 10 || fail "dvpnd did not listen on $LISTEN_PORT"
_netlib_alive "$DVPND_PID" || fail "dvpnd exited at startup"
[ "$(stat -c %U "/proc/$DVPND_PID")" = "$RUN_USER" ] || fail "dvpnd does not run as $RUN_USER"
pass "dvpnd (PID $DVPND_PID) runs as $RUN_USER and listens on :$LOW_PORT and :$LISTEN_PORT"

step "its capabilities once running"
sleep 0.3
grep '^Cap' "/proc/$DVPND_PID/status" | sed 's/^/   /' >&2
for set in CapInh CapPrm CapEff CapAmb; do
  v=$(awk -v k="$set:" '$1 == k {print $2}' "/proc/$DVPND_PID/status")
  [ "$v" = 0000000000000000 ] || fail "$set is $v: dvpnd kept capabilities after binding its listeners"
done
pass "CapInh, CapPrm, CapEff and CapAmb are all zero"
dvpnd_log_has 'capabilities dropped after binding the listeners' || fail "dvpnd did not log the drop"

step "still forwarding"
expect_rc 0 "GET through dvpnd (REDIRECT to :$LISTEN_PORT)" http_get_ok "$SRVB_IP"
ns_exec gwA iptables -t nat -I PREROUTING 2 -i lan0 -p tcp -d "$SRVC_IP" -j REDIRECT --to-ports "$LOW_PORT"
expect_rc 0 "a connection redirected to :$LOW_PORT (no site: reset, logged)" \
  client 10 expect-reset "$SRVC_IP" "$HTTP_PORT" --within 2
retry_for 2 dvpnd_log_has "-> $SRVC_IP:$HTTP_PORT .*end=no-site" || fail "dvpnd did not log the connection"
pkts=$(ns_exec gwA iptables -t nat -L PREROUTING 2 -v -x -n | awk '{print $1}')
[ "$pkts" -ge 1 ] || fail "the REDIRECT to :$LOW_PORT saw no packet"
pass "the :$LOW_PORT listener took it (its REDIRECT rule: $pkts packet(s))"
expect_rc 0 "dvpnd --status answers" timeout 5 "$DVPND" -c "$DVPND_CONF" --status
