"""The shared argument form of the design tools: an int, or one int per spatial axis."""
from __future__ import annotations

import numbers
import operator

from npconv.kernels.geometry import ntuple

AXIS_NAMES = {1: ("positions",), 2: ("rows", "columns"), 3: ("planes", "rows", "columns")}


def axes(*values) -> tuple[int, bool]:
    """(number of spatial axes, whether every argument was a single int): the length of the
    longest tuple or list argument, else 1; torch's layers have 1, 2 or 3 axes."""
    lengths = [len(v) for v in values if isinstance(v, (tuple, list))]
    n = max(lengths, default=1)
    if not 1 <= n <= 3:
        raise ValueError(f"npconv.analysis takes 1, 2 or 3 spatial axes, as torch's conv and "
                         f"pooling layers (got arguments with {n} values)")
    return n, not lengths


def sizes(name: str, value, n: int) -> tuple[int, ...]:
    """A size argument as n positive ints (an int repeats on every axis)."""
    values = ntuple(value, n)
    if len(values) != n or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                   and v >= 1 for v in values):
        raise ValueError(f"{name} must be a positive int or a tuple of {n} positive ints, one per "
                         f"spatial axis as the other arguments have (got {name}={value!r})")
    return tuple(map(operator.index, values))


def check_length(name: str, value, n: int) -> None:
    """A per-axis argument given as a tuple has n values (a layer would get a weight of
    another rank)."""
    if isinstance(value, (tuple, list)) and len(value) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, one per spatial axis as "
                         f"the other arguments have (got {name}={value!r})")


def form(values: tuple, scalar: bool):
    """An int if the arguments were ints, else the per-axis tuple."""
    return values[0] if scalar else tuple(values)


def by(values) -> str:
    """(28, 28) -> '28 x 28'."""
    return " x ".join(map(str, values))
