"""Stride-1 convs by shifted-window accumulation: no im2col copy, over any number of axes.

Lay the zero-padded input out channel-major and flat, X (C, L) with L = N * prod(P) (P the padded
size). At stride 1, a kernel offset k moves every window by the same flat distance
off_k = sum_i k_i d_i prod(P[i+1:]), so the offset's contribution to every output is one GEMM
with a contiguous slice of X (a view, no copy):

    forward          Y[:, p]           = sum_k W_k @ X[:, p + off_k]       (O, L)
    backward_data    G[:, p + off_k]  += W_k^T @ gY[:, p]                  (C, L)
    backward_weight  gW_k              = gY @ X[:, off_k : off_k + L]^T    (O, C)

with W_k = w[:, :, k] per group. Y is computed at every flat position, including those whose
window runs past a row's or an item's end; only the first Q cells per axis (Q the output size)
are kept, and gY is zero elsewhere. X carries a zero tail of max(off_k) cells so that every slice
has L columns. The work is prod(K) GEMMs with C/g as the inner dimension (im2col makes one with
C/g prod(K)), on slightly more columns (padded rows); what it saves is the im2col copy, prod(K)
times the input. The batch goes in chunks whose buffers stay under BUDGET bytes.
"""
from __future__ import annotations

import itertools
import math

from npconv._backend import xp
from npconv.kernels._common import chunks, compute_dtype

BUDGET = 32 * 2**20
SUPPORTED = "convs with stride 1 (any number of spatial axes, dilations, paddings, groups)"


def supports(spec) -> bool:
    """See SUPPORTED."""
    return all(s == 1 for s in spec.stride)


def forward(x, w, spec):
    """y = conv(x, w) without bias; x (N, C, *S), w (O, C/g, *K) -> (N, O, *Q)."""
    n, c, *size = x.shape
    o, g = w.shape[0], spec.groups
    ct = compute_dtype(x.dtype)
    padded, out = spec.padded_size(size), spec.conv_output_size(size)
    taps = _taps(w.astype(ct, copy=False), g)
    offsets = _offsets(spec, padded)
    y = xp.empty((n, o, *out), dtype=x.dtype)
    for sl in _chunks(n, c, o, padded, ct):
        cols = _flat_input(x[sl], spec, padded, max(offsets), ct)   # (g, C/g, L + tail)
        length = (sl.stop - sl.start) * math.prod(padded)
        acc = xp.zeros((g, o // g, length), dtype=ct)
        tmp = xp.empty_like(acc)
        for tap, off in zip(taps, offsets):
            acc += xp.matmul(tap, cols[:, :, off:off + length], out=tmp)
        y[sl] = _crop_flat(acc.reshape(o, sl.stop - sl.start, *padded), out).swapaxes(0, 1)
    return y


def backward_data(gy, w, spec, x_shape):
    """gx: each tap's W_k^T @ gY added at its offset, then the padding cropped."""
    n, c, *size = x_shape
    o, g = w.shape[0], spec.groups
    ct = compute_dtype(gy.dtype)
    padded = spec.padded_size(size)
    taps = [t.swapaxes(1, 2) for t in _taps(w.astype(ct, copy=False), g)]
    offsets = _offsets(spec, padded)
    gx = xp.empty(x_shape, dtype=gy.dtype)
    inside = tuple(slice(lo, lo + s) for (lo, _), s in zip(spec.padding, size))
    for sl in _chunks(n, c, o, padded, ct):
        b = sl.stop - sl.start
        length = b * math.prod(padded)
        grad = _flat_output_grad(gy[sl], padded, ct).reshape(g, o // g, length)
        acc = xp.zeros((g, c // g, length + max(offsets)), dtype=ct)
        tmp = xp.empty((g, c // g, length), dtype=ct)
        for tap, off in zip(taps, offsets):
            acc[:, :, off:off + length] += xp.matmul(tap, grad, out=tmp)
        gx[sl] = acc[:, :, :length].reshape(c, b, *padded)[(slice(None), slice(None),
                                                             *inside)].swapaxes(0, 1)
    return gx


def backward_weight(gy, x, spec, w_shape):
    """gW_k = gY @ X[:, off_k : off_k + L]^T per tap, summed over the batch chunks."""
    n, c, *size = x.shape
    o, g = w_shape[0], spec.groups
    ct = compute_dtype(x.dtype)
    padded = spec.padded_size(size)
    offsets = _offsets(spec, padded)
    gw = xp.zeros((len(offsets), g, o // g, c // g), dtype=ct)
    for sl in _chunks(n, c, o, padded, ct):
        length = (sl.stop - sl.start) * math.prod(padded)
        cols = _flat_input(x[sl], spec, padded, max(offsets), ct)
        grad = _flat_output_grad(gy[sl], padded, ct).reshape(g, o // g, length)
        for k, off in enumerate(offsets):
            gw[k] += xp.matmul(grad, cols[:, :, off:off + length].swapaxes(1, 2))
    # (prod K, g, O/g, C/g) -> (O, C/g, *K)
    gw = gw.transpose(1, 2, 3, 0).reshape(o, c // g, *w_shape[2:])
    return gw.astype(gy.dtype, copy=False)


def _taps(w, groups):
    """W_k per kernel offset k (row-major over the kernel), each (g, O/g, C/g)."""
    o, cg, *kernel = w.shape
    flat = w.reshape(groups, o // groups, cg, math.prod(kernel))
    return [xp.ascontiguousarray(flat[..., k]) for k in range(math.prod(kernel))]


def _offsets(spec, padded):
    """off_k = sum_i k_i d_i prod(padded[i+1:]) for every offset k, row-major."""
    steps = [math.prod(padded[i + 1:]) for i in range(len(padded))]
    return [sum(k * d * s for k, d, s in zip(ks, spec.dilation, steps))
            for ks in itertools.product(*(range(k) for k in spec.kernel_size))]


def _chunks(n, c, o, padded, ct):
    per_item = (c + 3 * o) * math.prod(padded) * xp.dtype(ct).itemsize
    return chunks(n, per_item, BUDGET)[1]


def _flat_input(x, spec, padded, tail, ct):
    """X: x zero-padded, channel-major and flat, (g, C/g, b prod(P) + tail)."""
    b, c, *size = x.shape
    length = b * math.prod(padded)
    flat = xp.zeros((c, length + tail), dtype=ct)
    view = flat[:, :length].reshape(c, b, *padded)
    view[(slice(None), slice(None),
          *(slice(lo, lo + s) for (lo, _), s in zip(spec.padding, size)))] = x.swapaxes(0, 1)
    return flat.reshape(spec.groups, c // spec.groups, length + tail)


def _flat_output_grad(gy, padded, ct):
    """gY: gy at the first Q cells of every padded-size row, zero elsewhere, (O, b prod(P))."""
    b, o, *out = gy.shape
    flat = xp.zeros((o, b, *padded), dtype=ct)
    flat[(slice(None), slice(None), *(slice(0, q) for q in out))] = gy.swapaxes(0, 1)
    return flat.reshape(o, -1)


def _crop_flat(a, out):
    """The first out cells per spatial axis of (·, b, *P)."""
    return a[(slice(None), slice(None), *(slice(0, q) for q in out))]
