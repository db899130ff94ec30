"""Time one SimpleCNN training step (batch 64, Adam, CrossEntropyLoss) in npconv and in torch.

Run: python benchmarks/train_step.py [--steps N] [--warmup W] [--batch-size B] [--threads T]
                                     [--breakdown] [--profile [N]]

Both models are the seed tutorial's SimpleCNN with the same initial weights, fed the same random
MNIST-shaped batch (B x 1 x 28 x 28, labels in 0..9). A step is zero_grad, forward, loss,
backward, optimizer.step(), in train mode (dropout on). After W warm-up steps each framework runs
N timed steps (alternating in rounds of 5); it prints mean, median and min ms/step for both and
the npconv/torch ratios. On a shared machine trust the median and min, not the mean.
torch runs with torch.set_num_threads(T) (default 2, the cores of the reference machine).
``--breakdown`` also times forward+loss, backward and optimizer step separately;
``--profile [N]`` runs cProfile over the npconv steps and prints the top N functions by own time.
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
from npconv.models import SimpleCNN


class TorchSimpleCNN(tnn.Module):
    """The seed's SimpleCNN, in torch."""

    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(1, 32, kernel_size=3, padding=1)
        self.conv2 = tnn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.fc1 = tnn.Linear(64 * 7 * 7, 128)
        self.fc2 = tnn.Linear(128, 10)
        self.pool = tnn.MaxPool2d(2, 2)
        self.dropout = tnn.Dropout(0.25)

    def forward(self, x):
        x = self.pool(TF.relu(self.conv1(x)))
        x = self.pool(TF.relu(self.conv2(x)))
        x = x.view(-1, 64 * 7 * 7)
        x = TF.relu(self.fc1(x))
        x = self.dropout(x)
        return self.fc2(x)


def make_stepper(lib, model, optimizer, criterion, x, y):
    """Closures for a whole step and for its three phases (phases share state via a dict)."""
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
        return state["loss"]

    return step, {"forward+loss": forward, "backward": backward, "optimizer": update}


def time_steps(step, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return [1e3 * t for t in times]


def time_phases(phases, n):
    totals = {name: [] for name in phases}
    for _ in range(n):
        for name, fn in phases.items():
            t0 = time.perf_counter()
            fn()
            totals[name].append(1e3 * (time.perf_counter() - t0))
    return {name: statistics.median(ts) for name, ts in totals.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--profile", type=int, nargs="?", const=25, default=None)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((args.batch_size, 1, 28, 28)).astype(np.float32)
    y_np = rng.integers(0, 10, args.batch_size).astype(np.int64)

    npconv.manual_seed(0)
    n_model = SimpleCNN()
    t_model = TorchSimpleCNN()
    with torch.no_grad():  # same initial weights
        for name, p in t_model.named_parameters():
            p.copy_(torch.from_numpy(np.array(n_model.state_dict()[name].numpy())))
    n_model.train()
    t_model.train()

    runs = {
        "npconv": make_stepper(npconv, n_model, optim.Adam(n_model.parameters(), lr=1e-3),
                               nn.CrossEntropyLoss(), npconv.from_numpy(x_np),
                               npconv.from_numpy(y_np)),
        "torch": make_stepper(torch, t_model, torch.optim.Adam(t_model.parameters(), lr=1e-3),
                              tnn.CrossEntropyLoss(), torch.from_numpy(x_np),
                              torch.from_numpy(y_np)),
    }

    print(f"SimpleCNN train step: batch {args.batch_size}, Adam, CrossEntropyLoss; "
          f"{args.warmup} warm-up + {args.steps} timed steps; torch threads {args.threads}; "
          f"cores {os.cpu_count()}; numpy {np.__version__}, torch {torch.__version__}")
    # Timed steps alternate between the frameworks in rounds of 5, so that load from other
    # processes (which hits 2-thread BLAS/OpenMP pools hard on a 2-core machine) falls on both.
    for step, _ in runs.values():
        for _ in range(args.warmup):
            step()
    results = {name: [] for name in runs}
    done = 0
    while done < args.steps:
        k = min(5, args.steps - done)
        for name, (step, _) in runs.items():
            results[name] += time_steps(step, k)
        done += k
    for name, ms in results.items():
        print(f"  {name:7} mean {statistics.mean(ms):8.2f} ms/step   median "
              f"{statistics.median(ms):8.2f}   min {min(ms):8.2f}")
        if args.breakdown:
            split = time_phases(runs[name][1], max(5, args.steps // 3))
            print("           " + "   ".join(f"{k} {v:.2f}" for k, v in split.items())
                  + "  (median ms)")
    ratios = {stat: fn(results["npconv"]) / fn(results["torch"])
              for stat, fn in (("mean", statistics.mean), ("median", statistics.median),
                               ("min", min))}
    print("  ratio npconv/torch: " + ", ".join(f"{v:.2f}x ({k})" for k, v in ratios.items()))

    if args.profile:
        step = runs["npconv"][0]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.steps):
            step()
        profiler.disable()
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(args.profile)
        print(f"\ncProfile of {args.steps} npconv steps, by own time:")
        print(buf.getvalue())


if __name__ == "__main__":
    main()
