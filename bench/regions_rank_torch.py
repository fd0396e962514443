#!/usr/bin/python3
"""The authors' method for the full-rank fraction of random activation regions
(Karhadkar, Murray, Tseran, Montufar): a PyTorch network (nn.Linear default
initialisation, v ~ N(0, 1), X ~ N(0, I)), the Jacobian of the outputs in the
hidden layer's (W, b) by torch.func.jacrev, and torch.linalg.matrix_rank.

Runs the d0-constant grid (d0 in --d0, n and width in 10..100 step 10) with
--trials regions per cell on --threads threads and prints one line

  torch regions=<count> seconds=<wall> regions_per_s=<rate> cpu_seconds=<process CPU> threads=<T>

and, with --fractions, one line per cell "d0 n width fraction".

usage: /usr/bin/python3 bench/regions_rank_torch.py [--trials 10] [--threads 2] [--d0 1,2,3,5] [--fractions]
"""
import argparse
import time

import torch
try:
    from torch.func import functional_call, jacrev  # PyTorch >= 2.0
except ImportError:  # Debian bookworm: PyTorch 1.13 with functorch
    from functorch import jacrev
    from torch.nn.utils.stateless import functional_call


def full_rank(d0, n, d1, gen):
    x = torch.randn(n, d0, generator=gen, dtype=torch.float64)
    hidden = torch.nn.Linear(d0, d1).double()  # default init: uniform +-1/sqrt(d0)
    v = torch.randn(d1, generator=gen, dtype=torch.float64)
    params = {k: p.detach() for k, p in hidden.named_parameters()}

    def f(p):
        return torch.relu(functional_call(hidden, p, (x,))) @ v

    jac = jacrev(f)(params)
    j = torch.cat([jac["weight"].reshape(n, -1), jac["bias"].reshape(n, -1)], dim=1)
    return int(torch.linalg.matrix_rank(j)) == n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--d0", default="1,2,3,5")
    ap.add_argument("--fractions", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(1)
    count = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for d0 in [int(s) for s in a.d0.split(",")]:
        for n in range(10, 101, 10):
            for d1 in range(10, 101, 10):
                full = sum(full_rank(d0, n, d1, gen) for _ in range(a.trials))
                count += a.trials
                if a.fractions:
                    print(f"{d0} {n} {d1} {full / a.trials:.3f}")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"torch regions={count} seconds={wall:.3f} regions_per_s={count / wall:.1f} "
          f"cpu_seconds={cpu:.3f} threads={a.threads}")


if __name__ == "__main__":
    main()
