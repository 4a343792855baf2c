#!/usr/bin/env bash
# dvpn-firewall review findings, one part each:
#   tag   only rules in the exact form of our jumps (whole comment "dvpn",
#         target DVPN-REDIRECT or DVPN-LOCKDOWN) are ours: an operator's rules
#         commented "dvpn office printer", or "dvpn" on a rule of their own, or
#         jumping to a chain of theirs named DVPN-REDIRECT-OFFICE, survive apply
#         and remove, the ruleset otherwise byte-identical.
#   sshd  --lockdown lets in the port(s) sshd really listens on (sshd -T), here
#         an sshd on port 2222: WAN logins keep working, port 22 is dropped;
#         --ssh-port (repeatable) overrides; no guess when sshd -T fails.
#   jail  with local_subnets: [] on a box that is also a far end, the jailed
#         account's connections to its own LAN are not redirected back into
#         dvpnd (--jail-user, default dvpn if it exists); other users' still are.
# Arguments: iptables|nft [PART...] (default: all parts).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
backend=${1:-iptables}
shift || true
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(tag sshd jail)
netlib_init dvf

SSH_USER=dvf-ssh     # logs in over the WAN through the lockdown
JAIL_USER=dvf-jail   # stands in for the jailed far-end account (dvpn)
OTHER_USER=dvf-other # any other account of the box

step "setup ($backend backend; parts: ${parts[*]})"
fw_topology
user_add "$FW_USER"
fw_use_config "$FW_USER"
add_unrelated_rules gw   # other software's rules (ruleset snapshots need some)

# ---------------------------------------------------------------------------- tag

# operator_rules NS — an operator's own rules whose comments look like ours.
operator_rules() {
  local ns=$1 t
  for t in iptables ip6tables; do
    ns_exec "$ns" "$t" -t nat -A PREROUTING -i lan0 -p tcp --dport 631 \
      -m comment --comment "dvpn office printer" -j REDIRECT --to-ports 6310
    ns_exec "$ns" "$t" -t nat -A OUTPUT -p tcp --dport 631 -m comment --comment "dvpn office printer" -j RETURN
    ns_exec "$ns" "$t" -A INPUT -i wan0 -p tcp --dport 631 -m comment --comment "dvpn office printer" -j ACCEPT
    ns_exec "$ns" "$t" -A INPUT -i lan0 -p tcp --dport 9100 -m comment --comment dvpn -j ACCEPT
    ns_exec "$ns" "$t" -I FORWARD 1 -p tcp --dport 9100 -m comment --comment dvpn -j ACCEPT
    ns_exec "$ns" "$t" -t nat -N DVPN-REDIRECT-OFFICE
    ns_exec "$ns" "$t" -t nat -A DVPN-REDIRECT-OFFICE -p tcp -j REDIRECT --to-ports 5150
    ns_exec "$ns" "$t" -t nat -A PREROUTING -i lan0 -p tcp --dport 515 -m comment --comment dvpn -j DVPN-REDIRECT-OFFICE
  done
  ns_exec "$ns" nft -f - <<'EOF'
table inet office {
	chain input {
		type filter hook input priority 20; policy accept;
		tcp dport 631 accept comment "dvpn office printer"
	}
}
EOF
}

# operator_lines FILE — the operator's look-alike rules in a ruleset snapshot.
operator_lines() {
  grep -E 'dvpn office printer|--comment "?dvpn"? |OFFICE' "$1" | grep -vE -- '-j DVPN-(REDIRECT|LOCKDOWN)$' || true
}

part_tag() {
  step "tag: an operator's rules commented \"dvpn ...\" are not ours"
  operator_rules gw
  local before=$NETLIB_DIR/tag-before.rules now=$NETLIB_DIR/tag-now.rules
  ruleset gw >"$before"
  # 5 rules, a chain and its rule per family in iptables-save and ip6tables-save
  # (and nft's view of them), the nft table's rule.
  [ "$(operator_lines "$before" | wc -l)" -ge 17 ] ||
    fail "setup: expected at least 17 look-alike lines, got:"$'\n'"$(operator_lines "$before")"

  fw gw apply --backend "$backend" --lan lan0 --lockdown wan0 --ssh-port 22 || fail "apply failed"
  ruleset gw >"$now"
  diff -u <(operator_lines "$before") <(operator_lines "$now") >&2 ||
    fail "apply deleted or changed the operator's look-alike rules (diff above)"
  pass "apply keeps the operator's rules commented \"dvpn office printer\" and \"dvpn\""
  local out
  out=$(fw gw status --backend "$backend") || fail "status after apply exits $?"
  if grep -q -e 'office printer' -e 'dport 9100' -e 'OFFICE' <<<"$out"; then
    fail "status shows the operator's rules as ours: $out"
  fi
  pass "status does not count the operator's rules"

  fw gw apply --backend "$backend" --lan lan0 --lockdown wan0 --ssh-port 22 || fail "second apply failed"
  ruleset gw >"$now"
  diff -u <(operator_lines "$before") <(operator_lines "$now") >&2 ||
    fail "apply over applied rules lost the operator's rules (diff above)"
  pass "apply twice keeps them"
  if [ "$backend" = iptables ]; then
    local jumps
    jumps=$(grep -cE -- '^-A (PREROUTING|OUTPUT|INPUT) .*-m comment --comment dvpn -j DVPN-(REDIRECT|LOCKDOWN)$' "$now")
    [ "$jumps" = 6 ] || fail "expected 6 dvpn jumps (PREROUTING, OUTPUT, INPUT per family), got $jumps"
    pass "our own jumps keep their form: --comment dvpn -j DVPN-REDIRECT|DVPN-LOCKDOWN"
  fi

  fw gw remove --backend "$backend" || fail "remove failed"
  expect_same_ruleset gw "$before" "apply, apply, remove: ruleset byte-identical, the operator's rules included"
  fw gw remove --backend "$backend" || fail "second remove failed"
  expect_same_ruleset gw "$before" "remove with only look-alike rules left changes nothing"
}

# --------------------------------------------------------------------------- sshd

# ssh_login ADDR PORT — a real key login from the WAN side, running `true`.
ssh_login() {
  ns_exec wan timeout 10 ssh -F /dev/null -i "$NETLIB_DIR/id_ssh" -o IdentitiesOnly=yes \
    -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=3 -o LogLevel=ERROR -p "$2" "$SSH_USER@$1" true
}
expect_login() {
  ssh_login "$2" "$3" </dev/null >/dev/null 2>&1 || fail "$1: ssh -p $3 $SSH_USER@$2 failed"
  pass "$1"
}

# fw_default_sshd_config CONFIG ARGS... — dvpn-firewall with CONFIG standing
# at /etc/ssh/sshd_config (a bind mount in a private mount namespace) and a
# /run without /run/sshd, as on a freshly booted machine.
fw_default_sshd_config() {
  local cfg=$1
  shift
  # shellcheck disable=SC2016  # the inner sh expands them
  ns_exec gw unshare -m -- sh -c \
    'mount --bind "$1" /etc/ssh/sshd_config && mount -t tmpfs none /run && shift && exec "$@"' \
    sh "$cfg" "$FW" "$@" "${FW_ARGS[@]}"
}

part_sshd() {
  step "sshd: --lockdown lets in the port sshd listens on (2222 here)"
  user_add "$SSH_USER"
  ssh-keygen -q -t ed25519 -N '' -C dvf-ssh -f "$NETLIB_DIR/id_ssh"
  local akf=$NETLIB_DIR/authorized_keys
  cp "$NETLIB_DIR/id_ssh.pub" "$akf"
  chmod 644 "$akf"
  sshd_start gw 2222 "$SSH_USER" "$akf"
  local sshd_config
  sshd_config=$(_netlib_sshd_dir gw 2222)/sshd_config
  listener gw plain 22     # not sshd: with sshd on 2222 the lockdown must hide it
  listener gw plain 2200
  expect_login "v4 WAN login on 2222 before lockdown" 192.0.2.1 2222
  local clean=$NETLIB_DIR/sshd-clean.rules
  ruleset gw >"$clean"

  fw_default_sshd_config "$sshd_config" apply --backend "$backend" --lan lan0 --lockdown wan0 ||
    fail "apply --lockdown wan0 (sshd -T: port 2222) failed"
  ns_exec gw ip neigh flush all
  ns_exec wan ip neigh flush all
  expect_login "v4 WAN login on sshd's port 2222 through the lockdown" 192.0.2.1 2222
  expect_login "v6 WAN login on sshd's port 2222 through the lockdown" 2001:db8::1 2222
  expect_no_connection "v4 WAN to port 22, where sshd is not, is dropped" wan 192.0.2.1 22
  expect_no_connection "v6 WAN to port 22, where sshd is not, is dropped" wan 2001:db8::1 22
  fw gw remove --backend "$backend" || fail "remove failed"

  step "sshd: --sshd-config names the file sshd -T reads"
  fw gw apply --backend "$backend" --lockdown wan0 --sshd-config "$sshd_config" || fail "apply --sshd-config failed"
  expect_login "v4 WAN login on 2222 with --sshd-config" 192.0.2.1 2222
  expect_no_connection "v4 WAN to port 22 is dropped" wan 192.0.2.1 22

  step "sshd: ListenAddress with a port beats Port"
  local la=$NETLIB_DIR/sshd-listenaddress.conf
  sed -e 's/^ListenAddress 0.0.0.0$/ListenAddress 0.0.0.0:2200/' -e 's/^ListenAddress ::$/ListenAddress [::]:2200/' \
    "$sshd_config" >"$la"
  grep -q '^ListenAddress 0.0.0.0:2200$' "$la" || fail "setup: no ListenAddress in $la"
  fw gw apply --backend "$backend" --lockdown wan0 --sshd-config "$la" || fail "apply (ListenAddress :2200) failed"
  expect_line "v4 WAN to the ListenAddress port 2200 succeeds" "direct 192.0.2.1" wan 192.0.2.1 2200
  expect_line "v6 WAN to the ListenAddress port 2200 succeeds" "direct 2001:db8::1" wan 2001:db8::1 2200
  expect_no_connection "v4 WAN to the unused Port 2222 is dropped" wan 192.0.2.1 2222

  step "sshd: --ssh-port, repeatable, overrides sshd -T"
  fw gw apply --backend "$backend" --lockdown wan0 --ssh-port 2200 --ssh-port 2222 --sshd /nonexistent/sshd ||
    fail "apply --ssh-port 2200 --ssh-port 2222 failed"
  expect_login "v4 WAN login on 2222 (second --ssh-port)" 192.0.2.1 2222
  expect_line "v6 WAN to 2200 (first --ssh-port) succeeds" "direct 2001:db8::1" wan 2001:db8::1 2200
  expect_no_connection "v4 WAN to port 22 is dropped" wan 192.0.2.1 22
  fw gw remove --backend "$backend" --sshd /nonexistent/sshd || fail "remove consulted sshd"
  expect_same_ruleset gw "$clean" "remove restores the ruleset"

  step "sshd: no guess when sshd -T fails"
  local err=$NETLIB_DIR/sshd-err.txt rc=0
  fw gw apply --backend "$backend" --lockdown wan0 --sshd-config "$NETLIB_DIR/nosuch_config" 2>"$err" || rc=$?
  [ "$rc" = 1 ] || fail "apply with an unreadable sshd config: exit $rc, expected 1; stderr: $(cat "$err")"
  if [ "$(wc -l <"$err")" != 1 ] || ! grep -q -- '--ssh-port' "$err"; then
    fail "expected one line naming --ssh-port on stderr, got: $(cat "$err")"
  fi
  expect_same_ruleset gw "$clean" "apply with sshd -T failing changes nothing (exit 1: $(cat "$err"))"
  rc=0
  fw gw apply --backend "$backend" --lockdown wan0 --ssh-port 0 2>/dev/null || rc=$?
  [ "$rc" = 2 ] || fail "--ssh-port 0: exit $rc, expected 2"
  pass "--ssh-port 0 is a usage error"
  fw gw apply --backend "$backend" --lan lan0 --sshd-config "$NETLIB_DIR/nosuch_config" ||
    fail "apply without --lockdown consulted sshd"
  pass "without --lockdown sshd is not consulted"
  fw gw remove --backend "$backend" || fail "remove failed"
  expect_same_ruleset gw "$clean" "remove restores the ruleset"
}

# --------------------------------------------------------------------------- jail

# use_selfloop_config — the config of a box that is also a far end:
# local_subnets: [], so its own LAN (10.1.0.0/24, fd01::/64) is inside
# vpn_networks and not exempted by any subnet.
use_selfloop_config() {
  local yaml=$NETLIB_DIR/selfloop.yaml params=$NETLIB_DIR/selfloop-params.txt
  : >"$NETLIB_DIR/hosts"
  cat >"$yaml" <<EOF
listen: ["0.0.0.0:$FW_PORT", "[::]:$FW_PORT"]
hosts: ["$NETLIB_DIR/hosts"]
vpn_networks: [10.0.0.0/8, "fd00::/8"]
local_subnets: []
run_as: "$FW_USER"
EOF
  fw_expected_params "$FW_USER" | sed -E 's/^(local_subnets_v[46])=.*/\1=/' >"$params"
  fw_take_config "$yaml" "$params"
}

# owner_exemptions TEXT — how many uids the OUTPUT jump(s) of a dry run exempt.
owner_exemptions() { grep -oE -- '--uid-owner [0-9]+|skuid != [0-9]+' <<<"$1" | sort -u | wc -l; }

part_jail() {
  step "jail: the far-end account's connections to its own LAN are not looped into dvpnd"
  user_add "$JAIL_USER"
  user_add "$OTHER_USER"
  use_selfloop_config
  listener gw origdst "$FW_PORT"   # stands in for dvpnd
  listener lan plain 80            # a host on the box's own LAN
  local clean=$NETLIB_DIR/jail-clean.rules
  ruleset gw >"$clean"

  fw gw apply --backend "$backend" --lan lan0 --jail-user "$JAIL_USER" || fail "apply --jail-user failed"
  local family lanhost
  for family in 4 6; do
    [ "$family" = 4 ] && lanhost=10.1.0.2 || lanhost=fd01::2
    expect_line "v$family the jail account reaches its LAN directly" "direct $lanhost" gw "$lanhost" 80 "$JAIL_USER"
    expect_line "v$family run_as reaches it directly" "direct $lanhost" gw "$lanhost" 80 "$FW_USER"
    expect_line "v$family another account is still redirected" "redirected $lanhost 80" gw "$lanhost" 80 "$OTHER_USER"
    expect_line "v$family root is still redirected" "redirected $lanhost 80" gw "$lanhost" 80
  done
  fw gw remove --backend "$backend" || fail "remove failed"
  expect_same_ruleset gw "$clean" "remove takes the jail exemption away too"

  step "jail: the default account, unknown and duplicate accounts"
  local out n
  out=$(fw gw apply --backend "$backend" --lan lan0 --dry-run) || fail "apply --dry-run failed"
  n=$(owner_exemptions "$out")
  if getent passwd dvpn >/dev/null; then
    grep -qE -- "--uid-owner $(id -u dvpn)|skuid != $(id -u dvpn)" <<<"$out" ||
      fail "account dvpn exists but is not exempted by default: $out"
    pass "default: the existing account dvpn (uid $(id -u dvpn)) is exempted"
  else
    [ "$n" = 1 ] || fail "no account dvpn: expected only run_as exempted, got $n uids: $out"
    pass "default: no account dvpn here, only run_as is exempted"
  fi
  out=$(fw gw apply --backend "$backend" --lan lan0 --jail-user "$FW_USER" --dry-run) || fail "apply --dry-run failed"
  n=$(owner_exemptions "$out")
  [ "$n" = 1 ] || fail "--jail-user = run_as: expected one exempted uid, got $n: $out"
  local uid
  uid=$(id -u "$FW_USER")
  if grep -qE -- "--uid-owner $uid .*--uid-owner $uid |skuid != $uid .*skuid != $uid " <<<"$out"; then
    fail "--jail-user = run_as: the uid is exempted twice in one rule: $out"
  fi
  pass "--jail-user naming run_as exempts that uid once"
  local err=$NETLIB_DIR/jail-err.txt rc=0
  fw gw apply --backend "$backend" --lan lan0 --jail-user dvf-nosuchuser 2>"$err" || rc=$?
  [ "$rc" = 2 ] || fail "--jail-user naming no account: exit $rc, expected 2; stderr: $(cat "$err")"
  grep -q dvf-nosuchuser "$err" || fail "the message does not name the account: $(cat "$err")"
  expect_same_ruleset gw "$clean" "--jail-user naming no account is refused, nothing changed ($(cat "$err"))"
}

for part in "${parts[@]}"; do
  case $part in
    tag | sshd | jail) "part_$part" ;;
    *) fail "unknown part '$part' (tag, sshd or jail)" ;;
  esac
done
