#!/usr/bin/env bash
# minima experiment saddles and balance from the command line: the quick
# plans print their tables, one JSON object per line with --json (the
# documented keys), the figures' two files, and a re-run on the same
# database loads every run and prints the same rows.
# Usage: cli_dynamics.sh MINIMA
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
no() { echo "FAIL: $*"; fail=$((fail + 1)); }
py=/usr/bin/python3

for e in saddles balance; do
  if "$bin" experiment $e --quick --db "$tmp/$e.db" --json > "$tmp/$e.json" 2> "$tmp/$e.err"; then ok; else no "$e --quick failed: $(cat "$tmp/$e.err")"; fi
  if "$bin" experiment $e --quick --db "$tmp/$e.db" --json > "$tmp/$e.2.json" 2> "$tmp/$e.2.err"; then ok; else no "$e re-run failed"; fi
  # the same rows, only the loaded counts differ
  if diff <(sed 's/"loaded":[0-9]*//' "$tmp/$e.json") <(sed 's/"loaded":[0-9]*//' "$tmp/$e.2.json") > /dev/null; then ok; else no "$e: re-run rows differ"; fi
  if grep -q "(0 loaded" "$tmp/$e.err" && ! grep -q "(0 loaded" "$tmp/$e.2.err"; then ok; else no "$e: loaded counts $(cat "$tmp/$e.err" "$tmp/$e.2.err")"; fi
done

# JSON: every line an object with the documented keys
"$py" - "$tmp/saddles.json" "$tmp/balance.json" <<'PY' || no "JSON keys"
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
oct_ = [r for r in s if r["part"] == "octopus"]
net = [r for r in s if r["part"] == "network"]
assert len(oct_) == 14 and len(net) == 1, (len(oct_), len(net))
for r in oct_:
    assert {"d", "method", "restarts", "median_total", "median_escape", "q1_escape", "q3_escape",
            "not_passed", "stuck", "subnormal", "loaded"} <= set(r), r.keys()
    assert len(r["median_escape"]) == r["d"]
assert net[0]["class"] == "saddle" and net[0]["gd"][-1] == -1 and net[0]["pgd"][-1] > 0
inv = [r for r in b if r["part"] == "invariants"]
mf = [r for r in b if r["part"] == "factorisation"]
assert len(inv) == 10 and len(mf) == 3
for r in inv:
    assert {"act", "step", "iterations", "unit_drift", "layer_drift", "ratio_to_previous_step"} <= set(r)
PY
[ $? -eq 0 ] && ok

# tables and figures
if command -v gnuplot > /dev/null; then
  for e in saddles balance; do
    if "$bin" experiment $e --quick --plot "$tmp/fig-$e" > "$tmp/$e.txt" 2> /dev/null \
      && [ -s "$tmp/fig-$e.png" ] && [ -s "$tmp/fig-$e.svg" ]; then ok; else no "$e --plot"; fi
  done
  grep -q "^# GD's escape time per saddle grows by" "$tmp/saddles.txt" && ok || no "saddles table"
  grep -q "^relu  *0.01 " "$tmp/balance.txt" && ok || no "balance table"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
