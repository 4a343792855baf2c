# shellcheck shell=bash
# nat.sh — site D of the demo sits behind NAT and is reached through a relay,
# set up as README's "A site behind NAT with a VPS as relay" does it (site B
# and relay.example.net there; site D and demo-relay here):
#
#   demo-wan (br0) ── demo-natd 203.0.113.4 wan0 ── lan0 192.168.100.1
#        │                                               │
#   demo-relay 203.0.113.9 wan0                      demo-gwd 192.168.100.2 wan0
#   (OpenSSH only)                                       10.4.0.1 lan0 ── demo-land
#
# demo-natd is a home router: what gateway D opens goes out masqueraded as
# 203.0.113.4, and only the replies come back in. So gateway D dials out (to
# the other sites, and to the relay), but nothing can dial it. The relay runs
# an sshd whose account `dvpn-jail install --relay` made; D's dvpnd keeps a
# session to it (relay_listen) and listens on port 2201 of its loopback, and
# the other gateways reach site D by the path RELAY>127.0.0.1:2201. Sourced by
# scripts/demo after sites.sh, whose functions call these.

DEMO_NAT_SITE=d
DEMO_RELAY_WAN=$DEMO_WAN_NET.9
DEMO_RELAY_PORT=2201          # README's port: the relay's 127.0.0.1:2201
DEMO_NAT_INSIDE=192.168.100   # + .1 the router, .2 gateway D's uplink

demo_behind_nat() { [ "$1" = "$DEMO_NAT_SITE" ]; }

# The path by which the other gateways reach site X behind NAT: an SSH session
# to the relay, and inside it one to X's sshd as the relay sees it.
demo_relay_path() {
  echo "$(demo_jail_user relay)@$DEMO_RELAY_WAN>$(demo_jail_user "$1")@127.0.0.1:$DEMO_RELAY_PORT"
}

# ---- network ----------------------------------------------------------------------
# demo_nat_uplink_up X — gateway X's uplink wan0 goes to its NAT router
# demo-natX, whose own wan0 holds X's internet address on the switch.
demo_nat_uplink_up() {
  local x=$1 r=nat$1
  ns_add "$r"
  link "$r" wan0 "$(demo_wan "$x")/24" wan "port$x" ""
  ns_exec wan ip link set "port$x" master br0
  link "gw$x" wan0 "$DEMO_NAT_INSIDE.2/24" "$r" lan0 "$DEMO_NAT_INSIDE.1/24"
  ns_exec "gw$x" ip route add default via "$DEMO_NAT_INSIDE.1"
  demo_nat_rules "$r"
}

# demo_nat_rules NS — NS routes lan0 out of wan0, masqueraded, and lets in from
# wan0 only what answers a connection from inside: no port forwards.
demo_nat_rules() {
  local r=$1
  ns_exec "$r" sysctl -qw net.ipv4.ip_forward=1
  ns_exec "$r" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
  ns_exec "$r" iptables -P FORWARD DROP
  ns_exec "$r" iptables -A FORWARD -i lan0 -o wan0 -j ACCEPT
  ns_exec "$r" iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  # Dropped, not refused, as most home routers do: a caller waits in vain.
  ns_exec "$r" iptables -A INPUT -i wan0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  ns_exec "$r" iptables -A INPUT -i wan0 -j DROP
}

demo_relay_network_up() {
  ns_add relay
  link relay wan0 "$DEMO_RELAY_WAN/24" wan portr ""
  ns_exec wan ip link set portr master br0
}

# ---- the relay's jail (README step 2) ------------------------------------------------
# Site D's key may listen on the relay's port, every other site's may dial it.
# The listener first: dvpn-jail warns of a dial port that no site listens on.
demo_relay_authorize() {
  local y
  demo_jail relay authorize-relay "$(demo_dir "$DEMO_NAT_SITE")/id_ed25519.pub" --site "site$DEMO_NAT_SITE" \
    --listen "$DEMO_RELAY_PORT" || fail "dvpn-jail authorize-relay site $DEMO_NAT_SITE --listen on the relay"
  for y in "${DEMO_SITES[@]}"; do
    demo_behind_nat "$y" && continue
    demo_jail relay authorize-relay "$(demo_dir "$y")/id_ed25519.pub" --site "site$y" \
      --dial "$DEMO_RELAY_PORT" || fail "dvpn-jail authorize-relay site $y --dial on the relay"
  done
}

# ---- gateway D dials out (README step 4) ---------------------------------------------
# The relay_listen section of gateway X's dvpn.yaml.
demo_relay_listen_yaml() {
  cat <<EOF
# Behind NAT: keep a session to the relay, listen on its 127.0.0.1:$DEMO_RELAY_PORT,
# and connect what arrives there to this gateway's own sshd.
relay_listen:
  - relay: $(demo_jail_user relay)@$DEMO_RELAY_WAN:22
    port: $DEMO_RELAY_PORT
    to: 127.0.0.1:22
EOF
}

# Gateway X's dvpnd listens on the relay's loopback (it asks as soon as it starts).
demo_relay_wait_listen() {
  wait_port relay "$DEMO_RELAY_PORT" 15 ||
    fail "gateway $1's dvpnd does not listen on the relay's 127.0.0.1:$DEMO_RELAY_PORT (see $(demo_dir "$1")/dvpnd.log)"
}
