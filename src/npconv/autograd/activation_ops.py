"""Elementwise activations as Functions: y = f(x), gx = g * f'(x), with f and f' from
npconv.kernels.activation; and PReLU, whose slope is learned."""
from __future__ import annotations

from npconv._backend import xp
from npconv.autograd.engine import Function, unbroadcast
from npconv.kernels import activation as A


class Activation(Function):
    """Subclasses name the kernel pair: ``f(x, **params)`` and its derivative ``df``."""

    saves = (0,)  # the input, as torch
    f = df = None

    def forward(self, x, **params):
        self.x, self.params = x, params
        return type(self).f(x, **params)

    def backward(self, g):
        return g * type(self).df(self.x, **self.params)


def _activation(name: str, f, df):
    return type(name, (Activation,), {"f": staticmethod(f), "df": staticmethod(df),
                                      "__doc__": f.__doc__})


Elu = _activation("Elu", A.elu, A.elu_derivative)
Hardtanh = _activation("Hardtanh", A.hardtanh, A.hardtanh_derivative)
Gelu = _activation("Gelu", A.gelu, A.gelu_derivative)
Silu = _activation("Silu", A.silu, A.silu_derivative)
Softplus = _activation("Softplus", A.softplus, A.softplus_derivative)
Mish = _activation("Mish", A.mish, A.mish_derivative)
Hardsigmoid = _activation("Hardsigmoid", A.hardsigmoid, A.hardsigmoid_derivative)
Hardswish = _activation("Hardswish", A.hardswish, A.hardswish_derivative)


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
