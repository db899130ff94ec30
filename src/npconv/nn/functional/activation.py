"""Activations and (log-)softmax, as torch.nn.functional."""
from __future__ import annotations

import warnings

from npconv import dtypes
from npconv.autograd import activation_ops as A
from npconv.autograd import is_grad_enabled, nn_ops
from npconv.tensor import Tensor


def as_inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    """torch's inplace=True: write the result into input's storage (bumping its version) and
    return input. A leaf that requires grad is refused, as torch refuses it; any other tensor
    in the autograd graph keeps the out-of-place result instead (npconv records no in-place
    ops), which computes the same values and gradients."""
    if inplace and input.is_leaf and input.requires_grad and is_grad_enabled():
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation. (pass inplace=False, or run under npconv.no_grad())")
    if not inplace or input.requires_grad:
        return result
    return input._inplace(result.data_array)


def _floating_op(kernel: str, op, input: Tensor, inplace: bool = False, **params) -> Tensor:
    """op on a floating-point input (torch has no integer kernel, named ``kernel``, for the
    smooth activations), honouring inplace."""
    if not input.dtype.is_floating_point:
        raise dtypes.not_implemented_for(kernel, input.dtype, "the activation computes in "
                                         "floating point: convert the input with .float()")
    return as_inplace(input, op.apply(input, **params), inplace)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x)."""
    if input.dtype == dtypes.bool:
        raise RuntimeError("Boolean inputs not supported for relu (a bool is never negative; "
                           "convert with .float() or .int() if you need a number)")
    return as_inplace(input, input.relu(), inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return _floating_op("leaky_relu_cpu", nn_ops.LeakyReLU, input, inplace,
                        negative_slope=negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return _floating_op("elu_cpu", A.Elu, input, inplace, alpha=alpha)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError(f"min_val cannot be greater than max_val (got min_val={min_val}, "
                         f"max_val={max_val})")
    return as_inplace(input, A.Hardtanh.apply(input, min_val=min_val, max_val=max_val), inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6): hardtanh(x, 0, 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses torch's tanh formula."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh. (got "
                           f"{approximate!r})")
    return _floating_op("GeluKernelImpl", A.Gelu, input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x)."""
    return _floating_op("silu_cpu", A.Silu, input, inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    return _floating_op("mish_cpu", A.Mish, input, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    return _floating_op("hardsigmoid_cpu", A.Hardsigmoid, input, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    return _floating_op("hardswish_cpu", A.Hardswish, input, inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, reverting to x where beta x > threshold."""
    return _floating_op("softplus_cpu", A.Softplus, input, beta=beta, threshold=threshold)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, weight * x otherwise; weight holds one slope, or one per channel (dim 1)."""
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.dim()}")
    channels = input.shape[1] if input.dim() >= 2 else 1
    if weight.numel() not in (1, channels):
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {weight.numel()} and channel size = "
                           f"{channels}. (the slopes are per channel, dim 1 of the input)")
    if weight.dtype != input.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got "
                           f"{input.dtype.legacy_name} and {weight.dtype.legacy_name}")
    return A.Prelu.apply(input, weight)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -log(1 + exp(-x)), computed without overflow."""
    return _floating_op("log_sigmoid_cpu", A.LogSigmoid, input)


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
