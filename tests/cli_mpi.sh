#!/usr/bin/env bash
# minima under Open MPI (issue 18, docs/mpi.md): `mpirun -n 3` on localhost
# gives the database of a one-process run (sweep, Safran-Shamir table and
# the dynamics experiments, compared by `minima export --no-timings`);
# SIGKILL of the whole job or of one rank at random moments, then re-runs,
# gives the same database; ranks
# started with other options and an unwritable database stop the job with
# one line. Skipped (exit 77) when mpirun is absent or minima was built
# without MPI.
# Usage: cli_mpi.sh MINIMA
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
if ! command -v mpirun > /dev/null; then
  echo "SKIP: mpirun not found (Debian: openmpi-bin)"
  exit 77
fi
if ! "$bin" --version | grep -q "(MPI)"; then
  echo "SKIP: $bin was built without MPI"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
no() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok; else no "$what"; fi; }
export_of() { "$bin" export "$1" --no-timings; }
# -q: no mpirun banners; root: CI runs as root
mpi=(mpirun -q --oversubscribe --allow-run-as-root)
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

# A sweep whose run times differ (2-2-1 and 2-6-1, GD and L-BFGS): 4 settings x 12 restarts.
# shellcheck disable=SC2054 # the commas are grid value lists
S=(sweep --generate xor --n 40 --steps 800 --grid arch=2-2-1,2-6-1 --grid optimizer=gd,lbfgs --restarts 12)
"$bin" "${S[@]}" --threads 2 --db one.db > one.out 2> one.err
check "one-process sweep exits 0" test $? = 0
"${mpi[@]}" -n 3 "$bin" "${S[@]}" --threads 1 --db three.db > three.out 2> three.err
check "mpirun -n 3 sweep exits 0 ($(head -c 300 three.err))" test $? = 0
check "rank 0 says 3 ranks" grep -q "48 runs to do on 3 MPI ranks" three.err
check "progress: done/total, rate, ETA" grep -q "sweep: 48/48 runs (100%), .* runs/s, elapsed" three.err
check "48 runs in the database" test "$(export_of three.db | wc -l)" = 49
check "mpirun -n 3 database = one-process database" cmp -s <(export_of one.db) <(export_of three.db)
check "one summary table, printed by rank 0 only" cmp -s one.out three.out
"${mpi[@]}" -n 3 "$bin" "${S[@]}" --threads 1 --db three.db > /dev/null 2> again.err
check "re-run under mpirun: nothing to do" grep -q "0 runs done now, 48 already stored" again.err
# ranks of 2 threads each (rank 0: 2 threads running + 1 serving)
"${mpi[@]}" -n 2 "$bin" "${S[@]}" --threads 2 --db two.db > /dev/null 2>&1
check "mpirun -n 2, 2 threads each = one-process database" cmp -s <(export_of one.db) <(export_of two.db)

# The Safran-Shamir table (population loss), with its eigenvalue update after the runs.
T=(experiment safran-shamir --k 6,7,8 --extra 0,1 --restarts 40 --quiet)
"$bin" "${T[@]}" --threads 2 --db ss1.db > ss1.out 2>&1
check "one-process safran-shamir exits 0" test $? = 0
"${mpi[@]}" -n 3 "$bin" "${T[@]}" --threads 1 --db ss3.db > ss3.out 2> ss3.err
check "mpirun -n 3 safran-shamir exits 0 ($(head -c 300 ss3.err))" test $? = 0
check "safran-shamir: mpirun -n 3 database = one-process database" cmp -s <(export_of ss1.db) <(export_of ss3.db)
strip() { grep -v "wall time" "$1" | sed 's/ *[0-9.]*$//; s/database ss[13].db//'; } # seconds: timings
check "safran-shamir: spurious minima among the runs" test "$(export_of ss3.db | grep -c spurious)" -gt 0
check "safran-shamir: the same table (seconds aside)" cmp -s <(strip ss1.out) <(strip ss3.out)

# The dynamics experiments, run kinds on the same runner (saddles: a run
# fills one row per saddle): the database and the JSON rows of 3 ranks are
# those of one process (seconds aside), and a re-run loads every run.
nosec() { sed -E 's/"seconds":[^,}]*//g' "$1"; }
for e in saddles balance residual implicit-bias; do
  "$bin" experiment $e --quick --threads 2 --json --db ${e}1.db > ${e}1.out 2> ${e}1.err
  check "one-process experiment $e exits 0" test $? = 0
  "${mpi[@]}" -n 3 "$bin" experiment $e --quick --threads 1 --json --db ${e}3.db > ${e}3.out 2> ${e}3.err
  check "mpirun -n 3 experiment $e exits 0 ($(head -c 300 ${e}3.err))" test $? = 0
  check "experiment $e: runs stored" test "$(export_of ${e}3.db | wc -l)" -gt 1
  check "experiment $e: mpirun -n 3 database = one-process database" cmp -s <(export_of ${e}1.db) <(export_of ${e}3.db)
  check "experiment $e: the same JSON (seconds aside)" cmp -s <(nosec ${e}1.out) <(nosec ${e}3.out)
  "${mpi[@]}" -n 3 "$bin" experiment $e --quick --threads 1 --json --db ${e}3.db > ${e}again.out 2>&1
  check "experiment $e: a re-run under mpirun loads every run" \
    test "$(grep -o '"loaded":[0-9]*' ${e}again.out | grep -vc '"loaded":0')" = "$(grep -c '"loaded"' ${e}again.out)"
done

# SIGKILL at random moments: the whole job (mpirun and every rank at
# once), or one rank (mpirun then ends the job); each time a re-run resumes.
# 20000 steps: the job lasts seconds, not the 0.6 s of 4000 (commits come
# in 0.1 s batches in list order, so a short job is often done before a kill).
K=(sweep --generate xor --n 60 --steps 20000 --grid arch=2-2-1,2-8-1 --grid optimizer=gd,lbfgs --restarts 20)
"$bin" "${K[@]}" --threads 2 --db kref.db > /dev/null 2>&1
RANDOM=18
partial=0
for round in 1 2 3 4; do
  "${mpi[@]}" -n 3 "$bin" "${K[@]}" --threads 1 --db k.db > /dev/null 2>&1 &
  job=$!
  # a random moment: after a random number of new runs are stored (start-up
  # time varies with the machine's load), then a random fraction of a second
  have=$(export_of k.db 2> /dev/null | wc -l)
  want=$((have + RANDOM % 12 + 1))
  for _ in $(seq 600); do
    kill -0 "$job" 2> /dev/null || break
    [ "$(export_of k.db 2> /dev/null | wc -l)" -ge "$want" ] && break
    sleep 0.05
  done
  sleep "0.$((RANDOM % 5))"
  ranks=$(pgrep -P "$job" | tr '\n' ' ')
  if [ $((round % 2)) = 1 ]; then
    # shellcheck disable=SC2086
    kill -KILL "$job" $ranks 2> /dev/null
  else
    set -- $ranks
    [ $# -gt 0 ] && kill -KILL "${!#}" 2> /dev/null # the last rank started
  fi
  for _ in $(seq 100); do # the job and its ranks gone (at most 10 s)
    # shellcheck disable=SC2086
    kill -0 "$job" $ranks 2> /dev/null || break
    sleep 0.1
  done
  wait "$job" 2> /dev/null
  n=$(export_of k.db 2> /dev/null | wc -l)
  [ "$n" -gt 1 ] && [ "$n" -lt 81 ] && partial=$((partial + 1))
done
check "some kills left a partial database ($partial of 4)" test "$partial" -ge 1
"${mpi[@]}" -n 3 "$bin" "${K[@]}" --threads 1 --db k.db > /dev/null 2> k.err
check "resume after the kills exits 0" test $? = 0
check "killed and resumed = uninterrupted one-process run" cmp -s <(export_of kref.db) <(export_of k.db)

# Ranks started with other options (MPMD: rank 0 with --lr 0.2, ranks 1-2 without).
"${mpi[@]}" -n 1 "$bin" "${S[@]}" --lr 0.2 --threads 1 --db mm.db : -n 2 "$bin" "${S[@]}" --threads 1 --db mm.db \
  > mm.out 2> mm.err
check "option mismatch: exit 1" test $? = 1
check "option mismatch: one line naming the rank" \
  test "$(grep -c '^minima sweep: rank [12] was started with other options than rank 0' mm.err)" = 1
check "option mismatch: no other error line" test "$(grep -vc '^sweep: ' mm.err)" = 1
check "option mismatch: no run stored" test "$(export_of mm.db | wc -l)" = 1
check "option mismatch: nothing on stdout" test ! -s mm.out

# An unwritable database (a directory that does not exist; a directory).
mkdir adir
for db in missing/x.db adir; do
  "${mpi[@]}" -n 3 "$bin" "${S[@]}" --threads 1 --db "$db" > bad.out 2> bad.err
  check "unwritable $db: exit 1" test $? = 1
  check "unwritable $db: one line ($(head -c 200 bad.err))" \
    test "$(wc -l < bad.err)" = 1 -a "$(grep -c "^minima sweep: .*$db" bad.err)" = 1
  check "unwritable $db: nothing on stdout" test ! -s bad.out
done
# and under the experiment
"${mpi[@]}" -n 3 "$bin" "${T[@]}" --threads 1 --db missing/s.db > /dev/null 2> bad.err
check "safran-shamir, unwritable database: one line" \
  test "$(wc -l < bad.err)" = 1 -a "$(grep -c '^minima experiment safran-shamir: .*missing/s.db' bad.err)" = 1

# experiment karhadkar: its trials are runs of the runner too; rank 0 alone
# holds the database and prints, the table equals the one-process one.
K=(experiment karhadkar --d0 2 --ratio 1 --n 10,20 --width 10,20 --trials 8 --lp-trials 2 --json)
"$bin" "${K[@]}" --threads 1 > k1.out 2> k1.err
"${mpi[@]}" -n 3 "$bin" "${K[@]}" --threads 1 --db k3.db > k3.out 2> k3.err
check "mpirun -n 3 karhadkar exits 0 ($(head -c 300 k3.err))" test $? = 0
check "mpirun -n 3 karhadkar = one process" cmp -s k1.out k3.out
check "mpirun -n 3 karhadkar: 64 trials stored" test "$(export_of k3.db | wc -l)" = 65

echo "cli_mpi: $pass passed, $fail failed"
[ "$fail" = 0 ]
