"""Time the backward of a large kernel on a small input, npconv against torch, in one run.

Run: python benchmarks/large_kernel.py [--sizes 101 301] [--repeat N]
Per kernel size k: a 1x1x4x4 float32 input, a 1x1xkxk kernel, padding k - 1 (a (k+3)x(k+3)
output), y = conv2d(x, w); prints the best-of-N ms of y.backward(gy) (the input and the weight
gradient) for npconv and torch, and their ratio (issue 12 item 6: npconv's col2im looped over
every kernel element). torch runs on 2 threads; the machine should be otherwise idle.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import npconv
import npconv.nn.functional as F


def time_backward(lib, conv2d, x, w, gy, k, repeat):
    """The best ms of repeat + 1 runs of y.backward(gy) (the first one warms up), a fresh graph
    each time; the forward is not timed."""
    best = float("inf")
    for _ in range(repeat + 1):
        y = conv2d(lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True),
                   padding=k - 1)
        start = time.perf_counter()
        y.backward(lib.tensor(gy))
        best = min(best, time.perf_counter() - start)
    return 1e3 * best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[101, 301],
                        help="kernel sizes k (the kernel is k x k, padding k - 1)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    for k in args.sizes:
        x = rng.standard_normal((1, 1, 4, 4), dtype=np.float32)
        w = rng.standard_normal((1, 1, k, k), dtype=np.float32)
        gy = rng.standard_normal((1, 1, k + 3, k + 3), dtype=np.float32)
        ours = time_backward(npconv, F.conv2d, x, w, gy, k, args.repeat)
        theirs = time_backward(torch, torch.nn.functional.conv2d, x, w, gy, k, args.repeat)
        print(f"{k}x{k} kernel, 1x1x4x4 input, padding {k - 1}: backward npconv {ours:9.2f} ms"
              f"   torch {theirs:9.2f} ms   ratio {ours / theirs:6.2f}")


if __name__ == "__main__":
    main()
