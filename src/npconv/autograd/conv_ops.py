"""Autograd wiring for convolution and padding; the arithmetic lives in npconv.kernels."""
from __future__ import annotations

import dataclasses

from npconv.autograd.engine import Function
from npconv.kernels import pad as pad_kernels
from npconv.kernels.conv import algorithm, choose
from npconv.kernels.conv_im2col import col2im, im2col


class Convolution(Function):
    """y = conv(x, w) + b over any number of spatial axes (torch's ConvolutionBackward0).
    gx = backward_data(gy, w), gw = backward_weight(gy, x), gb = sum of gy over every axis but
    the channels. Only the gradients that are needed are computed. algo names a registered
    algorithm; None lets kernels.conv.choose pick one for the shapes."""

    saves = (0, 1)

    def forward(self, x, w, b, spec, algo=None):
        self.algo = (choose(spec, x.shape, w.shape, x.dtype) if algo is None
                     else algorithm(algo, spec))
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


class ConvTranspose(Function):
    """The adjoint of the conv with the same spec and weight (C_in, C_out/g, *K) that maps the
    output's shape onto the input's: y = backward_data(x, w) + b, gx = forward(gy, w),
    gw = backward_weight(x, gy) (that conv's output gradient and input swap roles), gb = gy
    summed over all axes but channels. An output_padding of stride or more (allowed below the
    dilation) makes y so long that the conv has windows past x's end: x is zero-extended to
    the conv's output size there, and gx cropped back."""

    def forward(self, x, w, b, spec, algo=None):
        conv = dataclasses.replace(spec, transposed=False, output_padding=())
        y_shape = (x.shape[0], w.shape[1] * spec.groups,
                   *spec.transposed_output_size(x.shape[2:]))
        reach = conv.conv_output_size(y_shape[2:])
        self.extend = tuple(p for i, r in reversed(list(zip(x.shape[2:], reach)))
                            for p in (0, r - i))  # F.pad order: last axis first
        self.algo = (choose(conv, y_shape, w.shape, x.dtype) if algo is None
                     else algorithm(algo, conv))
        self.x, self.w, self.conv, self.b_dtype = x, w, conv, None if b is None else b.dtype
        y = self.algo.backward_data(self._extended(x), w, conv, y_shape)
        if b is not None:
            y += b.astype(y.dtype, copy=False).reshape(-1, *(1,) * spec.ndim)
        return y

    def backward(self, gy):
        need_x, need_w, need_b = self.needs_input_grad
        gx = gw = gb = None
        if need_x:
            gx = self.algo.forward(gy, self.w, self.conv)
            if any(self.extend):
                gx = pad_kernels.pad(gx, tuple(-p for p in self.extend))
        if need_w:
            gw = self.algo.backward_weight(self._extended(self.x), gy, self.conv, self.w.shape)
        if need_b:
            gb = gy.sum(axis=(0, *range(2, gy.ndim))).astype(self.b_dtype, copy=False)
        return gx, gw, gb

    def _extended(self, x):
        return pad_kernels.pad(x, self.extend) if any(self.extend) else x

    def name(self) -> str:
        return "ConvolutionBackward0"  # torch runs both through at::convolution


class Im2Col(Function):
    """F.unfold: cols = im2col(x), (N, C, *S) -> (N, C * prod(K), L), every window's cells as
    one column (an unbatched (C, *S) gives (C * prod(K), L)); its adjoint col2im adds each
    column back onto the cells it was read from."""

    def forward(self, x, spec):
        self.spec, self.shape = spec, x.shape
        batched = x.ndim == spec.ndim + 2
        cols = im2col(x if batched else x[None], spec)
        return cols if batched else cols[0]

    def backward(self, g):
        batched = len(self.shape) == self.spec.ndim + 2
        gx = col2im(g if batched else g[None], self.spec, self.shape if batched else
                    (1, *self.shape))
        return gx if batched else gx[0]


class Col2Im(Function):
    """F.fold: y = col2im(cols) onto shape (N, C, *S) (overlapping windows add up; an
    unbatched (C * prod(K), L) gives (C, *S)); its adjoint reads the windows back, im2col."""

    def forward(self, cols, spec, shape):
        self.spec, self.batched = spec, cols.ndim == 3
        y = col2im(cols if self.batched else cols[None], spec, shape)
        return y if self.batched else y[0]

    def backward(self, g):
        cols = im2col(g if self.batched else g[None], self.spec)
        return cols if self.batched else cols[0]
