# shellcheck shell=bash
# down.sh — removes everything the demo creates, found by name: the
# namespaces (and every process still running inside them: the demo starts its
# daemons nowhere else), the demo's accounts, files and state directories.
# Used at the end of a run, by `scripts/demo --down` after --keep, and before
# a run, for what a crashed run left. Needs sites.sh and netlib.sh.

DOWN_REMOVED=()   # what demo_down found and removed, for the caller to report

# An account is the demo's if dvpn-jail made it in the demo's directory or the
# demo made it for dvpnd; anything else with the name is left alone.
_down_user_is_ours() {
  local entry home comment
  entry=$(getent passwd "$1") || return 1
  home=$(cut -d: -f6 <<<"$entry")
  comment=$(cut -d: -f5 <<<"$entry")
  [[ $home == "$DEMO_BASE"/* ]] || [ "$comment" = "dvpn demo daemon" ]
}

demo_down() {
  local ns user dir x
  DOWN_REMOVED=()
  for ns in "${DEMO_NAMESPACES[@]}"; do
    [ -e "/run/netns/$ns" ] || continue
    _netlib_ns_del "$ns"
    DOWN_REMOVED+=("namespace $ns")
  done
  for user in "${DEMO_USERS[@]}"; do
    id "$user" >/dev/null 2>&1 || continue
    if _down_user_is_ours "$user"; then
      _netlib_retry userdel "$user" >/dev/null 2>&1 || echo "demo: userdel $user failed" >&2
      DOWN_REMOVED+=("user $user")
    else
      echo "demo: user $user exists but is not the demo's; left alone" >&2
    fi
    if getent group "$user" >/dev/null && ! id "$user" >/dev/null 2>&1; then
      _netlib_retry groupdel "$user" >/dev/null 2>&1 || true
    fi
  done
  for x in "${DEMO_SITES[@]}"; do
    dir=/etc/netns/demo-lan$x
    [ -d "$dir" ] || continue
    rm -f "$dir/resolv.conf"
    rmdir "$dir" 2>/dev/null || true
    DOWN_REMOVED+=("$dir")
  done
  if [ -d "$DEMO_BASE" ]; then
    rm -rf "$DEMO_BASE"
    DOWN_REMOVED+=("$DEMO_BASE")
  fi
  for dir in /tmp/netlib-demo.*; do
    if ! [ -d "$dir" ] || [ "$dir" = "${NETLIB_DIR:-}" ]; then continue; fi
    rm -rf "$dir"
    DOWN_REMOVED+=("$dir")
  done
  return 0
}
