"""Time one SimpleCNN training step (batch 64, Adam, CrossEntropyLoss) in npconv and in torch.

Run: python benchmarks/train_step.py [--steps N] [--blocks K] [--warmup W] [--batch-size B]
                                     [--threads T] [--breakdown] [--profile [N]]
                                     [--no-keep-freed-memory]

Both models are the seed tutorial's SimpleCNN with the same initial weights, fed the same random
MNIST-shaped batch (B x 1 x 28 x 28, labels in 0..9). A step is zero_grad, forward, loss,
backward, optimizer.step(), in train mode (dropout on). torch runs with torch.set_num_threads(T)
(default 2, the cores of the reference machine).

After W warm-up steps each, the N timed steps per framework run in K blocks that alternate
between the frameworks (npconv first), with a short pause between blocks so neither's idle
thread pool (OpenMP, OpenBLAS) is still spinning on the cores while the other is timed, and so
drifting load from other processes falls on both. It prints mean, median and min ms/step and
the npconv/torch ratios; on a shared machine trust the median and min more than the mean.
``--breakdown`` also times forward+loss, backward and optimizer step separately;
``--profile [N]`` runs cProfile over npconv steps and prints the top N functions by own time.
Like ``npconv train``, it first makes glibc keep freed memory for reuse
(npconv.memory.keep_freed_memory; ``--no-keep-freed-memory`` skips that), so the numbers stay
comparable with earlier runs; it holds for both frameworks alike in this process.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import time

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import npconv
import npconv.nn as nn
import npconv.optim as optim
from npconv.memory import keep_freed_memory
from npconv.models import SimpleCNN, simple_cnn_class

PAUSE = 0.3  # seconds between blocks: longer than OpenMP's and OpenBLAS's spin-wait


TorchSimpleCNN = simple_cnn_class(tnn, TF)


def make_stepper(model, optimizer, criterion, x, y):
    """A whole step, and its three phases (sharing the loss through a dict)."""
    state = {}

    def forward():
        optimizer.zero_grad()
        state["loss"] = criterion(model(x), y)

    def backward():
        state["loss"].backward()

    def update():
        optimizer.step()

    def step():
        forward()
        backward()
        update()

    return step, {"forward+loss": forward, "backward": backward, "optimizer": update}


def time_steps(step, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        step()
        times.append(1e3 * (time.perf_counter() - t0))
    return times


def time_phases(phases, n):
    split = {name: [] for name in phases}
    for _ in range(n):
        for name, fn in phases.items():
            t0 = time.perf_counter()
            fn()
            split[name].append(1e3 * (time.perf_counter() - t0))
    return {name: statistics.median(ts) for name, ts in split.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60, help="timed steps per framework")
    parser.add_argument("--blocks", type=int, default=3, help="alternating blocks")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--profile", type=int, nargs="?", const=25, default=None)
    parser.add_argument("--keep-freed-memory", action=argparse.BooleanOptionalAction,
                        default=True, help="apply npconv.memory.keep_freed_memory() first")
    args = parser.parse_args()
    print(f"freed memory kept for reuse (glibc): {args.keep_freed_memory and keep_freed_memory()}")

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((args.batch_size, 1, 28, 28)).astype(np.float32)
    y_np = rng.integers(0, 10, args.batch_size).astype(np.int64)

    npconv.manual_seed(0)
    n_model = SimpleCNN().train()
    t_model = TorchSimpleCNN().train()
    with torch.no_grad():  # same initial weights
        for name, p in t_model.named_parameters():
            p.copy_(torch.from_numpy(np.array(n_model.state_dict()[name].numpy())))
    runs = {
        "npconv": make_stepper(n_model, optim.Adam(n_model.parameters(), lr=1e-3),
                               nn.CrossEntropyLoss(), npconv.from_numpy(x_np),
                               npconv.from_numpy(y_np)),
        "torch": make_stepper(t_model, torch.optim.Adam(t_model.parameters(), lr=1e-3),
                              tnn.CrossEntropyLoss(), torch.from_numpy(x_np),
                              torch.from_numpy(y_np)),
    }
    print(f"SimpleCNN train step: batch {args.batch_size}, Adam, CrossEntropyLoss; "
          f"{args.warmup} warm-up + {args.steps} timed steps in {args.blocks} alternating "
          f"blocks; cores {os.cpu_count()}; numpy {np.__version__}; torch {torch.__version__} "
          f"({args.threads} threads)")

    results = {name: [] for name in runs}
    for step, _ in runs.values():
        time_steps(step, args.warmup)
        time.sleep(PAUSE)
    blocks = max(1, min(args.blocks, args.steps))
    for b in range(blocks):
        n = args.steps // blocks + (b < args.steps % blocks)
        for name, (step, _) in runs.items():
            time.sleep(PAUSE)
            results[name] += time_steps(step, n)
    for name, ms in results.items():
        print(f"  {name:7} mean {statistics.mean(ms):8.2f} ms/step   median "
              f"{statistics.median(ms):8.2f}   min {min(ms):8.2f}")
        if args.breakdown:
            time.sleep(PAUSE)
            split = time_phases(runs[name][1], max(5, args.steps // 3))
            print("           " + "   ".join(f"{k} {v:.2f}" for k, v in split.items())
                  + "  (median ms)")
    ratios = {stat: fn(results["npconv"]) / fn(results["torch"])
              for stat, fn in (("mean", statistics.mean), ("median", statistics.median),
                               ("min", min))}
    print("  ratio npconv/torch: " + ", ".join(f"{v:.2f}x ({k})" for k, v in ratios.items()))

    if args.profile:
        time.sleep(PAUSE)
        profiler = cProfile.Profile()
        profiler.enable()
        time_steps(runs["npconv"][0], args.steps)
        profiler.disable()
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(args.profile)
        print(f"\ncProfile of {args.steps} npconv steps, by own time:")
        print(buf.getvalue())


if __name__ == "__main__":
    main()
