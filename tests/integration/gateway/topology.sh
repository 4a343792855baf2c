# shellcheck shell=bash source-path=SCRIPTDIR disable=SC2034 # variables here are read by the tests
# topology.sh — the three-site test network for dvpnd's integration tests.
#
#  hostA ─lan0─ gwA ─wanb── gwB ─lan0─ srvB          site B: 10.20.0.0/24 (netcat)
#  192.168.10.2  │  198.51.100.1/.2     10.20.0.1    10.20.0.2         10.21.0.0/24 (direct)
#  fd00:a::2     │  2001:db8:1::1/::2   10.21.0.1    10.21.0.2
#                └─wanc── gwC ─lan0─ srvC          site C: fd00:30::/64 (IPv6 endpoint)
#                   198.51.101.1/.3     fd00:30::1   fd00:30::2, 10.30.0.2, 10.31.0.2
#                   2001:db8:2::1/::3   10.30.0.1, 10.31.0.1
#
# gwA runs dvpnd behind iptables REDIRECT rules and has no route to any far
# LAN (gateway_topology_up asserts it). gwB and gwC run sshd for a test user
# whose authorized_keys holds a fresh client key; srvB and srvC run
# tools/testserver.py. 10.30.0.0/24 and 10.31.0.0/24 are in no site at start
# (the reload tests add them). gwc_to_siteb_up links gwC to gwB too
# (10.40.0.2/30 lanb - 10.40.0.1/30 lanc), a second way into site B.
# Everything lives in namespaces PREFIX-* (netlib).
#
# Knobs, set before gateway_topology_up (arrays of lines):
#   GW_SSHD_B_EXTRA / GW_SSHD_C_EXTRA  extra sshd_config lines (they win over defaults)
#   GW_SSH_EXTRA                       extra keys of dvpnd's ssh: section ("max_channels_per_session: 100")
#   GW_CONFIG_EXTRA                    extra top-level dvpnd config lines ("limits: {max_connections: 5}")
#   GW_START_DVPND=0                   build everything but do not start dvpnd
#   GW_WAN_B                           wan_link options (lib/wan.sh), e.g. (--delay-ms 10): the
#                                      gwA-gwB link goes through dvpn-delayline, named "wanb"
GW_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/netlib.sh
. "$GW_HERE/../lib/netlib.sh"
# shellcheck source=../lib/wan.sh
. "$GW_HERE/../lib/wan.sh"

GW_TOOLS=$(cd "$GW_HERE/../tools" && pwd)
PY=/usr/bin/python3
DVPND=${DVPND:-${DVPN_BUILD_ROOT:-$(cd "$GW_HERE/../../.." && pwd)/build}/daemon/dvpnd}

# ---- addresses and ports -----------------------------------------------------------
HOSTA_IP=192.168.10.2   HOSTA_IP6=fd00:a::2
GWA_LAN=192.168.10.1    GWA_LAN6=fd00:a::1
GWB_WAN=198.51.100.2    GWB_WAN6=2001:db8:1::2
GWC_WAN=198.51.101.3    GWC_WAN6=2001:db8:2::3
SRVB_IP=10.20.0.2          # site "siteb", netcat mode
SRVB_DIRECT_IP=10.21.0.2   # site "siteb-direct", same gateway and server, direct mode
SRVC_IP6=fd00:30::2        # site "sitec", IPv6 endpoint
SRVC_IP=10.30.0.2          # behind gwC, in no site until a test adds one
SRVC_IP_EXTRA=10.31.0.2    # likewise
NOSITE_IP=10.99.0.5        # in vpn_networks, in no site
LISTEN_PORT=7007
HTTP_PORT=80 AFTER_EOF_PORT=7001 BULK_PORT=7002 ECHO_PORT=7003 CLOSED_PORT=7009
CONNECT_TIMEOUT_S=${CONNECT_TIMEOUT_S:-3}   # dvpnd's ssh.connect_timeout here
RESET_LIMIT_S=4.5          # "RST within connect_timeout", plus slack for a busy 2-core box
GW_HTTP_PATH=/file.bin     # 1 MiB of random bytes ($GW_HTTP_FILE)
GW_SMALL_PATH=/small.txt   # ~1 KiB ($GW_SMALL_FILE)

GW_SSHD_B_EXTRA=("${GW_SSHD_B_EXTRA[@]}")
GW_SSHD_C_EXTRA=("${GW_SSHD_C_EXTRA[@]}")
GW_SSH_EXTRA=("${GW_SSH_EXTRA[@]}")
GW_CONFIG_EXTRA=("${GW_CONFIG_EXTRA[@]}")
GW_WAN_B=("${GW_WAN_B[@]}")

# siteb_ip MODE — srvB's address in the site that uses MODE (netcat|direct).
siteb_ip() {
  case $1 in
    netcat) echo "$SRVB_IP" ;;
    direct) echo "$SRVB_DIRECT_IP" ;;
    *) fail "siteb_ip: unknown mode $1" ;;
  esac
}

# ---- building blocks ---------------------------------------------------------------
gw_network_up() {
  local ns
  for ns in hostA gwA gwB srvB gwC srvC; do ns_add "$ns"; done
  link hostA eth0 "$HOSTA_IP/24,$HOSTA_IP6/64"  gwA lan0 "$GWA_LAN/24,$GWA_LAN6/64"
  if [ ${#GW_WAN_B[@]} -gt 0 ]; then
    # Through dvpn-delayline instead of a veth (lib/wan.sh; the link is named wanb).
    wan_link gwA gwB "198.51.100.1/24,2001:db8:1::1/64" "$GWB_WAN/24,$GWB_WAN6/64" \
      --dev-a wanb --dev-b wan0 --name wanb "${GW_WAN_B[@]}"
  else
    link gwA wanb "198.51.100.1/24,2001:db8:1::1/64" gwB wan0 "$GWB_WAN/24,$GWB_WAN6/64"
  fi
  link gwB lan0 "10.20.0.1/24,10.21.0.1/24"     srvB eth0 "$SRVB_IP/24,$SRVB_DIRECT_IP/24"
  link gwA wanc "198.51.101.1/24,2001:db8:2::1/64" gwC wan0 "$GWC_WAN/24,$GWC_WAN6/64"
  link gwC lan0 "fd00:30::1/64,10.30.0.1/24,10.31.0.1/24" \
       srvC eth0 "$SRVC_IP6/64,$SRVC_IP/24,$SRVC_IP_EXTRA/24"
  ns_exec hostA ip route add default via "$GWA_LAN"
  ns_exec hostA ip -6 route add default via "$GWA_LAN6"
  ns_exec srvB ip route add default via 10.20.0.1
  ns_exec srvC ip route add default via 10.30.0.1
  ns_exec srvC ip -6 route add default via fd00:30::1
  # gwA forwards, but has no route to any far LAN: only dvpnd can get there.
  ns_exec gwA sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# assert_unreachable NS HOST PORT — fails if NS can open a TCP connection to HOST:PORT.
assert_unreachable() {
  if ns_exec "$1" timeout 3 nc -z -w 2 "$2" "$3" 2>/dev/null; then
    fail "topology: $1 reaches $2:$3 without dvpnd"
  fi
}

# Fails unless every far server is unreachable from hostA and gwA without dvpnd.
gw_assert_no_path() {
  local ns dst
  for ns in hostA gwA; do
    for dst in "$SRVB_IP" "$SRVB_DIRECT_IP" "$SRVC_IP6" "$SRVC_IP"; do assert_unreachable "$ns" "$dst" "$HTTP_PORT"; done
  done
}

# Test user, client key, sshd on gwB and gwC, servers on srvB and srvC.
gw_far_ends_up() {
  GW_USER=${NETLIB_PREFIX}test
  user_add "$GW_USER"
  ssh-keygen -q -t ed25519 -N '' -C "$GW_USER-client" -f "$GW_DIR/id_ed25519"
  GW_AUTH_KEYS_B=$GW_DIR/authorized_keys_gwB
  GW_AUTH_KEYS_C=$GW_DIR/authorized_keys_gwC
  install -m 644 "$GW_DIR/id_ed25519.pub" "$GW_AUTH_KEYS_B"
  install -m 644 "$GW_DIR/id_ed25519.pub" "$GW_AUTH_KEYS_C"
  sshd_start gwB 22 "$GW_USER" "$GW_AUTH_KEYS_B" "${GW_SSHD_B_EXTRA[@]}"
  GWB_SSHD_PID=$SSHD_PID
  sshd_start gwC 22 "$GW_USER" "$GW_AUTH_KEYS_C" "${GW_SSHD_C_EXTRA[@]}"
  GWC_SSHD_PID=$SSHD_PID

  mkdir -p "$GW_DIR/www"
  head -c 1048576 /dev/urandom >"$GW_DIR/www/file.bin"
  GW_HTTP_FILE=$GW_DIR/www/file.bin
  head -c 768 /dev/urandom | base64 >"$GW_DIR/www/small.txt"
  GW_SMALL_FILE=$GW_DIR/www/small.txt
  local ns
  for ns in srvB srvC; do
    spawn "$ns" "$GW_DIR/testserver-$ns.log" "$PY" "$GW_TOOLS/testserver.py" \
      --http "$HTTP_PORT" --http-root "$GW_DIR/www" \
      --after-eof "$AFTER_EOF_PORT" --bulk "$BULK_PORT" --echo "$ECHO_PORT"
    wait_port "$ns" "$ECHO_PORT" 10 || fail "testserver in $ns did not start"
  done
}

# known_hosts lines for both host-key forms libssh2 and OpenSSH look up.
gw_known_hosts_lines() {
  local pub=$1 addr key
  key=$(cut -d' ' -f1,2 "$pub")
  shift
  for addr in "$@"; do
    echo "$addr $key"
    echo "[$addr]:22 $key"
  done
}

gw_write_known_hosts() {
  {
    gw_known_hosts_lines "$(_netlib_sshd_dir gwB 22)/hostkey.pub" "$GWB_WAN" "$GWB_WAN6"
    gw_known_hosts_lines "$(_netlib_sshd_dir gwC 22)/hostkey.pub" "$GWC_WAN" "$GWC_WAN6"
  } >"$GW_DIR/known_hosts"
}

gw_write_hosts() {
  GW_HOSTS=$GW_DIR/hosts
  GW_HOSTS_D=$GW_DIR/hosts.d
  mkdir -p "$GW_HOSTS_D"
  cat >"$GW_HOSTS" <<EOF
# dvpn integration test sites (tests/integration/gateway/topology.sh)
127.0.0.1	localhost
$GWA_LAN	gwa
10.20.0.1	siteb		#!$GWB_WAN
10.21.0.1	siteb-direct	#!$GW_USER@$GWB_WAN:22 mode=direct
fd00:30::1	sitec		#![$GWC_WAN6]:22
EOF
}

gw_write_config() {
  DVPND_CONF=$GW_DIR/dvpn.yaml
  gw_write_config_to "$DVPND_CONF" "$GW_HOSTS" "192.168.10.0/24, fd00:a::/64" \
    "$GW_DIR/id_ed25519" "$GW_DIR/known_hosts" "$GW_DIR/control.sock"
}

# gw_write_config_to FILE HOSTS LOCAL_SUBNETS IDENTITY KNOWN_HOSTS CONTROL —
# a dialing gateway's dvpnd config; a second dialing site (relay_topology.sh)
# differs from gwA only in these.
gw_write_config_to() {
  local file=$1 hosts=$2 subnets=$3 identity=$4 known=$5 control=$6 line
  {
    cat <<EOF
listen: ["0.0.0.0:$LISTEN_PORT", "[::]:$LISTEN_PORT"]
hosts: [$hosts, $GW_HOSTS_D]
vpn_networks: [10.0.0.0/8, fd00::/8]
local_subnets: [$subnets]
ssh:
  user: $GW_USER
  identity: $identity
  known_hosts: $known
  command: "busybox nc {host} {port}"
  connect_timeout: ${CONNECT_TIMEOUT_S}s
EOF
    for line in "${GW_SSH_EXTRA[@]}"; do echo "  $line"; done
    cat <<EOF
log:
  level: debug
control_socket: $control
run_as: ""
EOF
    for line in "${GW_CONFIG_EXTRA[@]}"; do echo "$line"; done
  } >"$file"
}

# OpenSSH client config for checks by hand: ssh -F $GW_DIR/ssh_config gwB|gwC
gw_write_ssh_config() {
  cat >"$GW_DIR/ssh_config" <<EOF
Host gwB
  HostName $GWB_WAN
Host gwC
  HostName $GWC_WAN6
Host *
  User $GW_USER
  IdentityFile $GW_DIR/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $GW_DIR/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 5
  LogLevel ERROR
EOF
}

# redirect_rules_up [NS LAN] — REDIRECT what NS's lan0 (LAN, default gwA's
# 192.168.10.0/24) sends to the VPN networks to dvpnd. Stand-in for
# `firewall/dvpn-firewall apply` (which also covers the gateway's own traffic).
# The IPv6 rules are gwA's only: no other dialing site has IPv6 on its LAN.
# shellcheck disable=SC2120 # NS and LAN are optional: gwA's by default
redirect_rules_up() {
  local ns=${1:-gwA} lan=${2:-192.168.10.0/24}
  ns_exec "$ns" iptables -t nat -A PREROUTING -i lan0 -p tcp -d "$lan" -j RETURN
  ns_exec "$ns" iptables -t nat -A PREROUTING -i lan0 -p tcp -d 10.0.0.0/8 \
    -j REDIRECT --to-ports "$LISTEN_PORT"
  [ "$ns" = gwA ] || return 0
  ns_exec gwA ip6tables -t nat -A PREROUTING -i lan0 -p tcp -d fd00:a::/64 -j RETURN
  ns_exec gwA ip6tables -t nat -A PREROUTING -i lan0 -p tcp -d fd00::/8 \
    -j REDIRECT --to-ports "$LISTEN_PORT"
}

# ---- dvpnd ---------------------------------------------------------------------------
dvpnd_start() {
  DVPND_LOG=$GW_DIR/dvpnd.log
  dvpnd_start_in gwA "$DVPND_CONF" "$DVPND_LOG"
  DVPND_PID=$SPAWNED_PID
}

# dvpnd_start_in NS CONF LOG — a dvpnd in NS that listens on LISTEN_PORT; PID in $SPAWNED_PID.
dvpnd_start_in() {
  NETLIB_FAIL_LOGS+=("$3")
  spawn "$1" "$3" "$DVPND" -c "$2" --foreground
  wait_port "$1" "$LISTEN_PORT" 10 || fail "dvpnd in $1 did not listen on $LISTEN_PORT"
  _netlib_alive "$SPAWNED_PID" || fail "dvpnd in $1 exited at startup"
}

dvpnd_stop() { stop_pid "$DVPND_PID"; }

# dvpnd_log_has REGEX — the dvpnd log matches REGEX (grep -Ei).
dvpnd_log_has() { grep -Eqi -- "$1" "$DVPND_LOG"; }

# ---- the whole network ---------------------------------------------------------------
gateway_topology_up() {
  [ -n "$NETLIB_PREFIX" ] || netlib_init "${GW_PREFIX:-dvg}"
  GW_DIR=$NETLIB_DIR
  if [ "${GW_START_DVPND:-1}" = 1 ] && ! [ -x "$DVPND" ]; then
    fail "dvpnd not built: $DVPND (set DVPND or build with meson)"
  fi
  step "topology up (namespaces $NETLIB_PREFIX-*, state $GW_DIR)"
  gw_network_up
  gw_assert_no_path
  gw_far_ends_up
  gw_write_known_hosts
  gw_write_hosts
  gw_write_config
  gw_write_ssh_config
  redirect_rules_up
  [ "${GW_START_DVPND:-1}" = 1 ] && dvpnd_start
  step "topology ready"
}

# ---- helpers for the tests ---------------------------------------------------------
# The namespace the clients run in: hostA, unless a test runs them from
# another dialing site's LAN (relay_topology.sh's from_site).
GW_CLIENT_NS=hostA

# client TIMEOUT_S ARGS... — tools/tcpclient.py in $GW_CLIENT_NS, killed after TIMEOUT_S.
client() {
  local t=$1
  shift
  ns_exec "$GW_CLIENT_NS" timeout "$t" "$PY" "$GW_TOOLS/tcpclient.py" "$@"
}

# http_get_ok DST — one GET of the known file through dvpnd, body checked.
http_get_ok() {
  client 30 get "$1" "$HTTP_PORT" --path "$GW_HTTP_PATH" --expect-file "$GW_HTTP_FILE"
}

# get_within DST LIMIT_MS WHY — one GET of the known file through dvpnd,
# served within LIMIT_MS, else fail with WHY; sets GOT_MS.
get_within() {
  local t0
  t0=$(now_ms)
  expect_rc 0 "GET to $1" http_get_ok "$1"
  GOT_MS=$(($(now_ms) - t0))
  [ "$GOT_MS" -lt "$2" ] || fail "GET took $GOT_MS ms (limit $2): $3"
  pass "served in $GOT_MS ms"
}

# siteb_endpoint NAME — site B's netcat-mode line reaches gwB under NAME
# instead of its IPv4 literal, and gwB's host key is known under NAME too
# (libssh2 checks the name the endpoint gives). Before dvpnd_start, or a
# reload picks the line up.
siteb_endpoint() {
  sed -i "s|^10\.20\.0\.1\t\(.*\)#!$GWB_WAN\$|10.20.0.1\t\1#!$1|" "$GW_HOSTS"
  grep -q "#!$1\$" "$GW_HOSTS" || fail "setup: siteb's endpoint not replaced in $GW_HOSTS"
  gw_known_hosts_lines "$(_netlib_sshd_dir gwB 22)/hostkey.pub" "$1" >>"$GW_DIR/known_hosts"
}

# status_json — dvpnd --status --json.
status_json() { ns_exec gwA timeout 5 "$DVPND" -c "$DVPND_CONF" --status --json; }
# connections_via ENDPOINT — connections the pool of ENDPOINT has carried.
connections_via() { status_json | jq -r --arg e "$1" '[.gateways[] | select(.endpoint == $e) | .connections] | add // 0'; }
# site_status SITE FIELD — one field of SITE's site_health entry (path_number, path_why, ...).
site_status() { status_json | jq -r --arg s "$1" --arg f "$2" '.site_health[] | select(.site == $s) | .[$f]'; }
# site_on_path SITE N — SITE's new connections take its path N now.
site_on_path() { [ "$(site_status "$1" path_number)" = "$2" ]; }

# gwc_to_siteb_up — gwC reaches site B's LAN (10.20.0.0/15) too, through a
# link to gwB, which forwards: a second far end for site B, whose route a
# test can take away (gwc_to_siteb) while its sshd goes on authenticating.
gwc_to_siteb_up() {
  link gwC lanb 10.40.0.2/30 gwB lanc 10.40.0.1/30
  ns_exec gwB sysctl -qw net.ipv4.ip_forward=1
  gwc_to_siteb repair
}

# gwc_to_siteb break|repair — gwC's route to site B: an "unreachable" route
# (connect() fails at once with No route to host), or via gwB.
gwc_to_siteb() {
  case $1 in
    break) ns_exec gwC ip route replace unreachable 10.20.0.0/15 ;;
    repair) ns_exec gwC ip route replace 10.20.0.0/15 via 10.40.0.1 ;;
    *) fail "gwc_to_siteb: break or repair, not $1" ;;
  esac
}

# hosts_append LINE — appends a line to the hosts file (as an editor's >> would).
hosts_append() { printf '%s\n' "$1" >>"$GW_HOSTS"; }

# hosts_drop NAME TEXT — atomically adds hosts.d/NAME (write aside, rename).
hosts_drop() {
  printf '%s\n' "$2" >"$GW_HOSTS_D/.$1.tmp"
  mv "$GW_HOSTS_D/.$1.tmp" "$GW_HOSTS_D/$1"
}

# gw_session_pids — every process of gwB's sshd below the listener (the
# per-connection monitors, their user-side children and far-end relays).
gw_session_pids() { descendants "$(sshd_pid gwB 22)"; }

# half_close_checks MODE DST COUNT TIMEOUT_S — the client half-closes after its
# request, the server replies after EOF: an empty request with a 1-byte reply,
# 100 KiB with 4 MiB, and COUNT concurrent ones; each client bounded by TIMEOUT_S.
half_close_checks() {
  local mode=$1 dst=$2 count=$3 t=$4
  expect_rc 0 "empty request, 1 byte reply via $mode" \
    client "$t" halfclose "$dst" "$AFTER_EOF_PORT" --send 0 --reply 1
  expect_rc 0 "100 KiB request, 4 MiB reply via $mode" \
    client "$t" halfclose "$dst" "$AFTER_EOF_PORT" --send 100KiB --reply 4MiB --timeout $((t - 5))
  expect_rc 0 "$count concurrent half-closes via $mode" \
    client "$t" halfclose "$dst" "$AFTER_EOF_PORT" --send 10KiB --reply 64KiB --count "$count" --concurrency "$count"
}

# ---- background clients ----------------------------------------------------------------
declare -A BG_PIDS=()

# client_bg NAME TIMEOUT_S ARGS... — tcpclient.py in $GW_CLIENT_NS in the background,
# output in $GW_DIR/NAME.log; collect it with bg_finish NAME.
client_bg() {
  local name=$1 t=$2
  shift 2
  spawn "$GW_CLIENT_NS" "$GW_DIR/$name.log" timeout "$t" "$PY" "$GW_TOOLS/tcpclient.py" "$@"
  BG_PIDS[$name]=$SPAWNED_PID
}

# bg_finish NAME — waits for background client NAME, shows its output, returns its exit code.
bg_finish() {
  wait_pid "${BG_PIDS[$1]}"
  sed "s/^/   [$1] /" "$GW_DIR/$1.log" >&2
  return "$WAIT_RC"
}

_bg_ready() { [ -f "$GW_DIR/$1.ready" ] || ! _netlib_alive "${BG_PIDS[$1]}"; }

# hold_open NAME DST COUNT [ARGS...] — COUNT echo connections to DST held open
# by a background client; returns once every one of them has echoed a line.
hold_open() {
  local name=$1 dst=$2 count=$3
  shift 3
  rm -f "$GW_DIR/$name.ready" "$GW_DIR/$name.go"
  client_bg "$name" 600 hold "$dst" "$ECHO_PORT" --count "$count" \
    --ready-file "$GW_DIR/$name.ready" --go-file "$GW_DIR/$name.go" --hold-max 300 "$@"
  if ! retry_for 10 _bg_ready "$name"; then
    stall_snapshot "hold $name: no echo within 10 s"
    retry_for 290 _bg_ready "$name" || fail "hold $name: not ready in time"
  fi
  if ! [ -f "$GW_DIR/$name.ready" ]; then
    bg_finish "$name" || true
    fail "hold $name: could not open $count connections to $dst"
  fi
}

# stall_snapshot WHY — while something waits: each hop's TCP sockets with
# their queues (which side holds the bytes) and dvpnd's status, to stderr.
stall_snapshot() {
  _netlib_log "$1; sockets and status while it waits:"
  local ns
  for ns in "$GW_CLIENT_NS" gwA gwB; do
    echo "   -- $ns: ss -tnoi" >&2
    ns_exec "$ns" ss -tnoi 2>&1 | sed 's/^/   /' >&2 || true
  done
  status_json 2>&1 | sed 's/^/   /' >&2 || true
}

# hold_release NAME — every held connection echoes again and closes; returns the client's exit code.
hold_release() {
  touch "$GW_DIR/$1.go"
  bg_finish "$1"
}

# progress_at_least NAME BYTES — background bulk client NAME received >= BYTES.
progress_at_least() {
  local f=$GW_DIR/$1.progress
  [ -f "$f" ] && [ "$(cat "$f")" -ge "$2" ]
}

# gwb_ssh_sockets — gwA's TCP sockets to gwB:22 that are connecting or established.
gwb_ssh_sockets() {
  ns_exec gwA ss -tnH state syn-sent state established "( dst $GWB_WAN and dport = :22 )" | wc -l
}
