#!/usr/bin/env bash
# README's first command: install what is missing (Debian packages), build,
# and run the main job on built-in defaults. Safe to run again.
#   bash scripts/setup.sh            install + build + `minima train`
#   bash scripts/setup.sh --no-run   install + build only
#   bash scripts/setup.sh --bench    also install what bench/ and docs/torch_example.py need
# It also makes `import minima` work in Debian's python3 (scripts/install_python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

run=1 bench=0
for a in "$@"; do
  case "$a" in
    --no-run) run=0 ;;
    --bench) bench=1 ;;
    *) echo "setup.sh: unknown option '$a' (expected --no-run or --bench)" >&2; exit 2 ;;
  esac
done

# Each package and why it is here: see README, "Dependencies".
pkgs=(gcc make cmake pkg-config libopenblas-dev liblapacke-dev libsqlite3-dev
      libcjson-dev libcmocka-dev libsleef-dev libflint-arb-dev gnuplot-nox valgrind
      zlib1g-dev libglpk-dev libopenmpi-dev openmpi-bin python3-sklearn
      python3 python3-cffi python3-numpy python3-pytest python3-torch python3-venv python3-pip)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >&2
bash scripts/install_python.sh

if [ "$run" = 1 ]; then
  echo "setup: running the main job: build/minima train (XOR, 2-8-1 ReLU, polynomial hinge)" >&2
  ./build/minima train
fi
