"""Bad input raises a clear exception (the library's one-line message where
the library finds the problem), never a crash or a silent wrong answer."""
import numpy as np
import pytest

import minima


@pytest.fixture
def setup():
    model = minima.Model("2-3-1", act="tanh", loss="squared")
    rng = np.random.default_rng(3)
    return model, model.init(1), rng.normal(size=(10, 2)), rng.normal(size=10)


def raises(exc, match, fn, *a, **kw):
    with pytest.raises(exc, match=match) as e:
        fn(*a, **kw)
    assert "\n" not in str(e.value)
    return e.value


def test_shapes(setup):
    m, t, X, y = setup
    raises(ValueError, r"theta: shape \(16,\), expected \(13,\)", m.loss, np.zeros(16), X, y)
    raises(ValueError, r"theta: shape \(13, 1\)", m.loss, t.reshape(-1, 1), X, y)
    raises(ValueError, r"X: shape \(10,\), expected 2-D", m.loss, t, X[:, 0], y)
    raises(ValueError, r"X: shape \(0, 2\) has no samples", m.loss, t, X[:0], y[:0])
    raises(ValueError, r"y: shape \(9,\), expected \(10,\)", m.loss, t, X, y[:9])
    raises(ValueError, r"v: shape \(12,\)", m.hvp, t, t[:12], X, y)
    e = raises(minima.MinimaError, "the data has 3 features but the architecture's input width is 2",
               m.loss, t, np.zeros((10, 3)), y)
    assert e.status == "MN_EINVAL"
    raises(minima.MinimaError, r"the data has 2 label column\(s\) but the network has 1 output", m.grad, t, X,
           np.zeros((10, 2)))
    raises(minima.MinimaError, "input width is 2", m.predict, t, np.zeros((4, 5)))


def test_dtypes(setup):
    m, t, X, y = setup
    raises(TypeError, r"X: dtype float32, but minima computes in float64 \(convert with X.astype", m.loss, t,
           X.astype(np.float32), y)
    raises(TypeError, "theta: dtype float32", m.grad, t.astype(np.float32), X, y)
    raises(TypeError, "y: dtype int64", m.loss, t, X, np.ones(10, dtype=np.int64))
    raises(TypeError, "y: dtype complex128", m.loss, t, X, y.astype(complex))
    raises(TypeError, "X: not an array of numbers", m.loss, t, [["a", "b"]] * 10, y)


def test_outputs_must_be_contiguous(setup):
    m, t, X, y = setup
    raises(ValueError, "out: must be C-contiguous and writeable", m.grad, t, X, y, out=np.zeros(26)[::2])
    H = np.zeros((13, 13), order="F")
    raises(ValueError, "out: must be C-contiguous", m.hessian, t, X, y, out=H)
    ro = np.zeros(13)
    ro.flags.writeable = False
    raises(ValueError, "writeable", m.grad, t, X, y, out=ro)
    raises(TypeError, "out: expected a float64", m.grad, t, X, y, out=np.zeros(13, dtype=np.float32))
    raises(ValueError, r"out: shape \(12,\)", m.grad, t, X, y, out=np.zeros(12))


def test_values(setup):
    m, t, X, y = setup
    bad = t.copy()
    bad[0] = np.nan
    e = raises(minima.MinimaError, ".", m.loss, bad, X, y)
    assert e.status == "MN_ERANGE"
    Xn = X.copy()
    Xn[3, 1] = np.inf
    raises(minima.MinimaError, ".", m.grad, t, Xn, y)
    hinge = minima.Model("2-3-1", act="tanh", loss="poly_hinge")
    raises(minima.MinimaError, "sample 1: label .*; the poly_hinge loss takes labels -1 and \\+1", hinge.loss, t, X, y)


def test_model_options():
    raises(minima.MinimaError, r"unknown activation 'relu6' \(expected relu\|leaky_relu", minima.Model, "2-3-1",
           act="relu6")
    raises(minima.MinimaError, "unknown loss 'hinge'", minima.Model, "2-3-1", loss="hinge")
    raises(minima.MinimaError, "unknown eliminator 'two'", minima.Model, "2-3-1", eliminate="two")
    raises(minima.MinimaError, "per-layer is not implemented", minima.Model, "2-3-1", eliminate="per-layer")
    raises(minima.MinimaError, "expected widths separated by '-'", minima.Model, "2-x-1")
    raises(minima.MinimaError, "width of layer 1 must be between 1 and 100000", minima.Model, "2-0-1")
    raises(minima.MinimaError, "liang needs a single output", minima.Model, "2-3-2", loss="squared",
           eliminate="liang")
    raises(minima.MinimaError, "frozen layer beyond", minima.Model, "2-3-1", freeze=3)
    raises(minima.MinimaError, "lambda", minima.Model, "2-3-1", lambda_=-1)
    raises(ValueError, "slope applies to act='leaky_relu' only", minima.Model, "2-3-1", slope=0.2)
    raises(ValueError, "freeze: 'x' is not a list", minima.Model, "2-3-1", freeze="x")
    raises(ValueError, "not a finite number", minima.Model, "2-3-1", lambda_=float("nan"))
    raises(TypeError, "unknown option", minima.Model, "2-3-1", frobnicate=1)
    raises(TypeError, "arch: expected a string", minima.Model, 231)
    raises(ValueError, "seed", minima.Model("2-3-1").init, -1)


def test_run_options(setup, tmp_path):
    m, t, X, y = setup
    raises(minima.MinimaError, "unknown optimizer", minima.train, m, X, y, optimizer="sgdx")
    raises(TypeError, "unknown option", minima.train, m, X, y, frobnicate=1)
    raises(minima.MinimaError, "step size -1 must be positive", minima.train, m, X, y, lr=-1.0)
    raises(ValueError, "steps", minima.train, m, X, y, steps=-5)
    raises(ValueError, "eig_tol", minima.certify, m, t, X, y, eig_tol=-1)
    raises(ValueError, "unknown attack 'nope'", minima.attack, "nope")
    raises(ValueError, "unknown generator 'moons'", minima.generate, "moons")
    raises(minima.MinimaError, "cannot open", minima.read_csv, tmp_path / "none.csv", "y")
    raises(ValueError, "eliminate: 'two'", minima.safran_shamir, k=6, eliminate="two")
    raises(FileNotFoundError, "no database", minima.read_db, tmp_path / "none.db")
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    raises(ValueError, "not a minima results database", minima.read_db, tmp_path / "junk.db")
