"""F.pad with torch's modes and checks; the arithmetic is in npconv.kernels.pad."""
from __future__ import annotations

from npconv.autograd.conv_ops import Pad
from npconv.tensor import Tensor

_MODES = ("constant", "reflect", "replicate", "circular")


def _check_pad(input: Tensor, pad: tuple, mode: str, value) -> None:
    if len(pad) % 2:
        raise RuntimeError(f"Padding length must be divisible by 2 (got pad={pad}; give a "
                           "(before, after) pair per padded dimension, last dimension first)")
    if len(pad) // 2 > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.dim()}")
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode} (expected one of "
                                  f"{', '.join(_MODES)})")
    if mode == "constant":
        return
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    n = len(pad) // 2
    if n > 3 or input.dim() not in (n + 1, n + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for "
                                  f"{input.dim()}D input tensor. (npconv pads the last 1, 2 or 3 "
                                  f"dimensions of a {n + 1}D or {n + 2}D input in mode '{mode}')")
    for i in range(n):
        dim = input.dim() - 1 - i
        size, lo, hi = input.shape[dim], pad[2 * i], pad[2 * i + 1]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(f"Argument #{4 + 2 * i}: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({lo}, {hi}) at "
                               f"dimension {dim} of input {list(input.shape)}")
        if mode == "circular" and (lo > size or hi > size):
            raise RuntimeError("Padding value causes wrapping around more than once. (circular "
                               f"padding ({lo}, {hi}) at dimension {dim} is larger than its size "
                               f"{size})")
        if mode == "replicate" and size == 0:
            raise RuntimeError(f"Expected a non-empty dimension {dim} to replicate, but got input "
                               f"of size {list(input.shape)}")


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad the last len(pad)//2 dimensions: pad = (last_lo, last_hi, prev_lo, prev_hi, ...)."""
    pad = tuple(int(p) for p in pad)
    _check_pad(input, pad, mode, value)
    return Pad.apply(input, pads=pad, mode=mode, value=0.0 if value is None else value)
