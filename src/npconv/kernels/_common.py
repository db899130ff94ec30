"""Helpers shared by the array kernels (conv algorithms, pooling)."""
from __future__ import annotations

from npconv._backend import xp


def compute_dtype(dtype):
    """float16 is accumulated in float32 (as torch's CPU conv does); other dtypes compute as
    themselves."""
    return xp.float32 if dtype == xp.float16 else dtype


def chunks(n, bytes_per_item, budget):
    """(step, slices of step items out of n) so that a chunk's buffers stay under budget bytes
    (at least one item per slice)."""
    step = max(1, min(n, budget // max(1, bytes_per_item)))
    return step, [slice(lo, min(lo + step, n)) for lo in range(0, n, step)]
