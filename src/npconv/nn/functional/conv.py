"""conv2d: argument normalization into a ConvSpec, torch's checks, then the Conv2d op."""
from __future__ import annotations

import numbers
import warnings

from npconv.autograd.conv_ops import Convolution, ConvTranspose
from npconv.kernels.geometry import ConvSpec, same_padding
from npconv.nn.functional.padding import pad
from npconv.tensor import Tensor

_TORCH_TYPE_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double",
                     "int64": "long int", "int32": "int", "uint8": "unsigned char",
                     "int8": "signed char", "int16": "short int", "bool": "bool"}


def _pair(name: str, value) -> tuple[int, int]:
    """An int or a 1-/2-sequence of ints -> (h, w), with torch's error otherwise."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"conv2d(): argument '{name}' must be an int or a tuple of 2 ints, "
                            f"but got {type(v).__name__} ({value!r})")
    if len(values) == 1:
        values = values * 2
    if len(values) != 2:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of 2 values "
                           f"to match the convolution dimensions, but got {name}={list(values)}")
    return values


def conv_spec(kernel_size, stride=1, padding=0, dilation=1, groups=1,
              padding_mode="zeros") -> ConvSpec:
    """Normalize conv arguments once, raising torch's RuntimeErrors for bad values."""
    stride, dilation = _pair("stride", stride), _pair("dilation", dilation)
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"non-positive stride is not supported (got stride={stride}; "
                           "every stride must be >= 1)")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"non-positive dilation is not supported (got dilation={dilation}; "
                           "every dilation must be >= 1)")
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"conv2d(): argument 'groups' must be int, not {type(groups).__name__}")
    if groups <= 0:
        raise RuntimeError(f"non-positive groups is not supported (got groups={groups}; "
                           "use groups >= 1)")
    if isinstance(padding, str):
        if padding == "valid":
            sides = ((0, 0), (0, 0))
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions "
                                   f"(got stride={stride}); use stride=1, or compute the padding "
                                   "as an int and pass it explicitly")
            sides = tuple(map(same_padding, kernel_size, dilation))
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}' (expected 'same' or "
                               "'valid', lowercase)")
    else:
        ph, pw = _pair("padding", padding)
        if ph < 0 or pw < 0:
            raise RuntimeError(f"negative padding is not supported (got padding={(ph, pw)}; "
                               "use F.pad with negative values to crop)")
        sides = ((ph, ph), (pw, pw))
    return ConvSpec(tuple(kernel_size), stride, sides, dilation, groups, padding_mode)


def _type_error_name(t: Tensor) -> str:
    return _TORCH_TYPE_NAMES.get(t.dtype.name, t.dtype.name)


def check_conv_input(input: Tensor, weight: Tensor, bias, spec: ConvSpec) -> None:
    """The checks torch makes when a conv runs, with its wording and a hint where one fits."""
    if input.dim() not in (3, 4):
        raise RuntimeError("Expected 3D (unbatched) or 4D (batched) input to conv2d, but got "
                           f"input of size: {list(input.shape)}")
    if weight.dim() != 4:
        raise RuntimeError(f"Expected 4-dimensional weight for conv2d (out_channels, "
                           f"in_channels/groups, kH, kW), but got weight of size "
                           f"{list(weight.shape)}")
    if input.dtype != weight.dtype:
        fix = (f" (input is {input.dtype}, weight is {weight.dtype}; convert the input with "
               f"x.to({weight.dtype}) or the layer with .to({input.dtype}))")
        if bias is not None:
            raise RuntimeError(f"Input type ({_type_error_name(input)}) and bias type "
                               f"({_type_error_name(bias)}) should be the same{fix}")
        if input.dtype.name == "float32":
            raise RuntimeError(f"Input type (torch.{input.dtype.legacy_name}Tensor) and "
                               f"weight type (torch.{weight.dtype.legacy_name}Tensor) "
                               f"should be the same{fix}")
        raise RuntimeError(f"expected scalar type {input.dtype.legacy_name} but found "
                           f"{weight.dtype.legacy_name}{fix}")
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"Input type ({_type_error_name(input)}) and bias type "
                           f"({_type_error_name(bias)}) should be the same")
    if input.dtype.name == "bool":
        raise RuntimeError("\"conv2d\" not implemented for 'Bool'")
    groups, out_channels = spec.groups, weight.shape[0]
    if out_channels < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {list(weight.shape)} instead")
    if out_channels % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{list(weight.shape)}] "
                           "instead")
    expected = weight.shape[1] * groups
    shape = input.shape if input.dim() == 4 else (1, *input.shape)
    if shape[1] != expected:
        shown = list(input.shape)
        hint = ""
        if shape[-1] == expected:
            hint = (" (the input looks channels-last (N, H, W, C); convert it with "
                    "x.permute(0, 3, 1, 2))")
        elif expected == 3 and shape[1] == 1:
            hint = " (a grayscale image given to a layer built for RGB? use in_channels=1)"
        elif expected == 1 and shape[1] == 3:
            hint = " (an RGB image given to a layer built for grayscale? use in_channels=3)"
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{shown} to have {expected} channels, but got "
                           f"{shape[1]} channels instead{hint}")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {out_channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    ph, pw = spec.padded_size(shape[2:])
    kh, kw = spec.dilated_kernel
    if ph < kh or pw < kw:
        raise RuntimeError(f"Calculated padded input size per channel: ({ph} x {pw}). Kernel "
                           f"size: ({kh} x {kw}). Kernel size can't be greater than actual input "
                           "size (make the input larger, or reduce kernel_size/dilation, or add "
                           "padding)")


def conv2d_with_spec(input: Tensor, weight: Tensor, bias, spec: ConvSpec) -> Tensor:
    """Run a checked conv: pad first for non-zeros modes (as torch's Conv2d), then convolve."""
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    if spec.padding_mode != "zeros":
        x = pad(x, spec.pad_widths, mode=spec.padding_mode)
        spec = spec.zero_padding
    y = Convolution.apply(x, weight, bias, spec=spec)
    return y if batched else y.squeeze(0)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D cross-correlation, as torch.nn.functional.conv2d.

    H_out = floor((H + pad_top + pad_bottom - dilation*(kH-1) - 1) / stride + 1), same for W.
    """
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"conv2d(): argument 'input' and 'weight' must be Tensor, not "
                        f"{type(input).__name__} and {type(weight).__name__}")
    spec = conv_spec(tuple(weight.shape[2:]), stride, padding, dilation, groups)
    check_conv_input(input, weight, bias, spec)
    if padding == "same" and not spec.symmetric:
        warnings.warn("Using padding='same' with even kernel lengths and odd dilation may "
                      "require a zero-padded copy of the input be created", UserWarning,
                      stacklevel=2)
    return conv2d_with_spec(input, weight, bias, spec)


# ---- transposed convolution -------------------------------------------------------------

_AXIS_NAMES = ("depth", "height", "width")
_TRANSPOSE_DTYPES = {"float16", "float32", "float64", "int64"}


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


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


def _expand(name: str, values: tuple, dim: int) -> tuple:
    """torch's expand_param_if_needed: one value serves every axis, else one per axis."""
    if len(values) == 1:
        return values * dim
    if len(values) != dim:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {dim} "
                           f"values to match the convolution dimensions, but got "
                           f"{name}={list(values)}")
    return values


def _per_axis(label: str, values, sep: str = " ") -> str:
    """torch's per-axis listing 'stride_height: 1 stride_width: 2' (depth, height, width for
    three values)."""
    names = _AXIS_NAMES[-len(values):]
    return sep.join(f"{label}_{a}: {v}" for a, v in zip(names, values))


def conv_transpose_spec(nd: int, input: Tensor, weight: Tensor, bias, stride, padding,
                        output_padding, groups, dilation) -> ConvSpec:
    """Check a transposed conv's arguments in torch's order, with its messages and a hint, and
    return its ConvSpec (transposed=True). The weight is (C_in, C_out/groups, *kernel_size);
    per axis o = (i - 1) s - 2p + d(k - 1) + 1 + output_padding."""
    fn = f"conv_transpose{nd}d"
    check_tensor_arg(fn, "input", input, 1)
    check_tensor_arg(fn, "weight", weight, 2)
    check_tensor_arg(fn, "bias", bias, optional=True)
    stride, padding, output_padding = (tuple_of_ints(fn, name, v, nd) for name, v in (
        ("stride", stride), ("padding", padding), ("output_padding", output_padding)))
    if not _is_int(groups):
        raise TypeError(f"{fn}(): argument 'groups' must be int, not {type(groups).__name__}")
    dilation = tuple_of_ints(fn, "dilation", dilation, nd)
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{fn}, but got input of size: {list(input.shape)}")
    shape = tuple(input.shape) if input.dim() == nd + 2 else (1, *input.shape)
    dim, w_shape = weight.dim() - 2, list(weight.shape)
    if dim <= 0:
        raise RuntimeError(f"weight should have at least three dimensions (got weight of size "
                           f"{w_shape}; expected (in_channels, out_channels/groups, "
                           f"*kernel_size))")
    if groups <= 0:
        raise RuntimeError(f"non-positive groups is not supported (got groups={groups}; use "
                           "groups >= 1)")
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
    spec = ConvSpec(tuple(w_shape[2:]), stride, tuple((p, p) for p in padding), dilation,
                    groups, transposed=True, output_padding=output_padding)
    _check_transpose_kernel(nd, spec, w_shape, shape)
    _check_transpose_dtypes(nd, input, weight, bias)
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
            f"Given input size per channel: ({' x '.join(map(str, given))}). Calculated output "
            f"size per channel: ({' x '.join(map(str, out))}). Output size is too small "
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


def conv_transpose_with_spec(input: Tensor, weight: Tensor, bias,
                             spec: ConvSpec) -> Tensor:
    """Run a checked transposed conv (unbatched input gets a batch axis of 1 and loses it)."""
    batched = input.dim() == spec.ndim + 2
    x = input if batched else input.unsqueeze(0)
    y = ConvTranspose.apply(x, weight, bias, spec=spec)
    return y if batched else y.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """1-D transposed convolution, the adjoint of conv1d, as torch.nn.functional.conv_transpose1d:
    L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1) + 1 + output_padding."""
    spec = conv_transpose_spec(1, input, weight, bias, stride, padding, output_padding, groups,
                               dilation)
    return conv_transpose_with_spec(input, weight, bias, spec)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """2-D transposed convolution, the adjoint of conv2d, as torch.nn.functional.conv_transpose2d:
    per axis o = (i - 1) * stride - 2 * padding + dilation * (k - 1) + 1 + output_padding."""
    spec = conv_transpose_spec(2, input, weight, bias, stride, padding, output_padding, groups,
                               dilation)
    return conv_transpose_with_spec(input, weight, bias, spec)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """3-D transposed convolution, the adjoint of conv3d, as torch.nn.functional.conv_transpose3d:
    per axis o = (i - 1) * stride - 2 * padding + dilation * (k - 1) + 1 + output_padding."""
    spec = conv_transpose_spec(3, input, weight, bias, stride, padding, output_padding, groups,
                               dilation)
    return conv_transpose_with_spec(input, weight, bias, spec)
