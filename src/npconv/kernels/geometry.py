"""Convolution and pooling geometry over any number of spatial axes, each formula written once.

Conv, transposed conv, unfold/fold and pooling layers, their kernels and the design tools all
read these objects. Per axis, with input size i, kernel k, stride s, padding p_lo + p_hi,
dilation d and the dilated kernel k' = d(k - 1) + 1:

    conv              o = floor((i + p_lo + p_hi - k') / s) + 1
    transposed conv   o = (i - 1) s - p_lo - p_hi + k' + output_padding
    pooling           o = floor or ceil((i + 2p - k') / s) + 1, in ceil_mode minus one when the
                      last window would start in the right padding
    adaptive pooling  window j of o over i cells: [floor(j i / o), ceil((j + 1) i / o))

Specs hold already validated values (the nn.functional layer raises torch's errors); every
per-axis field is a tuple of one entry per spatial axis, padding a (lo, hi) pair per axis.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass


def ntuple(value, n: int) -> tuple:
    """torch's _ntuple: an iterable passes through as a tuple, anything else is repeated n
    times (lengths are checked by the callers, which know the argument's name)."""
    if isinstance(value, Iterable) and not isinstance(value, str):
        return tuple(value)
    return (value,) * n


def _single(value) -> tuple:
    return ntuple(value, 1)


def _pair(value) -> tuple:
    return ntuple(value, 2)


def _triple(value) -> tuple:
    return ntuple(value, 3)


def dilated_kernel(k: int, d: int) -> int:
    """Extent of a dilated kernel: d(k - 1) + 1."""
    return d * (k - 1) + 1


def conv_output_size(i: int, k: int, s: int, lo: int, hi: int, d: int) -> int:
    """o = floor((i + p_lo + p_hi - d(k - 1) - 1) / s) + 1 (below 1 when no window fits)."""
    return (i + lo + hi - dilated_kernel(k, d)) // s + 1


def conv_transpose_output_size(i: int, k: int, s: int, lo: int, hi: int, d: int,
                               output_padding: int = 0) -> int:
    """o = (i - 1) s - p_lo - p_hi + d(k - 1) + 1 + output_padding: the input size of the conv
    whose backward this is (output_padding picks among the s sizes that conv maps onto i)."""
    return (i - 1) * s - lo - hi + dilated_kernel(k, d) + output_padding


def pool_output_size(i: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """o = floor((i + 2p - d(k - 1) - 1 + (s - 1 if ceil_mode)) / s) + 1; in ceil_mode the last
    window must start inside the input or the left padding, so o drops by one when
    (o - 1) s >= i + p (torch's pooling_output_shape)."""
    o = (i + 2 * p - dilated_kernel(k, d) + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= i + p:
        o -= 1
    return o


def pool_extent(i: int, o: int, k: int, s: int, p: int, d: int) -> int:
    """Length of the padded axis that o pooling windows read: the input after its left padding,
    p + i, or as far as the last window reaches, (o - 1) s + d(k - 1) + 1, if that is further
    (into the right padding, or in ceil_mode past it)."""
    return max(p + i, (o - 1) * s + dilated_kernel(k, d))


def same_padding(k: int, d: int) -> tuple[int, int]:
    """(lo, hi) of padding='same' at stride 1: total d(k - 1), the odd extra cell at the end
    (bottom/right), as torch."""
    total = d * (k - 1)
    return total // 2, total - total // 2


def adaptive_window(j: int, i: int, o: int) -> tuple[int, int]:
    """[start, end) of adaptive pooling window j of o over i cells:
    start = floor(j i / o), end = ceil((j + 1) i / o)."""
    return j * i // o, -(-(j + 1) * i // o)


class _Windows:
    """What conv and pooling specs share: windows of kernel_size cells, dilation apart."""

    kernel_size: tuple[int, ...]
    dilation: tuple[int, ...]

    @property
    def ndim(self) -> int:
        """The number of spatial axes."""
        return len(self.kernel_size)

    @property
    def dilated_kernel(self) -> tuple[int, ...]:
        return tuple(map(dilated_kernel, self.kernel_size, self.dilation))


@dataclass(frozen=True)
class ConvSpec(_Windows):
    """One conv (or transposed conv) layer's geometry.

    kernel_size, stride, dilation and output_padding have one int per spatial axis; padding
    one (lo, hi) pair per axis, so that 'same' with an even dilated kernel can put its extra
    cell at the end, as torch does. padding_mode says how the padding is filled ('zeros',
    'reflect', 'replicate', 'circular'). For a transposed conv the spec describes the conv
    whose adjoint it is: same stride, padding and dilation, plus output_padding.
    """

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    groups: int = 1
    padding_mode: str = "zeros"
    transposed: bool = False
    output_padding: tuple[int, ...] = ()

    def __post_init__(self):
        n = len(self.kernel_size)
        if not self.output_padding:
            object.__setattr__(self, "output_padding", (0,) * n)
        lengths = {len(self.stride), len(self.padding), len(self.dilation),
                   len(self.output_padding)}
        if lengths != {n}:
            raise ValueError(f"ConvSpec fields must have one entry per spatial axis: {self}")

    def padded_size(self, size) -> tuple[int, ...]:
        """i + p_lo + p_hi per axis."""
        return tuple(i + lo + hi for i, (lo, hi) in zip(size, self.padding))

    def conv_output_size(self, size) -> tuple[int, ...]:
        """The conv's output size for an input of spatial size `size` (see conv_output_size)."""
        return tuple(conv_output_size(i, k, s, lo, hi, d) for i, k, s, (lo, hi), d
                     in zip(size, self.kernel_size, self.stride, self.padding, self.dilation))

    def transposed_output_size(self, size) -> tuple[int, ...]:
        """The transposed conv's output size for input `size` (see conv_transpose_output_size)."""
        return tuple(conv_transpose_output_size(i, k, s, lo, hi, d, op)
                     for i, k, s, (lo, hi), d, op in zip(size, self.kernel_size, self.stride,
                                                         self.padding, self.dilation,
                                                         self.output_padding))

    def output_size(self, size) -> tuple[int, ...]:
        """What this layer produces from spatial size `size`: the conv's or the transposed
        conv's output size."""
        return self.transposed_output_size(size) if self.transposed else \
            self.conv_output_size(size)

    @property
    def pad_widths(self) -> tuple[int, ...]:
        """The padding in F.pad's order, last axis first: (last_lo, last_hi, ..., first_hi)."""
        return tuple(p for lo_hi in reversed(self.padding) for p in lo_hi)

    @property
    def symmetric(self) -> bool:
        return all(lo == hi for lo, hi in self.padding)

    @property
    def zero_padding(self) -> "ConvSpec":
        """The same conv on an input that was already padded by padding_mode."""
        return dataclasses.replace(self, padding=((0, 0),) * self.ndim, padding_mode="zeros")

    def with_padding(self, padding) -> "ConvSpec":
        return dataclasses.replace(self, padding=tuple(tuple(p) for p in padding))


@dataclass(frozen=True)
class PoolSpec(_Windows):
    """One (max or average) pooling layer's geometry, in ConvSpec's form: one int per axis,
    padding a (lo, hi) pair per axis (pooling pads symmetrically: lo == hi)."""

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    ceil_mode: bool = False

    def output_size(self, size) -> tuple[int, ...]:
        """Per axis pool_output_size."""
        return tuple(pool_output_size(i, k, s, lo, d, self.ceil_mode) for i, k, s, (lo, _), d
                     in zip(size, self.kernel_size, self.stride, self.padding, self.dilation))


@dataclass(frozen=True)
class AdaptivePoolSpec:
    """An adaptive pooling layer's geometry: the output size per axis (None keeps the input's);
    its windows depend on the input size (adaptive_window)."""

    output_size_: tuple

    @property
    def ndim(self) -> int:
        return len(self.output_size_)

    def output_size(self, size) -> tuple[int, ...]:
        return tuple(i if o is None else o for i, o in zip(size, self.output_size_))

    def windows(self, size) -> tuple[list[tuple[int, int]], ...]:
        """Per axis, the [start, end) of every output cell's window."""
        return tuple([adaptive_window(j, i, o) for j in range(o)]
                     for i, o in zip(size, self.output_size(size)))
