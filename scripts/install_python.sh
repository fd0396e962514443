#!/usr/bin/env bash
# Makes `import minima` work in Debian's /usr/bin/python3 from this source
# tree: a minima.pth file in its site directory (/usr/local/lib/python3.X/
# dist-packages, on sys.path of every user) naming python/ of this tree;
# the package then loads build/libminima.so beside it. Called by
# scripts/setup.sh; safe to run again.
#   usage: bash scripts/install_python.sh [SITE_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
site=${1:-$(/usr/bin/python3 -c 'import site; print(site.getsitepackages()[0])')}
sudo=""
[ -w "$site" ] || [ "$(id -u)" = 0 ] || sudo="sudo"
$sudo mkdir -p "$site"
echo "$root/python" | $sudo tee "$site/minima.pth" >/dev/null
echo "setup: import minima: $site/minima.pth -> $root/python (library: $root/build/libminima.so)" >&2
