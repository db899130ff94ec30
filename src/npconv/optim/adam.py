"""Adam (optionally AMSGrad), as torch.optim.Adam, updating parameter arrays in place."""
from __future__ import annotations

from npconv._backend import xp
from npconv.optim.optimizer import Optimizer
from npconv.tensor import Tensor


class Adam(Optimizer):
    """With g = grad (+ weight_decay * p; negated if maximize) at step t:

        m = beta1 * m + (1 - beta1) * g          v = beta2 * v + (1 - beta2) * g^2
        v_hat = max(v_hat, v) (amsgrad) or v
        p = p - lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)

    Each step works in place, through one scratch buffer shared by all parameters of a dtype,
    so it allocates nothing after the first.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))
        self._scratch = {}  # dtype -> flat buffer the size of the largest parameter

    def _scratch_like(self, p):
        buf = self._scratch.get(p.dtype)
        if buf is None or buf.size < p.size:
            buf = self._scratch[p.dtype] = xp.empty(p.size, p.dtype)
        return buf[:p.size].reshape(p.shape)

    def _update(self, p, g, state, group):
        if not state:
            state["step"] = Tensor._make(xp.zeros((), xp.float32))
            buffers = ["exp_avg", "exp_avg_sq"] + ["max_exp_avg_sq"] * group["amsgrad"]
            state.update((k, Tensor._make(xp.zeros_like(p))) for k in buffers)
        state["step"].data_array += 1
        t = float(state["step"].data_array)
        beta1, beta2 = group["betas"]
        m, v = state["exp_avg"].data_array, state["exp_avg_sq"].data_array
        tmp = self._scratch_like(p)
        xp.subtract(g, m, out=tmp)  # m += (1 - beta1) * (g - m), torch's lerp
        tmp *= 1 - beta1
        m += tmp
        xp.multiply(g, g, out=tmp)  # v = beta2 * v + (1 - beta2) * g^2
        tmp *= 1 - beta2
        v *= beta2
        v += tmp
        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"].data_array, v,
                           out=state["max_exp_avg_sq"].data_array)
        xp.sqrt(v, out=tmp)  # denominator sqrt(v) / sqrt(1 - beta2^t) + eps
        tmp /= (1 - beta2 ** t) ** 0.5
        tmp += group["eps"]
        xp.divide(m, tmp, out=tmp)
        tmp *= group["lr"] / (1 - beta1 ** t)
        p -= tmp
