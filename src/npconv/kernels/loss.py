"""Elementwise losses and their derivatives, with torch's formulas (its clamps, its stable
forms, its choices at the kinks)."""
from __future__ import annotations

from npconv._backend import xp
from npconv.kernels.activation import log_sigmoid, sigmoid


def smooth_l1(d, beta):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere."""
    a = xp.abs(d)
    return xp.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)


def smooth_l1_derivative(d, beta):
    return xp.clip(d / beta, -1, 1)


def huber(d, delta):
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere: smooth_l1 times delta."""
    a = xp.abs(d)
    return xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


def huber_derivative(d, delta):
    return xp.clip(d, -delta, delta)


def binary_cross_entropy(x, t):
    """-(t log x + (1 - t) log(1 - x)), each log clamped to >= -100 (as torch, so x = 0 or 1
    gives a finite loss)."""
    with xp.errstate(divide="ignore"):
        log_x, log_1mx = xp.maximum(xp.log(x), -100), xp.maximum(xp.log1p(-x), -100)
    return -(t * log_x + (1 - t) * log_1mx)


def binary_cross_entropy_derivatives(x, t):
    """(d/dx, d/dt): (x - t) / max(x (1 - x), 1e-12) and log(1 - x) - log(x) (torch's
    formulas: the first clamped, the second not)."""
    with xp.errstate(divide="ignore", invalid="ignore"):
        return (x - t) / xp.maximum(x * (1 - x), 1e-12), xp.log1p(-x) - xp.log(x)


def binary_cross_entropy_with_logits(x, t, pos_weight=None):
    """(1 - t) x - (1 + (pos_weight - 1) t) log_sigmoid(x): BCE of sigmoid(x), in a form that
    cannot overflow."""
    scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
    return (1 - t) * x - scale * log_sigmoid(x)


def binary_cross_entropy_with_logits_derivatives(x, t, pos_weight=None):
    """(d/dx, d/dt): (1 - t) - scale * sigmoid(-x) and -x - (pos_weight - 1) log_sigmoid(x)."""
    scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
    gx = (1 - t) - scale * sigmoid(-x)
    gt = -x if pos_weight is None else -x - (pos_weight - 1) * log_sigmoid(x)
    return gx, gt
