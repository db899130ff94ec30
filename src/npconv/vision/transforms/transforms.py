"""torchvision's transforms (v1 API), with the same values, checks and reprs.

Each takes what torchvision's takes (a PIL image, or a tensor image for Normalize) and also an
HxW or HxWxC ndarray, the image npconv's datasets give (see ``functional``). Random transforms
draw from npconv's default generator, so ``npconv.manual_seed`` makes a run reproducible (and
in a DataLoader worker, from that worker's seeded stream, as in torch).

A transform that can also run on a stacked batch (leading N dimension) in one call has a
``batched`` method; ``batch_transform`` chains those, so a dataset can build a whole batch with a
few numpy ops instead of one Python call per image (see MNIST.__getitems__). Per image and
batched, the arithmetic is the same, so the values are identical bit for bit.
"""
from __future__ import annotations

import numbers
import sys
from collections.abc import Sequence

import numpy as np

from npconv.creation import from_numpy
from npconv.dtypes import get_default_dtype
from npconv.random import default_generator
from npconv.tensor import Tensor
from npconv.vision.transforms import functional as F
from npconv.vision.transforms.functional import InterpolationMode

__all__ = ["CenterCrop", "Compose", "Grayscale", "Lambda", "Normalize", "Pad", "RandomCrop",
           "RandomHorizontalFlip", "RandomRotation", "RandomVerticalFlip", "Resize", "ToPILImage",
           "ToTensor", "batch_transform"]

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
    if F.is_pil_image(pic):
        array = np.array(pic, dtype=_PIL_MODE_DTYPES.get(pic.mode, np.uint8))
        return array * np.uint8(255) if pic.mode == "1" else array
    raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")


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
        if self.inplace:  # through the tensor, so its version counter sees the write
            return tensor.sub_(from_numpy(mean)).div_(from_numpy(std))
        return from_numpy(np.divide(np.subtract(array, mean), std))

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


def _rng() -> np.random.Generator:
    return default_generator().numpy_rng


def _setup_size(size, error_msg: str) -> tuple:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(error_msg)
    return size


class Lambda:
    """Apply a user function as a transform."""

    def __init__(self, lambd) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p`` (one draw per call)."""

    flip = staticmethod(F.hflip)

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img):
        return self.flip(img) if _rng().random() < self.p else img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability ``p``."""

    flip = staticmethod(F.vflip)


class Pad:
    """Pad the border (see functional.pad for ``padding``, ``fill`` and ``padding_mode``)."""

    def __init__(self, padding, fill=0, padding_mode: str = "constant") -> None:
        F.check_padding(padding, fill, padding_mode)
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class CenterCrop:
    """The central ``size`` (h, w) or size x size window."""

    def __init__(self, size) -> None:
        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")

    def __call__(self, img):
        return F.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class RandomCrop:
    """A window of ``size`` at a uniformly random place, after optional ``padding`` and, with
    ``pad_if_needed``, padding of a too small side by its deficit on both ends (torchvision's
    order and arithmetic; the row offset is drawn before the column offset)."""

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant") -> None:
        self.size = tuple(_setup_size(size, "Please provide only two dimensions (h, w) for "
                                            "size."))
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img, output_size) -> tuple:
        """(top, left, height, width) of a random crop of ``output_size``."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        i = int(_rng().integers(0, h - th + 1))
        j = int(_rng().integers(0, w - tw + 1))
        return i, j, th, tw

    def __call__(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        return F.crop(img, *self.get_params(img, self.size))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class Resize:
    """Resize with PIL's filter for ``interpolation`` (bilinear by default): an int ``size``
    is the new smaller edge (aspect kept, longer edge capped by ``max_size``), (h, w) exact."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True) -> None:
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        if isinstance(interpolation, int):
            interpolation = {v: k for k, v in F.PIL_FILTERS.items()
                             if k is not InterpolationMode.NEAREST_EXACT}[interpolation]
        self.size = size
        self.interpolation = interpolation
        self.max_size = max_size
        self.antialias = antialias

    def __call__(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={self.size}, interpolation="
                f"{self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class RandomRotation:
    """Rotate by an angle drawn uniformly from ``degrees`` ((-d, d) for a number d)."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0) -> None:
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError("If degrees is a single number, it must be positive.")
            degrees = [-degrees, degrees]
        elif not isinstance(degrees, Sequence) or len(degrees) != 2:
            raise ValueError("If degrees is a sequence, it must be of len 2.")
        self.degrees = [float(d) for d in degrees]
        self.interpolation = interpolation
        self.expand = expand
        self.center = center
        self.fill = fill

    @staticmethod
    def get_params(degrees) -> float:
        return float(_rng().uniform(float(degrees[0]), float(degrees[1])))

    def __call__(self, img):
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    def __repr__(self) -> str:
        text = (f"{type(self).__name__}(degrees={self.degrees}, "
                f"interpolation={self.interpolation.value}, expand={self.expand}")
        if self.center is not None:
            text += f", center={self.center}"
        if self.fill is not None:
            text += f", fill={self.fill}"
        return text + ")"


class Grayscale:
    """PIL's luma conversion, to 1 or 3 channels."""

    def __init__(self, num_output_channels: int = 1) -> None:
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        return F.to_grayscale(img, self.num_output_channels)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class ToPILImage:
    """Tensor (C, H, W) or ndarray (H, W, C) -> PIL image (see functional.to_pil_image)."""

    def __init__(self, mode=None) -> None:
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({'' if self.mode is None else f'mode={self.mode}'})"
