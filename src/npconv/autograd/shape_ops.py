"""Ops that move elements without arithmetic: reshape, permute, index, cat, stack, expand."""
from __future__ import annotations

from npconv._backend import xp
from npconv.autograd.engine import Function, unbroadcast


class Reshape(Function):
    is_view = True

    def forward(self, a, shape):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return g.reshape(self.shape)


class Permute(Function):
    is_view = True

    def forward(self, a, dims):
        self.inverse = tuple(xp.argsort(dims))
        return a.transpose(dims)

    def backward(self, g):
        return g.transpose(self.inverse)


class Expand(Function):
    is_view = True

    def forward(self, a, shape):
        self.shape = a.shape
        return xp.broadcast_to(a, shape)

    def backward(self, g):
        return unbroadcast(g, self.shape)


class Index(Function):
    """a[key]; the gradient scatters back with add.at so repeated indices accumulate. The
    index arrays in key also come as inputs after a, only so that they count as saved."""

    is_view = True  # basic indexing
    saves = property(lambda self: tuple(range(1, len(self.needs_input_grad))))

    def forward(self, a, *index_arrays, key):
        self.shape, self.key, self.n_index = a.shape, key, len(index_arrays)
        return a[key]

    def backward(self, g):
        grad = xp.zeros(self.shape, dtype=g.dtype)
        xp.add.at(grad, self.key, g)
        return (grad,) + (None,) * self.n_index


class Cat(Function):
    def forward(self, *arrays, dim=0):
        self.dim = dim
        self.splits = xp.cumsum([a.shape[dim] for a in arrays])[:-1]
        return xp.concatenate(arrays, axis=dim)

    def backward(self, g):
        return tuple(xp.split(g, self.splits, axis=self.dim))


class Stack(Function):
    def forward(self, *arrays, dim=0):
        self.dim = dim
        return xp.stack(arrays, axis=dim)

    def backward(self, g):
        return tuple(xp.moveaxis(g, self.dim, 0))
