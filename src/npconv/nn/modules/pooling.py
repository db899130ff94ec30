"""Pooling modules: arguments checked once at construction, the work done in functional."""
from __future__ import annotations

from npconv.nn.functional import pooling as P
from npconv.nn.modules.module import Module


class MaxPool2d(Module):
    """Max over kernel_size windows of (N, C, H, W) or (C, H, W) input, as torch.nn.MaxPool2d."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode
        self.args = P.pool_args("max_pool2d", kernel_size, stride, padding, dilation)

    def forward(self, input):
        return P.max_pool2d_with_args(input, self.args, self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return ("kernel_size={kernel_size}, stride={stride}, padding={padding}, "
                "dilation={dilation}, ceil_mode={ceil_mode}".format(**self.__dict__))


class AvgPool2d(Module):
    """Mean over kernel_size windows of (N, C, H, W) or (C, H, W) input, as torch.nn.AvgPool2d."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override
        self.args = P.pool_args("avg_pool2d", kernel_size, stride, padding)
        P.check_divisor(divisor_override)

    def forward(self, input):
        return P.avg_pool2d_with_args(input, self.args, self.ceil_mode, self.count_include_pad,
                                      self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
