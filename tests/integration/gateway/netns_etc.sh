# shellcheck shell=bash
# netns_etc.sh — per-namespace /etc files for the gateway tests that need a
# resolver or a hosts file of their own. `ip netns exec NS` bind-mounts every
# file of /etc/netns/NS/ over its /etc namesake, so whatever runs in the
# namespace afterwards (dvpnd, getent) sees them. Source after topology.sh;
# the directory is removed at exit (the names carry the test's prefix, so
# other runs never see it). netns_dns_up adds a DNS server whose answers the
# test changes at run time.

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

# netns_dns_up SERVER_NS ADDR CLIENT_NS — a DNS server of the test's own: a
# dnsmasq in SERVER_NS on ADDR answering only from the files netns_dns_set
# writes (no upstream, not this machine's /etc/hosts), with TTL 0, as
# dnsmasq gives local names; CLIENT_NS resolves through it (its resolv.conf,
# so start the processes that must use it afterwards).
netns_dns_up() {
  NETNS_DNS_DIR=$GW_DIR/dns.d
  mkdir -p "$NETNS_DNS_DIR"
  NETLIB_FAIL_LOGS+=("$GW_DIR/dnsmasq.log")
  spawn "$1" "$GW_DIR/dnsmasq.log" dnsmasq --keep-in-foreground --log-facility=- --log-queries \
    --conf-file=/dev/null --pid-file= --no-resolv --no-hosts \
    --listen-address="$2" --bind-interfaces --hostsdir="$NETNS_DNS_DIR"
  wait_port "$1" 53 10 || fail "dnsmasq in $1 did not start"
  netns_etc "$3" resolv.conf "nameserver $2
options timeout:1 attempts:2"
}

# netns_dns_set NAME ADDR — NAME's one address from now on. dnsmasq rereads a
# changed file of its hostsdir on its own (inotify): written aside, renamed in.
netns_dns_set() {
  printf '%s\t%s\n' "$2" "$1" >"$GW_DIR/dns-$1.tmp"
  mv "$GW_DIR/dns-$1.tmp" "$NETNS_DNS_DIR/$1"
}

# netns_resolves NS NAME ADDR — NAME resolves (getaddrinfo, as dvpnd does) to ADDR alone in NS.
netns_resolves() {
  [ "$(ns_exec "$1" getent ahosts "$2" | awk '$2 == "STREAM" {print $1}' | paste -sd' ')" = "$3" ]
}
