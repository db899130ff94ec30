"""Layer ops: pooling, softmax, the NLL/cross-entropy core, linear, dropout, leaky relu.

Each forward sits beside its backward; the pooling arithmetic lives in npconv.kernels.pool.
"""
from __future__ import annotations

from npconv._backend import xp
from npconv.autograd.engine import OUTPUT, Function, each_saved_for_the_other
from npconv.kernels import pool


class MaxPool(Function):
    """y = max over each (dilated) window of a PoolSpec, over any number of spatial axes; gx
    routes gy to each window's winning cell. With return_indices, also torch's flat indices of
    the winners (a non-differentiable output)."""

    saves = (0,)  # as torch (npconv keeps the winners)

    def forward(self, x, spec, return_indices=False):
        y, self.winners = pool.max_pool(x, spec)
        return (y, pool.max_pool_indices(self.winners)) if return_indices else y

    def backward(self, gy):
        return pool.max_pool_backward(gy, self.winners)


class AvgPool(Function):
    """y = sum over each window of a PoolSpec / divisor; gx spreads gy / divisor back over the
    window."""

    saves = (0,)  # as torch

    def forward(self, x, spec, count_include_pad, divisor_override):
        self.x_shape = x.shape
        self.args = spec, count_include_pad, divisor_override
        return pool.avg_pool(x, *self.args)

    def backward(self, gy):
        return pool.avg_pool_backward(gy, self.x_shape, *self.args)


class AdaptiveMaxPool(MaxPool):
    """MaxPool over the windows of an AdaptivePoolSpec (saving its input, as torch)."""

    def forward(self, x, spec, return_indices=False):
        y, self.winners = pool.adaptive_max_pool(x, spec)
        return (y, pool.max_pool_indices(self.winners)) if return_indices else y


class AdaptiveAvgPool(Function):
    """y = mean over each window of an AdaptivePoolSpec; gx spreads gy / window size back."""

    saves = (0,)  # as torch

    def forward(self, x, spec):
        self.x_shape, self.spec = x.shape, spec
        return pool.adaptive_avg_pool(x, spec)

    def backward(self, gy):
        return pool.adaptive_avg_pool_backward(gy, self.x_shape, self.spec)


class Softmax(Function):
    """s = exp(x - max) / sum(exp(x - max)) (shifted so exp cannot overflow);
    gx = s * (g - sum(g * s))."""

    saves = (OUTPUT,)

    def forward(self, x, dim):
        self.dim = dim
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        self.out = e / e.sum(axis=dim, keepdims=True)
        return self.out

    def backward(self, g):
        s = self.out
        return s * (g - (g * s).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    """out = x - max - log(sum(exp(x - max))); gx = g - exp(out) * sum(g)."""

    saves = (OUTPUT,)

    def forward(self, x, dim):
        self.dim = dim
        shifted = x - x.max(axis=dim, keepdims=True)
        self.out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        return self.out

    def backward(self, g):
        return g - xp.exp(self.out) * g.sum(axis=self.dim, keepdims=True)


class NLLLoss(Function):
    """Negative log-likelihood of class indices, with torch's weight, ignore_index and label
    smoothing eps over the C classes of dim 1:

        l_i = (1 - eps) * (-w[t_i] * logp[i, t_i]) + eps / C * (-sum_c w[c] * logp[i, c])

    for i with t_i != ignore_index (0 otherwise); 'mean' divides sum(l) by sum(w[t_i]) over
    those i, 'sum' sums, 'none' keeps l. dl_i/dlogp[i, c] = -(1 - eps) w[t_i] [c = t_i]
    - eps / C * w[c].
    """

    saves = (0,)  # as torch

    def forward(self, logp, target, weight=None, ignore_index=-100, reduction="mean",
                label_smoothing=0.0):
        classes = logp.shape[1]
        w = xp.ones(classes, logp.dtype) if weight is None else weight.astype(logp.dtype)
        self.valid = xp.expand_dims(target != ignore_index, 1)  # class axis kept as size 1
        self.t = xp.where(self.valid, xp.expand_dims(target, 1), 0)
        self.wt = w[self.t] * self.valid  # w[t_i], 0 where ignored
        self.w_smooth = label_smoothing / classes * w.reshape((classes,) + (1,) * (logp.ndim - 2))
        self.shape, self.eps, self.reduction = logp.shape, label_smoothing, reduction
        loss = -(1 - label_smoothing) * self.wt * xp.take_along_axis(logp, self.t, axis=1)
        if label_smoothing:
            loss -= self.valid * (self.w_smooth * logp).sum(axis=1, keepdims=True)
        if reduction == "none":
            return loss[:, 0]
        self.total = self.wt.sum() if reduction == "mean" else 1
        with xp.errstate(invalid="ignore"):  # mean over no targets is 0/0 = nan, as torch
            return xp.asarray(loss.sum() / self.total, dtype=logp.dtype)

    def backward(self, g):
        g = xp.expand_dims(g, 1) if self.reduction == "none" else g / self.total
        grad = xp.zeros(self.shape, dtype=self.wt.dtype)
        xp.put_along_axis(grad, self.t, -(1 - self.eps) * self.wt * g, axis=1)
        if self.eps:
            grad -= self.w_smooth * (self.valid * g)
        return grad, None


class Linear(Function):
    """y = x @ W^T + b over any leading dims; gx = g W, gW = g^T x and gb = sum g, both
    summed over all leading dims."""

    saves = property(lambda self: each_saved_for_the_other(self.needs_input_grad))

    def forward(self, x, weight, bias=None):
        self.x, self.weight = x, weight
        y = x @ weight.T
        if bias is not None:
            y += bias
        return y

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad
        out_features = self.weight.shape[0]
        g2 = g.reshape(-1, out_features)
        gx = g @ self.weight if need_x else None
        gw = g2.T @ self.x.reshape(-1, self.weight.shape[1]) if need_w else None
        gb = g2.sum(axis=0) if need_b else None
        return gx, gw, gb


class Dropout(Function):
    """y = x * mask with mask = keep / (1 - p) and keep ~ Bernoulli(1 - p), so E[y] = x;
    gx = g * mask. ``rng`` is the numpy Generator to draw from; ``mask_shape`` (default x's)
    broadcasts one draw over the axes where it is 1 (channel dropout: whole feature maps)."""

    def forward(self, x, p, rng, mask_shape=None):
        shape = x.shape if mask_shape is None else mask_shape
        keep = rng.random(shape, dtype=x.dtype if x.dtype == xp.float32 else xp.float64) >= p
        self.mask = keep * xp.asarray(1 / (1 - p) if p < 1 else 0, dtype=x.dtype)
        return x * self.mask

    def backward(self, g):
        return g * self.mask


class LeakyReLU(Function):
    """y = x for x > 0, slope * x otherwise; gx = g, or slope * g where x <= 0."""

    saves = (0,)  # as torch

    def forward(self, x, negative_slope):
        self.scale = xp.where(x > 0, xp.asarray(1, x.dtype), xp.asarray(negative_slope, x.dtype))
        return x * self.scale

    def backward(self, g):
        return g * self.scale
