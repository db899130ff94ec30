"""Tensor: an array plus the autograd bookkeeping, with torch's method names."""
from __future__ import annotations

import builtins
import numbers
from collections import namedtuple

from npconv import dtypes
from npconv._backend import xp
from npconv.autograd import is_grad_enabled
from npconv.autograd import math_ops as M
from npconv.autograd import nn_ops as N
from npconv.autograd import shape_ops as S
from npconv.autograd.engine import run_backward
from npconv.device import device as _device, check_device
from npconv.random import default_generator

MaxResult = namedtuple("max", ["values", "indices"])


class Size(tuple):
    """A shape; a tuple that prints like torch's (``npconv.Size([1, 16, 28, 28])``)."""

    def __repr__(self) -> str:
        return f"npconv.Size({list(self)})"

    def numel(self) -> int:
        return int(xp.prod(self, dtype=xp.int64))


def _result_dtype(array) -> dtypes.dtype:
    return dtypes.as_dtype(array.dtype)


class Tensor:
    """An n-dimensional array that can record the ops applied to it for backward().

    ``data_array`` is the raw array; ``grad_fn`` is the Function that produced it (None for a
    leaf); ``grad`` accumulates d(root)/d(self) for leaves with ``requires_grad``; ``_version``
    counts in-place writes to the storage, so backward can refuse saved tensors that changed.
    """

    __array_priority__ = 1000  # so ndarray (op) Tensor defers to Tensor's reflected op

    def __init__(self, data=None, requires_grad: bool = False):
        array = xp.asarray([] if data is None else data)
        if array.dtype == xp.float64 and not isinstance(data, xp.ndarray):
            array = array.astype(dtypes.get_default_dtype().np)
        self._init(array, requires_grad)

    def _init(self, array, requires_grad, base=None):
        self.data_array = array
        # In-place writes to the storage so far: one counter shared by all tensors viewing it
        # (base is the tensor whose storage array views), as torch's version counter.
        self._version_counter = [0] if base is None else base._version_counter
        self.grad = None
        self.grad_fn = None
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(array, requires_grad=False, base=None):
        """A Tensor around array, not copied; never a subclass, so ops on Parameters give Tensors."""
        t = Tensor.__new__(Tensor)
        t._init(xp.asarray(array), requires_grad, base)
        return t

    # ---- basic properties -------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self.data_array.shape)

    def size(self, dim=None):
        return self.shape if dim is None else self.data_array.shape[dim]

    def dim(self) -> int:
        return self.data_array.ndim

    ndim = property(dim)

    def numel(self) -> int:
        return int(self.data_array.size)

    nelement = numel

    @property
    def dtype(self) -> dtypes.dtype:
        return _result_dtype(self.data_array)

    @property
    def device(self):
        return _device("cpu")

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    @property
    def data(self) -> "Tensor":
        """The same storage, detached from the graph, with its own version counter: writes
        through it go unseen by backward (torch's ``.data``; detach() is the safe one)."""
        return Tensor._make(self.data_array)

    @data.setter
    def data(self, value) -> None:
        self.data_array = value.data_array if isinstance(value, Tensor) else xp.asarray(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients, "
                               f"but this tensor has dtype {self.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        self._retains_grad = True

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's storage has had (torch's ``_version``)."""
        return self._version_counter[0]

    def _bump_version(self) -> None:
        """Record an in-place write, so backward can tell a saved tensor changed."""
        self._version_counter[0] += 1

    # ---- conversion -------------------------------------------------------------------
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self.data_array

    def __array__(self, dtype=None, copy=None):
        return self.data_array if dtype is None else self.data_array.astype(dtype)

    def item(self):
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted "
                               "to Scalar")
        return self.data_array.reshape(()).item()

    def tolist(self):
        return self.data_array.tolist()

    __float__ = lambda self: builtins.float(self.item())  # noqa: E731
    __int__ = lambda self: builtins.int(self.item())  # noqa: E731
    __index__ = __int__

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return builtins.bool(self.item())

    def detach(self) -> "Tensor":
        return Tensor._make(self.data_array, base=self)

    def clone(self) -> "Tensor":
        return M.Cast.apply(self, dtype=self.data_array.dtype) if self.requires_grad \
            else Tensor._make(self.data_array.copy())

    def contiguous(self) -> "Tensor":
        return self

    def to(self, *args, **kwargs) -> "Tensor":
        """``.to(device)``, ``.to(dtype)``, ``.to(device, dtype)`` or ``.to(other)``."""
        target = kwargs.get("dtype")
        for arg in list(args) + [kwargs.get("device")]:
            if isinstance(arg, Tensor):
                target = arg.dtype
            elif isinstance(arg, dtypes.dtype):
                target = arg
            elif arg is not None:
                check_device(arg)
        if target is None or target == self.dtype:
            return self
        return self.type(target)

    def cpu(self) -> "Tensor":
        return self

    def cuda(self, *args, **kwargs):
        check_device("cuda")

    def type(self, dtype=None):
        if dtype is None:
            return f"npconv.{self.dtype.legacy_name}Tensor"
        d = dtypes.as_dtype(dtype)
        return M.Cast.apply(self, dtype=d.np) if d.is_floating_point and self.requires_grad \
            else Tensor._make(self.data_array.astype(d.np))

    def type_as(self, other):
        return self.type(other.dtype)

    float = lambda self: self.type(dtypes.float32)  # noqa: E731
    double = lambda self: self.type(dtypes.float64)  # noqa: E731
    half = lambda self: self.type(dtypes.float16)  # noqa: E731
    long = lambda self: self.type(dtypes.int64)  # noqa: E731
    int = lambda self: self.type(dtypes.int32)  # noqa: E731
    bool = lambda self: self.type(dtypes.bool)  # noqa: E731

    # ---- autograd ---------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None) -> None:
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
        if gradient is None:
            if self.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            grad = xp.ones(self.data_array.shape, dtype=self.data_array.dtype)
        else:
            grad = xp.asarray(gradient.data_array if isinstance(gradient, Tensor) else gradient,
                              dtype=self.data_array.dtype)
            if grad.shape != self.data_array.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                                   f"{Size(grad.shape)} and output[0] has a shape of "
                                   f"{self.shape}.")
        run_backward(self, grad, retain_graph=builtins.bool(retain_graph))

    def _accumulate_grad(self, g) -> None:
        """Leaves accumulate gradients across backward calls, as in torch."""
        if self.grad is None:
            self.grad = Tensor._make(xp.array(g, dtype=self.data_array.dtype, copy=True))
        else:
            self.grad.data_array = self.grad.data_array + g

    # ---- in-place (only outside autograd, as optimizers and init use them) -------------
    def _check_inplace(self):
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation." if self.is_leaf else
                               "in-place operations on tensors that are part of a graph are not "
                               "supported by npconv; use the out-of-place op instead")

    def _inplace(self, value) -> "Tensor":
        self._check_inplace()
        self.data_array[...] = value
        self._bump_version()
        return self

    def copy_(self, src) -> "Tensor":
        src = src.data_array if isinstance(src, Tensor) else xp.asarray(src)
        return self._inplace(xp.broadcast_to(src, self.data_array.shape))

    def zero_(self):
        return self._inplace(0)

    def fill_(self, value):
        return self._inplace(value)

    def add_(self, other, alpha=1):
        return self._inplace(self.data_array + alpha * _array(other))

    def sub_(self, other, alpha=1):
        return self._inplace(self.data_array - alpha * _array(other))

    def mul_(self, other):
        return self._inplace(self.data_array * _array(other))

    def div_(self, other):
        return self._inplace(self.data_array / _array(other))

    def uniform_(self, a=0.0, b=1.0, generator=None):
        """Fill with draws from U[a, b), in place (torch's ``from``/``to`` are ``a``/``b``)."""
        if not self.is_floating_point():
            raise dtypes.not_implemented_for("check_uniform_bounds", self.dtype,
                                             "uniform_ fills floating-point tensors only")
        if a > b:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={a:g} > to={b:g} (swap the bounds)")
        rng = (generator or default_generator()).numpy_rng
        return self._inplace(rng.uniform(a, b, self.data_array.shape))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        """Fill with draws from N(mean, std^2), in place."""
        if not self.is_floating_point():
            raise dtypes.not_implemented_for("normal_kernel_cpu", self.dtype,
                                             "normal_ fills floating-point tensors only")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g} (a standard "
                               "deviation is never negative)")
        rng = (generator or default_generator()).numpy_rng
        return self._inplace(rng.normal(mean, std, self.data_array.shape))

    # ---- arithmetic ---------------------------------------------------------------------
    def _operand(self, other) -> "Tensor":
        """Wrap a scalar/array as a tensor; Python numbers take this tensor's dtype (torch's
        type promotion for scalars: float32 + 1.5 stays float32, int64 + 1.5 becomes float32)."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, numbers.Number) and not isinstance(other, xp.ndarray):
            d = self.data_array.dtype
            if isinstance(other, builtins.float) and d.kind in "biu":
                d = dtypes.get_default_dtype().np
            elif isinstance(other, builtins.bool) or d.kind == "b":
                d = xp.result_type(d, type(other))
            return Tensor._make(xp.asarray(other, dtype=d))
        return Tensor._make(xp.asarray(other))

    def _pair(self, other):
        """(self, other) as tensors; an integer tensor meeting a float scalar becomes float."""
        other = self._operand(other)
        if self.data_array.dtype.kind in "biu" and other.data_array.dtype.kind == "f":
            return self.type(other.dtype), other
        return self, other

    def __add__(self, o): return M.Add.apply(*self._pair(o))
    def __radd__(self, o): return M.Add.apply(*reversed(self._pair(o)))
    def __sub__(self, o): return M.Sub.apply(*self._pair(o))
    def __rsub__(self, o): return M.Sub.apply(*reversed(self._pair(o)))
    def __mul__(self, o): return M.Mul.apply(*self._pair(o))
    def __rmul__(self, o): return M.Mul.apply(*reversed(self._pair(o)))

    def __truediv__(self, o):
        a = self if self.dtype.is_floating_point else self.type(dtypes.get_default_dtype())
        return M.Div.apply(*a._pair(o))

    def __rtruediv__(self, o):
        a = self if self.dtype.is_floating_point else self.type(dtypes.get_default_dtype())
        return M.Div.apply(*reversed(a._pair(o)))

    def __pow__(self, o): return M.Pow.apply(*self._pair(o))
    def __rpow__(self, o): return M.Pow.apply(*reversed(self._pair(o)))
    def __neg__(self): return M.Neg.apply(self)
    def __pos__(self): return self
    def __abs__(self): return M.Abs.apply(self)
    def __matmul__(self, o): return M.MatMul.apply(self, self._operand(o))
    def __rmatmul__(self, o): return M.MatMul.apply(self._operand(o), self)

    def __iadd__(self, o):
        return self.add_(o) if not (self.requires_grad or getattr(o, "requires_grad", False)) \
            else self + o

    def __isub__(self, o):
        return self.sub_(o) if not (self.requires_grad or getattr(o, "requires_grad", False)) \
            else self - o

    def __imul__(self, o):
        return self.mul_(o) if not (self.requires_grad or getattr(o, "requires_grad", False)) \
            else self * o

    def _compare(self, o, op):
        return Tensor._make(op(self.data_array, _array(o)))

    def __eq__(self, o): return self._compare(o, xp.equal)
    def __ne__(self, o): return self._compare(o, xp.not_equal)
    def __lt__(self, o): return self._compare(o, xp.less)
    def __le__(self, o): return self._compare(o, xp.less_equal)
    def __gt__(self, o): return self._compare(o, xp.greater)
    def __ge__(self, o): return self._compare(o, xp.greater_equal)
    __hash__ = object.__hash__

    def __invert__(self): return Tensor._make(~self.data_array)
    def __and__(self, o): return self._compare(o, xp.logical_and)
    def __or__(self, o): return self._compare(o, xp.logical_or)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    add, sub, mul, div, matmul, pow = __add__, __sub__, __mul__, __truediv__, __matmul__, __pow__
    mm = matmul

    def equal(self, other) -> bool:
        return self.shape == other.shape and builtins.bool((self.data_array == other.data_array).all())

    def exp(self): return M.Exp.apply(self)
    def log(self): return M.Log.apply(self)
    def sqrt(self): return M.Pow.apply(self, self._operand(0.5))
    def abs(self): return M.Abs.apply(self)
    def relu(self): return M.ReLU.apply(self)
    def sigmoid(self): return M.Sigmoid.apply(self)
    def tanh(self): return M.Tanh.apply(self)

    def clamp(self, min=None, max=None):
        return M.Clamp.apply(self, min=min, max=max)

    clip = clamp

    def softmax(self, dim, dtype=None):
        return self._softmax(N.Softmax, "softmax", dim, dtype)

    def log_softmax(self, dim, dtype=None):
        return self._softmax(N.LogSoftmax, "log_softmax", dim, dtype)

    def _softmax(self, op, name, dim, dtype):
        """op along the checked dim, after the optional cast to dtype; a 0-d tensor acts as 1-d.
        Integer and bool inputs are refused as torch refuses them (it has no such kernel)."""
        x = self if dtype is None else self.to(dtypes.as_dtype(dtype))
        ndim = builtins.max(x.dim(), 1)
        dim = M.wrap_dim(dim, ndim)
        if not x.dtype.is_floating_point:
            kernel = f"{name}_lastdim_kernel_impl" if dim == ndim - 1 else f"{name}_kernel_impl"
            raise dtypes.not_implemented_for(kernel, x.dtype,
                                             f"{name} computes in floating point: convert the "
                                             "input with .float(), or pass dtype=npconv.float32")
        if x.dim() == 0:
            return op.apply(x.reshape(1), dim=dim).reshape(())
        return op.apply(x, dim=dim)

    # ---- reductions -------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None):
        np_dtype = dtypes.as_dtype(dtype).np if dtype is not None else (
            xp.int64 if self.data_array.dtype.kind in "biu" else None)
        return M.Sum.apply(self, dim=dim, keepdim=keepdim, dtype=np_dtype)

    def mean(self, dim=None, keepdim=False):
        if not self.dtype.is_floating_point:
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                               f"a floating point or complex dtype. Got: {self.dtype.legacy_name}")
        return M.Mean.apply(self, dim=dim, keepdim=keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False):
        centered = self - self.mean(dim, keepdim=True)
        n = self.numel() if dim is None else int(xp.prod([self.shape[d] for d in M.reduction_axes(dim, self.dim())]))
        return (centered * centered).sum(dim, keepdim=keepdim) / builtins.max(n - builtins.int(unbiased), 1)

    def std(self, dim=None, unbiased=True, keepdim=False):
        return self.var(dim, unbiased, keepdim).sqrt()

    def _reduce_dim(self, dim, keepdim, largest):
        return M.MaxDim.apply(self, dim=dim, keepdim=keepdim, largest=largest)

    def max(self, dim=None, keepdim=False):
        if dim is None:
            return M.Amax.apply(self)
        if isinstance(dim, Tensor):
            return Tensor._make(xp.maximum(self.data_array, dim.data_array))
        values = self._reduce_dim(dim, keepdim, True)
        return MaxResult(values, self.argmax(dim, keepdim))

    def min(self, dim=None, keepdim=False):
        if dim is None:
            return -M.Amax.apply(-self)
        values = self._reduce_dim(dim, keepdim, False)
        return MaxResult(values, self.argmin(dim, keepdim))

    def amax(self, dim=None, keepdim=False):
        return M.Amax.apply(self, dim=dim, keepdim=keepdim)

    def argmax(self, dim=None, keepdim=False):
        a = self.data_array
        if dim is None:
            return Tensor._make(xp.asarray(a.argmax(), dtype=xp.int64))
        return Tensor._make(a.argmax(axis=dim, keepdims=keepdim).astype(xp.int64))

    def argmin(self, dim=None, keepdim=False):
        a = self.data_array
        if dim is None:
            return Tensor._make(xp.asarray(a.argmin(), dtype=xp.int64))
        return Tensor._make(a.argmin(axis=dim, keepdims=keepdim).astype(xp.int64))

    def all(self):
        return Tensor._make(xp.asarray(self.data_array.all()))

    def any(self):
        return Tensor._make(xp.asarray(self.data_array.any()))

    # ---- shape ------------------------------------------------------------------------
    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
            return Tensor._make(self.data_array.view(shape[0].np), base=self)
        shape = shape_args(shape)
        return S.Reshape.apply(self, shape=_resolve_shape(shape, self.numel()))

    reshape = view

    def view_as(self, other):
        return self.view(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim=0, end_dim=-1):
        shape = self.shape
        if not shape:
            return self.reshape(1)
        start, end = start_dim % len(shape), end_dim % len(shape)
        return self.reshape(*shape[:start], -1, *shape[end + 1:])

    def unsqueeze(self, dim):
        shape = list(self.shape)
        shape.insert(dim % (len(shape) + 1), 1)
        return self.reshape(shape)

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape([s for s in self.shape if s != 1])
        shape = list(self.shape)
        if shape and shape[dim] == 1:
            del shape[dim]
        return self.reshape(shape)

    def permute(self, *dims):
        return S.Permute.apply(self, dims=tuple(d % self.dim() for d in shape_args(dims)))

    def transpose(self, dim0, dim1):
        dims = list(range(self.dim()))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return self.permute(dims)

    def t(self):
        return self.transpose(0, 1) if self.dim() == 2 else self

    @property
    def T(self):
        return self.permute(tuple(reversed(range(self.dim()))))

    def expand(self, *shape):
        shape = tuple(o if s == -1 else s for s, o in zip(shape_args(shape), self.shape))
        return S.Expand.apply(self, shape=shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def __getitem__(self, key):
        parts = key if isinstance(key, tuple) else (key,)
        index_tensors = [k for k in parts if isinstance(k, Tensor)]  # saved, so version-checked
        return S.Index.apply(self, *index_tensors, key=_index_key(key))

    def __setitem__(self, key, value):
        self._check_inplace()
        self.data_array[_index_key(key)] = _array(value)
        self._bump_version()

    def __len__(self):
        if self.dim() == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data_array.shape[0]

    def __iter__(self):
        if self.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return _format(self)


def _array(value):
    return value.data_array if isinstance(value, Tensor) else value


def _index_key(key):
    if isinstance(key, tuple):
        return tuple(_array(k) for k in key)
    return _array(key)


def shape_args(shape):
    """A size given as separate ints (2, 3) or as one sequence ((2, 3)) -> a tuple."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        return tuple(shape[0])
    return tuple(shape)


def _resolve_shape(shape, numel):
    shape = tuple(builtins.int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = int(xp.prod([s for s in shape if s != -1], dtype=xp.int64))
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _float_formatter(a):
    """torch's float printing: integral values as '1.', else 4 decimals, or 4-digit scientific
    when the magnitudes span > 1000x, exceed 1e8 or go below 1e-4; right-aligned to one width."""
    finite = xp.abs(a[xp.isfinite(a)]).astype(xp.float64)
    nonzero = finite[finite != 0]
    if finite.size and (finite == xp.round(finite)).all() and finite.max() < 1e8:
        fmt = "{:.0f}."
    elif nonzero.size and (nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8
                           or nonzero.min() < 1e-4):
        fmt = "{:.4e}"
    else:
        fmt = "{:.4f}"

    def text(v):
        return fmt.format(v) if xp.isfinite(v) else str(v)

    width = max((len(text(v)) for v in a.ravel()), default=0)
    return lambda v: text(v).rjust(width)


def _format(t: Tensor) -> str:
    """torch-like repr: tensor([...]) with dtype/grad_fn/requires_grad suffixes."""
    a = t.data_array
    formatter = {"float_kind": _float_formatter(a)} if a.dtype.kind == "f" else None
    body = xp.array2string(a, separator=", ", prefix="tensor(", formatter=formatter,
                           threshold=1000, edgeitems=3, max_line_width=80)
    suffix = []
    default = dtypes.get_default_dtype()
    if t.dtype not in (default, dtypes.int64, dtypes.bool) or (a.size == 0 and t.dtype != default):
        suffix.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + s for s in suffix) + ")"
