"""Dilated stride-1 convs by space-to-batch, over any number of spatial axes.

With stride 1, output q = a + t d (phase a in [0, d) per axis) reads the padded input at
a + t d + k d = a + (t + k) d: the input's phase a, x_a[i] = x_pad[a + i d], convolved with the
undilated kernel. So the d^ndim phases of the padded input go into the batch axis, one undilated
conv runs over them (Winograd where it applies, so 3x3 dilated convs get its 2.25x fewer
multiplies; else im2col, whose columns then read contiguous rows), and its outputs interleave
back:

    y[..., a + t d] = conv(x_pad[..., a::d], w)[..., t]

Each axis is zero-extended to m d cells (m = ceil(padded / d)), so every phase has m cells and
m - k + 1 >= 1 outputs; the surplus outputs are cropped. backward_data and backward_weight are
the inner conv's on the same phase batches (gy's surplus positions get zero gradient).
"""
from __future__ import annotations

import math

from npconv._backend import xp
from npconv.kernels import conv_im2col, conv_winograd
from npconv.kernels.geometry import ConvSpec

SUPPORTED = "convs with stride 1 and a dilation > 1 on some axis (any number of spatial axes)"


def supports(spec) -> bool:
    """See SUPPORTED."""
    return all(s == 1 for s in spec.stride) and any(d > 1 for d in spec.dilation)


def forward(x, w, spec):
    """y = conv(x, w) without bias, as the undilated conv of x's phases."""
    inner, inner_spec = _inner(spec)
    n = x.shape[0]
    y = inner.forward(_to_phases(_extended(x, spec), spec.dilation), w, inner_spec)
    return _crop(_from_phases(y, spec.dilation, n), spec.conv_output_size(x.shape[2:]))


def backward_data(gy, w, spec, x_shape):
    """gx: the inner conv's backward_data on gy's phases, interleaved and cropped to x."""
    inner, inner_spec = _inner(spec)
    n, c, *size = x_shape
    phases = _phase_sizes(spec, size)
    gyb = _to_phases(_zero_extended(gy, [m - k + 1 for m, k in zip(phases, spec.kernel_size)],
                                    spec.dilation), spec.dilation)
    d = math.prod(spec.dilation)
    gx = _from_phases(inner.backward_data(gyb, w, inner_spec, (d * n, c, *phases)),
                      spec.dilation, n)
    return xp.ascontiguousarray(gx[(slice(None), slice(None),
                                    *(slice(lo, lo + s) for (lo, _), s in zip(spec.padding, size)))])


def backward_weight(gy, x, spec, w_shape):
    """gW: the inner conv's backward_weight over the phase batch (it sums over the batch)."""
    inner, inner_spec = _inner(spec)
    phases = _phase_sizes(spec, x.shape[2:])
    gyb = _to_phases(_zero_extended(gy, [m - k + 1 for m, k in zip(phases, spec.kernel_size)],
                                    spec.dilation), spec.dilation)
    return inner.backward_weight(gyb, _to_phases(_extended(x, spec), spec.dilation), inner_spec,
                                 w_shape)


def _inner(spec):
    """(algorithm, spec) of the undilated conv over the phases."""
    nd = spec.ndim
    inner_spec = ConvSpec(spec.kernel_size, (1,) * nd, ((0, 0),) * nd, (1,) * nd, spec.groups)
    return (conv_winograd if conv_winograd.supports(inner_spec) else conv_im2col), inner_spec


def _phase_sizes(spec, size):
    """m = ceil((i + p_lo + p_hi) / d) cells per phase, per axis."""
    return [-(-p // d) for p, d in zip(spec.padded_size(size), spec.dilation)]


def _extended(x, spec):
    """x zero-padded by the spec's padding and then to m d cells per axis."""
    n, c, *size = x.shape
    phases = _phase_sizes(spec, size)
    out = xp.zeros((n, c, *(m * d for m, d in zip(phases, spec.dilation))), dtype=x.dtype)
    out[(slice(None), slice(None),
         *(slice(lo, lo + s) for (lo, _), s in zip(spec.padding, size)))] = x
    return out


def _zero_extended(gy, per_phase, dilation):
    """gy zero-extended to per_phase * d positions per axis (the surplus outputs' gradients)."""
    n, o, *out = gy.shape
    full = xp.zeros((n, o, *(r * d for r, d in zip(per_phase, dilation))), dtype=gy.dtype)
    full[(slice(None), slice(None), *(slice(0, q) for q in out))] = gy
    return full


def _to_phases(a, dilation):
    """(N, C, m1 d1, m2 d2, ...) -> (d1 d2 ... N, C, m1, m2, ...), phase (a1, a2, ...) major."""
    n, c, *size = a.shape
    nd = len(dilation)
    split = a.reshape(n, c, *(v for s, d in zip(size, dilation) for v in (s // d, d)))
    order = [3 + 2 * i for i in range(nd)] + [0, 1] + [2 + 2 * i for i in range(nd)]
    return xp.ascontiguousarray(split.transpose(order)).reshape(
        math.prod(dilation) * n, c, *(s // d for s, d in zip(size, dilation)))


def _from_phases(b, dilation, n):
    """(d1 d2 ... N, C, r1, r2, ...) -> (N, C, r1 d1, r2 d2, ...), the inverse of _to_phases."""
    c, *per = b.shape[1:]
    nd = len(dilation)
    split = b.reshape(*dilation, n, c, *per)
    order = [nd, nd + 1] + [v for i in range(nd) for v in (nd + 2 + i, i)]
    return split.transpose(order).reshape(n, c, *(r * d for r, d in zip(per, dilation)))


def _crop(y, out):
    """The first out positions per axis, contiguous."""
    return xp.ascontiguousarray(y[(slice(None), slice(None), *(slice(0, q) for q in out))])
