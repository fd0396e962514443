#!/usr/bin/env bash
# minima regions rank|genuine, experiment karhadkar|liu and --dataset:
# counts that add up, results independent of the thread count, Liu's test on
# converged points (a minimum inside an open cell is that cell's
# least-squares minimum and genuine; the cell of a point on a wall is not
# attained), figures written, real data usable by train.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
key() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<< "$2" | head -1; }
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t * (1 + (b < 0 ? -b : b))) }'; }
nosec() { sed 's/"seconds":[^,}]*//g' <<< "$1"; }

# rank: one line per width, counts consistent, same answer on 1 and 2 threads
r1=$("$bin" regions rank --d0 2 --n 30 --width 10,20,40 --trials 40 --lp-trials 5 --threads 1)
r2=$("$bin" regions rank --d0 2 --n 30 --width 10,20,40 --trials 40 --lp-trials 5 --threads 2)
check "rank prints one line per width" '[ "$(wc -l <<< "$r1")" = 3 ]'
check "rank does not depend on the thread count" '[ "$(nosec "$r1")" = "$(nosec "$r2")" ]'
l=$(sed -n 3p <<< "$r1")
check "rank fraction = full_rank / trials" 'close "$(key full_rank_fraction "$l")" "$(awk -v a="$(key full_rank "$l")" "BEGIN{print a/40}")" 1e-12'
check "rank fraction grows with width" \
  'awk -v a="$(key full_rank "$(sed -n 1p <<< "$r1")")" -v b="$(key full_rank "$l")" "BEGIN{exit !(a < b)}"'
check "zero-loss LP counts at most its trials" '[ "$(key zero_loss "$l")" -le 5 ]'
r3=$("$bin" regions rank --d0 2 --n 30 --width 40 --trials 40 --seed 2)
check "another seed, other regions" '[ "$(key full_rank "$r3")" != "" ]'

# genuine: converged XOR 2-2-1 points (L-BFGS + Newton polish)
for s in 1 4; do
  "$bin" train --generate xor --n 40 --arch 2-2-1 --loss squared --optimizer lbfgs --steps 5000 --polish \
    --seed $s --save-params "$tmp/p$s" > "$tmp/train$s"
  g=$("$bin" regions genuine --generate xor --n 40 --arch 2-2-1 --params "$tmp/p$s")
  t=$(cat "$tmp/train$s")
  if [ "$(key status "$t")" = converged ] && awk -v a="$(key wall_angle "$g")" 'BEGIN{exit !(a > 1e-6)}'; then
    check "seed $s: a converged interior point is its cell's minimum" 'close "$(key cell_loss "$g")" "$(key point_loss "$g")" 1e-9'
    check "seed $s: ... and genuine" '[ "$(key genuine "$g")" = true ]'
  else
    echo "FAIL: seed $s did not converge to an interior point: $t $g"; fail=$((fail + 1))
  fi
done
# a point at initialisation is not a minimum: its loss exceeds its cell's
g=$("$bin" regions genuine --generate xor --n 40 --arch 2-8-1 --seed 3)
check "at initialisation the cell minimum is lower" 'awk -v a="$(key cell_loss "$g")" -v b="$(key point_loss "$g")" "BEGIN{exit !(a < b)}"'

# karhadkar: a small grid, both kinds of figure
"$bin" experiment karhadkar --d0 1,3 --ratio 0.5 --n 10..30 --width 10..30 --trials 20 --lp-trials 4 \
  --threads 2 --plot "$tmp/kh" > "$tmp/kh.txt"
rc=$?
check "karhadkar exits 0" '[ $rc = 0 ]'
check "karhadkar prints every cell" '[ "$(grep -c "^d0 \|^ratio " "$tmp/kh.txt")" = 27 ]'
if command -v gnuplot > /dev/null; then
  for f in kh-d0.png kh-d0.svg kh-ratio.png kh-ratio.svg kh-d0-lp.png kh-ratio-lp.svg; do
    check "figure $f written" '[ -s "$tmp/$f" ]'
  done
fi
j=$("$bin" experiment karhadkar --grid d0 --d0 2 --n 20 --width 10 --trials 30 --json)
k=$("$bin" regions rank --d0 2 --n 20 --width 10 --trials 30)
check "karhadkar and regions rank agree on a cell" '[ "$(key full_rank "$j")" = "$(key full_rank "$k")" ]'
check "karhadkar runs the zero-loss LP by default, on 10 regions per cell" '[ "$(key lp_trials "$j")" = 10 ] && [ -n "$(key zero_loss "$j")" ]'
j=$("$bin" experiment karhadkar --grid d0 --d0 2 --n 20 --width 10 --trials 4 --json)
check "karhadkar: at most --trials LP regions by default" '[ "$(key lp_trials "$j")" = 4 ]'
j=$("$bin" experiment karhadkar --grid d0 --d0 2 --n 20 --width 10 --trials 4 --lp-trials 0 --json)
check "karhadkar --lp-trials 0: no LP" '[ -z "$(key lp_trials "$j")" ]'

# karhadkar --db: every trial a run of the runner. A database with runs
# deleted (a partial run), one killed at random moments, and one grown from
# fewer trials all resume to the uninterrupted result without a database.
kh="experiment karhadkar --d0 2,3 --ratio 0.5 --n 10,20,30 --width 10..30 --trials 12 --lp-trials 2 --json"
# shellcheck disable=SC2086
ref=$("$bin" $kh --threads 1)
# shellcheck disable=SC2086
"$bin" $kh --threads 2 --db "$tmp/kh.db" > "$tmp/kh1.json"
check "karhadkar --db: same cells as without" '[ "$ref" = "$(cat "$tmp/kh1.json")" ]'
sqlite3 "$tmp/kh.db" "DELETE FROM runs WHERE (restart * 7 + setting) % 3 = 0"
left=$(sqlite3 "$tmp/kh.db" "SELECT count(*) FROM runs")
# shellcheck disable=SC2086
t=$("$bin" ${kh% --json} --threads 2 --db "$tmp/kh.db" | tail -1)
check "karhadkar --db: a partial database runs only the missing trials" \
  '[[ "$t" == *"$((27 * 12 - left)) trials run now, $left loaded"* ]]'
# shellcheck disable=SC2086
check "karhadkar --db: resumed = uninterrupted" '[ "$ref" = "$("$bin" $kh --db "$tmp/kh.db")" ]'
for s in 0.2 0.5 0.9; do
  # shellcheck disable=SC2086
  "$bin" $kh --threads 2 --db "$tmp/killed.db" > /dev/null 2>&1 &
  pid=$!
  sleep "$s"
  kill -9 "$pid" 2> /dev/null
  wait "$pid" 2> /dev/null
done
# shellcheck disable=SC2086
check "karhadkar --db: killed and resumed = uninterrupted" '[ "$ref" = "$("$bin" $kh --threads 2 --db "$tmp/killed.db")" ]'
check "karhadkar --db: the killed database's runs = the whole one's" \
  'cmp -s <("$bin" export "$tmp/kh.db" --no-timings) <("$bin" export "$tmp/killed.db" --no-timings)'
# shellcheck disable=SC2086
"$bin" ${kh//--trials 12/--trials 5} --db "$tmp/grown.db" > /dev/null
# shellcheck disable=SC2086
check "karhadkar --db: 5 trials stored, then 12 = 12 at once" '[ "$ref" = "$("$bin" $kh --db "$tmp/grown.db")" ]'
sm=$("$bin" summary "$tmp/kh.db")
check "summary of karhadkar cells: the full-rank fraction as class global" \
  '[[ "$(grep " d0=3 n=10 width=30" <<< "$sm")" == *"100.0%"* ]] && grep -q "karhadkar" <<< "$sm"'
ex=$("$bin" export "$tmp/kh.db")
check "export of karhadkar cells: one row per trial" '[ "$(($(wc -l <<< "$ex") - 1))" = $((27 * 12)) ]'

# liu: generated data and digits, deterministic across threads
a=$("$bin" experiment liu --generate xor --n 60 --width 3 --cells 4 --starts 3 --steps 100 --json --threads 1)
b=$("$bin" experiment liu --generate xor --n 60 --width 3 --cells 4 --starts 3 --steps 100 --json --threads 2)
check "liu does not depend on the thread count" '[ "$(nosec "$a")" = "$(nosec "$b")" ]'
tot=$(grep -o '"cells":[0-9]*' <<< "$a" | cut -d: -f2 | awk '{s += $1} END {print s}')
check "liu: 4 cells for each of k = 0..3" '[ "$tot" = 16 ]'
g=$(tail -1 <<< "$a")
check "liu: distinct cells at the iterates <= 1 + walls crossed (each run, so the extremes too)" \
  '[ "$(key cells_visited_max "$g")" -le $(($(key walls_crossed_max "$g") + 1)) ] && [ "$(key cells_visited_min "$g")" -le $(($(key walls_crossed_min "$g") + 1)) ] && [ "$(key walls_crossed_min "$g")" -gt 0 ]'
check "liu: k = 0 (every unit dead) is genuine: the constant fit" \
  '[ "$(key genuine "$(grep "\"active_units\":0," <<< "$a")")" = 4 ]'
d=$("$bin" experiment liu --samples 80 --width 2 --cells 2 --starts 2 --steps 50 --json)
check "liu runs on digits" '[ "$(key d0 "$(tail -1 <<< "$d")")" = 64 ] && [ "$(key n "$(tail -1 <<< "$d")")" = 80 ]'

# real data by name reaches train
t=$("$bin" train --dataset breast_cancer --labels pm1 --standardize --arch 30-4-1 --steps 50)
check "train on --dataset breast_cancer" '[ "$(key params "$t")" = 129 ]'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
