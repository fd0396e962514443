"""Shared helpers: the `minima` command of the build under test, random
models and data."""
import json
import os
import subprocess

import numpy as np
import pytest

import minima


def cli_json(*args, lines=False):
    """Runs `minima ARGS` and parses its JSON output (one object, or one per line)."""
    p = subprocess.run([minima.cli_path(), *map(str, args)], capture_output=True, text=True)
    assert p.returncode == 0, f"minima {' '.join(map(str, args))}: {p.stderr}"
    if lines:
        return [json.loads(s) for s in p.stdout.splitlines() if s.startswith("{")]
    return json.loads(p.stdout)


def write_csv(path, X, y):
    """X (n x d), y (n x m) as a CSV minima reads back bit for bit (repr
    round-trips doubles); label columns y1..ym."""
    y = y.reshape(len(y), -1)
    cols = [f"x{j + 1}" for j in range(X.shape[1])] + [f"y{k + 1}" for k in range(y.shape[1])]
    with open(path, "w") as f:
        f.write(",".join(cols) + "\n")
        for xi, yi in zip(X, y):
            f.write(",".join(repr(float(v)) for v in (*xi, *yi)) + "\n")
    return ",".join(cols[X.shape[1]:])


def write_params(path, theta):
    with open(path, "w") as f:
        f.write("\n".join(repr(float(v)) for v in theta) + "\n")


def labels_for(model, n, rng):
    """Labels the model's loss takes: -1/+1 (margin), class indices (softmax), reals."""
    K = model.widths[-1]
    if model.loss_name == "softmax_ce":
        return rng.integers(0, K, size=n).astype(np.float64)
    if model.loss_name == "squared":
        return rng.normal(size=(n, K))
    return rng.choice([-1.0, 1.0], size=(n, K))


@pytest.fixture
def rng():
    return np.random.default_rng(20261130)


@pytest.fixture
def tmp(tmp_path):
    return tmp_path
