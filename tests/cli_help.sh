#!/usr/bin/env bash
# Help lists, output formats and progress a newcomer relies on: every
# experiment the dispatcher knows (a cmd_experiment_* entry point in
# src/cli/cli.h) is listed by `minima --help` and `minima experiment --help`
# and answers its own --help; `sweep --json` prints the summary as JSON, the
# same object `summary --json` prints for the database it wrote; `train`
# draws a progress line on stderr when it is a terminal (script(1) gives it
# one), not with --quiet nor into a file, and stdout is the same either way.
# Usage: cli_help.sh MINIMA
set -u
bin=$1
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }

"$bin" --help > "$tmp/top" 2>&1
check "minima --help exits 0" '[ $? = 0 ]'
"$bin" experiment --help > "$tmp/exp" 2>&1
check "minima experiment --help exits 0" '[ $? = 0 ]'
# The entry points the dispatcher can call, from the header that declares them.
names=$(sed -n 's/^int cmd_experiment_\([a-z_]*\)(.*/\1/p' "$src/src/cli/cli.h" | tr _ -)
check "the header declares experiments" '[ "$(wc -w <<< "$names")" -ge 4 ]'
for e in $names; do
  check "minima --help lists $e" 'grep -qE "^  $e " "$tmp/top"'
  check "minima experiment --help lists $e" 'grep -qE "^  $e " "$tmp/exp"'
done
# Every listed experiment runs its own help (the list comes from the dispatcher's table).
listed=$(sed -n '/^experiments:/,$p' "$tmp/exp" | awk 'NR > 1 && NF {print $1}')
check "the list is not empty" '[ -n "$listed" ]'
for e in $listed; do
  "$bin" experiment "$e" --help > "$tmp/h" 2>&1
  check "experiment $e --help exits 0" '[ $? = 0 ] && grep -q "usage: minima experiment $e" "$tmp/h"'
done
"$bin" experiment nosuch > "$tmp/o" 2> "$tmp/e"
check "an unknown experiment names every known one" '[ $? = 1 ] && for e in $names; do grep -q "$e" "$tmp/e" || exit 1; done'

# sweep --json: one JSON object, equal to summary --json of its database.
"$bin" sweep --generate xor --n 40 --steps 300 --restarts 3 --grid lr=0.05,0.1 --threads 1 --db "$tmp/s.db" --json \
  > "$tmp/sweep.json" 2> "$tmp/sweep.err"
check "sweep --json exits 0" '[ $? = 0 ]'
"$bin" summary "$tmp/s.db" --json > "$tmp/summary.json"
check "sweep --json prints the summary as JSON" '/usr/bin/python3 -c "
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
drop = lambda d: [{k: v for k, v in s.items() if k != \"mean_seconds\"} for s in d[\"settings\"]]
assert len(a[\"settings\"]) == 2 and drop(a) == drop(b)
" "$tmp/sweep.json" "$tmp/summary.json"'

# train's progress line.
args=(train --steps 40000 --gtol 0 --seed 3)
"$bin" "${args[@]}" > "$tmp/plain.json" 2> "$tmp/plain.err"
check "train into files: no progress on stderr" '[ $? = 0 ] && [ ! -s "$tmp/plain.err" ]'
q() { printf "%q " "$@"; }
script -qec "$(q "$bin" "${args[@]}") > $(q "$tmp/tty.json")" /dev/null > "$tmp/tty.err" 2>&1
check "train on a terminal exits 0" '[ $? = 0 ]'
check "train on a terminal draws progress" 'grep -q "train: step [0-9]*/40000 ([0-9]*%), loss" "$tmp/tty.err"'
check "the progress line ends at the last step" 'tr "\r" "\n" < "$tmp/tty.err" | grep "train: step" | tail -n1 | grep -q "step 40000/40000 (100%)"'
check "stdout is the same with progress" 'cmp -s "$tmp/plain.json" "$tmp/tty.json"'
script -qec "$(q "$bin" "${args[@]}" --quiet) > $(q "$tmp/quiet.json")" /dev/null > "$tmp/quiet.err" 2>&1
check "--quiet: no progress on a terminal" '! grep -q "train: step" "$tmp/quiet.err" && cmp -s "$tmp/plain.json" "$tmp/quiet.json"'

echo "cli_help: $pass passed, $fail failed"
[ "$fail" = 0 ]
