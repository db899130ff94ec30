"""Elementwise losses as Functions (the reduction is a separate mean or sum): smooth L1 and
Huber of d = input - target, and binary cross-entropy on probabilities or logits, whose
gradients flow to input and target. Weights are constants, as in torch."""
from __future__ import annotations

from npconv.autograd.activation_ops import pointwise
from npconv.autograd.engine import Function, unbroadcast
from npconv.kernels import loss as K

SmoothL1Loss = pointwise("SmoothL1Loss", K.smooth_l1, K.smooth_l1_derivative)
HuberLoss = pointwise("HuberLoss", K.huber, K.huber_derivative)


class _BinaryCrossEntropyBase(Function):
    """l = weight * loss(x, t); gx = g * weight * dl/dx, gt = g * weight * dl/dt (summed back
    to each one's shape where the weights broadcast them)."""

    saves = (0, 1)  # as torch
    loss = derivatives = None

    def forward(self, x, t, weight=None, **params):
        self.x, self.t, self.weight, self.params = x, t, weight, params
        loss = type(self).loss(x, t, **params)
        return (loss if weight is None else loss * weight).astype(x.dtype, copy=False)

    def backward(self, g):
        gx, gt = type(self).derivatives(self.x, self.t, **self.params)
        scale = g if self.weight is None else g * self.weight
        need_x, need_t = self.needs_input_grad[:2]
        return (unbroadcast(scale * gx, self.x.shape) if need_x else None,
                unbroadcast(scale * gt, self.t.shape) if need_t else None)


class BinaryCrossEntropy(_BinaryCrossEntropyBase):
    loss = staticmethod(K.binary_cross_entropy)
    derivatives = staticmethod(K.binary_cross_entropy_derivatives)


class BinaryCrossEntropyWithLogits(_BinaryCrossEntropyBase):
    loss = staticmethod(K.binary_cross_entropy_with_logits)
    derivatives = staticmethod(K.binary_cross_entropy_with_logits_derivatives)
