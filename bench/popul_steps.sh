#!/usr/bin/env bash
# Time per GD step of Safran-Shamir rows for two builds of minima, side by
# side: each repetition runs every row with A then B (B then A on odd
# repetitions, so that a drift of the machine's load favours neither), one
# thread each, and takes the user CPU seconds of the whole process
# (/usr/bin/time: the kernel, the optimiser around it, the Newton polish,
# the reduction, start-up); per step = that over the row's GD steps (the sum
# of `iterations` in its database). Prints the minimum over the repetitions
# for each build, the ratio B / A, and checks that both builds stored the
# same runs (`minima export --no-timings`, byte for byte).
#
# usage: bash bench/popul_steps.sh MINIMA_A MINIMA_B      (two minima binaries)
# env:   ROWS="14:0:200 20:0:100 17:1:100" (k:extra:restarts per row)  REPS (default 3)
set -euo pipefail

[ $# = 2 ] || { echo "usage: bash bench/popul_steps.sh MINIMA_A MINIMA_B" >&2; exit 2; }
A=$1 B=$2
for b in "$A" "$B"; do [ -x "$b" ] || { echo "popul_steps.sh: no executable $b" >&2; exit 1; }; done
ROWS=${ROWS:-"14:0:200 20:0:100 17:1:100"}
REPS=${REPS:-3}
ncpu=$(nproc) # before OMP_NUM_THREADS, which nproc honours
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $ncpu cores; $(lscpu | sed -n 's/^Model name: *//p')," \
     "family $(lscpu | sed -n 's/^CPU family: *//p'); avx2: $(grep -qw avx2 /proc/cpuinfo && echo yes || echo no)," \
     "avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| row (k, n, restarts) | GD steps | A user s | A us/step | B user s | B us/step | B / A | same runs |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for row in $ROWS; do
  IFS=: read -r k extra restarts <<<"$row"
  n=$((k + extra))
  best_a="" best_b=""
  for ((r = 0; r < REPS; r++)); do
    order=(a b)
    [ $((r % 2)) = 1 ] && order=(b a)
    for w in "${order[@]}"; do
      bin=$A
      [ "$w" = b ] && bin=$B
      rm -f "$tmp/$w.db"
      u=$({ /usr/bin/time -f "%U" "$bin" experiment safran-shamir --k "$k" --extra "$extra" --restarts "$restarts" \
            --threads 1 --quiet --db "$tmp/$w.db" >/dev/null; } 2>&1 | tail -n1)
      echo "row $k $n $restarts build $w rep $r user $u" >&2
      if [ "$w" = a ]; then
        if [ -z "$best_a" ] || awk "BEGIN{exit !($u < $best_a)}"; then best_a=$u; fi
      else
        if [ -z "$best_b" ] || awk "BEGIN{exit !($u < $best_b)}"; then best_b=$u; fi
      fi
    done
  done
  steps=$(sqlite3 "$tmp/a.db" "select sum(iterations) from runs")
  "$A" export --no-timings "$tmp/a.db" >"$tmp/a.csv"
  "$B" export --no-timings "$tmp/b.db" >"$tmp/b.csv"
  same=no
  cmp -s "$tmp/a.csv" "$tmp/b.csv" && same=yes
  awk -v k="$k" -v n="$n" -v r="$restarts" -v s="$steps" -v a="$best_a" -v b="$best_b" -v same="$same" 'BEGIN {
    printf "| %d, %d, %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %s |\n", k, n, r, s, a, 1e6 * a / s, b, 1e6 * b / s, b / a, same }'
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
