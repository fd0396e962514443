#!/usr/bin/env bash
# minima experiment safran-shamir: bad options get one line on stderr and
# exit 1 with nothing on stdout; a small run prints the documented JSON keys,
# and its rows do not depend on --threads.
# Usage: cli_popul.sh MINIMA
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
no() { echo "FAIL: $*"; fail=$((fail + 1)); }

# description | arguments | expected part of the message
cases=(
  "no experiment named|experiment|which experiment"
  "unknown experiment|experiment tables|unknown experiment 'tables'"
  "unknown option|experiment safran-shamir --frobnicate|unknown option '--frobnicate'"
  "k range reversed|experiment safran-shamir --k 9..6|--k '9..6'"
  "k not a number|experiment safran-shamir --k six|--k 'six'"
  "k zero|experiment safran-shamir --k 0|--k '0'"
  "extra negative|experiment safran-shamir --extra -1|--extra '-1'"
  "restarts zero|experiment safran-shamir --restarts 0|--restarts '0'"
  "restarts word|experiment safran-shamir --restarts many|--restarts 'many'"
  "threads zero|experiment safran-shamir --threads 0|--threads '0'"
  "max-iter zero|experiment safran-shamir --max-iter 0|--max-iter '0'"
  "step negative|experiment safran-shamir --step -0.1|--step '-0.1'"
  "negative seed|experiment safran-shamir --seed -3|--seed '-3'"
  "unknown eliminator|experiment safran-shamir --eliminate two|--eliminate 'two'"
  "negative lambda|experiment safran-shamir --eliminate liang --lambda -1|--lambda '-1'"
  "missing value|experiment safran-shamir --restarts|needs a value"
  "flag with a value|experiment safran-shamir --json=1|takes no value"
  "stray argument|experiment safran-shamir extra|unexpected argument 'extra'"
  "eliminator list|experiment safran-shamir --eliminate none,none|--eliminate 'none,none'"
  "db in a missing folder|experiment safran-shamir --k 6 --db /nonexistent/dir/x.db|/nonexistent/dir/x.db"
  "db not a database|experiment safran-shamir --k 6 --db $0|$0"
  "empty db path|experiment safran-shamir --db=|needs a non-empty value"
)
for c in "${cases[@]}"; do
  IFS='|' read -r what args want <<< "$c"
  # shellcheck disable=SC2086
  "$bin" $args > "$tmp/out" 2> "$tmp/err"
  rc=$?
  err=$(cat "$tmp/err")
  good=1
  [ "$rc" = 1 ] || { no "[$what] exit $rc, expected 1"; good=0; }
  [ "$(wc -l < "$tmp/err")" = 1 ] || { no "[$what] stderr is not one line: $err"; good=0; }
  case "$err" in *"$want"*) ;; *) no "[$what] message lacks '$want': $err"; good=0 ;; esac
  case "$err" in *Sanitizer*|*"runtime error"*) no "[$what] sanitizer report"; good=0 ;; esac
  [ -s "$tmp/out" ] && { no "[$what] wrote to stdout"; good=0; }
  [ $good = 1 ] && ok
done

# --help
if "$bin" experiment --help > "$tmp/out" 2>&1 && grep -q "safran-shamir" "$tmp/out"; then ok; else no "--help"; fi

# A small run: one JSON object per row with the documented keys.
if "$bin" experiment safran-shamir --k 7..8 --extra 0,1 --restarts 40 --seed 5 --json --threads 1 \
  > "$tmp/j1" 2> "$tmp/e1"; then ok; else no "json run failed: $(cat "$tmp/e1")"; fi
[ "$(wc -l < "$tmp/j1")" = 4 ] && ok || no "json run: $(wc -l < "$tmp/j1") lines, expected 4"
for key in k n restarts spurious_pct spurious_lo spurious_hi mean_lambda_min mean_loss distinct global_pct \
  saddle_pct degenerate_pct not_converged_pct diverged_pct seconds; do
  if [ "$(grep -c "\"$key\":" "$tmp/j1")" = 4 ]; then ok; else no "key $key missing"; fi
done
grep -q '"k":8,"n":9,"restarts":40,"eliminate":"none"' "$tmp/j1" && ok || no "row k=8 n=9 missing"

# The same rows on two threads (all but the wall time).
"$bin" experiment safran-shamir --k 7..8 --extra 0,1 --restarts 40 --seed 5 --json --threads 2 > "$tmp/j2" 2>&1
if [ "$(sed 's/"seconds":[^}]*//' "$tmp/j1")" = "$(sed 's/"seconds":[^}]*//' "$tmp/j2")" ]; then ok
else no "rows differ between 1 and 2 threads"; fi

# The table: a header, one line per row, the total.
if "$bin" experiment safran-shamir --k 6 --extra 0 --restarts 20 > "$tmp/t" 2>&1 && grep -q "total wall time" "$tmp/t" \
  && [ "$(grep -c '^ *6 *6 *20 ' "$tmp/t")" = 1 ]; then ok; else no "table: $(cat "$tmp/t")"; fi

# Progress: on stderr only when it is a terminal (script(1) gives it one),
# not with --quiet, and stdout the same either way.
"$bin" experiment safran-shamir --k 6 --extra 0,1 --restarts 20 --json > "$tmp/q1" 2> "$tmp/qe"
[ ! -s "$tmp/qe" ] && ok || no "stderr not a terminal, yet: $(cat "$tmp/qe")"
if command -v script > /dev/null; then
  script -qec "\"$bin\" experiment safran-shamir --k 6 --extra 0,1 --restarts 20 --json > $tmp/q2" \
    /dev/null < /dev/null > "$tmp/tty" 2>&1
  if grep -q "rows 2/2, runs 40/40" "$tmp/tty"; then ok; else no "no progress on a terminal: $(cat "$tmp/tty")"; fi
  script -qec "\"$bin\" experiment safran-shamir --k 6 --extra 0,1 --restarts 20 --json --quiet > $tmp/q3" \
    /dev/null < /dev/null > "$tmp/ttyq" 2>&1
  if grep -q "rows" "$tmp/ttyq"; then no "progress despite --quiet: $(cat "$tmp/ttyq")"; else ok; fi
  for f in q2 q3; do
    [ "$(sed 's/"seconds":[^}]*//' "$tmp/q1")" = "$(sed 's/"seconds":[^}]*//' "$tmp/$f")" ] && ok \
      || no "stdout ($f) differs from the run without a terminal"
  done
fi

# The eliminator adds its medians.
if "$bin" experiment safran-shamir --k 6 --extra 0 --restarts 10 --eliminate liang --lambda 0.05 --json \
  > "$tmp/el" 2>&1 && grep -q '"median_abs_a":' "$tmp/el" && grep -q '"median_a_exp_b":' "$tmp/el"; then ok
else no "eliminator: $(cat "$tmp/el")"; fi

# Both eliminator values in one call: the rows without, then with; the one
# without equals a call without the eliminator.
"$bin" experiment safran-shamir --k 6 --extra 0 --restarts 10 --json > "$tmp/j6" 2>&1
if "$bin" experiment safran-shamir --k 6 --extra 0 --restarts 10 --eliminate none,liang --json > "$tmp/el2" 2>&1 \
  && [ "$(grep -c '"eliminate":"liang"' "$tmp/el2")" = 1 ] \
  && [ "$(sed -n 1p "$tmp/el2" | sed 's/"seconds":[^}]*//')" = "$(sed 's/"seconds":[^}]*//' "$tmp/j6")" ]; then ok
else no "--eliminate none,liang: $(cat "$tmp/el2")"; fi

# --db: kill the experiment with SIGKILL at random moments, resume each time,
# then finish; the rows equal those of an uninterrupted run without a
# database (all but the timings and the count of loaded runs).
rows="--k 10..13 --extra 0,1 --restarts 150 --seed 3 --json"
# shellcheck disable=SC2086
"$bin" experiment safran-shamir $rows > "$tmp/ref" 2>&1 || no "reference run: $(cat "$tmp/ref")"
cut_timing() { sed 's/"loaded":.*//' "$1"; }
kills=0
for t in 0.3 0.6 0.9; do
  # shellcheck disable=SC2086
  "$bin" experiment safran-shamir $rows --db "$tmp/ss.db" > "$tmp/part" 2>&1 &
  pid=$!
  sleep "$t"
  kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
  wait "$pid" 2>/dev/null
done
# shellcheck disable=SC2086
if "$bin" experiment safran-shamir $rows --db "$tmp/ss.db" > "$tmp/resumed" 2> "$tmp/err"; then ok
else no "resume failed: $(cat "$tmp/err")"; fi
if [ "$(cut_timing "$tmp/ref")" = "$(cut_timing "$tmp/resumed")" ]; then ok
else no "resumed rows differ from the uninterrupted run (after $kills kills)"; diff <(cut_timing "$tmp/ref") <(cut_timing "$tmp/resumed") | head -4; fi
# A second call loads everything and runs nothing.
# shellcheck disable=SC2086
"$bin" experiment safran-shamir $rows --db "$tmp/ss.db" > "$tmp/again" 2>&1
if [ "$(grep -c '"loaded":150,' "$tmp/again")" = 8 ] && [ "$(cut_timing "$tmp/ref")" = "$(cut_timing "$tmp/again")" ]; then ok
else no "second call with --db: $(head -2 "$tmp/again")"; fi
# More restarts: the stored ones are reused, the rows equal a fresh run's.
"$bin" experiment safran-shamir --k 10..13 --extra 0,1 --restarts 180 --seed 3 --json --db "$tmp/ss.db" > "$tmp/more" 2>&1
"$bin" experiment safran-shamir --k 10..13 --extra 0,1 --restarts 180 --seed 3 --json > "$tmp/more_ref" 2>&1
if [ "$(grep -c '"loaded":150,' "$tmp/more")" = 8 ] && [ "$(cut_timing "$tmp/more")" = "$(cut_timing "$tmp/more_ref")" ]; then ok
else no "more restarts with --db: $(head -1 "$tmp/more")"; fi
# The runs are in the sweep database: summary reads them.
if "$bin" summary "$tmp/ss.db" > "$tmp/sum" 2>&1 && grep -q "experiment=safran-shamir k=13 n=14" "$tmp/sum"; then ok
else no "summary of the experiment's database: $(head -3 "$tmp/sum")"; fi
# ... and tells its distinct spurious minima apart by the population model's
# symmetries: the same counts as the experiment's rows (180 restarts each).
"$bin" summary "$tmp/ss.db" --json > "$tmp/sum.json" 2>&1
want=$(sed -E 's/.*"k":([0-9]+),"n":([0-9]+),.*"distinct":([0-9]+),.*/k=\1 n=\2 \3/' "$tmp/more" | sort)
got=$(/usr/bin/python3 -c '
import json, sys
for s in json.load(open(sys.argv[1]))["settings"]:
    o = dict(kv.split("=", 1) for kv in s["options"].split())
    print("k=%s n=%s %d" % (o["k"], o["n"], s["spurious"]["distinct"]))' "$tmp/sum.json" | sort)
if [ -n "$want" ] && [ "$want" = "$got" ] && ! grep -q ' -1$' <<< "$got"; then ok
else no "summary's distinct minima of popul rows: want [$want], got [$got]"; fi

# --plot: the figure's two files.
if command -v gnuplot > /dev/null; then
  if "$bin" experiment safran-shamir --k 6..7 --extra 0,1 --restarts 10 --plot "$tmp/fig" > "$tmp/p" 2>&1 \
    && [ -s "$tmp/fig.png" ] && grep -q "<svg" "$tmp/fig.svg"; then ok; else no "--plot: $(cat "$tmp/p")"; fi
  # Beside % spurious, how else the runs end: 0% spurious is no cure when most runs diverge.
  for t in "spurious local minimum" "global minimum" "diverged" "not converged"; do
    if grep -q "% of runs[^<]*$t" "$tmp/fig.svg"; then ok; else no "--plot: no panel '$t'"; fi
  done
  # summary --plot of an experiment database: short tick labels (the options
  # that differ, k and n), not the 13 key=value pairs of each setting.
  if "$bin" summary "$tmp/ss.db" --plot "$tmp/sum" > /dev/null 2> "$tmp/sum.err" && grep -q ">k=13<" "$tmp/sum.svg" \
    && grep -q ">n=14<" "$tmp/sum.svg" && ! grep -q "max_iter\|experiment=\|gtol=" "$tmp/sum.svg"; then ok
  else no "summary --plot labels: $(cat "$tmp/sum.err"; grep -o ">[a-z_]*=[^<]*<" "$tmp/sum.svg" | sort -u | head -5)"; fi
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
