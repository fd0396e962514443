#!/usr/bin/env bash
# The population kernel's bits across instruction-set levels and across
# architectures: bench/popul_bits (one hash over 840 points' value, gradient
# and Hessian) at every x86-64 level this CPU runs, then the same source
# cross-compiled for AArch64 (GCC's generic 16-byte vectors become NEON) and
# run under qemu-user. Equal hashes: equal bits. Needs gcc-aarch64-linux-gnu
# and qemu-user (not installed by scripts/setup.sh: a check, not a test);
# without them only the x86 levels are compared. Speed under qemu means
# nothing; this is about bits.
#
# usage: bash bench/popul_cross.sh [BUILD_DIR]      (default build)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
B=${1:-$root/build}
[ -f "$B/CMakeCache.txt" ] || cmake -S "$root" -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j2 --target popul_bits >/dev/null
PB=$B/bench/popul_bits

echo "# cpu: $(lscpu | sed -n 's/^Model name: *//p'), family $(lscpu | sed -n 's/^CPU family: *//p')"
best=$("$PB" | awk '{print $3}')
ref=
for lv in $(seq 1 "$best"); do
  line=$("$PB" "$lv")
  echo "x86-64 level $lv: $line"
  ref=${ref:-${line%% *}}
  [ "${line%% *}" = "$ref" ] || { echo "DIFFERENT bits at level $lv"; exit 1; }
done

if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; then
  bin=$(mktemp /tmp/popul_bits_a64.XXXXXX)
  trap 'rm -f "$bin"' EXIT
  # the sources the kernel needs, with the library's language mode (ISO C11:
  # no contraction into fused multiply-adds) and optimisation
  aarch64-linux-gnu-gcc -O3 -std=c11 -D_POSIX_C_SOURCE=200809L -static -I"$root/include" -I"$root/src" \
    "$here/popul_bits.c" "$root/src/popul/kernel.c" "$root/src/popul/elim.c" "$root/src/util/error.c" \
    -lm -o "$bin"
  line=$(qemu-aarch64 "$bin")
  echo "aarch64 (qemu-user, $(aarch64-linux-gnu-gcc -dumpversion)): $line"
  [ "${line%% *}" = "$ref" ] || { echo "DIFFERENT bits on aarch64"; exit 1; }
  echo "same bits on every level and on aarch64"
else
  echo "# aarch64-linux-gnu-gcc or qemu-aarch64 missing: aarch64 not compared"
  echo "same bits on every level"
fi
