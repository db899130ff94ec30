"""conv2d as im2col + GEMM.

Column row (c, i, j) holds x_pad[c, oh*sh + i*dh, ow*sw + j*dw] for every output pixel of every
batch item of a chunk, so the conv is ONE matrix product per group g (K = C/g*KH*KW, P = OH*OW):

    forward          y[g]   = W[g] @ col[g]          (O/g, K) @ (K, n*P)
    backward_data    col[g] = W[g]^T @ gy[g]         (K, O/g) @ (O/g, n*P), then col2im
    backward_weight  gW[g]  = gy[g] @ col[g]^T       (O/g, n*P) @ (n*P, K)

Folding the batch into the GEMM's columns (layout (g, K, n*P)) costs a transpose of y or gy
between (n, O, P) and (O, n*P) (none when a chunk is a single item, as for large images), but
one big GEMM per group beats n per-item ones: forward measured 3.7 vs 4.0 ms for
64x32x14x14 -> 64 and 2.2 vs 2.7 ms for the same with groups=4. A 1x1 stride-1 unpadded conv
needs no im2col: x itself is the (n, g, C/g, P) column stack.

The batch is processed in chunks whose buffers stay under COL_BUDGET bytes; smaller chunks also
stay in cache (8 MB was ~15% faster than 64 MB for 8x3x224x224 -> 64). An item whose columns alone
exceed the budget (1x64x512x512 with a 3x3 kernel: 604 MB) is cut into bands of output rows, each
reading only its own rows of the padded input (_common.tiles, _input_rows). float16 is computed in
float32 and cast back, as torch's CPU conv accumulates in float32.
"""
from __future__ import annotations

from npconv._backend import xp
from npconv.kernels._common import compute_dtype, tiles

COL_BUDGET = 8 * 2**20


def forward(x, w, spec):
    """y = conv2d(x, w) without bias; x (N, C, H, W), w (O, C/g, KH, KW) -> (N, O, OH, OW)."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    ct = compute_dtype(x.dtype)
    oh, ow = spec.output_size(h, wd, kh, kw)
    w2 = _grouped_weight(w, spec.groups, ct)
    if _is_pointwise(kh, kw, spec):
        col = x.astype(ct, copy=False).reshape(n, spec.groups, cg, h * wd)
        return _matmul(w2, col).astype(x.dtype, copy=False).reshape(n, o, oh, ow)
    y = xp.empty((n, o, oh, ow), dtype=x.dtype)
    for sl, rows, col in _columns(x, (kh, kw), spec, ct, o):
        _store_batch_major(w2, col, y[sl, :, rows])
    return y


def backward_data(gy, w, spec, x_shape):
    """gx = col2im(W^T @ gy): every window scatters its column back; rows past the last window
    (when (H + pads - dilated kernel) % stride != 0) and the padding get no gradient. Bands of
    output rows add their input rows into gx, overlapping where the windows of two bands do."""
    n, c, h, wd = x_shape
    o, (kh, kw) = gy.shape[1], w.shape[2:]
    g, ct = spec.groups, compute_dtype(gy.dtype)
    wt = _grouped_weight(w, g, ct).transpose(0, 2, 1)
    if _is_pointwise(kh, kw, spec):
        gy4 = gy.astype(ct, copy=False).reshape(n, g, o // g, h * wd)
        return _matmul(wt, gy4).astype(gy.dtype, copy=False).reshape(x_shape)
    flat = _prefer_flat_col2im(spec, c * kh * kw, o)
    (ph, pw), oh = spec.padded_size(h, wd), gy.shape[2]
    width = pw if flat else gy.shape[3]
    _, band, parts = _tiles(n, oh, c * kh * kw, o, width, ct)
    gx = (xp.zeros if band < oh else xp.empty)(x_shape, dtype=gy.dtype)
    for sl, rows in parts:
        b, nr = sl.stop - sl.start, rows.stop - rows.start
        gyt = _channel_major(gy[sl, :, rows], width, ct).reshape(g, o // g, b * nr * width)
        cols = _matmul(wt, gyt).reshape(c, kh, kw, b, nr, width).transpose(3, 0, 1, 2, 4, 5)
        p0, p1 = _input_rows(rows, oh, kh, ph, spec)
        patch = (_col2im_flat if flat else _col2im)(cols, p1 - p0, pw, spec)
        _crop_into(gx[sl], patch, p0, spec, add=band < oh)
    return gx


def backward_weight(gy, x, spec, w_shape):
    """gW[g] = gy[g] @ col[g]^T, the batch chunk summed inside the GEMM's inner dimension."""
    o, cg, kh, kw = w_shape
    g, ct = spec.groups, compute_dtype(x.dtype)
    gw = xp.zeros((g, o // g, cg * kh * kw), dtype=ct)
    for sl, rows, col in _columns(x, (kh, kw), spec, ct, o):
        gyt = _channel_major(gy[sl, :, rows], gy.shape[3], ct).reshape(g, o // g, -1)
        gw += _matmul(gyt, col.swapaxes(-1, -2))
    return gw.astype(gy.dtype, copy=False).reshape(w_shape)


def _columns(x, kernel, spec, ct, out_channels):
    """Yield (batch slice, output row slice, col) per tile (a chunk of items, or a band of one
    item's rows), col (g, C/g*KH*KW, b*rows*OW) in dtype ct. The budget counts the columns plus
    the out_channels rows of the tile's (transposed) output."""
    n, c, h, wd = x.shape
    kh, kw = kernel
    oh, ow = spec.output_size(h, wd, kh, kw)
    ph = spec.padded_size(h, wd)[0]
    step, band, parts = _tiles(n, oh, c * kh * kw, out_channels, ow, ct)
    buf = xp.empty(c * kh * kw * step * band * ow, dtype=ct)
    for sl, rows in parts:
        b, nr = sl.stop - sl.start, rows.stop - rows.start
        col = buf[: c * kh * kw * b * nr * ow].reshape(c, kh, kw, b, nr, ow)
        x_rows = _pad_rows(x[sl], spec, *_input_rows(rows, oh, kh, ph, spec))
        _im2col(x_rows, kernel, spec, col.transpose(3, 0, 1, 2, 4, 5))
        yield sl, rows, col.reshape(spec.groups, -1, b * nr * ow)


def _tiles(n, oh, k, o, width, ct):
    """_common.tiles of the batch and output rows, counting per output row the k column rows and
    the o output rows, `width` wide, in dtype ct. Items are cut into bands only when one item's
    columns alone exceed COL_BUDGET: a whole item was faster (8x3x224x224 -> 64, 18 MB with the
    outputs: backward_data 15.5 vs 18.5 ms, backward_weight 16.5 vs 19.5 ms banded)."""
    size = width * xp.dtype(ct).itemsize
    return tiles(n, oh, (k + o) * size, COL_BUDGET, split_bytes_per_row=k * size)


def _input_rows(rows, oh, kh, ph, spec):
    """The rows [p0, p1) of the padded input (ph rows) that the output rows `rows` (of oh) read:
    rows.start*sh up to the last window's bottom row, or up to ph for the last band, so that a
    whole item reads the whole padded input."""
    sh, dh = spec.stride[0], spec.dilation[0]
    stop = ph if rows.stop == oh else (rows.stop - 1) * sh + (kh - 1) * dh + 1
    return rows.start * sh, stop


def _pad_rows(x, spec, p0, p1):
    """Rows [p0, p1) of the zero-padded x, padding only those rows (all of x for (0, ph))."""
    top, _, left, right = spec.padding
    u0, u1 = p0 - top, p1 - top  # in x's rows; either end may lie in the padding
    lo = min(max(u0, 0), u1)
    hi = max(min(u1, x.shape[2]), lo)
    pads = (lo - u0, u1 - hi)
    x = x[:, :, lo:hi]
    if any(pads) or left or right:
        x = xp.pad(x, ((0, 0), (0, 0), pads, (left, right)))
    return x


def _im2col(x, kernel, spec, out):
    """out[n, c, i, j, oh, ow] = x[n, c, oh*sh + i*dh, ow*sw + j*dw] for an already padded x
    (see _pad_rows): one copy from a zero-copy strided window view; out may be any strided
    view."""
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    oh, ow = out.shape[-2:]
    windows = xp.lib.stride_tricks.sliding_window_view(x, spec.dilated_kernel(*kernel), axis=(2, 3))
    windows = windows[:, :, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, ::dh, ::dw]
    out[...] = windows.transpose(0, 1, 4, 5, 2, 3)


def _store_batch_major(w2, col, out):
    """out (b, O, rows, OW) = w2 @ col, whose (g, O/g, b*rows*OW) result is transposed into out;
    with b == 1 the layouts agree and the GEMM writes straight into out (no 12 MB copy per item),
    also for a band of rows of y, whose (O, rows*OW) reshape is still a strided view."""
    b, o = out.shape[:2]
    if b == 1 and out.dtype == col.dtype:
        _matmul(w2, col, out=out.reshape(w2.shape[0], -1, col.shape[-1]))
    else:
        out[...] = _matmul(w2, col).reshape(o, b, *out.shape[2:]).transpose(1, 0, 2, 3)


def _channel_major(gy, width, ct):
    """(n, O, OH, OW) -> (O, n, OH, width) in dtype ct, rows zero-extended to width >= OW
    (free when n == 1 and width == OW)."""
    n, o, oh, ow = gy.shape
    if width == ow:
        return xp.ascontiguousarray(gy.transpose(1, 0, 2, 3), dtype=ct)
    out = xp.zeros((o, n, oh, width), dtype=ct)
    out[..., :ow] = gy.transpose(1, 0, 2, 3)
    return out


def _crop_into(gx, patch, p0, spec, add):
    """Store (or, for overlapping bands, add) rows [p0, p0 + patch rows) of the padded gradient
    into gx (n, C, H, W), cropping the padding."""
    top, _, left, _ = spec.padding
    h, w = gx.shape[2:]
    lo, hi = max(p0 - top, 0), min(p0 - top + patch.shape[2], h)
    if hi <= lo:
        return
    src = patch[:, :, lo + top - p0 : hi + top - p0, left : left + w]
    if add:
        gx[:, :, lo:hi] += src
    else:
        gx[:, :, lo:hi] = src


def _col2im(cols, ph, pw, spec):
    """Adjoint of _im2col: x_pad[.., oh*sh + i*dh, ow*sw + j*dw] += col[.., i, j, oh, ow],
    one strided add per kernel position, into ph x pw padded rows (cropped by the caller).
    cols is (n, C, KH, KW, OH, OW)."""
    n, c, kh, kw, oh, ow = cols.shape
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    gxp = xp.zeros((n, c, ph, pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            r, s = i * dh, j * dw
            rows = slice(r, r + (oh - 1) * sh + 1, sh)
            gxp[:, :, rows, s : s + (ow - 1) * sw + 1 : sw] += cols[:, :, i, j]
    return gxp


def _prefer_flat_col2im(spec, k, o):
    """_col2im_flat needs stride 1 and pays for widening gy (O rows) to save the short strided
    adds of _col2im (K = C*KH*KW rows): measured faster when K >= O (e.g. 32->64 channels on
    14x14: 4.0 vs 5.1 ms; but 1->32 on 28x28: 0.90 vs 0.68 ms, 3->64 on 224x224: 21 vs 13 ms)."""
    return spec.stride == (1, 1) and k >= o


def _col2im_flat(cols, ph, pw, spec):
    """Stride-1 col2im on Wp-wide rows (cols is (n, C, KH, KW, OH, Wp), its columns >= OW zero
    since gy was zero-extended): kernel position (i, j) adds ONE contiguous range,
    flat_pad[.., i*dh*Wp + j*dw + q] += col[.., i, j, q], where _col2im's 2-D strided adds run
    only OW elements at a time. The zero columns' wrap into the next row adds nothing. Returns
    ph x Wp padded rows (cropped by the caller)."""
    n, c, kh, kw, oh = cols.shape[:5]
    dh, dw = spec.dilation
    cols = cols.reshape(n, c, kh, kw, oh * pw)
    flat = xp.zeros((n, c, ph * pw + (kw - 1) * dw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            start = i * dh * pw + j * dw
            flat[:, :, start : start + oh * pw] += cols[:, :, i, j]
    return flat[:, :, : ph * pw].reshape(n, c, ph, pw)


def _matmul(a, b, out=None):
    """a @ b. With an inner dimension of 1 (depthwise backward_data: O/g = 1) it is an outer
    product, which numpy's matmul computed ~15x slower than this broadcast multiply."""
    if a.shape[-1] == 1:
        return xp.multiply(a, b, out=out)
    return xp.matmul(a, b, out=out)


def _grouped_weight(w, groups, ct):
    """(O, C/g, KH, KW) -> (g, O/g, C/g*KH*KW) in the compute dtype."""
    return w.astype(ct, copy=False).reshape(groups, w.shape[0] // groups, -1)


def _is_pointwise(kh, kw, spec):
    """A 1x1 kernel with stride 1 and no padding: the columns are x itself."""
    return (kh, kw) == (1, 1) and spec.stride == (1, 1) and not any(spec.padding)
