"""The pooling functionals of torch.nn.functional: max_pool1d/2d/3d, avg_pool1d/2d/3d,
adaptive_avg_pool1d/2d/3d and adaptive_max_pool1d/2d/3d.

Each call normalizes its arguments once into a PoolSpec or AdaptivePoolSpec (pool_spec,
adaptive_spec; the pooling modules' ``geometry`` is the same call without an input) with
torch's checks of them and of the input, its exception types and wording followed by a hint,
then runs the ops of npconv.autograd.nn_ops. torch's wording differs between the ops
because its code does: 1-d pooling runs as 2-d pooling of an (..., C, 1, W) view (so its
messages show that view), except max_pool1d without indices, which has checks of its own; the
2-d and 3-d checks are separate code, and the adaptive ones again.
"""
from __future__ import annotations

import numbers
from typing import NamedTuple

from npconv import dtypes
from npconv.autograd import nn_ops
from npconv.kernels.geometry import AdaptivePoolSpec, PoolSpec, dilated_kernel, ntuple
from npconv.tensor import Tensor

_FLOATS = frozenset({"float16", "float32", "float64"})
_INTS = frozenset({"uint8", "int8", "int16", "int32", "int64"})


class _Op(NamedTuple):
    """One pooling functional as torch words it."""

    name: str  # torch's name, which starts most messages
    ndim: int  # spatial axes
    parser: str  # the name in argument TypeErrors
    kernel: str  # the name in '"..." not implemented for 'Bool'' (dtype dispatch)
    dtypes: frozenset  # the dtypes torch runs it on (npconv runs float16 avg_pool3d as well)


_OPS = {op.parser: op for op in (
    _Op("max_pool1d", 1, "max_pool1d", "max_pool1d_impl", _FLOATS),
    _Op("max_pool1d", 1, "max_pool1d_with_indices", "max_pool2d", _FLOATS | _INTS),
    _Op("max_pool2d", 2, "max_pool2d", "max_pool2d", _FLOATS | _INTS),
    _Op("max_pool2d", 2, "max_pool2d_with_indices", "max_pool2d", _FLOATS | _INTS),
    _Op("max_pool3d", 3, "max_pool3d", "max_pool3d", _FLOATS | _INTS),
    _Op("max_pool3d", 3, "max_pool3d_with_indices", "max_pool3d", _FLOATS | _INTS),
    _Op("avg_pool1d", 1, "avg_pool1d", "avg_pool2d", _FLOATS | {"int64"}),
    _Op("avg_pool2d", 2, "avg_pool2d", "avg_pool2d", _FLOATS | {"int64"}),
    _Op("avg_pool3d", 3, "avg_pool3d", "avg_pool3d_out_frame", _FLOATS | {"int64"}),
    _Op("adaptive_avg_pool1d", 1, "adaptive_avg_pool1d", "adaptive_avg_pool2d", _FLOATS),
    _Op("adaptive_avg_pool2d", 2, "adaptive_avg_pool2d", "adaptive_avg_pool2d", _FLOATS),
    _Op("adaptive_avg_pool3d", 3, "adaptive_avg_pool3d", "adaptive_avg_pool3d_cpu", _FLOATS),
    _Op("adaptive_max_pool1d", 1, "adaptive_max_pool1d", "adaptive_max_pool2d", _FLOATS),
    _Op("adaptive_max_pool2d", 2, "adaptive_max_pool2d", "adaptive_max_pool2d", _FLOATS),
    _Op("adaptive_max_pool3d", 3, "adaptive_max_pool3d", "adaptive_max_pool3d_cpu", _FLOATS),
)}

_WORDS = {2: "two", 3: "three"}
_AXES = {2: "HW", 3: "THW"}
# max_pool1d's own length rules, and the 2-d/3-d ones (avg_pool3d words them differently)
_MAX1_LENGTHS = {"kernel_size": "an int, list of ints or tuple of ints",
                 "stride": "None, an int, list of ints, or tuple of ints",
                 "padding": "an int, list of ints, or tuple of ints",
                 "dilation": "an int, list of ints or tuple of ints"}
_LENGTHS = {"kernel_size": "must either be a single int, or a tuple of {} ints",
            "stride": "must either be omitted, a single int, or a tuple of {} ints",
            "padding": "must either be a single int, or a tuple of {} ints",
            "dilation": "must be either a single int, or a tuple of {} ints"}
_AVG3_LENGTHS = {"kernel_size": "must be a single int, or a tuple of {} ints",
                 "stride": "must be omitted, a single int, or a tuple of {} ints",
                 "padding": "must be a single int, or a tuple of {} ints"}
_ONE_PER_AXIS = "pass one int, or one per spatial axis"


def pool_spec(fn: str, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
              input: Tensor | None = None) -> PoolSpec:
    """The PoolSpec of max or average pooling fn ("max_pool2d", "max_pool2d_with_indices",
    "avg_pool1d", ...): an int becomes one per spatial axis, stride defaults to kernel_size,
    padding p becomes (p, p). torch's checks: argument types, lengths, then per axis
    stride != 0, 0 <= p <= (d(k - 1) + 1) / 2, then k, s, d >= 1 and p <= k / 2; given the
    input also its rank, non-empty dims, output size >= 1 and dtype. The order is torch's as
    far as single errors show it (with two at once npconv may name another first, e.g. p > k/2
    before an empty channel dim)."""
    op = _OPS[fn]
    n, own = op.ndim, fn == "max_pool1d"  # max_pool1d without indices: checks of its own
    lifted = n == 1 and not own
    if input is not None:
        _check_tensor(op, input)
    args = {"kernel_size": _ints(op, "kernel_size", 2, kernel_size, n),
            "stride": () if stride is None else _ints(op, "stride", 3, stride, n),
            "padding": _ints(op, "padding", 4, padding, n),
            "dilation": _ints(op, "dilation", 5, dilation, n)}
    _check_flag(op.parser, "ceil_mode", ceil_mode, 6 if op.name.startswith("max") else None)
    if input is not None and n == 1:
        _check_1d_rank(op, input, own)
    _check_lengths(op, args, own)
    if input is not None:
        _check_early_rank(op, input)
    k, s, p, d = (v * n if len(v) == 1 else v for v in args.values())  # 2-d/3-d broadcast
    s = s or k
    if own:
        _check_max_pool1d(k[0], s[0], p[0], d[0])
    elif lifted:
        _check_values((1,) + k, (1,) + s, (0,) + p, (1,) + d)
    else:
        _check_values(k, s, p, d)
    spec = PoolSpec(k, s, tuple((v, v) for v in p), d, ceil_mode)
    if input is not None:
        _check_input(op, input, spec, own)
    return spec


def adaptive_spec(fn: str, output_size, input: Tensor | None = None) -> AdaptivePoolSpec:
    """The AdaptivePoolSpec of adaptive pooling fn ("adaptive_avg_pool2d", ...): an int
    becomes one per spatial axis; for 2-d and 3-d a None keeps the input's size (when there is
    no input, the spec keeps the None). torch's checks, in its order per op: types, length,
    output sizes >= 0, the input's rank and non-empty dims, its dtype."""
    op = _OPS[fn]
    n, is_avg, given = op.ndim, op.name.startswith("adaptive_avg"), output_size
    if input is not None:
        _check_tensor(op, input)
    if n > 1 and not isinstance(output_size, int):  # torch's _list_with_default, in Python
        if not hasattr(output_size, "__len__"):
            raise TypeError(f"object of type '{_type_name(output_size)}' has no len()")
        if input is not None:
            if input.dim() <= len(output_size):
                raise ValueError(f"Input dimension should be at least {len(output_size) + 1}"
                                 f" (got an input of shape {list(input.shape)} for "
                                 f"output_size={output_size!r})")
            output_size = [input.shape[i - len(output_size)] if v is None else v
                           for i, v in enumerate(output_size)]
    out = _ints(op, "output_size", 2, output_size, n, allow_none=input is None and n > 1)
    if input is not None and n == 1:
        _check_1d_rank(op, input, False)
    elif input is not None and not is_avg:
        _check_adaptive_rank(op, input)
    if len(out) != n:
        got = f"got output_size={given!r}; pass one int" + (
            f", or {n} (None keeps an axis)" if n > 1 else "")
        if n == 1:
            raise RuntimeError(f"{op.name}() argument 'output_size' should contain one int "
                               f"(got {len(out)}) ({got})")
        raise RuntimeError(f"{op.name}: output_size must be {n} ({got})" if is_avg else
                           f"{op.name}(): internal error: output_size.size() must be {n} "
                           f"({got})")
    if is_avg:
        _check_not_negative(op, out)
    if input is not None and is_avg and set(out) == {1}:
        _check_global_average(op, input)
    elif input is not None:
        if is_avg and n > 1:
            _check_adaptive_rank(op, input)
        _check_adaptive_input(op, input, out, is_avg)
    return AdaptivePoolSpec(out)


# ---- the functionals ------------------------------------------------------------------------
def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over (dilated) kernel_size windows of the last axis of (N, C, L) or (C, L) input;
    with return_indices, also the index of each maximum along L."""
    return _max_pool("max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over (dilated) kernel_size windows of (N, C, H, W) or (C, H, W) input; with
    return_indices, also the flat index h * W + w of each maximum within its plane."""
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over (dilated) kernel_size windows of (N, C, D, H, W) or (C, D, H, W) input; with
    return_indices, also the flat index (d * H + h) * W + w of each maximum in its volume."""
    return _max_pool("max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True) -> Tensor:
    """Mean over kernel_size windows of the last axis of (N, C, L) or (C, L) input."""
    return _avg_pool("avg_pool1d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean over kernel_size windows: the window sum divided by divisor_override, else by the
    window's size (counting zero padding if count_include_pad, never what ceil_mode adds)."""
    return _avg_pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """avg_pool2d over the three trailing axes of (N, C, D, H, W) or (C, D, H, W) input."""
    return _avg_pool("avg_pool3d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Mean over output_size windows [floor(j L / o), ceil((j + 1) L / o)) of the last axis."""
    spec = adaptive_spec("adaptive_avg_pool1d", output_size, input)
    return nn_ops.AdaptiveAvgPool.apply(input, spec=spec)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Mean over adaptive windows giving an output_size (int, or (h, w) where None keeps the
    input's size) plane: (1, 1) is global average pooling."""
    spec = adaptive_spec("adaptive_avg_pool2d", output_size, input)
    return nn_ops.AdaptiveAvgPool.apply(input, spec=spec)


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """adaptive_avg_pool2d over the three trailing axes."""
    spec = adaptive_spec("adaptive_avg_pool3d", output_size, input)
    return nn_ops.AdaptiveAvgPool.apply(input, spec=spec)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices=False):
    """Max over output_size adaptive windows of the last axis; with return_indices, also the
    index of each maximum."""
    return _adaptive_max_pool("adaptive_max_pool1d", input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices=False):
    """Max over adaptive windows giving an output_size plane (None keeps that axis); with
    return_indices, also the flat index h * W + w of each maximum."""
    return _adaptive_max_pool("adaptive_max_pool2d", input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices=False):
    """adaptive_max_pool2d over the three trailing axes."""
    return _adaptive_max_pool("adaptive_max_pool3d", input, output_size, return_indices)


def _max_pool(fn, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    spec = pool_spec(fn + "_with_indices" if return_indices else fn, kernel_size, stride,
                     padding, dilation, ceil_mode, input)
    return nn_ops.MaxPool.apply(input, spec=spec, return_indices=bool(return_indices))


def _avg_pool(fn, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    _check_flag(fn, "count_include_pad", count_include_pad)
    _check_divisor(fn, divisor_override)
    spec = pool_spec(fn, kernel_size, stride, padding, 1, ceil_mode, input)
    return nn_ops.AvgPool.apply(input, spec=spec, count_include_pad=count_include_pad,
                                divisor_override=divisor_override)


def _adaptive_max_pool(fn, input, output_size, return_indices):
    spec = adaptive_spec(fn, output_size, input)
    return nn_ops.AdaptiveMaxPool.apply(input, spec=spec, return_indices=bool(return_indices))


# ---- argument checks ------------------------------------------------------------------------
def _check_flag(fn: str, name: str, value, position=None) -> None:
    """torch's parser takes only a bool for ceil_mode and count_include_pad."""
    if not isinstance(value, bool):
        where = f" (position {position})" if position else ""
        raise TypeError(f"{fn}(): argument '{name}'{where} must be bool, not "
                        f"{_type_name(value)}")


def _check_divisor(fn: str, divisor_override) -> None:
    """divisor_override: None or a non-zero int."""
    if divisor_override is None:
        return
    if not _is_int(divisor_override):
        raise TypeError(f"{fn}(): argument 'divisor_override' must be int, not "
                        f"{_type_name(divisor_override)}")
    if divisor_override == 0:
        raise RuntimeError("divisor must be not zero (divisor_override divides every window's "
                           "sum; pass a non-zero int, or None to divide by the window's size)")


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _type_name(v) -> str:
    """A type as torch's parser names it: builtins bare, others with their module."""
    t = type(v)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _ints(op: _Op, name: str, position: int, value, n: int, allow_none=False) -> tuple:
    """torch's parser for a list-of-ints argument: an int is repeated n times (ntuple), a tuple
    or list passes through (its length is checked later), anything else is a TypeError."""
    if not isinstance(value, (tuple, list)):
        if not _is_int(value):
            raise TypeError(f"{op.parser}(): argument '{name}' (position {position}) must be "
                            f"tuple of ints, not {_type_name(value)}")
        return ntuple(int(value), n)
    for i, v in enumerate(value):
        if not (_is_int(v) or allow_none and v is None):
            if i == 0:
                raise TypeError(f"{op.parser}(): argument '{name}' (position {position}) must "
                                f"be tuple of ints, but found element of type {_type_name(v)} "
                                "at pos 0")
            raise TypeError(f"{op.parser}(): argument '{name}' failed to unpack the object at "
                            f"pos {i + 1} with error \"type must be tuple of ints,but got "
                            f"{_type_name(v)}\"")
    return ntuple(tuple(v if v is None else int(v) for v in value), n)


def _check_lengths(op: _Op, args: dict, own: bool) -> None:
    """One int per spatial axis (or one for all; 1-d takes exactly one); stride may be empty."""
    n = op.ndim
    for name, v in args.items():
        if (name == "stride" and not v) or len(v) in {1, n}:
            continue
        hint = f" (got {name}={tuple(v)}; {_ONE_PER_AXIS})"
        if own:
            raise RuntimeError(f"max_pool1d() {name} must be {_MAX1_LENGTHS[name]} of size 1 "
                               f"but got size {len(v)}{hint}")
        if n == 1:
            raise RuntimeError(f"{op.name}() argument '{name}' should contain one int (got "
                               f"{len(v)}){hint}")
        rules = _AVG3_LENGTHS if op.name == "avg_pool3d" else _LENGTHS
        raise RuntimeError(f"{op.name}: {name} {rules[name].format(_WORDS[n])}{hint}")


def _check_max_pool1d(k: int, s: int, p: int, d: int) -> None:
    """max_pool1d's own value checks (torch's check_max_pool1d)."""
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got "
                           f"padding={p} and kernel_size={k} (use padding <= {k // 2})")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")


def _check_values(k: tuple, s: tuple, p: tuple, d: tuple) -> None:
    """torch's 2-d and 3-d value checks (1-d ones see the (1, W) view): its output-shape
    checks per axis, then k, s, d >= 1 and p <= k / 2 over all axes."""
    for ki, si, pi, di in zip(k, s, p, d):
        if si == 0:
            raise RuntimeError("stride should not be zero (every stride must be >= 1; it "
                               "defaults to kernel_size)")
        if pi < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {pi}")
        half = int(dilated_kernel(ki, di) / 2)  # C++ division truncates toward zero
        if pi > half:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pi}, kernel_size={ki} and dilation={di} (the window "
                               f"spans d*(k-1)+1 = {dilated_kernel(ki, di)} cells, so padding "
                               f"may be at most {max(half, 0)} on that axis)")
    axes = _AXES[len(k)]
    for what, prefix, values in (("kernel size", "k", k), ("stride", "d", s),
                                 ("dilation", "dilation", d)):
        if min(values) <= 0:
            got = " ".join(f"{prefix}{a}: {v}" for a, v in zip(axes, values))
            raise RuntimeError(f"{what} should be greater than zero, but got {got}")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        if len(k) == 2:
            got = f"padW = {p[1]}, padH = {p[0]}, kW = {k[1]}, kH = {k[0]}"
        else:
            got = (f"kT: {k[0]} kW: {k[2]} kH: {k[1]} padT: {p[0]} padW: {p[2]} "
                   f"padH: {p[1]}")
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got "
                           f"{got} (padding may be at most kernel_size // 2 per axis, "
                           "whatever the dilation)")


def _check_not_negative(op: _Op, out: tuple) -> None:
    """adaptive_avg_pool's output sizes >= 0 (1-d ones see the (1, o) view)."""
    if any(o is not None and o < 0 for o in out):
        shown = (1,) + out if op.ndim == 1 else out
        received = ", ".join(map(str, shown[:2])) + "".join(f",{o}" for o in shown[2:])
        fn = "adaptive_avg_pool3d" if op.ndim == 3 else "adaptive_avg_pool2d"
        raise RuntimeError(f"{fn}: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{received}}} (got output_size={out})")


# ---- input checks ---------------------------------------------------------------------------
def _check_tensor(op: _Op, input) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op.parser}(): argument 'input' (position 1) must be Tensor, not "
                        f"{_type_name(input)}")


def _layout(n: int) -> str:
    names = {1: "L", 2: "H, W", 3: "D, H, W"}[n]
    return f"(N, C, {names}) or (C, {names})"


def _check_1d_rank(op: _Op, input: Tensor, own: bool) -> None:
    shape, hint = list(input.shape), f" ({op.name} expects {_layout(1)} input)"
    if own:
        if input.dim() not in (2, 3) or 0 in shape[-2 if input.dim() == 3 else 0:]:
            raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional "
                               f"0 dim batch size for input, but got:{shape}{hint}")
    elif input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional "
                           f"tensor for argument #1 'self' (while checking arguments for "
                           f"{op.name}){hint}")


def _check_early_rank(op: _Op, input: Tensor) -> None:
    """The rank checks torch makes of 2-d and 3-d pooling before the argument values."""
    n, rank = op.ndim, input.dim()
    hint = f" ({op.name} expects {_layout(n)} input; got {list(input.shape)})"
    if n == 1 or rank in (n + 1, n + 2):
        return
    if op.name == "avg_pool2d":  # torch reads size(-3) first; a 5-D input fails further on
        if rank == 0:
            raise IndexError(f"Dimension specified as -3 but tensor has no dimensions{hint}")
        if rank < 3:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-rank}, "
                             f"{rank - 1}], but got -3){hint}")
        return
    raise RuntimeError(f"non-empty {n + 1}D or {n + 2}D (batch mode) tensor expected for "
                       f"input{hint}")


def _check_input(op: _Op, input: Tensor, spec: PoolSpec, own: bool) -> None:
    """The input checks torch makes after the argument values: non-empty dims, (avg_pool3d)
    input >= kernel, output size >= 1, then the dtype."""
    n, shape = op.ndim, tuple(input.shape)
    size = shape[len(shape) - n:]
    if own:
        check_output_size(op.parser, spec, size)
    elif n == 3:
        if any(v == 0 for j, v in enumerate(shape) if not (len(shape) == 5 and j == 0)):
            fn = "avg_pool3d" if op.name == "avg_pool3d" else \
                "max_pool3d_with_indices_out_cpu_template"
            raise RuntimeError(f"{fn}(): Expected input's non-batch dimensions to have positive "
                               f"length, but input has a shape of {list(shape)} and non-batch "
                               "dimension 0 has length zero! (every dimension but the batch "
                               "must be non-empty)")
        if op.name == "avg_pool3d" and any(i < k for i, k in zip(size, spec.kernel_size)):
            (t, h, w), (kt, kh, kw) = size, spec.kernel_size
            raise RuntimeError(f"input image (T: {t} H: {h} W: {w}) smaller than kernel size "
                               f"(kT: {kt} kH: {kh} kW: {kw}) (avg_pool3d needs every input "
                               "size >= its kernel size, padding aside)")
    else:
        view = shape[:-1] + (1,) + shape[-1:] if n == 1 else shape
        if len(view) not in (3, 4) or 0 in view[len(view) - 3:]:
            raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch "
                               f"size for input, but got:{list(view)} (every dimension but the "
                               "batch must be non-empty)")
    if not own:
        check_output_size(op.parser, spec, size, shape[-n - 1])
    _check_dtype(op, input)


def check_output_size(fn: str, spec: PoolSpec, size, channels: int = 1) -> None:
    """torch's refusal of an output size below 1 for pooling fn on spatial size `size` (1-d
    pooling but max_pool1d's own checks words it for the (1, W) view)."""
    out = spec.output_size(size)
    too_small = next(((a, i, o) for a, (i, o) in enumerate(zip(size, out)) if o < 1), None)
    if too_small is None:
        return
    a, i, o = too_small
    k, p, d = spec.kernel_size[a], spec.padding[a][0], spec.dilation[a]
    hint = (f" (on spatial axis {a} the window spans d*(k-1)+1 = {dilated_kernel(k, d)} "
            f"cells but the padded input only {i + 2 * p}: use a smaller kernel_size or "
            "dilation, or more padding)")
    if fn == "max_pool1d":
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {o}{hint}")
    view_in, view_out = ((1,) + tuple(size), (1,) + out) if spec.ndim == 1 else (size, out)
    raise RuntimeError(f"Given input size: ({'x'.join(map(str, (channels, *view_in)))}). "
                       f"Calculated output size: ({'x'.join(map(str, (channels, *view_out)))})"
                       f". Output size is too small{hint}")


def _check_adaptive_rank(op: _Op, input: Tensor) -> None:
    n = op.ndim
    if input.dim() not in (n + 1, n + 2):
        colon = ":" if op.name.startswith("adaptive_max") else ""
        raise RuntimeError(f"{op.name}(): Expected {n + 1}D or {n + 2}D tensor, but got{colon} "
                           f"{list(input.shape)} ({op.name} expects {_layout(n)} input)")


def _check_adaptive_input(op: _Op, input: Tensor, out: tuple, is_avg: bool) -> None:
    """Non-empty dims (adaptive_avg_pool1d/2d: the spatial ones, seen as (..., 1, W) for
    1-d; the others every dim but the first), (max) output sizes >= 0, the dtype."""
    n, shape = op.ndim, tuple(input.shape)
    view = shape[:-1] + (1,) + shape[-1:] if is_avg and n == 1 else shape
    dims = range(len(view) - 2, len(view)) if is_avg and n < 3 else range(1, len(view))
    empty = next((j for j in dims if view[j] == 0), None)
    if empty is not None:
        fn = "adaptive_avg_pool2d" if is_avg and n == 1 else op.name
        raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch "
                           f"dimensions, but input has sizes {list(view)} with dimension "
                           f"{empty} being empty")
    negative = next((o for o in out if o < 0), None)
    if not is_avg and negative is not None:
        created = list(shape[:len(shape) - n]) + [1] * (n == 1) + list(out)
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative}: "
                           f"{created} (got output_size={out}; every output size must be "
                           ">= 0)")
    _check_dtype(op, input)


def _check_global_average(op: _Op, input: Tensor) -> None:
    """torch computes an all-ones output_size as input.mean() over the last n axes (its 1-d op
    over the (..., 1, L) view): so any rank from n up and empty leading dims pass, and what
    mean() refuses is refused with its words. An empty spatial axis, whose mean torch gives as
    NaN, npconv refuses as torch's other output sizes do."""
    n, shape = op.ndim, tuple(input.shape)
    if not input.dtype.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {input.dtype.legacy_name} "
                           f"({op.name} takes floating-point input; convert it, e.g. x.float())")
    if len(shape) < n:
        m = max(len(shape), 1)
        raise IndexError(f"Dimension out of range (expected to be in range of [{-m}, {m - 1}], "
                         f"but got {-m - 1}) ({op.name} pools the last {n} axes of "
                         f"{_layout(n)} input; got {list(shape)})")
    empty = next((j for j in range(len(shape) - n, len(shape)) if shape[j] == 0), None)
    if empty is not None:
        fn = "adaptive_avg_pool2d" if n == 1 else op.name
        view = shape[:-1] + (1,) + shape[-1:] if n == 1 else shape
        raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch "
                           f"dimensions, but input has sizes {list(view)} with dimension "
                           f"{empty + (n == 1)} being empty (torch's global average gives NaN "
                           "for an empty axis; npconv refuses it)")


def _check_dtype(op: _Op, input: Tensor) -> None:
    if input.dtype.name not in op.dtypes:
        kinds = "floating-point" if op.dtypes == _FLOATS else "floating-point or " + (
            "int64" if "int8" not in op.dtypes else "integer")
        raise dtypes.not_implemented_for(op.kernel, input.dtype, f"{op.name} takes {kinds} "
                                         "input; convert it, e.g. x.float()")
