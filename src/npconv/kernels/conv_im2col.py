"""conv as im2col + GEMM, over any number of spatial axes.

x is (N, C, *S), w (O, C/g, *K), the output (N, O, *Q) with P = prod(Q) positions. Column row
(c, k) holds x_pad[c, q*s + k*d] (per axis) for every output position q of every batch item of a
chunk, so the conv is ONE matrix product per group g (K' = C/g * prod(K)):

    forward          y[g]   = W[g] @ col[g]          (O/g, K') @ (K', n*P)
    backward_data    col[g] = W[g]^T @ gy[g]         (K', O/g) @ (O/g, n*P), then col2im
    backward_weight  gW[g]  = gy[g] @ col[g]^T       (O/g, n*P) @ (n*P, K')

Folding the batch into the GEMM's columns (layout (g, K', n*P)) costs a transpose of y or gy
between (n, O, P) and (O, n*P) (none when a chunk is a single item, as for large images), but
one big GEMM per group beats n per-item ones: forward measured 3.7 vs 4.0 ms for
64x32x14x14 -> 64 and 2.2 vs 2.7 ms for the same with groups=4. A 1x1 stride-1 unpadded conv
needs no im2col: x itself is the (n, g, C/g, P) column stack.

The batch is processed in chunks whose buffers stay under COL_BUDGET bytes; smaller chunks also
stay in cache (8 MB was ~15% faster than 64 MB for 8x3x224x224 -> 64). An item whose columns alone
exceed the budget (1x64x512x512 with a 3x3 kernel: 604 MB) is cut into bands of output rows (the
first spatial axis), each reading only its own rows of the padded input (_common.tiles,
_input_rows). float16 is computed in float32 and cast back, as torch's CPU conv accumulates in
float32.

col2im's Python loop runs over the kernel offsets or over the output positions of a band,
whichever are fewer, each step one strided add of the other's count (_col2im). When the padding
makes the output larger than the input (P > prod(S): a 101x101 kernel over a 4x4 input padded
by 100 has 10816 output positions for 16 inputs), most columns read padding and every op costs
prod(K) * P; then each op is computed through its dual (_Dual), at prod(K) * prod(S).

im2col and col2im are also public, in torch's F.unfold / F.fold layout.
"""
from __future__ import annotations

import math

from npconv._backend import xp
from npconv.kernels._common import compute_dtype, tiles
from npconv.kernels.geometry import ConvSpec

COL_BUDGET = 8 * 2**20
SUPPORTED = "every conv (any number of spatial axes, groups, strides, dilations, paddings)"

_ALL = (slice(None), slice(None))  # the batch and channel axes


def supports(spec) -> bool:
    """See SUPPORTED."""
    return True


def forward(x, w, spec):
    """y = conv(x, w) without bias; x (N, C, *S), w (O, C/g, *K) -> (N, O, *Q)."""
    n, c, *size = x.shape
    o = w.shape[0]
    if uses_dual(spec, size):
        dual = _Dual(spec, size)
        return dual.from_frame(backward_data(x, dual.weight(w), dual.spec, (n, o, *dual.frame)))
    ct = compute_dtype(x.dtype)
    out = spec.conv_output_size(size)
    w2 = _grouped_weight(w, spec.groups, ct)
    if _is_pointwise(spec):
        col = x.astype(ct, copy=False).reshape(n, spec.groups, c // spec.groups, math.prod(size))
        return _matmul(w2, col).astype(x.dtype, copy=False).reshape(n, o, *out)
    y = xp.empty((n, o, *out), dtype=x.dtype)
    for sl, rows, col in _columns(x, spec, ct, o):
        _store_batch_major(w2, col, y[sl, :, rows])
    return y


def backward_data(gy, w, spec, x_shape):
    """gx = col2im(W^T @ gy): every window scatters its column back; cells past the last window
    (when (S + pads - dilated kernel) % stride != 0) and the padding get no gradient. Bands of
    output rows add their input rows into gx, overlapping where the windows of two bands do."""
    n, c, *size = x_shape
    o, out = gy.shape[1], gy.shape[2:]
    if uses_dual(spec, size):
        dual = _Dual(spec, size)
        return forward(dual.to_frame(gy), dual.weight(w), dual.spec)
    g, ct = spec.groups, compute_dtype(gy.dtype)
    wt = _grouped_weight(w, g, ct).transpose(0, 2, 1)
    if _is_pointwise(spec):
        gy4 = gy.astype(ct, copy=False).reshape(n, g, o // g, math.prod(size))
        return _matmul(wt, gy4).astype(gy.dtype, copy=False).reshape(x_shape)
    k = c * math.prod(spec.kernel_size)
    flat = _prefer_flat_col2im(spec, k, o)
    padded = spec.padded_size(size)
    widths = padded[1:] if flat else out[1:]
    _, band, parts = _tiles(n, out[0], k, o, math.prod(widths), ct)
    gx = (xp.zeros if band < out[0] else xp.empty)(x_shape, dtype=gy.dtype)
    for sl, rows in parts:
        b, nr = sl.stop - sl.start, rows.stop - rows.start
        gyt = _channel_major(gy[sl, :, rows], widths, ct).reshape(g, o // g, -1)
        cols = _batch_first(_matmul(wt, gyt).reshape(c, *spec.kernel_size, b, nr, *widths))
        p0, p1 = _input_rows(rows, out[0], padded[0], spec)
        band_out = (nr, *out[1:])
        if flat and math.prod(spec.kernel_size) <= math.prod(band_out):
            patch = _col2im_flat(cols, (p1 - p0, *padded[1:]), spec)
        else:
            patch = _col2im(cols, (p1 - p0, *padded[1:]), spec, band_out)
        _crop_into(gx[sl], patch, p0, spec, add=band < out[0])
    return gx


def backward_weight(gy, x, spec, w_shape):
    """gW[g] = gy[g] @ col[g]^T, the batch chunk summed inside the GEMM's inner dimension."""
    o = w_shape[0]
    if uses_dual(spec, x.shape[2:]):
        dual = _Dual(spec, x.shape[2:])
        dual_shape = (x.shape[1], o // spec.groups, *w_shape[2:])
        return dual.weight(backward_weight(x, dual.to_frame(gy), dual.spec, dual_shape))
    g, ct = spec.groups, compute_dtype(x.dtype)
    gw = xp.zeros((g, o // g, math.prod(w_shape[1:])), dtype=ct)
    for sl, rows, col in _columns(x, spec, ct, o):
        gyt = _channel_major(gy[sl, :, rows], gy.shape[3:], ct).reshape(g, o // g, -1)
        gw += _matmul(gyt, col.swapaxes(-1, -2))
    return gw.astype(gy.dtype, copy=False).reshape(w_shape)


def im2col(x, spec):
    """torch's F.unfold layout: cols (N, C*prod(K), L), row c*prod(K) + (kernel offset, row-major),
    column = output position (row-major, L = prod(Q)), zero padding per spec.padding."""
    n, c, *size = x.shape
    out = spec.conv_output_size(size)
    cols = xp.empty((n, c, *spec.kernel_size, *out), dtype=x.dtype)
    _im2col(_pad_rows(x, spec, 0, spec.padded_size(size)[0]), spec, cols)
    return cols.reshape(n, c * math.prod(spec.kernel_size), math.prod(out))


def col2im(cols, spec, x_shape):
    """The adjoint of im2col (torch's F.fold): every column adds its window back into an x_shape
    array (N, C, *S), overlaps summed, the padding cropped; computed in compute_dtype."""
    n, c, *size = x_shape
    dtype, out = cols.dtype, spec.conv_output_size(size)
    cols = cols.astype(compute_dtype(dtype), copy=False).reshape(n, c, *spec.kernel_size, *out)
    gx = xp.empty(x_shape, dtype=cols.dtype)
    _crop_into(gx, _col2im(cols, spec.padded_size(size), spec, out), 0, spec, add=False)
    return gx.astype(dtype, copy=False)


def _columns(x, spec, ct, out_channels):
    """Yield (batch slice, output row slice, col) per tile (a chunk of items, or a band of one
    item's rows), col (g, C/g*prod(K), b*rows*prod(Q[1:])) in dtype ct. The budget counts the
    columns plus the out_channels rows of the tile's (transposed) output."""
    n, c, *size = x.shape
    out = spec.conv_output_size(size)
    k, rest = c * math.prod(spec.kernel_size), math.prod(out[1:])
    p_rows = spec.padded_size(size)[0]
    step, band, parts = _tiles(n, out[0], k, out_channels, rest, ct)
    buf = xp.empty(k * step * band * rest, dtype=ct)
    for sl, rows in parts:
        b, nr = sl.stop - sl.start, rows.stop - rows.start
        col = buf[: k * b * nr * rest].reshape(c, *spec.kernel_size, b, nr, *out[1:])
        x_rows = _pad_rows(x[sl], spec, *_input_rows(rows, out[0], p_rows, spec))
        _im2col(x_rows, spec, _batch_first(col))
        yield sl, rows, col.reshape(spec.groups, -1, b * nr * rest)


def _tiles(n, oh, k, o, width, ct):
    """_common.tiles of the batch and output rows, counting per output row the k column rows and
    the o output rows, `width` wide (the positions of one row), in dtype ct. Items are cut into
    bands only when one item's columns alone exceed COL_BUDGET: a whole item was faster
    (8x3x224x224 -> 64, 18 MB with the outputs: backward_data 15.5 vs 18.5 ms, backward_weight
    16.5 vs 19.5 ms banded)."""
    size = width * xp.dtype(ct).itemsize
    return tiles(n, oh, (k + o) * size, COL_BUDGET, split_bytes_per_row=k * size)


def _batch_first(cols):
    """(C, *K, b, rows, *rest) -> the (b, C, *K, rows, *rest) view."""
    return xp.moveaxis(cols, (cols.ndim + 1) // 2, 0)


def _input_rows(rows, oh, ph, spec):
    """The rows [p0, p1) of the padded input (ph rows on the first spatial axis) that the output
    rows `rows` (of oh) read: rows.start*s up to the last window's bottom row, or up to ph for
    the last band, so that a whole item reads the whole padded input."""
    s, d, k = spec.stride[0], spec.dilation[0], spec.kernel_size[0]
    stop = ph if rows.stop == oh else (rows.stop - 1) * s + (k - 1) * d + 1
    return rows.start * s, stop


def _pad_rows(x, spec, p0, p1):
    """Rows [p0, p1) of the zero-padded x, padding only those rows of the first spatial axis
    and the other axes whole (all of x for (0, ph))."""
    (top, _), *others = spec.padding
    u0, u1 = p0 - top, p1 - top  # in x's rows; either end may lie in the padding
    lo = min(max(u0, 0), u1)
    hi = max(min(u1, x.shape[2]), lo)
    pads = (lo - u0, u1 - hi)
    x = x[:, :, lo:hi]
    if any(pads) or any(map(any, others)):
        x = xp.pad(x, ((0, 0), (0, 0), pads, *others))
    return x


def _im2col(x, spec, out):
    """out[n, c, *k, *q] = x[n, c, q*s + k*d] (per axis) for an already padded x (see _pad_rows):
    one copy from a zero-copy strided window view; out may be any strided view."""
    nd = spec.ndim
    positions = out.shape[-nd:]
    windows = xp.lib.stride_tricks.sliding_window_view(x, spec.dilated_kernel,
                                                       axis=tuple(range(2, 2 + nd)))
    windows = windows[_ALL + tuple(slice(0, (q - 1) * s + 1, s)
                                   for q, s in zip(positions, spec.stride))
                      + tuple(slice(None, None, d) for d in spec.dilation)]
    out[...] = windows.transpose(0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))


def _store_batch_major(w2, col, out):
    """out (b, O, rows, *rest) = w2 @ col, whose (g, O/g, b*rows*rest) result is transposed into
    out; with b == 1 the layouts agree and the GEMM writes straight into out (no 12 MB copy per
    item), also for a band of rows of y, whose (O, rows*rest) reshape is still a strided view."""
    b, o = out.shape[:2]
    if b == 1 and out.dtype == col.dtype:
        _matmul(w2, col, out=out.reshape(w2.shape[0], -1, col.shape[-1]))
    else:
        out[...] = _matmul(w2, col).reshape(o, b, *out.shape[2:]).swapaxes(0, 1)


def _channel_major(gy, widths, ct):
    """(n, O, rows, *rest) -> (O, n, rows, *widths) in dtype ct, zero-extended to widths >= rest
    (free when n == 1 and widths == rest)."""
    n, o, oh, *rest = gy.shape
    moved = gy.swapaxes(0, 1)
    if tuple(widths) == tuple(rest):
        return xp.ascontiguousarray(moved, dtype=ct)
    out = xp.zeros((o, n, oh, *widths), dtype=ct)
    out[(*_ALL, slice(None), *map(slice, rest))] = moved
    return out


def _crop_into(gx, patch, p0, spec, add):
    """Store (or, for overlapping bands, add) rows [p0, p0 + patch rows) of the padded gradient
    into gx (n, C, *S), cropping the padding."""
    (top, _), *others = spec.padding
    h, *rest = gx.shape[2:]
    lo, hi = max(p0 - top, 0), min(p0 - top + patch.shape[2], h)
    if hi <= lo:
        return
    src = patch[(*_ALL, slice(lo + top - p0, hi + top - p0),
                 *(slice(left, left + size) for (left, _), size in zip(others, rest)))]
    if add:
        gx[:, :, lo:hi] += src
    else:
        gx[:, :, lo:hi] = src


def _col2im(cols, padded, spec, out):
    """Adjoint of _im2col: x_pad[.., q*s + k*d] += col[.., k, q] into zeros of the padded size
    (cropped by the caller); cols is (n, C, *K, *W) with W >= out, the output positions, per
    axis (columns past out are ignored). The loop runs over the kernel offsets (one strided add
    of all positions each) or, when the kernel has more elements than there are positions, over
    the positions (one strided add of a whole (n, C, *K) window each): min(prod(K), prod(out))
    steps, where a 101x101 kernel over a band of one 104-position row made 10201."""
    n, c = cols.shape[:2]
    kernel, stride, dilation = spec.kernel_size, spec.stride, spec.dilation
    gxp = xp.zeros((n, c, *padded), dtype=cols.dtype)
    if math.prod(kernel) <= math.prod(out):
        positions = tuple(map(slice, out))
        for k in xp.ndindex(*kernel):
            spans = tuple(slice(i * d, i * d + (q - 1) * s + 1, s)
                          for i, d, q, s in zip(k, dilation, out, stride))
            gxp[_ALL + spans] += cols[_ALL + k + positions]
    else:
        offsets = (slice(None),) * spec.ndim
        for q in xp.ndindex(*out):
            spans = tuple(slice(p * s, p * s + (k - 1) * d + 1, d)
                          for p, s, k, d in zip(q, stride, kernel, dilation))
            gxp[_ALL + spans] += cols[_ALL + offsets + q]
    return gxp


def _prefer_flat_col2im(spec, k, o):
    """_col2im_flat needs stride 1 and pays for widening gy (O rows) to save the short strided
    adds of _col2im (K' = C*prod(K) rows): measured faster when K' >= O (e.g. 32->64 channels on
    14x14: 4.0 vs 5.1 ms; but 1->32 on 28x28: 0.90 vs 0.68 ms, 3->64 on 224x224: 21 vs 13 ms)."""
    return all(s == 1 for s in spec.stride) and k >= o


def _col2im_flat(cols, padded, spec):
    """Stride-1 col2im on rows as wide as the padded input (cols is (n, C, *K, rows, *padded[1:]),
    its columns past Q zero since gy was zero-extended): kernel offset k adds ONE contiguous
    range, flat_pad[.., sum(k*d*step) + q] += col[.., k, q] with step the padded flat strides,
    where _col2im's strided adds run only Q[-1] elements at a time. The zero columns' wrap into
    the next row adds nothing. Returns the padded array (cropped by the caller)."""
    n, c = cols.shape[:2]
    nd = spec.ndim
    steps = [math.prod(padded[a + 1 :]) for a in range(nd)]
    length = cols.shape[2 + nd] * steps[0]
    cols = cols.reshape(n, c, *spec.kernel_size, length)
    tail = sum((k - 1) * d * st for k, d, st in zip(spec.kernel_size[1:], spec.dilation[1:],
                                                      steps[1:]))
    flat = xp.zeros((n, c, padded[0] * steps[0] + tail), dtype=cols.dtype)
    for k in xp.ndindex(*spec.kernel_size):
        start = sum(i * d * st for i, d, st in zip(k, spec.dilation, steps))
        flat[:, :, start : start + length] += cols[_ALL + k]
    return flat[:, :, : padded[0] * steps[0]].reshape(n, c, *padded)


def uses_dual(spec, size) -> bool:
    """Whether this conv over spatial size `size` is computed through its dual: its output has
    more positions than its input (the padding exceeds the dilated kernel)."""
    return math.prod(spec.conv_output_size(size)) > math.prod(size)


class _Dual:
    """A conv through conv' (stride 1, no padding, the same dilation and groups) over the frame
    T(gy): gy zero-stuffed by the stride, its cell q at q*s - (p_lo - d(k-1)) of a frame of
    S + d(k-1) cells per axis; with W' the kernel flipped and its channel axes swapped per group
    (gx[y] = sum over k' of W'[k'] T[y + k'd] is the transposed conv):

        backward_data(gy)  = conv'(T(gy), W')
        backward_weight    = W' layout of conv''s weight gradient, x as its output gradient
        forward(x)         = T^T(backward_data'(x, W'))     (the adjoint of the first line)

    conv' has prod(S) output positions, so each op costs prod(K) * prod(S) where the direct path
    pays prod(K) * P. T^T reads gy's cells back out of the frame, zero for a window that lies
    wholly in the padding."""

    def __init__(self, spec, size):
        nd = spec.ndim
        self.spec = ConvSpec(spec.kernel_size, (1,) * nd, ((0, 0),) * nd, spec.dilation,
                             spec.groups)
        self.groups, self.out = spec.groups, spec.conv_output_size(size)
        self.frame = tuple(i + dk - 1 for i, dk in zip(size, spec.dilated_kernel))
        cells, slots = [], []  # per axis: gy's cells that land in the frame, and where
        for q, s, (lo, _), dk, f in zip(self.out, spec.stride, spec.padding,
                                        spec.dilated_kernel, self.frame):
            shift = lo - (dk - 1)
            j0, j1 = max(0, -(-shift // s)), min(q, -(-(f + shift) // s))
            start = j0 * s - shift
            cells.append(slice(j0, max(j0, j1)))
            slots.append(slice(start, start + (j1 - j0 - 1) * s + 1, s))
        self.cells, self.slots = _ALL + tuple(cells), _ALL + tuple(slots)

    def to_frame(self, gy):
        t = xp.zeros((*gy.shape[:2], *self.frame), dtype=gy.dtype)
        t[self.slots] = gy[self.cells]
        return t

    def from_frame(self, t):
        y = xp.zeros((*t.shape[:2], *self.out), dtype=t.dtype)
        y[self.cells] = t[self.slots]
        return y

    def weight(self, w):
        """(A, B, *K) -> (g*B, A/g, *K), channel axes swapped per group and the kernel flipped:
        W' from w, and w from W'."""
        a, b, *k = w.shape
        g = self.groups
        swapped = w.reshape(g, a // g, b, *k).swapaxes(1, 2).reshape(g * b, a // g, *k)
        return xp.ascontiguousarray(swapped[_ALL + (slice(None, None, -1),) * len(k)])


def _matmul(a, b, out=None):
    """a @ b. With an inner dimension of 1 (depthwise backward_data: O/g = 1) it is an outer
    product, which numpy's matmul computed ~15x slower than this broadcast multiply."""
    if a.shape[-1] == 1:
        return xp.multiply(a, b, out=out)
    return xp.matmul(a, b, out=out)


def _grouped_weight(w, groups, ct):
    """(O, C/g, *K) -> (g, O/g, C/g*prod(K)) in the compute dtype."""
    return w.astype(ct, copy=False).reshape(groups, w.shape[0] // groups, -1)


def _is_pointwise(spec):
    """A 1x..x1 kernel with stride 1 and no padding: the columns are x itself."""
    return (all(k == 1 for k in spec.kernel_size) and all(s == 1 for s in spec.stride)
            and not any(map(any, spec.padding)))
