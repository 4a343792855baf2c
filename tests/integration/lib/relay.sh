# shellcheck shell=bash disable=SC2034 # RELAY_SSHD_*, DVJ_* are read by the sourcing script and jail/lib.sh
# relay.sh — the relay of a site behind NAT (issue #14) and the NAT'd site's
# side of it, shared by tests/integration/gateway/relay_topology.sh and
# bench/lib.sh's relay variants. Source it after netlib.sh and
# ../jail/lib.sh, and call dvj_init before using it: DVJ_USER becomes the
# relay's account (`dvpn-jail install --relay`), at home in DVJ_BASE.
#
#   relay_jail_sshd_up NS B_PUB A_PUB PORT [sshd_config lines...]
#       sshd on NS:22 for the relay account; the key B_PUB may listen on the
#       relay's 127.0.0.1:PORT, the key A_PUB may dial it. The lines win over
#       netlib's defaults. Sets RELAY_SSHD_PID and RELAY_SSHD_CONFIG.
#   relay_b_write_config FILE DIR RELAY PORT LISTEN LOG_LEVEL [ssh: lines...]
#       the NAT'd gateway's dvpnd: no sites of its own, one relay_listen entry
#       to RELAY (user@host:port) on PORT, forwarded to its 127.0.0.1:22.
#       DIR holds its key id_b, known_hosts_b and gets hosts-b, control-b.sock.
#   relay_listening NS PORT
#       the relay in NS listens on 127.0.0.1:PORT (the NAT'd side's forward is up).

relay_jail_sshd_up() {
  local ns=$1 b_pub=$2 a_pub=$3 port=$4
  shift 4
  sshd_start "$ns" 22 "$DVJ_USER" /nonexistent/authorized_keys "$@" "Include $DVJ_BASE/sshd_config.d/*.conf"
  RELAY_SSHD_PID=$SSHD_PID
  RELAY_SSHD_CONFIG=$(dirname "$(sshd_log "$ns" 22)")/sshd_config
  DVJ_SSHD_NS=$ns
  DVJ_OPTS=(--jail "$DVJ_JAIL" --user "$DVJ_USER" --sshd-config "$RELAY_SSHD_CONFIG" --gate "$DVJ_GATE"
    --reload "kill -HUP $SSHD_PID" --dropin "$DVJ_BASE/sshd_config.d/dvpn-jail-$DVJ_USER.conf")
  NETLIB_FAIL_LOGS+=("$(sshd_log "$ns" 22)")
  dvj_install --relay
  dvj_jail authorize-relay "$b_pub" --site b --listen "$port" >/dev/null
  dvj_jail authorize-relay "$a_pub" --site a --dial "$port" >/dev/null
}

relay_b_write_config() {
  local file=$1 dir=$2 relay=$3 port=$4 listen=$5 level=$6 line
  shift 6
  : >"$dir/hosts-b"
  {
    cat <<EOF
listen: ["127.0.0.1:$listen"]
hosts: [$dir/hosts-b]
vpn_networks: [10.0.0.0/8]
local_subnets: [10.20.0.0/24]
ssh:
  identity: $dir/id_b
  known_hosts: $dir/known_hosts_b
EOF
    for line in "$@"; do echo "  $line"; done
    cat <<EOF
relay_listen:
  - relay: $relay
    port: $port
    to: 127.0.0.1:22
log:
  level: $level
control_socket: $dir/control-b.sock
run_as: ""
EOF
  } >"$file"
}

relay_listening() { [ -n "$(ns_exec "$1" ss -ltnH "( sport = :$2 )")" ]; }
