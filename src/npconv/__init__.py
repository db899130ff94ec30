"""npconv: a from-scratch, PyTorch-compatible convolution library on NumPy.

``import npconv as torch`` gives the tensor API and, as ``import torch`` does, the subpackages
``nn`` (with ``functional`` and ``init``), ``optim``, ``utils.data``, ``autograd``, ``cuda``,
``backends`` and ``accelerator`` (the last three report no device); ``npconv.vision`` mirrors
torchvision and is imported on its own, as torchvision is.
"""
from npconv import accelerator, autograd, backends, cuda, nn, optim, utils
from npconv.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from npconv.creation import (arange, as_tensor, cat, concat, empty, from_numpy, full, linspace,
                             ones, ones_like, rand, randint, randn, randperm, stack, tensor, zeros,
                             zeros_like)
from npconv.device import device
from npconv.dtypes import (bool, double, dtype, float, float16, float32, float64, get_default_dtype,
                           half, int, int8, int16, int32, int64, long, set_default_dtype, short,
                           uint8)
from npconv.functional_ops import (abs, allclose, amax, argmax, argmin, clamp, eq, equal, exp,
                                   flatten, is_tensor, log, log_softmax, matmul, max, mean, min, mm,
                                   numel, permute, relu, reshape, sigmoid, softmax, sqrt, squeeze,
                                   std, sum, tanh, transpose, unsqueeze, var, where)
from npconv.random import Generator, initial_seed, manual_seed
from npconv import serialization
from npconv.serialization import save
from npconv.tensor import Size, Tensor

__version__ = "0.1.0"


def load(f, map_location=None, weights_only=True):
    """Read what npconv.save wrote; never unpickles (map_location and weights_only are accepted
    for torch compatibility: there is only the CPU, and only weights can be stored)."""
    return serialization.load(f)
