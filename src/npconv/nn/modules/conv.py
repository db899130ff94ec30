"""Conv1d, Conv2d, Conv3d on one _ConvNd base, as torch.nn.modules.conv: torch's signatures,
defaults, attributes, repr, init and construction errors. forward runs F.conv*d's one entry
(nn.functional.conv.conv), so its checks and warnings apply to the layers too; `geometry` is
the layer's kernels.geometry.ConvSpec."""
from __future__ import annotations

from npconv import creation
from npconv.device import check_device
from npconv.kernels.geometry import ntuple, same_padding
from npconv.nn import init
from npconv.nn.functional.conv import conv, conv_spec
from npconv.nn.functional.padding import pad
from npconv.nn.modules.module import Module
from npconv.nn.parameter import Parameter

_PADDING_STRINGS = {"same", "valid"}
_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


class _ConvNd(Module):
    """The conv layers' base (and the transposed ones', transposed=True): arguments kept as
    given (per-axis tuples; padding a tuple or 'same'/'valid'), checked at construction only
    where torch checks them there (groups, the padding string and mode); the rest is checked
    when the layer runs, by the functional.

    weight: (out_channels, in_channels // groups, *kernel_size), or (in_channels,
    out_channels // groups, *kernel_size) when transposed, U(-1/sqrt(k), 1/sqrt(k)) with
    k = weight.shape[1] * prod(kernel_size) (kaiming_uniform with a=sqrt(5)); bias:
    (out_channels,), from the same bound. A subclass sets _ndim, its number of spatial axes.
    """

    _ndim: int

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError(f"groups must be a positive integer (got groups={groups})")
        if in_channels % groups != 0:
            raise ValueError(f"in_channels must be divisible by groups (got in_channels="
                             f"{in_channels}, groups={groups})")
        if out_channels % groups != 0:
            raise ValueError(f"out_channels must be divisible by groups (got out_channels="
                             f"{out_channels}, groups={groups})")
        if isinstance(padding, str):
            if padding not in _PADDING_STRINGS:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{_PADDING_STRINGS}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions "
                                 f"(got stride={stride}; use stride=1 or an explicit int "
                                 "padding)")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode='{padding_mode}'")
        if device is not None:
            check_device(device)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.transposed, self.output_padding = dilation, transposed, output_padding
        self.groups, self.padding_mode = groups, padding_mode
        self._reversed_padding_repeated_twice = _reversed_padding(kernel_size, padding, dilation)
        channels = (in_channels, out_channels) if transposed else (out_channels, in_channels)
        self.weight = Parameter(creation.empty(channels[0], channels[1] // groups, *kernel_size,
                                               dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    @property
    def geometry(self):
        """This layer's kernels.geometry.ConvSpec (torch's errors for bad arguments)."""
        return conv_spec(self._ndim, self.kernel_size, self.stride, self.padding,
                         self.dilation, self.groups, self.padding_mode, self.transposed,
                         self.output_padding)

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def _conv_forward(self, input, weight, bias):
        """torch's: a non-zeros padding_mode pads with F.pad first (negative pads crop), then
        convolves unpadded; zeros hands the padding to the conv."""
        if self.padding_mode != "zeros":
            input = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(self._ndim, input, weight, bias, self.stride, 0, self.dilation,
                        self.groups)
        return conv(self._ndim, input, weight, bias, self.stride, self.padding, self.dilation,
                    self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


def _reversed_padding(kernel_size, padding, dilation):
    """The padding in F.pad's order (last axis first, lo then hi), as torch's
    _reversed_padding_repeated_twice: a tuple for an int padding; for 'same'/'valid' a list,
    'same' filled from the first axis on as far as dilation has entries (like torch, which zips
    them: a 1-tuple dilation pads only the first axis)."""
    if not isinstance(padding, str):
        return tuple(p for p in reversed(padding) for _ in range(2))
    pads = [0, 0] * len(kernel_size)
    if padding == "same":
        for d, k, i in zip(dilation, kernel_size, reversed(range(len(kernel_size)))):
            pads[2 * i : 2 * i + 2] = same_padding(k, d)
    return pads


def _per_axis(ndim, kernel_size, stride, padding, dilation):
    """kernel_size, stride, padding (unless a string) and dilation as tuples (torch's _ntuple:
    an int repeats ndim times, values are kept as given), then output_padding 0."""
    padding = padding if isinstance(padding, str) else ntuple(padding, ndim)
    return (ntuple(kernel_size, ndim), ntuple(stride, ndim), padding, ntuple(dilation, ndim),
            False, (0,) * ndim)


class Conv1d(_ConvNd):
    """1-d convolution over (N, C_in, L) or (C_in, L), as torch.nn.Conv1d.
    L_out = floor((L + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1)."""

    _ndim = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels,
                         *_per_axis(1, kernel_size, stride, padding, dilation), groups, bias,
                         padding_mode, device, dtype)


class Conv2d(_ConvNd):
    """2-d convolution over (N, C_in, H, W) or (C_in, H, W), as torch.nn.Conv2d; per axis
    H_out = floor((H + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1)."""

    _ndim = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels,
                         *_per_axis(2, kernel_size, stride, padding, dilation), groups, bias,
                         padding_mode, device, dtype)


class Conv3d(_ConvNd):
    """3-d convolution over (N, C_in, D, H, W) or (C_in, D, H, W), as torch.nn.Conv3d; each
    output size as Conv2d's."""

    _ndim = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels,
                         *_per_axis(3, kernel_size, stride, padding, dilation), groups, bias,
                         padding_mode, device, dtype)
