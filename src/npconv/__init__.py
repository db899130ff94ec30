"""npconv: a from-scratch, PyTorch-compatible convolution library on NumPy.

``import npconv as torch`` gives the tensor API; ``npconv.nn``, ``npconv.optim``,
``npconv.utils.data`` and ``npconv.vision`` mirror torch, torch.optim and torchvision.
"""
from npconv.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from npconv.creation import (arange, as_tensor, cat, concat, empty, from_numpy, full, linspace,
                             ones, ones_like, rand, randint, randn, randperm, stack, tensor, zeros,
                             zeros_like)
from npconv.device import cuda, device
from npconv.dtypes import (bool, double, dtype, float, float16, float32, float64, get_default_dtype,
                           half, int, int8, int16, int32, int64, long, set_default_dtype, short,
                           uint8)
from npconv.random import Generator, initial_seed, manual_seed
from npconv.tensor import Size, Tensor

__version__ = "0.1.0"


def is_tensor(obj) -> "bool":
    return isinstance(obj, Tensor)


def numel(t) -> "int":
    return t.numel()


def _unary(name):
    def op(t, *args, **kwargs):
        return getattr(t, name)(*args, **kwargs)
    op.__name__ = name
    op.__doc__ = f"Functional form of ``Tensor.{name}``."
    return op


for _name in ("exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "clamp", "sum", "mean",
              "max", "min", "amax", "argmax", "argmin", "flatten", "reshape", "permute",
              "transpose", "squeeze", "unsqueeze", "matmul", "softmax", "log_softmax", "eq",
              "equal", "var", "std", "mm"):
    globals()[_name] = _unary(_name)
del _name


def where(condition, input, other):
    from npconv.autograd.math_ops import Where
    a = input if isinstance(input, Tensor) else tensor(input)
    b = other if isinstance(other, Tensor) else tensor(other, dtype=a.dtype)
    return Where.apply(condition, a, b)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> "bool":
    import numpy
    return numpy.allclose(a.data_array, b.data_array, rtol, atol, equal_nan)


def save(obj, f) -> None:
    """Write a state dict safely (no pickle) and atomically; see npconv.serialization."""
    from npconv.serialization import save as _save
    _save(obj, f)


def load(f, map_location=None, weights_only=True):
    """Read what npconv.save wrote; never unpickles."""
    from npconv.serialization import load as _load
    return _load(f)
