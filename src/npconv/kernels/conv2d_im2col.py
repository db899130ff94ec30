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
stay in cache (8 MB was ~15% faster than 64 MB for 8x3x224x224 -> 64). float16 is computed in
float32 and cast back, as torch's CPU conv accumulates in float32.
"""
from __future__ import annotations

from npconv._backend import xp
from npconv.kernels._common import chunks, compute_dtype

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
    for sl, col in _columns(x, (kh, kw), spec, ct, o):
        _store_batch_major(w2, col, y[sl])
    return y


def backward_data(gy, w, spec, x_shape):
    """gx = col2im(W^T @ gy): every window scatters its column back; rows past the last window
    (when (H + pads - dilated kernel) % stride != 0) and the padding get no gradient."""
    n, c, h, wd = x_shape
    o, (kh, kw) = gy.shape[1], w.shape[2:]
    g, ct = spec.groups, compute_dtype(gy.dtype)
    wt = _grouped_weight(w, g, ct).transpose(0, 2, 1)
    if _is_pointwise(kh, kw, spec):
        gy4 = gy.astype(ct, copy=False).reshape(n, g, o // g, h * wd)
        return _matmul(wt, gy4).astype(gy.dtype, copy=False).reshape(x_shape)
    flat = _prefer_flat_col2im(spec, c * kh * kw, o)
    oh, width = gy.shape[2], spec.padded_size(h, wd)[1] if flat else gy.shape[3]
    per_item = (c * kh * kw + o) * oh * width * xp.dtype(ct).itemsize
    _, item_chunks = chunks(n, per_item, COL_BUDGET)
    gx = xp.empty(x_shape, dtype=gy.dtype)
    for sl in item_chunks:
        b = sl.stop - sl.start
        gyt = _channel_major(gy[sl], width, ct).reshape(g, o // g, b * oh * width)
        cols = _matmul(wt, gyt).reshape(c, kh, kw, b, oh, width).transpose(3, 0, 1, 2, 4, 5)
        gx[sl] = _col2im_flat(cols, x_shape, spec) if flat else _col2im(cols, x_shape, spec)
    return gx


def backward_weight(gy, x, spec, w_shape):
    """gW[g] = gy[g] @ col[g]^T, the batch chunk summed inside the GEMM's inner dimension."""
    o, cg, kh, kw = w_shape
    g, ct = spec.groups, compute_dtype(x.dtype)
    gw = xp.zeros((g, o // g, cg * kh * kw), dtype=ct)
    for sl, col in _columns(x, (kh, kw), spec, ct, o):
        gyt = _channel_major(gy[sl], gy.shape[3], ct).reshape(g, o // g, -1)
        gw += _matmul(gyt, col.swapaxes(-1, -2))
    return gw.astype(gy.dtype, copy=False).reshape(w_shape)


def _columns(x, kernel, spec, ct, out_channels):
    """Yield (batch slice, col) per chunk, col (g, C/g*KH*KW, b*OH*OW) in dtype ct. The budget
    counts the columns plus the out_channels rows of the chunk's (transposed) output."""
    n, c, h, wd = x.shape
    kh, kw = kernel
    oh, ow = spec.output_size(h, wd, kh, kw)
    per_item = (c * kh * kw + out_channels) * oh * ow * xp.dtype(ct).itemsize
    step, item_chunks = chunks(n, per_item, COL_BUDGET)
    buf = xp.empty(c * kh * kw * step * oh * ow, dtype=ct)
    for sl in item_chunks:
        b = sl.stop - sl.start
        col = buf[: c * kh * kw * b * oh * ow].reshape(c, kh, kw, b, oh, ow)
        _im2col(x[sl], kernel, spec, col.transpose(3, 0, 1, 2, 4, 5))
        yield sl, col.reshape(spec.groups, -1, b * oh * ow)


def _im2col(x, kernel, spec, out):
    """out[n, c, i, j, oh, ow] = x_pad[n, c, oh*sh + i*dh, ow*sw + j*dw]: one copy from a
    zero-copy strided window view of the zero-padded input; out may be any strided view."""
    top, bottom, left, right = spec.padding
    if any(spec.padding):
        x = xp.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    oh, ow = out.shape[-2:]
    windows = xp.lib.stride_tricks.sliding_window_view(x, spec.dilated_kernel(*kernel), axis=(2, 3))
    windows = windows[:, :, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, ::dh, ::dw]
    out[...] = windows.transpose(0, 1, 4, 5, 2, 3)


def _store_batch_major(w2, col, out):
    """out (b, O, OH, OW) = w2 @ col, whose (g, O/g, b*P) result is transposed into out; with
    b == 1 the layouts agree and the GEMM writes straight into out (no 12 MB copy per item)."""
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


def _col2im(cols, x_shape, spec):
    """Adjoint of _im2col: x_pad[.., oh*sh + i*dh, ow*sw + j*dw] += col[.., i, j, oh, ow],
    one strided add per kernel position, then crop the padding. cols is (n, C, KH, KW, OH, OW)."""
    n, c, kh, kw, oh, ow = cols.shape
    (sh, sw), (dh, dw) = spec.stride, spec.dilation
    top, _, left, _ = spec.padding
    ph, pw = spec.padded_size(*x_shape[2:])
    gxp = xp.zeros((n, c, ph, pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            r, s = i * dh, j * dw
            rows = slice(r, r + (oh - 1) * sh + 1, sh)
            gxp[:, :, rows, s : s + (ow - 1) * sw + 1 : sw] += cols[:, :, i, j]
    return gxp[:, :, top : top + x_shape[2], left : left + x_shape[3]]


def _prefer_flat_col2im(spec, k, o):
    """_col2im_flat needs stride 1 and pays for widening gy (O rows) to save the short strided
    adds of _col2im (K = C*KH*KW rows): measured faster when K >= O (e.g. 32->64 channels on
    14x14: 4.0 vs 5.1 ms; but 1->32 on 28x28: 0.90 vs 0.68 ms, 3->64 on 224x224: 21 vs 13 ms)."""
    return spec.stride == (1, 1) and k >= o


def _col2im_flat(cols, x_shape, spec):
    """Stride-1 col2im on Wp-wide rows (cols is (n, C, KH, KW, OH, Wp), its columns >= OW zero
    since gy was zero-extended): kernel position (i, j) adds ONE contiguous range,
    flat_pad[.., i*dh*Wp + j*dw + q] += col[.., i, j, q], where _col2im's 2-D strided adds run
    only OW elements at a time. The zero columns' wrap into the next row adds nothing."""
    n, c, kh, kw, oh, pw = cols.shape
    dh, dw = spec.dilation
    top, _, left, _ = spec.padding
    ph = spec.padded_size(*x_shape[2:])[0]
    cols = cols.reshape(n, c, kh, kw, oh * pw)
    flat = xp.zeros((n, c, ph * pw + (kw - 1) * dw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            start = i * dh * pw + j * dw
            flat[:, :, start : start + oh * pw] += cols[:, :, i, j]
    gxp = flat[:, :, : ph * pw].reshape(n, c, ph, pw)
    return gxp[:, :, top : top + x_shape[2], left : left + x_shape[3]]


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
