#!/usr/bin/env bash
# install is idempotent and transactional; `remove` undoes it exactly: sshd's
# configuration byte for byte (here one that did NOT include a drop-in
# directory, so install had to add an Include line), the drop-in and the
# directory install made for it, the jail, the keys, the account and its
# group; and sshd still starts from the restored configuration.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dvj_init
step "setup: namespaces, sshd without an Include"
dvj_net --no-include
printf '# a last line without a newline' >>"$DVJ_SSHD_CONFIG"
dropin=$(dirname "$DVJ_SSHD_CONFIG")/sshd_config.d/dvpn-jail-$DVJ_USER.conf
cp -p "$DVJ_SSHD_CONFIG" "$NETLIB_DIR/config.orig"
stat -c '%a %U %G' "$DVJ_SSHD_CONFIG" >"$NETLIB_DIR/config.stat"
listing() { (cd "$DVJ_BASE" && find . | sort) }
listing >"$NETLIB_DIR/base.before"

step "a configuration sshd -t rejects is rolled back"
rc=0
dvj_jail install --sshd /bin/false >"$NETLIB_DIR/out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "install with a failing sshd -t: exit $rc, expected 1"
assert_contains "$NETLIB_DIR/out" "previous files restored" "failed install"
cmp -s "$NETLIB_DIR/config.orig" "$DVJ_SSHD_CONFIG" || fail "failed install left sshd_config changed"
[ ! -e "$dropin" ] || fail "failed install left the drop-in"
pass "failed validation: sshd_config and drop-in as before"

step "install adds an Include, the login works"
dvj_install
[ "$(sed -n 2p "$DVJ_SSHD_CONFIG")" = "Include $dropin" ] || fail "no Include line at the top"
dvj_key site
dvj_jail authorize "$NETLIB_DIR/site.pub" --site thursday --subnet 10.20.0.0/24
echo ping | dvj_ssh site -- "nc 10.20.0.2 7001" >"$NETLIB_DIR/out" 2>&1 || fail "login after install failed"
[ "$(tail -n 1 "$NETLIB_DIR/out")" = ping ] || fail "relay after install failed"
pass "jailed login relays"

step "install and authorize are idempotent"
snapshot() {
  cat "$DVJ_SSHD_CONFIG" "$dropin" "$DVJ_BASE/authorized_keys" "$DVJ_BASE/dvpn-jail-$DVJ_USER.state" | sha256sum
  (cd "$DVJ_JAIL" && find . -printf '%p %i %m %U %G %Y %s %T@\n' | sort)
  getent passwd "$DVJ_USER"
}
snapshot >"$NETLIB_DIR/snap.1"
dvj_install
dvj_jail authorize "$NETLIB_DIR/site.pub" --site thursday --subnet 10.20.0.0/24
snapshot >"$NETLIB_DIR/snap.2"
diff "$NETLIB_DIR/snap.1" "$NETLIB_DIR/snap.2" >&2 || fail "a second install/authorize changed something"
pass "second install + authorize: every file, inode and the account unchanged"
dvj_key other
dvj_jail authorize "$NETLIB_DIR/other.pub" --site friday --subnet 10.30.0.0/24
dvj_jail authorize "$NETLIB_DIR/site.pub" --site thursday --subnet 10.20.0.0/25 --subnet fd00:20::/64
[ "$(grep -c 'dvpn-site:' "$DVJ_BASE/authorized_keys")" = 2 ] || fail "authorize did not replace the site's line"
assert_contains "$DVJ_BASE/authorized_keys" \
  "restrict,command=\"/bin/dvpn-gate 10.20.0.0/25 fd00:20::/64\" $(cut -d' ' -f1,2 "$NETLIB_DIR/site.pub") dvpn-site:thursday" \
  "re-authorize"
pass "authorize replaces a site's line and keeps the others"
rc=0
dvj_jail authorize "$NETLIB_DIR/site.pub" --site saturday --subnet 10.40.0.0/24 >"$NETLIB_DIR/out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "one key authorized for a second site: exit $rc, expected 1"
assert_contains "$NETLIB_DIR/out" "already authorized for site thursday" "second site"
[ "$(grep -c 'dvpn-site:' "$DVJ_BASE/authorized_keys")" = 2 ] || fail "the refused authorize changed the keys"
pass "a key already authorized for one site is refused for another (sshd reads one line per key)"

step "remove restores everything"
dvj_jail remove
cmp "$NETLIB_DIR/config.orig" "$DVJ_SSHD_CONFIG" || fail "sshd_config differs from before install"
[ "$(stat -c '%a %U %G' "$DVJ_SSHD_CONFIG")" = "$(cat "$NETLIB_DIR/config.stat")" ] ||
  fail "sshd_config mode/owner changed"
pass "sshd_config byte for byte as before, same mode and owner"
[ ! -e "$(dirname "$dropin")" ] || fail "the drop-in directory install created is still there"
! id "$DVJ_USER" >/dev/null 2>&1 || fail "account $DVJ_USER still exists"
! getent group "$DVJ_USER" >/dev/null || fail "group $DVJ_USER still exists"
listing | diff "$NETLIB_DIR/base.before" - >&2 || fail "jail parent holds leftovers"
pass "drop-in, its directory, jail, keys, state, account and group gone"
/usr/sbin/sshd -t -f "$DVJ_SSHD_CONFIG" || fail "sshd -t fails after remove"
sshd_stop gw 22
spawn gw "$NETLIB_DIR/sshd2.log" /usr/sbin/sshd -D -e -f "$DVJ_SSHD_CONFIG"
NETLIB_FAIL_LOGS+=("$NETLIB_DIR/sshd2.log")
wait_port gw 22 10 || fail "sshd does not start from the restored configuration"
pass "sshd -t passes and sshd starts"
rc=0
dvj_ssh site -- "nc 10.20.0.2 7001" </dev/null >/dev/null 2>&1 || rc=$?
[ "$rc" = 255 ] || fail "the removed account can still log in (exit $rc)"
pass "the removed account cannot log in"
dvj_jail remove --no-reload || fail "a second remove failed"
cmp -s "$NETLIB_DIR/config.orig" "$DVJ_SSHD_CONFIG" || fail "a second remove changed sshd_config"
pass "remove is idempotent"

step "a configuration that already includes the drop-in directory is never edited"
config2=$DVJ_BASE/sshd_config.d.test
{ echo "Include $DVJ_BASE/sshd_config.d/*.conf"; cat "$NETLIB_DIR/config.orig"; } >"$config2"
printf '# a last line without a newline' >>"$config2"
cp -p "$config2" "$NETLIB_DIR/config2.orig"
opts=(--sshd-config "$config2" --dropin "$DVJ_BASE/sshd_config.d/dvpn-jail-$DVJ_USER.conf" --no-reload)
dvj_jail install "${opts[@]}" || fail "install with an including config"
cmp -s "$NETLIB_DIR/config2.orig" "$config2" || fail "install edited a config that already includes the drop-in"
dvj_jail check "${opts[@]}" >/dev/null 2>&1 || fail "check after install with an including config"
dvj_jail remove "${opts[@]}" || fail "remove with an including config"
cmp "$NETLIB_DIR/config2.orig" "$config2" || fail "remove changed the including config"
[ ! -e "$DVJ_BASE/sshd_config.d/dvpn-jail-$DVJ_USER.conf" ] || fail "drop-in left behind"
rm "$config2"
listing | diff "$NETLIB_DIR/base.before" - >&2 || fail "jail parent holds leftovers"
pass "install/check/remove leave an including config untouched"
