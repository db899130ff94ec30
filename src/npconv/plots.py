"""PNG figures of a training run: first-layer filters and loss/accuracy curves.

matplotlib is optional (``pip install npconv[plot]``) and imported only when a figure is made.
Figures are drawn with the Agg canvas directly (no pyplot, no GUI, no global backend switch), so
this works on a headless machine and does not disturb a caller's own pyplot state.
"""
from __future__ import annotations

import math
import os

import numpy as np

__all__ = ["save_filters", "save_curves"]

_MISSING = ("plotting needs matplotlib, which is not installed: "
            "pip install npconv[plot]  (or: pip install matplotlib)")


def _figure(figsize):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(_MISSING) from exc
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _as_array(weight):
    if hasattr(weight, "detach"):
        weight = weight.detach().cpu().numpy()
    return np.asarray(weight)


def save_filters(weight, path, title="Learned conv1 filters", cmap="viridis", ncols=8):
    """Save a grid of the filters of a conv weight (out_channels, in_channels, kH, kW).

    Shows input channel 0 of every filter, ``ncols`` per row, titled ``Filter i`` as in the
    seed tutorial's 4x8 viridis figure (32 filters -> 4 rows of 8). Returns ``path``.
    """
    w = _as_array(weight)
    if w.ndim == 3:
        w = w[:, None]
    if w.ndim != 4 or w.shape[0] == 0:
        raise ValueError(f"expected a conv weight of shape (out, in, kH, kW), got {w.shape}")
    n = w.shape[0]
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = _figure((2 * ncols, 2 * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < n:
            ax.imshow(w[i, 0], cmap=cmap)
            ax.set_title(f"Filter {i + 1}", fontsize=9)
    fig.suptitle(f"{title} ({n} filters, {w.shape[2]}x{w.shape[3]})", fontsize=16)
    fig.tight_layout()
    fig.savefig(os.fspath(path), dpi=80)
    return path


def save_curves(history, path, title="SimpleCNN on MNIST"):
    """Save loss and accuracy per epoch, train and test, side by side. Returns ``path``.

    ``history`` is what ``npconv.training.fit`` returns (``train_loss``, ``test_loss``,
    ``train_acc``, ``test_acc`` lists; ``epoch`` optional).
    """
    epochs = list(history.get("epoch") or range(1, len(history["train_loss"]) + 1))
    fig = _figure((12, 4.5))
    ax_loss, ax_acc = fig.subplots(1, 2)
    for ax, key, label in ((ax_loss, "loss", "Loss"), (ax_acc, "acc", "Accuracy (%)")):
        for split, style in (("train", "o-"), ("test", "s--")):
            values = history.get(f"{split}_{key}")
            if values:
                ax.plot(epochs, values, style, label=split.capitalize())
        ax.set_xlabel("Epoch")
        ax.set_ylabel(label)
        ax.set_title(f"{label.split(' ')[0]} per epoch")
        ax.set_xticks(epochs)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(title, fontsize=14)
    fig.tight_layout()
    fig.savefig(os.fspath(path), dpi=80)
    return path
