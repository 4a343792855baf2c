# shellcheck shell=bash disable=SC2034 # variables set here are read by the sourcing script
# netlib.sh — a small harness for integration tests in network namespaces.
#
# Source it, call `netlib_init TAG` once, then build namespaces, links, users
# and processes with the functions below. Everything created is recorded in
# $NETLIB_DIR and undone by netlib_cleanup, which runs from an EXIT/INT/TERM
# trap, so a failing or interrupted test leaves nothing behind (except its
# logs, kept on failure for the post-mortem; see netlib_keep_logs).
#
# Rules it enforces: only processes this test started are signalled, each by
# PID (checked against its recorded start time, so a recycled PID is never
# hit), plus whatever still runs inside the test's own namespaces; namespace
# names carry the TAG so suites with different tags never collide, and runs
# with the same TAG wait for each other (a flock on /var/tmp/netlib-TAG.lock).
#
# Requires root; without it netlib_init exits 77 (meson's "skipped").

NETLIB_PREFIX=""
NETLIB_DIR=""
NETLIB_TEST=$(basename "${0:-test}" .sh)
NETLIB_NS=()          # full namespace names, in creation order
NETLIB_PIDS=()        # "PID:STARTTIME" of every spawned process
NETLIB_USERS=()       # system users created by user_add
NETLIB_FAIL_LOGS=()   # logs whose tail is printed when the test fails
NETLIB_CLEANED=0
SPAWNED_PID=""
SSHD_PID=""
SSHD_HOSTKEY_PUB=""

# ---- logging -------------------------------------------------------------------
_netlib_log() { printf '[%(%H:%M:%S)T] %s: %s\n' -1 "$NETLIB_TEST" "$*" >&2; }
step() { _netlib_log "== $*"; }
info() { _netlib_log "   $*"; }
pass() { _netlib_log "PASS $*"; }
# fail "name: why" — report and exit non-zero; the EXIT trap cleans up.
fail() { _netlib_log "FAIL $*"; exit 1; }

# expect_rc WANT DESC CMD... — run CMD, pass if it exits WANT, else fail.
expect_rc() {
  local want=$1 desc=$2 rc=0
  shift 2
  "$@" || rc=$?
  [ "$rc" = "$want" ] || fail "$desc: exit code $rc, expected $want"
  pass "$desc"
}

# ---- setup and teardown ------------------------------------------------------
# netlib_init PREFIX — PREFIX: 1-4 lowercase letters/digits, unique per suite.
netlib_init() {
  local prefix=$1
  [[ $prefix =~ ^[a-z][a-z0-9]{0,3}$ ]] || { echo "netlib_init: bad prefix '$prefix'" >&2; exit 2; }
  if [ "$(id -u)" != 0 ]; then
    echo "netlib: needs root (network namespaces, users, sshd); skipping" >&2
    exit 77
  fi
  NETLIB_PREFIX=$prefix
  _netlib_lock "$prefix"
  NETLIB_DIR=$(mktemp -d "/tmp/netlib-$prefix.XXXXXX")
  chmod 755 "$NETLIB_DIR"   # test users must reach their home and authorized_keys
  trap '_netlib_on_exit' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# One run per prefix at a time, machine-wide: two runs with the same prefix
# would share namespace and user names, and each would take the other's for
# stale leftovers. The lock is an open fd; it goes away with this shell.
# NETLIB_LOCK_WAIT (seconds, default 1500) bounds the wait for the other run.
NETLIB_LOCK_FD=""
_netlib_lock() {
  # Not under /run: what the lock guards (test accounts in /etc/passwd,
  # /var/lib/dvpn-test-*) is machine-wide, and a run under a private /run
  # (scripts/fresh-run) must still wait for a run outside it.
  local lockfile=/var/tmp/netlib-$1.lock
  exec {NETLIB_LOCK_FD}>>"$lockfile"
  if ! flock -n "$NETLIB_LOCK_FD"; then
    _netlib_log "another run with prefix $1 is active; waiting for it ($lockfile)"
    flock -w "${NETLIB_LOCK_WAIT:-1500}" "$NETLIB_LOCK_FD" ||
      { echo "netlib: $lockfile still held after ${NETLIB_LOCK_WAIT:-1500}s" >&2; exit 1; }
  fi
}

# netlib_on_exit_also FN — FN runs at exit after netlib_cleanup (so after
# every process of ours is gone), e.g. to remove an account or a cgroup.
NETLIB_EXIT_HOOKS=()
netlib_on_exit_also() { NETLIB_EXIT_HOOKS+=("$1"); }

_netlib_on_exit() {
  local rc=$? hook
  trap - EXIT INT TERM
  if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
    netlib_dump_fail_logs
    netlib_keep_logs
  fi
  netlib_cleanup
  for hook in "${NETLIB_EXIT_HOOKS[@]}"; do "$hook" || true; done
  exit "$rc"
}

# Prints the tail of every log registered in NETLIB_FAIL_LOGS.
netlib_dump_fail_logs() {
  local f
  for f in "${NETLIB_FAIL_LOGS[@]}"; do
    [ -f "$f" ] || continue
    _netlib_log "---- last lines of $f"
    tail -n "${NETLIB_TAIL_LINES:-40}" "$f" >&2 || true
  done
}

# Copies every *.log of the state dir to a directory that outlives the test.
netlib_keep_logs() {
  [ -n "$NETLIB_DIR" ] && [ -d "$NETLIB_DIR" ] || return 0
  local base=${NETLIB_KEEP_DIR:-${DVPN_BUILD_ROOT:+$DVPN_BUILD_ROOT/meson-logs/integration}}
  base=${base:-/tmp/netlib-logs}
  local dest
  dest=$base/$NETLIB_TEST-$(date +%Y%m%d-%H%M%S)
  mkdir -p "$dest" || return 0
  (cd "$NETLIB_DIR" && find . -type f \( -name '*.log' -o -name '*.yaml' -o -name '*hosts*' \)) 2>/dev/null |
    while read -r f; do mkdir -p "$dest/$(dirname "$f")"; cp "$NETLIB_DIR/$f" "$dest/$f" 2>/dev/null; done
  _netlib_log "logs kept in $dest"
}

# netlib_cleanup — idempotent: stops our processes, deletes namespaces, users and
# the state dir. Safe to call from anywhere, any number of times.
netlib_cleanup() {
  [ "$NETLIB_CLEANED" = 1 ] && return 0
  NETLIB_CLEANED=1
  local errexit=0
  [[ $- == *e* ]] && errexit=1
  set +e
  local entry pids=() ns i
  for entry in "${NETLIB_PIDS[@]}"; do
    _netlib_pid_is "${entry%%:*}" "${entry#*:}" && pids+=("${entry%%:*}")
  done
  netlib_kill_pids "${pids[@]}"
  for ((i = ${#NETLIB_NS[@]} - 1; i >= 0; i--)); do
    _netlib_ns_del "${NETLIB_NS[i]}"
  done
  for entry in "${NETLIB_USERS[@]}"; do _netlib_user_del "$entry"; done
  [ -n "$NETLIB_DIR" ] && [ -d "$NETLIB_DIR" ] && rm -rf "$NETLIB_DIR"
  NETLIB_NS=() NETLIB_PIDS=() NETLIB_USERS=()
  [ "$errexit" = 1 ] && set -e
  return 0
}

# ---- processes ----------------------------------------------------------------
# Start time (clock ticks since boot) of PID, to recognise it later.
_netlib_starttime() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  # shellcheck disable=SC2086 # split /proc/PID/stat fields after the command name
  set -- $s
  echo "${20}"
}
# Is PID alive (not a zombie) and the process started at STARTTIME?
_netlib_pid_is() {
  local pid=$1 start=$2 s
  s=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  [ "$1" != Z ] && [ "${20}" = "$start" ]
}
_netlib_alive() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [ "${s%% *}" != Z ]
}

netlib_record_pid() {
  local start
  start=$(_netlib_starttime "$1") || return 0
  NETLIB_PIDS+=("$1:$start")
}

# netlib_kill_pids PID... — TERM all, wait up to 5 s in total, KILL what is left.
netlib_kill_pids() {
  local pid alive i
  [ $# -gt 0 ] || return 0
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 50); do
    alive=0
    for pid in "$@"; do
      if _netlib_alive "$pid"; then alive=1; break; fi
    done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "$@"; do
    if _netlib_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
  return 0
}

# stop_pid PID — TERM, wait up to 5 s, then KILL. PID must be ours.
stop_pid() {
  [ -n "${1:-}" ] || return 0
  netlib_kill_pids "$1"
}

# wait_pid PID — waits for a spawned PID (must be ours); its exit code in $WAIT_RC.
# (Not usable inside $(...): a subshell cannot wait for its parent's children.)
WAIT_RC=""
wait_pid() {
  WAIT_RC=0
  wait "$1" || WAIT_RC=$?
}

# retry_for SECONDS CMD... — runs CMD every 50 ms until it succeeds (0) or
# SECONDS (may be fractional, e.g. 1.5) have passed (1).
retry_for() {
  local deadline
  deadline=$(($(now_ms) + $(seconds_to_ms "$1")))
  shift
  while :; do
    "$@" && return 0
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# seconds_to_ms S — "1.5" -> 1500, "300" -> 300000 (pure bash: no float overflow).
seconds_to_ms() {
  local sec=${1%%.*} frac=0
  [[ $1 == *.* ]] && frac=${1#*.}
  frac=${frac}000
  echo $((10#${sec:-0} * 1000 + 10#${frac:0:3}))
}

# now_ms — monotonic enough wall clock in milliseconds, for measuring delays.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# descendants PID — every descendant of PID (children first, then theirs).
descendants() {
  local kid
  for kid in $(pgrep -P "$1" 2>/dev/null); do
    echo "$kid"
    descendants "$kid"
  done
}

# spawn NAME LOGFILE CMD... — run CMD in namespace NAME in the background,
# output to LOGFILE; $SPAWNED_PID is CMD's own PID (the subshell execs into it).
# Call it directly (not inside $(...)), so the PID is recorded for cleanup.
spawn() {
  local ns log=$2
  ns=$(ns_name "$1")
  shift 2
  # The child must not inherit the prefix lock (it could outlive this shell).
  (exec {NETLIB_LOCK_FD}>&- ip netns exec "$ns" "$@") >"$log" 2>&1 </dev/null &
  SPAWNED_PID=$!
  netlib_record_pid "$SPAWNED_PID"
}

# ---- namespaces and links -------------------------------------------------------
ns_name() { echo "$NETLIB_PREFIX-$1"; }
ns_exec() {
  local ns
  ns=$(ns_name "$1")
  shift
  ip netns exec "$ns" "$@"
}

# Kills whatever still runs inside namespace FULLNAME, then deletes it.
_netlib_ns_del() {
  local full=$1 pids
  [ -e "/run/netns/$full" ] || return 0
  pids=$(ip netns pids "$full" 2>/dev/null | tr '\n' ' ')
  # shellcheck disable=SC2086
  [ -n "$pids" ] && netlib_kill_pids $pids
  ip netns del "$full" 2>/dev/null || true
}

# ns_add NAME — fresh namespace PREFIX-NAME with lo up (a stale one is removed first).
ns_add() {
  local full
  full=$(ns_name "$1")
  if [ -e "/run/netns/$full" ]; then
    _netlib_log "removing stale namespace $full"
    _netlib_ns_del "$full"
  fi
  ip netns add "$full"
  NETLIB_NS+=("$full")
  ip -n "$full" link set lo up
}

# Adds comma-separated ADDRS (CIDR; IPv6 without DAD) to IF in namespace NAME.
_netlib_addrs() {
  local full ifname=$2 a
  full=$(ns_name "$1")
  local IFS=,
  for a in $3; do
    [ -n "$a" ] || continue
    if [[ $a == *:* ]]; then
      ip -n "$full" -6 addr add "$a" dev "$ifname" nodad
    else
      ip -n "$full" addr add "$a" dev "$ifname"
    fi
  done
}

# link NS1 IF1 ADDRS1 NS2 IF2 ADDRS2 — veth pair between two namespaces, both up.
link() {
  local n1=$1 i1=$2 a1=$3 n2=$4 i2=$5 a2=$6
  if [ ${#i1} -gt 15 ] || [ ${#i2} -gt 15 ]; then fail "link: interface name too long ($i1/$i2)"; fi
  ip link add "$i1" netns "$(ns_name "$n1")" type veth peer name "$i2" netns "$(ns_name "$n2")"
  _netlib_addrs "$n1" "$i1" "$a1"
  _netlib_addrs "$n2" "$i2" "$a2"
  ip -n "$(ns_name "$n1")" link set "$i1" up
  ip -n "$(ns_name "$n2")" link set "$i2" up
}

# wait_port NS PORT [TIMEOUT_S] — until something listens on TCP PORT in NS.
# sshd_listen_count NS PORT — how often that sshd has logged "Server listening"
# (a HUP'd sshd re-executes itself and logs it anew).
sshd_listen_count() { grep -c 'Server listening on 0.0.0.0' "$(sshd_log "$1" "$2")" || true; }

# sshd_wait_relisten NS PORT BEFORE — waits up to 10 s for that sshd to listen
# again after a reload, i.e. for sshd_listen_count to pass BEFORE.
sshd_wait_relisten() {
  local _
  for _ in $(seq 100); do
    [ "$(sshd_listen_count "$1" "$2")" -gt "$3" ] && return 0
    sleep 0.1
  done
  return 1
}

wait_port() {
  local ns=$1 port=$2 timeout=${3:-10} deadline
  deadline=$((SECONDS + timeout))
  while [ "$SECONDS" -le "$deadline" ]; do
    [ -n "$(ns_exec "$ns" ss -ltnH "sport = :$port" 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  return 1
}

# ---- users ----------------------------------------------------------------------
# Retries a command that takes the passwd lock (other suites may hold it briefly).
_netlib_retry() {
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    "$@" && return 0
    sleep 0.5
  done
  return 1
}

_netlib_user_del() {
  id "$1" >/dev/null 2>&1 || return 0
  _netlib_retry userdel -r "$1" >/dev/null 2>&1 || _netlib_log "userdel $1 failed"
}

# user_add NAME — system user with home in $NETLIB_DIR and /bin/sh; key login only.
user_add() {
  local name=$1 home=$NETLIB_DIR/home/$1
  if id "$name" >/dev/null 2>&1; then
    _netlib_log "removing stale user $name"
    _netlib_user_del "$name"
  fi
  mkdir -p "$NETLIB_DIR/home"
  chmod 755 "$NETLIB_DIR/home"
  _netlib_retry useradd --system --create-home --home-dir "$home" --shell /bin/sh "$name" ||
    fail "useradd $name"
  NETLIB_USERS+=("$name")
  # '*': no password but not locked ('!' is refused by sshd with UsePAM no).
  _netlib_retry usermod -p '*' "$name" >/dev/null || fail "usermod $name"
}

# ---- sshd -----------------------------------------------------------------------
_netlib_sshd_dir() { echo "$NETLIB_DIR/sshd-$1-$2"; }

# sshd_start NS PORT USER AUTHORIZED_KEYS_FILE [sshd_config lines...]
# Extra lines come first in the file: for sshd the first value of a keyword
# wins, so they override the defaults below (Match blocks go last anyway).
sshd_start() {
  local ns=$1 port=$2 user=$3 akf=$4 dir line
  shift 4
  dir=$(_netlib_sshd_dir "$ns" "$port")
  mkdir -p "$dir"
  ssh-keygen -q -t ed25519 -N '' -C "netlib-$ns-$port" -f "$dir/hostkey"
  {
    echo "# netlib sshd for $(ns_name "$ns") port $port"
    for line in "$@"; do [[ $line == Match* ]] || echo "$line"; done
    cat <<EOF
Port $port
ListenAddress 0.0.0.0
ListenAddress ::
HostKey $dir/hostkey
PidFile $dir/sshd.pid
AuthorizedKeysFile $akf
AllowUsers $user
StrictModes no
UsePAM no
UseDNS no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org
AllowTcpForwarding yes
MaxSessions 10
PermitTTY no
X11Forwarding no
AllowAgentForwarding no
PrintMotd no
LogLevel VERBOSE
EOF
    for line in "$@"; do [[ $line == Match* ]] && echo "$line"; done
    true
  } >"$dir/sshd_config"
  sshd_privsep_dir
  /usr/sbin/sshd -t -f "$dir/sshd_config" || fail "sshd_start: bad config $dir/sshd_config"
  _netlib_sshd_run "$ns" "$port"
}

# sshd -t and sshd both need /run/sshd; a fresh boot has no such directory
# until something creates it (Debian's ssh init script does, at start).
sshd_privsep_dir() {
  mkdir -p /run/sshd
  chmod 755 /run/sshd
}

# (Re)starts the sshd whose files are in its dir; sets SSHD_PID, SSHD_HOSTKEY_PUB.
_netlib_sshd_run() {
  local ns=$1 port=$2 dir
  dir=$(_netlib_sshd_dir "$ns" "$port")
  sshd_privsep_dir
  spawn "$ns" "$dir/sshd.log" /usr/sbin/sshd -D -e -f "$dir/sshd_config"
  SSHD_PID=$SPAWNED_PID
  echo "$SSHD_PID" >"$dir/pid"
  SSHD_HOSTKEY_PUB=$dir/hostkey.pub
  wait_port "$ns" "$port" 10 || fail "sshd in $ns did not listen on $port (see $dir/sshd.log)"
}

# sshd_pid NS PORT — PID of the listening sshd started by sshd_start.
sshd_pid() { cat "$(_netlib_sshd_dir "$1" "$2")/pid"; }
# sshd_log NS PORT — its log file.
sshd_log() { echo "$(_netlib_sshd_dir "$1" "$2")/sshd.log"; }

# sshd_stop NS PORT — stops the listener only; established sessions live on.
sshd_stop() { stop_pid "$(sshd_pid "$1" "$2")"; }

# sshd_rekey_host NS PORT — new host key, sshd restarted (existing sessions untouched).
sshd_rekey_host() {
  local ns=$1 port=$2 dir
  dir=$(_netlib_sshd_dir "$ns" "$port")
  sshd_stop "$ns" "$port"
  rm -f "$dir/hostkey" "$dir/hostkey.pub"
  ssh-keygen -q -t ed25519 -N '' -C "netlib-$ns-$port-rekeyed" -f "$dir/hostkey"
  _netlib_sshd_run "$ns" "$port"
}
