"""Functions that make tensors: tensor, from_numpy, zeros, ones, randn, rand, arange, ..."""
from __future__ import annotations

import builtins
import operator

from npconv import dtypes
from npconv._backend import xp
from npconv.autograd import shape_ops as S
from npconv.device import check_device
from npconv.random import default_generator
from npconv.tensor import Tensor, _shape_args


def _np_dtype(dtype, fallback=None):
    if dtype is not None:
        return dtypes.as_dtype(dtype).np
    return fallback if fallback is not None else dtypes.get_default_dtype().np


def _finish(array, requires_grad=False, device=None) -> Tensor:
    if device is not None:
        check_device(device)
    return Tensor._make(array, requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Copy ``data`` into a new tensor; Python floats become the default dtype (float32)."""
    if isinstance(data, Tensor):
        data = data.data_array
    elif isinstance(data, (list, tuple)):
        data = [d.data_array if isinstance(d, Tensor) else d for d in data]
    array = xp.array(data)
    if dtype is None and array.dtype == xp.float64 and not isinstance(data, xp.ndarray):
        array = array.astype(dtypes.get_default_dtype().np)
    elif dtype is None and array.dtype.kind in "iu" and not isinstance(data, xp.ndarray):
        array = array.astype(xp.int64)
    if dtype is not None:
        array = array.astype(_np_dtype(dtype))
    return _finish(array, requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.as_dtype(dtype)):
        return data
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with ``array``."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtypes.as_dtype(array.dtype)
    return Tensor._make(array)


def _filled(fill, size, dtype, requires_grad, device):
    """A filled tensor; sizes are ints or index-like (numpy ints, True as 1, as torch takes)."""
    shape = tuple(map(operator.index, _shape_args(size)))
    if any(s < 0 for s in shape):
        first = next(s for s in shape if s < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {first}: "
                           f"{list(shape)} (every size must be >= 0)")
    return _finish(xp.full(shape, fill, dtype=_np_dtype(dtype)), requires_grad, device)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled(0, size, dtype, requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled(1, size, dtype, requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled(0, size, dtype, requires_grad, device)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None and isinstance(fill_value, builtins.bool):
        dtype = dtypes.bool
    elif dtype is None and isinstance(fill_value, builtins.int):
        dtype = dtypes.int64
    return _filled(fill_value, (size,), dtype, requires_grad, device)


def zeros_like(t, dtype=None, requires_grad=False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    rng = (generator or default_generator()).numpy_rng
    array = rng.standard_normal(_shape_args(size)).astype(_np_dtype(dtype))
    return _finish(array, requires_grad, device)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    rng = (generator or default_generator()).numpy_rng
    array = rng.random(_shape_args(size)).astype(_np_dtype(dtype))
    return _finish(array, requires_grad, device)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None) -> Tensor:
    if high is None:
        low, high = 0, low
    rng = (generator or default_generator()).numpy_rng
    return _finish(rng.integers(low, high, size=tuple(size)).astype(_np_dtype(dtype, xp.int64)),
                   device=device)


def randperm(n, generator=None, dtype=None, device=None) -> Tensor:
    rng = (generator or default_generator()).numpy_rng
    return _finish(rng.permutation(n).astype(_np_dtype(dtype, xp.int64)), device=device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    ints = all(isinstance(v, builtins.int) for v in (start, end, step))
    array = xp.arange(start, end, step, dtype=_np_dtype(dtype, xp.int64 if ints else None))
    return _finish(array, requires_grad, device)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(xp.linspace(start, end, steps, dtype=_np_dtype(dtype)), requires_grad, device)


def stack(tensors, dim=0) -> Tensor:
    return S.Stack.apply(*tensors, dim=dim)


def cat(tensors, dim=0) -> Tensor:
    return S.Cat.apply(*tensors, dim=dim)


concat = cat
