#!/usr/bin/env bash
# The whole default Safran-Shamir experiment (n = k and n = k + 1, k = 6..20,
# 1000 restarts a row) against plain scalar loops of the same protocol, row
# by row, in user CPU seconds; see bench/README.md, "The whole table against
# the plain loops".
#
# minima: each row run alone, one thread (`minima experiment safran-shamir
# --k K --extra E --threads 1`: the same seeds, so the same runs, as the
# default command's row). The plain loops (`bench_popul --protocol`, the
# project's, and ../shared/reference/ss_scalar.c, an outside one built with
# -O3 -march=native): PLAIN_RESTARTS restarts a row with n = k + 1 and
# PLAIN_RESTARTS_EQ with n = k (cheap rows: more restarts, so that the
# 10 ms resolution of CPU times does not matter), their CPU time scaled to
# 1000 restarts (restarts are independent: the CPU time per restart is a
# sample mean; the rows with n = k + 1 have heavy tails, so few restarts
# give a rough estimate). CPU seconds, not wall: the machine may be shared.
#
# usage: bash bench/popul_table.sh [BUILD_DIR]      (default build)
# env:   PLAIN_RESTARTS=20  PLAIN_RESTARTS_EQ=100  KS="6 ... 20"  EXTRAS="0 1"  SS_SCALAR=path
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
B=${1:-$root/build}
R1=${PLAIN_RESTARTS:-20}
R0=${PLAIN_RESTARTS_EQ:-100}
KS=${KS:-$(seq -s ' ' 6 20)}
EXTRAS=${EXTRAS:-0 1}
SS=${SS_SCALAR:-$root/../shared/reference/ss_scalar.c}

[ -f "$B/CMakeCache.txt" ] || cmake -S "$root" -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j2 --target bench_popul minima_cli >/dev/null
BP=$B/bench/bench_popul
MINIMA=$B/minima
ssbin=
if [ -f "$SS" ]; then
  ssbin=$(mktemp /tmp/ss_scalar.XXXXXX)
  trap 'rm -f "$ssbin"' EXIT
  gcc -O3 -march=native -fopenmp "$SS" -o "$ssbin" -lm
fi

# user CPU seconds of a command (its output discarded)
cpu() { /usr/bin/time -f "%U" "$@" 2>&1 >/dev/null | tail -n1; }

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); uptime:$(uptime | sed 's/.*load average/ load average/')"
echo "# cpu: $(lscpu | sed -n 's/^Model name: *//p'), family $(lscpu | sed -n 's/^CPU family: *//p');" \
     "avx2: $(grep -qw avx2 /proc/cpuinfo && echo yes || echo no)," \
     "avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no); plain loops: $R0 restarts a row with n = k, $R1 with n = k + 1, scaled to 1000"
echo "| k | n | plain protocol | ss_scalar.c | minima | vs plain protocol | vs ss_scalar.c |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
tp=0 ts=0 tm=0
for e in $EXTRAS; do
  for k in $KS; do
    n=$((k + e))
    R=$R1
    [ "$e" != 0 ] || R=$R0
    m=$(cpu "$MINIMA" experiment safran-shamir --k "$k" --extra "$e" --threads 1 --quiet --json)
    p=$(cpu "$BP" --protocol --k "$k" --extra "$e" --restarts "$R")
    p=$(awk -v c="$p" -v r="$R" 'BEGIN { printf "%.1f", c * 1000 / r }')
    s=-
    [ -z "$ssbin" ] || s=$(OMP_NUM_THREADS=1 cpu "$ssbin" "$k" "$n" "$R" |
                           awk -v r="$R" '{ printf "%.1f", $1 * 1000 / r }')
    awk -v k="$k" -v n="$n" -v p="$p" -v s="$s" -v m="$m" 'BEGIN {
      printf "| %d | %d | %s | %s | %.2f | %.1fx | %s |\n", k, n, p, s, m, p / m,
             s == "-" ? "-" : sprintf("%.1fx", s / m) }'
    tp=$(awk -v a="$tp" -v b="$p" 'BEGIN { print a + b }')
    tm=$(awk -v a="$tm" -v b="$m" 'BEGIN { print a + b }')
    [ "$s" = - ] || ts=$(awk -v a="$ts" -v b="$s" 'BEGIN { print a + b }')
  done
done
awk -v p="$tp" -v s="$ts" -v m="$tm" 'BEGIN {
  printf "| all | | %.0f | %.0f | %.1f | %.1fx | %.1fx |\n", p, s, m, p / m, (s > 0 ? s / m : 0) }'
echo "# done $(date -u '+%H:%M UTC'); uptime:$(uptime | sed 's/.*load average/ load average/')"
