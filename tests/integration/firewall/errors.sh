#!/usr/bin/env bash
# dvpn-firewall's error cases — not root, a missing binary, an unknown
# interface, a config error (dvpnd's message passed through), bad usage, a batch
# failing halfway — each exit non-zero with one line on stderr and leave the
# ruleset exactly as it was, both on a clean ruleset and over applied dvpn rules.
# Argument: iptables|nft.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
backend=${1:-iptables}
netlib_init dvf

# expect_error DESC RC SNAPSHOT CMD... — CMD exits RC, writes exactly one line
# on stderr and leaves the gw ruleset equal to SNAPSHOT.
expect_error() {
  local desc=$1 want=$2 snap=$3 rc=0 err=$NETLIB_DIR/stderr.txt now=$NETLIB_DIR/now.rules
  shift 3
  "$@" >/dev/null 2>"$err" || rc=$?
  [ "$rc" = "$want" ] || fail "$desc: exit $rc, expected $want; stderr: $(cat "$err")"
  [ "$(wc -l <"$err")" = 1 ] || fail "$desc: expected one line on stderr, got:"$'\n'"$(cat "$err")"
  ruleset gw >"$now"
  diff -u "$snap" "$now" >&2 || fail "$desc: the ruleset changed (diff above)"
  pass "$desc (exit $rc: $(cat "$err"))"
}

# tool_dir NAME MISSING... — a PATH directory with the tools the script and
# its backends use, minus MISSING.
tool_dir() {
  local dir=$NETLIB_DIR/$1 tool
  shift
  mkdir -p "$dir"
  for tool in bash env cat dirname readlink grep ip nft \
    iptables-save iptables-restore ip6tables-save ip6tables-restore; do
    [[ " $* " == *" $tool "* ]] || ln -sf "$(command -v "$tool")" "$dir/$tool"
  done
  echo "$dir"
}

step "setup ($backend backend)"
fw_topology
user_add "$FW_USER"
fw_use_config "$FW_USER"
add_unrelated_rules gw
apply=(apply --backend "$backend" --lan lan0 --lockdown wan0 --ssh-port 22)

stub=$NETLIB_DIR/stub-dvpnd
cat >"$stub" <<'STUB'
#!/bin/sh
echo "dvpnd: error: /etc/dvpn/dvpn.yaml:3:9: vpn_networks: 'ten/8' is not a prefix, expected ADDRESS/LENGTH" >&2
exit 2
STUB
crash=$NETLIB_DIR/crash-dvpnd
printf '#!/bin/sh\nexit 1\n' >"$crash"
chmod 755 "$stub" "$crash"
bad_format=$NETLIB_DIR/bad-format.txt
fw_expected_params "$FW_USER" | sed 's/^format=1$/format=2/' >"$bad_format"
bad_cidr=$NETLIB_DIR/bad-cidr.txt
fw_expected_params "$FW_USER" | sed 's|^vpn_networks_v4=.*|vpn_networks_v4=10.0.0.0/8;reboot|' >"$bad_cidr"

if [ "$backend" = iptables ]; then
  no_tool=$(tool_dir no-tool iptables-restore)
  no_tool6=$(tool_dir no-tool6 ip6tables-restore)
else
  no_tool=$(tool_dir no-tool nft)
  no_tool6=$no_tool
fi
no_ip=$(tool_dir no-ip ip)

# A second-family batch that passes --test but fails for real: the first
# family must be rolled back.
half=$(tool_dir half ip6tables-restore)
cat >"$half/ip6tables-restore" <<WRAPPER
#!/bin/bash
for a in "\$@"; do [ "\$a" = --test ] && exec $(command -v ip6tables-restore) "\$@"; done
echo "ip6tables-restore: simulated failure" >&2
exit 1
WRAPPER
chmod 755 "$half/ip6tables-restore"


# The unprivileged user may not be able to enter the checkout (a clone under
# /root or a mktemp -d is root-only), so it runs a copy from our 0755 dir.
fw_for_user=$NETLIB_DIR/fw-user/dvpn-firewall
mkdir -p "${fw_for_user%/*}"
install -m 755 "$FW" "$fw_for_user"

run_error_cases() {
  local snap=$1
  expect_error "not root" 1 "$snap" \
    ns_exec gw setpriv --reuid="$(id -u "$FW_USER")" --regid="$(id -g "$FW_USER")" --init-groups -- \
    "$fw_for_user" "${apply[@]}" "${FW_ARGS[@]}"
  expect_error "missing backend binary" 1 "$snap" \
    ns_exec gw env PATH="$no_tool" "$FW" "${apply[@]}" "${FW_ARGS[@]}"
  expect_error "missing IPv6 backend binary" 1 "$snap" \
    ns_exec gw env PATH="$no_tool6" "$FW" "${apply[@]}" "${FW_ARGS[@]}"
  expect_error "missing ip (interface check)" 1 "$snap" \
    ns_exec gw env PATH="$no_ip" "$FW" "${apply[@]}" "${FW_ARGS[@]}"
  expect_error "missing binary: remove" 1 "$snap" \
    ns_exec gw env PATH="$no_tool" "$FW" remove --backend "$backend"
  expect_error "unknown --lan interface" 2 "$snap" fw gw "${apply[@]}" --lan nosuch0
  expect_error "unknown --lockdown interface" 2 "$snap" \
    fw gw apply --backend "$backend" --lan lan0 --lockdown nosuch1
  expect_error "malformed interface name" 2 "$snap" fw gw "${apply[@]}" --lan 'lan0;x'
  expect_error "same interface as --lan and --lockdown" 2 "$snap" \
    fw gw apply --backend "$backend" --lan wan0 --lockdown wan0
  expect_error "config error: dvpnd's message passed through" 2 "$snap" \
    ns_exec gw env -u DVPN_FIREWALL_PARAMS_FILE "$FW" "${apply[@]}" --dvpnd "$stub"
  grep -qx "dvpnd: error: /etc/dvpn/dvpn.yaml:3:9: .*" "$NETLIB_DIR/stderr.txt" ||
    fail "dvpnd's message was not passed through verbatim: $(cat "$NETLIB_DIR/stderr.txt")"
  expect_error "dvpnd failing otherwise" 1 "$snap" \
    ns_exec gw env -u DVPN_FIREWALL_PARAMS_FILE "$FW" "${apply[@]}" --dvpnd "$crash"
  expect_error "dvpnd missing" 1 "$snap" \
    ns_exec gw env -u DVPN_FIREWALL_PARAMS_FILE "$FW" "${apply[@]}" --dvpnd /nonexistent/dvpnd
  expect_error "parameters in an unknown format" 2 "$snap" \
    ns_exec gw env DVPN_FIREWALL_PARAMS_FILE="$bad_format" "$FW" "${apply[@]}"
  expect_error "parameters with a malformed network" 2 "$snap" \
    ns_exec gw env DVPN_FIREWALL_PARAMS_FILE="$bad_cidr" "$FW" "${apply[@]}"
  if dvpnd_has_firewall_params; then
    local yaml=$NETLIB_DIR/broken.yaml
    printf 'listen: [\n' >"$yaml"
    expect_error "real dvpnd: YAML syntax error" 2 "$snap" \
      ns_exec gw env -u DVPN_FIREWALL_PARAMS_FILE "$FW" "${apply[@]}" -c "$yaml" --dvpnd "$DVPND"
    printf 'run_as: dvf-nosuchuser\n' >"$yaml"
    expect_error "real dvpnd: run_as names no account" 2 "$snap" \
      ns_exec gw env -u DVPN_FIREWALL_PARAMS_FILE "$FW" "${apply[@]}" -c "$yaml" --dvpnd "$DVPND"
    grep -q 'dvf-nosuchuser' "$NETLIB_DIR/stderr.txt" || fail "message does not name the account"
  else
    info "dvpnd --firewall-params not available: real config-error cases skipped"
  fi
  expect_error "no command" 2 "$snap" fw gw --backend "$backend"
  expect_error "unknown backend" 2 "$snap" fw gw apply --backend pf
  expect_error "unknown option" 2 "$snap" fw gw apply --backend "$backend" --frobnicate
  expect_error "bad --ssh-port" 2 "$snap" fw gw "${apply[@]}" --ssh-port 70000
  if [ "$backend" = iptables ]; then
    local rc=0
    ns_exec gw env PATH="$half" "$FW" "${apply[@]}" --lan lan1 "${FW_ARGS[@]}" >/dev/null 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "IPv6 batch failing after IPv4 applied: exit $rc, expected 1"
    expect_same_ruleset gw "$snap" "IPv6 batch failing after IPv4 applied: IPv4 rolled back"
  fi
}

ns_exec gw ip link add lan1 type veth peer name lan1p
clean=$NETLIB_DIR/clean.rules
ruleset gw >"$clean"
step "errors on a ruleset without dvpn rules"
run_error_cases "$clean"

step "errors over applied dvpn rules"
fw gw "${apply[@]}" || fail "apply failed"
applied=$NETLIB_DIR/applied.rules
ruleset gw >"$applied"
run_error_cases "$applied"

step "remove"
fw gw remove --backend "$backend" || fail "remove failed"
expect_same_ruleset gw "$clean" "remove after the error cases restores the ruleset"
