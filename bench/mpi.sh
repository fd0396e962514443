#!/usr/bin/env bash
# The MPI path against the plain OpenMP run (README, "Many machines: MPI"):
# wall times of the same job as one process (--threads 2) and under
# `mpirun --oversubscribe -n 1, 2, 4` (--threads 2, 1, 1), ratio to the plain
# run, and the databases compared (must be equal); then the per-run overhead
# of the MPI path on runs that take almost nothing.
#
# usage: bash bench/mpi.sh [MINIMA] [--table "--k 6..14 --restarts 200"] [--sweep "..."] [--tiny N]
#   default table: a row subset of the Safran-Shamir default (k = 6..14, both
#   extras, 200 restarts per row; the whole default table, k = 6..20 x 1000,
#   is --table "").
# Times are those the program reports (the runner's own clock: mpirun's ~1 s
# start-up is left out and said separately).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EXE=${1:-$here/../build/minima}
[ $# -gt 0 ] && shift
case $EXE in /*) ;; *) EXE=$PWD/$EXE ;; esac
table="--k 6..14 --restarts 200"
sweep="--generate xor --n 60 --steps 3000 --grid arch=2-2-1,2-4-1,2-8-1 --grid optimizer=gd,lbfgs --restarts 40"
tiny=4000
while [ $# -gt 0 ]; do
  case $1 in
    --table) table=$2; shift 2 ;;
    --sweep) sweep=$2; shift 2 ;;
    --tiny) tiny=$2; shift 2 ;;
    *) echo "mpi.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpi=(mpirun -q --oversubscribe --allow-run-as-root)
export OPENBLAS_NUM_THREADS=1

echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $($EXE --version); $(mpirun --version | head -n1)"

# $1: label, $2: database, rest: the launcher and command; prints the
# runner's seconds (the sweep's summary line, or the table's wall time).
run() {
  local label=$1 db=$2
  shift 2
  "$@" --db "$db" > "$tmp/out" 2> "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  local s
  s=$(sed -n 's/^sweep: .* already stored, \([0-9.e+-]*\) s$/\1/p' "$tmp/err")
  [ -n "$s" ] || s=$(sed -n 's/^# total wall time \([0-9.]*\) s$/\1/p' "$tmp/out")
  echo "$s"
}

compare() { # $1: label, $2: command line (minima options)
  local label=$1 cmd=$2 base=""
  echo
  echo "## $label: minima $cmd"
  printf "%-34s %10s %8s %s\n" "launch" "seconds" "ratio" "database"
  # shellcheck disable=SC2086
  base=$(run plain "$tmp/p.db" "$EXE" $cmd --threads 2)
  printf "%-34s %10s %8s %s\n" "plain, --threads 2" "$base" "1.00" "reference"
  "$EXE" export "$tmp/p.db" --no-timings > "$tmp/p.csv"
  for cfg in "1 2" "2 1" "4 1"; do
    set -- $cfg
    # shellcheck disable=SC2086
    s=$(run mpi "$tmp/m$1.db" "${mpi[@]}" -n "$1" "$EXE" $cmd --threads "$2")
    same=differs
    cmp -s "$tmp/p.csv" <("$EXE" export "$tmp/m$1.db" --no-timings) && same=equal
    printf "%-34s %10s %8.2f %s\n" "mpirun -n $1, --threads $2" "$s" "$(echo "$s / $base" | bc -l)" "$same"
  done
}

compare "Safran-Shamir table" "experiment safran-shamir $table --quiet"
compare "sweep" "sweep $sweep"

# Per-run overhead: runs of one GD step on 8 samples (the run itself costs
# microseconds; what remains is the runner: hand-out, messages, commit).
echo
echo "## per-run overhead: $tiny runs of one step (sweep --n 8 --arch 2-2-1 --steps 1)"
T="sweep --generate xor --n 8 --arch 2-2-1 --steps 1 --restarts $tiny"
# shellcheck disable=SC2086
a=$(run plain "$tmp/t1.db" "$EXE" $T --threads 1)
# shellcheck disable=SC2086
b=$(run mpi "$tmp/t2.db" "${mpi[@]}" -n 2 "$EXE" $T --threads 1)
# shellcheck disable=SC2086
c=$(run mpi "$tmp/t3.db" "${mpi[@]}" -n 3 "$EXE" $T --threads 1)
printf "plain --threads 1:       %8.1f us per run (%s s)\n" "$(echo "$a / $tiny * 1e6" | bc -l)" "$a"
printf "mpirun -n 2 --threads 1: %8.1f us per run (%s s)\n" "$(echo "$b / $tiny * 1e6" | bc -l)" "$b"
printf "mpirun -n 3 --threads 1: %8.1f us per run (%s s)\n" "$(echo "$c / $tiny * 1e6" | bc -l)" "$c"
s0=$(date +%s.%N)
"${mpi[@]}" -n 4 true
echo "mpirun start-up (-n 4 true): $(echo "$(date +%s.%N) - $s0" | bc -l | cut -c1-5) s"
