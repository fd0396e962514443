#!/usr/bin/env bash
# minima spectrum, slice and path end to end on a small softplus network:
# the top/bottom eigenvalues against `minima eval --hessian` (LAPACK on the
# dense Hessian), the trace within 3 standard errors of the eigenvalues'
# sum, the density's integral and mean, slices and paths reproducing
# `minima eval` at their points bit for bit, determinism, and figures.
set -u
bin=$1
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }

M="--generate spirals --n 60 --arch 2-6-5-1 --act softplus --loss squared"
# shellcheck disable=SC2086
"$bin" train $M --steps 30 --seed 3 --save-params "$tmp/a" > /dev/null
# shellcheck disable=SC2086
"$bin" train $M --steps 60 --seed 4 --save-params "$tmp/b" > /dev/null
# shellcheck disable=SC2086
"$bin" eval $M --params "$tmp/a" --hessian > "$tmp/eval.json"
# shellcheck disable=SC2086
"$bin" spectrum $M --params "$tmp/a" --top 3 --bottom 2 --trace --probes 300 --density --slq-probes 40 \
  --slq-steps 25 --lanczos-tol 1e-12 > "$tmp/spec.json"
check "spectrum exits 0" '[ $? = 0 ]'
"$py" - "$tmp/eval.json" "$tmp/spec.json" > "$tmp/cmp" 2>&1 <<'PY'
import json, sys
e = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
ev = sorted(e["eigenvalues"]); P = e["params"]
scale = max(abs(ev[0]), abs(ev[-1]))
ok = all(abs(a - b) <= 1e-8 * scale for a, b in zip(s["top"], ev[::-1][:3]))
ok &= all(abs(a - b) <= 1e-8 * scale for a, b in zip(s["bottom"], ev[:2]))
ok &= s["top_converged"] and s["bottom_converged"] and len(s["top"]) == 3 and len(s["bottom"]) == 2
tr, se = s["trace"]["value"], s["trace"]["se"]
ok &= se > 0 and abs(tr - sum(ev)) <= 3 * se
d = s["density"]; g, v = d["grid"], d["values"]
integral = sum(0.5 * (g[i] - g[i - 1]) * (v[i] + v[i - 1]) for i in range(1, len(g)))
mean = sum(0.5 * (g[i] - g[i - 1]) * (g[i] * v[i] + g[i - 1] * v[i - 1]) for i in range(1, len(g)))
ok &= abs(integral - 1) < 1e-6 and abs(mean - d["mean"]) < 1e-6 * (g[-1] - g[0])
ok &= abs(d["mean"] - sum(ev) / P) <= 3 * d["mean_se"]
print("ok" if ok else "mismatch: top %s vs %s, trace %g +- %g vs %g, integral %g, mean %g vs %g +- %g"
      % (s["top"], ev[::-1][:3], tr, se, sum(ev), integral, d["mean"], sum(ev) / P, d["mean_se"]))
PY
check "spectrum agrees with LAPACK, trace within 3 SE, density integrates to 1 with mean trace/P ($(cat "$tmp/cmp"))" \
  'grep -qx ok "$tmp/cmp"'
# shellcheck disable=SC2086
"$bin" spectrum $M --params "$tmp/a" --top 3 --trace --density | sed 's/"seconds".*//' > "$tmp/s1"
# shellcheck disable=SC2086
"$bin" spectrum $M --params "$tmp/a" --top 3 --trace --density | sed 's/"seconds".*//' > "$tmp/s2"
check "spectrum is deterministic" 'cmp -s "$tmp/s1" "$tmp/s2"'

loss_of() { sed -n 's/.*"loss":\([^,]*\),.*/\1/p' <<< "$1"; }
# shellcheck disable=SC2086
la=$(loss_of "$("$bin" eval $M --params "$tmp/a")")
# shellcheck disable=SC2086
lb=$(loss_of "$("$bin" eval $M --params "$tmp/b")")
# shellcheck disable=SC2086
"$bin" slice $M --params "$tmp/a" --dir toward --to "$tmp/b" --range 0:1 --points 11 > "$tmp/t.csv"
check "slice exits 0" '[ $? = 0 ]'
check "toward slice: a = 0 is eval at A" '[ "$(sed -n 2p "$tmp/t.csv" | cut -d, -f2)" = "$la" ]'
check "toward slice: a = 1 is eval at B" '[ "$(sed -n 12p "$tmp/t.csv" | cut -d, -f2)" = "$lb" ]'
# shellcheck disable=SC2086
"$bin" slice $M --params "$tmp/a" --dir filter,eig --points 5 --out "$tmp/f.csv"
check "2-D slice: 25 rows and a header" '[ "$(wc -l < "$tmp/f.csv")" = 26 ]'
check "2-D slice: (0, 0) is eval at the point" '[ "$(grep "^0,0," "$tmp/f.csv" | cut -d, -f3)" = "$la" ]'
# shellcheck disable=SC2086
"$bin" path $M "$tmp/a" "$tmp/b" --points 21 --fit-steps 50 > "$tmp/path.json"
check "path exits 0" '[ $? = 0 ]'
"$py" - "$tmp/path.json" "$la" "$lb" > "$tmp/pc" 2>&1 <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); la, lb = float(sys.argv[2]), float(sys.argv[3])
ok = p["loss_a"] == la and p["loss_b"] == lb and p["line"]["loss"][0] == la and p["curve"]["loss"][-1] == lb
top = max(la, lb)
ok &= abs(p["line"]["barrier"] - (max(p["line"]["loss"]) - top)) == 0
ok &= abs(p["curve"]["barrier"] - (max(p["curve"]["loss"]) - top)) == 0 and p["curve"]["barrier"] >= 0
print("ok" if ok else "mismatch: %s" % {k: p[k] for k in ("loss_a", "loss_b")})
PY
check "path: end losses are eval's, barriers are max - max(ends) ($(cat "$tmp/pc"))" 'grep -qx ok "$tmp/pc"'
if command -v gnuplot > /dev/null; then
  # shellcheck disable=SC2086
  "$bin" spectrum $M --params "$tmp/a" --top 2 --density --plot "$tmp/dens" > /dev/null
  check "density figure" '[ -s "$tmp/dens.png" ] && [ -s "$tmp/dens.svg" ]'
  # shellcheck disable=SC2086
  "$bin" slice $M --params "$tmp/a" --dir random,random --points 7 --plot "$tmp/sl" > /dev/null
  check "2-D slice figure" '[ -s "$tmp/sl.png" ] && [ -s "$tmp/sl.svg" ]'
  # shellcheck disable=SC2086
  "$bin" path $M "$tmp/a" "$tmp/b" --points 11 --fit-steps 5 --plot "$tmp/pa" > /dev/null
  check "path figure" '[ -s "$tmp/pa.png" ] && [ -s "$tmp/pa.svg" ]'
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
