#!/usr/bin/env bash
# The main job, `minima demo` (what scripts/setup.sh runs): it ends in the
# plain-words verdict, having certified a bad local minimum, verified the
# eliminating neuron's escape and proved a spurious minimum; every number it
# prints is the same whatever the thread count.
# Usage: cli_demo.sh MINIMA
set -u
bin=$1
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }

"$bin" demo --threads 1 > "$tmp/d1" 2> "$tmp/e1"
check "demo exits 0" '[ $? = 0 ]'
check "demo writes nothing to stderr" '[ ! -s "$tmp/e1" ] || { cat "$tmp/e1"; false; }'
check "a certified bad local minimum" 'grep -q "a BAD LOCAL MINIMUM\.$" "$tmp/d1"'
check "the neuron escapes it" 'grep -q "the neuron ESCAPES the bad minimum" "$tmp/d1"'
check "the escape lowers the loss" '/usr/bin/python3 -c "
import re, sys
m = re.search(r\"lowers the loss from ([0-9.]+) to\\s+([0-9.]+)\", open(sys.argv[1]).read())
assert m and float(m.group(2)) < float(m.group(1))
" "$tmp/d1"'
check "a spurious minimum proved" 'grep -qE "; [1-9][0-9]* distinct up to symmetry, [1-9][0-9]* of them PROVED" "$tmp/d1"'
check "the verdict" 'grep -q "^verdict: gradient descent does stop at bad local minima\. " "$tmp/d1"'
check "the verdict comes after both parts" '[ "$(grep -n "^verdict:" "$tmp/d1" | cut -d: -f1)" -gt "$(grep -n "^2\. " "$tmp/d1" | cut -d: -f1)" ]'
"$bin" demo --threads 2 > "$tmp/d2" 2>/dev/null
check "the same with 2 threads (timing aside)" 'diff <(grep -v "^(.* s\. Next" "$tmp/d1") <(grep -v "^(.* s\. Next" "$tmp/d2")'
"$bin" demo --help > "$tmp/h"
check "demo --help" '[ $? = 0 ] && grep -q "usage: minima demo" "$tmp/h"'
check "setup.sh runs the demo" 'grep -q "/bin/minima\" demo$" "$src/scripts/setup.sh"'

echo "cli_demo: $pass passed, $fail failed"
[ "$fail" = 0 ]
