#!/usr/bin/env bash
# README's first command: install what is missing (Debian packages), build,
# install minima (command, libraries, headers, pkg-config file) under
# /usr/local, and run the main job, `minima demo` (a few seconds). Safe to
# run again.
#   bash scripts/setup.sh               install + build + install + `minima demo`
#   bash scripts/setup.sh --no-run      the same without the demo
#   bash scripts/setup.sh --prefix DIR  install under DIR instead of /usr/local (DIR/bin/minima)
# It also makes `import minima` work in Debian's python3 (scripts/install_python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

run=1 prefix=/usr/local
while [ $# -gt 0 ]; do
  case "$1" in
    --no-run) run=0 ;;
    --prefix)
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "setup.sh: --prefix needs a directory" >&2; exit 2; }
      prefix=$2; shift ;;
    *) echo "setup.sh: unknown option '$1' (expected --no-run or --prefix DIR)" >&2; exit 2 ;;
  esac
  shift
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

# The command on PATH: DIR/bin/minima (statically linked to libminima).
mkdir -p "$prefix" 2>/dev/null || true
sudo=""; [ -w "$prefix" ] || [ "$(id -u)" = 0 ] || sudo="sudo"
$sudo cmake --install build --prefix "$prefix" >/dev/null
echo "setup: installed $prefix/bin/minima (also build/minima)" >&2
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "setup: $prefix/bin is not on your PATH; add it, or call $prefix/bin/minima" >&2 ;; esac

if [ "$run" = 1 ]; then
  echo "setup: running the main job: minima demo" >&2
  "$prefix/bin/minima" demo
fi
