#!/bin/bash
# `meson install` with --prefix /usr and sysconfdir /etc, into a DESTDIR: the
# tree holds exactly the expected files, in their usual places, with the
# installed paths written into the rc scripts; the configuration is put in
# place only when absent, so a reinstall keeps the operator's edits.
#
# The build under test may have any prefix, and rebuilding for another takes
# minutes: a scratch build directory is configured with /usr and /etc, the
# already built programs are copied into it, and it is installed from there
# without a rebuild (the install rules are what is under test).
set -euo pipefail
# shellcheck source=../lib/netlib.sh
. "$DVPN_SOURCE_ROOT/tests/integration/lib/netlib.sh"
netlib_init dvo

B=$NETLIB_DIR/build
D=$NETLIB_DIR/dest

step "configure a scratch build with --prefix /usr --sysconfdir /etc"
meson setup "$B" "$DVPN_SOURCE_ROOT" --prefix /usr --sysconfdir /etc >"$NETLIB_DIR/setup.log" 2>&1 ||
  { cat "$NETLIB_DIR/setup.log" >&2; fail "meson setup"; }
# Every installed build target, copied from the build under test.
meson introspect "$B" --targets |
  python3 -c 'import json, sys
for t in json.load(sys.stdin):
    if t["installed"]:
        print("\n".join(t["filename"]))' |
  while read -r file; do
    rel=${file#"$B"/}
    [ -f "$DVPN_BUILD_ROOT/$rel" ] || fail "$rel is not built in $DVPN_BUILD_ROOT"
    mkdir -p "$(dirname "$file")"
    cp -p "$DVPN_BUILD_ROOT/$rel" "$file"
  done
pass "configured; built programs copied in"

# install — meson install into $D; its output in install.log.
install() {
  meson install -C "$B" --no-rebuild --destdir "$D" >"$NETLIB_DIR/install.log" 2>&1 ||
    { cat "$NETLIB_DIR/install.log" >&2; fail "meson install"; }
}

step "meson install --destdir"
install
info "installed tree:"
(cd "$D" && find . -mindepth 1 \( -type f -printf '%m %p\n' \) -o \( -type d -empty -printf 'dir %p\n' \) | sort) |
  tee "$NETLIB_DIR/tree" | sed 's/^/      /' >&2

expected=$(cat <<'EOF'
644 ./etc/dvpn/dvpn.yaml
644 ./usr/lib/systemd/system/dvpn.service
644 ./usr/share/doc/dvpn/examples/dnsmasq-dvpn.conf
644 ./usr/share/doc/dvpn/examples/dvpn.yaml
644 ./usr/share/doc/dvpn/examples/hosts
644 ./usr/share/doc/dvpn/examples/rc/dvpn.service
644 ./usr/share/doc/dvpn/examples/sshd_config-dvpn
644 ./usr/share/man/man5/dvpn-hosts.5
644 ./usr/share/man/man5/dvpn.yaml.5
644 ./usr/share/man/man8/dvpn-firewall.8
644 ./usr/share/man/man8/dvpn-jail.8
644 ./usr/share/man/man8/dvpnd.8
755 ./usr/libexec/dvpn/dvpn-gate
755 ./usr/sbin/dvpn-firewall
755 ./usr/sbin/dvpn-jail
755 ./usr/sbin/dvpnd
755 ./usr/share/doc/dvpn/examples/rc/dvpn.init
755 ./usr/share/doc/dvpn/examples/rc/dvpn.openrc
dir ./etc/dvpn/hosts.d
EOF
)
if ! diff <(printf '%s\n' "$expected") "$NETLIB_DIR/tree" >"$NETLIB_DIR/tree.diff"; then
  cat "$NETLIB_DIR/tree.diff" >&2
  fail "installed tree differs from the expected one (< expected, > installed)"
fi
pass "the tree is exactly: programs in usr/sbin and usr/libexec/dvpn, unit in usr/lib/systemd/system, examples and rc scripts in usr/share/doc/dvpn/examples, man pages in man5/man8, config in etc/dvpn"

step "installed paths inside the files"
# has FILE LINE — FILE has the exact line LINE.
has() { grep -qxF -- "$2" "$D/$1" || fail "$1 has no line '$2'"; }
has usr/share/doc/dvpn/examples/rc/dvpn.init "DAEMON=/usr/sbin/dvpnd"
has usr/share/doc/dvpn/examples/rc/dvpn.init "CONFIG=/etc/dvpn/dvpn.yaml"
has usr/share/doc/dvpn/examples/rc/dvpn.openrc 'command="/usr/sbin/dvpnd"'
# shellcheck disable=SC2016 # the literal line
has usr/share/doc/dvpn/examples/rc/dvpn.openrc ': "${DVPN_CONFIG:=/etc/dvpn/dvpn.yaml}"'
has usr/lib/systemd/system/dvpn.service "ExecStart=/usr/sbin/dvpnd -c /etc/dvpn/dvpn.yaml"
cmp -s "$D/usr/lib/systemd/system/dvpn.service" "$D/usr/share/doc/dvpn/examples/rc/dvpn.service" ||
  fail "the installed unit and its example copy differ"
if grep -rl '@[A-Z]*@' "$D/usr/share/doc/dvpn/examples/rc" "$D/usr/lib/systemd"; then
  fail "an @VARIABLE@ was left unsubstituted"
fi
cmp -s "$D/etc/dvpn/dvpn.yaml" "$DVPN_SOURCE_ROOT/examples/dvpn.yaml" || fail "etc/dvpn/dvpn.yaml is not examples/dvpn.yaml"
pass "rc scripts name /usr/sbin/dvpnd and /etc/dvpn/dvpn.yaml; no placeholder left"

step "the installed programs run"
"$D/usr/sbin/dvpnd" --version | grep -q '^dvpnd ' || fail "installed dvpnd --version"
"$D/usr/sbin/dvpn-firewall" --help >/dev/null || fail "installed dvpn-firewall --help"
"$D/usr/sbin/dvpn-jail" --help >/dev/null || fail "installed dvpn-jail --help"
sh -n "$D/usr/share/doc/dvpn/examples/rc/dvpn.init" || fail "installed dvpn.init: syntax"
pass "dvpnd --version, dvpn-firewall --help, dvpn-jail --help"

step "a reinstall keeps the operator's configuration"
echo "# edited by the operator" >>"$D/etc/dvpn/dvpn.yaml"
cp "$D/etc/dvpn/dvpn.yaml" "$NETLIB_DIR/edited.yaml"
install
cmp -s "$D/etc/dvpn/dvpn.yaml" "$NETLIB_DIR/edited.yaml" || fail "reinstall overwrote etc/dvpn/dvpn.yaml"
pass "etc/dvpn/dvpn.yaml kept as edited"
