"""What the design tools know of each autograd op, kept in one place.

For an op (its Function, input arrays and constants) this says: its output from its inputs'
shapes alone (shape_only_output: zero-filled stand-ins, so a trace does no arithmetic on
values), its multiply-accumulates (macs), and, per spatial axis of a windowed op (conv,
transposed conv, pooling), which input cells each output cell reads (window). An op with no
shape rule runs its own forward on the stand-ins (elementwise or data movement, linear in the
size of its input); a shape rule that does not apply (a broadcast that fails, say) also lets the
forward run, so the error is the op's own.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from npconv.autograd import conv_ops as C
from npconv.autograd import math_ops as M
from npconv.autograd import nn_ops as N
from npconv.autograd import shape_ops as S
from npconv.kernels.geometry import adaptive_window

BROADCASTING = (M.Add, M.Sub, M.Mul, M.Div, M.Pow, M.Where)
SAME_SHAPE = (M.Neg, M.Exp, M.Log, M.Abs, M.ReLU, M.Sigmoid, M.Tanh, M.Clamp, N.LeakyReLU,
              N.Softmax, N.LogSoftmax, N.Dropout)
POOLS = (N.MaxPool, N.AvgPool, N.AdaptiveMaxPool, N.AdaptiveAvgPool)
WINDOWED = (C.Convolution, C.ConvTranspose, *POOLS)
MOVES = (S.Reshape, S.Permute, S.Expand, S.Index, S.Cat, S.Stack, C.Pad)  # no arithmetic
REDUCTIONS = (M.Sum, M.Mean, M.Amax, M.MaxDim)
RESHAPES = (S.Reshape,)  # what a diagnosis looks through to name where a value came from


_NAMES = {"ReLU": "relu", "LeakyReLU": "leaky_relu", "MatMul": "matmul", "NLLLoss": "nll_loss",
          "Im2Col": "unfold", "Col2Im": "fold", "Convolution": "conv", "MaxDim": "max"}


def op_name(fn) -> str:
    """The name of an op row: torch's function name ('AdaptiveAvgPool' ->
    'adaptive_avg_pool', 'ReLU' -> 'relu')."""
    name = type(fn).__name__
    return _NAMES.get(name) or re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _stand_in(shape, dtype):
    """A zero-filled array (calloc'd: untouched pages cost nothing)."""
    return np.zeros(tuple(shape), dtype=dtype)


def spatial_output_size(fn, x_shape, consts) -> tuple:
    """The output's spatial size of a windowed op from its input's (the geometry's formula)."""
    return consts["spec"].output_size(x_shape[-consts["spec"].ndim:])


def shape_only_output(fn, arrays, consts):
    """The op's output as zero stand-ins of the right shapes and dtypes, or None when there is
    no shape rule for it (or the rule does not apply), so its forward must run."""
    kind, x = type(fn), arrays[0]
    try:
        if isinstance(fn, BROADCASTING):
            tensors = [a for a in arrays if isinstance(a, np.ndarray)]
            out_dtype = np.result_type(*tensors[-2:])
            return _stand_in(np.broadcast_shapes(*(a.shape for a in tensors)), out_dtype)
        if isinstance(fn, SAME_SHAPE):
            return _stand_in(x.shape, x.dtype)
        if kind is M.Cast:
            return _stand_in(x.shape, consts["dtype"])
        if kind is N.Linear:
            w = arrays[1]
            return _stand_in((*x.shape[:-1], w.shape[0]), np.result_type(x, w))
        if kind is M.MatMul:
            return _matmul(x, arrays[1])
        if kind is C.Convolution:
            w, spec = arrays[1], consts["spec"]
            return _stand_in((x.shape[0], w.shape[0], *spec.conv_output_size(x.shape[2:])),
                             x.dtype)
        if kind is C.ConvTranspose:
            w, spec = arrays[1], consts["spec"]
            return _stand_in((x.shape[0], w.shape[1] * spec.groups,
                              *spec.transposed_output_size(x.shape[2:])), x.dtype)
        if isinstance(fn, POOLS):
            spec = consts["spec"]
            y = _stand_in((*x.shape[:-spec.ndim], *spatial_output_size(fn, x.shape, consts)),
                          x.dtype)
            return (y, _stand_in(y.shape, np.int64)) if consts.get("return_indices") else y
    except ValueError:  # the shapes do not fit: the forward raises the op's own error
        return None
    return None


def _matmul(a, b):
    """numpy's matmul shape for operands of 2 or more dims (1-d ones run the forward)."""
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
        return None
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return _stand_in((*batch, a.shape[-2], b.shape[-1]), np.result_type(a, b))


def macs(fn, in_shapes, out_shape) -> int:
    """Multiply-accumulates of one op, bias not counted:
    conv             N x C_out x prod(out spatial) x (C_in / groups) x prod(kernel)
    transposed conv  N x C_in x prod(in spatial) x (C_out / groups) x prod(kernel)
                     (each input cell scatters one kernel)
    linear           prod(leading dims) x in_features x out_features
    matmul           prod(batch dims) x n x k x m
    every other op   0 (elementwise ops, pooling, normalization, reshapes)."""
    kind = type(fn)
    if kind is C.Convolution:
        (n, _, *_), (c_out, c_in_g, *kernel) = in_shapes[0], in_shapes[1]
        return n * c_out * math.prod(out_shape[2:]) * c_in_g * math.prod(kernel)
    if kind is C.ConvTranspose:
        (n, c_in, *spatial), (_, c_out_g, *kernel) = in_shapes[0], in_shapes[1]
        return n * c_in * math.prod(spatial) * c_out_g * math.prod(kernel)
    if kind is N.Linear:
        return math.prod(out_shape) * in_shapes[0][-1]
    if kind is M.MatMul:
        inner = in_shapes[0][-1]
        return math.prod(out_shape) * inner
    return 0


@dataclass(frozen=True)
class AxisWindows:
    """One spatial axis of a windowed op. Output cell o reads input cells taps_in[m] for every m
    with taps_out[m] == o (only cells inside the input; padding reads none). Its field, in the
    input's cells: unit 0's window is centred at `centre` (padding counted, so it may lie
    outside), the widest window spans `span` + 1 cells, and units are `spacing` apart."""

    taps_out: np.ndarray
    taps_in: np.ndarray
    centre: float
    span: int
    spacing: float


def window(fn, consts, n_in: int, n_out: int, axis: int) -> AxisWindows:
    """The AxisWindows of a windowed op along spatial axis `axis` (sizes n_in -> n_out):
    conv and pooling  o reads i = o s - p_lo + t d, t = 0..k-1: centre (k-1)d/2 - p_lo,
                      span (k-1)d, spacing s
    transposed conv   y reads x where y = x s - p_lo + t d: centre (p_lo - (k-1)d/2) / s,
                      spacing 1 / s, span the widest set of x any y reads
    adaptive pooling  o reads [floor(o i / O), ceil((o + 1) i / O)): spacing i / O, span the
                      widest window (the windows vary)."""
    spec = consts["spec"]
    if isinstance(fn, (N.AdaptiveMaxPool, N.AdaptiveAvgPool)):
        bounds = [adaptive_window(o, n_in, n_out) for o in range(n_out)]
        taps_out = np.concatenate([np.full(hi - lo, o) for o, (lo, hi) in enumerate(bounds)])
        taps_in = np.concatenate([np.arange(lo, hi) for lo, hi in bounds])
        return AxisWindows(taps_out, taps_in, (bounds[0][1] - 1) / 2,
                           max(hi - lo for lo, hi in bounds) - 1, n_in / n_out)
    k, s, (lo, _), d = (spec.kernel_size[axis], spec.stride[axis], spec.padding[axis],
                        spec.dilation[axis])
    t = np.arange(k)
    if type(fn) is C.ConvTranspose:
        reach = (lo + d * (k - 1)) // s + 1
        x = np.arange(-reach, n_in + reach)[:, None]
        y = x * s - lo + t * d
        x, y = np.broadcast_to(x, y.shape).ravel(), y.ravel()
        keep = (y >= 0) & (y < n_out)
        spans = [np.ptp(x[keep & (y == o)]) for o in range(min(n_out, s))
                 if (keep & (y == o)).any()]
        inside = keep & (x >= 0) & (x < n_in)
        return AxisWindows(y[inside], x[inside], (lo - d * (k - 1) / 2) / s,
                           int(max(spans, default=0)), 1 / s)
    o = np.arange(n_out)[:, None]
    i = (o * s - lo + t * d).ravel()
    o = np.broadcast_to(o, (n_out, k)).ravel()
    inside = (i >= 0) & (i < n_in)
    return AxisWindows(o[inside], i[inside], d * (k - 1) / 2 - lo, d * (k - 1), s)
