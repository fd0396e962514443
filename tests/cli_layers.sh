#!/usr/bin/env bash
# The layer syntax and --init through the command line: --layers with dense
# layers is --arch byte for byte, --init random is the default, --init
# identity puts I (dense) and e_0 (conv1d) into the square layers and leaves
# the rest as drawn.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
# the params file (one number per line) as one space-separated line
params() { tr '\n' ' ' < "$1" | sed 's/ $//'; }

a=$("$bin" train --arch 2-8-1 --steps 50)
b=$("$bin" train --layers dense:8-dense:1 --steps 50)
c=$("$bin" train --layers dense:8-dense:1 --init random --steps 50)
check "--layers dense:8-dense:1 is --arch 2-8-1" '[ -n "$a" ] && [ "$a" = "$b" ]'
check "--init random is the default" '[ "$a" = "$c" ]'

# 2-2-2-1, no bias: W1 = I, W2 = I, W3 (1 x 2) as drawn without --init.
"$bin" train --arch 2-2-2-1 --no-bias --steps 0 --save-params "$tmp/r" > /dev/null
"$bin" train --arch 2-2-2-1 --no-bias --init identity --steps 0 --save-params "$tmp/i" > /dev/null
r=($(params "$tmp/r")) i=($(params "$tmp/i"))
check "dense identity: 10 parameters" '[ ${#i[@]} = 10 ] && [ ${#r[@]} = 10 ]'
check "dense identity: W1 = W2 = I" '[ "${i[*]:0:8}" = "1 0 0 1 1 0 0 1" ]'
check "dense identity: W3 as drawn" '[ "${i[*]:8:2}" = "${r[*]:8:2}" ] && [ "${i[8]}" != 0 ]'

# conv1d-conv1d-dense:1 on 4 features: filters e_0 (and their biases 0).
"$bin" train --generate separable --dim 4 --loss logistic --layers conv1d-conv1d-dense:1 --init identity \
  --steps 0 --save-params "$tmp/c" > /dev/null
c=($(params "$tmp/c"))
check "conv1d identity: 15 parameters" '[ ${#c[@]} = 15 ]'
check "conv1d identity: filters e_0, biases 0" '[ "${c[*]:0:10}" = "1 0 0 0 0 1 0 0 0 0" ]'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
