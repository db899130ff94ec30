"""Max and average pooling, plain and adaptive, over the n trailing spatial axes of
(..., *spatial) arrays, with torch's semantics.

The geometry is a PoolSpec or AdaptivePoolSpec (npconv.kernels.geometry), already validated by
the caller (torch's checks: pad <= k/2, output size >= 1). Inputs are floating point or, for
max pooling and torch's int64 average pooling, integers.

Every pooling here is separable: a window's reduction over k_1 x ... x k_n cells is a reduction
over its k_n cells along the last axis, then over k_{n-1} along the one before, and so on, one
stage per axis, last axis first. A stage is k passes over strided views (sum of the k_i, not
their product) with no copy of the input. When the windows tile an axis exactly (kernel ==
stride, no padding or dilation, size = out * kernel, the MaxPool2d(2, 2) hot path) each view of
the last axis has one uniform stride, so numpy runs each pass as a single long loop. Max
pooling keeps each stage's winner (the window cell k, as int16); torch's indices and the
gradient's routing derive from those.

Adaptive windows [floor(j i / o), ceil((j + 1) i / o)) are strided windows (k = s = i / o) on
an axis whose size is a multiple of its output, so ResNet's AdaptiveAvgPool2d((1, 1)) runs the
plain path; on other axes the window cells are gathered (np.take), one stage per axis as well.
"""
from __future__ import annotations

from functools import reduce
from operator import mul
from typing import NamedTuple

from npconv._backend import xp
from npconv.kernels._common import compute_dtype
from npconv.kernels.geometry import pool_extent


class _Strided(NamedTuple):
    """One axis of plain pooling: out windows whose cell k sits at o*s + k*d in the axis padded
    by pad on the left (and on the right as far as the windows reach)."""

    size: int
    out: int
    kernel: int
    stride: int
    pad: int
    dilation: int

    @property
    def extent(self) -> int:
        return pool_extent(self.size, self.out, self.kernel, self.stride, self.pad,
                           self.dilation)

    def cells(self, a, axis, k):
        """Cell k of every window along axis: a strided view."""
        return _window_axis(a, axis, k * self.dilation, self.out, self.stride)

    def window_sum(self, a, axis):
        return sum(self.cells(a, axis, k) for k in range(self.kernel))

    def spread(self, g, axis, shape):
        """Adjoint of window_sum: every window adds g to each of its cells."""
        out = xp.zeros(shape, dtype=g.dtype)
        for k in range(self.kernel):
            self.cells(out, axis, k)[...] += g
        return out

    def route(self, g, choice, axis, shape):
        """Adjoint of picking window cell ``choice``: out[o*s + k*d] += g[o] where choice == k.
        Disjoint windows (d = 1, s >= k) are written in place, without temps."""
        out = xp.zeros(shape, dtype=g.dtype)
        disjoint = self.dilation == 1 and self.stride >= self.kernel
        for k in range(self.kernel):
            view = self.cells(out, axis, k)
            if disjoint:
                xp.multiply(g, choice == k, out=view)
            else:
                view += g * (choice == k)
        return out

    def coordinate(self, k, axis):
        """Input coordinate of window cell k: start + k*d (start = o*s - p), raised to the
        window's first in-bounds cell, where padding never wins but k = 0 may name it when
        nothing beat it (torch then points at that first in-bounds cell)."""
        start = _along(xp.arange(self.out) * self.stride - self.pad, axis)
        d = self.dilation
        first = start + d * ((xp.maximum(-start, 0) + d - 1) // d)
        return xp.maximum(start + k * d, first)

    def counts(self, count_include_pad):
        """Cells per window: [start, min(start + k, size + p)) with start = o*s - p, further
        clipped to [0, size) unless count_include_pad (torch's average divisor)."""
        start = xp.arange(self.out) * self.stride - self.pad
        end = xp.minimum(start + self.kernel, self.size + self.pad)
        if count_include_pad:
            return end - start
        return xp.minimum(end, self.size) - xp.maximum(start, 0)


class _Listed(NamedTuple):
    """One axis of adaptive pooling whose windows [start_j, end_j) differ in length: window j's
    cell k is start_j + min(k, len_j - 1), so every window has kernel = max len cells, the
    short ones repeating their last (no change to a max; window_sum masks the repeats)."""

    size: int
    starts: object
    ends: object
    pad = 0

    @property
    def out(self) -> int:
        return len(self.starts)

    @property
    def extent(self) -> int:
        return self.size

    @property
    def kernel(self) -> int:
        return int((self.ends - self.starts).max(initial=1))

    def index(self, k):
        return xp.minimum(self.starts + k, self.ends - 1)

    def cells(self, a, axis, k):
        return xp.take(a, self.index(k), axis=axis)

    def _mask(self, k, axis):
        return _along(self.starts + k < self.ends, axis)

    def window_sum(self, a, axis):
        return sum(self.cells(a, axis, k) * self._mask(k, axis) for k in range(self.kernel))

    def spread(self, g, axis, shape):
        out = xp.zeros(shape, dtype=g.dtype)
        for k in range(self.kernel):
            xp.add.at(out, _at(axis, self.index(k)), g * self._mask(k, axis))
        return out

    def route(self, g, choice, axis, shape):
        out = xp.zeros(shape, dtype=g.dtype)
        for k in range(self.kernel):
            xp.add.at(out, _at(axis, self.index(k)), g * (choice == k))
        return out

    def coordinate(self, k, axis):
        return xp.minimum(_along(self.starts, axis) + k, _along(self.ends, axis) - 1)

    def counts(self, count_include_pad):
        return self.ends - self.starts


class MaxPoolWinners(NamedTuple):
    """Which cell won each window, as the separable stages picked it: ``choices[m]`` is the
    window cell (0..k-1) that stage m chose along axis -(m + 1), over the cells the earlier
    stages left (so its shape has the later stages' axes still padded). Small int16 arrays;
    torch's flat indices and the gradient's routing derive from them."""

    choices: tuple
    x_shape: tuple
    axes: tuple


def max_pool(x, spec):
    """(y, winners): y = max over each dilated window, padding counting as -inf (the lowest
    integer for integer x). Ties keep the first cell in row-major order and a NaN wins (the
    last NaN), as torch's `val > max || isnan(val)` scan; the per-axis stages pick the same
    cell (the first maximum along each axis, the last NaN along each)."""
    return _max_stages(x, _strided_axes(x.shape, spec))


def adaptive_max_pool(x, spec):
    """max_pool over adaptive windows (AdaptivePoolSpec), with the same winners."""
    return _max_stages(x, _adaptive_axes(x.shape, spec))


def max_pool_indices(winners):
    """torch's indices: the flat index (((i_1) * S_2 + i_2) * S_3 + i_3 ...) of each window's
    winning input cell over the spatial volume. Each stage's choice is first carried through
    the later stages (it is indexed by cells they had yet to reduce); a window with no value
    above the padding points at its first in-bounds cell (past the volume when it has none),
    as torch."""
    choices, x_shape, axes = winners
    n = len(axes)
    flat = None
    for m in reversed(range(n)):
        choice = choices[m]
        for later in range(m + 1, n):
            ax = axes[n - 1 - later]
            choice = sum((choices[later] == i) * ax.cells(choice, -1 - later, i)
                         for i in range(ax.kernel))
        coordinate = axes[n - 1 - m].coordinate(choice, -1 - m)
        flat = coordinate if flat is None else flat * x_shape[-1 - m] + coordinate
    return flat.astype(xp.int64)


def max_pool_backward(gy, winners):
    """Adjoint of the stages, first axis first: gy goes to the winning cell along that axis,
    then on to the winner along the next, ...; what lands on padding is dropped. So a window
    that covers only padding passes no gradient (torch's own backward writes out of bounds
    for those)."""
    choices, x_shape, axes = winners
    n = len(axes)
    shapes = _stage_shapes(x_shape, axes)
    g = gy
    for m in reversed(range(n)):
        g = axes[n - 1 - m].route(g, choices[m], -1 - m, shapes[m])
    return g[_inside(axes)]


def avg_pool(x, spec, count_include_pad, divisor_override):
    """y = (sum of the window's cells, zero padding) / divisor: divisor_override; else the
    window clipped to the padded input (count_include_pad) or to the input itself, a product
    of per-axis counts."""
    return _avg(x, _strided_axes(x.shape, spec, dilated=False), count_include_pad,
                divisor_override)


def avg_pool_backward(gy, x_shape, spec, count_include_pad, divisor_override):
    """Adjoint of avg_pool: every window spreads gy / divisor over its cells (first axis first);
    what lands on the padding is dropped."""
    return _avg_backward(gy, x_shape, _strided_axes(x_shape, spec, dilated=False),
                         count_include_pad, divisor_override)


def adaptive_avg_pool(x, spec):
    """y = mean over each adaptive window (AdaptivePoolSpec)."""
    return _avg(x, _adaptive_axes(x.shape, spec), True, None)


def adaptive_avg_pool_backward(gy, x_shape, spec):
    return _avg_backward(gy, x_shape, _adaptive_axes(x_shape, spec), True, None)


def _strided_axes(x_shape, spec, dilated=True):
    """Per spatial axis, its _Strided windows (average pooling has no dilation)."""
    size = x_shape[len(x_shape) - spec.ndim:]
    dilation = spec.dilation if dilated else (1,) * spec.ndim
    return [_Strided(i, o, k, s, lo, d) for i, o, k, s, (lo, _), d
            in zip(size, spec.output_size(size), spec.kernel_size, spec.stride, spec.padding,
                   dilation)]


def _adaptive_axes(x_shape, spec):
    """Per spatial axis, strided windows k = s = i / o where o divides i, else listed ones."""
    size = x_shape[len(x_shape) - spec.ndim:]
    axes = []
    for i, o, windows in zip(size, spec.output_size(size), spec.windows(size)):
        if o and i % o == 0:
            axes.append(_Strided(i, o, i // o, i // o, 0, 1))
        else:
            starts, ends = xp.asarray(windows, dtype=xp.int64).reshape(-1, 2).T
            axes.append(_Listed(i, starts, ends))
    return axes


def _max_stages(x, axes):
    n = len(axes)
    a = _pad(x, axes, _lowest(x.dtype), x.dtype)
    choices = []
    for m in range(n):
        ax = axes[n - 1 - m]
        a, choice = _running_max([ax.cells(a, -1 - m, k) for k in range(ax.kernel)])
        choices.append(choice)
    return a, MaxPoolWinners(tuple(choices), x.shape, tuple(axes))


def _avg(x, axes, count_include_pad, divisor_override):
    ct = compute_dtype(x.dtype)
    total = _pad(x, axes, 0, ct)
    n = len(axes)
    for m in range(n):
        total = axes[n - 1 - m].window_sum(total, -1 - m)
    div = _divisor(axes, count_include_pad, divisor_override, ct)
    return (total / div).astype(x.dtype, copy=False)


def _avg_backward(gy, x_shape, axes, count_include_pad, divisor_override):
    ct = compute_dtype(gy.dtype)
    g = gy.astype(ct, copy=False) / _divisor(axes, count_include_pad, divisor_override, ct)
    n = len(axes)
    shapes = _stage_shapes(x_shape, axes)
    for m in reversed(range(n)):
        g = axes[n - 1 - m].spread(g, -1 - m, shapes[m])
    return g[_inside(axes)].astype(gy.dtype, copy=False)


def _running_max(views):
    """(best, k): max over views and the index k of the winning view, by torch's update rule
    (v > best or v is NaN). Starting from view 0 is the same as from best = -inf with k = 0.
    k only grows during the scan, so "k of the last update" is max(k, better*k): branch-free,
    where np.where and copyto(where=) on random masks measured ~10x slower."""
    best = views[0].copy()
    k = xp.zeros(best.shape, dtype=xp.int16)
    better = xp.empty(best.shape, dtype=bool)
    for i, v in enumerate(views[1:], 1):
        xp.greater(v, best, out=better)
        better |= xp.isnan(v)
        xp.maximum(best, v, out=best)
        xp.maximum(k, better * xp.int16(i), out=k)
    return best, k


def _divisor(axes, count_include_pad, divisor_override, ct):
    """The divisor in dtype ct, broadcasting over the output: divisor_override, or the product
    of every axis' window counts."""
    if divisor_override:
        return xp.asarray(divisor_override, dtype=ct)
    n = len(axes)
    counts = [_along(ax.counts(count_include_pad), m - n) for m, ax in enumerate(axes)]
    return reduce(mul, counts).astype(ct)


def _lowest(dtype):
    """Padding for max pooling: below every value (-inf, or the lowest integer)."""
    return -xp.inf if xp.issubdtype(dtype, xp.floating) else xp.iinfo(dtype).min


def _window_axis(a, axis, offset, count, stride):
    """View of the count cells offset, offset+stride, ... along (negative) axis."""
    sl = slice(offset, offset + (count - 1) * stride + 1, stride)
    return a[(Ellipsis, sl) + (slice(None),) * (-1 - axis)]


def _along(v, axis):
    """1-d v shaped to broadcast along (negative) axis."""
    return v.reshape(v.shape + (1,) * (-1 - axis))


def _at(axis, index):
    """Index tuple picking ``index`` along (negative) axis, for np.add.at."""
    return (Ellipsis, index) + (slice(None),) * (-1 - axis)


def _padded_shape(x_shape, axes):
    return tuple(x_shape[:len(x_shape) - len(axes)]) + tuple(ax.extent for ax in axes)


def _stage_shapes(x_shape, axes):
    """The input shape of each stage: the padded x, then with one more axis (from the last)
    reduced to its output per stage."""
    shape = list(_padded_shape(x_shape, axes))
    shapes = []
    for m, ax in enumerate(reversed(axes)):
        shapes.append(tuple(shape))
        shape[-1 - m] = ax.out
    return shapes


def _inside(axes):
    """Index of the input inside its padded array."""
    return (Ellipsis,) + tuple(slice(ax.pad, ax.pad + ax.size) for ax in axes)


def _pad(x, axes, fill, dtype):
    """x in dtype, placed at the low paddings in a fill-valued array covering all windows; x
    itself when no padding is needed (the common case, no copy)."""
    shape = _padded_shape(x.shape, axes)
    if shape == x.shape:
        return x.astype(dtype, copy=False)
    out = xp.full(shape, fill, dtype=dtype)
    out[_inside(axes)] = x
    return out
