#!/usr/bin/python3
"""PyTorch counterpart of `minima spectrum` (bench/instruments.sh): the same
three algorithms on the same network, data and point, in float64 on the CPU.

Network: a ReLU MLP (--arch, default 64-512-512-10), biases, linear output,
softmax cross-entropy averaged over the samples (minima's softmax_ce), on
Debian python3-sklearn's digits.csv.gz (1797 x 64, features as stored). The
point is read from a minima params file (layout: W_1 (w1 x w0, row-major),
b_1, W_2, b_2, ...).

Hessian-vector products by double backward, PyHessian's way: the gradient is
taken once with create_graph=True, then each product is
autograd.grad(grads, params, grad_outputs=v, retain_graph=True) -- the
forward and backward graph is built once per point, as minima's mn_hvp
reuses its forward and backward passes.

Algorithms, written to match src/linalg/lanczos.c and src/instruments/hessian.c:
  top K:   Lanczos from a Gaussian start, full reorthogonalisation (classical
           Gram-Schmidt twice), T diagonalised after every step, stop when the
           K largest Ritz residuals are <= tol * max(1, max |theta|); then
           runs deflated against the found Ritz vectors until the largest
           eigenvalue of the complement is not above the K-th found
           (repeated eigenvalues);
  trace:   Hutchinson with `probes` Rademacher vectors, mean and standard error;
  density: `slq_probes` Gaussian starts x `slq_steps` Lanczos steps (full
           reorthogonalisation), Ritz values and squared first components.
Prints one JSON object per finished part (top, trace, then everything): the
values and the seconds of each part so far; the last line is the result.

usage: /usr/bin/python3 bench/instruments_torch.py PARAMS [--arch 64-512-512-10] [--top 5]
         [--probes 100] [--slq-probes 10] [--slq-steps 100] [--tol 1e-10] [--threads T]
         [--parts top,trace,density]
"""
import argparse
import gzip
import json
import math
import time

import numpy as np
import torch

DIGITS = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"


def load(path_params, widths):
    raw = np.loadtxt(gzip.open(DIGITS, "rt"), delimiter=",")
    X = torch.tensor(raw[:, :-1], dtype=torch.float64)
    y = torch.tensor(raw[:, -1], dtype=torch.long)
    theta = np.loadtxt(path_params)
    params, o = [], 0
    for l in range(1, len(widths)):
        n_w = widths[l] * widths[l - 1]
        params.append(torch.tensor(theta[o:o + n_w].reshape(widths[l], widths[l - 1])))
        o += n_w
        params.append(torch.tensor(theta[o:o + widths[l]]))
        o += widths[l]
    assert o == theta.size, "params file does not match --arch"
    return X, y, [p.requires_grad_(True) for p in params]


def loss_fn(X, y, params):
    h = X
    L = len(params) // 2
    for l in range(L):
        h = h @ params[2 * l].T + params[2 * l + 1]
        if l < L - 1:
            h = torch.relu(h)
    return torch.nn.functional.cross_entropy(h, y)


class Hvp:
    def __init__(self, X, y, params):
        self.params = params
        loss = loss_fn(X, y, params)
        self.grads = torch.autograd.grad(loss, params, create_graph=True)
        self.sizes = [p.numel() for p in params]
        self.shapes = [p.shape for p in params]
        self.P = sum(self.sizes)

    def __call__(self, v):  # v: flat (P) tensor
        vs = [c.view(s) for c, s in zip(torch.split(v, self.sizes), self.shapes)]
        hv = torch.autograd.grad(self.grads, self.params, grad_outputs=vs, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv])


def lanczos(hvp, start, kmax, nhi, tol, lock=None):
    """Lanczos with full reorthogonalisation; with `lock` (rows orthonormal)
    every vector is kept orthogonal to those rows too (deflation)."""
    P = start.numel()
    Q = torch.empty(kmax, P, dtype=torch.float64)

    def orth(w, k):
        for _ in range(2):
            if lock is not None:
                w = w - lock.T @ (lock @ w)
            if k >= 0:
                w = w - Q[:k + 1].T @ (Q[:k + 1] @ w)
        return w

    w = orth(start, -1)
    Q[0] = w / w.norm()
    alpha, beta = [], []
    theta = s = None
    for k in range(kmax):
        w = hvp(Q[k])
        alpha.append(float(Q[k] @ w))
        w = orth(w, k)
        b = float(w.norm())
        beta.append(b)
        m = k + 1
        T = np.diag(alpha) + np.diag(beta[:k], 1) + np.diag(beta[:k], -1)
        theta, s = np.linalg.eigh(T)
        resid = b * np.abs(s[m - 1, :])
        scale = max(1.0, abs(theta[0]), abs(theta[-1]))
        if b <= 1e-14 * scale:
            break
        if nhi and m >= nhi and all(resid[m - 1 - i] <= tol * scale for i in range(nhi)):
            break
        if k + 1 < kmax:
            Q[k + 1] = w / b
    return theta, s, resid, m, Q[:m]


def top_k(hvp, gen, P, k, kmax, tol):
    """minima's mn_hess_extreme (top): Lanczos for the k largest, then runs
    deflated against the found Ritz vectors until the complement's largest
    eigenvalue is not above the k-th found (repeated eigenvalues)."""
    vals, res, vecs, total = [], [], [], 0
    while True:
        need = k - len(vals)
        want = need if need > 0 else 1
        lock = torch.stack(vecs) if vecs else None
        theta, s, resid, m, Q = lanczos(hvp, torch.randn(P, generator=gen, dtype=torch.float64), kmax, want, tol, lock)
        total += m
        scale = max(1.0, abs(theta[0]), abs(theta[-1]))
        new = [(float(theta[m - 1 - i]), float(resid[m - 1 - i]), Q.T @ torch.from_numpy(s[:, m - 1 - i].copy()))
               for i in range(min(want, m))]
        if need <= 0 and not new[0][0] > vals[-1] + tol * scale:
            return vals, res, total
        pairs = sorted(list(zip(vals, res, vecs)) + new, key=lambda t: -t[0])[:k]
        vals, res, vecs = [p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("params")
    ap.add_argument("--arch", default="64-512-512-10")
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--probes", type=int, default=100)
    ap.add_argument("--slq-probes", type=int, default=10)
    ap.add_argument("--slq-steps", type=int, default=100)
    ap.add_argument("--tol", type=float, default=1e-10)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--parts", default="top,trace,density")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    widths = [int(w) for w in a.arch.split("-")]
    X, y, params = load(a.params, widths)
    gen = torch.Generator().manual_seed(1)
    out = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    t0, c0 = time.perf_counter(), time.process_time()
    hvp = Hvp(X, y, params)
    out["seconds_graph"], out["cpu_seconds_graph"] = time.perf_counter() - t0, time.process_time() - c0
    P = hvp.P

    if "top" in a.parts:
        t0, c0 = time.perf_counter(), time.process_time()
        vals, res, m = top_k(hvp, gen, P, a.top, a.steps, a.tol)
        out["seconds_top"], out["cpu_seconds_top"] = time.perf_counter() - t0, time.process_time() - c0
        out["top"], out["top_residuals"], out["top_lanczos_steps"] = vals, res, m
        print(json.dumps({"phase": "top", **out}), flush=True)

    if "trace" in a.parts:
        t0, c0 = time.perf_counter(), time.process_time()
        vals = []
        for _ in range(a.probes):
            z = torch.randint(0, 2, (P,), generator=gen, dtype=torch.float64) * 2 - 1
            vals.append(float(z @ hvp(z)))
        out["seconds_trace"], out["cpu_seconds_trace"] = time.perf_counter() - t0, time.process_time() - c0
        out["trace"] = {"value": float(np.mean(vals)), "se": float(np.std(vals, ddof=1) / math.sqrt(a.probes))}
        print(json.dumps({"phase": "trace", **out}), flush=True)

    if "density" in a.parts:
        t0, c0 = time.perf_counter(), time.process_time()
        nodes, weights = [], []
        for _ in range(a.slq_probes):
            th, sv, _, _, _ = lanczos(hvp, torch.randn(P, generator=gen, dtype=torch.float64), a.slq_steps, 0, 0.0)
            nodes += list(th)
            weights += list(sv[0, :] ** 2 / a.slq_probes)
        out["seconds_density"], out["cpu_seconds_density"] = time.perf_counter() - t0, time.process_time() - c0
        out["density_mean"] = float(np.dot(nodes, weights))
    print(json.dumps(out))

if __name__ == "__main__":
    main()
