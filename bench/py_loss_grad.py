#!/usr/bin/python3
"""One loss + gradient call from Python: minima (Model.loss_grad, through
cffi into libminima.so) against torch.autograd on the same model, the same
data and the same parameters, in the same process, float64.

One call: minima — model.loss_grad(theta, X, y): argument checks, a data
view over the arrays (no copy), mn_eval, the gradient in a new array (P,);
torch — zero the gradients, forward, loss, loss.backward(). Both compute
L = (1/N) sum_i (1/2)(f(x_i) - y_i)^2 and its full gradient for a ReLU
network with biases; the two losses are checked to agree (1e-12 relative)
before timing.

Timing: a warm-up (>= 0.3 s), then --repeat windows of >= --seconds each;
the best window is reported (the machine is shared), with the median and
the calls per process-CPU second (all threads; steadier under other load).

usage: /usr/bin/python3 bench/py_loss_grad.py [--seconds 1] [--repeat 5] [--threads 2]
       (PYTHONPATH=python, MINIMA_LIBRARY=build/libminima.so; see bench/README.md)
"""
import argparse
import statistics
import time

import numpy as np
import torch

import minima

CASES = [("4-16-1", 100), ("64-256-256-1", 10000)]


def timed(fn, seconds, repeat):
    t_end = time.perf_counter() + 0.3
    while time.perf_counter() < t_end:
        fn()
    rates, cpu = [], []
    for _ in range(repeat):
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            fn()
            n += 1
            t = time.perf_counter() - t0
            if t >= seconds:
                break
        rates.append(n / t)
        cpu.append(n / max(time.process_time() - c0, 1e-9))
    return max(rates), statistics.median(rates), max(cpu)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(1)
    print(f"# torch {torch.__version__}, numpy {np.__version__}, torch threads {a.threads}, "
          f"library {minima.library_path}")
    print("| case | minima calls/s | torch calls/s | ratio | minima us/call | torch us/call | "
          "ratio per CPU second |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for arch, n in CASES:
        model = minima.Model(arch, act="relu", loss="squared")
        theta = model.init(seed=1)
        X = rng.normal(size=(n, model.widths[0]))
        y = rng.normal(size=n)
        net = minima.to_torch(model, theta)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y).reshape(-1, 1)

        def torch_call():
            net.zero_grad(set_to_none=True)
            loss = 0.5 * ((net(Xt) - yt) ** 2).sum(1).mean()
            loss.backward()
            return loss

        def minima_call():
            return model.loss_grad(theta, X, y)

        lm, lt = minima_call()[0], torch_call().item()
        assert abs(lm - lt) <= 1e-12 * abs(lt), (lm, lt)
        m_best, m_med, m_cpu = timed(minima_call, a.seconds, a.repeat)
        t_best, t_med, t_cpu = timed(torch_call, a.seconds, a.repeat)
        print(f"| {arch}, n = {n} | {m_best:,.1f} (median {m_med:,.1f}) | {t_best:,.1f} (median {t_med:,.1f}) | "
              f"{m_best / t_best:.2f}x | {1e6 / m_best:,.1f} | {1e6 / t_best:,.1f} | {m_cpu / t_cpu:.2f}x |",
              flush=True)


if __name__ == "__main__":
    main()
