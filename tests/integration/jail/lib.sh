# shellcheck shell=bash
# lib.sh — what the jail tests share on top of netlib.sh: a scratch base
# directory that sshd accepts as a chroot parent, the dvpn-jail options that
# point at it, the test network and ssh client, and test servers.
#
# Network (namespaces dvj-*, or DVJ_PREFIX-* for a test that sets its own):
#   cli 198.51.100.1 ──── 198.51.100.2 gw (sshd :22, the jailed far end)
#   gw  10.20.0.1 fd00:20::1 ── 10.20.0.2 fd00:20::2 srv   (the site's subnets)
#       10.99.0.1 fd00:99::1 ── 10.99.0.2 fd00:99::2 srv   (outside them)
# srv runs: 7001 replies "len=N" and the N bytes after the client's EOF;
#           7002 sends 100 KiB then closes first, never reading.

# shellcheck source=../lib/netlib.sh
. "$DVPN_SOURCE_ROOT/tests/integration/lib/netlib.sh"

DVJ_PREFIX=dvj          # netlib prefix: namespaces, state dir and lock
DVJ_USER=dvjtest
DVJ_BASE=""            # /var/lib/dvpn-test-XXXXXX, root-owned 0755 like /var/lib
DVJ_JAIL=""
DVJ_TOOL=$DVPN_SOURCE_ROOT/chroot/dvpn-jail
DVJ_GATE=$DVPN_BUILD_ROOT/chroot/dvpn-gate
DVJ_OPTS=()            # the options every dvpn-jail call of the test gets
DVJ_SSHD_CONFIG=""
DVJ_GW=198.51.100.2
DVJ_SSHD_NS=gw         # namespace of the far end's sshd (port 22)

# dvj_init — netlib plus the scratch base directory; cleans up on exit. A test
# that sets DVJ_PREFIX and DVJ_USER after sourcing this file gets namespaces
# and an account of its own (and does not wait for the dvj tests' lock).
dvj_init() {
  netlib_init "$DVJ_PREFIX"
  # Our account and base directory go after netlib has stopped every process
  # that could still run as the account.
  netlib_on_exit_also _dvj_cleanup
  [ -x "$DVJ_GATE" ] || fail "dvpn-gate not built at $DVJ_GATE"
  _dvj_drop_stale_user
  # Not under /tmp: sshd refuses a chroot below a world-writable directory.
  DVJ_BASE=$(mktemp -d /var/lib/dvpn-test-XXXXXX)
  chmod 755 "$DVJ_BASE"
  DVJ_JAIL=$DVJ_BASE/jail
  mkdir -m 755 "$DVJ_BASE/sshd_config.d"
}

_dvj_cleanup() {
  if id "$DVJ_USER" >/dev/null 2>&1 && [ "$(getent passwd "$DVJ_USER" | cut -d: -f6)" = "$DVJ_BASE" ]; then
    _netlib_retry userdel "$DVJ_USER" >/dev/null 2>&1 || _netlib_log "userdel $DVJ_USER failed"
  fi
  if getent group "$DVJ_USER" >/dev/null && ! id "$DVJ_USER" >/dev/null 2>&1; then
    _netlib_retry groupdel "$DVJ_USER" >/dev/null 2>&1 || true
  fi
  [[ $DVJ_BASE == /var/lib/dvpn-test-* ]] && rm -rf "$DVJ_BASE"
  return 0
}

# A dvjtest account left by a killed run of these tests (its home tells).
_dvj_drop_stale_user() {
  id "$DVJ_USER" >/dev/null 2>&1 || return 0
  local home
  home=$(getent passwd "$DVJ_USER" | cut -d: -f6)
  [[ $home == /var/lib/dvpn-test-* ]] || fail "user $DVJ_USER exists and is not ours (home $home)"
  _netlib_log "removing stale user $DVJ_USER"
  _netlib_retry userdel "$DVJ_USER" >/dev/null 2>&1 || fail "cannot remove stale user $DVJ_USER"
  [[ -d $home ]] && rm -rf "$home"
}

# dvj_sshd [extra sshd_config lines] — sshd on gw:22 for the jailed user; the
# extra lines come first, so they win over netlib's defaults. The loosest
# global settings are switched on on purpose: the Match block must win.
dvj_sshd() {
  sshd_start gw 22 "$DVJ_USER" /nonexistent/authorized_keys \
    "PermitTTY yes" "X11Forwarding yes" "AllowAgentForwarding yes" "StrictModes yes" \
    "Subsystem sftp /usr/lib/openssh/sftp-server" "$@"
  DVJ_SSHD_CONFIG=$(dirname "$(sshd_log gw 22)")/sshd_config
  DVJ_OPTS=(--jail "$DVJ_JAIL" --user "$DVJ_USER" --sshd-config "$DVJ_SSHD_CONFIG"
    --gate "$DVJ_GATE" --reload "kill -HUP $SSHD_PID")
  printf '%s %s\n' "$DVJ_GW" "$(cut -d' ' -f1,2 "$SSHD_HOSTKEY_PUB")" >"$NETLIB_DIR/known_hosts"
}

# dvj_jail ARGS... — run dvpn-jail with the test's options (ARGS override them).
dvj_jail() { "$DVJ_TOOL" "${DVJ_OPTS[@]}" "$@"; }

# dvj_install [ARGS...] — dvpn-jail install, then wait for the HUP'd sshd to
# listen again (it re-executes itself and logs "Server listening" anew).
dvj_install() {
  local before
  before=$(sshd_listen_count "$DVJ_SSHD_NS" 22)
  dvj_jail install "$@" || fail "dvpn-jail install $*"
  sshd_wait_relisten "$DVJ_SSHD_NS" 22 "$before" ||
    fail "sshd did not come back after the reload (see $(sshd_log "$DVJ_SSHD_NS" 22))"
}

# dvj_net [--no-include] [extra sshd_config lines] — namespaces, links, sshd
# and the test servers. sshd's config includes $DVJ_BASE/sshd_config.d/*.conf
# (as Debian's includes sshd_config.d/) and the drop-in goes there; with
# --no-include it does not, and dvpn-jail must add its own Include line.
dvj_net() {
  local include=yes
  if [ "${1:-}" = --no-include ]; then include=no; shift; fi
  ns_add cli
  ns_add gw
  ns_add srv
  link cli dvj-cli 198.51.100.1/24 gw dvj-gwa "$DVJ_GW/24"
  link gw dvj-gwb 10.20.0.1/24,10.99.0.1/24,fd00:20::1/64,fd00:99::1/64 \
    srv dvj-srv 10.20.0.2/24,10.99.0.2/24,fd00:20::2/64,fd00:99::2/64
  if [ "$include" = yes ]; then
    dvj_sshd "Include $DVJ_BASE/sshd_config.d/*.conf" "$@"
    DVJ_OPTS+=(--dropin "$DVJ_BASE/sshd_config.d/dvpn-jail-$DVJ_USER.conf")
  else
    dvj_sshd "$@"
  fi
  dvj_servers
}

# dvj_key NAME — a client key pair $NETLIB_DIR/NAME (+ .pub).
dvj_key() { ssh-keygen -q -t ed25519 -N '' -C "dvj-$1" -f "$NETLIB_DIR/$1"; }

# dvj_ssh KEY [ssh options...] -- [remote command...] — OpenSSH client in cli.
dvj_ssh() {
  local key=$1 opts=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  ns_exec cli timeout 20 ssh -F /dev/null -i "$NETLIB_DIR/$key" \
    -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes \
    -o UserKnownHostsFile="$NETLIB_DIR/known_hosts" -o GlobalKnownHostsFile=/dev/null \
    -o StrictHostKeyChecking=yes -o ConnectTimeout=5 \
    "${opts[@]}" "$DVJ_USER@$DVJ_GW" "$@"
}

dvj_servers() {
  cat >"$NETLIB_DIR/servers.py" <<'EOF'
import socket, socketserver, sys, threading

class Server(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

class ReplyAfterEof(socketserver.BaseRequestHandler):
    def handle(self):
        data = bytearray()
        while chunk := self.request.recv(65536):
            data += chunk
        self.request.sendall(b"len=%d\n" % len(data) + bytes(data))

class ClosesFirst(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(b"bye\n" + b"x" * 102400)

for port, handler in ((7001, ReplyAfterEof), (7002, ClosesFirst)):
    server = Server(("::", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
EOF
  spawn srv "$NETLIB_DIR/servers.log" python3 -u "$NETLIB_DIR/servers.py"
  NETLIB_FAIL_LOGS+=("$NETLIB_DIR/servers.log" "$(sshd_log gw 22)")
  wait_port srv 7001 10 && wait_port srv 7002 10 || fail "test servers did not start"
}

# dvj_payload FILE BYTES — printable test data.
dvj_payload() {
  head -c $((($2 * 3 + 3) / 4)) /dev/urandom | base64 -w 76 >"$1"
  truncate -s "$2" "$1"
}

# assert_contains FILE TEXT DESC
assert_contains() {
  grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$3: '$2' not in $(basename "$1")"; }
}

# dvj_gateway_far_end — for tests in the gateway tests' topology (sourced
# after this file and gateway/topology.sh): brings the topology up without
# dvpnd, then gwB's login becomes the account dvjfar that `dvpn-jail install
# --allow-direct` set up and `authorize` restricted to site B's subnets, and
# dvpnd's hosts file and netcat command point at it. Start dvpnd after.
dvj_gateway_far_end() {
  DVJ_USER=dvjfar          # topology's own test user is ${prefix}test = dvjtest
  DVJ_SSHD_NS=gwB
  dvj_init
  GW_START_DVPND=0
  GW_SSHD_B_EXTRA=("AllowUsers $DVJ_USER" "StrictModes yes" "PermitTTY yes")
  gateway_topology_up
  step "gwB: jail the far end's account"
  local config
  config=$(dirname "$(sshd_log gwB 22)")/sshd_config
  DVJ_OPTS=(--jail "$DVJ_JAIL" --user "$DVJ_USER" --sshd-config "$config" --gate "$DVJ_GATE"
    --reload "kill -HUP $GWB_SSHD_PID")
  dvj_install --allow-direct
  # One dvpnd key reaches gwB for both of its sites, and sshd applies one line
  # per key: the line covers both (10.21.0.0/24 is the direct-mode one).
  dvj_jail authorize "$GW_DIR/id_ed25519.pub" --site gwb --mode direct \
    --subnet 10.20.0.0/24 --subnet 10.21.0.0/24
  dvj_jail check >/dev/null || fail "dvpn-jail check fails on gwB"
  sed -i -e "s|#!$GWB_WAN\$|#!$DVJ_USER@$GWB_WAN|" \
    -e "s|#!$GW_USER@$GWB_WAN:22 mode=direct|#!$DVJ_USER@$GWB_WAN:22 mode=direct|" "$GW_HOSTS"
  # The gate accepts exactly "nc HOST PORT".
  sed -i 's|^  command: .*|  command: "nc {host} {port}"|' "$DVPND_CONF"
}

# dvj_check_passes DESC — `dvpn-jail check` exits 0 (its report in $NETLIB_DIR/check.out).
dvj_check_passes() {
  local rc=0 report=$NETLIB_DIR/check.out
  dvj_jail check >"$report" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { cat "$report" >&2; fail "$1: check exited $rc"; }
  pass "$1: check passes"
}

# dvj_check_names TEXT... — check exits 1 and names each TEXT in its report.
dvj_check_names() {
  local rc=0 text report=$NETLIB_DIR/check.out
  dvj_jail check >"$report" 2>&1 || rc=$?
  [ "$rc" = 1 ] || { cat "$report" >&2; fail "$1: check exited $rc, expected 1"; }
  for text in "$@"; do
    assert_contains "$report" "$text" "check"
    pass "check names it: $(grep -F -m1 -- "$text" "$report")"
  done
}

# dvj_site_setup SUBNET... — the jail tests' common start: namespaces, sshd,
# dvpn-jail install, and a key "site" ($NETLIB_DIR/site) authorized for site
# thursday and the SUBNETs.
dvj_site_setup() {
  local subnet args=()
  for subnet in "$@"; do args+=(--subnet "$subnet"); done
  dvj_init
  step "setup: namespaces, sshd, dvpn-jail install + authorize"
  dvj_net
  dvj_install
  dvj_key site
  dvj_jail authorize "$NETLIB_DIR/site.pub" --site thursday "${args[@]}"
}
