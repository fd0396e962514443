"""from_torch / to_torch: a minima model of a torch.nn.Sequential computes
torch's own loss and autograd gradient (1e-10); modules minima cannot
represent are refused with a clear message. Skipped without PyTorch."""
import numpy as np
import pytest

import minima

torch = pytest.importorskip("torch")
nn = torch.nn

ACTS = [nn.ReLU(), nn.LeakyReLU(0.13), nn.Softplus(beta=1.7), nn.Sigmoid(), nn.Tanh(), nn.Identity()]


def torch_loss(net, X, y, loss):
    f = net(torch.from_numpy(X))
    if loss == "squared":
        return 0.5 * ((f - torch.from_numpy(y.reshape(f.shape))) ** 2).sum(1).mean()
    if loss == "logistic":
        return torch.nn.functional.softplus(-torch.from_numpy(y.reshape(f.shape)) * f).sum(1).mean()
    return torch.nn.functional.cross_entropy(f, torch.from_numpy(y).long())


def sequential(rng, act, widths, bias):
    torch.manual_seed(int(rng.integers(1 << 30)))
    mods = []
    for l in range(1, len(widths)):
        mods.append(nn.Linear(widths[l - 1], widths[l], bias=bias))
        if l < len(widths) - 1:
            mods.append(act)
    return nn.Sequential(*mods).double()


@pytest.mark.parametrize("act", ACTS, ids=lambda a: type(a).__name__)
@pytest.mark.parametrize("loss", ["squared", "logistic", "softmax_ce"])
def test_loss_and_gradient_are_torchs(act, loss):
    rng = np.random.default_rng(7)
    for i in range(4):
        K = 3 if loss == "softmax_ce" else 1 + i % 2
        widths = [1 + int(rng.integers(5))] + [1 + int(rng.integers(6)) for _ in range(i % 3)] + [K]
        net = sequential(rng, act, widths, bias=i % 2 == 0)
        n = 25
        X = rng.normal(size=(n, widths[0]))
        if loss == "softmax_ce":
            y = rng.integers(0, K, size=n).astype(np.float64)
        elif loss == "logistic":
            y = rng.choice([-1.0, 1.0], size=(n, K))
        else:
            y = rng.normal(size=(n, K))
        model, theta = minima.from_torch(net, loss=loss)
        assert model.arch == "-".join(map(str, widths)) and model.bias == (i % 2 == 0)
        net.zero_grad()
        L = torch_loss(net, X, y, loss)
        L.backward()
        g_torch = np.concatenate([p.grad.numpy().ravel() for p in net.parameters()])
        loss_value, g = model.loss_grad(theta, X, y)
        assert abs(loss_value - L.item()) <= 1e-10 * max(1.0, abs(L.item()))
        assert np.max(np.abs(g - g_torch)) <= 1e-10 * max(1.0, np.max(np.abs(g_torch)))
        # and back: the same network
        back = minima.to_torch(model, theta)
        assert np.array_equal(minima.from_torch(back, loss=loss)[1], theta)
        assert np.allclose(back(torch.from_numpy(X)).detach().numpy(), model.predict(theta, X), rtol=1e-13,
                           atol=1e-13)


def test_float32_modules_and_added_neurons():
    rng = np.random.default_rng(2)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))            # float32
    model, theta = minima.from_torch(net, loss="squared", eliminate="liang", lambda_=0.1)
    assert model.eliminate == "liang" and model.n_params == 21 + 5
    assert np.array_equal(theta[:21], np.concatenate([p.detach().double().numpy().ravel()
                                                      for p in net.parameters()]))
    assert np.all(theta[21:] == 0)                   # the added neuron off: a = 0
    X = rng.normal(size=(9, 3))
    y = rng.normal(size=9)
    L = torch_loss(net.double(), X, y, "squared").item()
    assert abs(model.loss(theta, X, y) - L) <= 1e-12


@pytest.mark.parametrize("net,match", [
    (nn.Sequential(nn.Linear(2, 3), nn.GELU(), nn.Linear(3, 1)), "module 1 is GELU, an activation minima does not"),
    (nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1)),
     "module 3 is Tanh, but minima networks use one activation"),
    (nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.1), nn.Linear(3, 3), nn.LeakyReLU(0.2), nn.Linear(3, 1)),
     "one activation throughout"),
    (nn.Sequential(nn.Linear(2, 3), nn.ReLU()), "must end with Linear"),
    (nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1)), "module 1 is Linear; expected an activation"),
    (nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(4, 1)), "Linear 1 takes 4 inputs"),
    (nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1, bias=False)), "some Linear layers have a bias"),
    (nn.Sequential(nn.Conv1d(1, 1, 1)), "module 0 is Conv1d; expected Linear"),
    (nn.Sequential(), "empty"),
])
def test_unsupported_modules_are_refused(net, match):
    with pytest.raises(ValueError, match=match):
        minima.from_torch(net)


def test_other_bad_input():
    with pytest.raises(TypeError, match="expected a torch.nn.Sequential, got Linear"):
        minima.from_torch(nn.Linear(2, 1))
    with pytest.raises(minima.MinimaError, match="unknown loss"):
        minima.from_torch(nn.Sequential(nn.Linear(2, 1)), loss="l1")
    model = minima.Model("2-3-1", act="quadratic")
    with pytest.raises(ValueError, match="'quadratic' has no torch.nn module"):
        minima.to_torch(model, model.init())
    with pytest.raises(ValueError, match="no torch.nn.Sequential form"):
        m = minima.Model("2-3-1", eliminate="liang")
        minima.to_torch(m, m.init())
