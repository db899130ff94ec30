"""Elementwise activations as Functions: y = f(x), gx = g * f'(x), with f and f' from
npconv.kernels.activation; and PReLU, whose slope is learned. (The pointwise losses reuse
``pointwise``.)"""
from __future__ import annotations

from npconv._backend import xp
from npconv.autograd.engine import Function, unbroadcast
from npconv.kernels import activation as A


class Pointwise(Function):
    """y = f(x), gx = g * f'(x); subclasses name the kernel pair ``f(x, **params)`` and its
    derivative ``df`` (made by ``pointwise``)."""

    saves = (0,)  # the input, as torch
    f = df = None

    def forward(self, x, **params):
        self.x, self.params = x, params
        return type(self).f(x, **params)

    def backward(self, g):
        return g * type(self).df(self.x, **self.params)


def pointwise(name: str, f, df):
    """The Pointwise Function of f and its derivative df, named as torch names the op."""
    return type(name, (Pointwise,), {"f": staticmethod(f), "df": staticmethod(df),
                                     "__doc__": f.__doc__})


Elu = pointwise("Elu", A.elu, A.elu_derivative)
Hardtanh = pointwise("Hardtanh", A.hardtanh, A.hardtanh_derivative)
Gelu = pointwise("Gelu", A.gelu, A.gelu_derivative)
LogSigmoid = pointwise("LogSigmoid", A.log_sigmoid, A.log_sigmoid_derivative)
Silu = pointwise("Silu", A.silu, A.silu_derivative)
Softplus = pointwise("Softplus", A.softplus, A.softplus_derivative)
Mish = pointwise("Mish", A.mish, A.mish_derivative)
Hardsigmoid = pointwise("Hardsigmoid", A.hardsigmoid, A.hardsigmoid_derivative)
Hardswish = pointwise("Hardswish", A.hardswish, A.hardswish_derivative)


class Prelu(Function):
    """y = x for x > 0, w * x otherwise, w one slope per channel (dim 1) or one for all;
    gx = g or w g, gw = sum of x g where x <= 0 over the positions each slope covers."""

    saves = (0, 1)  # as torch

    def forward(self, x, weight):
        channels = weight.size if x.ndim >= 2 else 1
        self.w_shape = (1, channels) + (1,) * (x.ndim - 2) if x.ndim >= 2 else weight.shape
        self.x, self.weight_shape = x, weight.shape
        self.negative = x <= 0
        self.w = weight.reshape(self.w_shape) if x.ndim >= 2 else weight
        return xp.where(self.negative, self.w * x, x)

    def backward(self, g):
        gx = xp.where(self.negative, self.w * g, g) if self.needs_input_grad[0] else None
        gw = None
        if self.needs_input_grad[1]:
            gw = unbroadcast(xp.where(self.negative, self.x * g, 0), self.w_shape)
            gw = gw.reshape(self.weight_shape)
        return gx, gw
