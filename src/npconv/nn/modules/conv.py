"""Conv1d, Conv2d, Conv3d on one _ConvNd base, as torch.nn.modules.conv: torch's signatures,
defaults, attributes, repr, init and construction errors. forward runs F.conv*d's one entry
(nn.functional.conv.conv), so its checks and warnings apply to the layers too; `geometry` is
the layer's kernels.geometry.ConvSpec."""
from __future__ import annotations

from npconv import creation
from npconv.device import check_device
from npconv.kernels.geometry import conv_transpose_output_size, ntuple, same_padding
from npconv.nn import init
from npconv.nn.functional.conv import conv, conv_spec, conv_transpose
from npconv.nn.functional.padding import pad
from npconv.nn.modules.module import Module
from npconv.nn.parameter import Parameter

_PADDING_STRINGS = {"same", "valid"}
_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


def check_channels(in_channels, out_channels, groups) -> None:
    """torch's _ConvNd checks: groups >= 1 divides both channel counts."""
    if groups <= 0:
        raise ValueError(f"groups must be a positive integer (got groups={groups})")
    if in_channels % groups != 0:
        raise ValueError(f"in_channels must be divisible by groups (got in_channels="
                         f"{in_channels}, groups={groups})")
    if out_channels % groups != 0:
        raise ValueError(f"out_channels must be divisible by groups (got out_channels="
                         f"{out_channels}, groups={groups})")


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
        check_channels(in_channels, out_channels, groups)
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


class _ConvTransposeNd(_ConvNd):
    """The transposed conv layers' base, as torch's: a _ConvNd with transposed=True (weight
    (in_channels, out_channels // groups, *kernel_size), torch's fan_in weight.size(1) *
    prod(kernel_size)) and padding_mode 'zeros' only. forward(input, output_size=None) runs
    F.conv_transpose*d's one entry (nn.functional.conv.conv_transpose); output_size picks the
    output_padding."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None):
        name = f"ConvTranspose{self._ndim}d"
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name} (got '
                             f"padding_mode={padding_mode!r}; a transposed conv's padding "
                             "removes cells from its output, it adds none to its input)")
        if isinstance(padding, str):  # torch keeps it as a tuple of letters, refused in forward
            raise TypeError(f"conv_transpose{self._ndim}d(): argument 'padding' must be tuple of "
                            f"ints, not str (got padding={padding!r}: {name} takes no padding "
                            "strings; its padding crops that many cells from both ends of each "
                            "output axis)")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         transposed, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """torch's rule: output_size (the spatial sizes, or with the batch and channel sizes in
        front) picks output_padding = size - smallest size per axis, which must lie in
        [0, stride - 1]; without it, the layer's output_padding."""
        nd = self._ndim
        if output_size is None or input.dim() <= nd:  # the functional refuses such an input
            return self.output_padding
        lead = 2 if input.dim() == nd + 2 else 1
        if len(output_size) == lead + nd:
            output_size = output_size[lead:]
        if len(output_size) != nd:
            raise ValueError(f"ConvTranspose{nd}D: for {input.dim()}D input, output_size must "
                             f"have {nd} or {lead + nd} elements (got {len(output_size)}): "
                             f"pass the {nd} spatial sizes, or the whole output shape")
        spatial = list(input.shape[lead:lead + nd])
        smallest = [conv_transpose_output_size(i, k, s, p, p, d) for i, k, s, p, d in zip(
            spatial, self.kernel_size, self.stride, self.padding, self.dilation)]
        largest = [lo + s - 1 for lo, s in zip(smallest, self.stride)]
        if any(not lo <= o <= hi for o, lo, hi in zip(output_size, smallest, largest)):
            ranges = [f"{lo} to {hi}" if hi > lo else f"only {lo}"
                      for lo, hi in zip(smallest, largest)]
            reach = (f"{ranges[0]} per axis" if len(set(ranges)) == 1 else
                     ", ".join(f"{r} on axis {a}" for a, r in enumerate(ranges)))
            raise ValueError(
                f"requested an output size of {output_size}, but valid sizes range from "
                f"{smallest} to {largest} (for an input of spatial size {spatial}; reachable "
                f"sizes for this input: {reach}, as output_padding runs from 0 to stride - 1; "
                "request one of them, or change stride, padding or kernel_size)")
        return tuple(o - lo for o, lo in zip(output_size, smallest))

    def forward(self, input, output_size=None):
        if self.padding_mode != "zeros":
            raise ValueError(f"Only `zeros` padding mode is supported for "
                             f"ConvTranspose{self._ndim}d (padding_mode was set to "
                             f"{self.padding_mode!r} after construction)")
        return conv_transpose(self._ndim, input, self.weight, self.bias, self.stride,
                              self.padding, self._output_padding(input, output_size),
                              self.groups, self.dilation)


def _transposed_per_axis(ndim, kernel_size, stride, padding, dilation, output_padding):
    """As _per_axis, for a transposed layer: transposed=True and its output_padding; a padding
    string stays a string (for _ConvTransposeNd to refuse)."""
    kernel_size, stride, padding, dilation, _, _ = _per_axis(ndim, kernel_size, stride, padding,
                                                             dilation)
    return kernel_size, stride, padding, dilation, True, ntuple(output_padding, ndim)


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution over (N, C_in, L) or (C_in, L), as torch.nn.ConvTranspose1d.
    L_out = (L - 1) stride - 2 padding + dilation (kernel_size - 1) + 1 + output_padding."""

    _ndim = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, *_transposed_per_axis(
            1, kernel_size, stride, padding, dilation, output_padding), groups, bias,
            padding_mode, device, dtype)


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution over (N, C_in, H, W) or (C_in, H, W), as
    torch.nn.ConvTranspose2d; per axis H_out as ConvTranspose1d's L_out."""

    _ndim = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, *_transposed_per_axis(
            2, kernel_size, stride, padding, dilation, output_padding), groups, bias,
            padding_mode, device, dtype)


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution over (N, C_in, D, H, W) or (C_in, D, H, W), as
    torch.nn.ConvTranspose3d; per axis as ConvTranspose1d's L_out."""

    _ndim = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, *_transposed_per_axis(
            3, kernel_size, stride, padding, dilation, output_padding), groups, bias,
            padding_mode, device, dtype)
