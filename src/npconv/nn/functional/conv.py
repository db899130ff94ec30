"""conv2d: argument normalization into a ConvSpec, torch's checks, then the Conv2d op."""
from __future__ import annotations

import warnings

from npconv.autograd.conv_ops import Convolution
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
