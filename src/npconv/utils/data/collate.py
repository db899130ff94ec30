"""default_collate and default_convert, as in torch.utils.data._utils.collate.

A dataset whose ``__getitems__`` builds a batch in one vectorized step returns a
``StackedBatch``, which default_collate takes as it is instead of splitting and restacking it:
that is what makes an MNIST epoch cheap.
"""
from __future__ import annotations

import collections.abc

import numpy as np

from npconv.creation import from_numpy, stack
from npconv.tensor import Tensor

__all__ = ["StackedBatch", "default_collate", "default_convert"]


class StackedBatch(collections.abc.Sequence):
    """Samples fetched together, held as stacked columns (one per field of a sample).

    A column is a Tensor or ndarray whose rows are the samples' fields, or a list of Python
    values (e.g. int labels). Indexing gives per-sample tuples, so a custom collate_fn sees what
    torch's ``__getitems__`` contract promises; default_collate uses the columns directly.
    """

    def __init__(self, *columns):
        self.columns = columns

    def __len__(self) -> int:
        return len(self.columns[0])

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(len(self))[i]]
        return tuple(column[i] for column in self.columns)

    def collated(self) -> list:
        """What default_collate would make of the samples: one batched tensor per field."""
        return [_collate_column(column) for column in self.columns]


def _collate_column(column):
    if isinstance(column, Tensor):
        return column
    if isinstance(column, np.ndarray):
        return from_numpy(column)
    return default_collate(column)


_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                  "lists; found {}")


def default_collate(batch):
    """Merge a list of samples into a batch the way torch's default_collate does.

    Tensors and ndarrays are stacked along a new dim 0, ints become an int64 tensor (bools a bool
    tensor), floats a float64 tensor, strings stay a list, and tuples/lists/dicts are collated
    field by field (a tuple of fields comes back as a list, as in torch).
    """
    if isinstance(batch, StackedBatch):
        return batch.collated()
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, (np.ndarray, np.generic)) and not isinstance(elem, (np.str_, np.bytes_)):
        if elem.dtype.kind in "OSUV":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return from_numpy(np.stack(batch) if isinstance(elem, np.ndarray) else
                                 np.asarray(batch))
    if isinstance(elem, float):
        return from_numpy(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, int):
        return from_numpy(np.asarray(batch))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(fields)
        except TypeError:  # a mapping type that cannot be built from a dict
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_COLLATE_ERROR.format(type(elem)))



def default_convert(data):
    """One sample as the DataLoader gives it without batching (``batch_size=None``): ndarrays
    and NumPy scalars become tensors, containers are converted field by field, the rest is
    left as it is (torch's default_convert)."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSUV":
        return from_numpy(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return from_numpy(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        fields = {key: default_convert(data[key]) for key in data}
        try:
            return type(data)(fields)
        except TypeError:
            return fields
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
