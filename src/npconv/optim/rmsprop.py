"""RMSprop (optionally centered, with momentum), as torch.optim.RMSprop."""
from __future__ import annotations

from npconv._backend import xp
from npconv.optim.optimizer import Optimizer, check_execution_flags, check_hyperparameters

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """With g = grad (negated if maximize) + weight_decay * p (Hinton's lecture 6e):

        v = alpha * v + (1 - alpha) * g^2
        a = sqrt(v - gbar^2) + eps, gbar = alpha * gbar + (1 - alpha) * g (centered), else
        a = sqrt(v) + eps
        b = momentum * b + g / a, p = p - lr * b (momentum > 0), else p = p - lr * g / a
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_hyperparameters(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay,
                              alpha=alpha)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))
        check_execution_flags(differentiable, capturable, foreach=foreach)

    def _update(self, p, g, group, param):
        buffers = ["square_avg"] + ["momentum_buffer"] * (group["momentum"] > 0) + \
            ["grad_avg"] * bool(group["centered"])
        state, _ = self._counted_state(param, p, buffers)
        alpha = group["alpha"]
        square_avg = state["square_avg"].data_array
        avg = self._scratch_like(p, "avg")
        self._average_square_(square_avg, g, alpha, avg)
        if group["centered"]:
            grad_avg = state["grad_avg"].data_array
            self._lerp_(grad_avg, g, 1 - alpha, avg)
            xp.multiply(grad_avg, -1.0, out=avg)
            avg *= grad_avg
            avg += square_avg
            xp.sqrt(avg, out=avg)
        else:
            xp.sqrt(square_avg, out=avg)
        avg += group["eps"]
        xp.divide(g, avg, out=avg)
        if group["momentum"] > 0:
            buf = state["momentum_buffer"].data_array
            buf *= group["momentum"]
            buf += avg
            xp.multiply(buf, -group["lr"], out=avg)
        else:
            avg *= -group["lr"]
        p += avg
