#!/usr/bin/env bash
# Other login methods for the jailed user: sshd applies, per keyword, the
# first value that a matching Match block gives, so an earlier drop-in's
# "Match all" (here 10-org.conf, which sorts before dvpn-jail-USER.conf)
# beats our "Match User" block. With TrustedUserCAKeys there, a certificate
# for principal USER logs in without any forced command. `check` must name
# every such setting from sshd's EFFECTIVE configuration for the user, and
# `install` must refuse (exit 1, sshd's files and a newly made account rolled
# back). Hostile settings at top level, which our block overrides, are fine.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dvj_init
step "setup: a user CA, namespaces, sshd with hostile global settings"
ssh-keygen -q -t ed25519 -N '' -C dvj-ca -f "$NETLIB_DIR/ca"
dvj_key certified
ssh-keygen -q -s "$NETLIB_DIR/ca" -I dvj-certified -n "$DVJ_USER" "$NETLIB_DIR/certified.pub"
[ -f "$NETLIB_DIR/certified-cert.pub" ] || fail "ssh-keygen made no certificate"
# Top-level settings: the Match block must override every one of them.
dvj_net "TrustedUserCAKeys $NETLIB_DIR/ca.pub" \
  "HostbasedAuthentication yes" "GSSAPIAuthentication yes" "KerberosAuthentication yes" \
  "AuthorizedPrincipalsFile /etc/ssh/dvj-principals" "GatewayPorts yes" "PermitOpen any"
dvj_install
dvj_key site
dvj_jail authorize "$NETLIB_DIR/site.pub" --site thursday --subnet 10.20.0.0/24
dropin=$DVJ_BASE/sshd_config.d/dvpn-jail-$DVJ_USER.conf
org=$DVJ_BASE/sshd_config.d/10-org.conf
report=$NETLIB_DIR/check.out

configs_sum() { { cat "$DVJ_SSHD_CONFIG" "$dropin" 2>/dev/null || true; } | sha256sum; }
# install_refuses DESC — install exits 1 and leaves sshd's files as they were.
install_refuses() {
  local rc=0 before
  before=$(configs_sum)
  dvj_jail install </dev/null >"$report" 2>&1 || rc=$?
  [ "$rc" = 1 ] || { cat "$report" >&2; fail "$1: install exited $rc, expected 1"; }
  assert_contains "$report" "previous files restored" "install"
  [ "$(configs_sum)" = "$before" ] ||
    fail "$1: install changed sshd's files although it failed"
  pass "$1: install refuses, sshd's files unchanged"
}
reload() {
  local before
  before=$(sshd_listen_count gw 22)
  kill -HUP "$SSHD_PID"
  sshd_wait_relisten gw 22 "$before" || fail "sshd did not come back after HUP"
}
cert_login() { echo | dvj_ssh certified -- "echo cert-shell" >"$NETLIB_DIR/cert.out" 2>&1; }

step "the Match block wins over hostile top-level settings"
dvj_check_passes "fresh install"
! cert_login || { cat "$NETLIB_DIR/cert.out" >&2; fail "a certificate logs in although our block says TrustedUserCAKeys none"; }
pass "a certificate from the globally trusted CA is refused"

step "an earlier drop-in's Match all re-enables certificates and other methods"
# Its principals file (under the account's home, as StrictModes wants) lets
# certificates for principal USER in.
echo "$DVJ_USER" >"$DVJ_BASE/org-principals"
printf 'Match all\n\tTrustedUserCAKeys %s\n\tAuthorizedPrincipalsFile %s\n\tAuthenticationMethods any\n\tHostbasedAuthentication yes\n' \
  "$NETLIB_DIR/ca.pub" "$DVJ_BASE/org-principals" >"$org"
reload
cert_login || { cat "$NETLIB_DIR/cert.out" >&2; fail "the certificate login (the hole this test is about) did not happen"; }
assert_contains "$NETLIB_DIR/cert.out" cert-shell "certificate login"
pass "the hole is real: a certificate for principal $DVJ_USER runs any command, no dvpn-gate"
dvj_check_names "'trustedusercakeys $NETLIB_DIR/ca.pub' to user $DVJ_USER" \
  "'authorizedprincipalsfile $DVJ_BASE/org-principals' to user $DVJ_USER" \
  "'authenticationmethods any' to user $DVJ_USER" \
  "'hostbasedauthentication yes' to user $DVJ_USER"
install_refuses "Match all with a CA, drop-in in place"

step "a fresh install refuses too, and takes its new account back"
dvj_jail remove
cp -p "$DVJ_SSHD_CONFIG" "$NETLIB_DIR/config.before"
install_refuses "Match all with a CA, fresh install"
[ ! -e "$dropin" ] || fail "the refused install left its drop-in"
cmp -s "$NETLIB_DIR/config.before" "$DVJ_SSHD_CONFIG" || fail "the refused install changed sshd_config"
! id "$DVJ_USER" >/dev/null 2>&1 || fail "the refused install left the account $DVJ_USER (which the CA's certificates log in to)"
pass "no drop-in, sshd_config unchanged, no account"
rm "$org"
dvj_install
dvj_jail authorize "$NETLIB_DIR/site.pub" --site thursday --subnet 10.20.0.0/24
dvj_check_passes "org drop-in gone, installed again"

step "each login- or forwarding-relevant setting, overridden by an earlier Match all"
# "KEYWORD VALUE [extra line]" | what check must name
while IFS='|' read -r -u 3 lines want; do
  printf 'Match all\n' >"$org"
  IFS=';' read -r -a settings <<<"$lines"
  printf '\t%s\n' "${settings[@]}" >>"$org"
  dvj_check_names "'$want' to user $DVJ_USER"
  install_refuses "$lines"
done 3<<'EOF'
ForceCommand /bin/sh|forcecommand /bin/sh
AuthenticationMethods publickey password|authenticationmethods publickey password
AuthorizedPrincipalsFile /etc/ssh/dvj-principals|authorizedprincipalsfile /etc/ssh/dvj-principals
AuthorizedPrincipalsCommand /bin/false;AuthorizedPrincipalsCommandUser nobody|authorizedprincipalscommand /bin/false
AuthorizedKeysCommand /bin/false;AuthorizedKeysCommandUser nobody|authorizedkeyscommand /bin/false
GSSAPIAuthentication yes|gssapiauthentication yes
KerberosAuthentication yes|kerberosauthentication yes
PasswordAuthentication yes|passwordauthentication yes
KbdInteractiveAuthentication yes|kbdinteractiveauthentication yes
PermitOpen 10.99.0.2:7001|permitopen 10.99.0.2:7001
GatewayPorts yes|gatewayports yes
ClientAliveInterval 0|clientaliveinterval 0
EOF
rm "$org"
dvj_check_passes "org drop-in gone"

step "a cert-authority line in the keys file"
cp -p "$DVJ_BASE/authorized_keys" "$NETLIB_DIR/keys.good"
echo "cert-authority,restrict,command=\"/bin/dvpn-gate 10.20.0.0/24\" $(cut -d' ' -f1,2 "$NETLIB_DIR/ca.pub") dvj-ca" \
  >>"$DVJ_BASE/authorized_keys"
dvj_check_names "authorized_keys:2 (dvj-ca): option 'cert-authority'"
cp -p "$NETLIB_DIR/keys.good" "$DVJ_BASE/authorized_keys"
dvj_check_passes "keys restored"
