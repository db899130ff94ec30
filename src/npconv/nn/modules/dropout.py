"""Dropout and Dropout1d/2d/3d on one _DropoutNd base, as torch.nn.modules.dropout: active in
training mode, the identity in eval mode."""
from __future__ import annotations

from npconv.nn import functional as F
from npconv.nn.modules.module import Module


class _DropoutNd(Module):
    """p (checked as torch) and inplace; subclasses name their functional in ``function``."""

    function = None

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return type(self).function(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero elements with probability p while training, scaling the rest by 1 / (1 - p)."""

    function = staticmethod(F.dropout)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) input with probability p."""

    function = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) input with probability p."""

    function = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p."""

    function = staticmethod(F.dropout3d)
