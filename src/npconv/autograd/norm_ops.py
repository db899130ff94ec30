"""Normalization layers' op: batch, instance, layer and group norm, forward beside backward.

The arithmetic lives in npconv.kernels.norm; the layers differ only in which axes of (a view
of) the input the statistics cover and how weight and bias broadcast.
"""
from __future__ import annotations

from npconv.autograd.engine import Function, unbroadcast
from npconv.kernels.norm import moments, normalize, normalize_backward


class Normalize(Function):
    """y = xhat * weight + bias, xhat = (x - mean) / sqrt(var + eps), with weight and bias (or
    None) broadcast as ``param_shape``. mean and var are x's own over ``axes`` (the biased
    variance), or the constants ``stats`` = (mean, var) (batch norm in eval mode). Returns y,
    then mean and var as non-differentiable outputs (for the running averages).

    Backward is closed form: gx = invstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat))
    with own statistics, gxhat * invstd with constant ones; gw = sum(g * xhat), gb = sum(g)
    over the axes weight is broadcast along."""

    saves = (0,)  # the input, as torch (npconv keeps xhat and invstd)

    def forward(self, x, weight, bias, axes, param_shape, eps, stats=None):
        mean, var = moments(x, axes) if stats is None else stats
        self.xhat, self.invstd = normalize(x, mean, var, eps)
        self.axes, self.own_stats, self.param_shape = axes, stats is None, param_shape
        self.shapes = [None if p is None else p.shape for p in (weight, bias)]
        self.weight = None if weight is None else weight.reshape(param_shape)
        y = self.xhat if weight is None else self.xhat * self.weight
        if bias is not None:
            y = y + bias.reshape(param_shape)
        return y.astype(x.dtype, copy=False), mean, var

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad
        g = g.astype(self.xhat.dtype, copy=False)
        gx = gw = gb = None
        if need_x:
            g_xhat = g if self.weight is None else g * self.weight
            gx = (normalize_backward(g_xhat, self.xhat, self.invstd, self.axes) if self.own_stats
                  else g_xhat * self.invstd)
        if need_w:
            gw = unbroadcast(g * self.xhat, self.param_shape).reshape(self.shapes[0])
        if need_b:
            gb = unbroadcast(g, self.param_shape).reshape(self.shapes[1])
        return gx, gw, gb
