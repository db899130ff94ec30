"""torchvision's ToTensor, Normalize and Compose, with the same values, checks and reprs.

A transform that can also run on a stacked batch (leading N dimension) in one call has a
``batched`` method; ``batch_transform`` chains those, so a dataset can build a whole batch with a
few numpy ops instead of one Python call per image (see MNIST.__getitems__). Per image and
batched, the arithmetic is the same, so the values are identical bit for bit.
"""
from __future__ import annotations

import sys

import numpy as np

from npconv.creation import from_numpy
from npconv.dtypes import get_default_dtype
from npconv.tensor import Tensor

__all__ = ["Compose", "Normalize", "ToTensor", "batch_transform"]

# PIL modes whose pixels are not uint8 (torchvision keeps these values unscaled).
_PIL_MODE_DTYPES = {"I": np.int32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16,
                    "F": np.float32}


class Compose:
    """Apply ``transforms`` in order."""

    def __init__(self, transforms) -> None:
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class ToTensor:
    """HxW or HxWxC image (ndarray or PIL image) -> CxHxW tensor.

    uint8 pixels are scaled to [0, 1] in the default float dtype (float32); other dtypes keep
    their values and dtype, as in torchvision.
    """

    def __call__(self, pic):
        return from_numpy(_to_chw(_as_array(pic), batched=False))

    def batched(self, pics):
        """(N,H,W) or (N,H,W,C) ndarray -> (N,C,H,W) tensor, equal to stacking per-image calls."""
        return from_numpy(_to_chw(_as_array(pics), batched=True))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _as_array(pic) -> np.ndarray:
    if isinstance(pic, np.ndarray):
        return pic
    if _is_pil_image(pic):
        array = np.array(pic, dtype=_PIL_MODE_DTYPES.get(pic.mode, np.uint8))
        return array * np.uint8(255) if pic.mode == "1" else array
    raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")


def _is_pil_image(pic) -> bool:
    """True for a PIL image, without importing Pillow (no one made one if it is not loaded)."""
    image_module = sys.modules.get("PIL.Image")
    return image_module is not None and isinstance(pic, image_module.Image)


def _to_chw(array: np.ndarray, batched: bool) -> np.ndarray:
    image_ndim = array.ndim - batched
    if image_ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {image_ndim} dimensions.")
    chw = array[..., None, :, :] if image_ndim == 2 else np.moveaxis(array, -1, -3)
    if chw.dtype != np.uint8:
        return np.ascontiguousarray(chw)
    scaled = np.empty(chw.shape, dtype=get_default_dtype().np)
    return np.divide(chw, 255, out=scaled)


class Normalize:
    """Per channel: ``(x - mean[c]) / std[c]`` on a float tensor of shape (..., C, H, W)."""

    def __init__(self, mean, std, inplace: bool = False) -> None:
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
        if not tensor.is_floating_point():
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        if tensor.ndim < 3:
            raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got "
                             f"tensor.size() = {tensor.size()}")
        array = tensor.numpy()
        mean, std = self._stats(array.dtype)
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading "
                             "to division by zero.")
        out = np.subtract(array, mean, out=array if self.inplace else None)
        np.divide(out, std, out=out)
        return tensor if self.inplace else from_numpy(out)

    # (..., C, H, W) already covers a batch (N, C, H, W).
    batched = __call__

    def _stats(self, dtype):
        """mean and std in the tensor's dtype, shaped to broadcast over (C, H, W)."""
        mean = np.asarray(self.mean, dtype=dtype)
        std = np.asarray(self.std, dtype=dtype)
        if mean.ndim == 1:
            mean = mean.reshape(-1, 1, 1)
        if std.ndim == 1:
            std = std.reshape(-1, 1, 1)
        return mean, std

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def batch_transform(transform):
    """``transform`` as one call on a stacked batch, or None if some step works only per image."""
    if isinstance(transform, Compose):
        steps = [batch_transform(t) for t in transform.transforms]
        if any(step is None for step in steps):
            return None
        return lambda batch: _chain(steps, batch)
    return getattr(transform, "batched", None)


def _chain(steps, batch):
    for step in steps:
        batch = step(batch)
    return batch
