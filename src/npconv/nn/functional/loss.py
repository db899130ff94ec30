"""Losses, as torch.nn.functional: cross_entropy, nll_loss, mse_loss (torch's checks)."""
from __future__ import annotations

import warnings

from npconv import dtypes
from npconv._backend import xp
from npconv.autograd.nn_ops import NLLLoss
from npconv.nn.functional.activation import log_softmax
from npconv.tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return loss if reduction == "none" else loss.mean() if reduction == "mean" else loss.sum()


def _check_nll(input: Tensor, target: Tensor, weight, ignore_index: int) -> None:
    """torch's nll_loss checks, in its order and with its exception types."""
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() != 1 and input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0]}).")
    if input.dim() <= 2 and target.dim() > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    expected = [input.shape[0], *input.shape[2:]]
    if input.dim() > 2 and list(target.shape) != expected:
        raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")
    if target.dtype.name not in ("int64", "uint8"):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{target.dtype.legacy_name}")
    classes = input.shape[1 if input.dim() > 1 else 0]
    if weight is not None:
        if weight.dim() != 1 or weight.numel() != classes:
            raise RuntimeError(f"weight tensor should be defined either for all {classes} classes "
                               f"or no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")
    if not input.dtype.is_floating_point:
        kernel = "nll_loss_out_frame" if input.dim() <= 2 else "nll_loss2d_forward_out_frame"
        raise dtypes.not_implemented_for(kernel, input.dtype,
                                         "input holds log-probabilities, which are floating "
                                         "point: convert it with .float()")
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.legacy_name} but "
                           f"found {weight.dtype.legacy_name}")
    t = target.data_array
    bad = (t != ignore_index) & ((t < 0) | (t >= classes))
    if bad.any():
        raise IndexError(f"Target {t[bad].flat[0]} is out of bounds.")


def _nll(logp: Tensor, target: Tensor, weight, ignore_index, reduction, label_smoothing):
    """The checked NLL core; an unbatched (C,) input is treated as a batch of one."""
    _check_reduction(reduction)
    _check_nll(logp, target, weight, ignore_index)
    unbatched = logp.dim() == 1
    t = target.data_array.astype(xp.int64, copy=False)
    loss = NLLLoss.apply(logp.reshape(1, -1) if unbatched else logp,
                         t.reshape(1) if unbatched else t,
                         weight=None if weight is None else weight.data_array,
                         ignore_index=ignore_index, reduction=reduction,
                         label_smoothing=label_smoothing)
    return loss.reshape(()) if unbatched and reduction == "none" else loss


def nll_loss(input: Tensor, target: Tensor, weight=None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """-w[t] * input[t] per sample (input holds log-probabilities over dim 1); 'mean' divides
    the sum by the sum of w[t] over samples whose target is not ignore_index."""
    return _nll(input, target, weight, ignore_index, reduction, 0.0)


def cross_entropy(input: Tensor, target: Tensor, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """nll_loss(log_softmax(input, class dim)) for class-index targets; for class-probability
    targets (same shape as input) -sum_c w[c] * p[c] * log_softmax(input)[c], where label
    smoothing eps replaces p by (1 - eps) p + eps / C (and index targets likewise). As in torch,
    eps <= 0 (or NaN) means no smoothing, eps > 1 is an error; checks run in torch's order."""
    _check_reduction(reduction)
    eps = label_smoothing if label_smoothing > 0 else 0.0
    class_dim = 0 if input.dim() == 1 else 1
    if input.shape != target.shape:
        _check_smoothing(eps)
        return _nll(log_softmax(input, class_dim), target, weight, ignore_index, reduction, eps)
    if not target.dtype.is_floating_point:
        raise RuntimeError("Expected floating point type for target with class probabilities, "
                           f"got {target.dtype.legacy_name}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    logp = log_softmax(input, class_dim)
    _check_smoothing(eps)
    classes = input.shape[class_dim]
    if eps > 0:
        target = target * (1 - eps) + eps / classes
    if weight is not None:
        logp = logp * weight.reshape([classes] + [1] * (input.dim() - 2))
    return _reduce(-(logp * target).sum(class_dim), reduction)


def _check_smoothing(eps) -> None:
    if eps > 1.0:  # :g prints a double as torch's C++ stream does (2.0 -> 2)
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {eps:g}")


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """(input - target)^2, averaged or summed unless reduction='none'."""
    _check_reduction(reduction)
    result = dtypes.as_dtype(xp.result_type(input.dtype.np, target.dtype.np))
    if not result.is_floating_point:
        raise dtypes.not_implemented_for("mse_cpu", result,
                                         "the squared error is computed in floating point: "
                                         "convert input or target with .float()")
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=2)
    diff = input - target
    return _reduce(diff * diff, reduction)
