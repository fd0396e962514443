"""Python's loss / grad / Hessian / eigenvalues are the CLI's `eval --json
--hessian`, bit for bit, on random models; hvp agrees with the Hessian;
strided and Fortran-ordered inputs give the same bits as C-ordered ones."""
import itertools

import numpy as np
import pytest

import minima
from conftest import cli_json, labels_for, write_csv, write_params

ACTS = ["relu", "leaky_relu", "softplus", "sigmoid", "tanh", "quadratic", "linear"]
LOSSES = ["squared", "logistic", "softmax_ce", "poly_hinge", "squared_hinge"]


def random_model(rng, act, loss, i):
    depth = 1 + i % 3
    K = 2 + i % 2 if loss == "softmax_ce" else 1 + i % 2
    widths = [1 + int(rng.integers(4))] + [1 + int(rng.integers(5)) for _ in range(depth - 1)] + [K]
    elim = ["none", "per-output", "liang"][i % 3]
    if elim == "liang" and K > 1:
        elim = "per-output"
    kw = {}
    if act == "leaky_relu":
        kw["slope"] = float(rng.uniform(0.01, 0.3))
    if act == "softplus":
        kw["sharpness"] = float(rng.uniform(0.5, 3))
    if loss == "poly_hinge":
        kw["p"] = float(rng.uniform(2, 4))
    freeze = (1,) if depth > 1 and i % 4 == 1 else ()
    return minima.Model("-".join(map(str, widths)), act=act, loss=loss, eliminate=elim,
                        lambda_=float(rng.uniform(0, 0.5)), bias=i % 2 == 0, skip=i % 4 == 3, freeze=freeze, **kw)


@pytest.mark.parametrize("act,loss", list(itertools.product(ACTS, LOSSES)))
def test_bit_identical_to_cli_eval(tmp, rng, act, loss):
    for i in range(2):
        model = random_model(rng, act, loss, i + ACTS.index(act))
        n = int(rng.integers(5, 30))
        X = rng.normal(size=(n, model.widths[0]))
        y = labels_for(model, n, rng)
        theta = rng.normal(scale=0.7, size=model.n_params)
        label = write_csv(tmp / "d.csv", X, y)
        write_params(tmp / "p", theta)
        want = cli_json("eval", *model.options(), "--data", tmp / "d.csv", "--label", label,
                        "--params", tmp / "p", "--hessian", "--json")
        assert want["params"] == model.n_params
        loss_value, g = model.loss_grad(theta, X, y)
        assert loss_value == want["loss"]                        # bit for bit: %.17g round-trips
        assert model.loss(theta, X, y) == want["loss"]
        assert np.array_equal(g, np.array(want["grad"]))
        assert np.array_equal(model.grad(theta, X, y), g)
        H = model.hessian(theta, X, y)
        assert np.array_equal(H, np.array(want["hessian"]))
        assert want["free_params"] == model.n_free
        assert np.array_equal(model.eigenvalues(theta, X, y), np.array(want["eigenvalues"]))
        v = rng.normal(size=model.n_params)
        hv = model.hvp(theta, v, X, y)
        assert np.allclose(hv, H @ v, rtol=1e-10, atol=1e-10 * (1 + np.abs(H).max()))


def test_layouts_that_are_not_c_order_give_the_same_bits(rng):
    model = minima.Model("3-5-2", act="tanh", loss="squared", eliminate="per-output")
    X = rng.normal(size=(40, 3))
    y = rng.normal(size=(40, 2))
    theta = model.init(seed=3) + rng.normal(scale=0.1, size=model.n_params)
    v = rng.normal(size=model.n_params)
    ref = (model.loss(theta, X, y), model.grad(theta, X, y), model.hvp(theta, v, X, y), model.hessian(theta, X, y))
    Xf = np.asfortranarray(X)
    yf = np.asfortranarray(y)
    big = np.zeros((2 * model.n_params,))
    big[::2] = theta
    ts = big[::2]                                   # a strided view
    vs = np.repeat(v, 3)[::3]
    assert not Xf.flags.c_contiguous and not ts.flags.c_contiguous
    got = (model.loss(ts, Xf, yf), model.grad(ts, Xf, yf), model.hvp(ts, vs, Xf, yf), model.hessian(ts, Xf, yf))
    assert got[0] == ref[0]
    for a, b in zip(got[1:], ref[1:]):
        assert np.array_equal(a, b)
    Xbig = np.zeros((80, 6))
    Xbig[::2, ::2] = X
    assert model.loss(theta, Xbig[::2, ::2], y) == ref[0]
    # lists are converted; out= is written in place
    assert model.loss(theta.tolist(), X.tolist(), y.tolist()) == ref[0]
    out = np.empty(model.n_params)
    assert model.grad(theta, X, y, out=out) is out and np.array_equal(out, ref[1])


def test_contiguous_inputs_are_not_copied(rng, monkeypatch):
    """A C-ordered float64 input goes to the library as it is."""
    from minima import _arrays
    model = minima.Model("2-3-1", act="tanh", loss="squared")
    X = rng.normal(size=(10, 2))
    y = rng.normal(size=10)
    theta = model.init(1)
    seen = []
    real = _arrays.ptr
    monkeypatch.setattr(_arrays, "ptr", lambda a: (seen.append(a), real(a))[1])
    model.loss_grad(theta, X, y)
    assert any(a is X for a in seen) and any(a is theta for a in seen)


def test_predict_init_layout(rng):
    model = minima.Model("2-3-1", act="tanh", loss="squared", eliminate="liang", skip=True)
    names = [b.name for b in model.layout()]
    assert names == ["W1", "b1", "W2", "b2", "S", "elim1.a", "elim1.w", "elim1.b"]
    ends = [b.offset + int(np.prod(b.shape)) for b in model.layout()]
    assert ends[-1] == model.n_params and all(b.offset == e for b, e in zip(model.layout()[1:], ends))
    theta = model.init(seed=5)
    assert np.array_equal(theta, model.init(seed=5)) and not np.array_equal(theta, model.init(seed=6))
    p = model.unpack(theta)
    X = rng.normal(size=(7, 2))
    f = model.predict(theta, X)
    want = np.tanh(X @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"] + X @ p["S"].T \
        + p["elim1.a"] * np.exp(X @ p["elim1.w"] + p["elim1.b"])[:, None]
    assert f.shape == (7, 1) and np.allclose(f, want, rtol=1e-13, atol=1e-13)
    y = rng.normal(size=7)
    assert np.isclose(model.loss(theta, X, y), 0.5 * np.mean((f[:, 0] - y) ** 2)
                      + 0.5 * model.lambda_ * p["elim1.a"] ** 2, rtol=1e-13)


def test_generators_are_the_cli_data(tmp):
    X, y = minima.generate("spirals", n=50, noise=0.05, seed=9)
    model = minima.Model(f"2-4-1", act="tanh")
    theta = model.init(2)
    write_params(tmp / "p", theta)
    want = cli_json("eval", *model.options(), "--generate", "spirals", "--n", 50, "--noise", 0.05,
                    "--data-seed", 9, "--params", tmp / "p")
    assert model.loss(theta, X, y) == want["loss"]
