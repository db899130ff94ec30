"""SGD with momentum, dampening, Nesterov, weight decay and maximize, as torch.optim.SGD."""
from __future__ import annotations

from npconv.optim.optimizer import Optimizer
from npconv.tensor import Tensor


class SGD(Optimizer):
    """With d = grad (+ weight_decay * p; negated if maximize):

        b = d on the first step, else momentum * b + (1 - dampening) * d
        d = d + momentum * b (nesterov) or b (momentum != 0)
        p = p - lr * d
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, p, d, state, group):
        momentum = group["momentum"]
        if momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = Tensor._make(d.copy())
                buf = state["momentum_buffer"].data_array
            else:
                buf = state["momentum_buffer"].data_array
                buf *= momentum
                buf += (1 - group["dampening"]) * d
            d = d + momentum * buf if group["nesterov"] else buf
        p -= group["lr"] * d
