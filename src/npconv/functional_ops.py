"""torch's free functions (``npconv.exp(x)``, ``npconv.sum(x, 1)``, ...) with torch's signatures.

Each one calls the Tensor method of the same name, so the function and the method cannot drift
apart; ``import npconv`` re-exports them all.
"""
from __future__ import annotations

from npconv._backend import xp
from npconv.autograd.math_ops import Where
from npconv.creation import tensor
from npconv.tensor import Tensor

__all__ = ["abs", "allclose", "amax", "argmax", "argmin", "clamp", "eq", "equal", "exp",
           "flatten", "is_tensor", "log", "log_softmax", "matmul", "max", "mean", "min", "mm",
           "numel", "permute", "relu", "reshape", "sigmoid", "softmax", "sqrt", "squeeze", "std",
           "sum", "tanh", "transpose", "unsqueeze", "var", "where"]


def is_tensor(obj, /) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


# ---- elementwise ------------------------------------------------------------------------------
def exp(input: Tensor) -> Tensor:
    """e ** input."""
    return input.exp()


def log(input: Tensor) -> Tensor:
    """The natural logarithm."""
    return input.log()


def sqrt(input: Tensor) -> Tensor:
    return input.sqrt()


def abs(input: Tensor) -> Tensor:
    return input.abs()


def relu(input: Tensor) -> Tensor:
    """max(0, input)."""
    return input.relu()


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-input))."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    """input limited to [min, max] (either bound may be None)."""
    return input.clamp(min, max)


def eq(input: Tensor, other) -> Tensor:
    """Elementwise input == other, as a bool tensor."""
    return input.eq(other)


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both have the same shape and elements."""
    return input.equal(other)


def where(condition: Tensor, input, other) -> Tensor:
    """input where condition holds, else other; a Python number takes the other side's dtype."""
    a = input if isinstance(input, Tensor) else tensor(input)
    b = other if isinstance(other, Tensor) else tensor(other, dtype=a.dtype)
    return Where.apply(condition, a, b)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """|input - other| <= atol + rtol * |other| everywhere."""
    return xp.allclose(input.data_array, other.data_array, rtol, atol, equal_nan)


# ---- reductions -------------------------------------------------------------------------------
def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    return input.sum(dim, keepdim, dtype=dtype)


def mean(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return input.mean(dim, keepdim)


def var(input: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False) -> Tensor:
    """sum((x - mean)^2) / (n - 1), or / n when not unbiased."""
    return input.var(dim, unbiased, keepdim)


def std(input: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False) -> Tensor:
    """sqrt(var)."""
    return input.std(dim, unbiased, keepdim)


def max(input: Tensor, dim=None, keepdim: bool = False):
    """The maximum; with dim, (values, indices); with a tensor as dim, the elementwise maximum."""
    return input.max(dim, keepdim)


def min(input: Tensor, dim=None, keepdim: bool = False):
    """The minimum; with dim, (values, indices)."""
    return input.min(dim, keepdim)


def amax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return input.amax(dim, keepdim)


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return input.argmax(dim, keepdim)


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return input.argmin(dim, keepdim)


def softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along dim."""
    return input.softmax(dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """x_i - log(sum_j exp(x_j)) along dim."""
    return input.log_softmax(dim, dtype=dtype)


# ---- shape and products -----------------------------------------------------------------------
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return input.flatten(start_dim, end_dim)


def reshape(input: Tensor, shape) -> Tensor:
    return input.reshape(shape)


def permute(input: Tensor, dims) -> Tensor:
    return input.permute(dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return input.transpose(dim0, dim1)


def squeeze(input: Tensor, dim=None) -> Tensor:
    return input.squeeze(dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return input.unsqueeze(dim)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return input.matmul(other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    return input.mm(mat2)
