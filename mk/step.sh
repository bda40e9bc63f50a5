#!/usr/bin/env bash
# Runs one step of `make test` and notes how long it took.
# usage: mk/step.sh NAME COMMAND [ARG...]   run COMMAND, note NAME's time and status
#        mk/step.sh --report                print every noted step and the total
# The notes go to $STEP_LOG (default target/test-steps.tsv). A failed step prints the
# report of the steps so far, so the end of a failed run says where its time went.
set -uo pipefail

log="${STEP_LOG:-target/test-steps.tsv}"

report() {
  [[ -f "$log" ]] || return 0
  echo
  echo "== time of each step (s)"
  awk -F'\t' '{ printf "%-14s %6d  %s\n", $1, $2, $3; total += $2 } END { printf "%-14s %6d\n", "total", total }' "$log"
}

if [[ "${1:-}" == "--report" ]]; then
  report
  exit 0
fi
if [[ $# -lt 2 ]]; then
  echo "usage: mk/step.sh NAME COMMAND [ARG...] | --report" >&2
  exit 2
fi
name="$1"
shift
mkdir -p "$(dirname "$log")"
echo "== step $name: $*"
start=$SECONDS
"$@"
status=$?
took=$((SECONDS - start))
if [[ $status -eq 0 ]]; then
  printf '%s\t%d\tok\n' "$name" "$took" >>"$log"
  echo "== step $name: ok in ${took} s"
else
  printf '%s\t%d\tFAILED (exit %d)\n' "$name" "$took" "$status" >>"$log"
  echo "== step $name: FAILED (exit $status) after ${took} s" >&2
  report >&2
fi
exit $status
