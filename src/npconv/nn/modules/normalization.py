"""LayerNorm and GroupNorm, as torch.nn.modules.normalization."""
from __future__ import annotations

import numbers

from npconv import creation
from npconv.device import check_device
from npconv.nn import functional as F
from npconv.nn import init
from npconv.nn.modules.module import Module
from npconv.nn.parameter import Parameter


def register_affine(module: Module, shape, affine: bool, bias: bool, dtype) -> None:
    """weight and bias parameters of ``shape`` (or None each, as torch registers them), set by
    reset_affine."""
    module.register_parameter("weight", Parameter(creation.empty(*shape, dtype=dtype))
                              if affine else None)
    module.register_parameter("bias", Parameter(creation.empty(*shape, dtype=dtype))
                              if affine and bias else None)
    reset_affine(module)


def reset_affine(module: Module) -> None:
    """weight = 1 and bias = 0 (the identity), as torch initializes every norm layer."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Normalize each sample over its trailing normalized_shape dims, then weight and bias of
    that shape (elementwise_affine)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        if device is not None:
            check_device(device)
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        register_affine(self, self.normalized_shape, elementwise_affine, bias, dtype)

    def reset_parameters(self) -> None:
        reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Split the channels into num_groups groups and normalize each sample's group over its
    channels and positions; then per-channel weight and bias (affine)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if device is not None:
            check_device(device)
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        register_affine(self, (num_channels,), affine, bias, dtype)

    def reset_parameters(self) -> None:
        reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")
