#!/usr/bin/env bash
# Gradient throughput, minima vs PyTorch CPU, side by side; see bench/README.md.
#
# usage: bash bench/run.sh [BUILD_DIR]      (default: build-bench, configured Release if new)
# env:   SECONDS_PER_RUN (default 2)  length of one timed window
#        REPEAT          (default 3)  timed windows per measurement; the best is reported
#        PYTHON          (default /usr/bin/python3: Debian's python3-torch)
#        OPENBLAS_CORETYPE is passed through as set (both minima and torch use OpenBLAS)
#
# Builds libminima and bench_eval if needed, then measures
#   (a) 4-16-1 relu squared, 100 samples
#   (b) 64-256-256-1 relu squared, 10000 samples (minima with OpenBLAS 1 and 2 threads)
#   (c) 4-16-1 relu squared --eliminate liang, 100 samples
# and prints a table. minima's own OpenMP threads (it cuts large passes into
# blocks of samples and units, split.h) are left at their default, one per
# core. Torch runs with torch.set_num_threads(2) (the reference
# column); float64 with 1 thread is shown too, since for the small nets it is
# faster than 2. One evaluation = loss + full gradient (mn_eval(..., grad) /
# forward + loss.backward()). The raw result lines go to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
B=${1:-$root/build-bench}
case $B in /*) ;; *) B=$PWD/$B ;; esac
PY=${PYTHON:-/usr/bin/python3}
SECS=${SECONDS_PER_RUN:-2}
REP=${REPEAT:-3}

# --- build -------------------------------------------------------------------
if [ ! -f "$B/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
if ! cmake --build "$B" -j2 --target minima >"$B/bench_build.log" 2>&1; then
  if [ -f "$B/libminima.a" ]; then
    echo "# warning: building libminima failed (see $B/bench_build.log); benchmarking the library" \
         "already in $B, built $(date -r "$B/libminima.a" '+%Y-%m-%d %H:%M')" >&2
  else
    cat "$B/bench_build.log" >&2
    exit 1
  fi
fi
BENCH=""
if cmake --build "$B" -j2 --target bench_eval >/dev/null 2>&1; then
  # the top-level CMakeLists has add_subdirectory(bench)
  BENCH=$(find "$B" -name bench_eval -type f -perm -u+x | head -n1)
fi
if [ -z "$BENCH" ]; then
  # bench/ not wired into the build (yet): compile against the built library
  # directly, with the flags of a Release build.
  echo "# no bench_eval target in $B (add_subdirectory(bench) missing): compiling it directly" >&2
  BENCH=$B/bench_eval_standalone
  if [ ! -x "$BENCH" ] || [ "$here/bench_eval.c" -nt "$BENCH" ] || [ "$B/libminima.a" -nt "$BENCH" ]; then
    # shellcheck disable=SC2046
    cc -std=c11 -O3 -DNDEBUG -D_POSIX_C_SOURCE=200809L -Wall -Wextra -I"$root/include" \
      "$here/bench_eval.c" -o "$BENCH" "$B/libminima.a" \
      $(pkg-config --libs lapacke openblas sqlite3 libcjson) -fopenmp -lm
  fi
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$B/CMakeCache.txt")
if [ "$build_type" != "Release" ]; then
  echo "# warning: $B is a '$build_type' build, not Release" >&2
fi

# --- measure -----------------------------------------------------------------
field() { sed -n "s/.*[ ^]$1=\([^ ]*\).*/\1/p" <<<" $2" | head -n1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

rows=()
cpurows=()
# torch_case ARGS...: sets T64 T32 T64_1 (evals/s) for the case
torch_case() {
  local t2 t1
  # torch's float64/float32 matmuls go to the same OpenBLAS (libblas.so.3), whose thread
  # count torch.set_num_threads does not set: pin it to the same number.
  t2=$(OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 "$PY" "$here/bench_eval_torch.py" "$@" --seconds "$SECS" --repeat "$REP" \
         --threads 2 --dtypes float64,float32)
  t1=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$PY" "$here/bench_eval_torch.py" "$@" --seconds "$SECS" --repeat "$REP" \
         --threads 1 --dtypes float64)
  echo "$t2" >&2
  echo "$t1" >&2
  T64=$(field evals_per_s "$(grep 'dtype=float64' <<<"$t2")")
  T32=$(field evals_per_s "$(grep 'dtype=float32' <<<"$t2")")
  T64_1=$(field evals_per_s "$t1")
  T64_1C=$(field cpu_evals_per_s "$t1")
}
# minima_case LABEL OPENBLAS_THREADS ARGS...: appends a table row (uses T64 T32 T64_1)
minima_case() {
  local label=$1 thr=$2 line m
  shift 2
  line=$(OPENBLAS_NUM_THREADS=$thr "$BENCH" "$@" --seconds "$SECS" --repeat "$REP")
  echo "$line" >&2
  m=$(field evals_per_s "$line")
  if [ "$thr" = 1 ]; then
    # per CPU second on one thread: minima's OpenMP threads pinned to 1 as well
    local mc one
    one=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$BENCH" "$@" --seconds "$SECS" --repeat "$REP")
    echo "$one (OMP_NUM_THREADS=1)" >&2
    mc=$(field cpu_evals_per_s "$one")
    cpurows+=("$(printf '%-40s %17.1f %17.1f %8sx' "$label" "$mc" "$T64_1C" "$(ratio "$mc" "$T64_1C")")")
  fi
  rows+=("$(printf '%-40s %3s %13.1f %13.1f %7sx %13.1f %13.1f %7sx' "$label" "$thr" "$m" "$T64" \
            "$(ratio "$m" "$T64")" "$T32" "$T64_1" "$(ratio "$m" "$T64_1")")")
}

cpuflags=$(for f in avx2 fma avx512f; do grep -qw "$f" /proc/cpuinfo && printf '%s ' "$f" || printf 'no-%s ' "$f"; done)
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; $(lscpu | sed -n 's/^Model name: *//p')," \
     "family $(lscpu | sed -n 's/^CPU family: *//p'), flags: ${cpuflags% };" \
     "torch $("$PY" -c 'import torch; print(torch.__version__)');" \
     "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}; load average at start:" \
     "$(cut -d' ' -f1-3 /proc/loadavg)" >&2

A=(--arch 4-16-1 --act relu --loss squared --n 100)
torch_case "${A[@]}"
minima_case "(a) 4-16-1 relu squared, n=100" 1 "${A[@]}"

Bm=(--arch 64-256-256-1 --act relu --loss squared --n 10000)
torch_case "${Bm[@]}"
minima_case "(b) 64-256-256-1 relu squared, n=10000" 1 "${Bm[@]}"
minima_case "(b) 64-256-256-1 relu squared, n=10000" 2 "${Bm[@]}"

C=(--arch 4-16-1 --act relu --loss squared --eliminate liang --n 100)
torch_case "${C[@]}"
minima_case "(c) 4-16-1 relu squared liang, n=100" 1 "${C[@]}"

echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo
printf '%-40s %3s %13s %13s %8s %13s %13s %8s\n' "config" "thr" "minima eval/s" "torch64 ev/s" "ratio" \
  "torch32 ev/s" "torch64 1thr" "ratio1"
for r in "${rows[@]}"; do echo "$r"; done
cat <<EOF
thr: OPENBLAS_NUM_THREADS for minima (its OpenMP threads: the default, $(nproc) here). torch64/torch32: float64/float32 with torch.set_num_threads(2);
ratio = minima / torch64. torch64 1thr: float64 with set_num_threads(1); ratio1 = minima / that.
evals/s: best of $REP windows of ${SECS}s each (medians in the raw lines on stderr).
EOF
echo
echo "Per CPU-second (evaluations / process CPU time; insensitive to other load), one thread each"
echo "(minima: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1; torch: set_num_threads(1)):"
printf '%-40s %17s %17s %9s\n' "config" "minima cpu ev/s" "torch64 cpu ev/s" "ratio"
for r in "${cpurows[@]}"; do echo "$r"; done
