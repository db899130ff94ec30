"""SGD with momentum, dampening, Nesterov, weight decay and maximize, as torch.optim.SGD."""
from __future__ import annotations

from npconv._backend import xp
from npconv.optim.optimizer import Optimizer, check_execution_flags
from npconv.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    """With d = grad (negated if maximize) + weight_decay * p:

        b = d on the first step, else momentum * b + (1 - dampening) * d
        d = d + momentum * b (nesterov) or b (momentum != 0)
        p = p - lr * d
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        check_execution_flags(differentiable, fused=fused, foreach=foreach)

    def _update(self, p, d, group, param):
        momentum = group["momentum"]
        if momentum != 0:
            state = self.state[param]
            if state.get("momentum_buffer") is None:
                state["momentum_buffer"] = Tensor._make(d.copy())
                buf = state["momentum_buffer"].data_array
            else:
                buf = state["momentum_buffer"].data_array
                buf *= momentum
                scaled = xp.multiply(d, 1 - group["dampening"],
                                     out=self._scratch_like(p, "dampened"))
                buf += scaled
            if group["nesterov"]:
                ahead = xp.multiply(buf, momentum, out=self._scratch_like(p, "dampened"))
                d = xp.add(d, ahead, out=ahead)
            else:
                d = buf
        step = xp.multiply(d, -group["lr"], out=self._scratch_like(p, "dampened"))
        p += step
