"""Elementwise activations and their derivatives, with torch's formulas and its choices at the
kinks (the derivative the backward uses where the function has none)."""
from __future__ import annotations

import math

from npconv._backend import xp

_erf = xp.frompyfunc(math.erf, 1, 1)  # numpy has no erf; math.erf is exact to the last bit


def erf(x):
    return _erf(x).astype(x.dtype)


def elu(x, alpha):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))


def elu_derivative(x, alpha):
    return xp.where(x > 0, xp.ones((), x.dtype), alpha * xp.exp(xp.minimum(x, 0)))


def hardtanh(x, min_val, max_val):
    """x clipped to [min_val, max_val]."""
    return xp.clip(x, min_val, max_val).astype(x.dtype, copy=False)


def hardtanh_derivative(x, min_val, max_val):
    """1 strictly inside (min_val, max_val), 0 on and beyond the bounds (as torch)."""
    return ((x > min_val) & (x < max_val)).astype(x.dtype)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def gelu(x, approximate):
    """x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); 'tanh': 0.5 x (1 + tanh(sqrt(2/pi) (x +
    0.044715 x^3)))."""
    if approximate == "tanh":
        return 0.5 * x * (1 + xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + erf(x * math.sqrt(0.5)))


def gelu_derivative(x, approximate):
    """Phi(x) + x phi(x); for 'tanh' the derivative of its formula."""
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)
        t = xp.tanh(inner)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
    return 0.5 * (1 + erf(x * math.sqrt(0.5))) + x * xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def sigmoid(x):
    """1 / (1 + exp(-x)), without overflow for large |x|."""
    with xp.errstate(over="ignore"):
        return 1 / (1 + xp.exp(-x))


def log_sigmoid(x):
    """log(sigmoid(x)) = -log(1 + exp(-x)), without overflow."""
    return -xp.logaddexp(0, -x)


def log_sigmoid_derivative(x):
    return sigmoid(-x)


def silu(x):
    """x * sigmoid(x)."""
    return x * sigmoid(x)


def silu_derivative(x):
    s = sigmoid(x)
    return s * (1 + x * (1 - s))


def softplus(x, beta, threshold):
    """log(1 + exp(beta x)) / beta, or x where beta x > threshold (as torch)."""
    return xp.where(x * beta > threshold, x, xp.logaddexp(0, x * beta) / beta)


def softplus_derivative(x, beta, threshold):
    return xp.where(x * beta > threshold, xp.ones((), x.dtype), sigmoid(x * beta))


def mish(x):
    """x * tanh(softplus(x))."""
    return x * xp.tanh(xp.logaddexp(0, x))


def mish_derivative(x):
    t = xp.tanh(xp.logaddexp(0, x))
    return t + x * sigmoid(x) * (1 - t * t)


def hardsigmoid(x):
    """relu6(x + 3) / 6."""
    return (xp.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)


def hardsigmoid_derivative(x):
    return (((x > -3) & (x < 3)) / 6).astype(x.dtype)


def hardswish(x):
    """x * relu6(x + 3) / 6."""
    return x * hardsigmoid(x)


def hardswish_derivative(x):
    """0 up to -3, x / 3 + 0.5 on (-3, 3), 1 from 3 (torch's choice at the kinks)."""
    return xp.where(x <= -3, xp.zeros((), x.dtype), xp.where(x < 3, x / 3 + 0.5, 1)).astype(
        x.dtype, copy=False)
