"""Model: a network as `minima` describes it on its command line, with its
parameter layout, initialisation, and exact loss / gradient / Hessian-vector
products / Hessian / spectrum on NumPy arrays."""
import threading
from collections import namedtuple

import numpy as np

from . import _arrays
from ._lib import MinimaError, check, cstr, ffi, lib

Block = namedtuple("Block", "name offset shape")
Block.__doc__ = "One block of the flat parameter vector: theta[offset:offset + prod(shape)]."

_SIZE_MAX = ffi.cast("size_t", -1)
# Types resolved once: cffi parses a type string on every use.
_DATA_PP = ffi.typeof("mn_data **")
_DOUBLE_P = ffi.typeof("double *")


class Model:
    """A network and objective, built from the options `minima train` takes:

        Model("4-16-1", act="tanh", loss="squared", eliminate="liang", lambda_=0.01)

    arch      widths, inputs first ("W0-W1-..-WL")
    act       relu | leaky_relu | softplus | sigmoid | tanh | quadratic | linear (relu)
    slope     leaky_relu slope for z < 0 (0.01); sharpness: softplus beta (1)
    loss      squared | logistic | softmax_ce | poly_hinge | squared_hinge (poly_hinge, as the CLI)
    p         exponent of poly_hinge (3)
    eliminate none | liang | per-output (none); lambda_ (or lambda=): penalty (10, the library's)
    bias      False is --no-bias; skip: True is --skip
    freeze    layer numbers (1-based) held fixed, e.g. (2,) or "1,2"

    Evaluations reuse one workspace per model and are serialised by a lock:
    share a model between threads freely, or give each thread its own model
    to run in parallel.
    """

    def __init__(self, arch, act="relu", loss="poly_hinge", eliminate="none", lambda_=None, p=None,
                 slope=None, sharpness=None, bias=True, skip=False, freeze=(), **kw):
        if "lambda" in kw:
            if lambda_ is not None:
                raise TypeError("Model: give lambda_ or lambda, not both")
            lambda_ = kw.pop("lambda")
        if kw:
            raise TypeError(f"Model: unknown option(s) {', '.join(sorted(kw))}")
        spec = ffi.new("mn_spec *")
        lib.mn_spec_default(spec)
        check(lib.mn_spec_parse_arch(spec, _str(arch, "arch").encode()))
        act_p = ffi.new("mn_act *")
        check(lib.mn_act_parse(act_p, _str(act, "act").encode()))
        spec.act = act_p[0]
        if slope is not None and spec.act != lib.MN_ACT_LEAKY_RELU:
            raise ValueError("slope applies to act='leaky_relu' only")
        if sharpness is not None and spec.act != lib.MN_ACT_SOFTPLUS:
            raise ValueError("sharpness applies to act='softplus' only")
        spec.act_param = _num(sharpness if spec.act == lib.MN_ACT_SOFTPLUS else slope,
                              "sharpness" if spec.act == lib.MN_ACT_SOFTPLUS else "slope",
                              1.0 if spec.act == lib.MN_ACT_SOFTPLUS else 0.01)
        loss_p = ffi.new("mn_loss *")
        check(lib.mn_loss_parse(loss_p, _str(loss, "loss").encode()))
        spec.loss = loss_p[0]
        spec.loss_p = _num(p, "p", 3.0)
        elim_p = ffi.new("mn_elim *")
        check(lib.mn_elim_parse(elim_p, _str(eliminate, "eliminate").encode()))
        spec.elim = elim_p[0]
        spec.bias = 1 if bias else 0
        spec.skip = 1 if skip else 0
        spec.frozen = _freeze_bits(freeze)
        self._build(spec, _num(lambda_, "lambda", getattr(spec, "lambda")))  # default: mn_spec_default's

    def _build(self, spec, lam):
        setattr(spec, "lambda", lam)
        out = ffi.new("mn_model **")
        check(lib.mn_model_alloc(out, spec))
        self._ptr = ffi.gc(out[0], lib.mn_model_free)
        self._spec = lib.mn_model_spec(self._ptr)
        self.n_params = int(lib.mn_model_nparams(self._ptr))
        mask = np.empty(self.n_params, dtype=np.uint8)
        lib.mn_model_free_mask(self._ptr, ffi.from_buffer("unsigned char[]", mask))
        self.free_mask = mask.astype(bool)
        self.n_free = int(mask.sum())
        self._work = None
        self._work_n = 0
        self._lock = threading.Lock()

    @classmethod
    def _from_spec(cls, spec):
        """A model of a filled mn_spec (attacks, the torch bridge)."""
        self = cls.__new__(cls)
        copy = ffi.new("mn_spec *", spec[0] if isinstance(spec, ffi.CData) and ffi.typeof(spec).kind == "pointer"
                       else spec)
        self._build(copy, getattr(copy, "lambda"))
        return self

    # ---------------------------------------------------------------- description
    @property
    def widths(self):
        s = self._spec
        return tuple(s.width[l] for l in range(s.depth + 1))

    @property
    def arch(self):
        return "-".join(str(w) for w in self.widths)

    @property
    def act(self):
        return cstr(lib.mn_act_name(self._spec.act))

    @property
    def loss_name(self):
        return cstr(lib.mn_loss_name(self._spec.loss))

    @property
    def eliminate(self):
        return cstr(lib.mn_elim_name(self._spec.elim))

    @property
    def lambda_(self):
        return getattr(self._spec, "lambda")

    @property
    def act_param(self):
        return self._spec.act_param

    @property
    def p(self):
        return self._spec.loss_p

    @property
    def bias(self):
        return bool(self._spec.bias)

    @property
    def skip(self):
        return bool(self._spec.skip)

    @property
    def freeze(self):
        return tuple(l for l in range(1, self._spec.depth + 1) if self._spec.frozen >> (l - 1) & 1)

    @property
    def n_elim(self):
        return int(lib.mn_model_nelim(self._ptr))

    def options(self):
        """The model as `minima` command-line options (numbers round-trip exactly)."""
        a = ["--arch", self.arch, "--act", self.act]
        if self._spec.act == lib.MN_ACT_LEAKY_RELU:
            a += ["--slope", repr(self.act_param)]
        elif self._spec.act == lib.MN_ACT_SOFTPLUS:
            a += ["--sharpness", repr(self.act_param)]
        a += ["--loss", self.loss_name, "--p", repr(self.p), "--eliminate", self.eliminate,
              "--lambda", repr(self.lambda_)]
        if not self.bias:
            a.append("--no-bias")
        if self.skip:
            a.append("--skip")
        if self.freeze:
            a += ["--freeze", ",".join(str(l) for l in self.freeze)]
        return a

    def __repr__(self):
        return f"minima.Model({' '.join(self.options())}; {self.n_params} parameters)"

    def layout(self):
        """The blocks of the flat parameter vector, in order: W1 (width[1] x
        width[0]), b1, ..., S (K x d) with skip, then each added neuron j:
        elim{j}.a (), elim{j}.w (d,), elim{j}.b ()."""
        w = self.widths
        out = []
        for l in range(1, len(w)):
            out.append(Block(f"W{l}", int(lib.mn_model_w_offset(self._ptr, l)), (w[l], w[l - 1])))
            b = lib.mn_model_b_offset(self._ptr, l)
            if b != _SIZE_MAX:
                out.append(Block(f"b{l}", int(b), (w[l],)))
        if self.skip:
            last = out[-1]
            out.append(Block("S", last.offset + int(np.prod(last.shape)), (w[-1], w[0])))
        for j in range(self.n_elim):
            o = int(lib.mn_model_elim_offset(self._ptr, j))
            out += [Block(f"elim{j + 1}.a", o, ()), Block(f"elim{j + 1}.w", o + 1, (w[0],)),
                    Block(f"elim{j + 1}.b", o + 1 + w[0], ())]
        return out

    def unpack(self, theta):
        """{block name: view of theta reshaped} (views: writing them writes theta)."""
        theta = _arrays.vector(theta, "theta", self.n_params)
        return {b.name: theta[b.offset:b.offset + int(np.prod(b.shape, dtype=int))].reshape(b.shape)
                for b in self.layout()}

    def init(self, seed=1, frozen_value=1.0):
        """The library's initialisation (as `minima train --seed`)."""
        theta = np.empty(self.n_params)
        lib.mn_model_init(self._ptr, _arrays.ptr(theta), _seed(seed), float(frozen_value))
        return theta

    # ---------------------------------------------------------------- evaluations
    def _call(self, X, y, fn, labelled=True):
        """fn(data) under the lock, with a data view over X, y and a workspace
        for their n samples."""
        X = _arrays.samples(X)
        n, d = X.shape
        if labelled:
            y = _arrays.labels(y, n)
        with self._lock:
            if self._work_n < n:
                w = ffi.new("mn_work **")
                check(lib.mn_work_alloc(w, self._ptr, n))
                self._work = ffi.gc(w[0], lib.mn_work_free)
                self._work_n = n
            data = ffi.new(_DATA_PP)
            xp = _arrays.ptr(X)
            if labelled:
                yp = _arrays.ptr(y)
                check(lib.mn_data_view(data, n, d, y.shape[1], xp, yp))
            else:
                check(lib.mn_data_view(data, n, d, 0, xp, ffi.NULL))
            try:
                if labelled:
                    check(lib.mn_model_check_data(self._ptr, data[0]))
                elif d != self._spec.width[0]:
                    raise MinimaError(f"the data has {d} features but the architecture's input width "
                                      f"is {self._spec.width[0]}")
                return fn(data[0])
            finally:
                lib.mn_data_free(data[0])

    def loss(self, theta, X, y):
        """The objective (1/N) sum_i loss(f(x_i), y_i) + (lambda/2) sum_j a_j^2."""
        t = _arrays.ptr(_arrays.vector(theta, "theta", self.n_params))
        out = ffi.new(_DOUBLE_P)
        self._call(X, y, lambda data: check(lib.mn_eval(self._ptr, self._work, data, t, out, ffi.NULL)))
        return out[0]

    def loss_grad(self, theta, X, y, out=None):
        """(loss, gradient (P,)) in one pass."""
        t = _arrays.ptr(_arrays.vector(theta, "theta", self.n_params))
        g = _arrays.output(out, (self.n_params,))
        gp = _arrays.ptr(g)
        loss = ffi.new(_DOUBLE_P)
        self._call(X, y, lambda data: check(lib.mn_eval(self._ptr, self._work, data, t, loss, gp)))
        return loss[0], g

    def grad(self, theta, X, y, out=None):
        """The gradient (P,) with respect to every parameter (frozen ones included)."""
        return self.loss_grad(theta, X, y, out)[1]

    def hvp(self, theta, v, X, y, out=None):
        """The exact Hessian-vector product H(theta) v (P,)."""
        t = _arrays.ptr(_arrays.vector(theta, "theta", self.n_params))
        vp = _arrays.ptr(_arrays.vector(v, "v", self.n_params))
        h = _arrays.output(out, (self.n_params,))
        hp = _arrays.ptr(h)
        self._call(X, y, lambda data: check(lib.mn_hvp(self._ptr, self._work, data, t, vp, hp,
                                                       ffi.NULL, ffi.NULL)))
        return h

    def hessian(self, theta, X, y, out=None):
        """The full Hessian (P x P), P exact products, symmetrised."""
        t = _arrays.ptr(_arrays.vector(theta, "theta", self.n_params))
        H = _arrays.output(out, (self.n_params, self.n_params))
        hp = _arrays.ptr(H)
        self._call(X, y, lambda data: check(lib.mn_hessian(self._ptr, self._work, data, t, hp)))
        return H

    def eigenvalues(self, theta, X, y):
        """Ascending eigenvalues of the Hessian block of the free (not frozen)
        parameters, as `minima eval --hessian` prints them."""
        H = self.hessian(theta, X, y)
        sub = np.empty((self.n_free, self.n_free))
        mask = self.free_mask.astype(np.uint8)
        lib.mn_restrict(_arrays.ptr(sub), _arrays.ptr(H), ffi.from_buffer("unsigned char[]", mask),
                        self.n_params)
        evals = np.empty(self.n_free)
        if self.n_free:
            check(lib.mn_sym_eigvals(_arrays.ptr(evals), _arrays.ptr(sub), self.n_free))
        return evals

    def predict(self, theta, X):
        """Network outputs f(x_i), added neurons included (n x K)."""
        t = _arrays.ptr(_arrays.vector(theta, "theta", self.n_params))
        X = _arrays.samples(X)
        f = np.empty((X.shape[0], self._spec.width[self._spec.depth]))
        fp = _arrays.ptr(f)
        self._call(X, None, lambda data: check(lib.mn_predict(self._ptr, self._work, data, t, fp)),
                   labelled=False)
        return f


def _str(v, name):
    if not isinstance(v, str):
        raise TypeError(f"{name}: expected a string, got {type(v).__name__}")
    return v


def _num(v, name, default):
    if v is None:
        return default
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a number, got {v!r}") from None
    if not np.isfinite(x):
        raise ValueError(f"{name}: {v!r} is not a finite number")
    return x


def _seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2 ** 64:
        raise ValueError(f"seed: {seed!r} is not an integer in [0, 2^64)")
    return int(seed)


def _freeze_bits(freeze):
    if isinstance(freeze, str):
        try:
            layers = [int(s) for s in freeze.split(",")] if freeze else []
        except ValueError:
            raise ValueError(f"freeze: '{freeze}' is not a list of layer numbers like 2 or 1,2") from None
    elif isinstance(freeze, (int, np.integer)):
        layers = [int(freeze)]
    else:
        layers = list(freeze)
    bits = 0
    for l in layers:
        if isinstance(l, bool) or not isinstance(l, (int, np.integer)) or not 1 <= l <= 32:
            raise ValueError(f"freeze: {l!r} is not a layer number (1-based)")
        bits |= 1 << (int(l) - 1)
    return bits
