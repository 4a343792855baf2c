#!/usr/bin/env bash
# `remove` deletes the 3-line Include block install put at the top of an
# sshd_config that did not include the drop-in, and never a line outside it:
# with the block no longer intact (its end marker or its Include line edited
# away) remove refuses and changes nothing at all. A block in the format of
# earlier versions (one marker for every account) is still removed exactly.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dvj_init
step "setup: namespaces, sshd without an Include, install"
dvj_net --no-include
dropin=$(dirname "$DVJ_SSHD_CONFIG")/sshd_config.d/dvpn-jail-$DVJ_USER.conf
cp -p "$DVJ_SSHD_CONFIG" "$NETLIB_DIR/config.orig"
dvj_install
cp -p "$DVJ_SSHD_CONFIG" "$NETLIB_DIR/config.installed"
head -n 3 "$DVJ_SSHD_CONFIG" >"$NETLIB_DIR/block"
[ "$(sed -n 2p "$NETLIB_DIR/block")" = "Include $dropin" ] || fail "no Include block at the top"
[ "$(tail -n +4 "$DVJ_SSHD_CONFIG")" = "$(cat "$NETLIB_DIR/config.orig")" ] ||
  fail "install changed more than the 3 lines at the top"
pass "install added exactly 3 lines at the top"
out=$NETLIB_DIR/out

# remove_refuses DESC — remove exits 1, names the block, and sshd_config, the
# drop-in, the jail and the account are all still there.
remove_refuses() {
  local rc=0
  cp -p "$DVJ_SSHD_CONFIG" "$NETLIB_DIR/config.broken"
  # On a host with default host keys (/etc/ssh/ssh_host_*) sshd -t accepts
  # even an empty file, so it cannot be what stops remove: validate with
  # /bin/true, which accepts anything.
  dvj_jail remove --sshd /bin/true --no-reload >"$out" 2>&1 || rc=$?
  [ "$rc" = 1 ] || { cat "$out" >&2; fail "$1: remove exited $rc, expected 1"; }
  cmp "$NETLIB_DIR/config.broken" "$DVJ_SSHD_CONFIG" >&2 || {
    diff "$NETLIB_DIR/config.broken" "$DVJ_SSHD_CONFIG" | head -n 20 >&2
    fail "$1: remove changed sshd_config"
  }
  assert_contains "$out" "not intact" "remove"
  [ -f "$dropin" ] || fail "$1: remove deleted the drop-in although it refused"
  [ -x "$DVJ_JAIL/bin/dvpn-gate" ] || fail "$1: remove emptied the jail although it refused"
  id "$DVJ_USER" >/dev/null 2>&1 || fail "$1: remove deleted the account although it refused"
  pass "$1: remove refuses: $(grep -m1 'not intact' "$out")"
}

step "the end marker is gone"
sed -i '3{/^# dvpn-jail: end/d}' "$DVJ_SSHD_CONFIG"
[ "$(wc -l <"$DVJ_SSHD_CONFIG")" -lt "$(wc -l <"$NETLIB_DIR/config.installed")" ] || fail "could not delete the end marker"
remove_refuses "no end marker"
rc=0
dvj_jail check >"$out" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$out" >&2; fail "check with a broken block exited $rc"; }
assert_contains "$out" "not intact" "check"
pass "check names it too: $(grep -m1 'not intact' "$out")"
rc=0
dvj_jail install --no-reload >"$out" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$out" >&2; fail "install with a broken block exited $rc"; }
cmp -s "$NETLIB_DIR/config.broken" "$DVJ_SSHD_CONFIG" || fail "install changed sshd_config with a broken block"
pass "install refuses to build on it as well, sshd_config unchanged"

step "the Include line is gone"
cp -p "$NETLIB_DIR/config.installed" "$DVJ_SSHD_CONFIG"
sed -i '2{/^Include /d}' "$DVJ_SSHD_CONFIG"
remove_refuses "no Include line"

step "the Include line names another file"
cp -p "$NETLIB_DIR/config.installed" "$DVJ_SSHD_CONFIG"
sed -i "2s|^Include .*|Include $DVJ_BASE/elsewhere.conf|" "$DVJ_SSHD_CONFIG"
remove_refuses "another Include line"

step "intact again: remove deletes exactly the 3 lines"
cp -p "$NETLIB_DIR/config.installed" "$DVJ_SSHD_CONFIG"
dvj_jail check >/dev/null 2>&1 || fail "check fails with the intact block"
dvj_jail remove --no-reload || fail "remove with the intact block"
cmp "$NETLIB_DIR/config.orig" "$DVJ_SSHD_CONFIG" || fail "sshd_config differs from before install"
pass "sshd_config byte for byte as before install"

step "a block written by an earlier version (no account in its markers)"
dvj_install
{
  echo "# dvpn-jail: begin (added by install; remove deletes these 3 lines)"
  echo "Include $dropin"
  echo "# dvpn-jail: end"
  cat "$NETLIB_DIR/config.orig"
} >"$DVJ_SSHD_CONFIG"
dvj_jail check >"$out" 2>&1 || { cat "$out" >&2; fail "check fails with an earlier version's block"; }
pass "check accepts it"
dvj_install
[ "$(grep -c '^# dvpn-jail: begin' "$DVJ_SSHD_CONFIG")" = 1 ] || fail "install added a second block"
pass "install keeps it (no second block)"
dvj_jail remove --no-reload || fail "remove with an earlier version's block"
cmp "$NETLIB_DIR/config.orig" "$DVJ_SSHD_CONFIG" || fail "sshd_config differs from before install"
pass "remove deletes exactly its 3 lines"
