#!/usr/bin/env bash
# `dvpn-jail check` passes right after install and names the defect after
# each deliberate breakage; each repair makes it pass again. The first
# breakage is also shown to be real: sshd refuses the login.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dvj_site_setup 10.20.0.0/24
report=$NETLIB_DIR/check.out


step "right after install"
dvj_check_passes "fresh install"
dvj_ssh site -- "nc 10.20.0.2 7001" </dev/null >/dev/null 2>&1 || fail "login fails after install"

step "no /run/sshd yet (Debian's socket-activated sshd before its first login)"
# A private, empty /run: sshd -t and -T fail there unless dvpn-jail creates
# the privilege separation directory itself, as Debian's ssh init script does.
without_run_sshd() {
  unshare -m --propagation private bash -c \
    'mount -t tmpfs tmpfs /run && [ ! -e /run/sshd ] && "$@"' _ "$@"
}
for cmd in check "install --no-reload"; do
  rc=0
  # shellcheck disable=SC2086  # $cmd is a command and its option
  without_run_sshd "$DVJ_TOOL" "${DVJ_OPTS[@]}" $cmd >"$report" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { cat "$report" >&2; fail "$cmd without /run/sshd: exit $rc"; }
  pass "$cmd works without /run/sshd"
done

step "a group-writable jail directory"
chmod 775 "$DVJ_JAIL"
dvj_check_names "$DVJ_JAIL: group/other-writable (mode 775)"
rc=0
dvj_ssh site -- "nc 10.20.0.2 7001" </dev/null >/dev/null 2>&1 || rc=$?
[ "$rc" = 255 ] || fail "sshd accepted a login into a group-writable jail (exit $rc)"
assert_contains "$(sshd_log gw 22)" "bad ownership or modes for chroot directory" "sshd log"
pass "and sshd does refuse the login"
chmod 755 "$DVJ_JAIL"
dvj_check_passes "jail mode restored"

step "a group-writable parent of the jail"
chmod 775 "$DVJ_BASE"
dvj_check_names "$DVJ_BASE: group/other-writable (mode 775)"
chmod 755 "$DVJ_BASE"

step "an extra binary in the jail"
cp /bin/busybox "$DVJ_JAIL/bin/ls"
dvj_check_names "$DVJ_JAIL/bin/ls: extra file in the jail"
rm "$DVJ_JAIL/bin/ls"
mkdir "$DVJ_JAIL/etc" && touch "$DVJ_JAIL/etc/passwd"
dvj_check_names "$DVJ_JAIL/etc/passwd: extra file" "$DVJ_JAIL/etc: extra file"
rm -r "${DVJ_JAIL:?}/etc"
dvj_check_passes "extras removed"

step "a setuid shell and a foreign nc"
chmod 4755 "$DVJ_JAIL/bin/sh"
dvj_check_names "$DVJ_JAIL/bin/sh: mode 4755, expected 755"
chmod 755 "$DVJ_JAIL/bin/sh"
rm "$DVJ_JAIL/bin/nc" && cp /bin/nc.openbsd "$DVJ_JAIL/bin/nc"
dvj_check_names "$DVJ_JAIL/bin/nc: not the busybox of $DVJ_JAIL/bin/sh"
dvj_install
dvj_check_passes "install repairs it"

step "keys without restrict or without dvpn-gate"
cp -p "$DVJ_BASE/authorized_keys" "$NETLIB_DIR/keys.good"
dvj_key loose
cat "$NETLIB_DIR/loose.pub" >>"$DVJ_BASE/authorized_keys"
dvj_check_names "authorized_keys:2 (dvj-loose): key without restrict"
cp -p "$NETLIB_DIR/keys.good" "$DVJ_BASE/authorized_keys"
echo "restrict,pty $(cat "$NETLIB_DIR/loose.pub")" >>"$DVJ_BASE/authorized_keys"
dvj_check_names "authorized_keys:2 (dvj-loose): key without command=" \
  "authorized_keys:2 (dvj-loose): option 'pty'"
cp -p "$NETLIB_DIR/keys.good" "$DVJ_BASE/authorized_keys"
echo "restrict,port-forwarding,command=\"/bin/dvpn-gate 10.20.0.0/24\" $(cat "$NETLIB_DIR/loose.pub")" \
  >>"$DVJ_BASE/authorized_keys"
dvj_check_names "port-forwarding without permitopen" "port-forwarding, but install did not --allow-direct"
cp -p "$NETLIB_DIR/keys.good" "$DVJ_BASE/authorized_keys"
chmod 666 "$DVJ_BASE/authorized_keys"
dvj_check_names "$DVJ_BASE/authorized_keys: group/other-writable (mode 666)"
chmod 644 "$DVJ_BASE/authorized_keys"
dvj_check_passes "keys restored"

step "the Match block altered, overridden, missing"
dropin=$DVJ_BASE/sshd_config.d/dvpn-jail-$DVJ_USER.conf
sed -i 's/MaxSessions 100/MaxSessions 10/' "$dropin"
dvj_check_names "$dropin: altered" "'maxsessions 10' to user $DVJ_USER, expected 'maxsessions 100'"
dvj_install
dvj_check_passes "install restores the drop-in"
# An earlier drop-in whose Match block wins over ours (sshd: first value wins).
printf 'Match User %s\n\tPermitTTY yes\n\tAllowTcpForwarding yes\n' "$DVJ_USER" \
  >"$DVJ_BASE/sshd_config.d/00-earlier.conf"
sha_before=$(cat "$DVJ_SSHD_CONFIG" "$dropin" | sha256sum)
rc=0
dvj_jail install >"$report" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "install with an overriding Match block: exit $rc, expected 1"
assert_contains "$report" "does not take effect, previous files restored" "install"
[ "$(cat "$DVJ_SSHD_CONFIG" "$dropin" | sha256sum)" = "$sha_before" ] ||
  fail "install changed sshd's files although it failed"
pass "install refuses to leave an overridden Match block, files unchanged"
dvj_check_names "'permittty yes' to user $DVJ_USER, expected 'permittty no'" \
  "'allowtcpforwarding yes' to user $DVJ_USER, expected 'allowtcpforwarding no'"
rm "$DVJ_BASE/sshd_config.d/00-earlier.conf"
rm "$dropin"
dvj_check_names "$dropin: missing (no Match User $DVJ_USER block)" \
  "'chrootdirectory none' to user $DVJ_USER"
dvj_install
dvj_check_passes "install restores the drop-in"

step "sshd -t fails"
cp -p "$DVJ_SSHD_CONFIG" "$NETLIB_DIR/config.good"
echo "NoSuchOption yes" >>"$DVJ_SSHD_CONFIG"
dvj_check_names "sshd -t -f $DVJ_SSHD_CONFIG fails"
cp -p "$NETLIB_DIR/config.good" "$DVJ_SSHD_CONFIG"

step "the account"
usermod -p '$6$x$y' "$DVJ_USER"
dvj_check_names "user $DVJ_USER: has a password"
usermod -p '*' "$DVJ_USER"
dvj_check_passes "everything repaired"
