"""read_db: a sweep's database as rows, the same runs and numbers as
`minima export` prints; a DataFrame with pandas, dicts without."""
import csv
import io
import math
import subprocess

import numpy as np
import pytest

import minima


@pytest.fixture(scope="module")
def sweep_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "s.db"
    subprocess.run([minima.cli_path(), "sweep", "--generate", "xor", "--n", "40", "--noise", "0.2", "--arch", "2-2-1",
                    "--act", "tanh", "--loss", "squared", "--optimizer", "lbfgs", "--steps", "300", "--restarts", "4",
                    "--grid", "lr=0.1,0.2", "--threads", "1", "--db", str(db)], check=True, capture_output=True)
    return str(db)


def exported(db):
    out = subprocess.run([minima.cli_path(), "export", db], check=True, capture_output=True, text=True).stdout
    return list(csv.DictReader(io.StringIO(out)))


def num(s):
    return math.nan if s == "" else float(s)


def test_rows_are_the_export(sweep_db):
    rows = minima.read_db(sweep_db, frame=False)
    want = exported(sweep_db)
    assert len(rows) == len(want) == 8
    for r, w in zip(rows, want):
        assert r["canon"] == w["options"] and r["restart"] == int(w["restart"]) and r["seed"] == int(w["seed"])
        # export prints the summary's class: a minimum against the best found
        assert r["summary_class"] == w["class"] and r["iterations"] == int(w["iterations"])
        assert r["best_loss"] == num(w["best_loss"])
        if r["class"] == "minimum":
            assert r["summary_class"] == ("best-found" if r["loss"] <= r["best_loss"] + 1e-6
                                          else "spurious (vs best found)")
        else:
            assert r["summary_class"] == r["class"]
        for key in ("loss", "grad_norm", "kink_margin", "accuracy"):
            a, b = r[key], num(w[key])
            assert (a is None and math.isnan(b)) or a == b, key
        assert r["opt_arch"] == "2-2-1" and r["opt_lr"] in ("0.1", "0.2")
        if r["class"] in ("spurious", "minimum"):   # the stored end point: a real minimum of this model
            model = minima.Model("2-2-1", act="tanh", loss="squared")
            X, y = minima.generate("xor", n=40, noise=0.2)
            assert r["theta"].shape == (model.n_params,)
            assert r["loss"] == model.loss(r["theta"], X, y)
        else:
            assert r["theta"] is None


def test_noisy_xor_minima_against_the_best_found(tmp_path):
    db = str(tmp_path / "nx.db")
    subprocess.run([minima.cli_path(), "sweep", "--generate", "xor", "--n", "100", "--noise", "0.1", "--arch", "2-2-1",
                    "--act", "tanh", "--optimizer", "lbfgs", "--polish", "--steps", "3000", "--restarts", "6",
                    "--threads", "1", "--db", db], check=True, capture_output=True)
    rows = minima.read_db(db, frame=False)
    want = exported(db)
    minima_rows = [r for r in rows if r["class"] == "minimum"]
    assert minima_rows                 # noisy xor: global value unknown, minima stored as such
    assert any(r["summary_class"] == "best-found" for r in minima_rows)
    assert [r["summary_class"] for r in rows] == [w["class"] for w in want]


def test_frame_with_or_without_pandas(sweep_db, monkeypatch):
    rows = minima.read_db(sweep_db, frame=False)
    try:
        import pandas
    except ImportError:
        plain = minima.read_db(sweep_db)
        assert isinstance(plain, list) and [r["class"] for r in plain] == [r["class"] for r in rows]
        with pytest.raises(ImportError):
            minima.read_db(sweep_db, frame=True)
        return
    df = minima.read_db(sweep_db)
    assert isinstance(df, pandas.DataFrame) and len(df) == len(rows)
    assert list(df["class"]) == [r["class"] for r in rows]
    # pandas absent: plain dicts
    import builtins
    real = builtins.__import__
    monkeypatch.setattr(builtins, "__import__",
                        lambda name, *a, **k: (_ for _ in ()).throw(ImportError(name)) if name == "pandas"
                        else real(name, *a, **k))
    plain = minima.read_db(sweep_db)
    assert isinstance(plain, list) and [r["class"] for r in plain] == [r["class"] for r in rows]
