"""The image functions behind the transforms, as torchvision.transforms.functional.

An image is a PIL image (torchvision's), an HxW or HxWxC ndarray (what npconv's datasets give;
the same pixels as the PIL image), or a tensor image (..., H, W). Flips, crops and padding
work on the pixel array, which for a PIL image is exactly what PIL's own crop, transpose and
ImageOps.expand compute; resizing, rotation and grey conversion are Pillow's (an ndarray goes
through a PIL image and back). Pillow is needed only for those and for PIL images:
``pip install npconv[vision]``.
"""
from __future__ import annotations

import enum
import numbers
import sys

import numpy as np

from npconv.creation import from_numpy
from npconv.tensor import Tensor

__all__ = ["InterpolationMode", "center_crop", "crop", "get_dimensions", "hflip", "pad",
           "resize", "rotate", "to_grayscale", "to_pil_image", "vflip"]


class InterpolationMode(enum.Enum):
    """torchvision's interpolation names; each maps to the PIL filter PIL calls by it."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# PIL's filter numbers (Image.Resampling): NEAREST 0, LANCZOS 1, BILINEAR 2, BICUBIC 3, BOX 4,
# HAMMING 5. torchvision maps NEAREST_EXACT to PIL's NEAREST too.
PIL_FILTERS = {InterpolationMode.NEAREST: 0, InterpolationMode.NEAREST_EXACT: 0,
                InterpolationMode.LANCZOS: 1, InterpolationMode.BILINEAR: 2,
                InterpolationMode.BICUBIC: 3, InterpolationMode.BOX: 4,
                InterpolationMode.HAMMING: 5}


def pil_image_module():
    """PIL.Image, or an ImportError that says how to install it."""
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(f"{e}: this transform needs Pillow; install it with "
                          "`pip install npconv[vision]` (or `pip install Pillow`)") from e
    return Image


def is_pil_image(img) -> bool:
    """True for a PIL image, without importing Pillow (no one made one if it is not loaded)."""
    image_module = sys.modules.get("PIL.Image")
    return image_module is not None and isinstance(img, image_module.Image)


def _type_error(img) -> TypeError:
    return TypeError(f"img should be PIL Image. Got {type(img)} (npconv also takes an HxW or "
                     "HxWxC ndarray and a tensor image of shape (..., H, W))")


def _pixels(img):
    """(array, h axis, w axis, rebuild): the pixels of ``img`` and how to make an image of the
    input's kind from new pixels."""
    if is_pil_image(img):
        return np.asarray(img), 0, 1, lambda a: _like_pil(a, img)
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {img.ndim} dimensions.")
        return img, 0, 1, np.ascontiguousarray
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError(f"Tensor is not a torch image (it has {img.ndim} dimensions; "
                            "expected (..., H, W))")
        return img.numpy(), img.ndim - 2, img.ndim - 1, \
            lambda a: from_numpy(np.ascontiguousarray(a))
    raise _type_error(img)


def _like_pil(array: np.ndarray, like):
    image = pil_image_module().fromarray(np.ascontiguousarray(array))
    if like.mode == "P":
        image.putpalette(like.getpalette())
    elif image.mode != like.mode:
        image = pil_image_module().fromarray(np.ascontiguousarray(array), mode=like.mode)
    return image


def _channel_axis(array: np.ndarray, h: int):
    """Where the channels are: last in an HxWxC array, before H in a tensor image; None for
    a single-channel HxW image."""
    if h == 0:
        return 2 if array.ndim == 3 else None
    return h - 1


def get_dimensions(img) -> list[int]:
    """[channels, height, width], as torchvision.transforms.functional.get_dimensions."""
    if is_pil_image(img):
        return [len(img.getbands()), img.height, img.width]
    array, h, w, _ = _pixels(img)
    axis = _channel_axis(array, h)
    channels = 1 if axis is None else array.shape[axis]
    return [channels, array.shape[h], array.shape[w]]


def hflip(img):
    array, _, w, rebuild = _pixels(img)
    return rebuild(np.flip(array, w))


def vflip(img):
    array, h, _, rebuild = _pixels(img)
    return rebuild(np.flip(array, h))


def crop(img, top: int, left: int, height: int, width: int):
    """The height x width window at (top, left); parts outside the image are 0, as PIL's crop
    gives them."""
    array, h, w, rebuild = _pixels(img)
    shape = list(array.shape)
    shape[h], shape[w] = height, width
    out = np.zeros(shape, array.dtype)
    rows = slice(max(top, 0), min(top + height, array.shape[h]))
    cols = slice(max(left, 0), min(left + width, array.shape[w]))
    if rows.start < rows.stop and cols.start < cols.stop:
        src = [slice(None)] * array.ndim
        dst = [slice(None)] * array.ndim
        src[h], src[w] = rows, cols
        dst[h] = slice(rows.start - top, rows.stop - top)
        dst[w] = slice(cols.start - left, cols.stop - left)
        out[tuple(dst)] = array[tuple(src)]
    return rebuild(out)


def center_crop(img, output_size):
    """The central crop (top = round((H - h) / 2)); an image smaller than the crop is
    zero-padded first, the odd pixel going right and bottom, as torchvision does."""
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = output_size
    if crop_width > image_width or crop_height > image_height:
        padding_ltrb = [(crop_width - image_width) // 2 if crop_width > image_width else 0,
                        (crop_height - image_height) // 2 if crop_height > image_height else 0,
                        (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
                        (crop_height - image_height + 1) // 2 if crop_height > image_height
                        else 0]
        img = pad(img, padding_ltrb, fill=0)
        _, image_height, image_width = get_dimensions(img)
        if crop_width == image_width and crop_height == image_height:
            return img
    crop_top = int(round((image_height - crop_height) / 2.0))
    crop_left = int(round((image_width - crop_width) / 2.0))
    return crop(img, crop_top, crop_left, crop_height, crop_width)


PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def check_padding(padding, fill, padding_mode) -> None:
    """torchvision's checks of pad's arguments, with its errors."""
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if padding_mode not in PADDING_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad the border: ``padding`` is all sides, (left/right, top/bottom) or (left, top, right,
    bottom); negative padding crops. ``fill`` (a number, or one per channel) for 'constant';
    'edge', 'reflect' and 'symmetric' are numpy.pad's modes, as torchvision uses them."""
    check_padding(padding, fill, padding_mode)
    if isinstance(padding, numbers.Number):
        padding = [padding]
    padding = [int(p) for p in padding]
    if len(padding) == 1:
        padding = padding * 4
    elif len(padding) == 2:
        padding = padding * 2
    left, top, right, bottom = padding
    if min(padding) < 0:  # crop first, as torchvision does
        _, height, width = get_dimensions(img)
        img = crop(img, max(-top, 0), max(-left, 0), height - max(-top, 0) - max(-bottom, 0),
                   width - max(-left, 0) - max(-right, 0))
        left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    array, h, w, rebuild = _pixels(img)
    widths = [(0, 0)] * array.ndim
    widths[h], widths[w] = (top, bottom), (left, right)
    if padding_mode != "constant":
        return rebuild(np.pad(array, widths, padding_mode))
    axis = _channel_axis(array, h)
    fill = _channel_fill(fill, 1 if axis is None else array.shape[axis], array.dtype)
    out = np.empty([size + sum(widths[i]) for i, size in enumerate(array.shape)], array.dtype)
    out[...] = fill.reshape([-1 if i == axis else 1 for i in range(array.ndim)])
    inner = [slice(before, before + s) for (before, _), s in zip(widths, array.shape)]
    out[tuple(inner)] = array
    return rebuild(out)


def _channel_fill(fill, channels: int, dtype) -> np.ndarray:
    fill = np.asarray(fill if isinstance(fill, (tuple, list)) else [fill] * channels)
    if fill.size == 1:
        fill = np.repeat(fill, channels)
    if fill.size != channels:
        raise ValueError("The number of elements in 'fill' does not match the number of channels "
                         f"of the image ({fill.size} != {channels})")
    return fill.astype(dtype) if np.issubdtype(dtype, np.floating) else \
        fill.astype(np.int64).astype(dtype)


def _via_pil(img, operation):
    """Apply a PIL operation to ``img``: directly to a PIL image, through one to an ndarray."""
    if is_pil_image(img):
        return operation(img)
    if isinstance(img, np.ndarray):
        return np.array(operation(pil_image_module().fromarray(np.ascontiguousarray(img))))
    if isinstance(img, Tensor):
        raise TypeError("npconv resizes and rotates PIL images and HxWxC ndarrays, not tensors: "
                        "put this transform before ToTensor()")
    raise _type_error(img)


def resized_output_size(image_size, size, max_size=None) -> list[int]:
    """[new_h, new_w], as torchvision computes it: an int (or 1-sequence) ``size`` is the new
    smaller edge, the longer one int(size * long / short), both scaled down if that exceeds
    ``max_size``; a 2-sequence is (h, w)."""
    if isinstance(size, (list, tuple)) and len(size) == 2:
        return [size[0], size[1]]
    h, w = image_size
    short, long = (w, h) if w <= h else (h, w)
    requested = size if isinstance(size, int) else size[0]
    new_short, new_long = requested, int(requested * long / short)
    if max_size is not None:
        if max_size <= requested:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested "
                             f"size for the smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return [new_h, new_w]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """PIL's resize to ``resized_output_size`` (PIL always antialiases, so ``antialias`` only
    matters for tensors in torchvision); the same image back if the size is already right."""
    _, height, width = get_dimensions(img)
    output_size = resized_output_size((height, width), size, max_size)
    if [height, width] == output_size:
        return img
    return _via_pil(img, lambda image: image.resize(tuple(output_size[::-1]),
                                                    PIL_FILTERS[interpolation]))


def _pil_fill(fill, image):
    """``fill`` as PIL takes it for ``image``: one value per band, ints unless mode 'F'
    (torchvision's _parse_fill)."""
    bands = len(image.getbands())
    fill = 0 if fill is None else fill
    if isinstance(fill, (int, float)) and bands > 1:
        fill = (fill,) * bands
    if isinstance(fill, (list, tuple)):
        fill = tuple(_channel_fill(fill, bands, np.float64).tolist())
        return fill if image.mode == "F" else tuple(int(x) for x in fill)
    return fill if image.mode == "F" else int(fill)


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand=False,
           center=None, fill=0):
    """PIL's rotate by ``angle`` degrees counter-clockwise."""
    def operation(image):
        return image.rotate(angle, PIL_FILTERS[interpolation], expand, center,
                            fillcolor=_pil_fill(fill, image))
    return _via_pil(img, operation)


def to_grayscale(img, num_output_channels: int = 1):
    """PIL's convert('L') (ITU-R 601-2 luma), repeated to 3 channels if asked."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")

    def operation(image):
        grey = image.convert("L")
        if num_output_channels == 1:
            return grey
        return pil_image_module().fromarray(np.dstack([np.asarray(grey)] * 3), "RGB")
    return _via_pil(img, operation)


def to_pil_image(pic, mode=None):
    """A tensor (C, H, W) or ndarray (H, W, C) as a PIL image; a float tensor is scaled by 255
    and truncated to uint8 (torchvision's ``pic.mul(255).byte()``) unless mode is 'F'."""
    Image = pil_image_module()
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic.numpy()
        if array.ndim == 2:
            array = array[None]
        if array.shape[-3] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {array.shape[-3]} channels.")
        if np.issubdtype(array.dtype, np.floating) and mode != "F":
            array = (array * array.dtype.type(255)).astype(np.uint8)
        array = np.transpose(array, (1, 2, 0))
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
        if array.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {array.shape[-1]} channels.")
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if array.shape[2] == 1:
        array = array[:, :, 0]
        inferred = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                    np.dtype(np.uint16): "I;16", np.dtype(np.int32): "I",
                    np.dtype(np.float32): "F"}.get(array.dtype)
        if mode is not None and mode != inferred and not (mode == "L" and inferred == "L"):
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {array.dtype}. "
                             f"Should be {inferred}")
        mode = inferred
    elif mode is None and array.dtype == np.uint8:
        mode = {2: "LA", 3: "RGB", 4: "RGBA"}[array.shape[2]]
    if mode is None:
        raise TypeError(f"Input type {array.dtype} is not supported")
    return Image.fromarray(np.ascontiguousarray(array), mode=mode)
