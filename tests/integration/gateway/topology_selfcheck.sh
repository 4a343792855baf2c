#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The test network itself, without dvpnd: key login to both far gateways
# (IPv4 and IPv6), ssh -L and `ssh gw busybox nc` reach the far servers, the
# REDIRECT rules hand the original destination to a listener on gwA, and
# sshd_rekey_host really changes the host key. If this fails, every other
# gateway test's result means nothing.
set -euo pipefail
# shellcheck source=topology.sh
. "$(dirname "$0")/topology.sh"

GW_START_DVPND=0
gateway_topology_up

gw_ssh() { ns_exec gwA timeout 10 ssh -F "$GW_DIR/ssh_config" "$@"; }

step "key login from gwA"
expect_rc 0 "ssh gwB (IPv4 endpoint)" gw_ssh gwB true
expect_rc 0 "ssh gwC (IPv6 endpoint)" gw_ssh gwC true

step "ssh -L from gwA to srvB"
spawn gwA "$GW_DIR/ssh-L.log" ssh -F "$GW_DIR/ssh_config" -N -o ExitOnForwardFailure=yes \
  -L "127.0.0.1:18080:$SRVB_IP:$HTTP_PORT" gwB
wait_port gwA 18080 10 || fail "ssh -L did not listen"
ns_exec gwA timeout 10 curl -sf -o "$GW_DIR/via-L.bin" "http://127.0.0.1:18080$GW_HTTP_PATH" ||
  fail "curl through ssh -L"
cmp -s "$GW_DIR/via-L.bin" "$GW_HTTP_FILE" || fail "ssh -L: body differs"
pass "ssh -L: body equals the served file"
stop_pid "$SPAWNED_PID"

step "far-end relay: ssh gwB busybox nc"
printf 'GET %s HTTP/1.0\r\n\r\n' "$GW_HTTP_PATH" |
  gw_ssh gwB busybox nc "$SRVB_IP" "$HTTP_PORT" >"$GW_DIR/via-nc.out" || fail "ssh gwB busybox nc"
tail -c "$(stat -c %s "$GW_HTTP_FILE")" "$GW_DIR/via-nc.out" | cmp -s - "$GW_HTTP_FILE" ||
  fail "busybox nc: body differs"
pass "busybox nc through ssh exits after the server's FIN, body intact"
rc=0
gw_ssh gwB busybox nc "$SRVB_IP" "$CLOSED_PORT" </dev/null || rc=$?
[ "$rc" != 0 ] || fail "busybox nc to a closed port exited 0"
pass "busybox nc to a closed port exits non-zero ($rc)"

step "REDIRECT hands the original destination to a listener on gwA"
spawn gwA "$GW_DIR/origdst.log" "$PY" "$GW_TOOLS/origdst.py" --port "$LISTEN_PORT" --count 3
wait_port gwA "$LISTEN_PORT" 10 || fail "origdst.py did not listen"
for dst in "$SRVB_IP 80" "$NOSITE_IP 5555" "$SRVC_IP6 80"; do
  got=$(ns_exec hostA timeout 5 nc -w 3 "${dst% *}" "${dst#* }" </dev/null) || true
  [ "$got" = "$dst" ] || fail "original destination: got '$got', expected '$dst'"
  pass "original destination $dst"
done
stop_pid "$SPAWNED_PID"

step "sshd_rekey_host changes gwB's host key"
sshd_rekey_host gwB 22
rc=0
gw_ssh gwB true 2>/dev/null || rc=$?
[ "$rc" = 255 ] || fail "ssh after rekey: exit $rc, expected 255 (host key mismatch)"
pass "ssh refuses gwB after the rekey"
