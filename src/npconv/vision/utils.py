"""make_grid and save_image, computing what torchvision.utils computes, in numpy.

make_grid tiles a batch (B, C, H, W) into one image: ``nrow`` images per row, ``padding``
pixels of ``pad_value`` around each, single-channel images repeated to 3 channels; with
``normalize`` each value becomes (clamp(x, lo, hi) - lo) / max(hi - lo, 1e-5), lo and hi from
``value_range`` or the min and max (per image with ``scale_each``). save_image writes the grid
as uint8 pixels, floor(x * 255 + 0.5) clamped to [0, 255], through Pillow.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from npconv.creation import from_numpy
from npconv.tensor import Tensor
from npconv.vision.transforms.functional import pil_image_module

__all__ = ["make_grid", "save_image"]


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range=None, scale_each: bool = False, pad_value=0, **kwargs) -> Tensor:
    """The images of ``tensor`` (B x C x H x W, a list of C x H x W, or one image) as a grid."""
    if not (isinstance(tensor, Tensor) or (isinstance(tensor, list)
                                           and all(isinstance(t, Tensor) for t in tensor))):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if "range" in kwargs:
        warnings.warn("range will be deprecated, please use value_range instead.")
        value_range = kwargs["range"]
    images = np.stack([t.numpy() for t in tensor]) if isinstance(tensor, list) else \
        tensor.numpy()
    if images.ndim == 2:  # one H x W image
        images = images[None]
    if images.ndim == 3:  # one image
        if images.shape[0] == 1:
            images = np.concatenate([images] * 3, 0)
        images = images[None]
    if images.ndim == 4 and images.shape[1] == 1:
        images = np.concatenate([images] * 3, 1)
    if normalize is True:
        if value_range is not None and not isinstance(value_range, tuple):
            raise AssertionError("value_range has to be a tuple (min, max) if specified. min "
                                 "and max are numbers")
        images = np.stack([_normalized(image, value_range) for image in images]) \
            if scale_each is True else _normalized(images, value_range)
    if images.shape[0] == 1:
        return from_numpy(np.ascontiguousarray(images[0]))
    count = images.shape[0]
    columns = min(nrow, count)
    rows = int(math.ceil(float(count) / columns))
    height, width = int(images.shape[2] + padding), int(images.shape[3] + padding)
    grid = np.full((images.shape[1], height * rows + padding, width * columns + padding),
                   pad_value, dtype=images.dtype)
    for k, image in enumerate(images):
        y, x = divmod(k, columns)
        grid[:, y * height + padding:(y + 1) * height,
             x * width + padding:(x + 1) * width] = image
    return from_numpy(grid)


def _normalized(images: np.ndarray, value_range) -> np.ndarray:
    """(clamp(x, lo, hi) - lo) / max(hi - lo, 1e-5) in the images' dtype."""
    low, high = value_range if value_range is not None else (float(images.min()),
                                                             float(images.max()))
    scalar = images.dtype.type
    clamped = np.clip(images, scalar(low), scalar(high))
    return (clamped - scalar(low)) / scalar(max(high - low, 1e-5))


def save_image(tensor, fp, format=None, **kwargs) -> None:
    """Save ``make_grid(tensor, **kwargs)`` as an image file (PNG, JPEG... by ``fp``'s suffix
    or ``format``); needs Pillow."""
    grid = make_grid(tensor, **kwargs).numpy()
    scalar = grid.dtype.type
    pixels = np.clip(grid * scalar(255) + scalar(0.5), 0, 255).transpose(1, 2, 0)
    pil_image_module().fromarray(np.ascontiguousarray(pixels.astype(np.uint8))).save(
        fp, format=format)
