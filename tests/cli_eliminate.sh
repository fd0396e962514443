#!/usr/bin/env bash
# minima experiment eliminate --quick: the table's structure, invariants that
# must hold whatever the numbers (classes add up to 100%, no neuron columns
# without a neuron, zero error at least as often as global for the margin
# losses; logistic + liang on separable data: at the default lambda 10 the
# neuron is switched off and every run global, at lambda 0.01 (a sweep) it
# drifts with |a| falling and b growing), the JSON lines, resume, figures,
# CSV data, and bad options (one line on stderr, exit 1, nothing on stdout).
# Usage: cli_eliminate.sh MINIMA
# shellcheck disable=SC2016 # awk programs in single quotes
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
no() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok; else no "$what"; fi; }
E=("$bin" experiment eliminate)
if ! "${E[@]}" --help > /dev/null 2>&1; then
  echo "FAIL: 'minima experiment eliminate' is not dispatched (cmd_experiment_eliminate, src/cli/cmd_eliminate.c)"
  exit 1
fi

"${E[@]}" --quick --threads 2 --db q.db > q.out 2> q.err
check "quick: exit 0" test $? = 0
check "quick: 120 settings x 3 restarts run" grep -q "120 settings x 3 restarts: 360 runs done now, 0 already stored" q.err
check "header" grep -qE '^data +loss +defence +runs +global +best +0-err +spur\. +spur\.bf +sad/deg +diverg +n-conv +med\|a\| +med\|a\|e\^b +med b +med it +med ms +us/it$' q.out
rows=$(grep -cE '^(separable|xor|spirals|teacher)' q.out)
check "120 setting rows (got $rows)" test "$rows" = 120
check "every row has 18 fields" awk '/^(separable|xor|spirals|teacher)/ && NF != 18 { bad = 1 } END { exit bad }' q.out
for d in separable xor spirals teacher; do
  for f in "" '\+flip0\.1'; do
    for l in poly_hinge logistic squared; do
      for x in none liang softplus wider pgd; do
        grep -qE "^$d$f +$l +$x " q.out || no "row $d$f $l $x missing"
      done
    done
  done
done
check "no per-output rows for one-output data" test "$(grep -c ' per-output ' q.out)" = 0
# the classes add up to 100%; percentages within [0, 100]
check "classes add up to 100%" awk '/^(separable|xor|spirals|teacher)/ {
    s = $5 + $6 + $8 + $9 + $10 + $11 + $12; if (s < 99.7 || s > 100.3) bad = 1
    for (i = 5; i <= 12; i++) if ($i != "-" && ($i < 0 || $i > 100)) bad = 1 } END { exit bad }' q.out
# added-neuron medians only where there is an added neuron
check "no neuron columns without a neuron" awk '/^(separable|xor|spirals|teacher)/ && $3 != "liang" && ($13 != "-" || $14 != "-" || $15 != "-") { bad = 1 } END { exit bad }' q.out
check "neuron columns with a neuron" awk '/^(separable|xor|spirals|teacher)/ && $3 == "liang" && $13 == "-" { bad = 1 } END { exit bad }' q.out
# zero training error is at least as common as a global certificate (margin losses)
check "0-err >= global" awk '/^(separable|xor|spirals|teacher)/ && $2 != "squared" && $7 + 0.05 < $5 { bad = 1 } END { exit bad }' q.out
# logistic + liang on separable data at the default lambda (10): the
# penalty holds a near 0, no run drifts, every run is global
line=$(grep -E '^separable +logistic +liang ' q.out)
check "logistic+liang+separable: no diverged run ($(echo "$line" | awk '{print $11}')%)" test "$(echo "$line" | awk '{print $11}')" = 0.0
check "logistic+liang+separable: every run global" test "$(echo "$line" | awk '{print $5}')" = 100.0
check "logistic+liang+separable: |a| < 1e-3" awk -v a="$(echo "$line" | awk '{print $13}')" 'BEGIN { exit !(a < 1e-3) }'
check "logistic+none+separable: global runs" awk -v g="$(grep -E '^separable +logistic +none ' q.out | awk '{print $5}')" 'BEGIN { exit !(g > 0) }'
# at lambda 0.01 (the default before issue 11) it drifts: reported diverged,
# the reason stored, |a| falling and b growing between half-way and the end
"$bin" sweep --generate separable --n 100 --arch 2-4-1 --loss logistic --eliminate liang --lambda 0.01 --steps 3000 \
  --zero-error --restarts 3 --threads 2 --db drift.db > /dev/null 2>&1
"$bin" export drift.db > q.csv
drifts=$(grep -o 'drifts to infinity: [^"]*' q.csv)
check "drift reasons stored" test -n "$drifts"
check "drift: |a| falls, the largest exponent grows" awk -F'[ ,]+' '{
    for (i = 1; i <= NF; i++) {
      if ($i == "|a|" && $(i + 2) == "->") { a0 = $(i + 1); a1 = $(i + 3) }
      if ($i == "w.x_i+b" && $(i + 2) == "->") { b0 = $(i + 1); b1 = $(i + 3) }
    }
    if (!(a1 < a0 && b1 > b0)) bad = 1; n++ } END { exit bad || n == 0 }' <<< "$drifts"
check "legend" grep -q '^(% of runs: global = certified global' q.out

# resume: nothing new; --json: one object per setting
"${E[@]}" --quick --threads 1 --db q.db --json > q.json 2> q2.err
check "resume: nothing run" grep -q "0 runs done now, 360 already stored" q2.err
check "json: 120 lines" test "$(wc -l < q.json)" = 120
check "json: one object per line" awk '!/^\{"data":".*\}$/ { bad = 1 } END { exit bad }' q.json
check "json: fields" grep -q '"loss":"logistic","defence":"liang","options":"arch=2-4-1 eliminate=liang generate=separable lambda=10 loss=logistic lr=0.1 n=100 steps=3000 zero-error=on"' q.json
check "json: realizable flag" grep -q '^{"data":"xor+flip0.1","realizable":false,' q.json
if command -v python3 > /dev/null; then
  check "json: valid, fractions add up" python3 -c '
import json, sys
for line in open("q.json"):
    o = json.loads(line)
    s = (o["global"] + o["best_found"] + o["spurious"] + o["spurious_vs_best_found"] + o["saddle_or_degenerate"]
         + o["diverged"] + o["not_converged"])
    assert abs(s - 1) < 1e-12, o
    assert o["runs"] == 3
'
fi

# figures
if command -v gnuplot > /dev/null; then
  "${E[@]}" --quick --threads 2 --db q.db --plot fig > /dev/null 2> plot.err
  check "plot: exit 0" test $? = 0
  check "plot: a PNG" test "$(head -c 4 fig.png | tail -c 3)" = PNG
  check "plot: an SVG" grep -q '<svg' fig.svg
  # a table, not 120 sideways bars: % global, % diverged and % not converged
  # per (data, loss) row and defence column, every cell printed
  for t in "certified global" "diverged" "not converged at the step cap"; do
    check "plot: panel '$t'" grep -q "% of runs $t<" fig.svg
  done
  check "plot: row and column names" sh -c 'grep -q ">xor, poly_hinge<" fig.svg && grep -q ">softplus<" fig.svg'
  w=$(/usr/bin/python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print(struct.unpack(">I", d[16:20])[0])' fig.png)
  check "plot: at most 2000 px wide ($w)" test "$w" -le 2000
fi

# CSV data: one label column (no per-output), then two (per-output appears)
{
  echo "x1,x2,y,z"
  for i in $(seq 0 39); do
    x1=$(awk -v i="$i" 'BEGIN { printf "%.3f", sin(i * 1.7) }')
    x2=$(awk -v i="$i" 'BEGIN { printf "%.3f", cos(i * 2.3) }')
    y=$(awk -v a="$x1" -v b="$x2" 'BEGIN { print (a + 0.5 * b > 0) ? 1 : -1 }')
    z=$(awk -v a="$x1" 'BEGIN { print (a > 0.2) ? 1 : -1 }')
    echo "$x1,$x2,$y,$z"
  done
} > d.csv
"${E[@]}" --quick --restarts 1 --threads 2 --data d.csv --label y --db c.db > c.out 2> c.err
check "csv: exit 0" test $? = 0
check "csv: 30 settings" test "$(grep -c '^csv' c.out)" = 30
check "csv: flipped variant" grep -qE '^csv\+flip0.1 +poly_hinge +liang ' c.out
"${E[@]}" --quick --restarts 1 --threads 2 --data d.csv --label y,z --db c2.db > c2.out 2> c2.err
check "csv, two outputs: per-output rows" test "$(grep -c ' per-output ' c2.out)" = 6
check "csv, two outputs: no liang rows" test "$(grep -c ' liang ' c2.out)" = 0

# bad options: one line on stderr, exit 1, nothing on stdout
bad() {
  local what=$1; shift
  "${E[@]}" "$@" > bad.out 2> bad.err
  local rc=$?
  if [ "$rc" = 1 ] && [ ! -s bad.out ] && [ "$(wc -l < bad.err)" = 1 ] && grep -q '^minima experiment eliminate: ' bad.err; then
    ok
  else
    no "bad option ($what): rc=$rc, stderr: $(cat bad.err)"
  fi
}
bad "unknown option" --bogus
bad "restarts 0" --restarts 0
bad "restarts not a number" --restarts x
bad "threads not a number" --threads two
bad "missing value" --db
bad "value to a flag" --quick=yes
bad "stray argument" extra
bad "data without label" --data d.csv
bad "label without data" --label y
bad "missing file" --data absent.csv --label y --db bad.db
printf 'x,y\n1,0.5\n2,1.5\n3,2.5\n' > r.csv
bad "regression labels" --data r.csv --label y --db bad.db
bad "unwritable db" --quick --restarts 1 --db /nonexistent/dir/x.db
check "--help: exit 0" "${E[@]}" --help > /dev/null

# --flip, a data option of every command
"$bin" train --generate xor --n 40 --steps 10 --flip 0.25 > flip.out 2> flip.err
check "--flip: train runs" test $? = 0
for args in "--flip 1.5" "--flip x" "--generate teacher --loss squared --flip 0.1"; do
  # shellcheck disable=SC2086
  "$bin" train --n 40 --steps 10 $args > flip.out 2> flip.err
  rc=$?
  if [ "$rc" = 1 ] && [ ! -s flip.out ] && [ "$(wc -l < flip.err)" = 1 ]; then ok; else no "train $args: rc=$rc $(cat flip.err)"; fi
done
check "--flip: the reason" grep -q 'labels must be -1 or +1' flip.err

echo "cli_eliminate: $pass passed, $fail failed"
test "$fail" = 0
