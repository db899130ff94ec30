"""The padding that gives a wanted conv output size, and TensorFlow's 'same' at any stride.

Per axis the conv output is o = floor((i + P - k') / s) + 1 with total padding P and dilated
kernel k' = d(k - 1) + 1, so exactly the totals P in [(o - 1) s + k' - i, (o - 1) s + k' - i
+ s - 1] give o; the floor makes every output o >= floor((i - k') / s) + 1 (P >= 0) reachable.
"""
from __future__ import annotations

from dataclasses import dataclass

from npconv.analysis._args import AXIS_NAMES, axes, by, check_length, form, sizes
from npconv.kernels.geometry import ConvSpec, conv_output_size, dilated_kernel
from npconv.nn.functional.conv import check_window, conv_spec


@dataclass(frozen=True)
class PaddingSolution:
    """padding: what nn.Conv*d(padding=...) takes when every axis pads symmetrically (an int
    for int arguments), else None; pads: (lo, hi) per axis; pad_call: when some axis is
    asymmetric, the F.pad call (last axis first) to run before a conv with padding=0."""

    padding: int | tuple | None
    pads: tuple[tuple[int, int], ...]
    pad_call: str | None
    output_size: int | tuple
    explanation: str

    def __str__(self) -> str:
        return self.explanation


def _spec(in_size, kernel_size, stride, dilation, *more):
    """(ConvSpec with zero padding, input sizes, scalar), refused as F.conv*d refuses them."""
    n, scalar = axes(in_size, kernel_size, stride, dilation, *more)
    check_length("kernel_size", kernel_size, n)
    spec = conv_spec(n, kernel_size, stride, 0, dilation)
    check_window(n, spec)
    return spec, sizes("in_size", in_size, n), scalar


def _least(i, o, k, s, d) -> int:
    """The smallest total padding P (maybe negative) with floor((i + P - k') / s) + 1 = o."""
    return (o - 1) * s + dilated_kernel(k, d) - i


def _solution(spec: ConvSpec, size, out, totals, scalar, notes) -> PaddingSolution:
    pads = tuple((p // 2, p - p // 2) for p in totals)
    solved = spec.with_padding(pads)
    symmetric = solved.symmetric
    padding = form(tuple(lo for lo, _ in pads), scalar) if symmetric else None
    pad_call = None if symmetric else f"F.pad(x, {solved.pad_widths})"
    n = spec.ndim
    head = (f"input {by(size)}, kernel {by(spec.kernel_size)}, stride {by(spec.stride)}, "
            f"dilation {by(spec.dilation)} -> output {by(out)}")
    use = (f"use nn.Conv{n}d(..., padding={padding})" if symmetric else
           f"use {pad_call}, then nn.Conv{n}d(..., padding=0) (the extra cell at the end, as "
           "torch's padding='same')")
    return PaddingSolution(padding, pads, pad_call, form(tuple(out), scalar),
                           "\n".join([head, *notes, use]))


def solve_padding(in_size, out_size, kernel_size, stride=1, dilation=1) -> PaddingSolution:
    """The padding per axis that makes a conv give out_size: the smallest symmetric padding
    that does, else the smallest total padding with its odd cell at the end (lo, lo + 1).
    ValueError, naming the reachable sizes, when no padding >= 0 gives out_size."""
    spec, size, scalar = _spec(in_size, kernel_size, stride, dilation, out_size)
    out = sizes("out_size", out_size, spec.ndim)
    totals, notes = [], []
    for name, i, o, k, s, d in zip(AXIS_NAMES[spec.ndim], size, out, spec.kernel_size,
                                   spec.stride, spec.dilation):
        least = _least(i, o, k, s, d)
        most = least + s - 1
        if most < 0:
            smallest = conv_output_size(i, k, s, 0, 0, d)
            raise ValueError(
                f"no padding gives output size {o} on {name}: o = floor(({i} + P - {d}*({k}-1) "
                f"- 1) / {s}) + 1 = {o} needs a total padding P in {least}..{most}, below 0; "
                f"with no padding the output is already {smallest}, and padding only adds to "
                f"it, so the reachable sizes are {smallest} and up. Crop the input (F.pad with "
                "negative values), or use a larger stride, kernel_size or dilation")
        low = max(least, 0)
        even = low + low % 2
        total = even if even <= most else low
        notes.append(f"  {name}: o = floor(({i} + P - {d}*({k}-1) - 1) / {s}) + 1 = {o} for "
                     f"total padding P in {max(least, 0)}..{most}; P = {total} = "
                     f"{total // 2} + {total - total // 2}" +
                     (f" (symmetric; {low} = {low // 2} + {low - low // 2} would also do)"
                      if total != low else ""))
        totals.append(total)
    return _solution(spec, size, out, totals, scalar, notes)


def same_padding(in_size, kernel_size, stride=1, dilation=1) -> PaddingSolution:
    """TensorFlow's padding='SAME' (SAME_UPPER) at any stride: out = ceil(in / s), total
    padding max(0, (out - 1) s + d(k - 1) + 1 - in), lo = total // 2, the rest at the end.
    (torch's padding='same' is this at stride 1 and refuses other strides.)"""
    spec, size, scalar = _spec(in_size, kernel_size, stride, dilation)
    out, totals, notes = [], [], []
    for name, i, k, s, d in zip(AXIS_NAMES[spec.ndim], size, spec.kernel_size, spec.stride,
                                spec.dilation):
        o = -(-i // s)
        total = max(0, _least(i, o, k, s, d))
        notes.append(f"  {name}: SAME: o = ceil({i} / {s}) = {o}; total padding = max(0, "
                     f"({o} - 1)*{s} + {d}*({k}-1) + 1 - {i}) = {total} = {total // 2} + "
                     f"{total - total // 2}")
        out.append(o)
        totals.append(total)
    return _solution(spec, size, out, totals, scalar, notes)
