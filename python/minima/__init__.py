"""minima from Python: find, certify and eliminate bad local minima of
neural networks, over libminima (the C library) through cffi.

    import minima, numpy as np
    X, y = minima.generate("xor", n=100, noise=0.1)
    model = minima.Model("2-4-1", act="tanh", loss="squared")
    theta = model.init(seed=7)
    loss, g = model.loss_grad(theta, X, y)
    run = minima.train(model, X, y, seed=7, optimizer="lbfgs")
    print(run["class"], run.loss, minima.certify(model, run.theta, X, y, eliminate="liang"))
"""
from ._lib import MinimaError, library_path
from .db import read_db
from .model import Block, Model
from .run import (Attack, Result, attack, attacks, certify, cli_path, eliminate_experiment, generate,
                  read_csv, safran_shamir, train)
from .torchbridge import from_torch, to_torch

__version__ = "0.1.0"
__all__ = ["Attack", "Block", "MinimaError", "Model", "Result", "attack", "attacks", "certify", "cli_path",
           "eliminate_experiment", "from_torch", "generate", "library_path", "read_csv", "read_db",
           "safran_shamir", "to_torch", "train"]
