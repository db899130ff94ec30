"""conv1d, conv2d, conv3d: torch's argument checks, in torch's order and with its wording plus a
hint, then one kernels.geometry.ConvSpec and the Convolution op.

conv() is the one entry every conv goes through (the functionals and the nn.Conv*d modules).
Its checks run in the order torch's do, so that the first thing wrong is the one reported:
the argument parser's TypeErrors (parse_args), then the tensors' ranks, the padding string,
groups, the per-axis lengths and values (conv_spec's rules), the shapes against each other,
the dtypes, and last the zero dilation, zero-size kernel and bool input torch refuses.
"""
from __future__ import annotations

import numbers
import operator
import warnings

from npconv.autograd.conv_ops import Convolution, ConvTranspose
from npconv.dtypes import cpp_type_name
from npconv.kernels.geometry import ConvSpec, ntuple, same_padding
from npconv.tensor import Tensor

_PADDING_STRINGS = ("same", "valid")
_EXAMPLES = {"stride": "stride=2 or stride=(2, 1)", "dilation": "dilation=2 or dilation=(2, 1)",
             "padding": "padding=1, padding=(1, 0), padding='same' or padding='valid'"}


def _is_int(value) -> bool:
    """What torch's parser takes as an int: any Integral (numpy's too), but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _invalid(fn, what, expected):
    return TypeError(f"{fn}() received an invalid combination of arguments - got {what}, but "
                     f"expected {expected}")


def parse_args(fn, ndim, stride, padding, dilation, groups):
    """torch's argument parser for a conv: stride, dilation and an int padding are 'tuple of
    ints' (an int repeats ndim times, a tuple or list of ints passes as is, its length checked
    later against the weight), padding may also be a string, groups an int. Returns them with
    Python ints; anything else raises torch's TypeError."""
    parsed = []
    for name, value in (("stride", stride), ("padding", padding), ("dilation", dilation)):
        if name == "padding" and isinstance(value, str):
            parsed.append(value)
            continue
        values = ntuple(value, ndim) if isinstance(value, (tuple, list)) or _is_int(value) \
            else None
        if values is None or not all(map(_is_int, values)):
            raise _invalid(fn, f"{name}={type(value).__name__} ({value!r})",
                           f"{name} as an int or a tuple of ints, e.g. {_EXAMPLES[name]}")
        parsed.append(tuple(map(operator.index, values)))
    if not _is_int(groups):
        raise _invalid(fn, f"groups={type(groups).__name__} ({groups!r})",
                       "int groups, e.g. groups=2")
    return (*parsed, operator.index(groups))


def _check_groups(groups):
    if groups <= 0:
        raise RuntimeError(f"non-positive groups is not supported (got groups={groups}; use "
                           "groups >= 1)")


def _expand(name, values, dims):
    """One value per spatial axis: a single value broadcasts (torch's expand_param_if_needed)."""
    if len(values) == 1:
        return values * dims
    if len(values) != dims:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {dims} "
                           f"values to match the convolution dimensions, but got "
                           f"{name}={list(values)} (the weight has {dims} spatial "
                           f"dimension{'s' * (dims != 1)}; give one {name} or {dims})")
    return values


def _check_unit_stride(stride):
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions (got "
                           f"stride={stride}; use stride=1, or compute the padding as an int and "
                           "pass it explicitly)")


def _same_padding(kernel, stride, dilation, dims):
    """padding='same': only at stride 1, then per axis geometry.same_padding (the odd cell at
    the end). Single stride/dilation values broadcast, others must match dims."""
    _check_unit_stride(stride)
    for name, values in (("stride", stride), ("dilation", dilation)):
        if len(values) not in (1, dims):
            raise RuntimeError(f"{name} cannot broadcast to {dims} dimensions (got {name}="
                               f"{list(values)}; give one {name} or {dims})")
    dilation = _expand("dilation", dilation, dims)
    return tuple(map(same_padding, kernel, dilation)), _expand("stride", stride, dims), dilation


def _check_values(padding, stride, dilation):
    """torch's per-axis value checks, in its order (a zero dilation is refused later)."""
    if any(p < 0 for side in padding for p in side):
        raise RuntimeError(f"negative padding is not supported (got (lo, hi) per axis {padding}; "
                           "to crop the input, use F.pad with negative values)")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"non-positive stride is not supported (got stride={stride}; every "
                           "stride must be >= 1)")
    if any(d < 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero (got dilation={dilation}; every "
                           "dilation must be >= 1)")


def _check_padding_string(padding):
    if isinstance(padding, str) and padding not in _PADDING_STRINGS:
        raise RuntimeError(f"Invalid padding string: '{padding}' (expected 'same' or 'valid', "
                           "lowercase)")


def _geometry(kernel, stride, padding, dilation, groups, padding_mode="zeros", transposed=False,
              output_padding=0):
    """The ConvSpec of parsed arguments for a kernel of len(kernel) spatial axes, raising
    torch's errors (groups, lengths, then values); a non-zeros padding_mode pads with F.pad
    first, where negative values crop, so only zeros refuses them."""
    dims = len(kernel)
    _check_groups(groups)
    if padding == "same":
        pairs, stride, dilation = _same_padding(kernel, stride, dilation, dims)
    else:
        stride = _expand("stride", stride, dims)
        sides = (0,) * dims if padding == "valid" else _expand("padding", padding, dims)
        pairs = tuple((p, p) for p in sides)
        dilation = _expand("dilation", dilation, dims)
    _check_values(pairs if padding_mode == "zeros" else (), stride, dilation)
    return ConvSpec(tuple(kernel), stride, pairs, dilation, groups, padding_mode, transposed,
                    ntuple(output_padding, dims))


def conv_spec(ndim, kernel_size, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
              transposed=False, output_padding=0) -> ConvSpec:
    """A conv layer's arguments as one ConvSpec (what nn.Conv*d.geometry returns), with
    torch's errors for the arguments themselves (those of the tensors come at forward)."""
    stride, padding, dilation, groups = parse_args(f"conv{ndim}d", ndim, stride, padding,
                                                   dilation, groups)
    _check_padding_string(padding)
    kernel = tuple(map(operator.index, ntuple(kernel_size, ndim)))
    return _geometry(kernel, stride, padding, dilation, groups, padding_mode, transposed,
                     output_padding)


def _check_tensors(fn, input, weight, bias):
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if not isinstance(t, Tensor) and (t is not None or name != "bias"):
            raise _invalid(fn, f"{name}={type(t).__name__}",
                           f"Tensor {name}" + (" or None" if name == "bias" else ""))


def _check_bias_dtype(input, bias):
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"Input type ({cpp_type_name(input.dtype)}) and bias type "
                           f"({cpp_type_name(bias.dtype)}) should be the same (input is "
                           f"{input.dtype}, bias is {bias.dtype}; convert one with .to())")


def _check_ranks(fn, ndim, input, weight):
    if input.dim() not in (ndim + 1, ndim + 2):
        raise RuntimeError(f"Expected {ndim + 1}D (unbatched) or {ndim + 2}D (batched) input to "
                           f"{fn}, but got input of size: {list(input.shape)}")
    if weight.dim() < 3:
        raise RuntimeError("weight should have at least three dimensions (got weight of size "
                           f"{list(weight.shape)}; {fn} expects (out_channels, "
                           f"in_channels/groups, {_kernel_names(ndim)}))")


def _kernel_names(ndim):
    return ", ".join(("kT", "kH", "kW")[3 - ndim :]) if ndim <= 3 else f"{ndim} kernel sizes"


def _check_rank_match(fn, x, weight, same=False):
    """x (the batched input) and the weight have the same rank (torch's message has no space
    before the weight's size on its padding='same' path)."""
    if x.dim() != weight.dim():
        raise RuntimeError(f"Expected {weight.dim()}-dimensional input for {weight.dim()}-"
                           f"dimensional weight{'' if same else ' '}{list(weight.shape)}, but got "
                           f"{x.dim()}-dimensional "
                           f"input of size {list(x.shape)} instead ({fn} takes a weight "
                           f"(out_channels, in_channels/groups, {_kernel_names(x.dim() - 2)}))")


def _check_shapes(x, weight, bias, spec):
    """check_input_shape_forward past the ranks: groups divide the weight, the channels match,
    the bias fits, the dilated kernel fits the padded input. x is the batched input."""
    w_shape = list(weight.shape)
    groups, out_channels = spec.groups, weight.shape[0]
    if out_channels < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {w_shape} instead")
    if out_channels % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{w_shape}] instead")
    expected = weight.shape[1] * groups
    if x.shape[1] != expected:
        raise RuntimeError(f"Given groups={groups}, weight of size {w_shape}, expected "
                           f"input{list(x.shape)} to have {expected} channels, but got "
                           f"{x.shape[1]} channels instead{_channel_hint(x, expected)}")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {w_shape}, expected bias to be 1-dimensional "
                           f"with {out_channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    check_fits(spec, x.shape[2:])


def check_fits(spec: ConvSpec, size) -> None:
    """torch's check that the dilated kernel fits the padded input of spatial size `size`."""
    padded, kernel = spec.padded_size(size), spec.dilated_kernel
    if any(p < k for p, k in zip(padded, kernel)):
        raise RuntimeError(f"Calculated padded input size per channel: ({_by(padded)}). Kernel "
                           f"size: ({_by(kernel)}). Kernel size can't be greater than actual "
                           "input size (make the input larger, or reduce kernel_size/dilation, "
                           "or add padding)")


def _by(sizes):
    """(8, 8) -> '8 x 8', as torch prints sizes per channel."""
    return " x ".join(map(str, sizes))


def _channel_hint(x, expected):
    """A likely cause of a channel mismatch: channels-last layout, or gray vs RGB."""
    if x.shape[-1] == expected:
        order = (0, x.dim() - 1, *range(1, x.dim() - 1))
        return (" (the input looks channels-last, channels on the last axis; convert it with "
                f"x.permute{order})")
    if expected == 3 and x.shape[1] == 1:
        return " (a grayscale image given to a layer built for RGB? use in_channels=1)"
    if expected == 1 and x.shape[1] == 3:
        return " (an RGB image given to a layer built for grayscale? use in_channels=3)"
    return ""


def _check_dtypes(input, weight):
    if input.dtype == weight.dtype:
        return
    fix = (f" (input is {input.dtype}, weight is {weight.dtype}; convert the input with "
           f"x.to({weight.dtype}) or the layer with .to({input.dtype}))")
    if input.dtype.name == "float32":
        raise RuntimeError(f"Input type (torch.{input.dtype.legacy_name}Tensor) and weight type "
                           f"(torch.{weight.dtype.legacy_name}Tensor) should be the same{fix}")
    raise RuntimeError(f"expected scalar type {input.dtype.legacy_name} but found "
                       f"{weight.dtype.legacy_name}{fix}")


def _check_last(ndim, input, spec):
    """What torch refuses only once the shapes are known good: a zero dilation, a zero-size
    kernel (its output would be larger than the input), bool tensors."""
    check_window(ndim, spec)
    if input.dtype.name == "bool":
        raise NotImplementedError(f"\"{'compute_columns3d' if ndim == 3 else 'slow_conv2d_cpu'}\" "
                                  "not implemented for 'Bool' (convert the input and the weight "
                                  "with .float())")


def check_window(ndim, spec: ConvSpec) -> None:
    """torch's refusal of a zero dilation and of a zero-size kernel (after the shape checks)."""
    if any(d == 0 for d in spec.dilation):
        raise RuntimeError(f"non-positive dilation is not supported (got dilation="
                           f"{spec.dilation}; every dilation must be >= 1)")
    kernel = spec.kernel_size
    if 0 in kernel:
        got = (f": {_by(kernel)} (TxHxW)" if ndim == 3 else
               " kernel_height: {} kernel_width: {}".format(*((1,) * (2 - ndim) + kernel)))
        raise RuntimeError(f"kernel size should be greater than zero, but got{got} (the weight's "
                           f"kernel is {kernel}, which has no window; every kernel_size must be "
                           ">= 1)")


def conv(ndim, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """The conv of every F.conv*d and nn.Conv*d: torch's checks in torch's order, then the
    Convolution op on the batched input. padding='same' whose total d(k - 1) is odd on some axis
    pads asymmetrically (the extra cell at the end) and warns, as torch."""
    fn = f"conv{ndim}d"
    _check_tensors(fn, input, weight, bias)
    stride, padding, dilation, groups = parse_args(fn, ndim, stride, padding, dilation, groups)
    _check_bias_dtype(input, bias)
    _check_ranks(fn, ndim, input, weight)
    _check_padding_string(padding)
    batched = input.dim() == ndim + 2
    x = input if batched else input.unsqueeze(0)
    if padding == "same":  # torch's 'same' path checks these before the per-axis lengths
        _check_groups(groups)
        _check_unit_stride(stride)
        _check_rank_match(fn, x, weight, same=True)
    spec = _geometry(tuple(weight.shape[2:]), stride, padding, dilation, groups)
    _check_rank_match(fn, x, weight)
    _check_shapes(x, weight, bias, spec)
    _check_dtypes(input, weight)
    _check_last(ndim, input, spec)
    if padding == "same" and not spec.symmetric:
        warnings.warn("Using padding='same' with even kernel lengths and odd dilation may "
                      "require a zero-padded copy of the input be created", UserWarning,
                      stacklevel=3)
    y = Convolution.apply(x, weight, bias, spec=spec)
    return y if batched else y.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-d cross-correlation over (N, C, L) or (C, L), as torch.nn.functional.conv1d.
    L_out = floor((L + pad_lo + pad_hi - dilation*(k-1) - 1) / stride + 1)."""
    return conv(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-d cross-correlation over (N, C, H, W) or (C, H, W), as torch.nn.functional.conv2d.
    H_out = floor((H + pad_top + pad_bottom - dilation*(kH-1) - 1) / stride + 1), same for W."""
    return conv(2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-d cross-correlation over (N, C, D, H, W) or (C, D, H, W), as
    torch.nn.functional.conv3d; each output size as conv2d's."""
    return conv(3, input, weight, bias, stride, padding, dilation, groups)


# ---- transposed convolution -------------------------------------------------------------

_AXIS_NAMES = ("depth", "height", "width")
_TRANSPOSE_DTYPES = {"float16", "float32", "float64", "int64"}


def tuple_of_ints(fn: str, name: str, value, n: int, position=None) -> tuple:
    """torch's argument parser for an int-list argument: an int is repeated n times, a tuple
    or list passes through (its length is checked where torch checks it); anything else is
    torch's TypeError."""
    where = "" if position is None else f" (position {position})"
    if _is_int(value):
        return (int(value),) * n
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{fn}(): argument '{name}'{where} must be tuple of ints, not "
                        f"{type(value).__name__}")
    for i, v in enumerate(value):
        if not _is_int(v):
            raise TypeError(f"{fn}(): argument '{name}'{where} must be tuple of ints, but found "
                            f"element of type {type(v).__name__} at pos {i}")
    return tuple(int(v) for v in value)


def check_tensor_arg(fn: str, name: str, value, position=None, optional=False) -> None:
    """torch's TypeError for a non-Tensor tensor argument."""
    if not isinstance(value, Tensor) and not (optional and value is None):
        where = "" if position is None else f" (position {position})"
        raise TypeError(f"{fn}(): argument '{name}'{where} must be Tensor, not "
                        f"{type(value).__name__}")


def _per_axis(label: str, values, sep: str = " ") -> str:
    """torch's per-axis listing 'stride_height: 1 stride_width: 2' (depth, height, width for
    three values)."""
    names = _AXIS_NAMES[-len(values):]
    return sep.join(f"{label}_{a}: {v}" for a, v in zip(names, values))


def _transpose_spec(nd: int, input: Tensor, weight: Tensor, bias, stride, padding,
                    output_padding, groups, dilation) -> ConvSpec:
    """Check a transposed conv's arguments in torch's order, with its messages and a hint, and
    return its ConvSpec (transposed=True). The weight is (C_in, C_out/groups, *kernel_size);
    per axis o = (i - 1) s - 2p + d(k - 1) + 1 + output_padding."""
    fn = f"conv_transpose{nd}d"
    check_tensor_arg(fn, "input", input, 1)
    check_tensor_arg(fn, "weight", weight, 2)
    check_tensor_arg(fn, "bias", bias, optional=True)
    stride, padding, output_padding, groups, dilation = _transpose_args(
        fn, nd, stride, padding, output_padding, groups, dilation)
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{fn}, but got input of size: {list(input.shape)}")
    shape = tuple(input.shape) if input.dim() == nd + 2 else (1, *input.shape)
    dim, w_shape = weight.dim() - 2, list(weight.shape)
    if dim <= 0:
        raise RuntimeError(f"weight should have at least three dimensions (got weight of size "
                           f"{w_shape}; expected (in_channels, out_channels/groups, "
                           f"*kernel_size))")
    spec = _transpose_values(tuple(w_shape[2:]), stride, padding, output_padding, groups,
                             dilation)
    if dim + 2 != len(shape):
        raise RuntimeError(f"Expected {dim + 2}-dimensional input for {dim + 2}-dimensional "
                           f"weight {w_shape}, but got {len(shape)}-dimensional input of size "
                           f"{list(shape)} instead (a {fn} weight is (in_channels, "
                           f"out_channels/groups, *kernel_size) with {nd} kernel sizes)")
    if w_shape[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {w_shape} instead")
    if w_shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{w_shape}] instead "
                           f"(dimension 0 of a transposed weight is in_channels)")
    if shape[1] != w_shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {w_shape}, expected "
                           f"input{list(shape)} to have {w_shape[0]} channels, but got "
                           f"{shape[1]} channels instead (a transposed weight is "
                           f"(in_channels, out_channels/groups, *kernel_size))")
    out_channels = w_shape[1] * groups
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given transposed=1, weight of size {w_shape}, expected bias to be "
                           f"1-dimensional with {out_channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead (out_channels = weight.size(1) * "
                           "groups)")
    if 0 in shape[2:]:
        shown = list(shape[:2]) + [1] * (nd == 1) + list(shape[2:])
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got "
                           f"input shape: {shown} (every spatial size must be >= 1)")
    _check_transpose_kernel(nd, spec, w_shape, shape)
    _check_transpose_dtypes(nd, input, weight, bias)
    return spec


def _transpose_args(fn, nd, stride, padding, output_padding, groups, dilation):
    """torch's parser for a transposed conv's int-list arguments and groups."""
    stride, padding, output_padding = (tuple_of_ints(fn, name, v, nd) for name, v in (
        ("stride", stride), ("padding", padding), ("output_padding", output_padding)))
    if not _is_int(groups):
        raise TypeError(f"{fn}(): argument 'groups' must be int, not {type(groups).__name__}")
    return stride, padding, output_padding, int(groups), tuple_of_ints(fn, "dilation",
                                                                       dilation, nd)


def _transpose_values(kernel, stride, padding, output_padding, groups, dilation) -> ConvSpec:
    """torch's checks of a transposed conv's groups and per-axis values (one value broadcasts
    to len(kernel) axes), and its ConvSpec (transposed=True)."""
    dim = len(kernel)
    _check_groups(groups)
    stride, padding, dilation, output_padding = (_expand(name, v, dim) for name, v in (
        ("stride", stride), ("padding", padding), ("dilation", dilation),
        ("output_padding", output_padding)))
    if min(padding) < 0:
        raise RuntimeError(f"negative padding is not supported (got padding={padding}; a "
                           "transposed conv's padding crops its output, use >= 0)")
    if min(output_padding) < 0:
        raise RuntimeError(f"negative output_padding is not supported (got output_padding="
                           f"{output_padding}; use >= 0)")
    if min(stride) <= 0:
        raise RuntimeError(f"non-positive stride is not supported (got stride={stride}; every "
                           "stride must be >= 1)")
    if min(dilation) < 0:
        raise RuntimeError(f"dilation should be greater than zero (got dilation={dilation})")
    return ConvSpec(kernel, stride, tuple((p, p) for p in padding), dilation, groups,
                    transposed=True, output_padding=output_padding)


def transpose_geometry(nd: int, size, kernel_size, stride=1, padding=0, output_padding=0,
                       dilation=1, groups=1) -> ConvSpec:
    """The ConvSpec of a conv_transpose{nd}d on spatial input size `size`, with the errors
    conv_transpose raises for these arguments and the output size they give (no tensors)."""
    fn = f"conv_transpose{nd}d"
    stride, padding, output_padding, groups, dilation = _transpose_args(
        fn, nd, stride, padding, output_padding, groups, dilation)
    kernel = tuple(map(operator.index, ntuple(kernel_size, nd)))
    spec = _transpose_values(kernel, stride, padding, output_padding, groups, dilation)
    _check_transpose_kernel(nd, spec, [groups, 1, *kernel], (1, groups, *size))
    return spec


def _check_transpose_kernel(nd, spec, w_shape, shape) -> None:
    """The shape checks of torch's slow_conv_transpose kernels (1-d runs as 2-d with a leading
    height-1 axis of stride, dilation and kernel size 1, which torch's messages show)."""
    lift = (lambda v, fill: (fill, *v)) if nd == 1 else (lambda v, fill: tuple(v))
    kernel, stride, dilation = (lift(spec.kernel_size, 1), lift(spec.stride, 1),
                                lift(spec.dilation, 1))
    op = lift(spec.output_padding, 0)
    if nd < 3 and min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got "
                           f"{_per_axis('kernel', kernel)} (every kernel size must be >= 1)")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got "
                           f"{_per_axis('dilation', dilation, ', ')} (every dilation must be "
                           ">= 1)")
    if not all(p < s or p < d for p, s, d in zip(op, stride, dilation)):
        raise RuntimeError(
            f"output padding must be smaller than either stride or dilation, but got "
            f"{_per_axis('output_padding', op)} {_per_axis('stride', stride)} "
            f"{_per_axis('dilation', dilation)} (output_padding adds cells at the end of each "
            "axis to pick one of the output sizes that a stride > 1 makes equivalent; pass "
            "forward(x, output_size=...) to an nn.ConvTranspose layer to have it computed)")
    if 0 in w_shape:
        what = ("5D (n_output_plane x n_input_plane x kernel_depth x kernel_height x "
                "kernel_width) tensor expected for weight" if nd == 3 else
                "2D or 4D weight tensor expected")
        lifted = w_shape[:2] + [1] + w_shape[2:] if nd == 1 else w_shape
        raise RuntimeError(f"non-empty {what}, but got: {lifted} (this weight has no "
                           "elements: give every axis a size >= 1)")
    size = spec.transposed_output_size(shape[2:])
    if min(size) < 1:
        given, out = lift(shape[2:], 1), lift(size, 1)
        raise RuntimeError(
            f"Given input size per channel: ({_by(given)}). Calculated output size per channel: "
            f"({_by(out)}). Output size is too small "
            f"(o = (i - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + 1 + "
            f"output_padding per axis; reduce padding or enlarge the input)")


def _check_transpose_dtypes(nd, input, weight, bias) -> None:
    """The kernel dispatch's dtype checks: float and int64 inputs only; weight as the input;
    a bias of another dtype is cast to the output's unless that would turn floats into ints."""
    kernel = f"slow_conv_transpose{max(nd, 2)}d_out_cpu"
    if input.dtype.name not in _TRANSPOSE_DTYPES:
        raise NotImplementedError(f"\"{kernel}\" not implemented for "
                                  f"'{input.dtype.legacy_name}' (use a float dtype, e.g. "
                                  "input.float() and the layer's .float())")
    if weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.legacy_name} but found "
                           f"{weight.dtype.legacy_name} (input is {input.dtype}, weight is "
                           f"{weight.dtype}; convert the input with x.to({weight.dtype}) or the "
                           f"layer with .to({input.dtype}))")
    if bias is not None and bias.dtype.is_floating_point and not input.dtype.is_floating_point:
        raise RuntimeError(f"result type {bias.dtype.legacy_name} can't be cast to the desired "
                           f"output type {input.dtype.legacy_name} (the bias is {bias.dtype}, "
                           f"input and weight are {input.dtype}; use one dtype for all three)")


def conv_transpose(ndim, input, weight, bias=None, stride=1, padding=0, output_padding=0,
                   groups=1, dilation=1) -> Tensor:
    """The transposed conv of every F.conv_transpose*d and nn.ConvTranspose*d: torch's checks in
    torch's order, then the ConvTranspose op on the batched input."""
    spec = _transpose_spec(ndim, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)
    batched = input.dim() == ndim + 2
    y = ConvTranspose.apply(input if batched else input.unsqueeze(0), weight, bias, spec=spec)
    return y if batched else y.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """1-d transposed convolution, the adjoint of conv1d, as torch.nn.functional.conv_transpose1d:
    L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1) + 1 + output_padding."""
    return conv_transpose(1, input, weight, bias, stride, padding, output_padding, groups,
                          dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """2-d transposed convolution, the adjoint of conv2d, as torch.nn.functional.conv_transpose2d:
    per axis o = (i - 1) * stride - 2 * padding + dilation * (k - 1) + 1 + output_padding."""
    return conv_transpose(2, input, weight, bias, stride, padding, output_padding, groups,
                          dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """3-d transposed convolution, the adjoint of conv3d, as torch.nn.functional.conv_transpose3d;
    each output size as conv_transpose2d's."""
    return conv_transpose(3, input, weight, bias, stride, padding, output_padding, groups,
                          dilation)
