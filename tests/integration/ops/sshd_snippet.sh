#!/bin/bash
# examples/sshd_config-dvpn against what `dvpn-jail install` really writes:
# included the way Debian includes sshd_config.d, the snippet passes
# `sshd -t`, and sshd applies to the jailed login exactly the settings it
# applies with dvpn-jail's own drop-in (defaults: user dvpn, jail
# /var/lib/dvpn/jail), in netcat mode and, after the edits the snippet
# describes, in direct and relay mode; other users keep the global settings.
set -euo pipefail
# shellcheck source=../lib/netlib.sh
. "$DVPN_SOURCE_ROOT/tests/integration/lib/netlib.sh"
netlib_init dvo

SNIPPET=$DVPN_SOURCE_ROOT/examples/sshd_config-dvpn
JAIL_TOOL=$DVPN_SOURCE_ROOT/chroot/dvpn-jail
D=$NETLIB_DIR
ssh-keygen -q -t ed25519 -N '' -f "$D/hostkey"

# jail_dropin netcat|direct|relay — the drop-in dvpn-jail install writes with its default
# account and paths, from the script's own expected_dropin function.
jail_dropin() {
  local defaults
  defaults=$(sed -n -E 's/^(jail|user)=/\1=/p' "$JAIL_TOOL")
  DEFAULTS=$defaults bash -c '
    set -euo pipefail
    eval "$(sed -n -E "s/^readonly (marker|max_sessions|client_alive_interval|client_alive_count_max)=/\1=/p" "$1")"
    eval "$(sed -n "/^expected_dropin() {\$/,/^}\$/p" "$1")"
    declare -F expected_dropin >/dev/null || { echo "no expected_dropin() in $1" >&2; exit 1; }
    eval "$DEFAULTS"
    keys=$(dirname "$jail")/authorized_keys
    expected_dropin "$2"' _ "$JAIL_TOOL" "$1"
}

# effective DROPIN USER — `sshd -T` for USER with DROPIN included the way
# Debian's sshd_config includes sshd_config.d/*.conf (first, then globals).
effective() {
  local dir
  dir=$(mktemp -d "$D/conf.XXXXXX")
  mkdir "$dir/sshd_config.d"
  cp "$1" "$dir/sshd_config.d/dvpn.conf"
  cat >"$dir/sshd_config" <<EOF
Include $dir/sshd_config.d/*.conf
HostKey $D/hostkey
UsePAM no
X11Forwarding yes
EOF
  sshd_privsep_dir
  /usr/sbin/sshd -t -f "$dir/sshd_config" || fail "sshd -t rejects $(basename "$1")"
  /usr/sbin/sshd -T -f "$dir/sshd_config" -C "user=$2,host=gw.invalid,addr=192.0.2.1"
}

step "dvpn-jail's drop-in, from its expected_dropin()"
jail_dropin netcat >"$D/jail-netcat.conf" || fail "cannot get the drop-in from $JAIL_TOOL"
jail_dropin direct >"$D/jail-direct.conf"
jail_dropin relay >"$D/jail-relay.conf"
grep -q '^Match User dvpn$' "$D/jail-netcat.conf" || fail "unexpected drop-in: $(head -n 5 "$D/jail-netcat.conf")"
pass "$(grep -c . "$D/jail-netcat.conf") lines, Match User dvpn"

step "netcat mode: the snippet gives the jailed login dvpn-jail's settings"
effective "$SNIPPET" dvpn >"$D/snippet.eff"
effective "$D/jail-netcat.conf" dvpn >"$D/jail.eff"
diff "$D/jail.eff" "$D/snippet.eff" >&2 || fail "sshd -T differs (< dvpn-jail, > snippet)"
for want in "chrootdirectory /var/lib/dvpn/jail" "authorizedkeysfile /var/lib/dvpn/authorized_keys" \
  "permittty no" "x11forwarding no" "allowtcpforwarding no" "disableforwarding yes" "maxsessions 100"; do
  grep -qx "$want" "$D/snippet.eff" || fail "snippet: sshd -T has no '$want'"
done
pass "sshd -T identical; chroot, keys file, no tty/X11/forwarding, MaxSessions 100"

step "direct mode: the edit the snippet describes"
sed -e 's/^\tAllowTcpForwarding no$/\tAllowTcpForwarding local/' -e '/^\tDisableForwarding yes$/d' \
  "$SNIPPET" >"$D/snippet-direct.conf"
! cmp -s "$SNIPPET" "$D/snippet-direct.conf" || fail "the snippet has no 'AllowTcpForwarding no' line to edit"
effective "$D/snippet-direct.conf" dvpn >"$D/snippet-direct.eff"
effective "$D/jail-direct.conf" dvpn >"$D/jail-direct.eff"
diff "$D/jail-direct.eff" "$D/snippet-direct.eff" >&2 || fail "direct mode: sshd -T differs (< dvpn-jail, > snippet)"
grep -qx "allowtcpforwarding local" "$D/snippet-direct.eff" || fail "direct mode: forwarding not 'local'"
pass "sshd -T identical with AllowTcpForwarding local"

step "relay mode: the edit the snippet describes"
sed -e 's/^\tPermitListen none$/\tPermitListen 127.0.0.1:*\n\tPermitOpen 127.0.0.1:*/' \
  -e 's/^\tAllowTcpForwarding no$/\tAllowTcpForwarding yes/' -e '/^\tDisableForwarding yes$/d' \
  "$SNIPPET" >"$D/snippet-relay.conf"
effective "$D/snippet-relay.conf" dvpn >"$D/snippet-relay.eff"
effective "$D/jail-relay.conf" dvpn >"$D/jail-relay.eff"
diff "$D/jail-relay.eff" "$D/snippet-relay.eff" >&2 || fail "relay mode: sshd -T differs (< dvpn-jail, > snippet)"
for want in "allowtcpforwarding yes" "permitopen 127.0.0.1:*" "permitlisten 127.0.0.1:*" "gatewayports no"; do
  grep -qxF "$want" "$D/snippet-relay.eff" || fail "relay mode: sshd -T has no '$want'"
done
pass "sshd -T identical with AllowTcpForwarding yes and PermitOpen/PermitListen 127.0.0.1:*"

step "other users keep the global settings"
effective "$SNIPPET" alice >"$D/alice.eff"
if ! grep -qx "chrootdirectory none" "$D/alice.eff" || ! grep -qx "x11forwarding yes" "$D/alice.eff"; then
  fail "the Match block leaks to other users"
fi
pass "alice: no chroot, X11Forwarding yes as set globally"
