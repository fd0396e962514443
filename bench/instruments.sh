#!/usr/bin/env bash
# minima spectrum against the same algorithms in PyTorch (instruments_torch.py)
# on the 64-512-512-10 ReLU network on digits (301066 parameters), one after
# the other on the same cores: seconds for the top-5 eigenvalues (Lanczos to
# residual 1e-10), the trace (100 Hutchinson probes) and the density (10 probes
# x 100 Lanczos steps; SLQ_PROBES=2 for a shorter run), and the ratios torch / minima,
# wall-clock and CPU (all threads).
#   bash bench/instruments.sh [build-dir] [params-file] [torch-threads]
# Without a params file, the point is 200 Adam steps from seed 1 (minima train).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
params=${2:-}
threads=${3:-$(nproc)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
N="--dataset digits --arch 64-512-512-10 --loss softmax_ce"
cmake --build "$build" --target minima_cli -j2 > /dev/null
if [ -z "$params" ]; then
  params=$tmp/digits.params
  # shellcheck disable=SC2086
  "$build/minima" train $N --optimizer adam --lr 0.001 --steps 200 --seed 1 --save-params "$params" > /dev/null
fi
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
"$build/minima" spectrum $N --params "$params" --top 5 --trace --density --slq-probes "${SLQ_PROBES:-10}" > "$tmp/minima.json"
/usr/bin/python3 bench/instruments_torch.py "$params" --threads "$threads" --slq-probes "${SLQ_PROBES:-10}" > "$tmp/torch.json"
/usr/bin/python3 - "$tmp/minima.json" "$tmp/torch.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); t = json.loads(open(sys.argv[2]).read().splitlines()[-1])
rel = max(abs(a - b) / abs(b) for a, b in zip(m["top"], t["top"]))
print("top-5 minima  %s (residuals <= %.1e, %d steps)" % (["%.10g" % v for v in m["top"]], max(m["top_residuals"]), m["top_lanczos_steps"]))
print("top-5 torch   %s (residuals <= %.1e, %d steps); largest relative difference %.1e"
      % (["%.10g" % v for v in t["top"]], max(t["top_residuals"]), t["top_lanczos_steps"], rel))
print("trace minima %.6g +- %.2g, torch %.6g +- %.2g; density mean minima %.6g, torch %.6g"
      % (m["trace"]["value"], m["trace"]["se"], t["trace"]["value"], t["trace"]["se"], m["density"]["mean"], t["density_mean"]))
print("| task | minima wall s | PyTorch wall s (%d threads) | ratio | minima CPU s | PyTorch CPU s | ratio |" % t["threads"])
print("|---|---|---|---|---|---|---|")
for k, name in (("top", "top-5 eigenvalues"), ("trace", "trace, 100 probes"), ("density", "density")):
    tw = t["seconds_" + k] + (t["seconds_graph"] if k == "top" else 0)
    tc = t["cpu_seconds_" + k] + (t["cpu_seconds_graph"] if k == "top" else 0)
    mw, mc = m["seconds"][k], m["cpu_seconds"][k]
    print("| %s | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx |" % (name, mw, tw, tw / mw, mc, tc, tc / mc))
PY
