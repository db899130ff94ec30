"""npconv's conv layers against torch's (2 threads), side by side in one run: issue 10's cases.

Run: python benchmarks/conv_bench.py [--repeat N] [--cases a,b,...] [--json FILE]

Per case: forward (under no_grad) and forward+backward (gradients of input, weight and bias)
for npconv and torch, alternating call by call after a warm-up, medians; ms, GFLOP/s (2 FLOPs per
multiply-add of the conv itself, bias not counted; forward+backward counts 3x the forward), the
share of the sgemm roof measured in the same run (NumPy float32 matmul), the npconv/torch ratio,
the algorithm npconv chose (kernels.conv.choose), and the first call's (cold) latency of a fresh
layer. Geometric means of the ratios at the end; everything also written as JSON.
The machine must be otherwise idle: on 2 cores any other busy process distorts both columns.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time

import numpy as np
import torch

import npconv
import npconv.nn
from npconv.kernels import conv
from npconv.memory import keep_freed_memory

# name: (layer, N, C_in, C_out, spatial size, kernel, stride, padding, dilation, groups, extra)
CASES = {
    "a": ("Conv2d", 64, 1, 32, (28, 28), 3, 1, 1, 1, 1, "MNIST conv1"),
    "b": ("Conv2d", 64, 32, 64, (14, 14), 3, 1, 1, 1, 1, "MNIST conv2"),
    "c": ("Conv2d", 8, 3, 64, (224, 224), 3, 1, 1, 1, 1, ""),
    "d": ("Conv2d", 32, 64, 64, (56, 56), 3, 1, 1, 1, 1, ""),
    "e": ("Conv2d", 32, 256, 256, (14, 14), 3, 1, 1, 1, 1, ""),
    "f": ("Conv2d", 32, 64, 64, (56, 56), 3, 1, 1, 1, 64, "depthwise"),
    "g": ("Conv2d", 16, 64, 128, (56, 56), 3, 2, 1, 1, 1, ""),
    "h": ("Conv2d", 16, 3, 64, (224, 224), 7, 2, 3, 1, 1, "ResNet stem"),
    "i": ("Conv2d", 16, 64, 64, (56, 56), 3, 1, 2, 2, 1, "dilated"),
    "j": ("Conv2d", 32, 256, 64, (28, 28), 1, 1, 0, 1, 1, "1x1"),
    "k": ("Conv2d", 1, 64, 64, (56, 56), 3, 1, 1, 1, 1, "batch 1"),
    "l": ("Conv2d", 4, 16, 16, (8, 8), 3, 1, 1, 1, 1, "tiny"),
    "1d": ("Conv1d", 32, 64, 64, (3136,), 3, 1, 1, 1, 1, "d as 1-d"),
    "3d": ("Conv3d", 4, 32, 32, (16, 16, 16), 3, 1, 1, 1, 1, ""),
    "t2d": ("ConvTranspose2d", 16, 128, 64, (28, 28), 4, 2, 1, 1, 1, "x2 upsampling"),
}


def conv_macs(layer, n, c_in, c_out, size, out_size, k, groups):
    """N x C_out x prod(out) x (C_in/g) x prod(k); a transposed conv on the input's size."""
    taps = k ** len(size)
    if layer.startswith("ConvTranspose"):
        return n * c_in * math.prod(size) * (c_out // groups) * taps
    return n * c_out * math.prod(out_size) * (c_in // groups) * taps


def sgemm_roof_gflops(repeat=10, n=1024):
    """NumPy's float32 matmul speed on n x n x n, the roof im2col + GEMM designs live under."""
    a, b = (np.random.default_rng(i).standard_normal((n, n), dtype=np.float32) for i in (0, 1))
    a @ b
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n ** 3 / statistics.median(times) / 1e9


def build(case):
    """The same layer (same weights) in npconv and torch, an input and an output gradient."""
    layer, n, c_in, c_out, size, k, s, p, d, g, _ = case
    ours = getattr(npconv.nn, layer)(c_in, c_out, k, stride=s, padding=p, dilation=d, groups=g)
    theirs = getattr(torch.nn, layer)(c_in, c_out, k, stride=s, padding=p, dilation=d, groups=g)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.detach().numpy()))
        theirs.bias.copy_(torch.from_numpy(ours.bias.detach().numpy()))
    x = np.random.default_rng(0).standard_normal((n, c_in, *size), dtype=np.float32)
    with torch.no_grad():
        out_shape = theirs(torch.from_numpy(x[:1])).shape[2:]
    gy = np.random.default_rng(1).standard_normal((n, c_out, *out_shape), dtype=np.float32)
    return ours, theirs, x, gy, tuple(out_shape)


def calls(ours, theirs, x, gy):
    """{mode: (npconv call, torch call)} for forward and forward+backward."""
    nx, ngy = npconv.from_numpy(x), npconv.from_numpy(gy)
    tx, tgy = torch.from_numpy(x), torch.from_numpy(gy)

    def fwd_ours():
        with npconv.no_grad():
            ours(nx)

    def fwd_theirs():
        with torch.no_grad():
            theirs(tx)

    def train_ours():
        xin = nx.detach().requires_grad_()
        ours(xin).backward(ngy)

    def train_theirs():
        xin = tx.detach().requires_grad_()
        theirs(xin).backward(tgy)

    return {"fwd": (fwd_ours, fwd_theirs), "fwd+bwd": (train_ours, train_theirs)}


def seconds(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def median_alternating(a, b, repeat, warmup=2):
    """Medians of a and b, timed alternately (a, b, a, b, ...) after warm-up calls."""
    for _ in range(warmup):
        a(), b()
    ta, tb = [], []
    for _ in range(repeat):
        ta.append(seconds(a))
        tb.append(seconds(b))
    return statistics.median(ta), statistics.median(tb)


def run_case(name, case, repeat, roof):
    layer, n, c_in, c_out, size, k, s, p, d, g, what = case
    ours, theirs, x, gy, out_size = build(case)
    spec = ours.geometry
    algo = conv.name_of(conv.choose(spec, x.shape, ours.weight.shape))
    flops = 2 * conv_macs(layer, n, c_in, c_out, size, out_size, k, g)
    modes = calls(ours, theirs, x, gy)
    cold = {"npconv": seconds(modes["fwd"][0]) * 1e3, "torch": seconds(modes["fwd"][1]) * 1e3}
    label = (f"{name:>3} {layer} N{n} {c_in}->{c_out} {'x'.join(map(str, size))} k{k}"
             f"{f' s{s}' if s > 1 else ''} p{p}{f' d{d}' if d > 1 else ''}"
             f"{f' g{g}' if g > 1 else ''}{f' ({what})' if what else ''}")
    print(f"{label}  [npconv: {algo}; cold fwd npconv {cold['npconv']:.2f} ms, "
          f"torch {cold['torch']:.2f} ms]")
    result = {"case": name, "label": label, "algorithm": algo, "gflop_fwd": flops / 1e9,
              "cold_fwd_ms": cold}
    for mode, (a, b) in modes.items():
        ta, tb = median_alternating(a, b, repeat)
        work = flops * (3 if mode == "fwd+bwd" else 1)
        rate = {"npconv": work / ta / 1e9, "torch": work / tb / 1e9}
        result[mode] = {"npconv_ms": ta * 1e3, "torch_ms": tb * 1e3, "ratio": ta / tb,
                        "npconv_gflops": rate["npconv"], "torch_gflops": rate["torch"]}
        print(f"      {mode:8s} npconv {ta * 1e3:9.2f} ms {rate['npconv']:6.1f} GFLOP/s "
              f"({100 * rate['npconv'] / roof:3.0f}% roof)   torch {tb * 1e3:9.2f} ms "
              f"{rate['torch']:6.1f} GFLOP/s ({100 * rate['torch'] / roof:3.0f}% roof)   "
              f"npconv/torch {ta / tb:5.2f}")
    return result


def geometric_mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="timed calls per framework and mode")
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"comma-separated case names from {','.join(CASES)}")
    parser.add_argument("--json", default="conv_bench.json", help="where to write the results")
    parser.add_argument("--keep-freed-memory", action=argparse.BooleanOptionalAction,
                        default=True, help="apply npconv.memory.keep_freed_memory() first")
    args = parser.parse_args()
    names = args.cases.split(",")
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        parser.error(f"unknown cases {unknown}; known: {','.join(CASES)}")
    if args.keep_freed_memory:
        keep_freed_memory()
    torch.set_num_threads(2)
    roof = sgemm_roof_gflops()
    print(f"float32, torch {torch.__version__} ({torch.get_num_threads()} threads), numpy "
          f"{np.__version__}, {platform.processor() or platform.machine()}; sgemm roof "
          f"{roof:.0f} GFLOP/s; medians of {args.repeat} alternating calls")
    results = [run_case(name, CASES[name], args.repeat, roof) for name in names]
    means = {mode: geometric_mean([r[mode]["ratio"] for r in results])
             for mode in ("fwd", "fwd+bwd")}
    print(f"geometric mean npconv/torch: fwd {means['fwd']:.2f}, fwd+bwd {means['fwd+bwd']:.2f}")
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump({"sgemm_roof_gflops": roof, "torch_threads": torch.get_num_threads(),
                   "cases": results, "geometric_mean_ratio": means}, f, indent=1)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
