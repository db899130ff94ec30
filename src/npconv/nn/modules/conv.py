"""Conv2d: a thin module; arguments are checked and normalized once, into a ConvSpec."""
from __future__ import annotations

from npconv import creation
from npconv.device import check_device
from npconv.nn import init
from npconv.nn.functional.conv import check_conv_input, conv2d_with_spec, conv_spec
from npconv.nn.modules.module import Module
from npconv.nn.parameter import Parameter

_PADDING_STRINGS = {"same", "valid"}
_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


class Conv2d(Module):
    """2-D convolution over (N, C_in, H, W) or (C_in, H, W), as torch.nn.Conv2d.

    weight: (out_channels, in_channels // groups, kH, kW), U(-1/sqrt(k), 1/sqrt(k)) with
    k = in_channels // groups * kH * kW (kaiming_uniform with a=sqrt(5)); bias: (out_channels,).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError(f"groups must be a positive integer (got groups={groups})")
        if in_channels % groups != 0:
            raise ValueError(f"in_channels must be divisible by groups (got in_channels="
                             f"{in_channels}, groups={groups})")
        if out_channels % groups != 0:
            raise ValueError(f"out_channels must be divisible by groups (got out_channels="
                             f"{out_channels}, groups={groups})")
        if isinstance(padding, str) and padding not in _PADDING_STRINGS:
            raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                             f"{_PADDING_STRINGS}")
        if padding == "same" and any(s != 1 for s in _pair(stride)):
            raise ValueError("padding='same' is not supported for strided convolutions "
                             f"(got stride={stride}); use stride=1 or an explicit int padding")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode='{padding_mode}'")
        if device is not None:
            check_device(device)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.dilation = (_pair(kernel_size), _pair(stride),
                                                        _pair(dilation))
        self.padding = padding if isinstance(padding, str) else _pair(padding)
        self.padding_mode = padding_mode
        self.output_padding, self.transposed = (0, 0), False
        self.spec = conv_spec(self.kernel_size, self.stride, self.padding, self.dilation,
                              groups, padding_mode)
        self._reversed_padding_repeated_twice = self.spec.pad_widths
        self.weight = Parameter(creation.empty(
            out_channels, in_channels // groups, *self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0, 0):
            s += ", padding={padding}"
        if self.dilation != (1, 1):
            s += ", dilation={dilation}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def forward(self, input):
        check_conv_input(input, self.weight, self.bias, self.spec)
        return conv2d_with_spec(input, self.weight, self.bias, self.spec)
