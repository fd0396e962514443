#!/usr/bin/env bash
# The MPI path against the plain OpenMP run (README, "Many machines: MPI"):
# wall times of the same job as one process (--threads 2) and under
# `mpirun --oversubscribe -n 1, 2, 4` (--threads 2, 1, 1), ratio to the plain
# run, and the databases compared (must be equal); then the per-run overhead
# of the MPI path on runs that take almost nothing.
#
# usage: bash bench/mpi.sh [MINIMA] [--table "--k 6..14 --restarts 200"] [--sweep "..."] [--tiny N] [--repeat 3]
#   default table: a row subset of the Safran-Shamir default (k = 6..14, both
#   extras, 200 restarts per row; the whole default table, k = 6..20 x 1000,
#   is --table "").
# Seconds are those the program reports (the runner's own clock: mpirun's
# start-up is left out); CPU seconds are the whole process tree's (mpirun's
# start-up included, said separately). On a machine shared with other jobs
# the CPU seconds are the steadier measure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EXE=${1:-$here/../build/minima}
[ $# -gt 0 ] && shift
case $EXE in /*) ;; *) EXE=$PWD/$EXE ;; esac
table="--k 6..14 --restarts 200"
sweep="--generate xor --n 60 --steps 3000 --grid arch=2-2-1,2-4-1,2-8-1 --grid optimizer=gd,lbfgs --restarts 40"
tiny=4000
repeat=3
while [ $# -gt 0 ]; do
  case $1 in
    --table) table=$2; shift 2 ;;
    --sweep) sweep=$2; shift 2 ;;
    --tiny) tiny=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    *) echo "mpi.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpi=(mpirun -q --oversubscribe --allow-run-as-root)
export OPENBLAS_NUM_THREADS=1

cpu=$(lscpu | sed -n 's/^Model name: *//p; s/^CPU family: */family /p; s/^Model: */model /p' | paste -sd' ')
echo "# $cpu; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg) (other jobs share the cores)"
echo "# $($EXE --version); $(mpirun --version | head -n1)"

# $1: database, rest: the launcher and command. Prints "SECONDS CPU": the
# runner's own seconds (the sweep's summary line, or the table's wall time)
# and the CPU seconds (user + system) of the whole process tree.
run() {
  local db=$1
  shift
  rm -f "$db" "$db"-wal "$db"-shm
  /usr/bin/time -f "%U %S" -o "$tmp/time" "$@" --db "$db" > "$tmp/out" 2> "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  local s
  s=$(sed -n 's/^sweep: .* already stored, \([0-9.e+-]*\) s$/\1/p' "$tmp/err")
  [ -n "$s" ] || s=$(sed -n 's/^# total wall time \([0-9.]*\) s$/\1/p' "$tmp/out")
  echo "$s $(awk '{print $1 + $2}' "$tmp/time")"
}
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# $1: label, $2: minima options. Every launch `repeat` times, interleaved
# (the load of other jobs drifts); medians.
compare() {
  local label=$1 cmd=$2
  local cfgs=("plain 2" "1 2" "2 1" "4 1")
  echo
  echo "## $label: minima $cmd  (medians of $repeat, interleaved)"
  printf "%-28s %9s %7s %9s %7s %s\n" "launch" "seconds" "ratio" "cpu_s" "ratio" "database"
  for i in $(seq "$repeat"); do
    for c in "${cfgs[@]}"; do
      set -- $c
      if [ "$1" = plain ]; then
        # shellcheck disable=SC2086
        run "$tmp/$1.db" "$EXE" $cmd --threads "$2" >> "$tmp/t_$1"
      else
        # shellcheck disable=SC2086
        run "$tmp/$1.db" "${mpi[@]}" -n "$1" "$EXE" $cmd --threads "$2" >> "$tmp/t_$1"
      fi
    done
  done
  "$EXE" export "$tmp/plain.db" --no-timings > "$tmp/p.csv"
  local b0 c0
  b0=$(cut -d' ' -f1 "$tmp/t_plain" | median) c0=$(cut -d' ' -f2 "$tmp/t_plain" | median)
  for c in "${cfgs[@]}"; do
    set -- $c
    local s cpu same=differs name="mpirun -n $1, --threads $2"
    s=$(cut -d' ' -f1 "$tmp/t_$1" | median) cpu=$(cut -d' ' -f2 "$tmp/t_$1" | median)
    cmp -s "$tmp/p.csv" <("$EXE" export "$tmp/$1.db" --no-timings) && same=equal
    [ "$1" = plain ] && name="plain, --threads $2" same=reference
    printf "%-28s %9.3f %7.2f %9.2f %7.2f %s\n" "$name" "$s" "$(awk "BEGIN {print $s / $b0}")" "$cpu" \
      "$(awk "BEGIN {print $cpu / $c0}")" "$same"
    rm -f "$tmp/t_$1"
  done
}

compare "Safran-Shamir table" "experiment safran-shamir $table --quiet"
compare "sweep" "sweep $sweep"

# Per-run overhead: runs of one GD step on 8 samples (the run itself costs
# microseconds; what remains is the runner: hand-out, messages, commit).
echo
echo "## per-run overhead: $tiny runs of one step (minima sweep --generate xor --n 8 --arch 2-2-1 --steps 1)"
T="sweep --generate xor --n 8 --arch 2-2-1 --steps 1 --restarts $tiny"
for i in $(seq "$repeat"); do
  # shellcheck disable=SC2086
  run "$tmp/t.db" "$EXE" $T --threads 1 >> "$tmp/o_plain"
  # shellcheck disable=SC2086
  run "$tmp/t.db" "${mpi[@]}" -n 2 "$EXE" $T --threads 1 >> "$tmp/o_2"
  run "$tmp/t.db" "${mpi[@]}" -n 2 true >> "$tmp/o_start" 2> /dev/null || true
done
for k in plain 2; do
  s=$(cut -d' ' -f1 "$tmp/o_$k" | median) cpu=$(cut -d' ' -f2 "$tmp/o_$k" | median)
  printf "%-26s %8.1f us per run (runner's clock), %8.1f us CPU per run (whole job)\n" \
    "$([ $k = plain ] && echo "plain --threads 1:" || echo "mpirun -n 2 --threads 1:")" \
    "$(awk "BEGIN {print $s / $tiny * 1e6}")" "$(awk "BEGIN {print $cpu / $tiny * 1e6}")"
done
echo "mpirun -n 2 true (start-up alone): $(cut -d' ' -f2 "$tmp/o_start" | median) s CPU"
