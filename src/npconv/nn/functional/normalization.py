"""batch_norm, instance_norm, layer_norm and group_norm, as torch.nn.functional, with torch's
checks. All four run one op (npconv.autograd.norm_ops.Normalize) over different axes."""
from __future__ import annotations

import math
import numbers

from npconv import dtypes
from npconv.autograd.norm_ops import Normalize
from npconv.tensor import Tensor


def _verify_batch_size(size) -> None:
    """Batch statistics need more than one value per channel (torch's check)."""
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{size} (the variance of a single value is undefined: use a batch "
                         "of more than one sample, or eval mode)")


def _verify_spatial_size(size) -> None:
    if math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{size} (instance statistics are over the spatial positions of each "
                         "sample and channel)")


def _check_floating(input: Tensor, *params) -> None:
    """A floating input, and parameters of its dtype (float32 parameters for a float16 input
    too, as torch's CPU kernels accept)."""
    if not input.dtype.is_floating_point:
        raise dtypes.not_implemented_for("batch_norm", input.dtype,
                                         "normalization computes in floating point: convert "
                                         "the input with .float()")
    allowed = {input.dtype.name} | ({"float32"} if input.dtype.name == "float16" else set())
    for p in params:
        if p is not None and p.dtype.name not in allowed:
            raise RuntimeError(f"mixed dtype (CPU): expect parameter to have scalar type of "
                               f"{input.dtype.legacy_name} (got {p.dtype.legacy_name}: convert "
                               "the parameters and buffers with module.to(input.dtype))")


def _check_per_channel(name: str, tensor, features: int) -> None:
    if tensor is not None and tensor.numel() != features:
        raise RuntimeError(f"{name} should contain {features} elements not {tensor.numel()} "
                           f"(one per channel: input.shape[1] is {features})")


def _channel_stats(running_mean, running_var, param_shape):
    """The running statistics as Normalize's constant (mean, var), broadcast over channels."""
    return tuple(t.data_array.reshape(param_shape) for t in (running_mean, running_var))


def _update_running(running, stat, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * stat, written in place as torch's kernel
    does (without a version bump: buffers are not saved for backward)."""
    if running is not None:
        running.data_array[...] = (1 - momentum) * running.data_array + momentum * stat


def batch_norm(input: Tensor, running_mean, running_var, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias per channel (dim 1), with the batch's
    statistics over all other dims when training (then running = (1 - momentum) * running +
    momentum * stat, var unbiased), else running_mean and running_var."""
    if training:
        _verify_batch_size(input.shape)
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if input.dim() < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got "
                         f"1) (batch_norm needs a (N, C, *) input, got {input.dim()}-D)")
    features = input.shape[1]
    for name, tensor in (("running_mean", running_mean), ("running_var", running_var)):
        if tensor is None and not training:
            raise RuntimeError(f"{name} must be defined in evaluation mode (pass the running "
                               "statistics, or training=True to use the batch's)")
        _check_per_channel(name, tensor, features)
    _check_per_channel("weight", weight, features)
    _check_per_channel("bias", bias, features)
    _check_floating(input, weight, bias, running_mean, running_var)
    axes = (0, *range(2, input.dim()))
    param_shape = (1, features) + (1,) * (input.dim() - 2)
    stats = None if training else _channel_stats(running_mean, running_var, param_shape)
    y, mean, var = Normalize.apply(input, weight, bias, axes=axes, param_shape=param_shape,
                                   eps=eps, stats=stats)
    if training:
        n = input.numel() // max(features, 1)
        _update_running(running_mean, mean.data_array.reshape(features), momentum)
        _update_running(running_var, var.data_array.reshape(features) * (n / max(n - 1, 1)),
                        momentum)
    return y


def instance_norm(input: Tensor, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """batch_norm per sample: statistics over each (sample, channel)'s positions. Running
    statistics, when given, average the samples' (as torch)."""
    if use_input_stats:
        _verify_spatial_size(input.shape)
    features = input.shape[1]
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    for name, tensor in (("running_mean", running_mean), ("running_var", running_var),
                         ("weight", weight), ("bias", bias)):
        _check_per_channel(name, tensor, features)
    _check_floating(input, weight, bias, running_mean, running_var)
    param_shape = (1, features) + (1,) * (input.dim() - 2)
    stats = None if use_input_stats else _channel_stats(running_mean, running_var,
                                                           param_shape)
    y, mean, var = Normalize.apply(input, weight, bias, axes=tuple(range(2, input.dim())),
                                   param_shape=param_shape, eps=eps, stats=stats)
    if use_input_stats:
        n = math.prod(input.shape[2:])
        _update_running(running_mean, mean.data_array.mean(axis=0).reshape(features), momentum)
        _update_running(running_var, (var.data_array * (n / max(n - 1, 1))).mean(axis=0)
                        .reshape(features), momentum)
    return y


def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None,
               eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias, statistics over the trailing
    normalized_shape dims of each sample; weight and bias have shape normalized_shape."""
    shape = [normalized_shape] if isinstance(normalized_shape, numbers.Integral) \
        else list(normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and list(tensor.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(tensor.shape)} and normalized_shape "
                               f"= {shape}")
    k = len(shape)
    if input.dim() < k or list(input.shape[input.dim() - k:]) != shape:
        star = ", ".join(["*"] + [str(s) for s in shape])
        raise RuntimeError(f"Given normalized_shape={shape}, expected input with shape "
                           f"[{star}], but got input of size{list(input.shape)}")
    _check_floating(input, weight, bias)
    lead = input.dim() - k
    y, _, _ = Normalize.apply(input, weight, bias, axes=tuple(range(lead, input.dim())),
                              param_shape=(1,) * lead + tuple(shape), eps=eps)
    return y


def group_norm(input: Tensor, num_groups: int, weight=None, bias=None,
               eps: float = 1e-5) -> Tensor:
    """The C channels split into num_groups groups; each sample's group is normalized over its
    channels and positions, then weight and bias apply per channel."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    n, channels = input.shape[:2]
    _verify_batch_size([n * channels // num_groups, num_groups, *input.shape[2:]])
    if channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and (tensor.dim() != 1 or tensor.numel() != channels):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape "
                               f"{list(tensor.shape)} and input of shape {list(input.shape)}")
    _check_floating(input, weight, bias)
    grouped = input.reshape(n, num_groups, channels // num_groups, -1)
    y, _, _ = Normalize.apply(grouped, weight, bias, axes=(2, 3),
                              param_shape=(1, num_groups, channels // num_groups, 1), eps=eps)
    return y.reshape(input.shape)
