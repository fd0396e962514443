"""train / certify / attacks / experiments from Python give what the
command prints: the same keys, the same numbers."""
import math

import numpy as np
import pytest

import minima
from conftest import cli_json, write_csv, write_params

TIMING = {"seconds", "run_seconds"}


def same(a, b):
    """Equal JSON values, numbers bit for bit; a non-finite float in a
    (Python) equals null in b (the command prints NaN and Inf as null)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, z) for x, z in zip(a, b))
    if isinstance(a, float) and not math.isfinite(a):
        return b is None or (isinstance(b, float) and math.isnan(a) and math.isnan(b))
    return a == b


@pytest.mark.parametrize("opts", [
    dict(arch="2-3-1", act="tanh", loss="squared", optimizer="lbfgs", steps=3000, seed=4, polish=True),
    dict(arch="2-4-1", act="relu", loss="poly_hinge", optimizer="gd", steps=500, seed=2),
    dict(arch="2-2-1", act="softplus", loss="logistic", eliminate="liang", lambda_=0.05, optimizer="adam",
         lr=0.01, steps=400, seed=9),
    dict(arch="2-3-1", act="tanh", loss="squared_hinge", optimizer="sgd", batch=16, steps=30, seed=5),
])
def test_train_is_minima_train(opts):
    opts = dict(opts)
    model_kw = {k: opts.pop(k) for k in ("arch", "act", "loss", "eliminate", "lambda_") if k in opts}
    model = minima.Model(**model_kw)
    X, y = minima.generate("xor", n=60, noise=0.2, seed=3)
    got = minima.train(model, X, y, **opts)
    args = []
    for k, v in opts.items():
        if k == "polish":
            args.append("--polish")
        else:
            args += ["--" + k.replace("_", "-"), v]
    want = cli_json("train", *model.options(), "--generate", "xor", "--n", 60, "--noise", 0.2, "--data-seed", 3,
                    *args, "--json")
    assert same(dict(got), want), (dict(got), want)
    assert got.theta.shape == (model.n_params,)
    # with added neurons, loss judges the network without them; defended_loss is the model's
    defended = got["defended_loss"] if "defended_loss" in got else got.loss
    assert got.cls == want["class"] and defended == model.loss(got.theta, X, y)


def test_certify_is_minima_certify(tmp):
    a = minima.attack("xor-trained")
    label = write_csv(tmp / "d.csv", a.X, a.y)
    write_params(tmp / "p", a.theta)
    got = minima.certify(a.model, a.theta, a.X, a.y, eliminate="liang", lambda_=0.02, trials=16, seed=3)
    want = cli_json("certify", *a.model.options()[:-4], "--eliminate", "liang", "--lambda", 0.02, "--trials", 16,
                    "--seed", 3, "--data", tmp / "d.csv", "--label", label, "--point", tmp / "p")
    assert same(dict(got), want), (dict(got), want)


def test_attacks_are_minima_attack_all():
    want = {r["attack"]: r for r in cli_json("attack", "all", "--json", lines=True)}
    assert [n for n, _ in minima.attacks()] == list(want)
    for name, about in minima.attacks():
        a = minima.attack(name)
        assert a.about == about and a.theta.shape == (a.model.n_params,)
        c = minima.certify(a.model, a.theta, a.X, a.y, eliminate="liang", global_loss=0)  # as `attack all` does
        w = want[name]
        p, d = c["point"], c["defence"]
        assert (p["class"], p["loss"], p["grad_norm"], p["bad_local_minimum"]) == \
            (w["class"], w["loss"], w["grad_norm"], w["bad_local_minimum"])
        assert same(p.get("lambda_min", math.nan), w["lambda_min"])
        assert (d["max_abs_dL_da"], d["verdict"]) == (w["max_abs_dL_da"], w["verdict"])
        assert p["bad_local_minimum"]          # every built-in attack is a bad local minimum


def test_safran_shamir_is_the_experiment(tmp):
    got = minima.safran_shamir(k=[6, 7], extra=[0, 1], restarts=12, eliminate=["none", "liang"], threads=2)
    want = cli_json("experiment", "safran-shamir", "--k", "6,7", "--extra", "0,1", "--restarts", 12,
                    "--eliminate", "none,liang", "--threads", 2, "--json", lines=True)
    assert len(got) == len(want) == 8
    for g, w in zip(got, want):
        assert same({k: v for k, v in g.items() if k not in TIMING}, {k: v for k, v in w.items() if k not in TIMING})
    # with a database: stored, then loaded on a second call with the same rows
    db = str(tmp / "ss.db")
    first = minima.safran_shamir(k=6, extra=0, restarts=10, db=db)
    again = minima.safran_shamir(k=6, extra=0, restarts=10, db=db)
    assert again[0]["loaded"] == 10 and first[0]["loaded"] == 0
    assert same({k: v for k, v in first[0].items() if k not in TIMING | {"loaded"}},
                {k: v for k, v in again[0].items() if k not in TIMING | {"loaded"}})
    rows = minima.read_db(db, frame=False)
    assert len(rows) == 10 and rows[0]["opt_experiment"] == "safran-shamir"


def test_eliminate_experiment_runs_the_command(tmp):
    rows = minima.eliminate_experiment(quick=True, restarts=1, threads=2, db=tmp / "e.db")
    assert len(rows) > 10 and {"classes"} <= rows[0].keys()
    assert sum(r["classes"]["global"]["count"] for r in rows) > 0


def test_read_csv_is_the_cli_reader(tmp):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 3))
    y = np.sign(rng.normal(size=20))
    label = write_csv(tmp / "d.csv", X, y)
    X2, y2 = minima.read_csv(tmp / "d.csv", label)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    Xs, _ = minima.read_csv(tmp / "d.csv", label, standardize=True)
    assert np.allclose(Xs.mean(0), 0, atol=1e-14) and np.allclose(Xs.std(0), 1, rtol=1e-13)
