#!/bin/bash
# The OpenRC script (examples/rc/dvpn.openrc, as meson configured it), without
# OpenRC: parsed by sh, its variables read and its functions run against
# stubs of openrc-run's helpers. Pins what OpenRC acts on: the command and its
# arguments, backgrounding with a pid file, the stop schedule, `need net`,
# and that start_pre and reload run `dvpnd --check` and that reload sends
# SIGHUP only when the check passes.
set -euo pipefail
# shellcheck source=../lib/netlib.sh
. "$DVPN_SOURCE_ROOT/tests/integration/lib/netlib.sh"
netlib_init dvo

SCRIPT=$DVPN_BUILD_ROOT/examples/rc/dvpn.openrc
[ -f "$SCRIPT" ] || fail "no configured OpenRC script at $SCRIPT"
D=$NETLIB_DIR

step "syntax and interpreter"
sh -n "$SCRIPT" || fail "sh -n"
[ "$(head -n 1 "$SCRIPT")" = "#!/sbin/openrc-run" ] || fail "first line is not #!/sbin/openrc-run"
pass "POSIX sh syntax, #!/sbin/openrc-run"

# A good and a broken configuration for dvpnd --check.
ssh-keygen -q -t ed25519 -N '' -f "$D/id_ed25519"
: >"$D/sites.hosts"
printf 'hosts: [sites.hosts]\nssh: {identity: id_ed25519}\nrun_as: ""\n' >"$D/good.yaml"
printf 'no_such_key: 1\n' >"$D/bad.yaml"

# OpenRC's start-stop-daemon, stubbed: it records how it was called.
mkdir -p "$D/stub"
printf '#!/bin/sh\necho "start-stop-daemon $*" >>"%s"\n' "$D/ssd.calls" >"$D/stub/start-stop-daemon"
chmod +x "$D/stub/start-stop-daemon"

# orc CONFIG SNIPPET — sources the script in sh (dash) with openrc-run's
# helpers stubbed, the command pointed at the built dvpnd, then runs SNIPPET.
orc() {
  PATH=$D/stub:$PATH DVPN_CONFIG=$1 RC_SVCNAME=dvpn SCRIPT=$SCRIPT DVPND=$DVPND SNIPPET=$2 sh -c '
    ebegin() { :; }
    eend() { return "${1:-0}"; }
    eerror() { echo "eerror: $*" >&2; }
    einfo() { :; }
    need() { echo "need $*"; }
    use() { echo "use $*"; }
    after() { echo "after $*"; }
    . "$SCRIPT"
    configured_command=$command
    command=$DVPND
    eval "$SNIPPET"'
}

step "what OpenRC reads"
# shellcheck disable=SC2016 # expanded by the sh that sourced the script
vars=$(orc "$D/good.yaml" 'printf "%s\n" "command=$configured_command" "command_args=$command_args" \
  "command_background=$command_background" "pidfile=$pidfile" "retry=$retry" \
  "extra_started_commands=$extra_started_commands" "output_log=$output_log"')
info "$(tr '\n' ' ' <<<"$vars")"
for want in "command=$(sed -n 's/^DAEMON=//p' "$DVPN_BUILD_ROOT/examples/rc/dvpn.init")" \
  "command_args=-c $D/good.yaml " "command_background=yes" "pidfile=/run/dvpn.pid" \
  "retry=TERM/30/KILL/5" "extra_started_commands=reload" "output_log=/var/log/dvpnd.log"; do
  grep -qxF -- "$want" <<<"$vars" || fail "expected '$want'"
done
deps=$(orc "$D/good.yaml" depend)
grep -qx "need net" <<<"$deps" || fail "depend: no 'need net' in: $deps"
pass "command as in the sysvinit script, backgrounded, pid file, TERM/30/KILL/5, reload, need net"

step "start_pre and reload check the configuration"
expect_rc 0 "start_pre with a good config" orc "$D/good.yaml" start_pre
expect_rc 1 "start_pre with a broken config" orc "$D/bad.yaml" start_pre
: >"$D/ssd.calls"
expect_rc 1 "reload with a broken config fails" orc "$D/bad.yaml" reload
[ ! -s "$D/ssd.calls" ] || fail "reload signalled despite a broken config: $(cat "$D/ssd.calls")"
expect_rc 0 "reload with a good config" orc "$D/good.yaml" reload
grep -qx "start-stop-daemon --signal HUP --pidfile /run/dvpn.pid" "$D/ssd.calls" ||
  fail "reload: expected start-stop-daemon --signal HUP --pidfile /run/dvpn.pid, got: $(cat "$D/ssd.calls")"
pass "reload sends SIGHUP by pid file only after dvpnd --check passed"
