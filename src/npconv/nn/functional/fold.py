"""unfold and fold: im2col and its adjoint col2im on images with two spatial axes, as torch's
(whose im2col/col2im only take those); torch's checks, in its order, with a hint.

Per axis a window of kernel k, dilation d, stride s over a size i padded by p on both sides
gives floor((i + 2p - d(k - 1) - 1) / s) + 1 blocks; L is their product over both axes.
"""
from __future__ import annotations

from npconv.autograd.conv_ops import Col2Im, Im2Col
from npconv.kernels import geometry
from npconv.nn.functional.conv import check_tensor_arg, tuple_of_ints
from npconv.tensor import Tensor

_FLOAT_AND_BOOL = {"float16", "float32", "float64", "bool"}


def _int_pairs(fn: str, named: dict, first: int) -> dict:
    """torch's _pair of each argument, then its parser (positions from `first` on) and its
    length check, in argument order."""
    pairs = {name: tuple_of_ints(fn, name, geometry.ntuple(v, 2), 2, first + i)
             for i, (name, v) in enumerate(named.items())}
    for name, v in pairs.items():
        if len(v) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(v)} "
                               f"({fn} has two spatial axes: pass an int or a pair)")
    return pairs


def _check_positive(k, s, d, p, order: str) -> None:
    """torch's value checks of im2col ('kdps') or col2im ('ksdp'), in that order."""
    checks = {"k": (min(k) > 0, "kernel size should be greater than zero, but got "
                                f"kernel_height: {k[0]} kernel_width: {k[1]}"),
              "s": (min(s) > 0, "stride should be greater than zero, but got "
                                f"stride_height: {s[0]} stride_width: {s[1]}"),
              "d": (min(d) > 0, "dilation should be greater than zero, but got "
                                f"dilation_height: {d[0]} dilation_width: {d[1]}"),
              "p": (min(p) >= 0, "padding should be non-negative, but got "
                                 f"pad_height: {p[0]} pad_width: {p[1]}")}
    for key in order:
        ok, message = checks[key]
        if not ok:
            raise RuntimeError(message + " (kernel_size, stride and dilation must be >= 1 and "
                               "padding >= 0 on both axes)")


def _spec(k, s, d, p) -> geometry.ConvSpec:
    return geometry.ConvSpec(k, s, tuple((q, q) for q in p), d)


def _check_dtype(kernel: str, t: Tensor) -> None:
    if t.dtype.name not in _FLOAT_AND_BOOL:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{t.dtype.legacy_name}' "
                                  "(floating point and bool inputs only; convert with .float())")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Every kernel_size window's cells as one column: (N, C, H, W) -> (N, C * kH * kW, L), or
    (C, H, W) -> (C * kH * kW, L), as torch.nn.functional.unfold (im2col)."""
    check_tensor_arg("im2col", "input", input, 1)
    args = _int_pairs("im2col", {"kernel_size": kernel_size, "dilation": dilation,
                                 "padding": padding, "stride": stride}, 2)
    k, d, p, s = args.values()
    _check_positive(k, s, d, p, "kdps")
    shape, n = list(input.shape), input.dim()
    takes = f" (unfold takes a (C, H, W) or (N, C, H, W) input, got {n}-D input of size {shape}"
    if n == 0:
        raise IndexError("Dimension specified as 1 but tensor has no dimensions" + takes + ")")
    if n < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {n})" + takes + "; add axes with x.unsqueeze(0))")
    if n > 4 or 0 in shape[-3:]:
        fix = "merge leading axes with x.flatten(0, 1)" if n > 4 else \
            "only the batch size may be 0"
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input, but got: {shape}" + takes +
                           f"; {fix})")
    spec = _spec(k, s, d, p)
    blocks = spec.conv_output_size(shape[-2:])
    if min(blocks) < 1:
        raise RuntimeError(
            f"Given input with spatial size ({shape[-2]}, {shape[-1]}), kernel_size={k}, "
            f"dilation={d}, padding={p}, calculated shape of the array of sliding blocks as "
            f"{blocks}, but its components must be at least one. (blocks per axis = "
            "floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1; "
            "use a smaller kernel_size or dilation, or more padding)")
    _check_dtype("im2col_out_cpu", input)
    return Im2Col.apply(input, spec=spec)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum columns back into an image, the adjoint of unfold: (N, C * kH * kW, L) ->
    (N, C, *output_size), or (C * kH * kW, L) -> (C, *output_size), as
    torch.nn.functional.fold (col2im); overlapping windows add up."""
    check_tensor_arg("col2im", "input", input, 1)
    args = _int_pairs("col2im", {"output_size": output_size, "kernel_size": kernel_size,
                                 "dilation": dilation, "padding": padding, "stride": stride}, 2)
    size, k, d, p, s = args.values()
    _check_positive(k, s, d, p, "ksdp")
    shape, n = list(input.shape), input.dim()
    if n not in (2, 3) or 0 in shape[-2:]:
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: {shape} "
                           "(fold takes unfold's (C * kH * kW, L) or (N, C * kH * kW, L) "
                           "columns)")
    planes, length = shape[-2:]
    if planes % (k[0] * k[1]):
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={planes} and kernel_size={k}. (each column "
            f"holds C * {k[0]} * {k[1]} values; pass the kernel_size the columns were "
            "unfolded with)")
    spec = _spec(k, s, d, p)
    blocks = spec.conv_output_size(size)
    where = (f"Given output_size={size}, kernel_size={k}, dilation={d}, padding={p}, "
             f"stride={s}, ")
    if length != blocks[0] * blocks[1]:
        raise RuntimeError(
            where + f"expected size of input's dimension 2 to match the calculated number of "
            f"sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got "
            f"input.size(2)={length}. (blocks per axis = floor((output_size + 2 * padding - "
            "dilation * (kernel_size - 1) - 1) / stride) + 1; pass the arguments the columns "
            "were unfolded with)")
    if min(blocks) < 1:
        raise RuntimeError(where + f"calculated shape of the array of sliding blocks as "
                           f"{blocks}, which is too small (non-positive) (use a larger "
                           "output_size or more padding)")
    if min(size) < 1:
        raise RuntimeError(f"Expected output spatial size to be positive, but got: "
                           f"output_size={size}. (use output_size >= 1 on both axes)")
    _check_dtype("col2im_out_cpu", input)
    batch = shape[0] if n == 3 else 1
    return Col2Im.apply(input, spec=spec, shape=(batch, planes // (k[0] * k[1]), *size))
