"""Activations and (log-)softmax, as torch.nn.functional."""
from __future__ import annotations

import warnings

from npconv import dtypes
from npconv.autograd import nn_ops
from npconv.tensor import Tensor


def as_inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    """torch's inplace=True: write the result into input's storage and return input. A tensor
    in the autograd graph keeps the out-of-place result instead (npconv records no in-place
    ops), which computes the same values and gradients."""
    if not inplace or input.requires_grad:
        return result
    return input._inplace(result.data_array)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x)."""
    if input.dtype == dtypes.bool:
        raise RuntimeError("Boolean inputs not supported for relu (a bool is never negative; "
                           "convert with .float() or .int() if you need a number)")
    return as_inplace(input, input.relu(), inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    if not input.dtype.is_floating_point:
        raise dtypes.not_implemented_for("leaky_relu_cpu", input.dtype,
                                         "negative_slope * x needs a floating-point input: "
                                         "convert it with .float()")
    return as_inplace(input, nn_ops.LeakyReLU.apply(input, negative_slope=negative_slope), inplace)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x))."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def _implicit_dim(name: str, input: Tensor, dim, stacklevel: int):
    """dim, or for None torch's legacy implicit choice (0 for 0-, 1- and 3-D input, else 1) with
    its deprecation warning, attributed ``stacklevel`` frames up as torch does."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if input.dim() in (0, 1, 3) else 1


def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along dim."""
    return input.softmax(_implicit_dim("softmax", input, dim, _stacklevel), dtype=dtype)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x_i - log(sum_j exp(x_j)) along dim, computed stably (not as log(softmax))."""
    return input.log_softmax(_implicit_dim("log_softmax", input, dim, _stacklevel), dtype=dtype)
