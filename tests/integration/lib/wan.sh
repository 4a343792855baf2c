# shellcheck shell=bash disable=SC2034 # WAN_* variables are read by the sourcing script
# wan.sh — a WAN link between two namespaces through dvpn-delayline
# (tests/wan/delayline.cpp): one-way delay, random loss, rate limit with a
# bounded queue, and a blackhole switch, changeable while traffic runs.
# The kernel here has no netem; this is the stand-in. Source it after
# netlib.sh (integration tests and bench/ alike); the delay line is a process
# netlib registers, so its cleanup stops it and its TUN devices vanish.
#
#   wan_link NS_A NS_B ADDRS_A ADDRS_B [--dev-a IF] [--dev-b IF] [--name N]
#            [--delay-ms D] [--loss-pct L] [--rate-mbit R] [--queue-kib Q]
#            [--lifetime S] [any other dvpn-delayline option]
#       ADDRS: comma-separated CIDRs, as netlib's link takes them. D is the
#       one-way delay in each direction (RTT = 2 x D). Devices default to
#       wan0 on both sides; the link's name (for wan_set) to NS_A-NS_B.
#   wan_set NAME [link options...]   new settings (the ones given; the rest
#       are wan_link's), in effect when it returns
#   wan_blackhole NAME on|off         drop everything / resume; in effect on return
#   wan_stat NAME KEY                 a counter of its status file (ab.lost, ba.out, ...)
#   wan_stop NAME                     stops it (its devices go with it)
# The delay line comes from DVPN_DELAYLINE, else $DVPN_BUILD_ROOT/tests/wan/.

declare -A WAN_PID=() WAN_DIR=() WAN_LOG=()
WAN_LIFETIME_S=${WAN_LIFETIME_S:-1800}

wan_delayline() {
  local exe=${DVPN_DELAYLINE:-${DVPN_BUILD_ROOT:+$DVPN_BUILD_ROOT/tests/wan/dvpn-delayline}}
  [ -x "${exe:-/nonexistent}" ] ||
    fail "dvpn-delayline not found (${exe:-set DVPN_DELAYLINE or DVPN_BUILD_ROOT}); build it: meson compile -C BUILD dvpn-delayline"
  echo "$exe"
}

wan_link() {
  [ $# -ge 4 ] || fail "wan_link NS_A NS_B ADDRS_A ADDRS_B [options]"
  local na=$1 nb=$2 aa=$3 ab=$4 dev_a=wan0 dev_b=wan0 name="$1-$2" exe
  shift 4
  local opts=()
  while [ $# -gt 0 ]; do
    case $1 in
      --dev-a) dev_a=$2; shift 2 ;;
      --dev-b) dev_b=$2; shift 2 ;;
      --name) name=$2; shift 2 ;;
      --*) [ $# -ge 2 ] || fail "wan_link: $1 needs a value"; opts+=("$1" "$2"); shift 2 ;;
      *) fail "wan_link: unexpected argument '$1'" ;;
    esac
  done
  [ -z "${WAN_PID[$name]:-}" ] || fail "wan_link: a link named $name exists"
  exe=$(wan_delayline)
  local dir=$NETLIB_DIR/wan-$name
  mkdir -p "$dir"
  : >"$dir/control"
  WAN_DIR[$name]=$dir
  WAN_LOG[$name]=$dir/delayline.log
  NETLIB_FAIL_LOGS+=("$dir/delayline.log")
  # Spawned in NS_A only so netlib's per-namespace sweep also finds it; it
  # enters each namespace itself to create the devices there.
  spawn "$na" "$dir/delayline.log" "$exe" --ns-a "$(ns_name "$na")" --dev-a "$dev_a" \
    --ns-b "$(ns_name "$nb")" --dev-b "$dev_b" --lifetime "$WAN_LIFETIME_S" \
    --control "$dir/control" --status "$dir/status" "${opts[@]}"
  WAN_PID[$name]=$SPAWNED_PID
  retry_for 5 test -f "$dir/status" ||
    fail "dvpn-delayline $name did not start: $(tail -3 "$dir/delayline.log" 2>/dev/null)"
  _netlib_addrs "$na" "$dev_a" "$aa"
  _netlib_addrs "$nb" "$dev_b" "$ab"
  ip -n "$(ns_name "$na")" link set "$dev_a" up
  ip -n "$(ns_name "$nb")" link set "$dev_b" up
}

# The status file's value for KEY.
wan_stat() { awk -v k="$2" '$1 == k { print $2 }' "${WAN_DIR[$1]}/status"; }

_wan_changed_since() { [ "$(wan_stat "$1" changes)" -gt "$2" ]; }

# Sends SIG and waits until the delay line has written its status after it.
_wan_signal() {
  local name=$1 sig=$2 before
  [ -n "${WAN_PID[$name]:-}" ] || fail "wan: no link named $name"
  before=$(wan_stat "$name" changes)
  kill "-$sig" "${WAN_PID[$name]}"
  retry_for 5 _wan_changed_since "$name" "$before" || fail "wan: $name did not take SIG$sig"
}

wan_set() {
  local name=$1
  shift
  printf '%s\n' "$*" >"${WAN_DIR[$name]}/control.tmp"
  mv "${WAN_DIR[$name]}/control.tmp" "${WAN_DIR[$name]}/control"
  _wan_signal "$name" HUP
  [ "$(wan_stat "$name" control)" = ok ] ||
    fail "wan_set $name $*: $(awk '$1 == "control"' "${WAN_DIR[$name]}/status")"
}

wan_blackhole() {
  case $2 in
    on) _wan_signal "$1" USR1 ;;
    off) _wan_signal "$1" USR2 ;;
    *) fail "wan_blackhole NAME on|off" ;;
  esac
}

wan_stop() {
  stop_pid "${WAN_PID[$1]}"
  unset "WAN_PID[$1]"
}
