# shellcheck shell=bash
# netns_etc.sh — per-namespace /etc files for the gateway tests that need a
# resolver or a hosts file of their own. `ip netns exec NS` bind-mounts every
# file of /etc/netns/NS/ over its /etc namesake, so whatever runs in the
# namespace afterwards (dvpnd, getent) sees them. Source after topology.sh;
# the directory is removed at exit (the names carry the test's prefix, so
# other runs never see it).

# netns_etc NS FILE TEXT — /etc/FILE as seen in namespace NS (written before
# the processes that must see it start).
netns_etc() {
  local dir
  dir=/etc/netns/$(ns_name "$1")
  if [ -z "${NETNS_ETC_DIRS[$dir]:-}" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    NETNS_ETC_DIRS[$dir]=1
  fi
  printf '%s\n' "$3" >"$dir/$2"
}

declare -A NETNS_ETC_DIRS=()
_netns_etc_cleanup() {
  local dir
  for dir in "${!NETNS_ETC_DIRS[@]}"; do rm -rf "$dir"; done
  rmdir /etc/netns 2>/dev/null || true
}
netlib_on_exit_also _netns_etc_cleanup
