#!/bin/bash
# examples/dnsmasq-dvpn.conf in a real dnsmasq (in a network namespace), on a
# hosts directory that dvpnd reads too: the sites' names resolve to their
# addresses and the `#!` declarations are not taken for names; a site file
# dropped in by atomic rename is answered for within 1 s (as dvpnd routes it),
# and one removed stops being answered for.
set -euo pipefail
# shellcheck source=../lib/netlib.sh
. "$DVPN_SOURCE_ROOT/tests/integration/lib/netlib.sh"
netlib_init dvo

SNIPPET=$DVPN_SOURCE_ROOT/examples/dnsmasq-dvpn.conf
command -v dnsmasq >/dev/null || fail "dnsmasq missing: scripts/bootstrap installs dnsmasq-base"
D=$NETLIB_DIR
HOSTS=$D/hosts.d

step "setup: the snippet pointed at a scratch hosts directory, dnsmasq in a namespace"
grep -qx 'hostsdir=/etc/dvpn/hosts.d' "$SNIPPET" || fail "the snippet has no 'hostsdir=/etc/dvpn/hosts.d' line"
sed "s|^hostsdir=/etc/dvpn/hosts.d\$|hostsdir=$HOSTS|" "$SNIPPET" >"$D/dvpn.conf"
mkdir -p "$HOSTS"
cat >"$HOSTS/sites.hosts" <<'EOF'
# two sites and a plain entry
10.0.3.1	thursday	#!203.0.113.7
10.0.4.1	friday fri	#!dvpn@gw.friday.example:2222 subnet=10.0.4.0/23 mode=direct
10.0.3.20	printer.thursday
EOF
chmod -R a+rX "$HOSTS"
printf 'hosts: [hosts.d]\nssh: {identity: id_ed25519}\nrun_as: ""\n' >"$D/dvpn.yaml"
ssh-keygen -q -t ed25519 -N '' -f "$D/id_ed25519"
ns_add dns
# Everything but the snippet's own lines: where to listen, no upstream, no
# /etc/hosts of this machine, logs to stderr, an unprivileged user.
spawn dns "$D/dnsmasq.log" dnsmasq --keep-in-foreground --log-facility=- --log-queries \
  --conf-file="$D/dvpn.conf" --listen-address=127.0.0.1 --bind-interfaces --port=53 \
  --no-resolv --no-hosts --pid-file= --user=nobody --group=nogroup
NETLIB_FAIL_LOGS+=("$D/dnsmasq.log")
wait_port dns 53 5 || fail "dnsmasq did not start (see its log)"

# resolve NAME — A records for NAME from our dnsmasq, space-separated, or
# "none" (NXDOMAIN, REFUSED: nothing known, no upstream to ask).
resolve() {
  ns_exec dns python3 - "$1" <<'PY'
import random, socket, struct, sys
name = sys.argv[1]
qid = random.randrange(65536)
query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
query += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
query += struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(query, ("127.0.0.1", 53))
reply = s.recv(4096)
answers, pos, found = struct.unpack(">H", reply[6:8])[0], len(query), []
for _ in range(answers):
    if reply[pos] & 0xC0 == 0xC0:
        pos += 2
    else:
        while reply[pos]:
            pos += reply[pos] + 1
        pos += 1
    rtype, _, _, length = struct.unpack(">HHIH", reply[pos:pos + 10])
    pos += 10
    if rtype == 1:
        found.append(socket.inet_ntoa(reply[pos:pos + length]))
    pos += length
print(" ".join(found) if found else "none")
PY
}
# answers NAME WANT — resolve NAME gives WANT.
answers() { [ "$(resolve "$1")" = "$2" ]; }

step "the sites' names"
answers thursday 10.0.3.1 || fail "thursday: got $(resolve thursday)"
answers friday 10.0.4.1 || fail "friday: got $(resolve friday)"
answers fri 10.0.4.1 || fail "fri: got $(resolve fri)"
answers printer.thursday 10.0.3.20 || fail "printer.thursday: got $(resolve printer.thursday)"
grep -q "read $HOSTS/sites.hosts - 4 names" "$D/dnsmasq.log" ||
  fail "dnsmasq did not read exactly the 4 names (a '#!' part taken for a name?): $(grep 'read ' "$D/dnsmasq.log")"
out=$("$DVPND" -c "$D/dvpn.yaml" --check 2>&1) || fail "dvpnd --check on the same directory: $out"
[[ $out == *"ok, 2 sites"* ]] || fail "dvpnd --check: $out"
pass "thursday, friday, fri, printer.thursday answered; dnsmasq read 4 names, dvpnd 2 sites, from one file"

step "a site dropped in by atomic rename"
answers saturday none || fail "saturday known before it was added"
printf '10.0.5.1\tsaturday\t#!198.51.100.9\n' >"$HOSTS/.saturday.tmp"
chmod a+r "$HOSTS/.saturday.tmp"
t0=$(now_ms)
mv "$HOSTS/.saturday.tmp" "$HOSTS/saturday.hosts"
retry_for 1 answers saturday 10.0.5.1 || fail "saturday not answered within 1 s: $(resolve saturday)"
pass "saturday answered $(($(now_ms) - t0)) ms after the rename"
"$DVPND" -c "$D/dvpn.yaml" --lookup 10.0.5.7:80 | grep -q "site saturday" || fail "dvpnd does not route saturday"
pass "and dvpnd routes 10.0.5.7 to site saturday"

step "a site removed"
rm "$HOSTS/saturday.hosts"
retry_for 1 answers saturday none || fail "saturday still answered 1 s after its file was removed"
answers thursday 10.0.3.1 || fail "thursday lost: $(resolve thursday)"
pass "saturday no longer answered; thursday still is"
