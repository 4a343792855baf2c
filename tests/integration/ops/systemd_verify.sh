#!/bin/bash
# The systemd unit as `meson install` puts it, checked by systemd itself:
# `systemd-analyze verify` inside a root that holds the installed tree (so
# every ExecStart*= binary and every Documentation= man page must be where
# the unit says) plus the system's targets and /bin/kill, with no warning at
# all; then `systemd-analyze security` must rate its sandbox at most 2.0
# ("OK"), and the properties the daemon relies on are pinned.
set -euo pipefail
# shellcheck source=../lib/netlib.sh
. "$DVPN_SOURCE_ROOT/tests/integration/lib/netlib.sh"
netlib_init dvo

command -v systemd-analyze >/dev/null || fail "systemd-analyze missing: scripts/bootstrap installs systemd"
ROOT=$NETLIB_DIR/root

step "meson install into a scratch root"
meson install -C "$DVPN_BUILD_ROOT" --no-rebuild --destdir "$ROOT" >"$NETLIB_DIR/install.log" 2>&1 ||
  { cat "$NETLIB_DIR/install.log" >&2; fail "meson install"; }
prefix=$(meson introspect "$DVPN_BUILD_ROOT" --buildoptions |
  python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
UNIT=$ROOT$prefix/lib/systemd/system/dvpn.service
[ -f "$UNIT" ] || fail "no unit at $UNIT"
pass "unit installed at $prefix/lib/systemd/system/dvpn.service"
# What a unit may reference outside our files: the system's targets, kill.
mkdir -p "$ROOT/lib/systemd/system" "$ROOT/bin"
cp -a /lib/systemd/system/*.target "$ROOT/lib/systemd/system/"
cp /bin/kill "$ROOT/bin/kill"

# analyze ARGS... — systemd-analyze on the scratch root; man finds our pages.
analyze() { MANPATH=$ROOT$prefix/share/man SYSTEMD_LOG_COLOR=0 systemd-analyze --root="$ROOT" "$@"; }

step "systemd-analyze verify"
rc=0
out=$(analyze verify dvpn.service 2>&1) || rc=$?
{ [ "$rc" = 0 ] && [ -z "$out" ]; } || fail "systemd-analyze verify (exit $rc): $out"
pass "verify: exit 0, not one warning (binaries, man pages and targets found)"

# The check itself must be able to fail: a unit whose binary is missing, and
# one with a misspelt key, are both reported.
mv "$ROOT$prefix/sbin/dvpnd" "$NETLIB_DIR/dvpnd.moved"
out=$(analyze verify dvpn.service 2>&1) || true
mv "$NETLIB_DIR/dvpnd.moved" "$ROOT$prefix/sbin/dvpnd"
[[ $out == *"is not executable"* ]] || fail "verify did not notice a missing dvpnd: $out"
cp "$UNIT" "$NETLIB_DIR/unit.good"
echo "NoNewPrivilege=yes" >>"$UNIT"
out=$(analyze verify dvpn.service 2>&1) || true
cp "$NETLIB_DIR/unit.good" "$UNIT"
[[ $out == *"Unknown key"* ]] || fail "verify did not notice an unknown key: $out"
pass "verify reports a missing binary and an unknown key (the check can fail)"

step "systemd-analyze security"
out=$(analyze security --offline=true --threshold=20 dvpn.service 2>&1) ||
  fail "exposure above 2.0: $(printf '%s\n' "$out" | grep -E '✗|Overall')"
pass "$(printf '%s\n' "$out" | grep Overall | sed 's/^→ //')"

step "the properties dvpnd relies on"
# want KEY VALUE — the unit sets KEY=VALUE (exactly one such line, or the first).
want() {
  local got
  got=$(sed -n "s/^$1=//p" "$UNIT" | head -n 1)
  [ "$got" = "$2" ] || fail "$1=$got, expected $1=$2"
}
want Type notify
want NotifyAccess main
want User dvpnd
start=$(sed -n 's/^ExecStart=//p' "$UNIT")
[[ $start == */dvpnd\ -c\ */dvpn/dvpn.yaml ]] || fail "ExecStart=$start: expected .../dvpnd -c .../dvpn/dvpn.yaml"
want ExecStartPre "$start --check"
want ExecReload "$start --check"
# shellcheck disable=SC2016 # the literal line
grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$UNIT" || fail "no ExecReload=/bin/kill -HUP \$MAINPID"
want CapabilityBoundingSet CAP_NET_BIND_SERVICE
want NoNewPrivileges yes
want ProtectSystem strict
want RuntimeDirectory dvpn
want Restart on-failure
pass "Type=notify, --check before start and reload, SIGHUP reload, bounded capabilities"
