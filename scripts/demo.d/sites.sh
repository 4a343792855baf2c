# shellcheck shell=bash disable=SC2034 # DEMO_NAMESPACES, DEMO_USERS: read by down.sh
# sites.sh — builds the demo's four-site VPN in network namespaces (netlib.sh).
#
#                  demo-wan: bridge br0, "the internet", 203.0.113.0/24
#        ┌──────────────────┬─────────┴────────┬──────────────────┬───────────────┐
#   demo-gwa .1        demo-gwb .2        demo-gwc .3        demo-natd .4      demo-relay .9
#   10.1.0.1 lan0      10.2.0.1 lan0      10.3.0.1 lan0          │ (NAT)     (OpenSSH only)
#      │                  │                  │               demo-gwd 192.168.100.2
#   demo-lana          demo-lanb          demo-lanc          10.4.0.1 lan0
#   10.1.0.10          10.2.0.10          10.3.0.10              │
#                                                            demo-land 10.4.0.10
#
# Gateway X runs dvpnd (run_as $DEMO_RUN_AS) behind `dvpn-firewall apply --lan
# lan0`, dnsmasq on lan0 reading dvpnd's hosts directory, and a private sshd
# whose account demo-dvpn-X was made by `dvpn-jail install`, with the other
# gateways' dvpnd keys added by `dvpn-jail authorize`. LAN host X runs a web
# server on :80 and resolves names through gateway X. No gateway routes to
# another site's LAN: only dvpnd gets there. Gateway A starts without site C.
# Site D is behind NAT and reached through the relay (nat.sh).
#
# Files: $DEMO_BASE/X/ (config, keys, hosts.d, logs, web page, jail), and
# $DEMO_BASE/relay/ (the relay's jail). The caller provides DVPND, DVPN_GATE,
# DEMO_ROOT and netlib (netlib_init done), and sources nat.sh after this file.

DEMO_BASE=/var/lib/dvpn-demo
DEMO_SITES=(a b c d)
DEMO_RUN_AS=demo-dvpnd
DEMO_WAN_NET=203.0.113
DEMO_LISTEN_PORT=7007
DEMO_NAMESPACES=(demo-wan demo-relay demo-natd demo-gwa demo-gwb demo-gwc demo-gwd
  demo-lana demo-lanb demo-lanc demo-land)
DEMO_USERS=(demo-dvpn-a demo-dvpn-b demo-dvpn-c demo-dvpn-d demo-dvpn-relay "$DEMO_RUN_AS")

# Per site X: its number, subnet, addresses, names, jailed account, files and
# sshd's namespace (the last three also for X=relay).
demo_num() { case $1 in a) echo 1 ;; b) echo 2 ;; c) echo 3 ;; d) echo 4 ;; esac; }
demo_lan() { echo "10.$(demo_num "$1").0"; }           # + .0/24, .1 gateway, .10 host
demo_wan() { echo "$DEMO_WAN_NET.$(demo_num "$1")"; }  # site D: its NAT router's
demo_jail_user() { echo "demo-dvpn-$1"; }
demo_dir() { echo "$DEMO_BASE/$1"; }
demo_sshd_ns() { if [ "$1" = relay ]; then echo relay; else echo "gw$1"; fi; }
demo_site_line() {
  local path
  if demo_behind_nat "$1"; then path=$(demo_relay_path "$1"); else path=$(demo_jail_user "$1")@$(demo_wan "$1"); fi
  echo "$(demo_lan "$1").1	site$1		#!$path"
}

# The spawning helpers run with the demo's saved terminal descriptors closed,
# so a daemon left up by --keep never holds the caller's terminal or pipe.
demo_spawn() { spawn "$@" {UI_OUT}>&- {UI_ERR}>&-; }

# ---- network --------------------------------------------------------------------
demo_network_up() {
  local x
  ns_add wan
  ns_exec wan ip link add br0 type bridge
  ns_exec wan ip link set br0 up
  demo_relay_network_up
  for x in "${DEMO_SITES[@]}"; do
    ns_add "gw$x"
    ns_add "lan$x"
    if demo_behind_nat "$x"; then
      demo_nat_uplink_up "$x"
    else
      link "gw$x" wan0 "$(demo_wan "$x")/24" wan "port$x" ""
      ns_exec wan ip link set "port$x" master br0
    fi
    link "gw$x" lan0 "$(demo_lan "$x").1/24" "lan$x" eth0 "$(demo_lan "$x").10/24"
    ns_exec "lan$x" ip route add default via "$(demo_lan "$x").1"
    # `ip netns exec demo-lanX` bind-mounts this over /etc/resolv.conf.
    mkdir -p "/etc/netns/demo-lan$x"
    echo "nameserver $(demo_lan "$x").1" >"/etc/netns/demo-lan$x/resolv.conf"
  done
}

# Each LAN host serves a page that says where it is.
demo_www_up() {
  local x=$1 www
  www=$(demo_dir "$x")/www
  mkdir -p "$www"
  printf 'Hello from site %s: web server demo-lan%s (%s.10)\n' "${x^^}" "$x" "$(demo_lan "$x")" >"$www/index.html"
  demo_spawn "lan$x" "$(demo_dir "$x")/www.log" busybox httpd -f -v -p "$(demo_lan "$x").10:80" -h "$www"
  wait_port "lan$x" 80 10 || fail "web server of site $x did not start"
}

# Without dvpnd no site reaches another (the gateways have no routes there,
# and drop what they cannot route: each probe waits out its timeout, so all
# twelve run at once).
demo_assert_isolated() {
  local x y pids=() probes=()
  for x in "${DEMO_SITES[@]}"; do
    for y in "${DEMO_SITES[@]}"; do
      [ "$x" != "$y" ] || continue
      ns_exec "lan$x" timeout 5 nc -z -w 2 "$(demo_lan "$y").10" 80 2>/dev/null &
      pids+=($!)
      probes+=("site $x reaches site $y's web server without dvpnd")
    done
  done
  local i reached=""
  for i in "${!pids[@]}"; do
    if wait "${pids[i]}"; then reached=${probes[i]}; fi
  done
  [ -z "$reached" ] || fail "$reached"
}

# ---- far ends: private sshd with the jailed account ------------------------------
# demo_far_end_up X [INSTALL_OPTION...] — gateway X's sshd and jail; X=relay
# with --relay: the relay's.
demo_far_end_up() {
  local x=$1 ns log before
  shift
  ns=$(demo_sshd_ns "$x")
  mkdir -m 755 "$(demo_dir "$x")/far"
  sshd_start "$ns" 22 "$(demo_jail_user "$x")" /nonexistent/authorized_keys \
    "StrictModes yes" {UI_OUT}>&- {UI_ERR}>&-
  log=$(sshd_log "$ns" 22)
  NETLIB_FAIL_LOGS+=("$log")
  before=$(sshd_listen_count "$ns" 22)
  demo_jail "$x" install "$@" || fail "dvpn-jail install $* on $ns"
  # The HUP'd sshd re-executes itself and logs "Server listening" anew.
  sshd_wait_relisten "$ns" 22 "$before" ||
    fail "sshd on $ns did not come back after dvpn-jail's reload (see $log)"
}

# demo_jail X ARGS... — dvpn-jail with X's private sshd and jail (X: a site or relay).
demo_jail() {
  local x=$1 ns config
  shift
  ns=$(demo_sshd_ns "$x")
  config=$(dirname "$(sshd_log "$ns" 22)")/sshd_config
  "$DEMO_ROOT/chroot/dvpn-jail" --jail "$(demo_dir "$x")/far/jail" --user "$(demo_jail_user "$x")" \
    --sshd-config "$config" --gate "$DVPN_GATE" --reload "kill -HUP $(sshd_pid "$ns" 22)" "$@"
}

# demo_host_key X — the public host key ("TYPE BASE64") of X's sshd.
demo_host_key() { cut -d' ' -f1,2 "$(dirname "$(sshd_log "$(demo_sshd_ns "$1")" 22)")/hostkey.pub"; }

# dvpnd's SSH key of every gateway.
demo_keys() {
  local x dir
  for x in "${DEMO_SITES[@]}"; do
    dir=$(demo_dir "$x")
    ssh-keygen -q -t ed25519 -N '' -C "dvpnd@gateway-$x" -f "$dir/id_ed25519"
    chown "$DEMO_RUN_AS:" "$dir/id_ed25519"
    chmod 600 "$dir/id_ed25519"
  done
}

# Gateway X's jail lets the other gateways' dvpnd reach site X's LAN, nothing
# else (site D's too, README step 3: its own sshd is the far end, as anywhere).
demo_authorize() {
  local x=$1 y
  for y in "${DEMO_SITES[@]}"; do
    [ "$x" != "$y" ] || continue
    demo_jail "$x" authorize "$(demo_dir "$y")/id_ed25519.pub" --site "site$y" \
      --subnet "$(demo_lan "$x").0/24" || fail "dvpn-jail authorize site $y on gateway $x"
  done
}

# demo_check_jails X... — dvpn-jail check of each X's jail, all at once: a
# check only reads (sshd -T, the jail's files) and takes about a second.
demo_check_jails() {
  local x i=0 pids=() failed=""
  for x in "$@"; do
    demo_jail "$x" check &
    pids+=($!)
  done
  for x in "$@"; do
    wait "${pids[i++]}" || failed+=" $(demo_sshd_ns "$x")"
  done
  [ -z "$failed" ] || fail "dvpn-jail check failed on:$failed"
}

# ---- gateways: dvpnd, firewall, dnsmasq -----------------------------------------------
demo_run_as_user() {
  _netlib_retry useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment "dvpn demo daemon" "$DEMO_RUN_AS" || fail "useradd $DEMO_RUN_AS"
}

# demo_hosts_map SITE... — the hosts map naming every web server, declaring SITEs.
demo_hosts_map() {
  local x
  echo "# The dvpn demo's hosts map: /etc/hosts syntax, read by dvpnd and dnsmasq."
  echo "# Ordinary entries (dnsmasq answers them, dvpnd ignores them):"
  for x in "${DEMO_SITES[@]}"; do echo "$(demo_lan "$x").10	www.site$x"; done
  echo "# Sites (#! = reach this /24 over SSH through that gateway; RELAY>GATEWAY: through a relay):"
  for x in "$@"; do demo_site_line "$x"; done
}

# Gateway X's known_hosts: the relay (every gateway dials it, to listen or to
# pass through), then each other gateway's sshd under the name X dials: its
# address, or for a site behind NAT the relay's loopback port (README step 5).
demo_known_hosts() {
  local x=$1 y key
  echo "$DEMO_RELAY_WAN $(demo_host_key relay)"
  for y in "${DEMO_SITES[@]}"; do
    [ "$x" != "$y" ] || continue
    key=$(demo_host_key "$y")
    if demo_behind_nat "$y"; then
      echo "[127.0.0.1]:$DEMO_RELAY_PORT $key"
    else
      printf '%s %s\n[%s]:22 %s\n' "$(demo_wan "$y")" "$key" "$(demo_wan "$y")" "$key"
    fi
  done
}

demo_gateway_up() {
  local x=$1 dir conf
  dir=$(demo_dir "$x")
  conf=$dir/dvpn.yaml
  mkdir -m 755 "$dir/hosts.d"
  demo_known_hosts "$x" >"$dir/known_hosts"
  # Every gateway lists every site (its own is in local_subnets, never
  # forwarded); gateway A does not know site C yet: the demo adds it live.
  if [ "$x" = a ]; then demo_hosts_map a b d; else demo_hosts_map a b c d; fi >"$dir/hosts.d/vpn.hosts"
  {
    cat <<EOF
# dvpnd on gateway $x of the dvpn demo (see examples/dvpn.yaml for every key).
listen: ["0.0.0.0:$DEMO_LISTEN_PORT"]
hosts: [$dir/hosts.d]
vpn_networks: [10.0.0.0/8]
local_subnets: [$(demo_lan "$x").0/24]
ssh:
  identity: $dir/id_ed25519
  known_hosts: $dir/known_hosts
  command: "nc {host} {port}"
  connect_timeout: 5s
limits: {max_connections: 1000}
control_socket: $dir/control.sock
run_as: $DEMO_RUN_AS
EOF
    if demo_behind_nat "$x"; then demo_relay_listen_yaml; fi
  } >"$conf"
  "$DVPND" --check -c "$conf" || fail "dvpnd --check on gateway $x"
  demo_spawn "gw$x" "$dir/dvpnd.log" "$DVPND" -c "$conf" --foreground
  NETLIB_FAIL_LOGS+=("$dir/dvpnd.log")
  wait_port "gw$x" "$DEMO_LISTEN_PORT" 10 || fail "dvpnd on gateway $x did not listen"
  ns_exec "gw$x" "$DEMO_ROOT/firewall/dvpn-firewall" apply -c "$conf" --lan lan0 --dvpnd "$DVPND" ||
    fail "dvpn-firewall apply on gateway $x"
  demo_dns_up "$x"
}

# dnsmasq on lan0 from examples/dnsmasq-dvpn.conf, pointed at this gateway's
# hosts directory (the LAN host's resolv.conf names the gateway).
demo_dns_up() {
  local x=$1 dir
  dir=$(demo_dir "$x")
  {
    sed -e "s|^hostsdir=.*|hostsdir=$dir/hosts.d|" -e 's|^#interface=lan0|interface=lan0|' \
      -e 's|^#bind-interfaces|bind-interfaces|' "$DEMO_ROOT/examples/dnsmasq-dvpn.conf"
    echo
    echo "# dvpn demo: no upstream servers, not this machine's /etc/hosts, no pid file."
    echo "no-resolv"
    echo "no-hosts"
    echo "pid-file="
  } >"$dir/dnsmasq.conf"
  if ! grep -qx "hostsdir=$dir/hosts.d" "$dir/dnsmasq.conf" || ! grep -qx 'interface=lan0' "$dir/dnsmasq.conf"; then
    fail "examples/dnsmasq-dvpn.conf changed: cannot point it at $dir/hosts.d"
  fi
  demo_spawn "gw$x" "$dir/dnsmasq.log" dnsmasq --keep-in-foreground --log-facility=- \
    --conf-file="$dir/dnsmasq.conf"
  wait_port "gw$x" 53 10 || fail "dnsmasq on gateway $x did not start"
}

# ---- all of it -------------------------------------------------------------------
demo_sites_up() {
  local x
  # sshd accepts a chroot only below root-owned directories nobody else may write.
  mkdir -m 755 "$DEMO_BASE"
  for x in "${DEMO_SITES[@]}" relay; do mkdir -m 755 "$(demo_dir "$x")"; done
  step "namespaces, links, routes, site D's NAT router"
  demo_network_up
  step "web servers on the LAN hosts; no site reaches another yet"
  for x in "${DEMO_SITES[@]}"; do demo_www_up "$x"; done
  demo_assert_isolated
  step "account $DEMO_RUN_AS and dvpnd's keys"
  demo_run_as_user
  demo_keys
  step "far ends: private sshd, dvpn-jail install and authorize"
  for x in "${DEMO_SITES[@]}"; do demo_far_end_up "$x"; done
  for x in "${DEMO_SITES[@]}"; do demo_authorize "$x"; done
  step "the relay: sshd, dvpn-jail install --relay and authorize-relay; dvpn-jail check everywhere"
  demo_far_end_up relay --relay
  demo_relay_authorize
  demo_check_jails "${DEMO_SITES[@]}" relay
  for x in "${DEMO_SITES[@]}"; do
    step "gateway $x: dvpnd, dvpn-firewall, dnsmasq"
    demo_gateway_up "$x"
  done
  demo_relay_wait_listen "$DEMO_NAT_SITE"
  step "ready"
}
