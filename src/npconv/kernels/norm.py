"""Normalization over a set of axes: the arithmetic batch, instance, layer and group norm share.

Each layer is x normalized over some axes of a view of its input (batch norm: all but the
channel axis; layer norm: the trailing normalized_shape axes; group norm: each group's channels
and positions), then scaled and shifted per channel or element by the caller.
"""
from __future__ import annotations

from npconv._backend import xp
from npconv.kernels._common import compute_dtype


def moments(x, axes):
    """(mean, biased variance) of x over axes, kept as size-1 axes; float16 is accumulated in
    float32, as torch's CPU norms do."""
    x = x.astype(compute_dtype(x.dtype), copy=False)
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    return mean, (centered * centered).mean(axis=axes, keepdims=True)


def normalize(x, mean, var, eps):
    """(xhat, invstd) with xhat = (x - mean) * invstd and invstd = 1 / sqrt(var + eps), in
    moments()' dtype."""
    dtype = compute_dtype(x.dtype)
    invstd = 1 / xp.sqrt(var.astype(dtype, copy=False) + eps)
    return (x.astype(dtype, copy=False) - mean.astype(dtype, copy=False)) * invstd, invstd


def normalize_backward(g_xhat, xhat, invstd, axes):
    """d loss / d x when mean and var are x's own statistics over axes (the closed form, one
    pass over the data instead of the graph of the primitive ops):

        gx = invstd * (g - mean(g) - xhat * mean(g * xhat)), means over axes.
    """
    mean_g = g_xhat.mean(axis=axes, keepdims=True)
    mean_gx = (g_xhat * xhat).mean(axis=axes, keepdims=True)
    return invstd * (g_xhat - mean_g - xhat * mean_gx)
