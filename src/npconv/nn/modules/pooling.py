"""Pooling modules, on torch's bases (_MaxPoolNd, _AvgPoolNd, _AdaptiveAvgPoolNd,
_AdaptiveMaxPoolNd): they keep their arguments as given (torch's attributes and reprs) and run
the functional, which checks them at every forward as torch's do. ``geometry`` is the layer's
PoolSpec or AdaptivePoolSpec, normalized by the same functional code."""
from __future__ import annotations

from npconv.kernels.geometry import AdaptivePoolSpec, PoolSpec, ntuple
from npconv.nn.functional import pooling as P
from npconv.nn.modules.module import Module


class _MaxPoolNd(Module):
    """Max over (dilated) kernel_size windows of the trailing spatial axes."""

    _functional = None  # the functional each subclass runs

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return self._functional(input, self.kernel_size, self.stride, self.padding,
                                self.dilation, ceil_mode=self.ceil_mode,
                                return_indices=self.return_indices)

    @property
    def geometry(self) -> PoolSpec:
        """The layer's PoolSpec, normalized and checked by the functional's code."""
        return P.pool_spec(self._functional.__name__, self.kernel_size, self.stride,
                           self.padding, self.dilation, self.ceil_mode)

    def extra_repr(self) -> str:
        return ("kernel_size={kernel_size}, stride={stride}, padding={padding}, "
                "dilation={dilation}, ceil_mode={ceil_mode}".format(**self.__dict__))


class MaxPool1d(_MaxPoolNd):
    """Max pooling of (N, C, L) or (C, L) input, as torch.nn.MaxPool1d."""

    _functional = staticmethod(P.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max pooling of (N, C, H, W) or (C, H, W) input, as torch.nn.MaxPool2d."""

    _functional = staticmethod(P.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) input, as torch.nn.MaxPool3d."""

    _functional = staticmethod(P.max_pool3d)


class _AvgPoolNd(Module):
    """Mean over kernel_size windows of the trailing spatial axes."""

    _functional = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return self._functional(input, self.kernel_size, self.stride, self.padding,
                                self.ceil_mode, self.count_include_pad, self.divisor_override)

    @property
    def geometry(self) -> PoolSpec:
        """The layer's PoolSpec (dilation 1), normalized and checked by the functional's code."""
        return P.pool_spec(self._functional.__name__, self.kernel_size, self.stride,
                           self.padding, 1, self.ceil_mode)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Average pooling of (N, C, L) or (C, L) input, as torch.nn.AvgPool1d (which keeps its
    arguments as 1-tuples; avg_pool1d has no divisor_override)."""

    _functional = staticmethod(P.avg_pool1d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__(ntuple(kernel_size, 1),
                         ntuple(stride if stride is not None else kernel_size, 1),
                         ntuple(padding, 1), ceil_mode, count_include_pad)

    def forward(self, input):
        return self._functional(input, self.kernel_size, self.stride, self.padding,
                                self.ceil_mode, self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Average pooling of (N, C, H, W) or (C, H, W) input, as torch.nn.AvgPool2d."""

    _functional = staticmethod(P.avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) input, as torch.nn.AvgPool3d."""

    _functional = staticmethod(P.avg_pool3d)


class _AdaptivePoolNd(Module):
    """Pooling over the adaptive windows that give output_size (None keeps an axis' size)."""

    _functional = None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    @property
    def geometry(self) -> AdaptivePoolSpec:
        """The layer's AdaptivePoolSpec (a None stays None: that axis keeps its input size)."""
        return P.adaptive_spec(self._functional.__name__, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveAvgPoolNd(_AdaptivePoolNd):
    """Mean over each adaptive window."""

    def forward(self, input):
        return self._functional(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """As torch.nn.AdaptiveAvgPool1d."""

    _functional = staticmethod(P.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """As torch.nn.AdaptiveAvgPool2d; (1, 1) is global average pooling (ResNet's head)."""

    _functional = staticmethod(P.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """As torch.nn.AdaptiveAvgPool3d."""

    _functional = staticmethod(P.adaptive_avg_pool3d)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    """Max over the adaptive windows that give output_size; with return_indices, also the
    flat index of each maximum."""

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return self._functional(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """As torch.nn.AdaptiveMaxPool1d."""

    _functional = staticmethod(P.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """As torch.nn.AdaptiveMaxPool2d."""

    _functional = staticmethod(P.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """As torch.nn.AdaptiveMaxPool3d."""

    _functional = staticmethod(P.adaptive_max_pool3d)
