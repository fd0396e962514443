#!/usr/bin/env bash
# The full-rank fraction of random activation regions (Karhadkar et al.'s
# d0-constant grid: d0 in 1,2,3,5, n and width in 10..100 step 10), minima vs
# the authors' method in PyTorch (jacrev + matrix_rank), side by side.
#
# usage: bash bench/regions_rank.sh [BUILD_DIR]   (default: build; must hold build/minima)
# env:   TRIALS        (default 100) regions per cell for minima (4 x 10 x 10 cells)
#        TORCH_TRIALS  (default 5)   regions per cell for PyTorch (about 30 per CPU second)
#        THREADS       (default 2)   both sides
#        PYTHON        (default /usr/bin/python3: Debian's python3-torch)
# Prints wall seconds, process CPU seconds, regions per wall second and per
# CPU second, and the ratios. The CPU rate is the one to trust on a shared
# machine (the load average is printed): wall time counts other people's jobs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
B=${1:-$root/build}
PY=${PYTHON:-/usr/bin/python3}
T=${TRIALS:-100} TT=${TORCH_TRIALS:-5} TH=${THREADS:-2}
[ -x "$B/minima" ] || { echo "regions_rank.sh: no $B/minima (build first)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; $(lscpu | sed -n 's/^Model name: *//p');" \
     "load average $(cut -d' ' -f1-3 /proc/loadavg); $TH threads each side"
/usr/bin/time -f "%e %U %S" -o "$tmp/m.time" "$B/minima" experiment karhadkar --grid d0 --trials "$T" \
  --lp-trials 0 --threads "$TH" --json >"$tmp/m.json"
/usr/bin/time -f "%e %U %S" -o "$tmp/t.time" "$PY" "$here/regions_rank_torch.py" --trials "$TT" \
  --threads "$TH" >"$tmp/t.out"
read -r mw mu ms <"$tmp/m.time"
read -r tw tu ts <"$tmp/t.time"
mr=$((400 * T)) tr=$((400 * TT))
awk -v mw="$mw" -v mu="$mu" -v ms="$ms" -v mr="$mr" -v tw="$tw" -v tu="$tu" -v ts="$ts" -v tr="$tr" 'BEGIN {
  mc = mu + ms; tc = tu + ts
  printf "%-28s %9s %9s %9s %14s %16s\n", "method", "regions", "wall_s", "cpu_s", "regions/wall_s", "regions/cpu_s"
  printf "%-28s %9d %9.2f %9.2f %14.1f %16.1f\n", "minima (dgesdd, C)", mr, mw, mc, mr / mw, mr / mc
  printf "%-28s %9d %9.2f %9.2f %14.1f %16.1f\n", "torch jacrev + matrix_rank", tr, tw, tc, tr / tw, tr / tc
  printf "ratio minima / torch: %.1fx per wall second, %.1fx per CPU second\n", (mr / mw) / (tr / tw), (mr / mc) / (tr / tc)
}'
echo "# torch's own timing line (its loop only, no interpreter start): $(cat "$tmp/t.out")"
