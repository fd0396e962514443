#!/usr/bin/env bash
# run.sh's network-evaluation cases for two builds of minima and PyTorch,
# interleaved: each repetition runs every case as torch, A, B (B, A on odd
# repetitions, so that a drift of the machine's load does not favour one
# build), one thread each, and counts evaluations per process-CPU second
# (bench_eval's and bench_eval_torch.py's cpu_evals_per_s: CLOCK_PROCESS_CPUTIME_ID
# and time.process_time, which other processes' load does not enter). Prints
# the medians over the repetitions and the median of the per-repetition
# ratios A / torch, B / torch and B / A.
#
# usage: bash bench/before_after.sh BUILD_A BUILD_B   (each with bench/bench_eval built)
# env:   REPS (default 7) repetitions; SECONDS_PER_RUN (default 1) one timed window;
#        PYTHON (default /usr/bin/python3: Debian's python3-torch)
# The raw result lines go to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# = 2 ] || { echo "usage: bash bench/before_after.sh BUILD_A BUILD_B" >&2; exit 2; }
A=$1/bench/bench_eval
B=$2/bench/bench_eval
for b in "$A" "$B"; do [ -x "$b" ] || { echo "before_after.sh: no $b (cmake --build DIR --target bench_eval)" >&2; exit 1; }; done
PY=${PYTHON:-/usr/bin/python3}
REPS=${REPS:-7}
SECS=${SECONDS_PER_RUN:-1}
ncpu=$(nproc) # before OMP_NUM_THREADS, which nproc honours
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

field() { sed -n "s/.*[ ^]$1=\([^ ]*\).*/\1/p" <<<" $2" | head -n1; }
cases=("(a) 4-16-1 relu squared, n=100|--arch 4-16-1 --act relu --loss squared --n 100"
       "(b) 64-256-256-1 relu squared, n=10000|--arch 64-256-256-1 --act relu --loss squared --n 10000"
       "(c) 4-16-1 relu squared liang, n=100|--arch 4-16-1 --act relu --loss squared --eliminate liang --n 100")

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $ncpu cores; $(lscpu | sed -n 's/^Model name: *//p');" \
     "torch $("$PY" -c 'import torch; print(torch.__version__)'); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
res=$(mktemp)
trap 'rm -f "$res"' EXIT
for ((r = 0; r < REPS; r++)); do
  for c in "${cases[@]}"; do
    label=${c%%|*}
    read -r -a args <<<"${c#*|}"
    t=$("$PY" "$here/bench_eval_torch.py" "${args[@]}" --seconds "$SECS" --repeat 1 --threads 1 --dtypes float64)
    if ((r % 2)); then order=("B" "A"); else order=("A" "B"); fi
    for w in "${order[@]}"; do
      if [ "$w" = A ]; then line=$("$A" "${args[@]}" --seconds "$SECS" --repeat 1); a=$(field cpu_evals_per_s "$line")
      else line=$("$B" "${args[@]}" --seconds "$SECS" --repeat 1); b=$(field cpu_evals_per_s "$line"); fi
      echo "rep=$r $w $line" >&2
    done
    echo "rep=$r $t" >&2
    printf '%s|%s|%s|%s\n' "$label" "$a" "$b" "$(field cpu_evals_per_s "$t")" >>"$res"
  done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo "evaluations per CPU second, one thread each; medians over $REPS interleaved repetitions"
printf '%-40s %12s %12s %12s %9s %9s %7s\n' config "A cpu ev/s" "B cpu ev/s" "torch64" "A/torch" "B/torch" "B/A"
for c in "${cases[@]}"; do
  label=${c%%|*}
  awk -F'|' -v l="$label" '
    function med(v, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j-1] > v[j]; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
                                     return n % 2 ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2 }
    $1 == l { n++; a[n] = $2; b[n] = $3; t[n] = $4; ra[n] = $2 / $4; rb[n] = $3 / $4; rr[n] = $3 / $2 }
    END { printf "%-40s %12.1f %12.1f %12.1f %8.2fx %8.2fx %6.3f\n", l, med(a, n), med(b, n), med(t, n),
                 med(ra, n), med(rb, n), med(rr, n) }' "$res"
done
