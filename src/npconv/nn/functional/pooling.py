"""max_pool2d and avg_pool2d: arguments normalized and checked once (torch's messages), then
the pooling ops of npconv.autograd.nn_ops."""
from __future__ import annotations

import numbers
from collections import namedtuple

from npconv import dtypes
from npconv.autograd import nn_ops
from npconv.kernels.geometry import PoolSpec, pool_output_size
from npconv.tensor import Tensor

PoolArgs = namedtuple("PoolArgs", ["kernel_size", "stride", "padding", "dilation"])

_LENGTH_RULES = {"kernel_size": "must either be a single int, or a tuple of two ints",
                 "stride": "must either be omitted, a single int, or a tuple of two ints",
                 "padding": "must either be a single int, or a tuple of two ints",
                 "dilation": "must be either a single int, or a tuple of two ints"}
_POSITIONS = {"kernel_size": 2, "stride": 3, "padding": 4, "dilation": 5}


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _pair(fn: str, name: str, value) -> tuple[int, int]:
    if not isinstance(value, (tuple, list)):
        if not _is_int(value):
            raise TypeError(f"{fn}(): argument '{name}' (position {_POSITIONS[name]}) must be "
                            f"tuple of ints, not {type(value).__name__}")
        return int(value), int(value)
    for i, v in enumerate(value):
        if not _is_int(v):
            raise TypeError(f"{fn}(): argument '{name}' failed to unpack the object at pos "
                            f"{i + 1} with error \"type must be tuple of ints,but got "
                            f"{type(v).__name__}\"")
    if len(value) not in (1, 2):
        raise RuntimeError(f"{fn}: {name} {_LENGTH_RULES[name]}")
    return (int(value[0]),) * 2 if len(value) == 1 else (int(value[0]), int(value[1]))


def pool_args(fn: str, kernel_size, stride=None, padding=0, dilation=1) -> PoolArgs:
    """Per-axis (h, w) ints with torch's argument checks, in torch's order; stride defaults to
    kernel_size. Effective kernel extent per axis: d * (k - 1) + 1."""
    k = _pair(fn, "kernel_size", kernel_size)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _pair(fn, "stride", stride)
    p, d = _pair(fn, "padding", padding), _pair(fn, "dilation", dilation)
    for ki, si, pi, di in zip(k, s, p, d):
        if si == 0:
            raise RuntimeError("stride should not be zero")
        if pi < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {pi}")
        if pi > int((di * (ki - 1) + 1) / 2):  # C++ division truncates toward zero
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pi}, kernel_size={ki} and dilation={di}")
    if min(k) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {k[0]} "
                           f"kW: {k[1]}")
    if min(s) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {s[0]} dW: {s[1]}")
    if min(d) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} "
                           f"dilationW: {d[1]}")
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got "
                           f"padW = {p[1]}, padH = {p[0]}, kW = {k[1]}, kH = {k[0]}")
    return PoolArgs(k, s, p, d)


def _check_input(input: Tensor, args: PoolArgs, ceil_mode: bool) -> None:
    """torch's checks of an (N, C, H, W) or (C, H, W) input and the output size."""
    shape = input.shape
    if input.dim() not in (3, 4) or 0 in shape[-3:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{list(shape)}")
    out = [pool_output_size(n, *a, ceil_mode) for n, *a in zip(shape[-2:], *args)]
    if min(out) < 1:
        raise RuntimeError(f"Given input size: ({shape[-3]}x{shape[-2]}x{shape[-1]}). Calculated "
                           f"output size: ({shape[-3]}x{out[0]}x{out[1]}). Output size is too "
                           "small")


def max_pool2d_with_args(input: Tensor, args: PoolArgs, ceil_mode=False, return_indices=False):
    """max_pool2d with already checked arguments (nn.MaxPool2d checks them once)."""
    _check_input(input, args, ceil_mode)
    if input.dtype == dtypes.bool:
        raise dtypes.not_implemented_for("max_pool2d", input.dtype, "convert with .float()")
    return nn_ops.MaxPool.apply(input, spec=_spec(args, ceil_mode), return_indices=return_indices)


def avg_pool2d_with_args(input: Tensor, args: PoolArgs, ceil_mode=False, count_include_pad=True,
                         divisor_override=None) -> Tensor:
    """avg_pool2d with already checked arguments (nn.AvgPool2d checks them once)."""
    _check_input(input, args, ceil_mode)
    if not (input.dtype.is_floating_point or input.dtype == dtypes.int64):
        raise dtypes.not_implemented_for("avg_pool2d", input.dtype, "convert with .float()")
    return nn_ops.AvgPool.apply(input, spec=_spec(args, ceil_mode),
                                count_include_pad=count_include_pad,
                                divisor_override=divisor_override)


def _spec(args: PoolArgs, ceil_mode) -> PoolSpec:
    return PoolSpec(args.kernel_size, args.stride, tuple((p, p) for p in args.padding),
                    args.dilation, ceil_mode)


def check_divisor(divisor_override) -> None:
    if divisor_override is None:
        return
    if not _is_int(divisor_override):
        raise TypeError("avg_pool2d(): argument 'divisor_override' must be int, not "
                        f"{type(divisor_override).__name__}")
    if divisor_override == 0:
        raise RuntimeError("divisor must be not zero")


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over (dilated) kernel_size windows of each plane; with return_indices, also the flat
    index (h * W + w) of each maximum within its input plane."""
    args = pool_args("max_pool2d", kernel_size, stride, padding, dilation)
    return max_pool2d_with_args(input, args, ceil_mode, return_indices)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean over kernel_size windows: the window sum divided by divisor_override, else by the
    window's size (counting zero padding if count_include_pad, never what ceil_mode adds)."""
    args = pool_args("avg_pool2d", kernel_size, stride, padding)
    check_divisor(divisor_override)
    return avg_pool2d_with_args(input, args, ceil_mode, count_include_pad, divisor_override)
