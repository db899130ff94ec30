"""Time the npconv conv kernels against torch (2 threads) on the cases that matter.

Run: python benchmarks/conv_forward.py [--repeat N] [--algo NAME] [--no-keep-freed-memory]
Prints, per case, the algorithm npconv uses (kernels.conv.choose, or --algo to force one),
best-of-N ms for forward, backward_data and backward_weight, the npconv/torch ratio, and
npconv's peak temporary memory per op (tracemalloc peak minus the returned array's bytes).
The machine should be otherwise idle: a second busy process makes the 2-thread BLAS stall.
It first applies npconv.memory.keep_freed_memory(), as ``npconv train`` does, unless told not to.
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import torch

from npconv.kernels import conv
from npconv.kernels.geometry import ConvSpec
from npconv.memory import keep_freed_memory

# (name, N, C, H, W, O, groups) with a 3x3 kernel, padding 1, stride 1
CASES = [
    ("imagenet 8x3x224->64", 8, 3, 224, 224, 64, 1),
    ("mnist 64x1x28->32", 64, 1, 28, 28, 32, 1),
    ("mnist 64x32x14->64", 64, 32, 14, 14, 64, 1),
    ("depthwise 64x64x14", 64, 64, 14, 14, 64, 64),
    ("depthwise 32x32x56", 32, 32, 56, 56, 32, 32),
]


def best_ms(fn, repeat):
    """Best wall time of repeat calls after one warm-up, in ms (best-of filters scheduler noise)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * min(times)


def peak_temp_mb(fn):
    """tracemalloc peak during fn (numpy reports its buffers to it) minus fn's result."""
    tracemalloc.start()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (peak - result.nbytes) / 2**20


def npconv_ops(x, w, gy, spec, kernel):
    return {
        "forward": lambda: kernel.forward(x, w, spec),
        "backward_data": lambda: kernel.backward_data(gy, w, spec, x.shape),
        "backward_weight": lambda: kernel.backward_weight(gy, x, spec, w.shape),
    }


def torch_ops(x, w, gy, groups):
    tx, tw, tgy = (torch.from_numpy(a) for a in (x, w, gy))
    args = dict(padding=1, groups=groups)
    return {
        "forward": lambda: torch.nn.functional.conv2d(tx, tw, **args),
        "backward_data": lambda: torch.nn.grad.conv2d_input(tx.shape, tw, tgy, **args),
        "backward_weight": lambda: torch.nn.grad.conv2d_weight(tx, tw.shape, tgy, **args),
    }


def run_case(name, n, c, h, w_, o, groups, repeat, algo):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w_), dtype=np.float32)
    w = rng.standard_normal((o, c // groups, 3, 3), dtype=np.float32)
    gy = rng.standard_normal((n, o, h, w_), dtype=np.float32)
    spec = ConvSpec((3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), groups)
    kernel = conv.choose(spec, x.shape, w.shape) if algo is None else conv.algorithm(algo, spec)
    ours, theirs = npconv_ops(x, w, gy, spec, kernel), torch_ops(x, w, gy, groups)
    print(f"{name} (npconv: {conv.name_of(kernel)})")
    for op in ours:
        a, b = best_ms(ours[op], repeat), best_ms(theirs[op], repeat)
        print(f"  {op:16s} npconv {a:8.2f} ms   torch {b:8.2f} ms   ratio {a / b:5.2f}"
              f"   npconv peak temporary {peak_temp_mb(ours[op]):6.1f} MB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--algo", choices=sorted(conv.ALGORITHMS),
                        help="force one algorithm (default: the one npconv chooses per case)")
    parser.add_argument("--keep-freed-memory", action=argparse.BooleanOptionalAction,
                        default=True, help="apply npconv.memory.keep_freed_memory() first")
    args = parser.parse_args()
    if args.keep_freed_memory:
        keep_freed_memory()
    torch.set_num_threads(2)
    for case in CASES:
        run_case(*case, args.repeat, args.algo)


if __name__ == "__main__":
    main()
