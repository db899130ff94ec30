"""matplotlib figures: filters, feature maps and the training job's loss/accuracy curves.

Many small images are laid out as one mosaic (tiles one pixel apart) drawn with a single
imshow, so a 64 x 32 conv weight is as quick to plot as a 4 x 8 one, and one colour scale is
shared by every tile unless asked otherwise.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

import npconv
from npconv.viz.deps import figure

__all__ = ["Mosaic", "filter_mosaic", "plot_filters", "feature_maps", "plot_feature_maps",
           "plot_curves"]


def as_array(value) -> np.ndarray:
    """A Tensor (detached), a module's weight or an array, as a float64 NumPy array."""
    value = getattr(value, "weight", value)
    if hasattr(value, "detach"):
        value = value.detach().numpy()
    return np.asarray(value, dtype=np.float64)


@dataclass(frozen=True)
class Mosaic:
    """Tiles in one image, NaN between them. image: (H, W) or (H, W, 3); tiles: (row, col)
    of each tile's top-left pixel and its label; scale: (vmin, vmax) of the shared colour
    scale, None when each tile is scaled to its own range."""

    image: np.ndarray
    tiles: list
    tile_shape: tuple[int, int]
    scale: tuple[float, float] | None


def _scaled(tiles, shared):
    """(tiles in 0..1 by (t - min) / (max - min), over all of them or per tile), constant
    tiles at 0.5."""
    axes = None if shared else tuple(range(1, tiles.ndim))
    lo, hi = tiles.min(axis=axes, keepdims=True), tiles.max(axis=axes, keepdims=True)
    span = hi - lo
    return np.where(span > 0, (tiles - lo) / np.where(span > 0, span, 1), 0.5)


def _mosaic(tiles, labels, ncols, rows=None):
    """tiles (n, h, w[, 3]) in rows of ncols (or `rows` rows of n / rows), one pixel apart
    across; down, rows labelled above each tile leave room for the label (h // 6 more)."""
    n, h, w = tiles.shape[:3]
    ncols = n // rows if rows else max(1, min(ncols, n))
    nrows = rows or math.ceil(n / ncols)
    down = h + 1 + (0 if rows else h // 6)
    image = np.full((nrows * down - (down - h), ncols * (w + 1) - 1, *tiles.shape[3:]), np.nan)
    corners = []
    for k in range(n):
        r, c = divmod(k, ncols)
        image[r * down:r * down + h, c * (w + 1):c * (w + 1) + w] = tiles[k]
        corners.append(((r * down, c * (w + 1)), labels[k]))
    return image, corners


def filter_mosaic(weight, ncols=8, shared_scale=True, rgb=False) -> Mosaic:
    """The filters of a conv weight (out, in, kH, kW) (or (out, in, k) of a 1-d conv) as one
    mosaic: with one input channel (or rgb=True and three, shown as colours) a tile per
    filter, ncols a row; else a row per filter, a tile per input channel. shared_scale=False
    scales each filter to its own min..max."""
    w = as_array(weight)
    if w.ndim == 3:
        w = w[:, :, None]
    if w.ndim != 4 or 0 in w.shape:
        raise ValueError(f"expected a conv weight of shape (out_channels, in_channels, kH, kW) "
                         f"or (out, in, k), got shape {w.shape}")
    out_channels, in_channels = w.shape[:2]
    if rgb:
        if in_channels != 3:
            raise ValueError(f"rgb=True shows three input channels as colours, but the weight "
                             f"has {in_channels} (shape {w.shape}); use rgb=False")
        image, tiles = _mosaic(_scaled(w.transpose(0, 2, 3, 1), shared_scale),
                               [f"Filter {o + 1}" for o in range(out_channels)], ncols)
        return Mosaic(image, tiles, w.shape[2:], None)
    if in_channels == 1:
        flat, labels, rows = w[:, 0], [f"Filter {o + 1}" for o in range(out_channels)], None
    else:
        flat = w.reshape(-1, *w.shape[2:])
        labels = [f"{o + 1}.{i + 1}" for o in range(out_channels) for i in range(in_channels)]
        rows = out_channels
    if not shared_scale:
        flat = _scaled(w, False).reshape(flat.shape)
    image, tiles = _mosaic(flat, labels, ncols, rows)
    scale = (float(w.min()), float(w.max())) if shared_scale else None
    return Mosaic(image, tiles, w.shape[2:], scale)


def _every(n) -> range:
    """At most 16 of n tick positions."""
    return range(0, n, max(1, math.ceil(n / 16)))


def _draw(mosaic: Mosaic, path, title, cmap, grid_labels=None):
    """Save a mosaic: a label above each tile, or (grid_labels=(row name, column name)) the
    rows and columns numbered; a colourbar for a shared scale."""
    h, w = mosaic.tile_shape
    grid_rows = len({r for (r, _), _ in mosaic.tiles})
    grid_cols = len({c for (_, c), _ in mosaic.tiles})
    fig = figure((min(16, 1.3 * grid_cols + 2.5), min(16, 1.3 * grid_rows + 1.5)))
    ax = fig.subplots()
    image = np.ma.masked_invalid(mosaic.image)
    if mosaic.image.ndim == 3:
        shown = ax.imshow(image.filled(1.0), interpolation="nearest")
    else:
        vmin, vmax = mosaic.scale or (0.0, 1.0)
        shown = ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        shown.cmap.set_bad("white")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    if grid_labels:
        row_name, col_name = grid_labels
        ax.set_yticks([r * (h + 1) + (h - 1) / 2 for r in _every(grid_rows)],
                      [str(r + 1) for r in _every(grid_rows)], fontsize=8)
        ax.set_xticks([c * (w + 1) + (w - 1) / 2 for c in _every(grid_cols)],
                      [str(c + 1) for c in _every(grid_cols)], fontsize=8)
        ax.set_ylabel(row_name)
        ax.set_xlabel(col_name)
    else:
        for (r, c), label in mosaic.tiles:
            ax.text(c + (w - 1) / 2, r - 0.6, label, ha="center", va="bottom", fontsize=8)
    if mosaic.scale is not None:
        fig.colorbar(shown, ax=ax, shrink=0.8, label="value (one scale for all tiles)")
    ax.set_title(title, fontsize=12, pad=18)
    fig.savefig(os.fspath(path), dpi=80, bbox_inches="tight")
    return path


def plot_filters(conv_or_weight, path, title=None, cmap="viridis", shared_scale=True, rgb=False,
                 ncols=8):
    """Save a picture of a conv layer's filters (or of a weight (out, in, kH, kW)): one colour
    scale with a colourbar unless shared_scale=False (each filter then on its own min..max),
    input channels as colours when rgb=True and there are three. Returns path."""
    mosaic = filter_mosaic(conv_or_weight, ncols, shared_scale, rgb)
    out_channels, in_channels = as_array(conv_or_weight).shape[:2]
    size = "x".join(map(str, mosaic.tile_shape))
    title = title or "Filters"
    title += f" ({out_channels} filters, {in_channels} input channel{'s' * (in_channels > 1)}" \
             f", {size}{'' if shared_scale else '; each on its own scale'})"
    grid = None if rgb or in_channels == 1 else ("filter (output channel)", "input channel")
    return _draw(mosaic, path, title, cmap, grid)


def feature_maps(model, input, layer) -> np.ndarray:
    """The output of model's submodule `layer` (named as in model.named_modules()) for the
    first sample of `input`, caught with a forward hook at its first call (a layer used twice,
    like a shared pooling layer, gives its first output): (channels, H, W) (a 1-d map is
    (channels, 1, L)). KeyError listing the names when there is no such layer."""
    modules = dict(model.named_modules())
    if layer not in modules or layer == "":
        names = ", ".join(repr(n) for n in modules if n)
        raise KeyError(f"no layer named {layer!r} in {type(model).__name__}; its layers, as "
                       f"named_modules() names them: {names}")
    caught = []
    handle = modules[layer].register_forward_hook(lambda module, args, out: caught.append(out))
    try:
        with npconv.no_grad():
            model(input if isinstance(input, npconv.Tensor) else npconv.tensor(input))
    finally:
        handle.remove()
    maps = as_array(caught[0])
    if maps.ndim not in (3, 4):
        raise ValueError(f"layer {layer!r} ({type(modules[layer]).__name__}) outputs shape "
                         f"{maps.shape}, not (batch, channels, L) or (batch, channels, H, W) "
                         "feature maps: pick a conv, pooling or activation layer before the "
                         "flatten")
    return maps[0] if maps.ndim == 4 else maps[0][:, None]


def plot_feature_maps(model, input, layer, path, cmap="viridis", ncols=8):
    """Save the feature maps `layer` produces for the first sample of `input` (see
    feature_maps), one colour scale for all channels. Returns path."""
    maps = feature_maps(model, input, layer)
    mosaic = Mosaic(*_mosaic(maps, [f"channel {c + 1}" for c in range(len(maps))], ncols),
                    maps.shape[1:], (float(maps.min()), float(maps.max())))
    module = dict(model.named_modules())[layer]
    title = f"Feature maps of {layer} ({type(module).__name__}): " \
            f"{len(maps)} x {'x'.join(map(str, maps.shape[1:]))}"
    return _draw(mosaic, path, title, cmap)


def plot_curves(history, path, title="SimpleCNN on MNIST"):
    """Save loss and accuracy per epoch, train and test, side by side. Returns ``path``.

    ``history`` is what ``npconv.training.fit`` returns (``train_loss``, ``test_loss``,
    ``train_acc``, ``test_acc`` lists; ``epoch`` optional).
    """
    epochs = list(history.get("epoch") or range(1, len(history["train_loss"]) + 1))
    fig = figure((12, 4.5))
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
