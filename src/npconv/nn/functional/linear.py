"""linear: y = x W^T + b, with torch's shape and dtype checks."""
from __future__ import annotations

import math

from npconv.autograd.nn_ops import Linear
from npconv.dtypes import cpp_type_name
from npconv.tensor import Tensor


def linear(input: Tensor, weight: Tensor, bias=None) -> Tensor:
    """y = input @ weight^T + bias for input (*, in_features) and weight (out_features,
    in_features)."""
    if input.dtype != weight.dtype:
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                           f"{cpp_type_name(input.dtype)} != {cpp_type_name(weight.dtype)}")
    if input.shape[-1] != weight.shape[-1]:
        rows = math.prod(input.shape[:-1])
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} "
                           f"and {weight.shape[-1]}x{weight.shape[0]})")
    return Linear.apply(input, weight, bias)
