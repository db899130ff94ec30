"""dropout and channel dropout (dropout1d/2d/3d), as torch.nn.functional."""
from __future__ import annotations

import warnings

from npconv.autograd.nn_ops import Dropout
from npconv.nn.functional.activation import as_inplace
from npconv.random import default_generator
from npconv.tensor import Tensor


def _check_probability(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _drop(input: Tensor, p: float, training: bool, inplace: bool, mask_axes=None) -> Tensor:
    """Zero with probability p and scale the kept by 1 / (1 - p); one draw per element, or per
    index of the first ``mask_axes`` axes (shared over the rest)."""
    if not training or p == 0:
        return input
    if p < 1 and not input.dtype.is_floating_point:
        raise RuntimeError("result type Float can't be cast to the desired output type "
                           f"{input.dtype.legacy_name} (dropout scales kept elements by "
                           "1 / (1 - p); convert the input with .float())")
    mask_shape = None if mask_axes is None else \
        tuple(input.shape[:mask_axes]) + (1,) * (input.dim() - mask_axes)
    result = Dropout.apply(input, p=p, rng=default_generator().numpy_rng, mask_shape=mask_shape)
    return as_inplace(input, result, inplace)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p), so the expected
    output is the input; the identity when not training."""
    _check_probability(p)
    return _drop(input, p, training, inplace)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool,
                     batched: bool) -> Tensor:
    """Whole channels zeroed: one draw per (sample, channel), or per channel when unbatched."""
    if batched and input.dim() < 2 and training and p > 0:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _drop(input, p, training, inplace, mask_axes=2 if batched else 1)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, L) or unbatched (C, L) input."""
    _check_probability(p)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout on "
                           "inputs with 1 spatial dimension, a channel dimension, and an optional "
                           "batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, batched=input.dim() == 3)


def _warn_unusual_dims(name: str, input: Tensor, spatial: int) -> None:
    if input.dim() not in (spatial + 1, spatial + 2):
        warnings.warn(f"{name}: Received a {input.dim()}-D input to {name}, which is deprecated "
                      "and will result in an error in a future release. To retain the behavior "
                      f"and silence this warning, please use dropout instead. Note that {name} "
                      f"exists to provide channel-wise dropout on inputs with {spatial} spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"{spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, H, W) input; a 3-D input is read as (N, C, L), as torch does
    (with its warning)."""
    _check_probability(p)
    _warn_unusual_dims("dropout2d", input, 2)
    if input.dim() == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape (C, H, "
                      "W). To maintain the 1D channel-wise dropout behavior, please switch to "
                      "using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, batched=True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, D, H, W) or unbatched (C, D, H, W) input."""
    _check_probability(p)
    _warn_unusual_dims("dropout3d", input, 3)
    return _feature_dropout(input, p, training, inplace, batched=input.dim() == 5)
