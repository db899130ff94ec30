"""Weight initialisers, as torch.nn.init: each fills its tensor in place under no_grad (bumping its
version) from ``generator``, or from npconv's default generator when None."""
from __future__ import annotations

import math
import warnings

from npconv._backend import xp
from npconv.autograd import no_grad
from npconv.random import default_generator

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d", "sigmoid")
_FAN_MODES = ["fan_in", "fan_out"]


def calculate_gain(nonlinearity: str, param=None):
    """Recommended gain: linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2),
    leaky_relu sqrt(2 / (1 + negative_slope^2)) (slope ``param``, default 0.01), selu 3/4."""
    if nonlinearity in _LINEAR_FNS:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number (pass an int or float "
                             f"slope, not {type(param).__name__})")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity} (expected one of "
                     f"{', '.join(_LINEAR_FNS)}, tanh, relu, leaky_relu, selu)")


def _calculate_fan_in_and_fan_out(tensor):
    """fan_in = size(1) * receptive field, fan_out = size(0) * receptive field, where the
    receptive field is the product of the sizes after the first two."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {tuple(tensor.shape)}; these initialisers are "
                         "for weights shaped (out, in, *kernel))")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in _FAN_MODES:
        raise ValueError(f"Mode {mode} not supported, please use one of {_FAN_MODES} "
                         "(fan_in keeps the variance of the forward pass, fan_out of the backward)")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check_dimensions(tensor, supported: bool, text: str) -> None:
    if not supported:
        raise ValueError(f"Only tensors with {text} dimensions are supported (got shape "
                         f"{tuple(tensor.shape)})")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """U(a, b)."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """N(mean, std^2)."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor, val):
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor):
    with no_grad():
        return tensor.zero_()


def ones_(tensor):
    return constant_(tensor, 1.0)


def eye_(tensor):
    """The identity matrix (ones on the main diagonal of a 2-d tensor of any shape)."""
    _check_dimensions(tensor, tensor.dim() == 2, "2")
    with no_grad():
        return tensor.copy_(xp.eye(*tensor.shape))


def dirac_(tensor, groups: int = 1):
    """Dirac delta at each kernel's centre: a conv with this weight passes its first
    min(out/groups, in) input channels of each group through unchanged."""
    _check_dimensions(tensor, tensor.dim() in (3, 4, 5), "3, 4, or 5")
    out_per_group = tensor.shape[0] // groups
    if tensor.shape[0] % groups != 0:
        raise ValueError(f"dim 0 must be divisible by groups (dim 0 is {tensor.shape[0]}, "
                         f"groups={groups})")
    weight = xp.zeros(tensor.shape)
    centre = tuple(s // 2 for s in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, tensor.shape[1])):
            weight[(g * out_per_group + d, d) + centre] = 1
    with no_grad():
        return tensor.copy_(weight)


def _zero_elements(tensor) -> bool:
    """torch's kaiming initialisers skip empty tensors, with a warning."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound), bound = gain * sqrt(3 / fan) (He et al., 2015); fan by ``mode``, gain
    by ``calculate_gain(nonlinearity, a)``."""
    if _zero_elements(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2), std = gain / sqrt(fan) (He et al., 2015)."""
    if _zero_elements(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix times gain, over the tensor flattened to (size(0), rest): Q of
    the QR factorization of a standard normal matrix, its columns' signs fixed by diag(R) so Q is
    uniformly (Haar) distributed (Mezzadri, 2006)."""
    _check_dimensions(tensor, tensor.dim() >= 2, "2 or more")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    rng = (generator or default_generator()).numpy_rng
    flattened = rng.standard_normal((rows, cols))
    q, r = xp.linalg.qr(flattened if rows >= cols else flattened.T)
    q *= xp.sign(xp.diag(r))
    q = q if rows >= cols else q.T
    with no_grad():
        return tensor.copy_(gain * q.reshape(tensor.shape))


def _norm_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std^2) restricted to [a, b], by rejection as torch: when [a, b] holds more than 0.3
    of the normal's mass, redraw from the normal what falls outside; otherwise propose from
    U[a, b] and accept x with probability pdf(x) / pdf(mode), mode = clip(mean, a, b)."""
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    rng = (generator or default_generator()).numpy_rng
    dtype = tensor.dtype.np
    with no_grad():
        if _norm_cdf((b - mean) / std) - _norm_cdf((a - mean) / std) > 0.3:
            lo, hi = dtype.type(a), dtype.type(b)  # the bounds as the tensor stores them
            values = rng.normal(mean, std, tensor.shape).astype(dtype)
            outside = (values < lo) | (values > hi)
            while outside.any():
                values[outside] = rng.normal(mean, std, int(outside.sum()))
                outside = (values < lo) | (values > hi)
        else:
            values = tensor.uniform_(a, b, generator=generator).numpy().copy()
            mode = max(a, min(mean, b))

            def log_acceptance(x):
                return -0.5 * ((x - mean) / std) ** 2 + 0.5 * ((mode - mean) / std) ** 2

            pending = xp.log(rng.uniform(size=values.shape)) > log_acceptance(values)
            while pending.any():
                values[pending] = rng.uniform(a, b, int(pending.sum()))
                pending[pending] = (xp.log(rng.uniform(size=int(pending.sum())))
                                    > log_acceptance(values[pending]))
        return tensor.copy_(values)


def default_layer_init_(weight, bias=None):
    """torch's default for Linear and ConvNd: weight U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (that is
    kaiming_uniform with a=sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) when fan_in > 0."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        if fan_in > 0:
            bound = 1 / math.sqrt(fan_in)
            uniform_(bias, -bound, bound)
