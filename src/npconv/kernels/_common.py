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


def tiles(n, rows, bytes_per_row, budget, split_bytes_per_row=None):
    """(items, band, [(item slice, row slice)]): tiles of at most `items` items by `band` rows
    covering n items of `rows` rows. Whole items are chunked as by chunks() (bytes_per_row per
    row of one item) unless one item's rows * split_bytes_per_row (default bytes_per_row: the
    part that must fit) exceed budget; then each item is cut into bands of nearly equal height
    whose bytes_per_row fit in budget (at least one row each)."""
    split = bytes_per_row if split_bytes_per_row is None else split_bytes_per_row
    if rows * split <= budget:
        step, item_chunks = chunks(n, rows * bytes_per_row, budget)
        return step, rows, [(sl, slice(0, rows)) for sl in item_chunks]
    count = -(-rows // max(1, budget // max(1, bytes_per_row)))
    bands = [slice(k * rows // count, (k + 1) * rows // count) for k in range(count)]
    return 1, -(-rows // count), [(slice(i, i + 1), rs) for i in range(n) for rs in bands]
