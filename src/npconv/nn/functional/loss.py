"""Losses, as torch.nn.functional, with torch's signatures (the legacy size_average and
reduce included) and checks: cross_entropy, nll_loss, mse_loss, l1_loss, smooth_l1_loss,
huber_loss, binary_cross_entropy, binary_cross_entropy_with_logits."""
from __future__ import annotations

import warnings

from npconv import dtypes
from npconv._backend import xp
from npconv.autograd import loss_ops
from npconv.autograd.nn_ops import NLLLoss
from npconv.nn.functional.activation import log_softmax
from npconv.tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def legacy_reduction(size_average, reduce, reduction: str = "mean", stacklevel: int = 3) -> str:
    """reduction, or torch's reading of the deprecated size_average and reduce flags when
    either is given (None means True): both true 'mean', reduce alone 'sum', else 'none'."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", stacklevel=stacklevel)
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return loss if reduction == "none" else loss.mean() if reduction == "mean" else loss.sum()


def _reduce_weighted(loss: Tensor, weight, reduction: str, mean_by_weight: bool) -> Tensor:
    """weight * loss reduced; 'mean' divides by sum(weight) if mean_by_weight (l1, mse) or by
    the element count (huber), as torch."""
    if weight is None:
        _check_reduction(reduction)
        return _reduce(loss, reduction)
    if weight.shape != loss.shape:
        raise ValueError("Weights and input must have the same size.")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                         "'sum'.")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _warn_if_broadcast(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _check_floating_result(kernel: str, input: Tensor, target: Tensor) -> None:
    result = dtypes.as_dtype(xp.result_type(input.dtype.np, target.dtype.np))
    if not result.is_floating_point:
        raise dtypes.not_implemented_for(kernel, result, "the loss is computed in floating "
                                         "point: convert input or target with .float()")


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


def nll_loss(input: Tensor, target: Tensor, weight=None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """-w[t] * input[t] per sample (input holds log-probabilities over dim 1); 'mean' divides
    the sum by the sum of w[t] over samples whose target is not ignore_index."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _nll(input, target, weight, ignore_index, reduction, 0.0)


def cross_entropy(input: Tensor, target: Tensor, weight=None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """nll_loss(log_softmax(input, class dim)) for class-index targets; for class-probability
    targets (same shape as input) -sum_c w[c] * p[c] * log_softmax(input)[c], where label
    smoothing eps replaces p by (1 - eps) p + eps / C (and index targets likewise). As in torch,
    eps <= 0 (or NaN) means no smoothing, eps > 1 is an error; checks run in torch's order."""
    reduction = legacy_reduction(size_average, reduce, reduction)
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


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight=None) -> Tensor:
    """(input - target)^2, averaged (by sum(weight) when weighted) or summed unless
    reduction='none'."""
    _warn_if_broadcast(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_floating_result("mse_cpu", input, target)
    diff = input - target
    return _reduce_weighted(diff * diff, weight, reduction, mean_by_weight=True)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight=None) -> Tensor:
    """|input - target|, averaged (by sum(weight) when weighted) or summed unless
    reduction='none'."""
    _warn_if_broadcast(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _reduce_weighted((input - target).abs(), weight, reduction, mean_by_weight=True)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, for d = input - target; beta = 0
    is l1_loss."""
    _warn_if_broadcast(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta. (got "
                           f"beta={beta}; beta=0 gives l1_loss)")
    _check_floating_result("smooth_l1_cpu", input, target)
    return _reduce(loss_ops.SmoothL1Loss.apply(input - target, beta=beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight=None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), for d = input - target
    (optionally times weight; 'mean' is then over the elements, as torch)."""
    _warn_if_broadcast(input, target)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta. (got "
                           f"delta={delta})")
    _check_floating_result("huber_cpu", input, target)
    loss = loss_ops.HuberLoss.apply(input - target, delta=delta)
    return _reduce_weighted(loss, weight, reduction, mean_by_weight=False)


def _bce_reduction(input: Tensor, target: Tensor, size_average, reduce, reduction: str) -> str:
    reduction = legacy_reduction(size_average, reduce, reduction, stacklevel=4)
    _check_reduction(reduction)
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {target.dtype.legacy_name} but expected "
                           f"{input.dtype.legacy_name} (convert the target with "
                           f".to(input.dtype))")
    return reduction


def _expand_weight(weight, shape):
    """binary_cross_entropy's weight (or None) as the array the loss op multiplies by: it must
    broadcast to the input's shape (torch expands it there)."""
    if weight is None:
        return None
    for i in range(1, min(weight.dim(), len(shape)) + 1):
        if weight.shape[-i] not in (1, shape[-i]):
            raise RuntimeError(f"Attempting to broadcast a dimension of length "
                               f"{weight.shape[-i]} at {-i}! Mismatching argument at index 1 "
                               f"had {weight.shape}; but expected shape should be broadcastable "
                               f"to {list(shape)}")
    if weight.dim() > len(shape):
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(xp.broadcast_shapes(weight.shape, shape))}")
    return weight.data_array


def binary_cross_entropy(input: Tensor, target: Tensor, weight=None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x, each log clamped to >= -100."""
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")
    reduction = _bce_reduction(input, target, size_average, reduce, reduction)
    for name, t in (("input", input), ("target", target)):
        a = t.data_array
        if not ((a >= 0) & (a <= 1)).all():
            raise RuntimeError(f"all elements of {name} should be between 0 and 1 (the {name} "
                               "holds probabilities: apply sigmoid first, or use "
                               "binary_cross_entropy_with_logits on the logits)")
    loss = loss_ops.BinaryCrossEntropy.apply(input, target,
                                             weight=_expand_weight(weight, input.shape))
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight=None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """binary_cross_entropy(sigmoid(x), t) computed stably from the logits x:
    w ((1 - t) x - (1 + (pos_weight - 1) t) log_sigmoid(x)); pos_weight (broadcast along the
    last dim) weighs the positive targets."""
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    reduction = _bce_reduction(input, target, size_average, reduce, reduction)
    if not input.dtype.is_floating_point:
        raise dtypes.not_implemented_for("log_sigmoid_cpu", input.dtype, "the logits are "
                                         "floating point: convert them with .float()")
    if pos_weight is not None:
        _check_broadcast(pos_weight.shape, input.shape)  # torch's operand order: (pw - 1) * t
    if weight is not None:
        _check_broadcast(input.shape, weight.shape)  # and loss * weight
    loss = loss_ops.BinaryCrossEntropyWithLogits.apply(
        input, target, weight=None if weight is None else weight.data_array,
        pos_weight=None if pos_weight is None else pos_weight.data_array)
    return _reduce(loss, reduction)


def _check_broadcast(a, b) -> None:
    """torch's error for operands a and b of an elementwise op that do not broadcast."""
    for i in range(1, min(len(a), len(b)) + 1):
        if a[-i] != b[-i] and 1 not in (a[-i], b[-i]):
            raise RuntimeError(f"The size of tensor a ({a[-i]}) must match the size of tensor b "
                               f"({b[-i]}) at non-singleton dimension {max(len(a), len(b)) - i}")
