"""Checks of the arrays handed to the library: float64, shapes, contiguity.

Inputs: a C-contiguous float64 array is used in place (no copy); any other
float64 layout (a transposed or strided view) is copied once into C order;
lists are converted. Any other dtype is refused rather than converted, so a
float32 array never silently becomes a different problem. Outputs (out=)
must be C-contiguous, writeable float64 arrays of the exact shape: the
library writes into them directly and a strided one cannot take that.
"""
import numpy as np

from ._lib import ffi


def _dtype(a, name):
    if isinstance(a, np.ndarray):
        if a.dtype != np.float64:
            raise TypeError(f"{name}: dtype {a.dtype}, but minima computes in float64 "
                            f"(convert with {name}.astype(numpy.float64))")
        return a
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name}: not an array of numbers ({e})") from None


def vector(a, name, n):
    a = _dtype(a, name)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"{name}: shape {a.shape}, expected ({n},)")
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def samples(X, name="X"):
    """X as a C-ordered (n x d) float64 array."""
    X = _dtype(X, name)
    if X.ndim != 2:
        raise ValueError(f"{name}: shape {X.shape}, expected 2-D (samples x features)")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name}: shape {X.shape} has no samples or no features")
    return X if X.flags.c_contiguous else np.ascontiguousarray(X)


def labels(y, n, name="y"):
    """y (n,) or (n x m) as a C-ordered (n x m) float64 array."""
    y = _dtype(y, name)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"{name}: shape {y.shape}, expected ({n},) or ({n}, outputs) to match X's {n} rows")
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    return y if y.flags.c_contiguous else np.ascontiguousarray(y)


def output(out, shape, name="out"):
    if out is None:
        return np.empty(shape)
    if not isinstance(out, np.ndarray) or out.dtype != np.float64:
        raise TypeError(f"{name}: expected a float64 numpy array of shape {shape}")
    if out.shape != shape:
        raise ValueError(f"{name}: shape {out.shape}, expected {shape}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"{name}: must be C-contiguous and writeable (the library writes into it in place)")
    return out


_DOUBLES = ffi.typeof("double[]")  # resolved once: a type string is parsed on every use


def ptr(a):
    """A double * into a (C-contiguous) array, kept alive by the returned cdata."""
    return ffi.from_buffer(_DOUBLES, a, require_writable=False)
