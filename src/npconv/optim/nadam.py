"""NAdam: Adam with Nesterov momentum, as torch.optim.NAdam."""
from __future__ import annotations

from npconv._backend import xp
from npconv.optim.optimizer import Optimizer, check_execution_flags, check_hyperparameters

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """With g = grad (negated if maximize) + weight_decay * p at step t (or, decoupled,
    p = p * (1 - lr * weight_decay) first), Dozat's schedule mu_t = beta1 (1 - 0.96^(t psi) / 2)
    for psi = momentum_decay, and P_t = mu_1 ... mu_t (kept in float32, as torch):

        m = beta1 * m + (1 - beta1) * g          v = beta2 * v + (1 - beta2) * g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr (1 - mu_t) / (1 - P_t) * g / d - lr mu_{t+1} / (1 - P_t mu_{t+1}) * m / d
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay,
                              momentum_decay=momentum_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))
        check_execution_flags(differentiable, capturable, foreach=foreach)

    def _update(self, p, g, group, param):
        state, t = self._counted_state(param, p, ("exp_avg", "exp_avg_sq"), mu_product=1.0)
        lr, (beta1, beta2), psi = group["lr"], group["betas"], group["momentum_decay"]
        if group["weight_decay"] and group["decoupled_weight_decay"]:
            p *= 1 - lr * group["weight_decay"]
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * psi)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * psi)))
        state["mu_product"].data_array *= mu
        mu_product = float(state["mu_product"].data_array)
        m, v = state["exp_avg"].data_array, state["exp_avg_sq"].data_array
        denom = self._scratch_like(p, "work")
        self._lerp_(m, g, 1 - beta1, denom)
        self._average_square_(v, g, beta2, denom)
        xp.divide(v, 1 - beta2 ** t, out=denom)
        xp.sqrt(denom, out=denom)
        denom += group["eps"]
        step = xp.divide(g, denom, out=self._scratch_like(p, "step"))
        step *= -lr * (1.0 - mu) / (1.0 - mu_product)
        p += step
        xp.divide(m, denom, out=step)
        step *= -lr * mu_next / (1.0 - mu_product * mu_next)
        p += step
