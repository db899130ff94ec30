"""Elementwise, reduction and matrix ops: each forward beside its backward."""
from __future__ import annotations

from npconv._backend import xp
from npconv.autograd.engine import OUTPUT, Function, each_saved_for_the_other, unbroadcast
from npconv.kernels import activation


class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(g, self.shapes[1])


class Sub(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(-g, self.shapes[1])


class Mul(Function):
    saves = property(lambda self: each_saved_for_the_other(self.needs_input_grad))

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        ga = unbroadcast(g * self.b, self.a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(g * self.a, self.b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    saves = property(lambda self: (0, 1) if self.needs_input_grad[1] else (1,))

    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        ga = unbroadcast(g / self.b, self.a.shape) if self.needs_input_grad[0] else None
        gb = (unbroadcast(-g * self.a / (self.b * self.b), self.b.shape)
              if self.needs_input_grad[1] else None)
        return ga, gb


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Pow(Function):
    """a ** b; d/da = b a^(b-1), d/db = a^b ln a."""

    saves = property(lambda self: (0, 1, OUTPUT) if self.needs_input_grad[1] else (0, 1))

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a ** b
        return self.out

    def backward(self, g):
        a, b = self.a, self.b
        ga = unbroadcast(g * b * a ** (b - 1), a.shape) if self.needs_input_grad[0] else None
        gb = None
        if self.needs_input_grad[1]:
            with xp.errstate(divide="ignore", invalid="ignore"):
                gb = unbroadcast(g * self.out * xp.where(a > 0, xp.log(xp.where(a > 0, a, 1)), 0),
                                 b.shape)
        return ga, gb


class Exp(Function):
    saves = (OUTPUT,)

    def forward(self, a):
        self.out = xp.exp(a)
        return self.out

    def backward(self, g):
        return g * self.out


class Log(Function):
    saves = (0,)

    def forward(self, a):
        self.a = a
        return xp.log(a)

    def backward(self, g):
        return g / self.a


class Abs(Function):
    saves = (0,)

    def forward(self, a):
        self.a = a
        return xp.abs(a)

    def backward(self, g):
        return g * xp.sign(self.a)


class ReLU(Function):
    """max(0, x); the gradient passes where x > 0."""

    saves = (OUTPUT,)  # torch's relu saves its result (npconv keeps a mask, but checks as torch)

    def forward(self, a):
        self.mask = a > 0
        return xp.maximum(a, 0)

    def backward(self, g):
        return g * self.mask


def as_floating(a):
    """Integer and bool arrays as float32 (torch's default dtype), as its float-valued
    unary ops promote them."""
    return a.astype(xp.float32) if a.dtype.kind in "biu" else a


class Sigmoid(Function):
    saves = (OUTPUT,)

    def forward(self, a):
        self.out = activation.sigmoid(as_floating(a))
        return self.out

    def backward(self, g):
        return g * self.out * (1 - self.out)


class Tanh(Function):
    saves = (OUTPUT,)

    def forward(self, a):
        self.out = xp.tanh(as_floating(a))
        return self.out

    def backward(self, g):
        return g * (1 - self.out * self.out)


class Clamp(Function):
    saves = (0,)  # as torch (npconv keeps a mask)

    def forward(self, a, min=None, max=None):
        self.mask = xp.ones(a.shape, dtype=bool)
        if min is not None:
            self.mask &= a >= min
        if max is not None:
            self.mask &= a <= max
        return xp.clip(a, min, max)

    def backward(self, g):
        return g * self.mask


class Where(Function):
    saves = (0,)

    def forward(self, cond, a, b):
        self.cond, self.shapes = cond, (a.shape, b.shape)
        return xp.where(cond, a, b)

    def backward(self, g):
        zero = xp.zeros((), dtype=g.dtype)
        return (None, unbroadcast(xp.where(self.cond, g, zero), self.shapes[0]),
                unbroadcast(xp.where(self.cond, zero, g), self.shapes[1]))


def wrap_dim(dim: int, ndim: int) -> int:
    """dim in [0, ndim) for dim in [-ndim, ndim), else torch's IndexError."""
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                         f"{ndim - 1}], but got {dim})")
    return dim % ndim


def reduction_axes(dim, ndim: int) -> tuple:
    """The axes a reduction over dim covers (None: all; an int or a sequence of ints), each
    checked as torch does; a 0-d tensor takes dim 0 or -1, which covers no axis."""
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(wrap_dim(d, max(ndim, 1)) for d in dims)
    return axes if ndim else ()


class Sum(Function):
    def forward(self, a, dim=None, keepdim=False, dtype=None):
        self.shape, self.axes = a.shape, reduction_axes(dim, a.ndim)
        return xp.asarray(a.sum(axis=self.axes, keepdims=keepdim, dtype=dtype))

    def backward(self, g):
        if g.ndim != len(self.shape):
            g = xp.expand_dims(g, self.axes)
        return xp.broadcast_to(g, self.shape)


class Mean(Function):
    def forward(self, a, dim=None, keepdim=False):
        self.shape, self.axes = a.shape, reduction_axes(dim, a.ndim)
        self.count = max(1, int(xp.prod([a.shape[i] for i in self.axes])))
        return xp.asarray(a.mean(axis=self.axes, keepdims=keepdim))

    def backward(self, g):
        if g.ndim != len(self.shape):
            g = xp.expand_dims(g, self.axes)
        return xp.broadcast_to(g / self.count, self.shape)


class Amax(Function):
    """max over axes; the gradient is shared evenly among tied maxima (as torch's amax)."""

    saves = (0, OUTPUT)

    def forward(self, a, dim=None, keepdim=False):
        self.a, self.axes = a, reduction_axes(dim, a.ndim)
        self.out = a.max(axis=self.axes, keepdims=True)
        return self.out if keepdim else xp.squeeze(self.out, self.axes)

    def backward(self, g):
        if g.ndim != self.a.ndim:
            g = xp.expand_dims(g, self.axes)
        mask = self.a == self.out
        return g * mask / mask.sum(axis=self.axes, keepdims=True)


class MaxDim(Function):
    """max along one dim with indices: the gradient goes to the chosen index only."""

    def forward(self, a, dim, keepdim=False, largest=True):
        self.shape, self.dim, self.keepdim = a.shape, dim % a.ndim, keepdim
        self.index = (a.argmax if largest else a.argmin)(axis=self.dim, keepdims=True)
        out = xp.take_along_axis(a, self.index, axis=self.dim)
        return out if keepdim else xp.squeeze(out, self.dim)

    def backward(self, g):
        if not self.keepdim:
            g = xp.expand_dims(g, self.dim)
        grad = xp.zeros(self.shape, dtype=g.dtype)
        xp.put_along_axis(grad, self.index, g, axis=self.dim)
        return grad


class MatMul(Function):
    """a @ b with numpy's broadcasting; 1-D operands are promoted then squeezed back."""

    saves = property(lambda self: each_saved_for_the_other(self.needs_input_grad))

    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.matmul(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(g @ xp.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(xp.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


class Cast(Function):
    def forward(self, a, dtype):
        self.dtype = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return g.astype(self.dtype)
