"""Adam (optionally AMSGrad, optionally decoupled weight decay), as torch.optim.Adam."""
from __future__ import annotations

from npconv._backend import xp
from npconv.optim.optimizer import Optimizer, check_execution_flags, check_hyperparameters
from npconv.tensor import Tensor

__all__ = ["Adam"]


class Adam(Optimizer):
    """With g = grad (negated if maximize) + weight_decay * p at step t (or, with
    decoupled_weight_decay, p = p * (1 - lr * weight_decay) first, as AdamW):

        m = beta1 * m + (1 - beta1) * g          v = beta2 * v + (1 - beta2) * g^2
        v_hat = max(v_hat, v) (amsgrad) or v
        p = p - lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)

    Each step works in place, through scratch buffers shared by all parameters of a dtype,
    so it allocates nothing after the first.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        if not (all(isinstance(b, float) for b in betas)
                or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor) and beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        defaults = dict(lr=lr, betas=tuple(float(b) for b in betas), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        check_execution_flags(differentiable, capturable, fused, foreach)

    def _update(self, p, g, group, param):
        buffers = ["exp_avg", "exp_avg_sq"] + ["max_exp_avg_sq"] * group["amsgrad"]
        state, t = self._counted_state(param, p, buffers)
        lr, eps, (beta1, beta2) = group["lr"], group["eps"], group["betas"]
        if group["weight_decay"] and group["decoupled_weight_decay"]:
            p *= 1 - lr * group["weight_decay"]
        m, v = state["exp_avg"].data_array, state["exp_avg_sq"].data_array
        tmp = self._scratch_like(p, "work")
        self._lerp_(m, g, 1 - beta1, tmp)
        self._average_square_(v, g, beta2, tmp)
        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"].data_array, v,
                           out=state["max_exp_avg_sq"].data_array)
        xp.sqrt(v, out=tmp)  # denominator sqrt(v) / sqrt(1 - beta2^t) + eps
        tmp /= (1 - beta2 ** t) ** 0.5
        tmp += eps
        xp.divide(m, tmp, out=tmp)
        tmp *= -lr / (1 - beta1 ** t)
        p += tmp
