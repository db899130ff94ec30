"""dropout, as torch.nn.functional.dropout."""
from __future__ import annotations

from npconv.autograd.nn_ops import Dropout
from npconv.nn.functional.activation import as_inplace
from npconv.random import default_generator
from npconv.tensor import Tensor


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p), so the expected
    output is the input; the identity when not training."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p < 1 and not input.dtype.is_floating_point:
        raise RuntimeError("result type Float can't be cast to the desired output type "
                           f"{input.dtype.legacy_name} (dropout scales kept elements by "
                           "1 / (1 - p); convert the input with .float())")
    return as_inplace(input, Dropout.apply(input, p=p, rng=default_generator().numpy_rng), inplace)
