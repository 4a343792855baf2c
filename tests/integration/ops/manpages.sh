#!/bin/bash
# The man pages against the programs: every option that a program's --help
# lists (in its usage lines or its option list) is an entry of the page's
# OPTIONS section, and every entry there is in --help; every key of
# examples/dvpn.yaml is documented in dvpn.yaml(5). Each page renders without
# a single message (mandoc -T lint down to style hints, groff -ww, man -l)
# and has an EXAMPLES section.
set -euo pipefail
# shellcheck source=../lib/netlib.sh
. "$DVPN_SOURCE_ROOT/tests/integration/lib/netlib.sh"
netlib_init dvo

DOC=$DVPN_SOURCE_ROOT/doc

# help_options — reads --help text on stdin, prints its options, one a line:
# every -x/--word of the usage lines (up to the first blank line), and of the
# option column of lines that start with whitespace and a dash (the text up
# to the first run of two spaces; descriptions mentioning other options, or
# other programs' options, do not count).
help_options() {
  awk '
    function grab(text,   rest) {
      rest = text
      while (match(rest, /(^|[^A-Za-z0-9_-])--?[A-Za-z][A-Za-z0-9-]*/)) {
        tok = substr(rest, RSTART, RLENGTH)
        sub(/^[^-]/, "", tok)
        print tok
        rest = substr(rest, RSTART + RLENGTH)
      }
    }
    !seen_blank && /^[[:space:]]*$/ { seen_blank = 1; next }
    !seen_blank { grab($0); next }
    /^[[:space:]]+-/ {
      line = $0
      sub(/^[[:space:]]+/, "", line)
      sub(/  .*/, "", line)
      grab(line)
    }
  ' | sort -u
}

# man_options PAGE — the options that tag the entries of PAGE's OPTIONS
# section (the line after each .TP), as written in the roff source.
man_options() {
  awk '
    /^\.SH / { in_opts = ($0 ~ /^\.SH "?OPTIONS"?$/); next }
    in_opts && /^\.TP/ { tag = 1; next }
    in_opts && tag {
      tag = 0
      line = $0
      gsub(/\\-/, "-", line)
      gsub(/\\f[BIRP]/, "", line)
      while (match(line, /(^|[^A-Za-z0-9_-])--?[A-Za-z][A-Za-z0-9-]*/)) {
        tok = substr(line, RSTART, RLENGTH)
        sub(/^[^-]/, "", tok)
        print tok
        line = substr(line, RSTART + RLENGTH)
      }
    }
  ' "$1" | sort -u
}

# words TEXT — TEXT's lines as one line.
words() { tr '\n' ' ' <<<"$1"; }

# check_options PAGE PROGRAM... — PAGE's OPTIONS against PROGRAM --help.
check_options() {
  local page=$1 help in_help in_man
  shift
  help=$("$@" --help) || fail "$* --help failed"
  in_help=$(help_options <<<"$help")
  in_man=$(man_options "$DOC/$page")
  [ -n "$in_help" ] || fail "$page: found no option in $* --help"
  local missing extra
  missing=$(comm -23 <(printf '%s\n' "$in_help") <(printf '%s\n' "$in_man"))
  extra=$(comm -13 <(printf '%s\n' "$in_help") <(printf '%s\n' "$in_man"))
  [ -z "$missing" ] || fail "$page: in --help but not in OPTIONS: $(words "$missing")"
  [ -z "$extra" ] || fail "$page: in OPTIONS but not in --help: $(words "$extra")"
  pass "$page: the $(wc -l <<<"$in_help") options of --help, no more, no fewer: $(words "$in_help")"
}

step "OPTIONS against --help"
check_options dvpnd.8 "$DVPND"
check_options dvpn-firewall.8 "$DVPN_SOURCE_ROOT/firewall/dvpn-firewall"
check_options dvpn-jail.8 "$DVPN_SOURCE_ROOT/chroot/dvpn-jail"

# The matcher itself: a page that lacks an option, and a help text with an
# extra one, are both told apart.
sed '/^\.BI \\-\\-lookup/,+0s/lookup/lokup/' "$DOC/dvpnd.8" >"$NETLIB_DIR/broken.8"
[ "$(man_options "$NETLIB_DIR/broken.8" | grep -c -- '--lookup')" = 0 ] || fail "man_options self-check"
[ "$(printf 'usage: x [--a]\n\n  -b, --bee   text --not-this\n' | help_options | tr '\n' ' ')" = "--a --bee -b " ] ||
  fail "help_options self-check"
pass "the option extractors see a removed option and ignore mentions in descriptions"

step "dvpn.yaml(5) documents every key of examples/dvpn.yaml"
keys=$(sed -n 's/^[[:space:]]*\([a-z_][a-z0-9_]*\):.*/\1/p' "$DVPN_SOURCE_ROOT/examples/dvpn.yaml" | sort -u)
[ "$(wc -l <<<"$keys")" -ge 20 ] || fail "found only $(wc -l <<<"$keys") keys in examples/dvpn.yaml"
for key in $keys; do
  grep -qE "^\.(B $key:|SS $key\$)" "$DOC/dvpn.yaml.5" || fail "dvpn.yaml.5 does not document '$key'"
done
pass "all $(wc -l <<<"$keys") keys"

step "every page renders without a warning"
command -v mandoc >/dev/null || fail "mandoc missing: scripts/bootstrap installs it"
command -v groff >/dev/null || fail "groff missing: scripts/bootstrap installs groff-base"
for page in dvpnd.8 dvpn.yaml.5 dvpn-hosts.5 dvpn-firewall.8 dvpn-jail.8; do
  f=$DOC/$page
  out=$(mandoc -T lint -W style "$f" 2>&1) || fail "$page: mandoc -T lint: $out"
  [ -z "$out" ] || fail "$page: mandoc -T lint: $out"
  out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$f" 2>&1)
  [ -z "$out" ] || fail "$page: groff -ww: $out"
  out=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$f" 2>&1 >/dev/null)
  [ -z "$out" ] || fail "$page: man -l: $out"
  text=$(MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$f" 2>/dev/null)
  for section in NAME SYNOPSIS DESCRIPTION EXAMPLES "SEE ALSO"; do
    grep -qx "$section" <<<"$text" || fail "$page: no $section section"
  done
  pass "$page: lint-clean, renders, has NAME SYNOPSIS DESCRIPTION EXAMPLES SEE ALSO"
done
