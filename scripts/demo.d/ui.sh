# shellcheck shell=bash disable=SC2034 # SHOW_*: read by the caller
# ui.sh — what scripts/demo prints: headings, explanations, commands with their
# real output, and the "[ok]" marker that ends each step (the demo test greps it).

UI_B="" UI_D="" UI_G="" UI_R="" UI_N=""
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  UI_B=$'\e[1m' UI_D=$'\e[2m' UI_G=$'\e[32m' UI_R=$'\e[31m' UI_N=$'\e[0m'
fi

# heading TEXT — a step's title.
heading() { printf '\n%s== %s%s\n\n' "$UI_B" "$1" "$UI_N"; }

# say TEXT... — explanation; each argument is one line.
say() { printf '%s\n' "$@"; }

# blank — an empty line.
blank() { echo; }

# SHOW_RC, SHOW_OUT, SHOW_MS: exit code, output and duration of the last `show`.
SHOW_RC=0 SHOW_OUT="" SHOW_MS=0

# show CMD — prints "$ CMD", runs exactly that text, prints its output (stdout
# and stderr) indented. Never fails itself: the caller checks SHOW_RC/SHOW_OUT.
show() {
  local start
  printf '  %s$ %s%s\n' "$UI_B" "$1" "$UI_N"
  start=$(now_ms)
  SHOW_RC=0
  SHOW_OUT=$(eval "$1" 2>&1) || SHOW_RC=$?
  SHOW_MS=$(($(now_ms) - start))
  [ -z "$SHOW_OUT" ] || printf '%s\n' "$SHOW_OUT" | sed 's/^/    /'
}

# show_time WHAT — "(WHAT after 48 ms)" for the last `show`.
show_time() { printf '    %s(%s after %d ms)%s\n' "$UI_D" "$1" "$SHOW_MS" "$UI_N"; }

# ok N TEXT — the success marker of step N.
ok() { printf '\n  %s[ok] %s: %s%s\n' "$UI_G" "$1" "$2" "$UI_N"; }

# broken TEXT... — a step did not do what it shows; the demo stops.
broken() {
  printf '\n  %s[FAILED] %s%s\n' "$UI_R" "$1" "$UI_N"
  shift
  [ $# -eq 0 ] || printf '  %s\n' "$@"
  exit 1
}
