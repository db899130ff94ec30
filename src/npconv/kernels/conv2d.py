"""Registry of conv2d algorithms.

An algorithm is a module with three array functions (no autograd, no Tensor):

    forward(x, w, spec) -> y                      (N, C, H, W), (O, C/g, KH, KW) -> (N, O, OH, OW)
    backward_data(gy, w, spec, x_shape) -> gx
    backward_weight(gy, x, spec, w_shape) -> gw

all without bias and with zero padding per spec.padding (spec.padding_mode is the caller's job).
To add one (say Winograd or FFT), write kernels/conv2d_<name>.py with those three functions
and add it to ALGORITHMS: tests/kernels/test_conv_kernels.py checks every entry against torch.
"""
from __future__ import annotations

from npconv.kernels import conv2d_direct, conv2d_im2col

ALGORITHMS = {"im2col": conv2d_im2col, "direct": conv2d_direct}
DEFAULT = "im2col"


def algorithm(name: str = DEFAULT):
    """The algorithm module registered under name; KeyError lists the known names."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise KeyError(f"unknown conv2d algorithm {name!r}; known: {sorted(ALGORITHMS)}") from None

