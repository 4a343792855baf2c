# shellcheck shell=bash
# Shared pieces of the dvpn-firewall tests, on top of ../lib/netlib.sh: the
# script under test and where its parameters come from, ruleset snapshots, a
# three-namespace topology, the listeners and a one-line TCP client.
#
# Topology (fw_topology):
#   lan  eth0 10.1.0.2/24 fd01::2/64 ── lan0 10.1.0.1/24 fd01::1/64  gw
#   gw   wan0 192.0.2.1/24 2001:db8::1/64 ── eth0 192.0.2.2/24 2001:db8::2/64  wan
#   wan  lo: 10.9.9.9 fd09::9 (a "VPN" host), 10.2.0.1 fd02::1 (a local subnet)
#   gw   lo: 10.7.7.7 fd07::7 (the box's own address inside vpn_networks)
# gw forwards and routes 10/8 and fd00::/8 to wan. Config: vpn_networks
# 10.0.0.0/8 fd00::/8, local_subnets 10.1/16 10.2/16 fd01::/16 fd02::/16,
# listen :7007 (both families), run_as $FW_USER.

FW_TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DVPN_SOURCE_ROOT=${DVPN_SOURCE_ROOT:-$(cd "$FW_TEST_DIR/../../.." && pwd)}
FW=$DVPN_SOURCE_ROOT/firewall/dvpn-firewall
DVPND=${DVPND:-$DVPN_SOURCE_ROOT/build/daemon/dvpnd}
# shellcheck disable=SC2034  # used by the test scripts
FW_USER=dvf-run       # throwaway account standing for the config's run_as
FW_PORT=7007
FW_ARGS=()            # -c/--dvpnd arguments for every apply (see fw_use_config)
PYTHON=$(command -v python3)

# shellcheck source=../lib/netlib.sh
source "$FW_TEST_DIR/../lib/netlib.sh"

# fw NS ARGS... — runs dvpn-firewall in namespace NS with the test's config.
fw() {
  local ns=$1
  shift
  ns_exec "$ns" "$FW" "$@" "${FW_ARGS[@]}"
}

# fw_write_config FILE RUN_AS — the test config as YAML.
fw_write_config() {
  : >"$NETLIB_DIR/hosts"
  cat >"$1" <<EOF
listen: ["0.0.0.0:$FW_PORT", "[::]:$FW_PORT"]
hosts: ["$NETLIB_DIR/hosts"]
vpn_networks: [10.0.0.0/8, "fd00::/8"]
local_subnets: [10.1.0.0/16, 10.2.0.0/16, "fd01::/16", "fd02::/16"]
run_as: "$2"
EOF
}

# fw_expected_params RUN_AS — what dvpnd --firewall-params must print for it.
fw_expected_params() {
  local uid=""
  [ -z "$1" ] || uid=$(id -u "$1")
  cat <<EOF
format=1
listen_ports=$FW_PORT
vpn_networks_v4=10.0.0.0/8
vpn_networks_v6=fd00::/8
local_subnets_v4=10.1.0.0/16 10.2.0.0/16
local_subnets_v6=fd01::/16 fd02::/16
run_as=$1
run_as_uid=$uid
EOF
}

# dvpnd_has_firewall_params — true once dvpnd implements --firewall-params.
dvpnd_has_firewall_params() {
  local probe=$NETLIB_DIR/probe.yaml out
  [ -x "$DVPND" ] || return 1
  printf 'run_as: ""\n' >"$probe"
  out=$("$DVPND" --firewall-params -c "$probe" 2>/dev/null) || return 1
  [[ $out == format=1* ]]
}

# fw_use_config RUN_AS — writes the config; the script then reads it through
# dvpnd --firewall-params (checked against the expected output), or, while
# dvpnd lacks that option, through the DVPN_FIREWALL_PARAMS_FILE test hook.
fw_use_config() {
  local yaml=$NETLIB_DIR/dvpn.yaml params=$NETLIB_DIR/params.txt
  fw_write_config "$yaml" "$1"
  fw_expected_params "$1" >"$params"
  fw_take_config "$yaml" "$params"
}

# fw_take_config YAML PARAMS — every apply reads YAML, whose parameters must
# be PARAMS (the expected --firewall-params output), as fw_use_config says.
fw_take_config() {
  local yaml=$1 params=$2
  if dvpnd_has_firewall_params; then
    local got
    got=$("$DVPND" --firewall-params -c "$yaml") || fail "dvpnd --firewall-params -c $yaml failed"
    [ "$got" = "$(cat "$params")" ] ||
      fail "dvpnd --firewall-params printed:"$'\n'"$got"$'\n'"expected:"$'\n'"$(cat "$params")"
    FW_ARGS=(-c "$yaml" --dvpnd "$DVPND")
    unset DVPN_FIREWALL_PARAMS_FILE
    info "parameters from $DVPND --firewall-params"
  else
    FW_ARGS=()
    export DVPN_FIREWALL_PARAMS_FILE=$params
    info "dvpnd --firewall-params not available ($DVPND): using DVPN_FIREWALL_PARAMS_FILE"
  fi
}

# ruleset NS — the whole ruleset, comparable across time: iptables-save and
# ip6tables-save without comment lines and counters, and nft list ruleset
# without counters.
ruleset() {
  local ns=$1
  echo "== iptables-save"
  ns_exec "$ns" iptables-save | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/g'
  echo "== ip6tables-save"
  ns_exec "$ns" ip6tables-save | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/g'
  echo "== nft list ruleset"
  ns_exec "$ns" nft -s list ruleset 2>&1
}

# expect_same_ruleset NS FILE DESC — the ruleset of NS equals the snapshot FILE.
expect_same_ruleset() {
  local now=$NETLIB_DIR/now.rules
  ruleset "$1" >"$now"
  diff -u "$2" "$now" >&2 || fail "$3: ruleset differs from $(basename "$2") (diff above)"
  pass "$3"
}

# add_unrelated_rules NS — rules of other software that must survive us.
add_unrelated_rules() {
  local ns=$1 t
  for t in iptables ip6tables; do
    ns_exec "$ns" "$t" -t nat -A POSTROUTING -o wan0 -j MASQUERADE
    ns_exec "$ns" "$t" -t nat -A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 8081
    ns_exec "$ns" "$t" -t nat -N OTHER-NAT
    ns_exec "$ns" "$t" -t nat -A OUTPUT -p udp -j OTHER-NAT
    ns_exec "$ns" "$t" -N OTHER-IN
    ns_exec "$ns" "$t" -A OTHER-IN -p udp --dport 53 -j ACCEPT
    ns_exec "$ns" "$t" -A INPUT -j OTHER-IN
    ns_exec "$ns" "$t" -A FORWARD -m conntrack --ctstate INVALID -j DROP
  done
  ns_exec "$ns" nft -f - <<'EOF'
table inet other {
	chain input {
		type filter hook input priority 10; policy accept;
		tcp dport 9999 counter accept
	}
}
EOF
}

# fw_topology — the lan/gw/wan namespaces and routes described at the top.
fw_topology() {
  ns_add lan
  ns_add gw
  ns_add wan
  link lan eth0 10.1.0.2/24,fd01::2/64 gw lan0 10.1.0.1/24,fd01::1/64
  link gw wan0 192.0.2.1/24,2001:db8::1/64 wan eth0 192.0.2.2/24,2001:db8::2/64
  ns_exec lan ip route add default via 10.1.0.1
  ns_exec lan ip -6 route add default via fd01::1
  ns_exec gw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  ns_exec gw ip route add 10.0.0.0/8 via 192.0.2.2
  ns_exec gw ip -6 route add fd00::/8 via 2001:db8::2
  ns_exec gw ip addr add 10.7.7.7/32 dev lo
  ns_exec gw ip -6 addr add fd07::7/128 dev lo nodad
  ns_exec wan ip addr add 10.9.9.9/32 dev lo
  ns_exec wan ip addr add 10.2.0.1/32 dev lo
  ns_exec wan ip -6 addr add fd09::9/128 dev lo nodad
  ns_exec wan ip -6 addr add fd02::1/128 dev lo nodad
  ns_exec wan ip route add 10.1.0.0/16 via 192.0.2.1
  ns_exec wan ip -6 route add fd01::/16 via 2001:db8::1
}

# listener NS MODE PORT — starts listener.py (origdst|plain) and waits for it.
listener() {
  local ns=$1 mode=$2 port=$3 log=$NETLIB_DIR/listener-$1-$3.log
  spawn "$ns" "$log" "$PYTHON" -u "$FW_TEST_DIR/listener.py" "$mode" "$port"
  NETLIB_FAIL_LOGS+=("$log")
  wait_port "$ns" "$port" 10 || fail "listener $mode on $ns:$port did not start"
}

# tcp_line NS ADDR PORT [USER] — connects (as USER if given), prints the line
# the server sends; fails after 3 s.
tcp_line() {
  local ns=$1 addr=$2 port=$3 user=${4:-}
  # shellcheck disable=SC2016  # $1 $2 are the inner bash's arguments
  local client=(timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r line <&3 && printf "%s\n" "$line"' tcp_line "$addr" "$port")
  if [ -n "$user" ]; then
    ns_exec "$ns" setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --init-groups -- "${client[@]}"
  else
    ns_exec "$ns" "${client[@]}"
  fi
}

# expect_line DESC WANT NS ADDR PORT [USER] — the connection gets exactly WANT.
expect_line() {
  local desc=$1 want=$2 got
  shift 2
  got=$(tcp_line "$@" 2>/dev/null) || got="(no answer)"
  [ "$got" = "$want" ] || fail "$desc: got '$got', expected '$want'"
  pass "$desc"
}

# expect_no_connection DESC NS ADDR PORT — the connection fails (or times out).
expect_no_connection() {
  local desc=$1 got
  shift
  if got=$(tcp_line "$@" 2>/dev/null); then fail "$desc: connected and got '$got'"; fi
  pass "$desc"
}
