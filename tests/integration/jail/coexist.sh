#!/usr/bin/env bash
# Two jail accounts on one sshd whose configuration includes no drop-in
# directory: each install adds its own Include block (the markers name the
# account), both accounts log in, and removing one keeps the other's block,
# drop-in, jail and keys. `remove` deletes only what its state file says
# install made: pointed at another --jail or --keys it refuses and deletes
# nothing, there or elsewhere.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

U2=dvjtest2
BASE2=""
DECOY=""
_coexist_cleanup() {
  if id "$U2" >/dev/null 2>&1 && [[ $(getent passwd "$U2" | cut -d: -f6) == /var/lib/dvpn-test-* ]]; then
    _netlib_retry userdel "$U2" >/dev/null 2>&1 || _netlib_log "userdel $U2 failed"
  fi
  if getent group "$U2" >/dev/null && ! id "$U2" >/dev/null 2>&1; then
    _netlib_retry groupdel "$U2" >/dev/null 2>&1 || true
  fi
  local d
  for d in "$BASE2" "$DECOY"; do
    [[ $d == /var/lib/dvpn-test-* ]] && rm -rf "$d"
  done
  return 0
}

dvj_init
netlib_on_exit_also _coexist_cleanup
if id "$U2" >/dev/null 2>&1; then
  home=$(getent passwd "$U2" | cut -d: -f6)
  [[ $home == /var/lib/dvpn-test-* ]] || fail "user $U2 exists and is not ours (home $home)"
  _netlib_retry userdel "$U2" >/dev/null 2>&1 || fail "cannot remove stale user $U2"
  [[ -d $home ]] && rm -rf "$home"
fi
BASE2=$(mktemp -d /var/lib/dvpn-test-XXXXXX)
chmod 755 "$BASE2"
DECOY=$(mktemp -d /var/lib/dvpn-test-XXXXXX)
chmod 755 "$DECOY"

step "setup: namespaces, sshd without an Include (AllowUsers accumulates: both accounts)"
dvj_net --no-include "AllowUsers $U2"
cp -p "$DVJ_SSHD_CONFIG" "$NETLIB_DIR/config.orig"
opts2=(--jail "$BASE2/jail" --user "$U2" --sshd-config "$DVJ_SSHD_CONFIG" --gate "$DVJ_GATE"
  --reload "kill -HUP $SSHD_PID")
dvj2() { "$DVJ_TOOL" "${opts2[@]}" "$@"; }
dropin1=$(dirname "$DVJ_SSHD_CONFIG")/sshd_config.d/dvpn-jail-$DVJ_USER.conf
dropin2=$(dirname "$DVJ_SSHD_CONFIG")/sshd_config.d/dvpn-jail-$U2.conf
out=$NETLIB_DIR/out

# login USER KEY — relay one line through the gate as USER.
login() {
  echo ping | ns_exec cli timeout 20 ssh -F /dev/null -i "$NETLIB_DIR/$2" \
    -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes \
    -o UserKnownHostsFile="$NETLIB_DIR/known_hosts" -o GlobalKnownHostsFile=/dev/null \
    -o StrictHostKeyChecking=yes -o ConnectTimeout=5 \
    "$1@$DVJ_GW" "nc 10.20.0.2 7001" >"$out" 2>&1 && [ "$(tail -n 1 "$out")" = ping ]
}
checks_ok() {  # checks_ok WHO CMD... — check passes
  "${@:2}" check >"$out" 2>&1 || { cat "$out" >&2; fail "$1: check fails"; }
}

step "two installs, one sshd_config"
dvj_install
before=$(sshd_listen_count gw 22)
dvj2 install >"$out" 2>&1 || { cat "$out" >&2; fail "install of the second account"; }
sshd_wait_relisten gw 22 "$before" || fail "sshd did not come back after the second install"
dvj_key one
dvj_key two
dvj_jail authorize "$NETLIB_DIR/one.pub" --site one --subnet 10.20.0.0/24
dvj2 authorize "$NETLIB_DIR/two.pub" --site two --subnet 10.20.0.0/24
grep -qxF "Include $dropin1" "$DVJ_SSHD_CONFIG" || fail "no Include of $dropin1"
grep -qxF "Include $dropin2" "$DVJ_SSHD_CONFIG" || fail "no Include of $dropin2"
[ "$(grep -c '^# dvpn-jail: begin' "$DVJ_SSHD_CONFIG")" = 2 ] || fail "expected two Include blocks"
pass "each account has its own Include block"
checks_ok "$DVJ_USER" dvj_jail
checks_ok "$U2" dvj2
pass "check passes for both"
login "$DVJ_USER" one || { cat "$out" >&2; fail "login as $DVJ_USER"; }
login "$U2" two || { cat "$out" >&2; fail "login as $U2"; }
pass "both accounts log in and relay"

step "remove pointed at the wrong --jail (no state there, decoy files)"
mkdir -p "$DECOY/jail/bin" "$DECOY/jail/dev"
for f in sh nc dvpn-gate; do echo "decoy $f" >"$DECOY/jail/bin/$f"; done
echo "decoy keys" >"$DECOY/authorized_keys"
(cd "$DECOY" && find . -type f -exec sha256sum {} + | sort) >"$NETLIB_DIR/decoy.sum"
decoy_intact() {
  (cd "$DECOY" && find . -type f -exec sha256sum {} + | sort) | cmp -s "$NETLIB_DIR/decoy.sum" - ||
    fail "$1: remove deleted or changed files in $DECOY"
}
cp -p "$DVJ_SSHD_CONFIG" "$NETLIB_DIR/config.both"
rc=0
dvj2 remove --jail "$DECOY/jail" >"$out" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$out" >&2; fail "remove with a wrong --jail exited $rc, expected 1"; }
assert_contains "$out" "no install state $DECOY/dvpn-jail-$U2.state" "remove"
msg=$(grep -m1 error "$out")
decoy_intact "wrong --jail"
cmp -s "$NETLIB_DIR/config.both" "$DVJ_SSHD_CONFIG" || fail "remove with a wrong --jail changed sshd_config"
[ -f "$dropin2" ] || fail "remove with a wrong --jail deleted $dropin2"
checks_ok "$U2 after a refused remove" dvj2
pass "refused: $msg"

step "remove pointed at the wrong --keys (the state file disagrees)"
rc=0
dvj2 remove --keys "$DECOY/authorized_keys" >"$out" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$out" >&2; fail "remove with a wrong --keys exited $rc, expected 1"; }
assert_contains "$out" "--keys is $DECOY/authorized_keys but install used $BASE2/authorized_keys" "remove"
msg=$(grep -m1 error "$out")
decoy_intact "wrong --keys"
cmp -s "$NETLIB_DIR/config.both" "$DVJ_SSHD_CONFIG" || fail "remove with a wrong --keys changed sshd_config"
checks_ok "$U2 after a refused remove" dvj2
pass "refused: $msg"

step "remove pointed at the wrong --dropin (the state file disagrees)"
rc=0
dvj2 remove --dropin "$dropin1" >"$out" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$out" >&2; fail "remove with another account's --dropin exited $rc, expected 1"; }
assert_contains "$out" "--dropin is $dropin1 but install used $dropin2" "remove"
msg=$(grep -m1 error "$out")
[ -f "$dropin1" ] || fail "remove with a wrong --dropin deleted the other account's drop-in"
cmp -s "$NETLIB_DIR/config.both" "$DVJ_SSHD_CONFIG" || fail "remove with a wrong --dropin changed sshd_config"
checks_ok "$DVJ_USER after a refused remove" dvj_jail
checks_ok "$U2 after a refused remove" dvj2
pass "refused: $msg"

step "removing one account keeps the other"
dvj_jail remove || fail "remove of $DVJ_USER"
! id "$DVJ_USER" >/dev/null 2>&1 || fail "$DVJ_USER still exists"
grep -qF "Include $dropin1" "$DVJ_SSHD_CONFIG" && fail "$dropin1 still included"
grep -qxF "Include $dropin2" "$DVJ_SSHD_CONFIG" || fail "removing $DVJ_USER took $U2's Include"
{ [ -f "$dropin2" ] && [ -x "$BASE2/jail/bin/dvpn-gate" ] && [ -f "$BASE2/authorized_keys" ]; } ||
  fail "removing $DVJ_USER took $U2's files"
checks_ok "$U2 after removing $DVJ_USER" dvj2
login "$U2" two || { cat "$out" >&2; fail "login as $U2 after removing $DVJ_USER"; }
pass "$U2 still checks clean and logs in"

step "removing the second restores sshd_config"
dvj2 remove || fail "remove of $U2"
cmp "$NETLIB_DIR/config.orig" "$DVJ_SSHD_CONFIG" || fail "sshd_config differs from before both installs"
! id "$U2" >/dev/null 2>&1 || fail "$U2 still exists"
decoy_intact "after both removes"
dvj2 remove --no-reload || fail "a second remove of $U2 failed"
pass "sshd_config byte for byte as before; a second remove is a no-op"
