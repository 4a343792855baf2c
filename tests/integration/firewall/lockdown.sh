#!/usr/bin/env bash
# dvpn-firewall --lockdown WAN: inbound on the WAN interface reaches only sshd's
# port and established traffic, IPv4 and IPv6 (neighbour discovery still works);
# loopback and the LAN side are untouched; remove lifts it. Argument: iptables|nft.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
backend=${1:-iptables}
netlib_init dvf

step "setup ($backend backend)"
fw_topology
user_add "$FW_USER"
fw_use_config "$FW_USER"
listener gw plain 22      # any listener on sshd's port will do
listener gw plain 2222    # a service the lockdown must hide
listener wan plain 80

step "before lockdown the WAN side reaches every port"
expect_line "v4 WAN to a non-ssh port before lockdown" "direct 192.0.2.1" wan 192.0.2.1 2222

step "apply --lockdown wan0 (sshd's port read from its config: a test one, not this machine's)"
ssh-keygen -q -t ed25519 -N '' -f "$NETLIB_DIR/sshd_hostkey"
printf 'Port 22\nHostKey %s\n' "$NETLIB_DIR/sshd_hostkey" >"$NETLIB_DIR/sshd_config"
fw gw apply --backend "$backend" --lan lan0 --lockdown wan0 --sshd-config "$NETLIB_DIR/sshd_config" ||
  fail "apply failed"
# Forget learnt neighbours so IPv6 must run neighbour discovery through the lockdown.
ns_exec gw ip neigh flush all
ns_exec wan ip neigh flush all

for family in 4 6; do
  if [ "$family" = 4 ]; then gw_addr=192.0.2.1 wan_addr=192.0.2.2 lan_gw=10.1.0.1 loop=127.0.0.1
  else gw_addr=2001:db8::1 wan_addr=2001:db8::2 lan_gw=fd01::1 loop=::1; fi
  step "IPv$family"
  expect_line "v$family WAN to the ssh port succeeds" "direct $gw_addr" wan "$gw_addr" 22
  expect_no_connection "v$family WAN to a non-ssh port fails" wan "$gw_addr" 2222
  expect_line "v$family the box's own outbound connection gets its answers (established)" \
    "direct $wan_addr" gw "$wan_addr" 80
  expect_line "v$family LAN side is untouched" "direct $lan_gw" lan "$lan_gw" 2222
  expect_line "v$family loopback is untouched" "direct $loop" gw "$loop" 2222
done

step "--ssh-port"
fw gw apply --backend "$backend" --lan lan0 --lockdown wan0 --ssh-port 2222 || fail "apply failed"
expect_line "WAN to --ssh-port 2222 succeeds" "direct 192.0.2.1" wan 192.0.2.1 2222
expect_no_connection "WAN to port 22 now fails" wan 192.0.2.1 22

step "remove"
fw gw remove --backend "$backend" || fail "remove failed"
expect_line "v4 after remove the WAN side reaches every port" "direct 192.0.2.1" wan 192.0.2.1 2222
expect_line "v6 after remove the WAN side reaches every port" "direct 2001:db8::1" wan 2001:db8::1 2222
