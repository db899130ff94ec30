"""get_worker_info and WorkerInfo, as in torch.utils.data (see DataLoader on num_workers).

npconv's workers take turns in this process, so "the current worker" is simply the one whose
code is running: ``worker_running(info)`` marks it while its worker_init_fn or its fetching runs.
"""
from __future__ import annotations

import contextlib
__all__ = ["WorkerInfo", "get_worker_info"]

_current = None


class WorkerInfo:
    """What a worker knows about itself: its ``id`` in [0, num_workers), the ``seed`` torch
    would give it (base seed + id) and its own shallow copy of the ``dataset``. Read-only."""

    def __init__(self, id: int, num_workers: int, seed: int, dataset) -> None:
        for name, value in (("id", id), ("num_workers", num_workers), ("seed", seed),
                            ("dataset", dataset)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value) -> None:
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self) -> str:
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={self.dataset!r})")


def get_worker_info():
    """The WorkerInfo of the worker running now, or None in the main process (torch's API:
    an IterableDataset uses it to shard its stream across workers)."""
    return _current


@contextlib.contextmanager
def worker_running(info: WorkerInfo):
    """Make ``info`` what get_worker_info() returns until the block ends."""
    global _current
    outer, _current = _current, info
    try:
        yield
    finally:
        _current = outer
