"""Training, certification, the built-in attacks, data sets and the
experiments: the library's entry points with the field names of the
command's JSON output."""
import json
import math
import os
import shutil
import subprocess
from collections import namedtuple

import numpy as np

from . import _arrays
from ._lib import MinimaError, check, cstr, ffi, lib, libc, library_path
from .model import Model, _seed


class Result(dict):
    """A dict with the keys of the command's JSON output, also readable as
    attributes (result.loss; result["class"] or result.cls)."""

    def __getattr__(self, name):
        key = "class" if name == "cls" else name
        try:
            return self[key]
        except KeyError:
            raise AttributeError(name) from None


# ------------------------------------------------------------------ data
def _take_data(ptr):
    """Copies an mn_data the library allocated into (X, y) and frees it."""
    try:
        n, d, m = lib.mn_data_n(ptr), lib.mn_data_d(ptr), lib.mn_data_m(ptr)
        X = np.frombuffer(ffi.buffer(lib.mn_data_xc(ptr), 8 * n * d)).reshape(n, d).copy()
        y = np.frombuffer(ffi.buffer(lib.mn_data_yc(ptr), 8 * n * m)).reshape(n, m).copy()
    finally:
        lib.mn_data_free(ptr)
    return X, (y[:, 0].copy() if m == 1 else y)


def generate(name, n=200, noise=None, margin=0.1, dim=2, k=4, seed=1, flip=None):
    """The generators of `minima train --generate` (same defaults, same
    numbers): xor, spirals, separable, teacher. Returns X (n x d) and y
    ((n,) for one label column)."""
    out = ffi.new("mn_data **")
    s = _seed(seed)
    if name == "xor":
        check(lib.mn_gen_xor(out, int(n), 0.0 if noise is None else float(noise), s))
    elif name == "spirals":
        check(lib.mn_gen_spirals(out, int(n), 0.1 if noise is None else float(noise), s))
    elif name == "separable":
        check(lib.mn_gen_separable(out, int(n), int(dim), float(margin), s))
    elif name == "teacher":
        check(lib.mn_gen_teacher_relu(out, int(n), int(k), s))
    else:
        raise ValueError(f"unknown generator '{name}' (expected xor|spirals|separable|teacher)")
    if flip is not None:
        st = lib.mn_data_flip_labels(out[0], float(flip), s)
        if st:
            lib.mn_data_free(out[0])
            check(st)
    return _take_data(out[0])


def read_csv(path, label, standardize=False):
    """A CSV file as `minima --data FILE --label COL [--standardize]` reads it."""
    out = ffi.new("mn_data **")
    check(lib.mn_data_read_csv(out, os.fsencode(path), label.encode()))
    if standardize:
        st = lib.mn_data_standardize(out[0])
        if st:
            lib.mn_data_free(out[0])
            check(st)
    return _take_data(out[0])


# ------------------------------------------------------------------ options
_OPT_FIELDS = ("lr", "max_norm", "momentum", "beta1", "beta2", "eps", "batch", "memory", "pgd_eps", "pgd_c",
               "pgd_delta", "pgd_rho", "pgd_l", "plateau_window", "plateau_tol")
_CERT_FIELDS = {"cert_gtol": "gtol", "eig_tol": "eig_tol", "global_loss": "global_loss",
                "global_tol": "global_tol", "zero_error": "zero_error"}


def _cert_opts(max_hessian, kw):
    co = ffi.new("mn_cert_opts *")
    lib.mn_cert_opts_default(co)
    co.max_dense = int(max_hessian)
    for key in list(kw):
        if key in _CERT_FIELDS:
            v = kw.pop(key)
            if key == "zero_error":
                co.zero_error = 1 if v else 0
            else:
                x = float(v)
                if not x >= 0 and key != "global_loss" or math.isnan(x):
                    raise ValueError(f"{key}: {v!r} must be a number >= 0")
                setattr(co, _CERT_FIELDS[key], x)
    return co


def _data_view(model, X, y):
    X = _arrays.samples(X)
    y = _arrays.labels(y, X.shape[0])
    data = ffi.new("mn_data **")
    check(lib.mn_data_view(data, X.shape[0], X.shape[1], y.shape[1], _arrays.ptr(X), _arrays.ptr(y)))
    view = ffi.gc(data[0], lib.mn_data_free)
    check(lib.mn_model_check_data(model._ptr, view))
    return view, (X, y)  # the arrays must outlive the view


def _work(model, n):
    w = ffi.new("mn_work **")
    check(lib.mn_work_alloc(w, model._ptr, n))
    return ffi.gc(w[0], lib.mn_work_free)


def _neurons(model, theta):
    """"neurons" of `minima train --json`: a, b, w_norm, a_exp_b per added neuron."""
    out = []
    d = model.widths[0]
    for j in range(model.n_elim):
        o = int(lib.mn_model_elim_offset(model._ptr, j))
        a, w, b = float(theta[o]), theta[o + 1:o + 1 + d], float(theta[o + 1 + d])
        out.append({"a": a, "b": b, "w_norm": math.sqrt(float(np.sum(w * w))),
                    "a_exp_b": lib.mn_elim_a_exp_b(a, b)})
    return out


# ------------------------------------------------------------------ train
def train(model, X, y, seed=1, steps=20000, optimizer="gd", gtol=1e-8, polish=False, frozen_value=1.0,
          max_hessian=2000, **options):
    """One optimiser run from the seeded initialisation, certified: what
    `minima train --seed SEED` does with the same options (the very same
    library function, so the same numbers). Options: lr, max_norm, momentum,
    beta1, beta2, eps, batch, memory, pgd_eps, pgd_c, pgd_delta, pgd_rho,
    pgd_l, plateau_window, plateau_tol; certification: cert_gtol, eig_tol,
    global_loss, global_tol, zero_error.

    Returns a Result with the keys of `minima train --json` (status,
    [reason], optimizer, class, loss, grad_norm, theta_norm, iterations,
    [polish_iterations, grad_norm_before_polish], params, seed, [lambda_min,
    lambda_max, accuracy, kink_margin, near_kink], neurons, and with added
    neurons defended_loss, defended_grad_norm, defended_critical,
    neuron_largest_output, drop_changes_prediction) and .theta, the end
    point."""
    kw = dict(options)
    s = ffi.new("mn_sweep_setting *")
    lib.mn_opt_params_default(ffi.addressof(s.opt))
    kind = ffi.new("mn_opt_kind *")
    check(lib.mn_opt_parse(kind, str(optimizer).encode()))
    s.opt.kind = kind[0]
    for key in _OPT_FIELDS:
        if key in kw:
            v = kw.pop(key)
            setattr(s.opt, key, int(v) if key in ("batch", "memory", "plateau_window") else float(v))
    s.cert = _cert_opts(max_hessian, kw)[0]
    if kw:
        raise TypeError(f"train: unknown option(s) {', '.join(sorted(kw))}")
    if int(steps) < 0:
        raise ValueError(f"steps: {steps} must be >= 0")
    s.polish = 1 if polish else 0
    s.steps = int(steps)
    s.gtol = float(gtol)
    s.frozen_value = float(frozen_value)
    s.seed = _seed(seed)
    view, keep = _data_view(model, X, y)
    s.model = model._ptr
    s.data = view
    work = _work(model, keep[0].shape[0])
    row = ffi.new("mn_run_row *")
    end = np.empty(model.n_params)
    try:
        check(lib.mn_run_seeded(row, s, s.seed, work, _arrays.ptr(end)))
    finally:
        if row.theta != ffi.NULL:
            libc.free(row.theta)
    r = Result()
    r["status"] = cstr(row.status)
    if row.reason[0] != b"\0":
        r["reason"] = cstr(row.reason)
    r["optimizer"] = cstr(row.optimizer)
    r["class"] = cstr(lib.mn_class_name(row.cls))
    r["loss"] = row.loss
    r["grad_norm"] = row.grad_norm
    r["theta_norm"] = row.theta_norm
    r["iterations"] = row.iterations
    if polish and not math.isnan(row.grad_norm_before_polish):
        r["polish_iterations"] = row.polish_iterations
        r["grad_norm_before_polish"] = row.grad_norm_before_polish
    r["params"] = model.n_params
    r["seed"] = int(s.seed)
    if row.cls != lib.MN_CLASS_DIVERGED:
        if math.isfinite(row.lambda_min):
            r["lambda_min"], r["lambda_max"] = row.lambda_min, row.lambda_max
        elif 0 < model.n_free <= max_hessian and model.n_elim == 0:
            # Not stationary: certification skipped the spectrum; reported
            # anyway where a dense Hessian is affordable (as the command does).
            try:
                ev = model.eigenvalues(end, *keep)
                r["lambda_min"], r["lambda_max"] = float(ev[0]), float(ev[-1])
            except MinimaError:
                pass
        if math.isfinite(row.accuracy):
            r["accuracy"] = row.accuracy
        if math.isfinite(row.kink_margin):
            r["kink_margin"] = row.kink_margin
            r["near_kink"] = bool(row.near_kink)
    r["neurons"] = _neurons(model, end)
    if model.n_elim > 0:
        # class .. accuracy judge the network with the added neurons dropped
        # (mn_judge); the defended point itself:
        r["defended_loss"] = row.defended_loss
        r["defended_grad_norm"] = row.defended_grad_norm
        r["defended_critical"] = bool(row.defended_critical)
        r["neuron_largest_output"] = row.elim_output
        r["drop_changes_prediction"] = bool(row.drop_changes_prediction)
    r.theta = end
    return r


# ------------------------------------------------------------------ certify
def _cert_dict(c):
    out = {"class": cstr(lib.mn_class_name(c.cls)), "loss": c.loss, "grad_norm": c.gnorm}
    if not math.isnan(c.lambda_min):
        out["lambda_min"] = c.lambda_min
    if not math.isnan(c.lambda_max):
        out["lambda_max"] = c.lambda_max
    if math.isfinite(c.kink_margin):
        out["kink_margin"] = c.kink_margin
    out["near_kink"] = bool(c.near_kink)
    if not math.isnan(c.accuracy):
        out["accuracy"] = c.accuracy
    return out


def _escape_dict(e):
    out = {"escaped": bool(e.escaped),
           "order": {1: "gradient", 2: "negative-curvature", 3: "higher-order"}.get(e.order, "none")}
    if e.escaped:
        out.update(slope=e.slope, curvature=e.curvature, step=e.step, decrease=e.decrease)
    out["margin"] = e.margin
    return out


def certify(model, theta, X, y, eliminate=None, lambda_=None, trials=64, seed=1, max_hessian=2000, **options):
    """Is theta a bad local minimum, and does a defence remove it? What
    `minima certify --point` prints, as a Result: "point" (class, loss,
    grad_norm, lambda_min/max, kink_margin, near_kink, accuracy, escape,
    bad_local_minimum: None when the point is a minimum and global_loss is
    not given, the global value unknown; global_loss) and, with eliminate="liang" or "per-output" for a
    plain model, "defence" (the point embedded with a = 0, the added
    neurons' w drawn `trials` times from `seed` to make |dL/da| largest,
    certified and searched for a verified escape: verdict "escaped" or
    "stays"). Options: cert_gtol, eig_tol, global_loss, global_tol,
    zero_error."""
    co = _cert_opts(max_hessian, dict(options))
    extra = set(options) - set(_CERT_FIELDS)
    if extra:
        raise TypeError(f"certify: unknown option(s) {', '.join(sorted(extra))}")
    theta = _arrays.vector(theta, "theta", model.n_params)
    if eliminate not in (None, "none") and model.n_elim:
        raise ValueError("certify: eliminate= is a defence for a plain model's point; "
                         f"this model already has {model.eliminate} neurons")
    view, keep = _data_view(model, X, y)
    n = keep[0].shape[0]
    work = _work(model, n)
    cert = ffi.new("mn_cert *")
    esc = ffi.new("mn_escape *")
    direction = np.empty(model.n_params)
    check(lib.mn_certify(cert, model._ptr, work, view, _arrays.ptr(theta), 0, co))
    check(lib.mn_find_escape(esc, _arrays.ptr(direction), model._ptr, work, view, _arrays.ptr(theta), co.eig_tol))
    point = {"params": model.n_params, **_cert_dict(cert), "escape": _escape_dict(esc)}
    bad = lib.mn_cert_bad(cert, esc.escaped, co.global_loss)
    point["bad_local_minimum"] = None if bad < 0 else bool(bad)   # None: a minimum, global value unknown
    point["global_loss"] = None if math.isnan(co.global_loss) else co.global_loss
    out = Result(point=point)
    if eliminate not in (None, "none"):
        spec = ffi.new("mn_spec *", model._spec[0])
        e = ffi.new("mn_elim *")
        check(lib.mn_elim_parse(e, str(eliminate).encode()))
        spec.elim = e[0]
        if lambda_ is not None:  # else the library's default (mn_spec_default), as the CLI's
            setattr(spec, "lambda", float(lambda_))
        else:
            d = ffi.new("mn_spec *")
            lib.mn_spec_default(d)
            setattr(spec, "lambda", getattr(d, "lambda"))
        aug = Model._from_spec(spec)
        ta = np.empty(aug.n_params)
        check(lib.mn_embed(_arrays.ptr(ta), aug._ptr, model._ptr, _arrays.ptr(theta), ffi.NULL, 0.0))
        wa = _work(aug, n)
        best = ffi.new("double *")
        check(lib.mn_embed_best(best, _arrays.ptr(ta), aug._ptr, wa, view, int(trials), _seed(seed)))
        check(lib.mn_certify(cert, aug._ptr, wa, view, _arrays.ptr(ta), 0, co))
        da = np.empty(aug.n_params)
        check(lib.mn_find_escape(esc, _arrays.ptr(da), aug._ptr, wa, view, _arrays.ptr(ta), co.eig_tol))
        out["defence"] = {"eliminate": aug.eliminate, "lambda": aug.lambda_, "max_abs_dL_da": best[0],
                          **_cert_dict(cert), "escape": _escape_dict(esc),
                          "verdict": "escaped" if esc.escaped else "stays"}
        out.aug_model, out.aug_theta = aug, ta
    return out


# ------------------------------------------------------------------ attacks
Attack = namedtuple("Attack", "name about model X y theta")


def attacks():
    """[(name, what it is)] of the built-in bad local minima (`minima attack list`)."""
    return [(cstr(lib.mn_attack_name(i)), cstr(lib.mn_attack_about(i))) for i in range(lib.mn_attack_count())]


def attack(name):
    """The attack's model, data and point: Attack(name, about, model, X, y, theta)."""
    names = [a for a, _ in attacks()]
    if name not in names:
        raise ValueError(f"unknown attack '{name}' (expected {'|'.join(names)})")
    i = names.index(name)
    spec = ffi.new("mn_spec *")
    data = ffi.new("mn_data **")
    theta = ffi.new("double **")
    check(lib.mn_attack_build(i, spec, data, theta))
    X, y = _take_data(data[0])
    try:
        model = Model._from_spec(spec)
        t = np.frombuffer(ffi.buffer(theta[0], 8 * model.n_params)).copy()
    finally:
        libc.free(theta[0])
    return Attack(name, cstr(lib.mn_attack_about(i)), model, X, y, t)


# ------------------------------------------------------------------ experiments
def safran_shamir(k=range(6, 21), extra=(0, 1), restarts=1000, eliminate=("none",), lambda_=0.01, seed=1,
                  threads=0, shortcuts=True, step=None, max_iter=None, db=None):
    """`minima experiment safran-shamir --json`: one row per (eliminate,
    extra, k), in the command's order, with its keys. db: a sweep database
    that stores the runs and resumes (as --db)."""
    ks = [int(v) for v in ([k] if isinstance(k, (int, np.integer)) else k)]
    extras = [int(v) for v in ([extra] if isinstance(extra, (int, np.integer)) else extra)]
    elims = [eliminate] if isinstance(eliminate, str) else list(eliminate)
    for e in elims:
        if e not in ("none", "liang"):
            raise ValueError(f"eliminate: '{e}', expected none or liang")
    if not ks or not extras or not elims:
        raise ValueError("safran_shamir: k, extra and eliminate need at least one value each")
    opts = ffi.new("mn_popul_opts *")
    lib.mn_popul_opts_default(opts)
    if not shortcuts:
        opts.early_global = opts.newton = 0
    if step is not None:
        if not float(step) > 0:
            raise ValueError(f"step: {step!r} must be > 0")
        opts.step = float(step)
    if max_iter is not None:
        opts.max_iter = int(max_iter)
    specs = [(kk + ee, kk, 1 if e == "liang" else 0, float(lambda_) if e == "liang" else 0.0)
             for e in elims for ee in extras for kk in ks]
    cspecs = ffi.new("mn_popul_spec[]", specs)
    rows = ffi.new("mn_popul_row[]", len(specs))
    dbp = ffi.new("mn_db **")
    if db is not None:
        check(lib.mn_db_open(dbp, os.fsencode(db), 1))
    try:
        check(lib.mn_popul_experiment_db(rows, ffi.NULL, cspecs, len(specs), opts, int(restarts), _seed(seed),
                                         int(threads), dbp[0]))
    finally:
        if db is not None:
            lib.mn_db_close(dbp[0])
    out = []
    for (n, kk, el, lam), r in zip(specs, rows):
        m = r.restarts
        row = Result(k=r.k, n=r.n, restarts=r.restarts, eliminate="liang" if el else "none",
                     spurious_pct=r.spurious_pct, spurious_lo=r.spurious_lo, spurious_hi=r.spurious_hi,
                     mean_lambda_min=r.mean_lambda_min, mean_loss=r.mean_loss, distinct=r.distinct,
                     global_pct=100 * r.count[lib.MN_CLASS_GLOBAL] / m,
                     saddle_pct=100 * r.count[lib.MN_CLASS_SADDLE] / m,
                     degenerate_pct=100 * r.count[lib.MN_CLASS_DEGENERATE] / m,
                     not_converged_pct=100 * r.count[lib.MN_CLASS_NOT_CONVERGED] / m,
                     diverged_pct=100 * r.count[lib.MN_CLASS_DIVERGED] / m,
                     early_global=r.early, polished=r.polished, gd_steps=r.steps)
        if el:
            row.update(**{"lambda": lam}, median_abs_a=r.median_abs_a, median_a_exp_b=r.median_a_exp_b,
                       median_b=r.median_b, median_c_norm=r.median_c_norm)
        row.update(loaded=r.loaded, seconds=r.seconds, run_seconds=r.run_seconds)
        out.append(row)
    return out


def cli_path():
    """The `minima` command beside the loaded library (a build tree), or
    $MINIMA_CLI, or the one on PATH."""
    env = os.environ.get("MINIMA_CLI")
    if env:
        return env
    here = os.path.join(os.path.dirname(os.path.realpath(library_path)), "minima")
    if os.path.isfile(here) and os.access(here, os.X_OK):
        return here
    found = shutil.which("minima")
    if not found:
        raise MinimaError("the minima command was not found (build it, or set MINIMA_CLI)", "MN_EIO")
    return found


def eliminate_experiment(quick=False, db=None, restarts=None, threads=None, data=None, label=None):
    """`minima experiment eliminate --json`: one row per (data set x loss x
    defence) setting. Runs the command (the experiment's grid lives in the
    command-line front end until it moves into the library)."""
    args = [cli_path(), "experiment", "eliminate", "--json"]
    if quick:
        args.append("--quick")
    for flag, v in (("--db", db), ("--restarts", restarts), ("--threads", threads), ("--data", data),
                    ("--label", label)):
        if v is not None:
            args += [flag, str(v)]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode:
        lines = p.stderr.strip().splitlines()
        raise MinimaError(lines[-1] if lines else f"minima experiment eliminate: exit status {p.returncode}")
    return [Result(json.loads(line)) for line in p.stdout.splitlines() if line.startswith("{")]
