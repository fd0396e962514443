"""A torch.nn.Sequential of Linear layers and one kind of activation as a
minima Model and parameter vector, and back."""
import numpy as np

from .model import Model

# torch module class name -> (minima activation, parameter attribute, minima keyword)
_ACTS = {"ReLU": ("relu", None, None), "LeakyReLU": ("leaky_relu", "negative_slope", "slope"),
         "Softplus": ("softplus", "beta", "sharpness"), "Sigmoid": ("sigmoid", None, None),
         "Tanh": ("tanh", None, None), "Identity": ("linear", None, None)}


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("minima: from_torch / to_torch need PyTorch (Debian: python3-torch)") from None
    return torch


def from_torch(module, loss="squared", **model_options):
    """(Model, theta) of `module`: torch.nn.Sequential(Linear, act, Linear,
    act, ..., Linear) with one activation kind throughout (ReLU, LeakyReLU,
    Softplus, Sigmoid, Tanh, Identity), every Linear with a bias or none.
    theta is float64 in minima's layout; Linear's weight (out x in) is
    minima's W_l already. loss and model_options (eliminate, lambda_, p, ...)
    complete the Model. Softplus: torch's switches to the identity where
    beta z > threshold (20), minima's does not; they differ there by at
    most log1p(exp(-20)) / beta = 2.1e-9 / beta."""
    torch = _torch()
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(f"from_torch: expected a torch.nn.Sequential, got {type(module).__name__}")
    layers = list(module)
    if not layers:
        raise ValueError("from_torch: the Sequential is empty")
    linears, act, act_param = [], None, None
    for i, m in enumerate(layers):
        name = type(m).__name__
        if i % 2 == 0:
            if not isinstance(m, torch.nn.Linear):
                raise ValueError(f"from_torch: module {i} is {name}; expected Linear "
                                 "(Linear and activations must alternate, Linear first and last)")
            linears.append(m)
            continue
        if isinstance(m, torch.nn.Linear):
            raise ValueError(f"from_torch: module {i} is Linear; expected an activation between two Linear "
                             "layers (use Identity for none)")
        if name not in _ACTS:
            raise ValueError(f"from_torch: module {i} is {name}, an activation minima does not have "
                             f"(supported: {', '.join(_ACTS)})")
        kind, attr, _ = _ACTS[name]
        param = float(getattr(m, attr)) if attr else None
        if act is not None and (kind, param) != (act, act_param):
            raise ValueError(f"from_torch: module {i} is {name}, but minima networks use one activation "
                             f"throughout (module 1 is {type(layers[1]).__name__})")
        act, act_param = kind, param
    if not isinstance(layers[-1], torch.nn.Linear):
        raise ValueError(f"from_torch: the last module is {type(layers[-1]).__name__}; minima's output "
                         "layer is linear, so the Sequential must end with Linear")
    widths = [linears[0].in_features]
    for i, lin in enumerate(linears):
        if lin.in_features != widths[-1]:
            raise ValueError(f"from_torch: Linear {i} takes {lin.in_features} inputs but the layer before "
                             f"gives {widths[-1]}")
        widths.append(lin.out_features)
    has_bias = {lin.bias is not None for lin in linears}
    if len(has_bias) != 1:
        raise ValueError("from_torch: some Linear layers have a bias and some do not; "
                         "minima networks have biases everywhere or nowhere")
    opts = dict(model_options)
    if act is None:
        act = "linear"
    elif _ACTS_BY_KIND[act]:
        opts[_ACTS_BY_KIND[act]] = act_param
    model = Model("-".join(map(str, widths)), act=act, loss=loss, bias=has_bias.pop(), **opts)
    theta = np.zeros(model.n_params)
    blocks = model.unpack(theta)
    with torch.no_grad():
        for l, lin in enumerate(linears, start=1):
            blocks[f"W{l}"][...] = lin.weight.detach().to(torch.float64).cpu().numpy()
            if lin.bias is not None:
                blocks[f"b{l}"][...] = lin.bias.detach().to(torch.float64).cpu().numpy()
    return model, theta


_ACTS_BY_KIND = {kind: kw for kind, _, kw in _ACTS.values()}


def to_torch(model, theta):
    """The plain network of model at theta as a float64 torch.nn.Sequential
    (added neurons and skip connections have no Sequential equivalent and
    are refused)."""
    torch = _torch()
    if model.n_elim or model.skip:
        raise ValueError("to_torch: added neurons and skip connections have no torch.nn.Sequential form")
    blocks = model.unpack(theta)
    w = model.widths
    mods = []
    for l in range(1, len(w)):
        lin = torch.nn.Linear(w[l - 1], w[l], bias=model.bias, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(blocks[f"W{l}"].copy()))
            if model.bias:
                lin.bias.copy_(torch.from_numpy(blocks[f"b{l}"].copy()))
        mods.append(lin)
        if l < len(w) - 1:
            mods.append(_act_module(torch, model))
    return torch.nn.Sequential(*mods)


def _act_module(torch, model):
    a = model.act
    if a == "relu":
        return torch.nn.ReLU()
    if a == "leaky_relu":
        return torch.nn.LeakyReLU(model.act_param)
    if a == "softplus":
        return torch.nn.Softplus(beta=model.act_param)
    if a == "sigmoid":
        return torch.nn.Sigmoid()
    if a == "tanh":
        return torch.nn.Tanh()
    if a == "linear":
        return torch.nn.Identity()
    raise ValueError(f"to_torch: activation '{a}' has no torch.nn module")
