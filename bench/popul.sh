#!/usr/bin/env bash
# The Safran-Shamir kernel and protocol against plain scalar loops, side by
# side in one run on one machine; see bench/README.md, "Safran-Shamir kernel".
#
# usage: bash bench/popul.sh [BUILD_DIR]      (default build; configured Release if new)
# env:   KS=8,14,20 (per-evaluation sizes)  ROWS=8,14 (protocol rows, n = k)
#        RESTARTS=20 (per protocol row)  SS_SCALAR=../shared/reference/ss_scalar.c (an outside
#        plain reference, built with -O3 -march=native; skipped when absent)
# Per evaluation: thread CPU time (bench_popul); the protocol rows: user CPU
# seconds (/usr/bin/time), one thread each, one after the other; so other
# load on a shared machine changes little (caches aside).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
B=${1:-$root/build}
KS=${KS:-8,14,20}
ROWS=${ROWS:-8,14}
RESTARTS=${RESTARTS:-20}
SS=${SS_SCALAR:-$root/../shared/reference/ss_scalar.c}

[ -f "$B/CMakeCache.txt" ] || cmake -S "$root" -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j2 --target bench_popul minima_cli >/dev/null
BP=$B/bench/bench_popul
MINIMA=$B/minima

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); uptime:$(uptime | sed 's/.*load average/ load average/')"
echo "# cpu: $(lscpu | sed -n 's/^Model name: *//p'), family $(lscpu | sed -n 's/^CPU family: *//p');" \
     "avx2: $(grep -qw avx2 /proc/cpuinfo && echo yes || echo no)," \
     "fma: $(grep -qw fma /proc/cpuinfo && echo yes || echo no)," \
     "avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)"
"$BP" --clock

ssbin=
if [ -f "$SS" ]; then
  ssbin=$(mktemp /tmp/ss_scalar.XXXXXX)
  trap 'rm -f "$ssbin"' EXIT
  gcc -O3 -march=native -fopenmp "$SS" -o "$ssbin" -lm
fi

echo "## per gradient evaluation (thread CPU microseconds, best of 9 windows of 0.2 s, all variants interleaved)"
"$BP" --k "$KS" --seconds 0.2 --repeat 9
cpu() { /usr/bin/time -f "user_cpu_s=%U" "$@" 2>&1; }
if [ -n "$ssbin" ]; then
  echo "## outside plain reference ($(basename "$SS"), -O3 -march=native, 1 thread): user CPU / GD steps"
  IFS=, read -ra ks <<<"$KS"
  for k in "${ks[@]}"; do
    r=$(( k <= 8 ? 400 : k <= 14 ? 80 : 30 )) # about a CPU second or two each
    OMP_NUM_THREADS=1 cpu "$ssbin" "$k" "$k" "$r" | tr '\n' ' ' |
      awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
             printf "%s cpu_us_per_step=%.3f\n", $0, 1e6 * v["user_cpu_s"] / v["grad_evals"] }'
  done
fi

echo "## protocol rows, n = k, $RESTARTS restarts, one thread, user CPU seconds"
IFS=, read -ra rows <<<"$ROWS"
for k in "${rows[@]}"; do
  cpu "$BP" --protocol --k "$k" --restarts "$RESTARTS" | tr '\n' ' '
  echo
  for sc in --no-shortcuts ""; do
    echo -n "minima ${sc:-(shortcuts)} k=$k: "
    cpu "$MINIMA" experiment safran-shamir --k "$k" --extra 0 --restarts "$RESTARTS" --threads 1 --json --quiet $sc |
      sed -n 's/.*"spurious_pct":\([^,]*\).*"gd_steps":\([^,]*\).*/spurious_pct=\1 gd_steps=\2/p; /user_cpu/p' |
      tr '\n' ' '
    echo
  done
  [ -z "$ssbin" ] || { OMP_NUM_THREADS=1 cpu "$ssbin" "$k" "$k" "$RESTARTS" | tr '\n' ' '; echo; }
done
echo "# done $(date -u '+%H:%M UTC'); uptime:$(uptime | sed 's/.*load average/ load average/')"
