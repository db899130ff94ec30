"""2-D max and average pooling on (..., H, W) arrays with torch's semantics.

Arguments are per-axis int pairs, already validated by the caller (torch's checks: pad <= k/2,
output size >= 1); inputs are floating point.

Both poolings are separable: a window's reduction is a reduction over its KW columns, giving a
(..., Hp, OW) array, then over its KH rows, giving (..., OH, OW). Each step is a few passes over
strided views (KW + KH of them, not KH*KW) with no copy of the input. When the windows tile the
rows exactly (kernel == stride, no padding or dilation, W = OW*KW, the MaxPool2d(2, 2) hot path)
each column view has one uniform stride, so numpy runs each pass as a single long loop.
"""
from __future__ import annotations

from typing import NamedTuple

from npconv._backend import xp
from npconv.kernels._common import compute_dtype


def output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """o = floor((i + 2p - d(k-1) - 1 + (s-1 if ceil_mode)) / s) + 1; in ceil_mode the last
    window must start inside the input or the left padding, so o drops by one when
    (o-1)*s >= i + p (torch's pooling_output_shape)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


class MaxPoolWinners(NamedTuple):
    """Which cell won each window, as the two separable stages picked it: ``col[..., r, ow]``
    is the window column (0..KW-1) chosen in padded row r, ``row[..., oh, ow]`` the window row
    (0..KH-1) chosen among those. Small int16 arrays; torch's flat indices derive from them."""

    row: object
    col: object
    x_shape: tuple
    kernel_size: tuple
    stride: tuple
    padding: tuple
    dilation: tuple


def max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode):
    """(y, winners): y = max over each dilated window, padding counting as -inf. Ties keep the
    first cell in row-major order and a NaN wins (the last NaN), as torch's
    `val > max || isnan(val)` scan; the column-then-row reduction picks the same cell."""
    h, w = x.shape[-2:]
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    oh, ow = (output_size(*a, ceil_mode)
              for a in zip((h, w), kernel_size, stride, padding, dilation))
    xpad = _pad_for_windows(x, (oh, ow), kernel_size, stride, padding, dilation, -xp.inf, x.dtype)
    best, col = _running_max([_window_axis(xpad, -1, j * dw, ow, sw) for j in range(kw)])
    y, row = _running_max([_window_axis(best, -2, i * dh, oh, sh) for i in range(kh)])
    return y, MaxPoolWinners(row, col, x.shape, kernel_size, stride, padding, dilation)


def max_pool2d_indices(winners):
    """torch's indices: the flat index ih*W + iw of each window's winning input cell. A window
    with no value above -inf points at its first in-bounds cell (past the plane when it has
    none), as torch."""
    row, col, x_shape, (kh, _), (sh, sw), (ph, pw), (dh, dw) = winners
    oh, ow = row.shape[-2:]
    col = sum((row == i) * _window_axis(col, -2, i * dh, oh, sh) for i in range(kh))
    ih = _cell_index(row, xp.arange(oh)[:, None] * sh - ph, dh)
    iw = _cell_index(col, xp.arange(ow) * sw - pw, dw)
    return (ih * x_shape[-1] + iw).astype(xp.int64)


def max_pool2d_backward(gy, winners):
    """Adjoint of the two stages: gy goes to the winning row of each window, then on to the
    winning column of that row; what lands on padding is dropped. So a window that covers only
    padding passes no gradient (torch's own backward writes out of bounds for those)."""
    row, col, x_shape, (kh, kw), (sh, sw), (ph, pw), (dh, dw) = winners
    gbest = _route(gy, row, -2, kh, sh, dh, col.shape)
    width = _window_extent(x_shape[-1], gy.shape[-1], kw, sw, pw, dw)
    gxpad = _route(gbest, col, -1, kw, sw, dw, col.shape[:-1] + (width,))
    return gxpad[..., ph : ph + x_shape[-2], pw : pw + x_shape[-1]]


def _route(g, choice, axis, kernel, stride, dilation, shape):
    """Adjoint of picking window cell ``choice`` along axis: out[.., o*s + k*d] += g[.., o]
    where choice == k. Disjoint windows (d = 1, s >= k) are written in place, without temps."""
    out = xp.zeros(shape, dtype=g.dtype)
    disjoint = dilation == 1 and stride >= kernel
    for k in range(kernel):
        view = _window_axis(out, axis, k * dilation, g.shape[axis], stride)
        if disjoint:
            xp.multiply(g, choice == k, out=view)
        else:
            view += g * (choice == k)
    return out


def avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """y = (sum of the window's cells, zero padding) / divisor, see _divisor."""
    (kh, kw), (sh, sw) = kernel_size, stride
    oh, ow = _avg_out_hw(x.shape, kernel_size, stride, padding, ceil_mode)
    ct = compute_dtype(x.dtype)
    xpad = _pad_for_windows(x, (oh, ow), kernel_size, stride, padding, (1, 1), 0, ct)
    part = sum(_window_axis(xpad, -1, j, ow, sw) for j in range(kw))
    total = sum(_window_axis(part, -2, i, oh, sh) for i in range(kh))
    div = _divisor(x.shape, (oh, ow), kernel_size, stride, padding, count_include_pad,
                   divisor_override, ct)
    return (total / div).astype(x.dtype, copy=False)


def avg_pool2d_backward(gy, x_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override):
    """Adjoint of avg_pool2d: every window spreads gy / divisor over its cells (rows, then
    columns); what lands on the padding is dropped."""
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    h, w = x_shape[-2:]
    oh, ow = gy.shape[-2:]
    ct = compute_dtype(gy.dtype)
    div = _divisor(x_shape, (oh, ow), kernel_size, stride, padding, count_include_pad,
                   divisor_override, ct)
    g = gy.astype(ct, copy=False) / div
    eh = _window_extent(h, oh, kh, sh, ph, 1)
    ew = _window_extent(w, ow, kw, sw, pw, 1)
    part = xp.zeros(gy.shape[:-2] + (eh, ow), dtype=ct)
    for i in range(kh):
        _window_axis(part, -2, i, oh, sh)[...] += g
    gxp = xp.zeros(gy.shape[:-2] + (eh, ew), dtype=ct)
    for j in range(kw):
        _window_axis(gxp, -1, j, ow, sw)[...] += part
    return gxp[..., ph : ph + h, pw : pw + w].astype(gy.dtype, copy=False)


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


def _cell_index(k, start, dilation):
    """Input coordinate of window cell k: start + k*d, raised to the first in-bounds cell
    (start moved up in steps of d while < 0), where padding (-inf) never wins but k = 0
    may name it when nothing beat -inf."""
    first = start + dilation * ((xp.maximum(-start, 0) + dilation - 1) // dilation)
    return xp.maximum(start + k * dilation, first)


def _window_axis(a, axis, offset, count, stride):
    """View of the count cells offset, offset+stride, ... along axis (-1 or -2)."""
    sl = slice(offset, offset + (count - 1) * stride + 1, stride)
    return a[..., sl] if axis == -1 else a[..., sl, :]


def _window_extent(size, out, kernel, stride, pad, dilation):
    """Padded length that holds the input (after the low padding) and every window."""
    return max(pad + size, (out - 1) * stride + (kernel - 1) * dilation + 1)


def _pad_for_windows(x, out_hw, kernel, stride, padding, dilation, fill, dtype):
    """x in dtype, placed at (ph, pw) in a fill-valued array covering all windows; x itself
    when no padding is needed (the common case, no copy)."""
    h, w = x.shape[-2:]
    (ph, pw) = padding
    eh, ew = (_window_extent(*a) for a in zip((h, w), out_hw, kernel, stride, padding, dilation))
    if (eh, ew) == (h, w):
        return x.astype(dtype, copy=False)
    out = xp.full(x.shape[:-2] + (eh, ew), fill, dtype=dtype)
    out[..., ph : ph + h, pw : pw + w] = x
    return out


def _avg_out_hw(x_shape, kernel_size, stride, padding, ceil_mode):
    """avg_pool2d has no dilation: output_size with d = 1 per axis."""
    return tuple(output_size(*a, 1, ceil_mode)
                 for a in zip(x_shape[-2:], kernel_size, stride, padding))


def _divisor(x_shape, out_hw, kernel_size, stride, padding, count_include_pad, divisor_override,
             ct):
    """(OH, OW) divisors in dtype ct, torch's: divisor_override; else the window clipped to the
    padded input (count_include_pad) or to the input itself, a row count times a column count."""
    if divisor_override:
        return xp.asarray(divisor_override, dtype=ct)
    counts = [_axis_counts(*a, count_include_pad)
              for a in zip(x_shape[-2:], out_hw, kernel_size, stride, padding)]
    return (counts[0][:, None] * counts[1][None, :]).astype(ct)


def _axis_counts(size, out, kernel, stride, pad, count_include_pad):
    """Cells per window along one axis: [start, min(start + k, size + p)) with start = o*s - p,
    further clipped to [0, size) unless count_include_pad."""
    start = xp.arange(out) * stride - pad
    end = xp.minimum(start + kernel, size + pad)
    if count_include_pad:
        return end - start
    return xp.minimum(end, size) - xp.maximum(start, 0)
