#!/usr/bin/python3
"""Independent cross-check of `minima eval --hessian` against PyTorch (float64).

For many random configurations (every activation x loss x eliminator, skip
on/off, bias on/off, 1-3 hidden layers, random widths, 20-50 samples; each
once as an MLP and once with circular conv1d layers among dense ones) this
script writes random data to a temporary CSV and random parameters to a
temporary params file, runs

    minima eval --arch ... | --layers ... --act ... --loss ... [--eliminate E --lambda X]
                [--skip] [--no-bias] --data F.csv --label ... --params P --hessian

and compares the loss, gradient and Hessian (and the Hessian's eigenvalues)
with an independent PyTorch implementation of the same objective

    L = (1/N) sum_i loss(f(x_i), y_i) + (lambda/2) sum_j a_j^2

differentiated by torch.autograd / torch.autograd.functional.hessian.

Error measure: max over entries of |minima - torch| / max(1, |torch|); the
eigenvalues are compared relative to max(1, max |eigenvalue|). All must be
<= 1e-8.

Kinks: ReLU / leaky-ReLU pre-activations and hinge arguments (1 - y f) within
1e-3 of 0 make the derivatives one-sided; such draws are skipped (counted and
reported) and the configuration is redrawn, up to MAX_DRAWS times.

Usage: /usr/bin/python3 bench/torch_crosscheck.py [path/to/minima] [--seed S] [--repeat R]
Prints one line per configuration, then "N passed, M failed" alone on a line;
exits 1 if anything failed.
"""
import argparse
import itertools
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy
import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

ACTS = ["relu", "leaky_relu", "softplus", "sigmoid", "tanh", "quadratic", "linear"]
LOSSES = ["squared", "logistic", "poly_hinge", "squared_hinge", "softmax_ce"]
ELIMS = ["none", "liang", "per-output"]
MARGIN_LOSSES = {"logistic", "poly_hinge", "squared_hinge"}
HINGE_LOSSES = {"poly_hinge", "squared_hinge"}
KINK_ACTS = {"relu", "leaky_relu"}
KINDS = {"mlp": [False], "conv1d": [True], "all": [False, True]}  # conv1d layers or not
KINK_MARGIN = 1e-3
RTOL = 1e-8
MAX_DRAWS = 30          # parameter draws per configuration before its widths are redrawn
MAX_CONFIG_TRIES = 5


# ----------------------------------------------------------------------------
# The independent model.

def softplus0(m):
    """log(1 + exp(m)), written so that autograd's first and second derivatives stay
    finite for large |m| (torch.logaddexp's double backward gives NaN near |m| ~ 1e3)."""
    return m.clamp(min=0) + torch.log1p(torch.exp(-m.abs()))


def act_fn(name, prm):
    if name == "relu":
        return lambda z: torch.where(z > 0, z, torch.zeros_like(z))
    if name == "leaky_relu":
        return lambda z: torch.where(z > 0, z, prm * z)
    if name == "softplus":
        # log(1 + exp(beta z)) / beta, no threshold approximation
        return lambda z: softplus0(prm * z) / prm
    if name == "sigmoid":
        return torch.sigmoid
    if name == "tanh":
        return torch.tanh
    if name == "quadratic":
        return lambda z: z * z
    if name == "linear":
        return lambda z: z
    raise ValueError(name)


def layer_sizes(cfg, l):
    """(weights, biases) of layer l (1-based): dense W (wo x wi) and b (wo); conv1d a filter
    (wi) and one shared bias."""
    wo, wi = cfg["widths"][l], cfg["widths"][l - 1]
    if cfg["kinds"][l - 1] == "conv1d":
        return wi, (1 if cfg["bias"] else 0)
    return wo * wi, (wo if cfg["bias"] else 0)


def unpack(cfg, theta):
    """Split the flat vector in minima's documented layout."""
    widths, d, K = cfg["widths"], cfg["widths"][0], cfg["widths"][-1]
    off = 0
    layers = []
    for l in range(1, len(widths)):
        wo, wi = widths[l], widths[l - 1]
        nw, nb = layer_sizes(cfg, l)
        W = theta[off:off + nw]
        if cfg["kinds"][l - 1] == "dense":
            W = W.reshape(wo, wi)
        off += nw
        b = theta[off:off + nb] if nb else None
        off += nb
        layers.append((cfg["kinds"][l - 1], W, b))
    S = None
    if cfg["skip"]:
        S = theta[off:off + K * d].reshape(K, d)
        off += K * d
    elims = []
    for _ in range(nelim(cfg)):
        a = theta[off]
        w = theta[off + 1:off + 1 + d]
        bb = theta[off + 1 + d]
        elims.append((a, w, bb))
        off += d + 2
    assert off == theta.numel(), (off, theta.numel())
    return layers, S, elims


def nelim(cfg):
    return {"none": 0, "liang": 1, "per-output": cfg["widths"][-1]}[cfg["elim"]]


def nparams(cfg):
    w = cfg["widths"]
    p = sum(sum(layer_sizes(cfg, l)) for l in range(1, len(w)))
    if cfg["skip"]:
        p += w[-1] * w[0]
    return p + nelim(cfg) * (w[0] + 2)


def forward(cfg, theta, X):
    """Outputs F (N x K) and the hidden pre-activations."""
    layers, S, elims = unpack(cfg, theta)
    act = act_fn(cfg["act"], cfg["act_param"])
    h = X
    pre = []
    for l, (kind, W, b) in enumerate(layers):
        if kind == "conv1d":
            # z[:, k] = sum_j f[j] h[:, (k + j) mod D]; roll by -j puts h[(k + j) mod D] at k
            z = sum(W[j] * torch.roll(h, shifts=-j, dims=1) for j in range(W.numel()))
        else:
            z = h @ W.T
        if b is not None:
            z = z + b
        if l < len(layers) - 1:
            pre.append(z)
            h = act(z)
        else:
            h = z
    F = h
    if S is not None:
        F = F + X @ S.T
    if elims:
        cols = [F[:, k] for k in range(F.shape[1])]
        for j, (a, w, bb) in enumerate(elims):
            k = 0 if cfg["elim"] == "liang" else j
            cols[k] = cols[k] + a * torch.exp(X @ w + bb)
        F = torch.stack(cols, dim=1)
    return F, pre, elims


def objective(cfg, theta, X, Y):
    F, _, elims = forward(cfg, theta, X)
    loss = cfg["loss"]
    if loss == "squared":
        per = 0.5 * ((F - Y) ** 2).sum(dim=1)
    elif loss == "logistic":
        per = softplus0(-Y * F).sum(dim=1)
    elif loss == "poly_hinge":
        t = 1.0 - Y * F
        per = (torch.where(t > 0, t, torch.zeros_like(t)) ** cfg["p"]).sum(dim=1)
    elif loss == "squared_hinge":
        t = 1.0 - Y * F
        per = (torch.where(t > 0, t, torch.zeros_like(t)) ** 2).sum(dim=1)
    elif loss == "softmax_ce":
        c = Y[:, 0].long()
        per = -torch.log_softmax(F, dim=1).gather(1, c[:, None])[:, 0]
    else:
        raise ValueError(loss)
    L = per.mean()
    if elims:
        L = L + 0.5 * cfg["lambda"] * sum(a * a for a, _, _ in elims)
    return L


def kink_distance(cfg, theta, X, Y):
    """Smallest distance of a ReLU/leaky pre-activation or a hinge argument to its kink."""
    with torch.no_grad():
        F, pre, _ = forward(cfg, theta, X)
        dist = math.inf
        if cfg["act"] in KINK_ACTS:
            for z in pre:
                dist = min(dist, z.abs().min().item())
        if cfg["loss"] in HINGE_LOSSES:
            dist = min(dist, (1.0 - Y * F).abs().min().item())
        return dist


# ----------------------------------------------------------------------------
# Random configurations. The eliminating neurons' w, b are drawn small (|w.x + b|
# is O(1)) so exp() stays modest; hidden weights are scaled by 1/sqrt(fan-in).

def make_config(rng, act, loss, elim, skip, bias, conv=False):
    """conv: hidden layers are conv1d or dense at random, at least one conv1d (which keeps
    its input's width); the output layer is dense."""
    depth_hidden = rng.randint(1, 3)
    d = rng.randint(2, 5) if conv else rng.randint(1, 4)
    if loss == "softmax_ce":
        K = rng.randint(2, 3)
    elif elim == "liang":
        K = 1
    else:
        K = rng.randint(1, 2)
    kinds = ["dense"] * (depth_hidden + 1)
    if conv:
        kinds[:depth_hidden] = [rng.choice(["conv1d", "dense"]) for _ in range(depth_hidden)]
        kinds[rng.randrange(depth_hidden)] = "conv1d"
    widths = [d]
    for kind in kinds[:-1]:
        widths.append(widths[-1] if kind == "conv1d" else rng.randint(1, 6))
    widths.append(K)
    cfg = dict(act=act, loss=loss, elim=elim, skip=skip, bias=bias, widths=widths, kinds=kinds,
               n=rng.randint(20, 50), act_param=None, p=None)
    if act == "leaky_relu":
        cfg["act_param"] = rng.choice([0.01, 0.1, 0.3, -0.2])
    elif act == "softplus":
        cfg["act_param"] = rng.choice([0.5, 1.0, 2.5])
    if loss == "poly_hinge":
        cfg["p"] = rng.choice([2.0, 2.5, 3.0, 4.0])
    cfg["lambda"] = rng.choice([0.0, 0.01, 0.3]) if elim != "none" else 0.01
    return cfg


def draw_point(cfg, gen):
    """Random data (X, Y) and parameters, exponents kept modest."""
    w, n = cfg["widths"], cfg["n"]
    d, K = w[0], w[-1]
    X = torch.randn(n, d, generator=gen)
    if cfg["loss"] == "squared":
        Y = torch.randn(n, K, generator=gen)
    elif cfg["loss"] == "softmax_ce":
        Y = torch.randint(0, K, (n, 1), generator=gen).double()
    else:
        Y = torch.where(torch.rand(n, K, generator=gen) < 0.5, -1.0, 1.0)
    # scale of hidden weights: keep quadratic/deep nets from exploding
    gain = 0.8 if cfg["act"] == "quadratic" else 1.0
    parts = []
    for l in range(1, len(w)):
        nw, nb = layer_sizes(cfg, l)
        parts.append(gain * torch.randn(nw, generator=gen) / math.sqrt(w[l - 1]))
        if nb:
            parts.append(0.5 * torch.randn(nb, generator=gen))
    if cfg["skip"]:
        parts.append(0.5 * torch.randn(K * d, generator=gen) / math.sqrt(d))
    for _ in range(nelim(cfg)):
        parts.append(torch.randn(1, generator=gen))                              # a
        parts.append(0.4 * torch.randn(d, generator=gen) / math.sqrt(d))         # w
        parts.append(0.5 * torch.randn(1, generator=gen))                        # b
    theta = torch.cat(parts)
    assert theta.numel() == nparams(cfg)
    return X, Y, theta


def label_names(cfg):
    K = cfg["widths"][-1]
    return "y" if (K == 1 or cfg["loss"] == "softmax_ce") else ",".join(f"y{k + 1}" for k in range(K))


def cli_args(cfg, exe, csv, params):
    w = cfg["widths"]
    labels = label_names(cfg)
    if "conv1d" in cfg["kinds"]:
        shape = ["--layers", "-".join("conv1d" if k == "conv1d" else f"dense:{w[l + 1]}"
                                      for l, k in enumerate(cfg["kinds"]))]
    else:
        shape = ["--arch", "-".join(map(str, w))]
    a = [exe, "eval"] + shape + ["--act", cfg["act"], "--loss", cfg["loss"],
                                 "--data", csv, "--label", labels, "--params", params, "--hessian"]
    if cfg["act"] == "leaky_relu":
        a += ["--slope", repr(cfg["act_param"])]
    if cfg["act"] == "softplus":
        a += ["--sharpness", repr(cfg["act_param"])]
    if cfg["loss"] == "poly_hinge":
        a += ["--p", repr(cfg["p"])]
    if cfg["elim"] != "none":
        a += ["--eliminate", cfg["elim"], "--lambda", repr(cfg["lambda"])]
    if cfg["skip"]:
        a.append("--skip")
    if not cfg["bias"]:
        a.append("--no-bias")
    return a


def write_files(tmpdir, cfg, X, Y, theta, labels):
    csv = os.path.join(tmpdir, "data.csv")
    params = os.path.join(tmpdir, "params.txt")
    d = X.shape[1]
    names = [f"x{c}" for c in range(d)] + labels.split(",")
    with open(csv, "w") as f:
        f.write(",".join(names) + "\n")
        for i in range(X.shape[0]):
            row = [repr(v) for v in X[i].tolist()] + [repr(v) for v in Y[i].tolist()]
            f.write(",".join(row) + "\n")
    with open(params, "w") as f:
        f.write("\n".join(repr(v) for v in theta.tolist()) + "\n")
    return csv, params


def rel_err(a, b):
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    if a.shape != b.shape:
        return math.inf
    if a.numel() == 0:
        return 0.0
    return ((a - b).abs() / b.abs().clamp(min=1.0)).max().item()


def describe(cfg):
    s = f"arch={'-'.join(map(str, cfg['widths']))}"
    if "conv1d" in cfg["kinds"]:
        s += f" layers={','.join(cfg['kinds'])}"
    s += f" act={cfg['act']}"
    if cfg["act_param"] is not None:
        s += f"({cfg['act_param']})"
    s += f" loss={cfg['loss']}"
    if cfg["p"] is not None:
        s += f"(p={cfg['p']})"
    s += f" elim={cfg['elim']}"
    if cfg["elim"] != "none":
        s += f"(lambda={cfg['lambda']})"
    s += f" skip={int(cfg['skip'])} bias={int(cfg['bias'])} N={cfg['n']}"
    return s


def check_one(cfg, exe, gen, tmpdir, stats):
    for _ in range(MAX_DRAWS):
        X, Y, theta = draw_point(cfg, gen)
        if kink_distance(cfg, theta, X, Y) < KINK_MARGIN:
            stats["skipped"] += 1
            continue
        break
    else:
        return None, "all draws near a kink"
    csv, params = write_files(tmpdir, cfg, X, Y, theta, label_names(cfg))
    args = cli_args(cfg, exe, csv, params)
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False, "minima timed out"
    if r.returncode != 0:
        return False, f"minima exited {r.returncode}: {r.stderr.strip()}"
    try:
        out = json.loads(r.stdout)
        out_grad, out_hess, out_eig = out["grad"], out["hessian"], out["eigenvalues"]
    except (ValueError, KeyError) as e:
        return False, f"unreadable minima output ({e}): {r.stdout[:200]!r}"

    th = theta.clone().requires_grad_(True)
    L = objective(cfg, th, X, Y)
    (g,) = torch.autograd.grad(L, th)
    H = torch.autograd.functional.hessian(lambda t: objective(cfg, t, X, Y), theta)
    if not (torch.isfinite(L) and torch.isfinite(H).all()):
        return False, "torch produced a non-finite loss or Hessian"
    ev = torch.from_numpy(numpy.linalg.eigvalsh((0.5 * (H + H.T)).numpy()))

    P = theta.numel()
    if out["params"] != P:
        return False, f"params {out['params']} != {P}"
    e_loss = rel_err([out["loss"]], [L.item()])
    e_grad = rel_err(out_grad, g)
    e_hess = rel_err(out_hess, H)
    mev = torch.as_tensor(out_eig, dtype=torch.float64)
    if mev.shape != ev.shape:
        e_eig = math.inf
    else:
        e_eig = ((mev - ev).abs().max() / max(1.0, ev.abs().max().item())).item()
    worst = max(e_loss, e_grad, e_hess, e_eig)
    msg = (f"P={P} loss={L.item():.6g} err: loss {e_loss:.1e} grad {e_grad:.1e} hess {e_hess:.1e} "
           f"eig {e_eig:.1e}")
    stats["worst"] = max(stats["worst"], worst)
    return worst <= RTOL, msg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("minima", nargs="?", default="build/minima")
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--repeat", type=int, default=4,
                    help="configurations per (act, loss, elim) combination (default 4: every skip/bias pair)")
    ap.add_argument("--kinds", choices=sorted(KINDS), default="all",
                    help="mlp: --arch networks only; conv1d: with conv1d layers only; all: both (default)")
    opt = ap.parse_args()
    exe = opt.minima
    if not os.path.isfile(exe) or not os.access(exe, os.X_OK):
        print(f"torch_crosscheck: minima binary '{exe}' not found (build it, or pass its path)", file=sys.stderr)
        return 2
    rng = random.Random(opt.seed)
    gen = torch.Generator().manual_seed(opt.seed)
    t0 = time.time()
    stats = {"skipped": 0, "regenerated": 0, "worst": 0.0}
    passed = failed = invalid = skipped = 0
    combos = list(itertools.product(ACTS, LOSSES, ELIMS, KINDS[opt.kinds]))
    idx = 0
    with tempfile.TemporaryDirectory(prefix="minima_xcheck_") as tmpdir:
        for rep in range(opt.repeat):
            for ci, (act, loss, elim, conv) in enumerate(combos):
                if elim == "liang" and loss == "softmax_ce":
                    invalid += 1  # liang needs one output, softmax_ce at least two
                    continue
                # cycle skip/bias so every (act, loss, elim) sees different ones across repeats
                sb = (ci + rep) % 4
                idx += 1
                for _ in range(MAX_CONFIG_TRIES):
                    # a config can sit on a kink structurally (ReLU without biases behind a
                    # width-1 layer: pre-activations exactly 0): then draw new widths
                    cfg = make_config(rng, act, loss, elim, skip=bool(sb & 1), bias=not (sb & 2), conv=conv)
                    ok, msg = check_one(cfg, exe, gen, tmpdir, stats)
                    if ok is not None:
                        break
                    stats["regenerated"] += 1
                if ok is None:
                    tag, skipped = "SKIP", skipped + 1
                elif ok:
                    tag, passed = "ok  ", passed + 1
                else:
                    tag, failed = "FAIL", failed + 1
                print(f"{tag} {idx:3d} {describe(cfg)} {msg}", flush=True)
    print(f"# {idx} configurations checked ({invalid} liang+softmax_ce combinations left out: liang needs "
          f"one output, softmax_ce two or more); {stats['skipped']} random points skipped within "
          f"{KINK_MARGIN:g} of a ReLU/leaky or hinge kink and redrawn ({stats['regenerated']} configurations "
          f"redrawn because every point was at a kink); {skipped} configurations skipped; "
          f"worst relative error {stats['worst']:.2e} (tolerance {RTOL:g}); {time.time() - t0:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
