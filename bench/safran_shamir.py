#!/usr/bin/python3
"""The Safran-Shamir protocol in PyTorch (CPU, float64) side by side with
`minima experiment safran-shamir`; see bench/README.md, section "Safran-Shamir".

usage: /usr/bin/python3 bench/safran_shamir.py [MINIMA] [--k 8,14] [--extra 0] [--restarts 200]
           [--threads 2] [--torch-threads 2] [--max-iter 2000000] [--variants masked,compact]
           [--malloc default,tuned] [--ref-restarts 1000] [--full-table] [--seed 1] [--json-out FILE]

Model (written from the formulas of Safran & Shamir / notes/landscape-math.md §3, not
from minima's code): student x -> sum_{i<n} relu(w_i.x), output weights 1, teacher
V = I_k, x ~ N(0, I_k),
    F(W) = 1/2 sum_ij g(w_i, w_j) - sum_ij g(w_i, e_j) + 1/2 sum_ij g(e_i, e_j),
    g(u, v) = |u| |v| (sin t + (pi - t) cos t) / (2 pi),  t = angle(u, v).
Protocol: Xavier init w_i ~ N(0, I/k), plain GD with step 5/n until ||grad F|| <= 1e-9
(a cap of --max-iter steps, reported as not-converged); converged with F < 1e-3 is
global; F >= 1e-3 and a positive definite Hessian is spurious; otherwise saddle.

The PyTorch version is batched over restarts: W has shape (R, n, k), F is computed
for all restarts at once and the gradient comes from autograd on F.sum() (restarts
are independent, so each restart's block of the gradient is its own gradient).
Two variants:
  masked   the batch keeps its R restarts until the slowest has converged; finished
           restarts are masked out of the update but still computed (the plain
           batched loop);
  compact  finished restarts are removed from the batch (W = W[still_running]).
Hessians (converged points with F >= 1e-3 only) by torch.autograd.functional.hessian
(vectorize=True), eigenvalues by torch.linalg.eigvalsh.

Each torch configuration (variant x --torch-threads x --malloc) runs in a fresh Python
process with torch.set_num_threads(T) and OpenBLAS (which Debian's torch calls for
matmul, and which set_num_threads does not set) at T threads; --malloc tuned starts it
with glibc's MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ raised (see MALLOC_TUNED).
Timings exclude Python start-up and `import torch`; minima's are its rows' own
`seconds` (wall, from the first run's start to the end of the row's reduction).
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

import torch

PI = math.pi
GTOL = 1e-9
GLOBAL_TOL = 1e-3
MAX_NORM = 1e6


def openblas():
    """The OpenBLAS that torch loaded (Debian's torch calls it for matmul), or None."""
    import ctypes
    for line in open("/proc/self/maps"):
        path = line.split()[-1]
        if "libopenblas" in path:
            lib = ctypes.CDLL(path)  # already loaded: the same instance
            if hasattr(lib, "openblas_set_num_threads"):
                return lib
    return None


def set_threads(th):
    """torch.set_num_threads(th) and the same for OpenBLAS, which it does not set."""
    torch.set_num_threads(th)
    assert torch.get_num_threads() == th
    lib = openblas()
    if lib is not None:
        lib.openblas_set_num_threads(th)
        return int(lib.openblas_get_num_threads())
    return None


# --------------------------------------------------------------------------- model
def make_loss(n, k):
    """F for a batch W (B, n, k) -> (B,)."""
    dt = torch.float64
    eye_n = torch.eye(n, dtype=torch.bool)
    off_k = 1.0 - torch.eye(k, dtype=dt)  # (k, k): sums over a != j
    # 1/2 sum_ij g(e_i, e_j): g(e, e) = 1/2, g(e_i, e_j) = 1/(2 pi) for i != j
    const = 0.5 * (k * 0.5 + k * (k - 1) / (2 * PI))

    def loss(W):
        sq = (W * W).sum(-1)  # (B, n) |w_i|^2
        nrm = sq.sqrt()
        # student-student pairs, i != j: t = acos(cos); the diagonal, g(w, w) = |w|^2 / 2,
        # is added separately (acos'(1) is infinite: the diagonal's cos is replaced by 0
        # before acos so that no NaN enters the backward pass)
        D = torch.bmm(W, W.transpose(1, 2))  # (B, n, n)
        NN = nrm.unsqueeze(2) * nrm.unsqueeze(1)
        c = torch.where(eye_n, torch.zeros_like(D), D / NN).clamp(-1.0, 1.0)
        t = torch.acos(c)
        g_ss = NN * (torch.sin(t) + (PI - t) * c)
        g_ss = torch.where(eye_n, torch.zeros_like(g_ss), g_ss)
        F_ss = g_ss.sum((1, 2)) / (2 * PI) + 0.5 * sq.sum(1)
        # student-teacher pairs: u.e_j = w_ij and |u| |e_j| sin t = |w_i without entry j|
        # =: s_ij, t = atan2(s_ij, w_ij). The acos form of the line above gives NaN
        # gradients at the global minimum (see README): there w_i -> e_j and cos rounds to 1.
        s = torch.matmul(W * W, off_k).sqrt()  # (B, n, k), a sum of squares: no cancellation
        t2 = torch.atan2(s, W)
        g_st = (s + (PI - t2) * W).sum((1, 2)) / (2 * PI)
        return 0.5 * F_ss - g_st + const

    return loss


# --------------------------------------------------------------------------- protocol
def gd_masked(loss, W0, eta, max_iter):
    """Plain batched GD; finished restarts masked out of the update."""
    R = W0.shape[0]
    W = W0.clone().requires_grad_(True)
    active = torch.ones(R, dtype=torch.bool)
    steps = torch.zeros(R, dtype=torch.long)
    status = torch.zeros(R, dtype=torch.long)  # 0 running, 1 converged, 2 diverged, 3 cap
    Ffin = torch.full((R,), float("nan"), dtype=torch.float64)
    gfin = torch.full((R,), float("nan"), dtype=torch.float64)
    it = 0
    batch_evals = 0
    while True:
        F = loss(W)
        (g,) = torch.autograd.grad(F.sum(), W)
        batch_evals += R
        with torch.no_grad():
            gn = g.flatten(1).norm(dim=1)
            wn = W.flatten(1).norm(dim=1)
            bad = ~(torch.isfinite(F) & torch.isfinite(gn) & (wn <= MAX_NORM))
            conv = (gn <= GTOL) & ~bad
            fin = active & (bad | conv | (steps >= max_iter))
            if bool(fin.any()):
                status[fin & conv] = 1
                status[fin & bad] = 2
                status[fin & ~conv & ~bad] = 3
                Ffin[fin] = F[fin]
                gfin[fin] = gn[fin]
                active &= ~fin
                if not bool(active.any()):
                    break
            W.addcmul_(g, active.to(W.dtype).view(R, 1, 1), value=-eta)
            steps += active
        it += 1
    return W.detach(), status, steps, Ffin, gfin, batch_evals, it


def gd_compact(loss, W0, eta, max_iter):
    """Batched GD; finished restarts removed from the batch."""
    R = W0.shape[0]
    Wout = W0.clone()
    idx = torch.arange(R)
    W = W0.clone().requires_grad_(True)
    steps = torch.zeros(R, dtype=torch.long)
    status = torch.zeros(R, dtype=torch.long)
    Ffin = torch.full((R,), float("nan"), dtype=torch.float64)
    gfin = torch.full((R,), float("nan"), dtype=torch.float64)
    it = 0
    batch_evals = 0
    while True:
        F = loss(W)
        (g,) = torch.autograd.grad(F.sum(), W)
        batch_evals += W.shape[0]
        with torch.no_grad():
            gn = g.flatten(1).norm(dim=1)
            wn = W.flatten(1).norm(dim=1)
            bad = ~(torch.isfinite(F) & torch.isfinite(gn) & (wn <= MAX_NORM))
            conv = (gn <= GTOL) & ~bad
            fin = bad | conv | (it >= max_iter)
            if bool(fin.any()):
                fi = idx[fin]
                status[fi] = torch.where(conv[fin], 1, torch.where(bad[fin], 2, 3))
                Ffin[fi] = F[fin]
                gfin[fi] = gn[fin]
                Wout[fi] = W[fin]
                steps[fi] = it
                keep = ~fin
                if not bool(keep.any()):
                    break
                idx = idx[keep]
                g = g[keep]
                W = W[keep].clone().requires_grad_(True)
            W.add_(g, alpha=-eta)
        it += 1
    return Wout, status, steps, Ffin, gfin, batch_evals, it


def classify(loss1, W, status, Ffin):
    """global / spurious / saddle / not-converged / diverged, and lambda_min of the spurious."""
    R = W.shape[0]
    cls = []
    lmins = []
    losses = []
    for r in range(R):
        st = int(status[r])
        if st == 2:
            cls.append("diverged")
        elif st == 3:
            cls.append("not-converged")
        elif float(Ffin[r]) < GLOBAL_TOL:
            cls.append("global")
        else:
            H = torch.autograd.functional.hessian(loss1, W[r], vectorize=True)
            P = W[r].numel()
            ev = torch.linalg.eigvalsh(H.reshape(P, P))
            lmin = float(ev[0])
            if lmin > 0:
                cls.append("spurious")
                lmins.append(lmin)
                losses.append(float(Ffin[r]))
            else:
                cls.append("saddle")
    return cls, lmins, losses


def wilson(s, m, z=1.96):
    if m == 0:
        return float("nan"), float("nan")
    p = s / m
    den = 1 + z * z / m
    c = (p + z * z / (2 * m)) / den
    h = z * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / den
    return 100 * max(0.0, c - h), 100 * min(1.0, c + h)


def two_prop_p(s1, m1, s2, m2):
    """Two-sided p-value of the pooled two-proportion z-test."""
    p = (s1 + s2) / (m1 + m2)
    if p <= 0 or p >= 1:
        return 1.0
    se = math.sqrt(p * (1 - p) * (1 / m1 + 1 / m2))
    z = (s1 / m1 - s2 / m2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def torch_row(k, n, R, variant, seed, max_iter):
    torch.manual_seed(seed * 1000003 + k * 1009 + n)
    loss = make_loss(n, k)
    loss1 = lambda w: loss(w.unsqueeze(0))[0]  # noqa: E731
    eta = 5.0 / n
    t0 = time.perf_counter()
    c0 = time.process_time()
    W0 = torch.randn(R, n, k, dtype=torch.float64) / math.sqrt(k)  # Xavier: N(0, I/k)
    gd = gd_masked if variant == "masked" else gd_compact
    W, status, steps, Ffin, gfin, batch_evals, iters = gd(loss, W0, eta, max_iter)
    t1 = time.perf_counter()
    c1 = time.process_time()
    cls, lmins, losses = classify(loss1, W, status, Ffin)
    t2 = time.perf_counter()
    c2 = time.process_time()
    cnt = {c: cls.count(c) for c in ("global", "spurious", "saddle", "not-converged", "diverged")}
    ns = cnt["spurious"]
    lo, hi = wilson(ns, R)
    distinct_F = len({round(f, 9) for f in losses})
    return dict(tool="torch", variant=variant, k=k, n=n, restarts=R, counts=cnt,
                spurious_pct=100.0 * ns / R, spurious_lo=lo, spurious_hi=hi,
                mean_lambda_min=sum(lmins) / ns if ns else float("nan"),
                mean_loss=sum(losses) / ns if ns else float("nan"),
                distinct_F=distinct_F,
                gd_steps=int(steps.sum()), max_steps=int(steps.max()),
                median_steps=float(steps.double().median()),
                batch_evals=batch_evals, batch_iters=iters,
                gd_seconds=t1 - t0, hess_seconds=t2 - t1, seconds=t2 - t0,
                gd_cpu=c1 - c0, cpu=c2 - c0)


# glibc's malloc serves blocks above M_MMAP_THRESHOLD (128 KiB at start, raised
# dynamically) with fresh mmap()s and returns them on free: every new tensor of
# that size is then page-faulted in again. "tuned" raises the threshold to glibc's
# maximum and stops heap trimming (environment variables of glibc, read at start).
MALLOC_TUNED = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "1073741824"}


def torch_row_child(k, n, R, variant, threads, malloc, seed, max_iter):
    """torch_row in a fresh process (threads, OpenBLAS and malloc set before start)."""
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = str(threads)
    for key in MALLOC_TUNED:
        env.pop(key, None)
    if malloc == "tuned":
        env.update(MALLOC_TUNED)
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-one",
           json.dumps(dict(k=k, n=n, R=R, variant=variant, threads=threads, seed=seed, max_iter=max_iter))]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    t = json.loads(out.strip().splitlines()[-1])
    t["variant"] = "%s, %d thr%s" % (variant, threads, ", malloc tuned" if malloc == "tuned" else "")
    return t


def torch_one(spec):
    p = json.loads(spec)
    blas = set_threads(p["threads"])
    assert blas in (None, p["threads"]), blas
    r = torch_row(p["k"], p["n"], p["R"], p["variant"], p["seed"], p["max_iter"])
    r["openblas_threads"] = blas
    print(json.dumps(r))


def nan_if_none(x):
    return float("nan") if x is None else x


def minima_row(exe, k, extra, R, threads, seed, max_iter, shortcuts):
    cmd = [exe, "experiment", "safran-shamir", "--k", str(k), "--extra", str(extra),
           "--restarts", str(R), "--json", "--threads", str(threads), "--seed", str(seed),
           "--max-iter", str(max_iter)]
    if not shortcuts:
        cmd.append("--no-shortcuts")
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    rows = [json.loads(line) for line in out.splitlines() if line.strip().startswith("{")]
    assert len(rows) == 1, out
    j = rows[0]
    cnt = {"global": round(j["global_pct"] * R / 100), "spurious": round(j["spurious_pct"] * R / 100),
           "saddle": round(j["saddle_pct"] * R / 100),
           "not-converged": round(j["not_converged_pct"] * R / 100),
           "diverged": round(j["diverged_pct"] * R / 100)}
    return dict(tool="minima", variant="shortcuts" if shortcuts else "plain", k=k, n=j["n"], restarts=R,
                counts=cnt, spurious_pct=j["spurious_pct"], spurious_lo=j["spurious_lo"],
                spurious_hi=j["spurious_hi"], mean_lambda_min=nan_if_none(j["mean_lambda_min"]),
                mean_loss=nan_if_none(j["mean_loss"]), distinct=j["distinct"], gd_steps=j["gd_steps"],
                early_global=j.get("early_global"), polished=j.get("polished"),
                seconds=j["seconds"], process_seconds=wall, cpu=cpu, cmd=" ".join(cmd))


def fmt_pct(r):
    return "%5.1f [%4.1f, %4.1f]" % (r["spurious_pct"], r["spurious_lo"], r["spurious_hi"])


def fnum(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if x >= 1e6:
        return "%.2fM" % (x / 1e6)
    if x >= 1e4:
        return "%.0fk" % (x / 1e3)
    return "%.0f" % x


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("minima", nargs="?", default="build/minima")
    ap.add_argument("--k", default="8,14", help="teacher sizes (comma list)")
    ap.add_argument("--extra", default="0", help="n - k values (comma list)")
    ap.add_argument("--restarts", type=int, default=200, help="restarts per row, both tools")
    ap.add_argument("--threads", type=int, default=2, help="minima --threads (and torch's, see --torch-threads)")
    ap.add_argument("--torch-threads", default=None,
                    help="torch.set_num_threads values to run each variant with, comma list (default: --threads)")
    ap.add_argument("--max-iter", type=int, default=2000000, help="GD step cap per restart, both tools")
    ap.add_argument("--variants", default="masked,compact", help="torch variants: masked, compact")
    ap.add_argument("--malloc", default="default,tuned",
                    help="torch's glibc malloc: default, tuned (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_)")
    ap.add_argument("--torch-json", metavar="FILE",
                    help="take the torch rows from FILE (a --json-out of an earlier run) instead of running torch")
    ap.add_argument("--torch-one", help=argparse.SUPPRESS)
    ap.add_argument("--ref-restarts", type=int, default=1000,
                    help="also run minima (shortcuts) with this many restarts per row; 0: no")
    ap.add_argument("--full-table", action="store_true",
                    help="also time minima's whole default experiment (k = 6..20, n = k, k+1, 1000 restarts)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json-out", help="write every result as JSON lines to this file")
    a = ap.parse_args()
    if a.torch_one:
        torch_one(a.torch_one)
        return

    if not os.access(a.minima, os.X_OK):
        sys.exit("safran_shamir.py: %s is not an executable minima" % a.minima)
    tthreads = [int(x) for x in (a.torch_threads or str(a.threads)).split(",") if x]
    ks = [int(x) for x in a.k.split(",") if x]
    extras = [int(x) for x in a.extra.split(",") if x]
    variants = [v for v in a.variants.split(",") if v]
    mallocs = [m for m in a.malloc.split(",") if m]
    for m in mallocs:
        if m not in ("default", "tuned"):
            sys.exit("safran_shamir.py: unknown --malloc %r" % m)
    for v in variants:
        if v not in ("masked", "compact"):
            sys.exit("safran_shamir.py: unknown variant %r" % v)

    if not a.torch_json:
        print("# torch %s, float64, CPU, torch.set_num_threads(%s) and OpenBLAS the same, one process per"
              " configuration" % (torch.__version__, "/".join(map(str, tthreads))))
    print("# minima %s --threads %d; %d cores; OPENBLAS_CORETYPE=%s"
          % (a.minima, a.threads, os.cpu_count(), os.environ.get("OPENBLAS_CORETYPE", "(unset)")))
    print("# load before: %s" % open("/proc/loadavg").read().split(" ", 3)[:3])
    old_torch = []
    if a.torch_json:
        old_torch = [json.loads(x) for x in open(a.torch_json) if x.strip()]
        old_torch = [t for t in old_torch if t.get("tool") == "torch"]
        print("# torch rows taken from %s (not re-run)" % a.torch_json)
    results = []
    t_all = time.perf_counter()
    for k in ks:
        for e in extras:
            n = k + e
            rows = []
            rows.append(minima_row(a.minima, k, e, a.restarts, a.threads, a.seed, a.max_iter, False))
            rows.append(minima_row(a.minima, k, e, a.restarts, a.threads, a.seed, a.max_iter, True))
            if a.ref_restarts:
                rows.append(minima_row(a.minima, k, e, a.ref_restarts, a.threads, a.seed, a.max_iter, True))
            for r in rows:
                r["variant"] += ", %d thr" % a.threads
            if a.torch_json:
                got = [t for t in old_torch if t["k"] == k and t["n"] == n and t["restarts"] == a.restarts]
                if not got:
                    sys.exit("safran_shamir.py: no torch row k=%d n=%d restarts=%d in %s"
                             % (k, n, a.restarts, a.torch_json))
                rows.extend(got)
            configs = [] if a.torch_json else [(v, th, m) for v in variants for th in tthreads for m in mallocs]
            for v, th, m in configs:
                t = torch_row_child(k, n, a.restarts, v, th, m, a.seed, a.max_iter)
                rows.append(t)
                print("#   torch %s k=%d n=%d done: %.1f s (GD %.1f s, Hessians %.1f s), slowest restart %d steps"
                      % (t["variant"], k, n, t["seconds"], t["gd_seconds"], t["hess_seconds"], t["max_steps"]),
                      file=sys.stderr, flush=True)
            results.extend(rows)
    full = None
    if a.full_table:
        cmd = [a.minima, "experiment", "safran-shamir", "--json", "--threads", str(a.threads)]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        full = dict(cmd=" ".join(cmd), seconds=time.perf_counter() - t0,
                    rows=[json.loads(x) for x in out.splitlines() if x.startswith("{")])
    t_all = time.perf_counter() - t_all

    # ------------------------------------------------------------------ table
    print()
    print("| row | tool | variant | restarts | % spurious [95% Wilson] | grad evals | grad evals/s | seconds | CPU s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        row = "k=%d n=%d" % (r["k"], r["n"])
        if r["tool"] == "minima":
            ge = r["gd_steps"]
            gs = "%s" % fnum(ge / r["seconds"])
            ges = fnum(ge)
            sec = "%.3f (process %.3f)" % (r["seconds"], r["process_seconds"])
            cpu = "%.3f (process)" % r["cpu"]
        else:
            ges = "%s needed / %s batch" % (fnum(r["gd_steps"]), fnum(r["batch_evals"]))
            gs = "%s / %s" % (fnum(r["gd_steps"] / r["gd_seconds"]), fnum(r["batch_evals"] / r["gd_seconds"]))
            sec = "%.2f (GD %.2f)" % (r["seconds"], r["gd_seconds"])
            cpu = "%.2f (GD %.2f)" % (r["cpu"], r["gd_cpu"])
        print("| %s | %s | %s | %d | %s | %s | %s | %s | %s |"
              % (row, r["tool"], r["variant"], r["restarts"], fmt_pct(r), ges, gs, sec, cpu))

    def by_row():
        """(k, n, the row's results, minima's plain-protocol result) per row."""
        for k in ks:
            for e in extras:
                sel = [r for r in results if r["k"] == k and r["n"] == k + e]
                plain = next(r for r in sel if r["tool"] == "minima" and r["variant"].startswith("plain"))
                yield k, k + e, sel, plain

    print()
    print("Ratios minima / torch (rows with the same restarts). (1) gradient evaluations per second:")
    print("minima plain gd_steps / row seconds over torch needed steps / GD seconds (and over torch")
    print("batch evaluations / GD seconds), and per CPU second (minima: its whole process's CPU time,")
    print("torch: the GD loop's); (2) time to a finished row: torch row seconds / minima row seconds.")
    print()
    print("| row | torch variant | (1) evals/s vs needed | (1) vs batch | (1) per CPU s, needed | "
          "(2) time, minima plain | (2) time, minima shortcuts |")
    print("|---|---|---|---|---|---|---|")
    for k, n, sel, mp in by_row():
        ms = next(r for r in sel if r["tool"] == "minima" and r["variant"].startswith("shortcuts")
                  and r["restarts"] == a.restarts)
        m_rate = mp["gd_steps"] / mp["seconds"]
        for t in (r for r in sel if r["tool"] == "torch"):
            print("| k=%d n=%d | %s | %.0fx | %.0fx | %.0fx | %.0fx | %.0fx |"
                  % (k, n, t["variant"], m_rate / (t["gd_steps"] / t["gd_seconds"]),
                     m_rate / (t["batch_evals"] / t["gd_seconds"]),
                     (mp["gd_steps"] / mp["cpu"]) / (t["gd_steps"] / t["gd_cpu"]),
                     t["seconds"] / mp["seconds"], t["seconds"] / ms["seconds"]))

    print()
    print("Statistics (different RNGs: the runs are independent samples, so fractions are compared")
    print("statistically, two-sided pooled two-proportion z-test against minima's plain row and its")
    print("reference row):")
    print()
    print("| row | tool | variant | restarts | global | spurious | saddle | not-conv | diverged | "
          "mean F (spurious) | mean lambda_min | distinct | mean GD steps/run | p vs minima plain | p vs minima ref |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k, n, sel, mp in by_row():
        ref = [r for r in sel if r["tool"] == "minima" and r["restarts"] == a.ref_restarts]
        ref = ref[-1] if ref else None
        for r in sel:
            c = r["counts"]
            p1 = two_prop_p(c["spurious"], r["restarts"], mp["counts"]["spurious"], mp["restarts"])
            p2 = (two_prop_p(c["spurious"], r["restarts"], ref["counts"]["spurious"], ref["restarts"])
                  if ref else float("nan"))
            dist = r.get("distinct", r.get("distinct_F"))
            dist = "%d%s" % (dist, "" if r["tool"] == "minima" else " (F values)")
            print("| k=%d n=%d | %s | %s | %d | %d | %d | %d | %d | %d | %.6g | %.4g | %s | %.0f | %s | %s |"
                  % (k, n, r["tool"], r["variant"], r["restarts"], c["global"], c["spurious"], c["saddle"],
                     c["not-converged"], c["diverged"], r["mean_loss"], r["mean_lambda_min"], dist,
                     r["gd_steps"] / r["restarts"], "-" if r is mp else "%.2f" % p1,
                     "-" if (r is ref or ref is None) else "%.2f" % p2))
    for r in results:
        if r["tool"] == "torch" and (r["counts"]["not-converged"] or r["counts"]["diverged"]):
            print("# note: torch %s k=%d n=%d: %d restarts hit the cap of %d steps, %d diverged"
                  % (r["variant"], r["k"], r["n"], r["counts"]["not-converged"], a.max_iter,
                     r["counts"]["diverged"]))
        if r["tool"] == "torch":
            print("# torch %s k=%d n=%d: slowest restart %d GD steps, median %.0f; %d batch iterations; "
                  "Hessians %.2f s" % (r["variant"], r["k"], r["n"], r["max_steps"], r["median_steps"],
                                       r["batch_iters"], r["hess_seconds"]))
    if full:
        print("# minima's full default experiment (%d rows x 1000 restarts): %.1f s wall (`%s`)"
              % (len(full["rows"]), full["seconds"], full["cmd"]))
    print("# whole bench %.1f s; load after: %s" % (t_all, open("/proc/loadavg").read().split(" ", 3)[:3]))
    if a.json_out:
        with open(a.json_out, "w") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
            if full:
                f.write(json.dumps(dict(full_table=full)) + "\n")


if __name__ == "__main__":
    main()
