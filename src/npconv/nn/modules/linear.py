"""Linear and Identity, as torch.nn."""
from __future__ import annotations

from npconv import creation
from npconv.device import check_device
from npconv.nn import functional as F
from npconv.nn import init
from npconv.nn.modules.module import Module
from npconv.nn.parameter import Parameter


class Identity(Module):
    """Returns its input; accepts and ignores any arguments, as torch's."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b with weight (out_features, in_features) and bias (out_features,), both
    U(-1/sqrt(in_features), 1/sqrt(in_features)) (kaiming_uniform with a=sqrt(5), as torch)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        if device is not None:
            check_device(device)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(creation.empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
