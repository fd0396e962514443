#!/usr/bin/env bash
# Attacks and defences end to end: every built-in attack is certified a bad
# local minimum before the defence and escaped after it; exported attacks
# re-certify through `minima certify`; bad input gets one line and exit 1.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }

out=$("$bin" attack all --json)
check "attack all exits 0" '[ $? = 0 ]'
n=$("$bin" attack list | wc -l)
check "one line per attack" '[ "$(wc -l <<< "$out")" = "$n" ] && [ "$n" -ge 3 ]'
check "every attack is a bad local minimum" '[ "$(grep -c "\"bad_local_minimum\":true" <<< "$out")" = "$n" ]'
check "every attack is escaped with liang" '[ "$(grep -c "\"verdict\":\"escaped\"" <<< "$out")" = "$n" ]'
# ... and following the escape (L-BFGS from the embedded point, then the
# neuron dropped) the dead units do not revive: the plain classifiers end
# neither global nor at zero training error (issue 11, item 5).
h=$(grep '"attack":"dead-relu-hinge"' <<< "$out")
check "dead-relu-hinge followed: not global" 'grep -q "\"followed_class\":\"not-converged\"\|\"followed_class\":\"degenerate\"\|\"followed_class\":\"spurious\"" <<< "$h"'
acc=$(sed -n 's/.*"followed_accuracy":\([0-9.e+-]*\).*/\1/p' <<< "$h")
check "dead-relu-hinge followed: accuracy below 1 ($acc)" 'awk -v a="$acc" "BEGIN { exit !(a != \"\" && a < 1) }"'
check "followed: every attack reports where it ends" '[ "$(grep -c "\"followed_class\":" <<< "$out")" = "$n" ]'

"$bin" attack dead-relu-hinge --out "$tmp/a" > /dev/null
check "export writes three files" '[ -s "$tmp/a/data.csv" ] && [ -s "$tmp/a/point.txt" ] && [ -s "$tmp/a/certify.sh" ]'
check "certify.sh is executable" '[ -x "$tmp/a/certify.sh" ]'
# The script runs in a shell whose PATH holds no minima (not the build
# directory, not an installed copy), from another directory.
bare=/usr/bin:/bin
check "no minima on the bare PATH" '! env -i PATH=$bare sh -c "command -v minima" >/dev/null'
c=$(cd / && env -i PATH=$bare "$tmp/a/certify.sh")
check "certify.sh runs without minima on PATH" '[ -n "$c" ]'
env -i PATH=$bare MINIMA="$tmp/gone" sh "$tmp/a/certify.sh" > "$tmp/o" 2> "$tmp/e"
check "a missing minima is named, exit 1" '[ $? = 1 ] && [ ! -s "$tmp/o" ] && [ "$(wc -l < "$tmp/e")" = 1 ] && grep -q "minima not found" "$tmp/e"'
# A binary and a directory with a quote and a space in their names.
odd="$tmp/it's here"
mkdir -p "$odd/bin" && cp "$bin" "$odd/bin/minima"
"$odd/bin/minima" attack dead-relu-hinge --out "$odd/out" > /dev/null
check "certify.sh names its binary by absolute path" 'grep -q "here/bin/minima" "$odd/out/certify.sh"'
c2=$(env -i PATH=$bare sh "$odd/out/certify.sh")
check "certify.sh of an odd path runs" 'grep -q "\"bad_local_minimum\":true" <<< "$c2"'

check "exported attack re-certifies as bad" 'grep -q "\"bad_local_minimum\":true" <<< "$c"'
check "and the defence escapes it" 'grep -q "\"verdict\":\"escaped\"" <<< "$c"'
check "by a first-order escape" 'grep -q "\"defence\".*\"order\":\"gradient\"" <<< "$c"'

# A global minimum is no attack: a linear fit of linear data stays.
printf 'x,y\n0.5,1.1925\n-1.25,-2.98125\n2,4.77\n0.3,0.7155\n' > "$tmp/lin.csv"
printf '2.385\n0\n' > "$tmp/glob.txt"
g=$("$bin" certify --arch 1-1 --act linear --loss squared --data "$tmp/lin.csv" --label y --point "$tmp/glob.txt" --eliminate liang)
check "a global minimum is not bad" 'grep -q "\"class\":\"global\"" <<< "$g" && grep -q "\"bad_local_minimum\":false" <<< "$g"'
check "and the defence does not move it" 'grep -q "\"verdict\":\"stays\"" <<< "$g"'

bad() { "$bin" "$@" > "$tmp/o" 2> "$tmp/e"; r=$?; [ $r = 1 ] && [ "$(wc -l < "$tmp/e")" = 1 ] && [ ! -s "$tmp/o" ]; }
check "attack: unknown name" 'bad attack nosuch && grep -q nosuch "$tmp/e"'
check "attack: missing --out" 'bad attack dead-relu-hinge && grep -q -- "--out" "$tmp/e"'
check "attack: bad lambda" 'bad attack all --lambda x && grep -q lambda "$tmp/e"'
check "attack: no argument" 'bad attack'
check "certify: no --point" 'bad certify --generate xor && grep -q -- "--point" "$tmp/e"'
check "certify: point of the wrong size" 'bad certify --generate xor --point "$tmp/glob.txt" && grep -q "parameters" "$tmp/e"'
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
