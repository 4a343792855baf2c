# shellcheck shell=bash disable=SC2034 # variables here are read by bench/run and bench/profile
# bench/lib.sh — the benchmark network and its variants, sourced by bench/run
# and bench/profile. Built on tests/integration/lib/netlib.sh (namespaces
# dvb-*, PID-checked cleanup from an EXIT trap).
#
#  hostA ─eth0/lan0─ gwA ─wan0/wan0─ gwB ─lan0/eth0─ srvB
#  192.168.10.2      192.168.10.1    198.51.100.2    10.20.0.2 (site "siteb", netcat mode)
#                    198.51.100.1    sshd :22        10.21.0.2 (site "siteb-direct", direct mode)
#                    dvpnd :7007     10.20.0.1       iperf3 -s :5201, HTTP/1.0 :8080, echo :7000
#                    (REDIRECT)      10.21.0.1
#
# gwA has no route to 10.20/10.21 except while the "plain" variant runs.
#
# With a relay variant (relay-direct, relay-netcat) in VARIANTS, site B is
# also behind NAT on a second uplink, reached through relay R (issue #14):
#
#  gwA ─wanr/wana─ relay ─wanb/uplink─ gwB        R: OpenSSH only, the account
#  198.51.101.1    198.51.101.2         203.0.113.1   of `dvpn-jail install --relay`
#                  203.0.113.2 sshd :22               (dvbrelay), no forwarding
#
# gwB's dvpnd keeps a session to R and listens on R's 127.0.0.1:2201
# (relay_listen, forwarded to gwB's sshd); gwA's dvpnd reaches site B by the
# path dvbrelay@R>127.0.0.1:2201 (hosts-relay). gwB's uplink takes no new
# inbound connection (NAT), and while a relay variant runs gwB drops all
# input on its direct link wan0. gwA-R is the WAN (a second delay line, named
# "wanr", with the same settings as "wan"); R-gwB is a veth: the relay sits
# next to the NAT'd site, so the path's end-to-end RTT is the WAN's RTT.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_ROOT=$(cd "$BENCH_DIR/.." && pwd)
# The jail tests' lib.sh sources netlib.sh and brings dvpn-jail's helpers for
# the relay's account (DVJ_GATE is set from DVPN_GATE before they are used).
DVPN_SOURCE_ROOT=$BENCH_ROOT DVPN_BUILD_ROOT=${DVPN_BUILD_ROOT:-}
# shellcheck source=../tests/integration/jail/lib.sh
. "$BENCH_ROOT/tests/integration/jail/lib.sh"
# shellcheck source=../tests/integration/lib/wan.sh
. "$BENCH_ROOT/tests/integration/lib/wan.sh"
# shellcheck source=../tests/integration/lib/relay.sh
. "$BENCH_ROOT/tests/integration/lib/relay.sh"

PY=/usr/bin/python3
HELPERS=$BENCH_DIR/helpers
CLK_TCK=$(getconf CLK_TCK)

HOSTA_IP=192.168.10.2 GWA_LAN=192.168.10.1 GWA_WAN=198.51.100.1 GWB_WAN=198.51.100.2
SRV_NC_IP=10.20.0.2 SRV_DIRECT_IP=10.21.0.2
IPERF_PORT=5201 HTTP_PORT=8080 ECHO_PORT=7000 LISTEN_PORT=7007
SSHL_IPERF=15201 SSHL_HTTP=18080 SSHL_ECHO=17000
BENCH_USER=dvbtest
GWA_RWAN=198.51.101.1 RELAY_A=198.51.101.2 RELAY_B=203.0.113.2 GWB_UPLINK=203.0.113.1
RELAY_PORT=2201 B_LISTEN_PORT=7017

# Knobs (environment).
SSHD_MAXSESSIONS=${SSHD_MAXSESSIONS:-100}
SSHD_MAXSTARTUPS=${SSHD_MAXSTARTUPS:-100:30:200}
DVPN_CHANNELS=${DVPN_CHANNELS:-100}        # dvpnd ssh.max_channels_per_session (exec)
DVPN_LOG_LEVEL=${DVPN_LOG_LEVEL:-info}
GWA_QUICKACK=${GWA_QUICKACK:-0}            # 1: route attribute quickack on gwA -> gwB (experiment)
NOFILE=${NOFILE:-200000}
# The program at the far end of a netcat-mode channel: "gate" is dvpn-gate,
# the forced command a jailed far end runs (chroot/), relaying itself;
# "busybox" is plain `busybox nc` (copies 1 KiB per poll).
FAR_END=${FAR_END:-gate}
# BENCH_WAN (array of wan_link options, e.g. (--delay-ms 25)): the gwA-gwB
# link goes through dvpn-delayline (tests/wan/), named "wan", instead of a
# veth pair; bench/wan changes it between its rounds.
BENCH_WAN=("${BENCH_WAN[@]}")
# BENCH_DOWNLOAD=1: bench_traffic also measures one stream srvB -> hostA (iperf3 -R);
# BENCH_DOWNLOAD4=1: and -P 4 -R.
BENCH_DOWNLOAD=${BENCH_DOWNLOAD:-0} BENCH_DOWNLOAD4=${BENCH_DOWNLOAD4:-0}

# ---- build ---------------------------------------------------------------------------
# Sets DVPND, HOSTSDB_BENCH, DVPN_GATE and DVPN_DELAYLINE; builds a release
# tree in $BENCH_BUILD unless DVPND is given (the others then come from its tree).
bench_build() {
  if [ -n "${DVPND:-}" ]; then
    [ -x "$DVPND" ] || { echo "bench: DVPND=$DVPND is not executable" >&2; exit 2; }
    local tree
    tree=$(dirname "$(dirname "$DVPND")")
    HOSTSDB_BENCH=${HOSTSDB_BENCH:-$tree/bench/hostsdb_bench}
    DVPN_GATE=${DVPN_GATE:-$tree/chroot/dvpn-gate}
    DVPN_DELAYLINE=${DVPN_DELAYLINE:-$tree/tests/wan/dvpn-delayline}
    return 0
  fi
  local b=${BENCH_BUILD:-$BENCH_ROOT/build-bench}
  if ! [ -f "$b/build.ninja" ]; then
    echo "bench: configuring a release build in $b" >&2
    meson setup "$b" "$BENCH_ROOT" --buildtype=release >"${TMPDIR:-/tmp}/dvb-meson-setup.log" 2>&1 ||
      { cat "${TMPDIR:-/tmp}/dvb-meson-setup.log" >&2; exit 2; }
  fi
  if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    meson compile -C "$b" dvpnd chroot/dvpn-gate bench/hostsdb_bench tests/wan/dvpn-delayline >"${TMPDIR:-/tmp}/dvb-meson-compile.log" 2>&1 ||
      { tail -30 "${TMPDIR:-/tmp}/dvb-meson-compile.log" >&2; exit 2; }
  fi
  DVPND=$b/daemon/dvpnd
  HOSTSDB_BENCH=$b/bench/hostsdb_bench
  DVPN_GATE=$b/chroot/dvpn-gate
  DVPN_DELAYLINE=$b/tests/wan/dvpn-delayline
}

# bench_write_meta FILE [JSON_FIELDS] — the run's settings for report.py;
# JSON_FIELDS ('"k":v,...') are added to them.
bench_write_meta() {
  {
    printf '{"date":"%s","commit":"%s","command":"%s","mode":"%s","nproc":%s,"load_start":"%s",' \
      "$(date -u)" "$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
      "$CMDLINE" "$MODE" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf '"dvpnd":"%s","runs":%s,"iperf":"%s","cr_seq":%s,"cr_conc_n":%s,"cr_conc":%s,' \
      "${DVPND_WRAP:+$DVPND_WRAP }$DVPND${DVPN_SSH_EXTRA:+ (ssh: $DVPN_SSH_EXTRA)}" "$RUNS" "$(if [ -n "$IPERF_BYTES" ]; then echo "-n $IPERF_BYTES"; else echo "-t $IPERF_T"; fi)" "$CR_SEQ" "$CR_CONC_N" "$CR_CONC"
    printf '%s"hold_direct":%s,"hold_netcat":%s,"sshd_maxsessions":%s,"dvpn_channels":%s,"log_level":"%s","quickack":%s}\n' \
      "${2:+$2,}" "${HOLD_DIRECT:-0}" "${HOLD_NETCAT:-0}" "$SSHD_MAXSESSIONS" "$DVPN_CHANNELS" "$DVPN_LOG_LEVEL" "$GWA_QUICKACK"
  } >"$1"
}

# ---- CPU and memory probes -------------------------------------------------------------
# ticks PID — utime+stime of PID (all threads), in clock ticks.
ticks() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  echo $((${12} + ${13}))
}
# _proc_tree PID — one pass over /proc: "ticks rss_kib nprocs" summed over PID
# and its descendants; ticks = utime+stime+cutime+cstime, so children that
# exited (and were reaped inside the tree) still count.
_proc_tree() {
  local page_kib=$(($(getconf PAGESIZE) / 1024))
  # cat, not awk FILE...: a process may vanish between the glob and the read.
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$1" -v page="$page_kib" '
    {
      pid = $1; line = $0; sub(/^.*\) /, "", line); n = split(line, f, " ")
      if (n >= 22) { ppid[pid] = f[2]; t[pid] = f[12] + f[13] + f[14] + f[15]; rss[pid] = f[22] * page }
    }
    END {
      q[1] = root; head = 1; tail = 1; in_tree[root] = 1
      for (p in ppid) kids[ppid[p]] = kids[ppid[p]] " " p
      while (head <= tail) {
        p = q[head++]; ticks += t[p]; kib += rss[p]; procs++
        k = split(kids[p], ks, " ")
        for (i = 1; i <= k; i++) if (!(ks[i] in in_tree)) { in_tree[ks[i]] = 1; q[++tail] = ks[i] }
      }
      printf "%d %d %d\n", ticks, kib, procs
    }'
}
tree_ticks() { local r; r=$(_proc_tree "$1"); echo "${r%% *}"; }
# tree_rss_kib PID — summed RSS of PID and descendants (shared pages counted in each).
tree_rss_kib() { local r; r=$(_proc_tree "$1"); r=${r#* }; echo "${r%% *}"; }
# tree_procs PID — how many processes PID's tree has.
tree_procs() { local r; r=$(_proc_tree "$1"); echo "${r##* }"; }
# rss_kib PID — VmRSS in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
load1() { cut -d' ' -f1 /proc/loadavg; }
# box_ticks — "busy total" jiffies of the whole machine from /proc/stat.
box_ticks() {
  local _cpu user nice sys idle iowait irq softirq steal _rest
  read -r _cpu user nice sys idle iowait irq softirq steal _rest </proc/stat
  echo "$((user + nice + sys + irq + softirq + steal)) $((user + nice + sys + idle + iowait + irq + softirq + steal))"
}

# ---- the network ------------------------------------------------------------------------
bench_wants_relay() { [[ " ${VARIANTS:-} " == *" relay-"* ]]; }

bench_topology_up() {
  if bench_wants_relay; then
    # netlib_init dvb, plus the relay account's home and its removal at exit.
    DVJ_PREFIX=dvb DVJ_USER=dvbrelay DVJ_GATE=$DVPN_GATE
    dvj_init
  else
    netlib_init dvb
  fi
  netlib_on_exit_also bench_cgroup_remove
  NETLIB_TAIL_LINES=${NETLIB_TAIL_LINES:-12}
  ulimit -Hn "$NOFILE" 2>/dev/null || true
  ulimit -n "$NOFILE" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  BD=$NETLIB_DIR
  RAW=${RAW:-$BD/raw}
  mkdir -p "$RAW"
  step "topology up (namespaces dvb-*, state $BD)"
  local ns
  for ns in hostA gwA gwB srvB; do ns_add "$ns"; done
  link hostA eth0 "$HOSTA_IP/24" gwA lan0 "$GWA_LAN/24"
  if [ ${#BENCH_WAN[@]} -gt 0 ]; then
    wan_link gwA gwB "$GWA_WAN/24" "$GWB_WAN/24" --name wan "${BENCH_WAN[@]}"
  else
    link gwA wan0 "$GWA_WAN/24" gwB wan0 "$GWB_WAN/24"
  fi
  link gwB lan0 "10.20.0.1/24,10.21.0.1/24" srvB eth0 "$SRV_NC_IP/24,$SRV_DIRECT_IP/24"
  ns_exec hostA ip route add default via "$GWA_LAN"
  ns_exec srvB ip route add default via 10.20.0.1
  ns_exec gwA sysctl -qw net.ipv4.ip_forward=1
  if [ "${GWA_QUICKACK:-0}" = 1 ]; then
    # Experiment knob: gwA acknowledges gwB at once (no delayed ACKs), for
    # every variant. Shows what TCP_QUICKACK on the SSH socket would buy.
    ns_exec gwA ip route change 198.51.100.0/24 dev wan0 proto kernel scope link src "$GWA_WAN" quickack 1
  fi
  bench_assert_no_path

  user_add "$BENCH_USER"
  ssh-keygen -q -t ed25519 -N '' -C "$BENCH_USER-client" -f "$BD/id_ed25519"
  if [ "$FAR_END" = gate ]; then
    # As `dvpn-jail authorize` writes it, minus the jail: exec channels run
    # the gate; direct-tcpip (dvpnd direct mode, ssh -L) is not affected.
    # `exec`: the user's shell here is dash, which would otherwise fork and
    # keep sshd's stdout open (the jail's busybox sh execs by itself).
    # A copy in the state dir: the build tree may be out of the test user's
    # reach (a root-only checkout), and sshd runs the command from its home.
    [ -x "$DVPN_GATE" ] || fail "FAR_END=gate: $DVPN_GATE is missing"
    install -m 755 "$DVPN_GATE" "$BD/dvpn-gate"
    printf 'command="exec %s 10.20.0.0/24" %s\n' "$BD/dvpn-gate" "$(cat "$BD/id_ed25519.pub")" >"$BD/authorized_keys"
    chmod 644 "$BD/authorized_keys"
  else
    install -m 644 "$BD/id_ed25519.pub" "$BD/authorized_keys"
  fi
  # First value wins in sshd_config: these override netlib's defaults. The
  # cipher and MAC are pinned so ssh -L and dvpnd (libssh2 1.10) use the same.
  sshd_start gwB 22 "$BENCH_USER" "$BD/authorized_keys" \
    "KexAlgorithms curve25519-sha256" "Ciphers aes128-ctr" "MACs hmac-sha2-256" \
    "MaxSessions $SSHD_MAXSESSIONS" "MaxStartups $SSHD_MAXSTARTUPS" "LogLevel INFO"
  GWB_SSHD_PID=$SSHD_PID
  bench_cgroup dvb-sshd "$GWB_SSHD_PID"
  SSHD_CG=$CG
  local key
  key=$(cut -d' ' -f1,2 "$SSHD_HOSTKEY_PUB")
  printf '%s %s\n[%s]:22 %s\n' "$GWB_WAN" "$key" "$GWB_WAN" "$key" >"$BD/known_hosts"

  spawn srvB "$BD/servers.log" "$PY" "$HELPERS/servers.py" --http "$HTTP_PORT" --echo "$ECHO_PORT"
  SERVERS_PID=$SPAWNED_PID
  bench_iperf_server_start
  wait_port srvB "$HTTP_PORT" 10 || fail "servers.py did not start (see $BD/servers.log)"
  wait_port srvB "$ECHO_PORT" 10 || fail "servers.py did not start"

  bench_write_hosts
  if bench_wants_relay; then bench_relay_up; fi
  step "topology ready"
}

# The relay variants' part of the network (see the top of this file).
bench_relay_up() {
  step "relay R (namespace dvb-relay, account $DVJ_USER: dvpn-jail install --relay)"
  ns_add relay
  if [ ${#BENCH_WAN[@]} -gt 0 ]; then
    wan_link gwA relay "$GWA_RWAN/24" "$RELAY_A/24" --dev-a wanr --dev-b wana --name wanr "${BENCH_WAN[@]}"
  else
    link gwA wanr "$GWA_RWAN/24" relay wana "$RELAY_A/24"
  fi
  link relay wanb "$RELAY_B/24" gwB uplink "$GWB_UPLINK/24"
  ns_exec gwB iptables -A INPUT -i uplink -m conntrack --ctstate NEW -j DROP
  ssh-keygen -q -t ed25519 -N '' -C "$BENCH_USER-b-gw" -f "$BD/id_b"
  # Pinned as on gwB, for both sessions through R (A's and B's).
  relay_jail_sshd_up relay "$BD/id_b.pub" "$BD/id_ed25519.pub" "$RELAY_PORT" \
    "KexAlgorithms curve25519-sha256" "Ciphers aes128-ctr" "MACs hmac-sha2-256" \
    "MaxStartups $SSHD_MAXSTARTUPS" "LogLevel INFO"
  bench_cgroup dvb-relay "$RELAY_SSHD_PID"
  RELAY_CG=$CG
  local r b
  r=$(cut -d' ' -f1,2 "$(_netlib_sshd_dir relay 22)/hostkey.pub")
  b=$(cut -d' ' -f1,2 "$(_netlib_sshd_dir gwB 22)/hostkey.pub")
  printf '%s %s\n[127.0.0.1]:%s %s\n' "$RELAY_A" "$r" "$RELAY_PORT" "$b" >>"$BD/known_hosts"
  printf '%s %s\n' "$RELAY_B" "$r" >"$BD/known_hosts_b"
  cat >"$BD/hosts-relay" <<EOF
# dvpn bench sites, through relay R
10.20.0.1	siteb		#!$DVJ_USER@$RELAY_A>127.0.0.1:$RELAY_PORT
10.21.0.1	siteb-direct	#!$DVJ_USER@$RELAY_A>$BENCH_USER@127.0.0.1:$RELAY_PORT mode=direct
EOF
  relay_b_write_config "$BD/dvpn-b.yaml" "$BD" "$DVJ_USER@$RELAY_B:22" "$RELAY_PORT" "$B_LISTEN_PORT" \
    "$DVPN_LOG_LEVEL" "connect_timeout: 10s"
  NETLIB_FAIL_LOGS+=("$BD/dvpnd-b.log")
  spawn gwB "$BD/dvpnd-b.log" "$DVPND" -c "$BD/dvpn-b.yaml" --foreground
  B_DVPND_PID=$SPAWNED_PID
  retry_for 15 relay_listening relay "$RELAY_PORT" || fail "gwB's dvpnd does not listen on R's 127.0.0.1:$RELAY_PORT"
}

# gwB's sshd and everything it forks (per-connection sshd, far-end nc) go into
# a cpuacct cgroup: a per-connection sshd that exits after its parent is
# reparented out of the process tree, but not out of the cgroup, so its CPU
# time still counts. Without a usable cgroup, the process tree is summed.
# The relay's sshd (relay variants) gets a cgroup of its own.
SSHD_CG="" RELAY_CG="" BENCH_CGS=()
# bench_cgroup NAME PID — PID into cpuacct cgroup NAME; its path in CG ("" if none is usable).
bench_cgroup() {
  local cg
  CG=""
  for cg in /sys/fs/cgroup/cpuacct /sys/fs/cgroup/cpu,cpuacct; do
    if [ -f "$cg/cpuacct.usage" ] && mkdir -p "$cg/$1" 2>/dev/null &&
      echo "$2" >"$cg/$1/cgroup.procs" 2>/dev/null; then
      CG=$cg/$1
      BENCH_CGS+=("$CG")
      return 0
    fi
  done
  info "no cpuacct cgroup: $1's CPU is summed over its process tree"
}
# cg_ticks CGROUP PID — CPU of the cgroup (else of PID's tree), in clock ticks.
cg_ticks() {
  if [ -n "$1" ]; then
    echo $(($(cat "$1/cpuacct.usage") * CLK_TCK / 1000000000))
  else
    tree_ticks "$2"
  fi
}
# sshd_ticks — CPU of gwB's sshd and its children, in clock ticks.
sshd_ticks() { cg_ticks "$SSHD_CG" "$GWB_SSHD_PID"; }
# relay_ticks / bdvpnd_ticks — CPU of R's sshd tree and of gwB's dvpnd (0 without the relay).
relay_ticks() { if [ -n "${RELAY_SSHD_PID:-}" ]; then cg_ticks "$RELAY_CG" "$RELAY_SSHD_PID"; else echo 0; fi; }
bdvpnd_ticks() { if [ -n "${B_DVPND_PID:-}" ]; then ticks "$B_DVPND_PID"; else echo 0; fi; }
bench_cgroup_remove() {
  local cg i
  for cg in "${BENCH_CGS[@]}"; do
    for i in $(seq 50); do
      rmdir "$cg" 2>/dev/null && break
      sleep 0.1
    done
    [ -d "$cg" ] && echo "bench: could not remove cgroup $cg" >&2
  done
  return 0
}

bench_iperf_server_start() {
  [ -n "${IPERF_SRV_PID:-}" ] && stop_pid "$IPERF_SRV_PID"
  spawn srvB "$BD/iperf3-server.log" iperf3 -s -p "$IPERF_PORT" --rcv-timeout 15000
  IPERF_SRV_PID=$SPAWNED_PID
  wait_port srvB "$IPERF_PORT" 10 || fail "iperf3 -s did not start"
}

# Fails if hostA reaches srvB without a variant's help.
bench_assert_no_path() {
  local dst
  for dst in "$SRV_NC_IP" "$SRV_DIRECT_IP"; do
    if ns_exec hostA timeout 3 nc -z -w 1 "$dst" "$HTTP_PORT" 2>/dev/null; then
      fail "topology: hostA reaches $dst:$HTTP_PORT with no variant up"
    fi
  done
}

bench_write_hosts() {
  cat >"$BD/hosts" <<EOF
# dvpn bench sites
10.20.0.1	siteb		#!$GWB_WAN
10.21.0.1	siteb-direct	#!$BENCH_USER@$GWB_WAN:22 mode=direct
EOF
}

# bench_write_config FILE [ssh: lines...] — gwA's dvpnd; its hosts file is
# DVPND_HOSTS (default $BD/hosts).
bench_write_config() {
  local f=$1 line
  shift
  {
    cat <<EOF
listen: ["0.0.0.0:$LISTEN_PORT"]
hosts: [${DVPND_HOSTS:-$BD/hosts}]
vpn_networks: [10.0.0.0/8]
local_subnets: [192.168.10.0/24]
ssh:
  user: $BENCH_USER
  identity: $BD/id_ed25519
  known_hosts: $BD/known_hosts
  command: "$([ "$FAR_END" = gate ] && echo "nc" || echo "busybox nc") {host} {port}"
  connect_timeout: 10s
  max_channels_per_session: $DVPN_CHANNELS
EOF
    for line in "$@"; do echo "  $line"; done
    # DVPN_SSH_EXTRA: more ssh: lines for every config, separated by ";"
    local IFS=';'
    for line in ${DVPN_SSH_EXTRA:-}; do [ -n "$line" ] && echo "  ${line# }"; done
    unset IFS
    cat <<EOF
limits: {max_connections: 30000}
log: {level: $DVPN_LOG_LEVEL}
control_socket: $BD/control.sock
run_as: ""
EOF
  } >"$f"
}

# ---- dvpnd -------------------------------------------------------------------------------
# dvpnd_up CONFIG — starts dvpnd in gwA; sets DVPND_PID, DVPND_CONF, DVPND_LOG.
dvpnd_up() {
  DVPND_CONF=$1
  DVPND_LOG=$BD/dvpnd-$(basename "$1" .yaml)-$((++DVPND_STARTS)).log
  NETLIB_FAIL_LOGS+=("$DVPND_LOG")
  # DVPND_WRAP: a command prefix for experiments, e.g. "env LD_PRELOAD=/path/shim.so"
  # shellcheck disable=SC2086
  spawn gwA "$DVPND_LOG" ${DVPND_WRAP:-} "$DVPND" -c "$DVPND_CONF" --foreground
  DVPND_PID=$SPAWNED_PID
  wait_port gwA "$LISTEN_PORT" 10 || fail "dvpnd did not listen (see $DVPND_LOG)"
}
DVPND_STARTS=0
dvpnd_down() {
  [ -n "${DVPND_PID:-}" ] || return 0
  stop_pid "$DVPND_PID"
  DVPND_PID=""
}
dvpnd_alive() { [ -n "${DVPND_PID:-}" ] && _netlib_alive "$DVPND_PID"; }
dvpnd_status_json() { "$DVPND" --status --json -c "$DVPND_CONF" 2>&1 || true; }

redirect_up() {
  ns_exec gwA iptables -t nat -A PREROUTING -i lan0 -p tcp -d 10.0.0.0/8 -j REDIRECT --to-ports "$LISTEN_PORT"
}
redirect_down() { ns_exec gwA iptables -t nat -F PREROUTING; }

# ---- variants ----------------------------------------------------------------------------
# variant_up NAME sets T_HOST, T_IPERF, T_HTTP, T_ECHO (where hostA dials),
# FWD_PID (the forwarder on gwA whose CPU is measured, "" for none), V_DESC.
variant_up() {
  FWD_PID="" V_DESC=""
  case $1 in
    plain)
      ns_exec gwA ip route add 10.20.0.0/24 via "$GWB_WAN"
      ns_exec gwB ip route add 192.168.10.0/24 via "$GWA_WAN"
      ns_exec gwB sysctl -qw net.ipv4.ip_forward=1
      T_HOST=$SRV_NC_IP T_IPERF=$IPERF_PORT T_HTTP=$HTTP_PORT T_ECHO=$ECHO_PORT
      V_DESC="kernel routing gwA->gwB (routes added for this variant only)"
      ;;
    sshL)
      spawn gwA "$BD/sshL.log" ssh -N -v -F /dev/null -i "$BD/id_ed25519" -o IdentitiesOnly=yes \
        -o UserKnownHostsFile="$BD/known_hosts" -o GlobalKnownHostsFile=/dev/null \
        -o StrictHostKeyChecking=yes -o BatchMode=yes -o ExitOnForwardFailure=yes \
        -c aes128-ctr -m hmac-sha2-256 \
        -L "$GWA_LAN:$SSHL_IPERF:$SRV_NC_IP:$IPERF_PORT" \
        -L "$GWA_LAN:$SSHL_HTTP:$SRV_NC_IP:$HTTP_PORT" \
        -L "$GWA_LAN:$SSHL_ECHO:$SRV_NC_IP:$ECHO_PORT" \
        "$BENCH_USER@$GWB_WAN"
      FWD_PID=$SPAWNED_PID
      wait_port gwA "$SSHL_HTTP" 10 || fail "ssh -L did not listen (see $BD/sshL.log)"
      retry_for 5 grep -q 'kex: client->server cipher' "$BD/sshL.log" || true
      T_HOST=$GWA_LAN T_IPERF=$SSHL_IPERF T_HTTP=$SSHL_HTTP T_ECHO=$SSHL_ECHO
      V_DESC="ssh -N -c aes128-ctr -m hmac-sha2-256 -L $GWA_LAN:PORT:$SRV_NC_IP:PORT ... (hostA dials gwA's ports); $(grep -m1 -o 'cipher: .*' "$BD/sshL.log" || echo 'cipher not seen')"
      ;;
    direct | netcat)
      bench_write_config "$BD/dvpn.yaml"
      dvpnd_up "$BD/dvpn.yaml"
      redirect_up
      FWD_PID=$DVPND_PID
      if [ "$1" = direct ]; then T_HOST=$SRV_DIRECT_IP; else T_HOST=$SRV_NC_IP; fi
      T_IPERF=$IPERF_PORT T_HTTP=$HTTP_PORT T_ECHO=$ECHO_PORT
      V_DESC="dvpnd $1 mode (REDIRECT to :$LISTEN_PORT; aes128-ctr + hmac-sha2-256 pinned by sshd)"
      [ "$1" = netcat ] && V_DESC="$V_DESC; far end: $([ "$FAR_END" = gate ] && echo "dvpn-gate (forced command, relays itself)" || echo "busybox nc")"
      ;;
    relay-direct | relay-netcat)
      [ -n "${B_DVPND_PID:-}" ] || fail "variant $1: no relay (VARIANTS was '${VARIANTS:-}' at topology up)"
      ns_exec gwB iptables -I INPUT -i wan0 -j DROP
      ! ns_exec gwA timeout 3 nc -z -w 1 "$GWB_WAN" 22 2>/dev/null || fail "variant $1: gwA reaches gwB:22 directly"
      DVPND_HOSTS=$BD/hosts-relay bench_write_config "$BD/dvpn-relay.yaml"
      dvpnd_up "$BD/dvpn-relay.yaml"
      redirect_up
      FWD_PID=$DVPND_PID
      if [ "$1" = relay-direct ]; then T_HOST=$SRV_DIRECT_IP; else T_HOST=$SRV_NC_IP; fi
      T_IPERF=$IPERF_PORT T_HTTP=$HTTP_PORT T_ECHO=$ECHO_PORT
      V_DESC="dvpnd ${1#relay-} mode through relay R: gwA's session to R ($DVJ_USER, dvpn-jail relay account), inside its direct-tcpip channel to R's 127.0.0.1:$RELAY_PORT the session to gwB's sshd, forwarded by gwB's dvpnd (relay_listen); gwA-R is the WAN, R-gwB a veth; aes128-ctr + hmac-sha2-256 on both sessions"
      ;;
    *) fail "unknown variant $1" ;;
  esac
  # One transaction first: brings up SSH sessions and shows the path works.
  ns_exec hostA timeout 20 "$PY" "$HELPERS/connrate.py" --host "$T_HOST" --port "$T_HTTP" \
    --count 1 --time-cap 15 >/dev/null || fail "variant $1: first transaction failed"
}

variant_down() {
  case $1 in
    plain)
      ns_exec gwA ip route del 10.20.0.0/24 via "$GWB_WAN" || true
      ns_exec gwB ip route del 192.168.10.0/24 via "$GWA_WAN" || true
      ns_exec gwB sysctl -qw net.ipv4.ip_forward=0
      ;;
    sshL) stop_pid "$FWD_PID" ;;
    direct | netcat)
      redirect_down
      dvpnd_down
      ;;
    relay-direct | relay-netcat)
      redirect_down
      dvpnd_down
      ns_exec gwB iptables -D INPUT -i wan0 -j DROP
      ;;
  esac
  FWD_PID=""
  bench_assert_no_path
  # Let the far end finish tearing down (per-connection sshd, nc) before the
  # next variant is measured.
  retry_for 15 sshd_settled || info "gwB sshd still has $(($(tree_procs "$GWB_SSHD_PID") - 1)) children"
}
sshd_settled() { [ "$(tree_procs "$GWB_SSHD_PID")" -le 1 ]; }

# ---- measuring ---------------------------------------------------------------------------
# measured RUN VARIANT TEST OUTFILE CMD... — runs CMD (stdout to OUTFILE), with
# CPU of the forwarder (FWD_PID), of gwB's sshd tree (and with the relay, of
# R's sshd tree and gwB's dvpnd), wall time, load
# average and whole-box busy time before/after; appends one JSON line to
# $RAW/records.jsonl. Sets LAST_RC.
measured() {
  local run=$1 variant=$2 test=$3 out=$4 rc tries=${MEASURE_TRIES:-1}
  shift 4
  local l0 t0 t1 f0 f1 s0 s1 r0 r1 g0 g1 b0 b1
  while :; do
    rc=0 f0=0 f1=0
    l0=$(load1)
    b0=$(box_ticks)
    [ -n "$FWD_PID" ] && f0=$(ticks "$FWD_PID")
    s0=$(sshd_ticks) r0=$(relay_ticks) g0=$(bdvpnd_ticks)
    t0=$(date +%s.%N)
    "$@" >"$out" 2>"$out.err" || rc=$?
    t1=$(date +%s.%N)
    [ -n "$FWD_PID" ] && f1=$(ticks "$FWD_PID")
    s1=$(sshd_ticks) r1=$(relay_ticks) g1=$(bdvpnd_ticks)
    b1=$(box_ticks)
    if [ "$rc" = 0 ] || [ "$tries" -le 1 ]; then break; fi
    tries=$((tries - 1))
    info "$variant $test failed (rc $rc, $(head -c 200 "$out.err" | tr '\n' ' ')); measuring it again"
    ${MEASURE_RETRY:-true}
  done
  LAST_RC=$rc
  printf '{"run":%s,"variant":"%s","test":"%s","rc":%s,"load1":%s,"t0":%s,"t1":%s,"fwd_ticks":%s,"sshd_ticks":%s,"relay_ticks":%s,"bdvpnd_ticks":%s,"box":[%s,%s,%s,%s],"clk_tck":%s,"out":"%s"}\n' \
    "$run" "$variant" "$test" "$rc" "$l0" "$t0" "$t1" "$((f1 - f0))" "$((s1 - s0))" "$((r1 - r0))" "$((g1 - g0))" \
    "${b0% *}" "${b0#* }" "${b1% *}" "${b1#* }" "$CLK_TCK" "$out" >>"$RAW/records.jsonl"
  if [ "$rc" = 0 ]; then info "$variant $test ok"; else info "$variant $test FAILED (rc $rc, see $out)"; fi
  return 0
}

# iperf_client PARALLEL [IPERF3_ARGS...] — iperf3 -J in hostA to the target;
# its JSON on stdout. Fails, as report.py would count it, also when iperf3
# exits 0 without a result (an "error" or no bytes received: seen with ssh -L).
iperf_client() {
  local par=$1 json rc=0
  shift
  json=$(ns_exec hostA timeout $((${IPERF_T:-10} + 30)) iperf3 -c "$T_HOST" -p "$T_IPERF" -P "$par" \
    -J --connect-timeout 5000 "$@") || rc=$?
  printf '%s\n' "$json"
  [ "$rc" = 0 ] || return "$rc"
  "$PY" -c 'import json, sys
j = json.loads(sys.stdin.read() or "{}")
sys.exit(0 if not j.get("error") and j.get("end", {}).get("sum_received", {}).get("bytes") else 1)' <<<"$json"
}

# bench_iperf RUN VARIANT TEST PARALLEL [IPERF3_ARGS...] — one iperf3 client in hostA.
bench_iperf() {
  local run=$1 variant=$2 test=$3 par=$4 len
  shift 4
  if [ -n "${IPERF_BYTES:-}" ]; then len=(-n "$IPERF_BYTES"); else len=(-t "$IPERF_T"); fi
  # A baseline (the kernel, OpenSSH) that gives no result is measured once
  # more after restarting the server (ssh -L's -P 4 did so once in a CI
  # smoke); dvpnd's own variants are not retried: their failures count.
  local tries=1
  case $variant in plain | sshL) tries=2 ;; esac
  MEASURE_TRIES=$tries MEASURE_RETRY=bench_iperf_server_start measured "$run" "$variant" "$test" "$RAW/$run-$variant-$test.json" \
    iperf_client "$par" "${len[@]}" "$@"
  [ "$LAST_RC" = 0 ] || bench_iperf_server_start
}

# bench_connrate RUN VARIANT TEST COUNT CONCURRENCY
bench_connrate() {
  local run=$1 variant=$2 test=$3 count=$4 conc=$5
  measured "$run" "$variant" "$test" "$RAW/$run-$variant-$test.json" \
    ns_exec hostA timeout $((CR_CAP + 60)) "$PY" "$HELPERS/connrate.py" --host "$T_HOST" --port "$T_HTTP" \
    --count "$count" --concurrency "$conc" --time-cap "$CR_CAP" --timeout 10
}

# bench_traffic RUN VARIANT — the traffic metrics of one variant, SETTLE
# seconds apart: iperf3 1 stream (and srvB -> hostA with BENCH_DOWNLOAD=1),
# -P 4 (and -P 4 -R with BENCH_DOWNLOAD4=1), CR_SEQ transactions one at a
# time, CR_CONC_N with CR_CONC at once.
bench_traffic() {
  local run=$1 v=$2
  bench_iperf "$run" "$v" iperf1 1
  sleep "$SETTLE"
  if [ "$BENCH_DOWNLOAD" = 1 ]; then
    bench_iperf "$run" "$v" iperf1r 1 -R
    sleep "$SETTLE"
  fi
  bench_iperf "$run" "$v" iperf4 4
  sleep "$SETTLE"
  if [ "$BENCH_DOWNLOAD4" = 1 ]; then
    bench_iperf "$run" "$v" iperf4r 4 -R
    sleep "$SETTLE"
  fi
  bench_connrate "$run" "$v" cr_seq "$CR_SEQ" 1
  sleep "$SETTLE"
  bench_connrate "$run" "$v" cr_conc "$CR_CONC_N" "$CR_CONC"
}

# bench_hold RUN VARIANT COUNT [ssh: lines...] — a fresh dvpnd (config plus the
# extra ssh lines), one transaction to bring a session up, RSS idle; COUNT
# echo connections held open from hostA, RSS held; release. One JSON line.
bench_hold() {
  local run=$1 variant=$2 count=$3 conf=$BD/dvpn-hold-$2.yaml
  shift 3
  local name=$run-$variant-hold out ready go pid rss_idle rss_held st sshd_rss l0 t_open0 t_open1 waited=0
  out=$RAW/$name.json ready=$BD/$name.ready go=$BD/$name.go
  if [ "${HOLD_RESTART:-1}" = 1 ]; then
    # A fresh daemon, so "idle" is a daemon with one session and no history.
    dvpnd_down
    bench_write_config "$conf" "$@"
    dvpnd_up "$conf"
    FWD_PID=$DVPND_PID
    ns_exec hostA timeout 20 "$PY" "$HELPERS/connrate.py" --host "$T_HOST" --port "$T_HTTP" \
      --count 1 --time-cap 15 >/dev/null || fail "hold $variant: first transaction failed"
    sleep "$HOLD_SETTLE"
  fi
  rss_idle=$(rss_kib "$DVPND_PID")
  l0=$(load1)
  local f0 f1
  f0=$(ticks "$DVPND_PID")
  t_open0=$(date +%s.%N)
  spawn hostA "$out" "$PY" "$HELPERS/hold.py" --host "$T_HOST" --port "$T_ECHO" --count "$count" \
    --parallel "${HOLD_PARALLEL:-200}" --ready-file "$ready" --go-file "$go" \
    --hold-max "$HOLD_MAX" --deadline $((HOLD_OPEN_MAX + HOLD_MAX + 120)) --open-timeout 30
  pid=$SPAWNED_PID
  while ! [ -f "$ready" ] && _netlib_alive "$pid" && [ "$waited" -lt $((HOLD_OPEN_MAX * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  t_open1=$(date +%s.%N)
  f1=$(ticks "$DVPND_PID")
  sleep "$HOLD_SETTLE"
  rss_held=$(rss_kib "$DVPND_PID")
  sshd_rss=$(tree_rss_kib "$GWB_SSHD_PID")
  st=$(dvpnd_status_json | tr -d '\n')
  [ -n "$st" ] || st=null
  local threads
  threads=$(awk '/^Threads:/ {print $2}' "/proc/$DVPND_PID/status")
  touch "$go"
  wait_pid "$pid"
  local alive=true
  dvpnd_alive || alive=false
  printf '{"run":%s,"variant":"%s","test":"hold","rc":%s,"load1":%s,"count":%s,"rss_idle_kib":%s,"rss_held_kib":%s,"gwb_sshd_tree_rss_kib":%s,"open_wall_s":%s,"open_fwd_ticks":%s,"clk_tck":%s,"dvpnd_threads":%s,"dvpnd_alive_after":%s,"status":%s,"ready":%s,"out":"%s","config_extra":"%s"}\n' \
    "$run" "$variant" "$WAIT_RC" "$l0" "$count" "${rss_idle:-0}" "${rss_held:-0}" "${sshd_rss:-0}" \
    "$(awk -v a="$t_open0" -v b="$t_open1" 'BEGIN {printf "%.3f", b - a}')" "$((f1 - f0))" "$CLK_TCK" "${threads:-0}" "$alive" "$st" \
    "$(cat "$ready" 2>/dev/null || echo null)" "$out" "$*" >>"$RAW/records.jsonl"
  LAST_RC=$WAIT_RC
  if [ "$WAIT_RC" = 0 ]; then info "$variant hold $count ok"; else info "$variant hold $count FAILED (see $out)"; fi
}
