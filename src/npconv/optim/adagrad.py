"""Adagrad, as torch.optim.Adagrad."""
from __future__ import annotations

from npconv._backend import xp
from npconv.optim.optimizer import Optimizer, check_execution_flags, check_hyperparameters
from npconv.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """With g = grad (negated if maximize) + weight_decay * p at step t (Duchi et al.):

        s = s + g^2    (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    As torch, every parameter's state exists from construction, and initial_accumulator_value
    is the constructor's for every group.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_hyperparameters(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                              initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        check_execution_flags(differentiable, fused=fused, foreach=foreach)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, param: Tensor) -> dict:
        state = self.state[param]
        state["step"] = self._scalar_state(0.0)
        state["sum"] = Tensor._make(xp.full_like(param.data_array,
                                                 self.defaults["initial_accumulator_value"]))
        return state

    def _update(self, p, g, group, param):
        state = self.state[param] or self._init_state(param)
        state["step"].data_array += 1
        t = float(state["step"].data_array)
        total = state["sum"].data_array
        square = xp.multiply(g, g, out=self._scratch_like(p, "square"))
        total += square
        std = xp.sqrt(total, out=square)
        std += group["eps"]
        xp.divide(g, std, out=std)
        std *= -(group["lr"] / (1 + (t - 1) * group["lr_decay"]))
        p += std
