"""DataLoader, as torch.utils.data.DataLoader, with its arguments, checks and batch order.

A batch is fetched with ``dataset.__getitems__(indices)`` when the dataset has it (torch's hook),
else with one ``dataset[i]`` per index, and then collated; an IterableDataset is batched in the
order its stream gives samples.

``num_workers > 0`` keeps torch's visible semantics without child processes: the workers take
turns in this process. Each worker has its own shallow copy of the dataset (``get_worker_info()
.dataset``, so a ``worker_init_fn`` may shard it as torch's docs show) and its own random stream
seeded with ``base_seed + id``, as torch seeds its workers; ``worker_init_fn(id)`` runs once per
worker per epoch (once in all with ``persistent_workers``); batch i comes from worker
i % num_workers, and an iterable dataset's workers are read round-robin, an exhausted one being
skipped, which is the order torch yields. What is lost is only the parallel speed-up: batched
fetching (``__getitems__``) is what keeps npconv's loading fast.
"""
from __future__ import annotations

import contextlib
import copy
import itertools
import math
import multiprocessing
import warnings

import numpy as np

from npconv.random import Generator, default_generator
from npconv.utils.data.collate import default_collate, default_convert
from npconv.utils.data.dataset import IterableDataset
from npconv.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from npconv.utils.data.worker import WorkerInfo, worker_running

__all__ = ["DataLoader"]

_FIXED_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                     "persistent_workers")
_INT64_MIN, _INT64_LIMIT = -(2**63), 2**63


class _InfiniteConstantSampler(Sampler):
    """The sampler of an IterableDataset: None forever (the stream decides what comes)."""

    def __iter__(self):
        return itertools.repeat(None)


class DataLoader:
    """Iterate over ``dataset`` in batches, like torch.utils.data.DataLoader (see the module
    docstring for what ``num_workers`` does). ``pin_memory`` warns, as torch does without an
    accelerator, and changes nothing; ``timeout`` and ``prefetch_factor`` are checked as torch
    checks them and have nothing to wait for or prefetch."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value is not None and value is not False:
                    raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False  # the batch sampler decides, as in torch
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        _check_start_method(multiprocessing_context, num_workers)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_sampler is not None else default_convert)
        self._persistent = None  # the workers kept across epochs with persistent_workers
        self._initialized = True

    def __setattr__(self, name, value) -> None:
        if getattr(self, "_initialized", False) and name in _FIXED_AFTER_INIT:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} "
                             "is initialized (make a new DataLoader with the value you want)")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)
        return _LoaderIterator(self._batches(self._workers()), self)

    def _workers(self) -> list:
        """This epoch's workers; [None] (the main process) when num_workers == 0."""
        if self.num_workers == 0:
            return [None]
        if self._persistent is not None:
            return self._persistent
        base_seed = int((self.generator or default_generator()).numpy_rng.integers(
            _INT64_MIN, _INT64_LIMIT))
        workers = [_Worker(WorkerInfo(i, self.num_workers, base_seed + i,
                                      copy.copy(self.dataset))) for i in range(self.num_workers)]
        for worker in workers:
            with worker.running():
                if self.worker_init_fn is not None:
                    self.worker_init_fn(worker.info.id)
        if self.persistent_workers:
            self._persistent = workers
        return workers

    def _batches(self, workers):
        if isinstance(self.dataset, IterableDataset):
            yield from self._stream_batches(workers)
            return
        for i, index in enumerate(self._index_sampler):
            worker = workers[i % len(workers)]
            with _running(worker):
                batch = self._fetch(worker.info.dataset if worker else self.dataset, index)
            yield batch  # the consumer runs in the main process, outside the worker

    def _fetch(self, dataset, index):
        if not self._auto_collation:
            return self.collate_fn(dataset[index])
        getitems = getattr(dataset, "__getitems__", None)
        return self.collate_fn(getitems(index) if getitems else [dataset[i] for i in index])

    def _stream_batches(self, workers):
        """Round-robin over the workers' streams, dropping each as it runs dry."""
        streams = {}
        for worker in workers:
            with _running(worker):
                streams[worker] = iter(worker.info.dataset if worker else self.dataset)
        active = list(workers)
        while active:
            for worker in list(active):
                with _running(worker):
                    batch = self._next_stream_batch(streams[worker])
                if batch is _EXHAUSTED:
                    active.remove(worker)
                else:
                    yield batch

    def _next_stream_batch(self, stream):
        if not self._auto_collation:
            return next((self.collate_fn(sample) for sample in stream), _EXHAUSTED)
        samples = list(itertools.islice(stream, self.batch_size))
        if not samples or (self.drop_last and len(samples) < self.batch_size):
            return _EXHAUSTED
        return self.collate_fn(samples)

    def __len__(self) -> int:
        if not isinstance(self.dataset, IterableDataset):
            return len(self._index_sampler)
        length = len(self.dataset)  # TypeError if the stream has no length, as in torch
        if self.batch_size is None:
            return length
        return length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)


_EXHAUSTED = object()


class _LoaderIterator:
    """One epoch's batches; ``len()`` is the loader's, as for torch's iterator."""

    def __init__(self, batches, loader) -> None:
        self._batches = batches
        self._loader = loader

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._batches)

    def __len__(self) -> int:
        return len(self._loader)


class _Worker:
    """One in-process worker: its WorkerInfo and its own random stream (torch seeds a worker's
    generator with ``base_seed + id``), which replaces the default one while the worker runs."""

    def __init__(self, info: WorkerInfo) -> None:
        self.info = info
        self.numpy_rng = Generator().manual_seed(info.seed % 2**64).numpy_rng

    @contextlib.contextmanager
    def running(self):
        default = default_generator()
        outer, default.numpy_rng = default.numpy_rng, self.numpy_rng
        try:
            with worker_running(self.info):
                yield
        finally:
            self.numpy_rng, default.numpy_rng = default.numpy_rng, outer


def _running(worker):
    return contextlib.nullcontext() if worker is None else worker.running()


def _check_start_method(context, num_workers: int) -> None:
    if context is None:
        return
    if num_workers == 0:
        raise ValueError("multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")
    methods = multiprocessing.get_all_start_methods()
    if isinstance(context, str) and context not in methods:
        raise ValueError("multiprocessing_context option should specify a valid start method in "
                         f"{methods!r}, but got multiprocessing_context={context!r}")
    if not isinstance(context, (str, multiprocessing.context.BaseContext)):
        raise TypeError("multiprocessing_context option should be a valid context object or a "
                        f"string specifying the start method, but got "
                        f"multiprocessing_context={context}")
