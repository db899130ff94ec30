"""Autograd wiring for convolution and padding; the arithmetic lives in npconv.kernels."""
from __future__ import annotations

from npconv.autograd.engine import Function
from npconv.kernels import pad as pad_kernels
from npconv.kernels.conv import algorithm, choose


class Convolution(Function):
    """y = conv(x, w) + b over any number of spatial axes (torch's ConvolutionBackward0).
    gx = backward_data(gy, w), gw = backward_weight(gy, x), gb = sum of gy over every axis but
    the channels. Only the gradients that are needed are computed. algo names a registered
    algorithm; None lets kernels.conv.choose pick one for the shapes."""

    saves = (0, 1)

    def forward(self, x, w, b, spec, algo=None):
        self.algo = choose(spec, x.shape, w.shape) if algo is None else algorithm(algo, spec)
        self.x, self.w, self.spec = x, w, spec
        y = self.algo.forward(x, w, spec)
        if b is not None:
            y += b.reshape(1, -1, *(1,) * spec.ndim)
        return y

    def backward(self, gy):
        need_x, need_w, need_b = self.needs_input_grad
        gx = self.algo.backward_data(gy, self.w, self.spec, self.x.shape) if need_x else None
        gw = self.algo.backward_weight(gy, self.x, self.spec, self.w.shape) if need_w else None
        gb = gy.sum(axis=(0, *range(2, gy.ndim))) if need_b else None
        return gx, gw, gb


class Pad(Function):
    """y = pad(x); its adjoint folds the padded border back onto the input."""

    saves = property(lambda self: (0,) if self.mode in ("reflect", "replicate") else ())  # as torch

    def forward(self, x, pads, mode="constant", value=0.0):
        self.shape, self.pads, self.mode = x.shape, pads, mode
        return pad_kernels.pad(x, pads, mode, value)

    def backward(self, gy):
        return pad_kernels.pad_backward(gy, self.pads, self.mode, self.shape)
