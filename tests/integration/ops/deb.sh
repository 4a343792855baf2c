#!/bin/bash
# The Debian packages (debian/): `dpkg-buildpackage -us -uc -b` builds dvpn
# and dvpn-far-end from a copy of the tracked files, lintian reports no
# error, and on this machine an install creates the dvpnd account, the
# unit (not enabled), the man pages, the examples and a /etc/dvpn/dvpn.yaml
# that `dvpnd --check` accepts; `dpkg --purge` then leaves none of the
# packages' files, no /etc/dvpn and no dvpnd account.
#
# This installs into the real /usr and /etc: it refuses to run when a dvpn
# package is already installed, and purges what it installed on any exit.
# One package build (about 2 min on 2 cores; DEB_BUILD_TIMEOUT bounds it).
set -euo pipefail
# shellcheck source=../lib/netlib.sh
. "$DVPN_SOURCE_ROOT/tests/integration/lib/netlib.sh"
netlib_init dvdb

for tool in dpkg-buildpackage dh lintian fakeroot git; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/bootstrap"
done

# installed PKG — dpkg knows PKG in any state but "not installed".
installed() {
  local status
  status=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || return 1
  [ -n "$status" ] && [ "$status" != not-installed ]
}
for pkg in dvpn dvpn-far-end; do
  if installed "$pkg"; then
    fail "package $pkg is already installed ($(dpkg-query -W -f='${Version} ${db:Status-Abbrev}' "$pkg")):" \
      "this test installs and purges the packages and will not touch an existing install; purge it first"
  fi
done
# Purging dvpn deletes the dvpnd account (README.Debian): one made by hand
# (README's meson-install steps) or by another test must not be lost to it.
if getent passwd dvpnd >/dev/null; then
  fail "an account dvpnd exists without a dvpn package: purging the package would delete it; remove it first (userdel dvpnd)"
fi
[ -e /etc/dvpn ] && fail "/etc/dvpn exists without a dvpn package (a meson install?): the purge check needs it absent"

INSTALLED=0
purge_packages() {
  [ "$INSTALLED" = 1 ] || return 0
  INSTALLED=0
  DEBIAN_FRONTEND=noninteractive dpkg --purge dvpn dvpn-far-end >"$NETLIB_DIR/purge.log" 2>&1
}
# On a failure, before netlib's cleanup removes $NETLIB_DIR.
cleanup_install() {
  if [ "$INSTALLED" = 1 ]; then
    _netlib_log "purging dvpn and dvpn-far-end after a failure"
    purge_packages || cat "$NETLIB_DIR/purge.log" >&2
  fi
}
# netlib's handler reads the exit status from $?: hand it on (without
# errexit, which would end the handler at the `(exit 1)`).
trap 'rc=$?; set +e; cleanup_install; (exit "$rc"); _netlib_on_exit' EXIT

S=$NETLIB_DIR/src
NETLIB_FAIL_LOGS=("$NETLIB_DIR/build.log" "$NETLIB_DIR/lintian.log" "$NETLIB_DIR/install.log" "$NETLIB_DIR/purge.log")

step "copy the tracked files and build the packages"
git -C "$DVPN_SOURCE_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
  fail "$DVPN_SOURCE_ROOT is not a git work tree: the copy is made from git ls-files"
mkdir "$S"
# Tracked files plus debian/ as it is in the work tree (so an uncommitted
# packaging change is what gets tested); no build directories.
(cd "$DVPN_SOURCE_ROOT" && { git ls-files -z; find debian -type f -print0; } | sort -zu | tar -cf - --null --ignore-failed-read -T -) |
  tar -xf - -C "$S"
[ -x "$S/debian/rules" ] || fail "no debian/rules in the copy"
start=$SECONDS
# For speed only: no unit tests (the unit suite runs elsewhere), 2 jobs, and
# no debug information or -dbgsym packages (-g is most of the compile time).
(cd "$S" && DEB_BUILD_OPTIONS="nocheck parallel=2 noautodbgsym" DEB_CFLAGS_STRIP=-g DEB_CXXFLAGS_STRIP=-g timeout "${DEB_BUILD_TIMEOUT:-900}" \
  dpkg-buildpackage -us -uc -b >"$NETLIB_DIR/build.log" 2>&1) ||
  fail "dpkg-buildpackage failed or timed out (exit $?)"
version=$(dpkg-parsechangelog -l "$S/debian/changelog" -S Version)
upstream=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$S/meson.build" | head -n1)
[ "${version%-*}" = "$upstream" ] || fail "debian/changelog version $version does not match meson.build's $upstream"
deb_dvpn=$NETLIB_DIR/dvpn_${version}_$(dpkg --print-architecture).deb
deb_far=$NETLIB_DIR/dvpn-far-end_${version}_$(dpkg --print-architecture).deb
for deb in "$deb_dvpn" "$deb_far"; do [ -f "$deb" ] || fail "expected $deb"; done
pass "built $(basename "$deb_dvpn") and $(basename "$deb_far") in $((SECONDS - start)) s"

step "lintian: no error"
changes=("$NETLIB_DIR"/dvpn_"${version}"_*.changes)
# Exit 1: a tag at --fail-on (error) level; 2 and up: lintian itself failed.
lrc=0
lintian --display-info "${changes[0]}" >"$NETLIB_DIR/lintian.log" 2>&1 || lrc=$?
sed 's/^/      /' "$NETLIB_DIR/lintian.log" >&2
if grep -q '^E: ' "$NETLIB_DIR/lintian.log"; then fail "lintian reports errors"; fi
[ "$lrc" -le 1 ] || fail "lintian failed (exit $lrc)"
pass "no E: line ($(grep -c '^W: ' "$NETLIB_DIR/lintian.log" || true) W:, $(grep -c '^I: ' "$NETLIB_DIR/lintian.log" || true) I:)"

step "contents"
dpkg-deb -c "$deb_dvpn" | awk '{print $6}' | sed 's|^\./|/|' >"$NETLIB_DIR/dvpn.contents"
dpkg-deb -c "$deb_far" | awk '{print $6}' | sed 's|^\./|/|' >"$NETLIB_DIR/far.contents"
for f in /usr/sbin/dvpnd /usr/sbin/dvpn-firewall /lib/systemd/system/dvpn.service /etc/dvpn/dvpn.yaml \
  /etc/dvpn/hosts.d/ /usr/share/man/man8/dvpnd.8.gz /usr/share/man/man5/dvpn.yaml.5.gz \
  /usr/share/man/man5/dvpn-hosts.5.gz /usr/share/man/man8/dvpn-firewall.8.gz \
  /usr/share/doc/dvpn/examples/dvpn.yaml /usr/share/doc/dvpn/examples/hosts \
  /usr/share/doc/dvpn/examples/dnsmasq-dvpn.conf /usr/share/doc/dvpn/examples/rc/dvpn.init \
  /usr/share/doc/dvpn/examples/rc/dvpn.openrc /usr/share/doc/dvpn/examples/rc/dvpn.service \
  /usr/share/doc/dvpn/README.Debian; do
  grep -qxF "$f" "$NETLIB_DIR/dvpn.contents" || fail "dvpn has no $f"
done
for f in /usr/sbin/dvpn-jail /usr/libexec/dvpn/dvpn-gate /usr/share/man/man8/dvpn-jail.8.gz \
  /usr/share/doc/dvpn/examples/sshd_config-dvpn; do
  grep -qxF "$f" "$NETLIB_DIR/far.contents" || fail "dvpn-far-end has no $f"
done
if grep -E 'dvpn-jail|dvpn-gate' "$NETLIB_DIR/dvpn.contents"; then fail "dvpn holds far-end files"; fi
if grep -E 'dvpnd|dvpn-firewall|systemd' "$NETLIB_DIR/far.contents"; then fail "dvpn-far-end holds near-end files"; fi
dpkg-deb -f "$deb_dvpn" Depends | grep -q adduser || fail "dvpn does not depend on adduser"
conffiles=$(dpkg-deb --ctrl-tarfile "$deb_dvpn" | tar -xOf - ./conffiles)
[ "$conffiles" = /etc/dvpn/dvpn.yaml ] || fail "dvpn's conffiles: '$conffiles', expected /etc/dvpn/dvpn.yaml"
pass "dvpn: dvpnd, dvpn-firewall, unit, 4 man pages, examples, conffile /etc/dvpn/dvpn.yaml; dvpn-far-end: dvpn-jail, dvpn-gate, dvpn-jail(8)"

step "install both packages"
INSTALLED=1   # from here on, any exit purges
DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y --no-install-recommends "$deb_dvpn" "$deb_far" \
  >"$NETLIB_DIR/install.log" 2>&1 || fail "apt-get install of the two packages failed"
for pkg in dvpn dvpn-far-end; do
  [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg")" = "ii " ] || fail "$pkg is not fully installed"
done
pass "dvpn and dvpn-far-end installed"

step "what the install did"
getent passwd dvpnd >/dev/null || fail "no dvpnd account"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd dvpnd)
[ "$uid" -lt 1000 ] || fail "dvpnd is not a system account (uid $uid)"
info "dvpnd: uid $uid, home $home, shell $shell"
getent group dvpnd >/dev/null || fail "no dvpnd group"
/usr/sbin/dvpnd --version | grep -qx "dvpnd $upstream (.*)" || fail "dvpnd --version is not $upstream: $(/usr/sbin/dvpnd --version)"
/usr/sbin/dvpn-firewall --help >/dev/null || fail "dvpn-firewall --help"
/usr/sbin/dvpn-jail --help >/dev/null || fail "dvpn-jail --help"
[ -x /usr/libexec/dvpn/dvpn-gate ] || fail "no /usr/libexec/dvpn/dvpn-gate"
# Installed but not enabled (systemctl reads the unit files; no systemd needs to run).
[ -f /lib/systemd/system/dvpn.service ] || fail "no /lib/systemd/system/dvpn.service"
if [ -e /etc/systemd/system/multi-user.target.wants/dvpn.service ]; then fail "dvpn.service was enabled"; fi
if command -v systemctl >/dev/null; then
  enabled=$(systemctl is-enabled dvpn.service 2>&1) || true
  [ "$enabled" = disabled ] || fail "systemctl is-enabled dvpn.service: '$enabled', expected disabled"
fi
man -w dvpnd dvpn.yaml dvpn-hosts dvpn-firewall dvpn-jail >/dev/null 2>&1 || fail "man -w cannot find every page"
check_out=$(/usr/sbin/dvpnd --check -c /etc/dvpn/dvpn.yaml 2>&1) || fail "dvpnd --check -c /etc/dvpn/dvpn.yaml: $check_out"
info "dvpnd --check: $check_out"
grep -qx '/etc/dvpn/dvpn.yaml: ok, [0-9]* sites' <<<"$check_out" || fail "--check did not say ok"
# The only note allowed is the missing key (the account exists now).
if grep -v -x -e '/etc/dvpn/dvpn.yaml: ok, [0-9]* sites' -e 'note: identity /etc/dvpn/id_ed25519 does not exist yet (.*)' \
  <<<"$check_out"; then
  fail "--check printed more than the note about the identity"
fi
pass "account dvpnd, programs run, unit not enabled, man pages found, --check passes"

step "purge"
dpkg-query -L dvpn dvpn-far-end | sort -u >"$NETLIB_DIR/files"
# Created after the install, the way an operator would: purge takes them too.
ssh-keygen -q -t ed25519 -N '' -f /etc/dvpn/id_ed25519 -C deb-test 2>/dev/null || touch /etc/dvpn/id_ed25519
echo "10.99.0.1 t #!203.0.113.9" >/etc/dvpn/hosts.d/t.hosts
purge_packages || { cat "$NETLIB_DIR/purge.log" >&2; fail "dpkg --purge failed"; }
for pkg in dvpn dvpn-far-end; do
  if installed "$pkg"; then fail "$pkg still known to dpkg after purge"; fi
done
left=()
while read -r f; do
  [ -n "$f" ] || continue
  # Directories are shared (/usr/sbin, /lib -> usr/lib, ...): the packages' own
  # ones are checked by name below.
  [ -d "$f" ] && continue
  [ -e "$f" ] || [ -L "$f" ] && left+=("$f")
done <"$NETLIB_DIR/files"
[ ${#left[@]} -eq 0 ] || fail "left after purge: ${left[*]}"
for d in /etc/dvpn /usr/share/doc/dvpn /usr/share/doc/dvpn-far-end /usr/libexec/dvpn; do
  if [ -e "$d" ]; then fail "$d is left after purge"; fi
done
if getent passwd dvpnd >/dev/null; then fail "the dvpnd account is left after purge"; fi
if getent group dvpnd >/dev/null; then fail "the dvpnd group is left after purge"; fi
pass "no file of either package, no /etc/dvpn (with the key and hosts.d file added), no dvpnd account"
