"""Registry of conv algorithms.

An algorithm is a module with three array functions (no autograd, no Tensor), for any number of
spatial axes it supports:

    forward(x, w, spec) -> y                      (N, C, *S), (O, C/g, *K) -> (N, O, *Q)
    backward_data(gy, w, spec, x_shape) -> gx
    backward_weight(gy, x, spec, w_shape) -> gw

all without bias and with zero padding per spec.padding (spec.padding_mode is the caller's job;
spec is a kernels.geometry.ConvSpec), plus supports(spec) -> bool and SUPPORTED, a sentence
saying which convs it can do. To add one (say Winograd or FFT), write kernels/conv_<name>.py
with those and add it to ALGORITHMS: tests/kernels/test_conv_kernels.py checks every entry
against torch. choose() picks the algorithm for a given conv; algorithm() looks one up by name.
Neither returns an algorithm for a spec it does not support.

With ``benchmark`` True (npconv.backends.benchmark sets it, as torch.backends.cudnn.benchmark),
choose() instead times every algorithm that supports a conv, once per spec, shapes and dtype, and
keeps the fastest for each op: a Plan, whose three functions may come from different algorithms.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable

from npconv._backend import xp
from npconv.kernels import conv_dilated, conv_direct, conv_im2col, conv_shifted, conv_winograd

ALGORITHMS = {"im2col": conv_im2col, "direct": conv_direct, "winograd": conv_winograd,
              "dilated": conv_dilated, "shifted": conv_shifted}
DEFAULT = "im2col"


def algorithm(name: str = DEFAULT, spec=None):
    """The algorithm module registered under name; KeyError lists the known names, ValueError
    says why it cannot run spec (when given)."""
    try:
        algo = ALGORITHMS[name]
    except KeyError:
        raise KeyError(f"unknown conv algorithm {name!r}; known: {sorted(ALGORITHMS)}") from None
    if spec is not None and not algo.supports(spec):
        able = sorted(n for n, a in ALGORITHMS.items() if a.supports(spec))
        raise ValueError(f"conv algorithm {name!r} does not support this {spec.ndim}-d conv "
                         f"(kernel_size={spec.kernel_size}, groups={spec.groups}): {name} does "
                         f"{algo.SUPPORTED}; use one of {able}, or algo=None to let choose() "
                         "pick")
    return algo


OPS = ("forward", "backward_data", "backward_weight")
benchmark = False
_measured: dict = {}


@dataclasses.dataclass(frozen=True)
class Plan:
    """The algorithm measured fastest for each op of one conv; used as an algorithm module."""

    forward: Callable
    backward_data: Callable
    backward_weight: Callable
    names: tuple  # the algorithm of each op, in OPS order


def name_of(algo) -> str:
    """'im2col', or 'winograd/winograd/im2col' for a Plan (forward/backward_data/backward_weight)."""
    if isinstance(algo, Plan):
        return "/".join(algo.names)
    return next(name for name, module in ALGORITHMS.items() if module is algo)


def choose(spec, x_shape, w_shape, dtype=xp.float32):
    """The algorithm for this conv: measured (see the module docstring) when ``benchmark`` is
    True, else the heuristic of _heuristic."""
    if not benchmark:
        return _heuristic(spec, x_shape, w_shape)
    key = (spec, tuple(x_shape), tuple(w_shape), xp.dtype(dtype).str)
    if key not in _measured:
        _measured[key] = _fastest(spec, tuple(x_shape), tuple(w_shape), xp.dtype(dtype))
    return _measured[key]


def _fastest(spec, x_shape, w_shape, dtype):
    """Time each supporting algorithm's three ops (best of two calls on random arrays of these
    shapes) and combine the fastest of each into a Plan. Convs that im2col computes through its
    dual (padding beyond the kernel) are left to it: the others' loops would cost prod(K) times
    the output there, and even one timing call would be long."""
    able = {name: a for name, a in ALGORITHMS.items() if a.supports(spec)
            and (a is conv_im2col or not conv_im2col.uses_dual(spec, x_shape[2:]))}
    if len(able) == 1:
        return next(iter(able.values()))
    rng = xp.random.default_rng(0)
    x, w = (rng.standard_normal(shape).astype(dtype) for shape in (x_shape, w_shape))
    gy = rng.standard_normal((x_shape[0], w_shape[0], *spec.conv_output_size(x_shape[2:])))
    gy = gy.astype(dtype)
    args = {"forward": (x, w, spec), "backward_data": (gy, w, spec, x_shape),
            "backward_weight": (gy, x, spec, w_shape)}
    best = {}
    for op in OPS:
        times = {name: _best_time(getattr(a, op), args[op]) for name, a in able.items()}
        best[op] = min(times, key=times.get)
    return Plan(*(getattr(able[best[op]], op) for op in OPS), names=tuple(best[op] for op in OPS))


def _best_time(fn, args, calls=2):
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def _heuristic(spec, x_shape, w_shape):
    """The algorithm for this conv: direct for 2-d depthwise (groups > 1, C/g = O/g = 1), else
    im2col.

    Measured on the 2-core reference machine, float32, 3x3, padding 1, forward / backward_data /
    backward_weight ms, im2col -> direct: 64x64x14 3.3/4.9/3.3 -> 2.2/2.4/1.5; 32x128x28
    9.5/18.6/9.5 -> 8.5/8.8/6.6; 32x32x56 6.5/8.7/6.8 -> 7.3/8.0/5.5 (forward ~12% slower, the
    three together faster); stride 2, 64x64x14 1.6/4.0/1.7 -> 1.1/1.4/1.0. With a channel
    multiplier direct's work grows with O/g while im2col's GEMM absorbs it: O/g = 2 was mixed
    (64x64x14 faster, 32x32x56 slower), O/g = 4 slower everywhere (64x64x14 forward 7.3 vs 4.9).
    A padding larger than the dilated kernel goes to im2col too, which then computes the conv
    through its dual (conv_im2col.uses_dual): direct's per-tap loops would cost prod(K) times
    the output, mostly padding (a 101x101 kernel over 4x4 padded by 100).
    """
    o, cg = w_shape[:2]
    depthwise = spec.groups > 1 and cg == 1 and o == spec.groups
    direct = (depthwise and conv_direct.supports(spec)
              and not conv_im2col.uses_dual(spec, x_shape[2:]))
    return algorithm("direct" if direct else "im2col", spec)
