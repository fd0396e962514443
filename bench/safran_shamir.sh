#!/usr/bin/env bash
# The Safran-Shamir protocol: PyTorch (CPU, float64, batched over restarts) side by
# side with `minima experiment safran-shamir`; see bench/README.md, "Safran-Shamir".
#
# usage: bash bench/safran_shamir.sh [MINIMA] [options of bench/safran_shamir.py]
#   MINIMA      the minima binary (default build/minima; built if missing or stale:
#               a new build dir is configured with cmake's defaults)
#   --k 8,14  --extra 0  --restarts 200  --threads 2  --torch-threads 2 (e.g. 2,1: both)
#   --variants masked,compact  --malloc default,tuned  --ref-restarts 1000  --max-iter 2000000
#   --full-table (also time minima's whole default experiment)  --seed 1  --json-out FILE
#   --torch-json FILE (reuse the torch rows of an earlier --json-out: re-measure minima only)
# Takes ~7.5 min with the defaults on the quiet 2-core machine (~13 min with --torch-threads 2,1).
# env: PYTHON (default /usr/bin/python3: Debian's python3-torch)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
PY=${PYTHON:-/usr/bin/python3}

EXE=$root/build/minima
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  EXE=$1
  shift
fi
case $EXE in /*) ;; *) EXE=$PWD/$EXE ;; esac

# --- build (only a binary named .../minima inside a CMake build dir) ------------
B=$(dirname "$EXE")
if [ "$(basename "$EXE")" = minima ]; then
  if [ ! -f "$B/CMakeCache.txt" ] && [ ! -x "$EXE" ]; then
    cmake -S "$root" -B "$B" >/dev/null
  fi
  if [ -f "$B/CMakeCache.txt" ]; then
    if ! cmake --build "$B" -j2 --target minima_cli >"/tmp/safran_shamir_build.$$.log" 2>&1; then
      if [ -x "$EXE" ]; then
        echo "# warning: building minima failed (see /tmp/safran_shamir_build.$$.log); using the binary" \
             "already in $B, built $(date -r "$EXE" '+%Y-%m-%d %H:%M')" >&2
      else
        cat "/tmp/safran_shamir_build.$$.log" >&2
        exit 1
      fi
    else
      rm -f "/tmp/safran_shamir_build.$$.log"
    fi
    bt=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$B/CMakeCache.txt")
    echo "# minima: $EXE (CMAKE_BUILD_TYPE in the cache: ${bt:-empty, so the CMakeLists default})" >&2
  fi
fi
[ -x "$EXE" ] || { echo "safran_shamir.sh: no minima at $EXE" >&2; exit 2; }
"$PY" -c 'import torch' 2>/dev/null || {
  echo "safran_shamir.sh: $PY has no torch (Debian: apt-get install python3-torch)" >&2; exit 2; }

echo "# $(date '+%Y-%m-%d %H:%M:%S'); uptime:$(uptime | sed 's/.*load average/ load average/')"
"$PY" "$here/safran_shamir.py" "$EXE" "$@"
echo "# done $(date '+%Y-%m-%d %H:%M:%S'); uptime:$(uptime | sed 's/.*load average/ load average/')"
