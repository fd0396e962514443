#!/usr/bin/env bash
# minima spectrum against the same algorithms in PyTorch (instruments_torch.py)
# on the 64-512-512-10 ReLU network on digits (301066 parameters): seconds for
# the top-5 eigenvalues (Lanczos to residual 1e-10, then the deflated check for
# repeated eigenvalues), the trace (100 Hutchinson probes) and the density
# (10 probes x 100 Lanczos steps; SLQ_PROBES=2 for a shorter run).
# Both programs run on one thread, pinned to the same core (CORE, default 1),
# interleaved part by part (minima top, torch top, minima trace, ...), so the
# load of a shared machine falls on both alike; the ratios are of CPU seconds
# (user + system), the load average is printed before every run.
#   [CORE=1] [SLQ_PROBES=10] [ARCH=64-512-512-10] [MINIMA=binary] bash bench/instruments.sh [build-dir] [params-file]
# Without a params file, the point is 200 Adam steps from seed 1 (minima train).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
params=${2:-}
core=${CORE:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
arch=${ARCH:-64-512-512-10}
N="--dataset digits --arch $arch --loss softmax_ce"
minima=${MINIMA:-$build/minima} # MINIMA=path: a copied binary, so a rebuild during a long run does not change it
[ -n "${MINIMA:-}" ] || cmake --build "$build" --target minima_cli -j2 > /dev/null
if [ -z "$params" ]; then
  params=$tmp/digits.params
  # shellcheck disable=SC2086
  "$minima" train $N --optimizer adam --lr 0.001 --steps 200 --seed 1 --save-params "$params" > /dev/null
fi
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), family $(lscpu | sed -n 's/^CPU family: *//p'), $(nproc) cores; pinned to core $core"
pin() { taskset -c "$core" env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$@"; }
declare -A opt=([top]="--top 5" [trace]="--top 0 --trace" [density]="--top 0 --density --slq-probes ${SLQ_PROBES:-10}")
for part in top trace density; do
  echo "$(date -u +%H:%M:%S) $part: minima, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  # shellcheck disable=SC2086
  pin "$minima" spectrum $N --params "$params" ${opt[$part]} --json > "$tmp/minima_$part.json"
  echo "$(date -u +%H:%M:%S) $part: torch, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  pin /usr/bin/python3 bench/instruments_torch.py "$params" --arch "$arch" --threads 1 --parts "$part" \
    --slq-probes "${SLQ_PROBES:-10}" | tail -n 1 > "$tmp/torch_$part.json"
done
echo "$(date -u +%H:%M:%S) done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
m = {p: json.load(open("%s/minima_%s.json" % (d, p))) for p in ("top", "trace", "density")}
t = {p: json.load(open("%s/torch_%s.json" % (d, p))) for p in ("top", "trace", "density")}
mt, tt = m["top"], t["top"]
rel = max(abs(a - b) / abs(b) for a, b in zip(mt["top"], tt["top"]))
print("top-5 minima  %s (residuals <= %.1e, %d steps)" % (["%.10g" % v for v in mt["top"]], max(mt["top_residuals"]), mt["top_lanczos_steps"]))
print("top-5 torch   %s (residuals <= %.1e, %d steps); largest relative difference %.1e"
      % (["%.10g" % v for v in tt["top"]], max(tt["top_residuals"]), tt["top_lanczos_steps"], rel))
print("trace minima %.6g +- %.2g, torch %.6g +- %.2g; density mean minima %.6g, torch %.6g"
      % (m["trace"]["trace"]["value"], m["trace"]["trace"]["se"], t["trace"]["trace"]["value"], t["trace"]["trace"]["se"],
         m["density"]["density"]["mean"], t["density"]["density_mean"]))
print("| task | minima CPU s | PyTorch CPU s | ratio | minima wall s | PyTorch wall s |")
print("|---|---|---|---|---|---|")
for k, name in (("top", "top-5 eigenvalues"), ("trace", "trace, 100 probes"), ("density", "density")):
    tc = t[k]["cpu_seconds_" + k] + t[k]["cpu_seconds_graph"]  # the graph is built once per point, per run
    tw = t[k]["seconds_" + k] + t[k]["seconds_graph"]
    mc, mw = m[k]["cpu_seconds"][k], m[k]["seconds"][k]
    print("| %s | %.1f | %.1f | %.2fx | %.1f | %.1f |" % (name, mc, tc, tc / mc, mw, tw))
PY
