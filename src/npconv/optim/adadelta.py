"""Adadelta, as torch.optim.Adadelta."""
from __future__ import annotations

from npconv._backend import xp
from npconv.optim.optimizer import Optimizer, check_execution_flags, check_hyperparameters

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """With g = grad (negated if maximize) + weight_decay * p (Zeiler):

        v = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2
        p = p - lr * delta
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_hyperparameters(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable, foreach=foreach,
                                      differentiable=differentiable))
        check_execution_flags(differentiable, capturable, foreach=foreach)

    def _update(self, p, g, group, param):
        state, _ = self._counted_state(param, p, ("square_avg", "acc_delta"))
        rho, eps = group["rho"], group["eps"]
        square_avg, acc_delta = state["square_avg"].data_array, state["acc_delta"].data_array
        std = self._scratch_like(p, "std")
        self._average_square_(square_avg, g, rho, std)
        xp.add(square_avg, eps, out=std)
        xp.sqrt(std, out=std)
        delta = xp.add(acc_delta, eps, out=self._scratch_like(p, "delta"))
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        self._average_square_(acc_delta, delta, rho, std)
        delta *= -group["lr"]
        p += delta
