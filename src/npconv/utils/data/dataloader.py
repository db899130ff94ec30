"""DataLoader, samplers and default_collate, as in torch.utils.data (single process).

A batch is fetched with ``dataset.__getitems__(indices)`` when the dataset has it (torch's hook),
else with one ``dataset[i]`` per index, and then collated. A dataset whose ``__getitems__`` builds
the batch in one vectorized step returns a ``StackedBatch``, which default_collate takes as it is
instead of splitting and restacking it: that is what makes an MNIST epoch cheap.
"""
from __future__ import annotations

import collections.abc
import itertools
import math

import numpy as np

from npconv.creation import from_numpy, stack
from npconv.random import default_generator
from npconv.tensor import Tensor

__all__ = ["BatchSampler", "DataLoader", "RandomSampler", "Sampler", "SequentialSampler",
           "StackedBatch", "default_collate"]


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


class Sampler:
    """Iterates over dataset indices; subclasses define __iter__ and usually __len__."""

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh permutation of the indices each epoch, drawn from ``generator``.

    Two samplers whose generators were seeded alike give the same sequence of epochs; without a
    generator the default one is used, so ``npconv.manual_seed`` makes shuffling reproducible.
    """

    def __init__(self, data_source, generator=None) -> None:
        self.data_source = data_source
        self.generator = generator

    def __iter__(self):
        rng = (self.generator or default_generator()).numpy_rng
        return iter(rng.permutation(len(self.data_source)).tolist())

    def __len__(self) -> int:
        return len(self.data_source)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``."""

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return math.ceil(len(self.sampler) / self.batch_size)


class DataLoader:
    """Iterate over ``dataset`` in batches, like torch.utils.data.DataLoader.

    Loading always happens in this process: ``num_workers`` and ``pin_memory`` are accepted so
    torch code runs unchanged, but batched fetching (``__getitems__``) is what keeps it fast.
    ``batch_size=None`` (no automatic batching) is not supported.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, *,
                 generator=None) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        else:
            batch_size = None  # the batch sampler decides, as in torch
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self.generator = generator

    def __iter__(self):
        getitems = getattr(self.dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            samples = getitems(indices) if getitems else [self.dataset[i] for i in indices]
            yield self.collate_fn(samples)

    def __len__(self) -> int:
        return len(self.batch_sampler)
