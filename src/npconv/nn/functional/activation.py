"""Activations and (log-)softmax, as torch.nn.functional."""
from __future__ import annotations

import warnings

from npconv import dtypes
from npconv.autograd import nn_ops
from npconv.tensor import Tensor


def _inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
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
    return _inplace(input, input.relu(), inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    if not input.dtype.is_floating_point:
        raise dtypes.not_implemented_for("leaky_relu_cpu", input.dtype,
                                         "negative_slope * x needs a floating-point input: "
                                         "convert it with .float()")
    return _inplace(input, nn_ops.LeakyReLU.apply(input, negative_slope=negative_slope), inplace)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x))."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def _softmax_dim(name: str, input: Tensor, dim, stacklevel: int) -> int:
    """The checked dim; None picks torch's legacy implicit choice (0 for 0-, 1- and 3-D input,
    else 1) with its deprecation warning."""
    ndim = max(input.dim(), 1)
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                      "to include dim=X as an argument.", stacklevel=stacklevel + 1)
        return 0 if input.dim() in (0, 1, 3) else 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                         f"{ndim - 1}], but got {dim})")
    return dim % ndim


def _softmax(op, name, input, dim, stacklevel, dtype):
    if dtype is not None:
        input = input.to(dtypes.as_dtype(dtype))
    dim = _softmax_dim(name, input, dim, stacklevel)
    if not input.dtype.is_floating_point:
        kernel = f"{name}_lastdim_kernel_impl" if dim == max(input.dim(), 1) - 1 \
            else f"{name}_kernel_impl"
        raise dtypes.not_implemented_for(kernel, input.dtype,
                                         f"{name} computes in floating point: convert the "
                                         "input with .float(), or pass dtype=npconv.float32")
    if input.dim() == 0:
        return op.apply(input.reshape(1), dim=0).reshape(())
    return op.apply(input, dim=dim)


def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along dim."""
    return _softmax(nn_ops.Softmax, "softmax", input, dim, _stacklevel, dtype)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x_i - log(sum_j exp(x_j)) along dim, computed stably (not as log(softmax))."""
    return _softmax(nn_ops.LogSoftmax, "log_softmax", input, dim, _stacklevel, dtype)
