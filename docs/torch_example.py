"""Certify the end point of your own PyTorch training with minima.

A 30-4-1 tanh network trained by PyTorch (float64, L-BFGS, squared loss) on
the breast cancer data set that ships with scikit-learn (569 samples, 30
features, standardised; labels -1/+1), imported with minima.from_torch, its
end point certified (gradient norm, Hessian spectrum, class, a search for a
verified descent direction), then embedded into the network with Liang et
al.'s exponential neuron to see whether that defence opens a way down.

    /usr/bin/python3 docs/torch_example.py        (python3-torch, python3-sklearn)
"""
import numpy as np
import torch
from sklearn.datasets import load_breast_cancer

import minima

data = load_breast_cancer()
X = (data.data - data.data.mean(0)) / data.data.std(0)
y = np.where(data.target == 1, 1.0, -1.0)

torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(30, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
Xt, yt = torch.from_numpy(X), torch.from_numpy(y).reshape(-1, 1)
opt = torch.optim.LBFGS(net.parameters(), max_iter=5000, tolerance_grad=1e-12, tolerance_change=0,
                        history_size=50, line_search_fn="strong_wolfe")


def closure():
    opt.zero_grad()
    loss = 0.5 * ((net(Xt) - yt) ** 2).mean()   # minima's squared loss: (1/N) sum (1/2)(f - y)^2
    loss.backward()
    return loss


for _ in range(4):
    opt.step(closure)
print(f"PyTorch: loss {closure().item():.6f}, "
      f"training accuracy {((net(Xt) > 0).double() * 2 - 1 == yt).double().mean().item():.4f}")

model, theta = minima.from_torch(net, loss="squared")
print(f"minima:  {model}")
print(f"         loss {model.loss(theta, X, y):.6f} (the same objective)")
ev = model.eigenvalues(theta, X, y)
print(f"         Hessian spectrum: {model.n_params} eigenvalues in [{ev[0]:.3g}, {ev[-1]:.3g}], "
      f"{int((ev < -1e-8).sum())} below -1e-8")

# the squared loss is never negative: 0 is a lower bound of the global value, declared as its value
cert = minima.certify(model, theta, X, y, eliminate="liang", lambda_=0.01, global_loss=0.0)
p, d = cert["point"], cert["defence"]
print(f"point:   class {p['class']}, grad_norm {p['grad_norm']:.2e}, lambda_min {p.get('lambda_min', float('nan')):.3g}, "
      f"escape {p['escape']['order']}, bad local minimum: {p['bad_local_minimum']}")
print(f"liang:   max |dL/da| {d['max_abs_dL_da']:.3g} over the neuron's random w; class {d['class']}, "
      f"escape {d['escape']['order']} (decrease {d['escape'].get('decrease', 0):.3g}), verdict: {d['verdict']}")
