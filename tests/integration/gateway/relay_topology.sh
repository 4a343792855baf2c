# shellcheck shell=bash source-path=SCRIPTDIR disable=SC2034 # variables here are read by the tests
# relay_topology.sh — a site behind NAT reached through a relay (issue #14).
#
#  hostA ─lan0─ gwA ─wanr── relay ──wanb─ gwB ─lan0─ srvB    site B: 10.20.0.0/24 (netcat)
#  192.168.10.2     198.51.100.1/.2 │ 203.0.113.2/.1  10.20.0.1   10.21.0.0/24 (direct)
#                                  │
#  hostE ─lan0─ gwE ─wanr──────────┘ 192.0.2.1/.2 (only with RELAY_SECOND_SITE=1)
#  192.168.20.2
#
# RELAY_SECOND_SITE=1 adds a second dialing site E: its own LAN host, dvpnd,
# key (authorized to dial on the relay and for the test user on gwB),
# known_hosts and hosts file naming the relay by the address E reaches it at.
# It is opt-in because it costs two namespaces and a dvpnd, which only the
# tests that run their checks from both sites (from_site) need.
#
# The relay runs only OpenSSH with a dvpn-jail relay account
# (`dvpn-jail install --relay`; B's key may listen on 127.0.0.1:2201, A's may
# dial it) and does not forward packets: gwA and gwB both have a default
# route through it and still cannot reach each other (relay_assert_no_path).
# gwB dials out: by default its own dvpnd (relay_listen: to its sshd at
# 127.0.0.1:22); with RELAY_B_SIDE=ssh an OpenSSH `ssh -N -R` instead. gwA's
# dvpnd reaches site B by the path RELAY>127.0.0.1:2201.
#
# Uses the topology.sh helpers (client, http_get_ok, dvpnd_start, ...), the
# jail tests' lib.sh and lib/relay.sh (shared with bench/wan's relay variants)
# for the relay account and B's dvpnd; namespaces and user PREFIX-*
# (GW_PREFIX, default dvy), the relay account PREFIXrelay.
RELAY_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=topology.sh
. "$RELAY_HERE/topology.sh"
DVPN_SOURCE_ROOT=${DVPN_SOURCE_ROOT:-$(cd "$RELAY_HERE/../../.." && pwd)}
DVPN_BUILD_ROOT=${DVPN_BUILD_ROOT:-$DVPN_SOURCE_ROOT/build}
# shellcheck source=../jail/lib.sh
. "$RELAY_HERE/../jail/lib.sh"
# shellcheck source=../lib/relay.sh
. "$RELAY_HERE/../lib/relay.sh"

RELAY_A=198.51.100.2 RELAY_B=203.0.113.2 GWA_WAN=198.51.100.1 GWB_UPLINK=203.0.113.1
RELAY_E=192.0.2.2 GWE_WAN=192.0.2.1 HOSTE_IP=192.168.20.2 GWE_LAN=192.168.20.1
RELAY_PORT=2201
RELAY_SECOND_SITE=${RELAY_SECOND_SITE:-0}
RELAY_B_SIDE=${RELAY_B_SIDE:-dvpnd}
B_LISTEN_PORT=7017   # gwB's dvpnd listens here (it serves no site itself)

relay_network_up() {
  local ns
  for ns in hostA gwA relay gwB srvB; do ns_add "$ns"; done
  link hostA eth0 "$HOSTA_IP/24"  gwA lan0 "$GWA_LAN/24"
  link gwA wanr "$GWA_WAN/24"     relay wana "$RELAY_A/24"
  link gwB wanr "$GWB_UPLINK/24"  relay wanb "$RELAY_B/24"
  link gwB lan0 "10.20.0.1/24,10.21.0.1/24" srvB eth0 "$SRVB_IP/24,$SRVB_DIRECT_IP/24"
  ns_exec hostA ip route add default via "$GWA_LAN"
  ns_exec srvB ip route add default via 10.20.0.1
  ns_exec gwA ip route add default via "$RELAY_A"
  ns_exec gwB ip route add default via "$RELAY_B"
  ns_exec gwA sysctl -qw net.ipv4.ip_forward=1
  ns_exec relay sysctl -qw net.ipv4.ip_forward=0
  [ "$RELAY_SECOND_SITE" = 1 ] && relay_site_e_network_up
  return 0
}

# Site E's LAN and its own link to the relay (the relay still forwards nothing,
# so E reaches neither A nor B but through the relay's sshd).
relay_site_e_network_up() {
  ns_add hostE
  ns_add gwE
  link hostE eth0 "$HOSTE_IP/24"  gwE lan0 "$GWE_LAN/24"
  link gwE wanr "$GWE_WAN/24"     relay wane "$RELAY_E/24"
  ns_exec hostE ip route add default via "$GWE_LAN"
  ns_exec gwE ip route add default via "$RELAY_E"
  ns_exec gwE sysctl -qw net.ipv4.ip_forward=1
}

# relay_dialing_sites — the sites that reach B through the relay: A, and E with RELAY_SECOND_SITE=1.
relay_dialing_sites() { if [ "$RELAY_SECOND_SITE" = 1 ]; then echo A E; else echo A; fi; }

# from_site SITE CMD... — CMD with its clients (client, client_bg, http_get_ok, ...) on SITE's LAN host.
from_site() {
  local GW_CLIENT_NS=host$1
  shift
  "$@"
}

# site_relay_addr SITE — the relay's address as SITE dials it.
site_relay_addr() { if [ "$1" = E ]; then echo "$RELAY_E"; else echo "$RELAY_A"; fi; }

# dialing_site_status SITE — SITE's dvpnd --status.
dialing_site_status() {
  if [ "$1" = E ]; then ns_exec gwE "$DVPND" -c "$DVPND_E_CONF" --status; else ns_exec gwA "$DVPND" -c "$DVPND_CONF" --status; fi
}

# Fails if anything on a dialing site reaches B's side (or back), or the other
# dialing site, without the relay's sshd.
relay_assert_no_path() {
  local ns dst s probes=()
  for s in $(relay_dialing_sites); do
    for ns in "host$s" "gw$s"; do
      for dst in "$SRVB_IP:$HTTP_PORT" "$SRVB_DIRECT_IP:$HTTP_PORT" "$GWB_UPLINK:22" "10.20.0.1:22"; do
        probes+=("$ns:$dst")
      done
    done
  done
  probes+=("gwB:$GWA_WAN:$LISTEN_PORT")
  [ "$RELAY_SECOND_SITE" = 1 ] && probes+=("gwB:$GWE_WAN:$LISTEN_PORT" "hostE:$HOSTA_IP:$HTTP_PORT"
    "gwE:$GWA_WAN:$LISTEN_PORT" "gwA:$GWE_WAN:$LISTEN_PORT")
  assert_all_unreachable "${probes[@]}"
}

# assert_all_unreachable NS:HOST:PORT... — assert_unreachable for each, all at
# once: a dropped SYN costs each probe its whole 2 s, which one after another
# would add up to most of the topology's setup time.
assert_all_unreachable() {
  local p pids=() reached=$GW_DIR/reached
  : >"$reached"
  for p in "$@"; do
    (if ns_exec "${p%%:*}" timeout 3 nc -z -w 2 "$(cut -d: -f2 <<<"$p")" "${p##*:}" 2>/dev/null; then
      echo "$p" >>"$reached"
    fi) &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
  [ ! -s "$reached" ] || fail "topology: reached without dvpnd: $(tr '\n' ' ' <"$reached")"
}

# The relay's sshd with the jailed relay account; B's key listens, A's dials.
relay_sshd_up() {
  ssh-keygen -q -t ed25519 -N '' -C "$NETLIB_PREFIX-b-gw" -f "$GW_DIR/id_b"
  relay_jail_sshd_up relay "$GW_DIR/id_b.pub" "$GW_DIR/id_ed25519.pub" "$RELAY_PORT"
}

# restart_relay_sshd — the relay's sshd and every session it had are gone, then it comes back.
relay_sshd_kill() {
  local victims
  victims=$(descendants "$(sshd_pid relay 22)" | tr '\n' ' ')
  # shellcheck disable=SC2086
  kill -KILL $victims "$(sshd_pid relay 22)" 2>/dev/null || true
}
relay_sshd_restart() { _netlib_sshd_run relay 22; }

# relay_site_e_keys — E's own key: it may dial the relay's port (a relay key
# of its own, not A's) and log in as the test user on gwB, like A's.
relay_site_e_keys() {
  ssh-keygen -q -t ed25519 -N '' -C "$NETLIB_PREFIX-e-gw" -f "$GW_DIR/id_e"
  dvj_jail authorize-relay "$GW_DIR/id_e.pub" --site e --dial "$RELAY_PORT" >/dev/null ||
    fail "dvpn-jail authorize-relay for E's key"
  cat "$GW_DIR/id_e.pub" >>"$GW_DIR/authorized_keys_gwB"
}

# gwB's sshd (the test user, A's key) and the test servers on srvB.
relay_far_end_up() {
  GW_USER=${NETLIB_PREFIX}test
  user_add "$GW_USER"
  ssh-keygen -q -t ed25519 -N '' -C "$GW_USER-client" -f "$GW_DIR/id_ed25519"
  install -m 644 "$GW_DIR/id_ed25519.pub" "$GW_DIR/authorized_keys_gwB"
  sshd_start gwB 22 "$GW_USER" "$GW_DIR/authorized_keys_gwB"
  GWB_SSHD_PID=$SSHD_PID
  NETLIB_FAIL_LOGS+=("$(sshd_log gwB 22)")
  mkdir -p "$GW_DIR/www"
  head -c 1048576 /dev/urandom >"$GW_DIR/www/file.bin"
  GW_HTTP_FILE=$GW_DIR/www/file.bin
  spawn srvB "$GW_DIR/testserver-srvB.log" "$PY" "$GW_TOOLS/testserver.py" \
    --http "$HTTP_PORT" --http-root "$GW_DIR/www" \
    --after-eof "$AFTER_EOF_PORT" --bulk "$BULK_PORT" --echo "$ECHO_PORT"
  wait_port srvB "$ECHO_PORT" 10 || fail "testserver in srvB did not start"
}

# relay_site_known_hosts FILE RELAY_ADDR — a dialing site's known_hosts: the
# relay by the address the site dials, B's sshd as the relay sees it.
relay_site_known_hosts() {
  {
    echo "$2 $(cut -d' ' -f1,2 "$(_netlib_sshd_dir relay 22)/hostkey.pub")"
    echo "[127.0.0.1]:$RELAY_PORT $(cut -d' ' -f1,2 "$(_netlib_sshd_dir gwB 22)/hostkey.pub")"
  } >"$1"
}

relay_write_known_hosts() {
  relay_site_known_hosts "$GW_DIR/known_hosts" "$RELAY_A"
  if [ "$RELAY_SECOND_SITE" = 1 ]; then relay_site_known_hosts "$GW_DIR/known_hosts_e" "$RELAY_E"; fi
  # B's: the relay by the address B dials.
  echo "$RELAY_B $(cut -d' ' -f1,2 "$(_netlib_sshd_dir relay 22)/hostkey.pub")" >"$GW_DIR/known_hosts_b"
}

# relay_site_hosts FILE RELAY_ADDR — a dialing site's hosts file: site B in both
# modes through the relay at RELAY_ADDR.
relay_site_hosts() {
  cat >"$1" <<EOF
# site B behind NAT, through the relay (tests/integration/gateway/relay_topology.sh)
10.20.0.1	siteb		#!$DVJ_USER@$2>127.0.0.1:$RELAY_PORT
10.21.0.1	siteb-direct	#!$DVJ_USER@$2>$GW_USER@127.0.0.1:$RELAY_PORT mode=direct
EOF
}

relay_write_hosts() {
  GW_HOSTS=$GW_DIR/hosts
  GW_HOSTS_D=$GW_DIR/hosts.d
  mkdir -p "$GW_HOSTS_D"
  relay_site_hosts "$GW_HOSTS" "$RELAY_A"
  [ "$RELAY_SECOND_SITE" = 1 ] && relay_site_hosts "$GW_DIR/hosts-e" "$RELAY_E"
  return 0
}

# relay_site_e_up — E's dvpnd behind its own REDIRECT rules; PID in $DVPND_E_PID.
relay_site_e_up() {
  DVPND_E_CONF=$GW_DIR/dvpn-e.yaml
  gw_write_config_to "$DVPND_E_CONF" "$GW_DIR/hosts-e" "192.168.20.0/24" \
    "$GW_DIR/id_e" "$GW_DIR/known_hosts_e" "$GW_DIR/control-e.sock"
  redirect_rules_up gwE 192.168.20.0/24
  dvpnd_start_in gwE "$DVPND_E_CONF" "$GW_DIR/dvpnd-e.log"
  DVPND_E_PID=$SPAWNED_PID
}

# gwB's dvpnd: no sites, only the relay_listen entry.
relay_b_config() {
  DVPND_B_CONF=$GW_DIR/dvpn-b.yaml
  relay_b_write_config "$DVPND_B_CONF" "$GW_DIR" "$DVJ_USER@$RELAY_B:22" "$RELAY_PORT" "$B_LISTEN_PORT" debug \
    "connect_timeout: ${CONNECT_TIMEOUT_S}s" "keepalive: 2s"
}

# relay_b_ssh_start — OpenSSH on gwB listens on the relay's port (B's key); PID in $B_PID.
relay_b_ssh_start() {
  spawn gwB "$GW_DIR/b-ssh.log" ssh -F /dev/null -i "$GW_DIR/id_b" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o UserKnownHostsFile="$GW_DIR/known_hosts_b" -o GlobalKnownHostsFile=/dev/null \
    -o StrictHostKeyChecking=yes -o ExitOnForwardFailure=yes -o ServerAliveInterval=2 \
    -N -R "127.0.0.1:$RELAY_PORT:127.0.0.1:22" "$DVJ_USER@$RELAY_B"
  B_PID=$SPAWNED_PID
  NETLIB_FAIL_LOGS+=("$GW_DIR/b-ssh.log")
}

# relay_b_dvpnd_start — gwB's dvpnd with relay_listen; PID in $B_PID.
relay_b_dvpnd_start() {
  relay_b_config
  DVPND_B_LOG=$GW_DIR/dvpnd-b.log
  NETLIB_FAIL_LOGS+=("$DVPND_B_LOG")
  spawn gwB "$DVPND_B_LOG" "$DVPND" -c "$DVPND_B_CONF" --foreground
  B_PID=$SPAWNED_PID
}

# relay_b_up — gwB dials out and listens on the relay's 127.0.0.1:2201.
relay_b_up() {
  if [ "$RELAY_B_SIDE" = ssh ]; then relay_b_ssh_start; else relay_b_dvpnd_start; fi
  relay_wait_listen 15 || fail "gwB does not listen on the relay's 127.0.0.1:$RELAY_PORT"
}

_relay_listens() { relay_listening relay "$RELAY_PORT"; }
# relay_wait_listen SECONDS — the relay listens on 127.0.0.1:RELAY_PORT within SECONDS.
relay_wait_listen() { retry_for "$1" _relay_listens; }

_http_get_quiet() { http_get_ok "$1" >/dev/null 2>&1; }
# get_works_within SECONDS DST — a GET of DST succeeds within SECONDS (tried again at once after each failure).
get_works_within() { retry_for "$1" _http_get_quiet "$2"; }

# b_status — gwB's dvpnd --status.
b_status() { ns_exec gwB "$DVPND" -c "$DVPND_B_CONF" --status; }

relay_topology_up() {
  DVJ_PREFIX=${GW_PREFIX:-dvy}
  DVJ_USER=${DVJ_PREFIX}relay
  dvj_init
  GW_DIR=$NETLIB_DIR
  [ -x "$DVPND" ] || fail "dvpnd not built: $DVPND (set DVPND or build with meson)"
  step "relay topology up (namespaces $NETLIB_PREFIX-*, state $GW_DIR, B side: $RELAY_B_SIDE)"
  relay_network_up
  relay_far_end_up
  relay_sshd_up
  [ "$RELAY_SECOND_SITE" = 1 ] && relay_site_e_keys
  relay_assert_no_path
  relay_write_known_hosts
  relay_write_hosts
  gw_write_config
  redirect_rules_up
  relay_b_up
  dvpnd_start
  [ "$RELAY_SECOND_SITE" = 1 ] && relay_site_e_up
  step "relay topology ready (dialing sites: $(relay_dialing_sites))"
}
