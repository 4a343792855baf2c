# shellcheck shell=bash
# steps.sh — what scripts/demo shows once the network is up (sites.sh): each
# step explains itself, runs real commands and ends with "[ok] N: ..." or
# stops the demo with "[FAILED]".

A_DIR=$DEMO_BASE/a
D_DIR=$DEMO_BASE/d

steps_intro() {
  say "${UI_B}dvpn demo: four sites joined by dvpnd, in network namespaces on this machine${UI_N}" \
    "" \
    "dvpnd runs on a site's gateway. The gateway's firewall hands it every TCP" \
    "connection a LAN host opens to another site; dvpnd carries the connection" \
    "inside an SSH session to that site's gateway, where a jailed login connects" \
    "to the destination. LAN hosts need no VPN software: only the gateway as router." \
    "One site sits behind NAT, where nothing can reach it: it is reached through" \
    "a relay that runs nothing but OpenSSH." \
    ""
}

steps_network() {
  local x
  blank
  for x in "${DEMO_SITES[@]}"; do
    printf '  site %s   LAN %s.0/24, host demo-lan%s %s.10   gateway demo-gw%s, ' \
      "${x^^}" "$(demo_lan "$x")" "$x" "$(demo_lan "$x")" "$x"
    if demo_behind_nat "$x"; then
      printf 'behind NAT router demo-nat%s (%s)\n' "$x" "$(demo_wan "$x")"
    else
      printf 'internet address %s\n' "$(demo_wan "$x")"
    fi
  done
  printf '  relay    demo-relay, internet address %s: OpenSSH and a dvpn-jail account only\n' "$DEMO_RELAY_WAN"
  say "  The gateways meet on a switch in namespace demo-wan, standing in for the internet." \
    "" \
    "  Each gateway runs dvpnd; dvpn-firewall's rules (LAN TCP to 10.0.0.0/8 goes to" \
    "  dvpnd); dnsmasq (names from the hosts map); and a private sshd with the" \
    "  jailed account made by dvpn-jail, which the other gateways' dvpnd log in to." \
    "  Each LAN host runs a web server whose page names its site. No gateway has a" \
    "  route to another site's LAN: only dvpnd gets there."
}

# ---- dvpnd's log -------------------------------------------------------------------
declare -A LOG_MARK=()
LOG_LINES=""

# log_mark X — later log_show X prints only what gateway X's dvpnd logs from now on.
log_mark() { LOG_MARK[$1]=$(wc -l <"$(demo_dir "$1")/dvpnd.log"); }

# log_show X REGEX [COUNT] — waits up to 3 s for COUNT (default 1) new lines of
# gateway X's dvpnd log that match REGEX (grep -E), prints them; in LOG_LINES.
log_show() {
  local x=$1 re=$2 count=${3:-1} f
  f=$(demo_dir "$x")/dvpnd.log
  for _ in $(seq 30); do
    LOG_LINES=$(tail -n +"$((LOG_MARK[$x] + 1))" "$f" | grep -E -- "$re" || true)
    [ "$(grep -c . <<<"$LOG_LINES")" -ge "$count" ] && break
    sleep 0.1
  done
  blank
  say "  dvpnd on gateway ${x^^} logged:"
  [ -z "$LOG_LINES" ] || printf '    %s\n' "${LOG_LINES//$'\n'/$'\n'    }"
}

# succeeded_with TEXT... — the last `show` exited 0 and printed every TEXT.
succeeded_with() {
  local text
  [ "$SHOW_RC" = 0 ] || return 1
  for text in "$@"; do [[ $SHOW_OUT == *"$text"* ]] || return 1; done
}

curl_lana() { echo "ip netns exec demo-lana curl -sS -m 10 $1"; }

# ---- the steps ---------------------------------------------------------------------
step_by_name() {
  heading "1. A host in site A fetches a web page from site B, by name"
  say "Gateway A's hosts map, in /etc/hosts syntax. dnsmasq on the gateway answers" \
    "the LAN's DNS queries from it; dvpnd reads its #! lines: \"site B's /24 is" \
    "reached over SSH as demo-dvpn-b at 203.0.113.2\"."
  show "cat $A_DIR/hosts.d/vpn.hosts"
  blank
  say "The LAN host's DNS server is gateway A (/etc/netns/demo-lana/resolv.conf):"
  show "ip netns exec demo-lana getent hosts www.siteb"
  succeeded_with 10.2.0.10 || broken "www.siteb did not resolve to 10.2.0.10 through gateway A's dnsmasq"
  blank
  say "Plain HTTP. Gateway A's firewall redirects the connection to dvpnd, which" \
    "opens a channel in its SSH session to gateway B; there the jailed login" \
    "connects to the web server:"
  log_mark a
  show "$(curl_lana http://www.siteb/)"
  succeeded_with "site B" || broken "site A could not fetch site B's page"
  log_show a 'conn .*-> 10\.2\.0\.10:80 '
  say "  (client -> destination, site, bytes up and down, duration, how it ended)"
  ok 1 "site A fetched site B's page by name, through dvpnd and SSH"
}

step_add_site() {
  local line
  line="$(demo_lan c).1 sitec #!$(demo_jail_user c)@$(demo_wan c)"
  heading "2. Site C joins while everything runs"
  say "Gateway A has no #! line for site C yet. www.sitec has a name, but dvpnd" \
    "knows no gateway for 10.3.0.10 and answers with a TCP reset at once (curl" \
    "calls it a failed connect or a reset, whichever it sees first):"
  log_mark a
  show "$(curl_lana http://www.sitec/)"
  [ "$SHOW_RC" != 0 ] || broken "site C was reachable before it was added"
  log_show a '10\.3\.0\.10'
  blank
  say "Add site C: one line, dropped into the hosts directory as a new file." \
    "dvpnd watches the directory and reloads by itself; nothing is restarted:"
  log_mark a
  show "echo '$line' > $A_DIR/hosts.d/sitec.hosts"
  [ "$SHOW_RC" = 0 ] || broken "could not write the hosts line"
  show "sleep 1"
  show "$(curl_lana http://www.sitec/)"
  succeeded_with "site C" || broken "site C was not reachable a second after it was added"
  log_show a 'hosts reloaded|conn .*-> 10\.3\.0\.10:80 ' 2
  ok 2 "site C added with one hosts line, reached a second later"
}

step_status() {
  heading "3. The status view"
  say "dvpnd --status asks the running dvpnd over its control socket. Per far" \
    "gateway: SSH sessions, open channels, connections, bytes each way, failures" \
    "and the last error (--json for scripts):"
  show "ip netns exec demo-gwa $DVPND_SHOWN --status -c $A_DIR/dvpn.yaml"
  succeeded_with "@$(demo_wan b):22" "@$(demo_wan c):22" || broken "the status view does not list gateways B and C"
  ok 3 "the status view lists gateways B and C with their traffic"
}

step_reset() {
  heading "4. A closed port: reset at once"
  say "Nothing listens on port 81 of site B's web server. Gateway B's netcat is" \
    "refused; dvpnd hears it over SSH and resets the client's connection right" \
    "away, so the client neither hangs nor waits for a timeout:"
  log_mark a
  show "$(curl_lana http://www.siteb:81/)"
  show_time "reset"
  if [ "$SHOW_RC" != 56 ] || [[ $SHOW_OUT != *"reset by peer"* ]]; then
    broken "expected curl's 'Connection reset by peer' (exit 56), got exit $SHOW_RC"
  fi
  [ "$SHOW_MS" -lt 3000 ] || broken "the reset took ${SHOW_MS} ms"
  log_show a 'conn .*-> 10\.2\.0\.10:81 '
  ok 4 "a refused destination was reset in ${SHOW_MS} ms"
}

# ssh_gwa HOST — gateway A's attempt to log in to site D's account at HOST
# (no prompt whatever happens; 3 s to connect).
ssh_gwa() { echo "ip netns exec demo-gwa ssh -F none -o BatchMode=yes -o ConnectTimeout=3 $(demo_jail_user d)@$1 true"; }

# The lines of an sshd log that say who logged in from where.
LOGINS_RE="'Accepted publickey for [^ ]* from [^ ]*'"

step_nat_closed() {
  heading "5. Site D sits behind NAT: nothing gets in"
  say "Gateway D's uplink has a private address, $DEMO_NAT_INSIDE.2. Its router, demo-natd," \
    "sends what D opens out masqueraded as $(demo_wan d), and forwards from the" \
    "internet only the replies: no port forward, like a home router or a" \
    "carrier's NAT."
  show "ip netns exec demo-natd iptables -t nat -S POSTROUTING"
  succeeded_with "-o wan0 -j MASQUERADE" || broken "demo-natd does not masquerade"
  show "ip netns exec demo-natd iptables -S FORWARD"
  succeeded_with "-P FORWARD DROP" "--ctstate RELATED,ESTABLISHED -j ACCEPT" || broken "demo-natd forwards more than replies"
  blank
  say "So no connection to site D can be opened from outside. Gateway A tries to log" \
    "in to gateway D's sshd at the router's address (the router drops it: no" \
    "answer) and at D's own address (no route to it on the internet):"
  show "$(ssh_gwa "$(demo_wan d)")"
  show_time "gave up"
  if [ "$SHOW_RC" = 0 ] || [[ $SHOW_OUT != *"Connection timed out"* ]]; then
    broken "expected ssh's 'Connection timed out' from $(demo_wan d), got exit $SHOW_RC"
  fi
  show "$(ssh_gwa "$DEMO_NAT_INSIDE.2")"
  if [ "$SHOW_RC" = 0 ] || [[ $SHOW_OUT != *"Network is unreachable"* ]]; then
    broken "expected ssh's 'Network is unreachable' for $DEMO_NAT_INSIDE.2, got exit $SHOW_RC"
  fi
  ok 5 "no connection from outside reaches site D's gateway"
}

step_nat_relay() {
  local status
  heading "6. Site D, reached through a relay"
  say "Gateway D dials out instead. The relay demo-relay ($DEMO_RELAY_WAN) runs only" \
    "OpenSSH with an account made by dvpn-jail install --relay; its authorize-relay" \
    "lets D's key listen on port $DEMO_RELAY_PORT of the relay's loopback, and the other" \
    "gateways' keys dial that port, nothing else. D's dvpnd keeps a session to it" \
    "and connects what arrives on that port to D's own sshd (relay_listen):"
  show "grep -A3 '^relay_listen:' $D_DIR/dvpn.yaml"
  status="relay_listen $(demo_jail_user relay)@$DEMO_RELAY_WAN:22 port $DEMO_RELAY_PORT -> 127.0.0.1:22  up"
  show "ip netns exec demo-gwd $DVPND_SHOWN --status -c $D_DIR/dvpn.yaml | grep relay_listen"
  succeeded_with "$status" || broken "gateway D's status does not show its relay_listen up"
  blank
  say "The other gateways reach site D by a path through the relay (RELAY>GATEWAY):" \
    "an SSH session to the relay, and inside it one to D's sshd as the relay sees" \
    "it, 127.0.0.1:$DEMO_RELAY_PORT. The relay carries only ciphertext."
  show "grep sited $A_DIR/hosts.d/vpn.hosts"
  show "ip netns exec demo-gwa $DVPND_SHOWN --lookup $(demo_lan d).10:80 -c $A_DIR/dvpn.yaml"
  succeeded_with "via $(demo_jail_user relay)@$DEMO_RELAY_WAN:22" || broken "dvpnd --lookup on gateway A shows no path through the relay"
  blank
  say "The same curl as for site B:"
  log_mark a
  show "$(curl_lana http://www.sited/)"
  succeeded_with "site D" || broken "site A could not fetch site D's page through the relay"
  log_show a 'conn .*-> 10\.4\.0\.10:80 '
  blank
  say "Who logged in where: the relay saw D arrive from its router's address and A" \
    "from its own; D's sshd saw A's session arrive on its loopback, from D's dvpnd:"
  show "grep -o $LOGINS_RE $(sshd_log relay 22)"
  succeeded_with "from $(demo_wan d)" "from $(demo_wan a)" || broken "the relay's sshd log lacks D's or A's login"
  show "grep -o $LOGINS_RE $(sshd_log gwd 22)"
  succeeded_with "$(demo_jail_user d) from 127.0.0.1" || broken "gateway D's sshd saw no login on its loopback"
  [[ $SHOW_OUT != *"from $DEMO_WAN_NET."* ]] || broken "gateway D's sshd saw a login from the internet"
  ok 6 "site A fetched site D's page through the relay; D's sshd saw it on its loopback"
}

step_health() {
  local x re relayed
  heading "7. Every site at a glance"
  say "dvpnd --status once more, at the end. It leads with one line per site:" \
    "up (a ready SSH session: the path, the SSH connection's round-trip time," \
    "the site's open connections, since when), down (the last attempt failed:" \
    "the error and how long ago) or idle (no session needed yet; gateway A's own" \
    "site A is never dialled). Site D's session runs inside a channel to the relay," \
    "with no TCP connection of its own whose round-trip time the kernel could" \
    "measure: rtt -. The relay has a pool of its own below, one channel per session:"
  show "ip netns exec demo-gwa $DVPND_SHOWN --status -c $A_DIR/dvpn.yaml"
  [ "$SHOW_RC" = 0 ] || broken "dvpnd --status failed"
  for x in b c d; do
    re="(^|"$'\n'")site$x +up +[^ ]+ +rtt "
    [[ $SHOW_OUT =~ $re ]] || broken "the status view does not show site ${x^^} up"
  done
  relayed="$(demo_jail_user relay)@$DEMO_RELAY_WAN:22>$(demo_jail_user d)@127.0.0.1:$DEMO_RELAY_PORT"
  [[ $SHOW_OUT =~ sited\ +up\ +"$relayed"\ +rtt ]] || broken "the status view does not show site D up through the relay"
  ok 7 "the status view shows sites B, C and D up, D through the relay"
}

steps_keep_info() {
  heading "The network stays up (--keep)"
  say "A shell in a namespace sees that machine's network (and, for the LAN hosts," \
    "gateway DNS):" \
    "    ip netns exec demo-lana bash      LAN hosts: demo-lana demo-lanb demo-lanc demo-land" \
    "    ip netns exec demo-gwa bash       gateways:  demo-gwa demo-gwb demo-gwc demo-gwd" \
    "                                      site D's NAT router demo-natd, the relay demo-relay" \
    "Try:" \
    "    ip netns exec demo-lanc curl http://www.sitea/" \
    "    ip netns exec demo-lanb curl http://www.sited/     (through the relay)" \
    "    ip netns exec demo-land curl http://www.sitea/     (out through D's NAT)" \
    "    ip netns exec demo-gwa $DVPND_SHOWN --status -c $A_DIR/dvpn.yaml" \
    "    ip netns exec demo-gwd $DVPND_SHOWN --status -c $D_DIR/dvpn.yaml" \
    "    tail -f $DEMO_BASE/{a,b,c,d}/dvpnd.log" \
    "Files of gateway X (config, hosts.d, keys, logs, jail): $DEMO_BASE/X/;" \
    "the relay's jail and keys: $DEMO_BASE/relay/far/" \
    "Tear it all down:" \
    "    sudo scripts/demo --down"
}
