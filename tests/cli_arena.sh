#!/usr/bin/env bash
# minima experiment arena --quick: the table's structure, invariants that
# must hold whatever the numbers (classes add up to 100%, zero training
# error at least as often as a global certificate for the hinge and
# logistic rows), the per-output neuron on iris, the logistic and squared
# rows, Du & Lee's transition (L-BFGS reaches zero loss more often at k >=
# sqrt(2n) than at k < sqrt(2n) / 2), Nguyen & Hein's (L-BFGS at width N
# classifies every training point), the JSON lines, resume, the heat map,
# and bad options (one line on stderr, exit 1, nothing on stdout).
# Usage: cli_arena.sh MINIMA
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
A=("$bin" experiment arena)
py=/usr/bin/python3

"${A[@]}" --quick --threads 2 --db q.db --restarts 4 --plot fig > q.out 2> q.err
check "quick: exit 0" test $? = 0
check "quick: 107 settings x 4 restarts run" grep -q "107 settings x 4 restarts: 428 runs done now, 0 already stored" q.err
check "header" grep -qE '^data +defence +opt +runs +0-err +global +spur\. +sad/deg +diverg +n-conv +med it +us/it$' q.out
R='^(separable|xor|iris|quad-n20-d6)[: ]'
rows=$(grep -cE "$R" q.out)
check "107 setting rows (got $rows)" test "$rows" = 107
check "every row has 12 fields" awk -v r="$R" '$0 ~ r && NF != 12 { bad = 1 } END { exit bad }' q.out
for d in separable xor iris; do
  n=liang; [ $d = iris ] && n=per-out # iris: one -1/+1 output per class, one neuron each
  for x in none softplus "$n\\(0\\.01\\)" "$n\\(0\\.1\\)" "$n\\(1\\)" "$n\\(10\\)" 'width=N/4' 'width=N'; do
    for o in gd lbfgs; do grep -qE "^$d +$x +$o " q.out || no "row $d $x $o missing"; done
  done
  grep -qE "^$d +pgd +pgd " q.out || no "row $d pgd missing"
done
for d in separable:logistic separable:squared xor:logistic xor:squared; do
  for x in none softplus 'liang\(0\.01\)' 'liang\(10\)'; do
    for o in gd lbfgs; do grep -qE "^$d +$x +$o " q.out || no "row $d $x $o missing"; done
  done
done
check "no breast_cancer or wine in --quick" test "$(grep -cE 'breast_cancer|wine' q.out)" = 0
check "classes add up to 100%" awk -v r="$R" '$0 ~ r {
    s = $6 + $7 + $8 + $9 + $10; if (s < 99.7 || s > 100.3) bad = 1
    for (i = 5; i <= 10; i++) if ($i != "-" && ($i < 0 || $i > 100)) bad = 1 } END { exit bad }' q.out
check "hinge and logistic rows: 0-err >= global" \
  awk '/^(separable|xor|iris)(:logistic)? / && $5 + 0.05 < $6 { bad = 1 } END { exit bad }' q.out
check "cost per iteration reported" awk -v r="$R" '$0 ~ r && ($12 == "-" || $12 <= 0) { bad = 1 } END { exit bad }' q.out
check "legend" grep -q 'judged on the network with the defence removed' q.out
check "heat map drawn" test -s fig.png -a -s fig.svg

# Du & Lee: sqrt(2n) = 6.32 for n = 20; k = 2, 4, 7, 14. L-BFGS reaches zero
# loss (certified global) more often at k >= sqrt(2n) than at k = 2, and in
# most runs there.
g() { awk -v k="$1" '$1 == "quad-n20-d6" && $2 == "quad(k=" k ")" && $3 == "lbfgs" { print $6 }' q.out; }
check "Du & Lee: the k rows exist" test -n "$(g 2)" -a -n "$(g 7)" -a -n "$(g 14)"
check "Du & Lee: success rises across sqrt(2n) ($(g 2) -> $(g 7), $(g 14))" \
  awk -v a="$(g 2)" -v b="$(g 7)" -v c="$(g 14)" 'BEGIN { exit !(b > a && c > a && b >= 50 && c >= 50) }'

# Nguyen & Hein: with L-BFGS a layer as wide as the N samples classifies
# every training point on the three data sets (the base width does not on iris)
w() { awk -v d="$1" -v x="$2" '$1 == d && $2 == x && $3 == "lbfgs" { print $5 }' q.out; }
for d in separable xor iris; do
  check "Nguyen & Hein: $d width=N, L-BFGS: 100% zero error ($(w $d width=N))" test "$(w $d width=N)" = 100.0
done
check "iris: the base width does worse ($(w iris none))" awk -v a="$(w iris none)" 'BEGIN { exit !(a < 100) }'

# resume: nothing new; --json: one object per setting with the rate fields
"${A[@]}" --quick --threads 1 --db q.db --restarts 4 --json > q.json 2> q2.err
check "resume: nothing run" grep -q "0 runs done now, 428 already stored" q2.err
check "json: 107 lines" test "$(wc -l < q.json)" = 107
check "json: fields and rates in [0, 1]" "$py" -c '
import json, sys
for line in open("q.json"):
    r = json.loads(line)
    for k in ("data", "family", "defence", "optimizer", "options", "runs", "zero_error", "global", "diverged"):
        assert k in r, k
    assert 0 <= r["global"] <= 1 and r["runs"] == 4
    if r["data"] == "iris" and r["family"] == "per-output":
        assert "eliminate=per-output" in r["options"], r
'
# the same table in a fresh database with one thread (runs are seeded by setting and restart)
"${A[@]}" --quick --threads 1 --db q2.db --restarts 4 > q3.out 2> /dev/null
strip() { awk -v r="$R" '$0 ~ r { $12 = ""; print }' "$1"; } # timings aside
check "a fresh database: the same table" diff <(strip q.out) <(strip q3.out)

# bad options: one line on stderr, exit 1, nothing on stdout
bad() {
  local what=$1; shift
  "${A[@]}" "$@" > b.out 2> b.err
  local rc=$?
  check "$what: exit 1" test "$rc" = 1
  check "$what: one line" test "$(wc -l < b.err)" = 1
  check "$what: nothing on stdout" test ! -s b.out
}
bad "unknown option" --quick --frobnicate 1
bad "restarts 0" --quick --restarts 0
bad "empty plot prefix" --quick --plot ""
bad "a run option" --quick --lr 0.1

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
