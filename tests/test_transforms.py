"""Transforms on PIL images (against Pillow's own operations and torchvision's documented
arithmetic, since torchvision cannot be installed here), on ndarrays (the same pixels as the PIL
path), and vision.utils.make_grid / save_image against torchvision's algorithm re-derived with
torch ops."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import npconv
from npconv.vision import transforms as T, utils as vutils
from npconv.vision.transforms import functional as F

Image = pytest.importorskip("PIL.Image")
ImageOps = pytest.importorskip("PIL.ImageOps")
torch = pytest.importorskip("torch")


def picture(mode="RGB", size=(7, 5), seed=0):
    """A random PIL image of ``size`` (width, height)."""
    rng = np.random.default_rng(seed)
    w, h = size
    shape = {"L": (h, w), "RGB": (h, w, 3), "RGBA": (h, w, 4)}[mode]
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode=mode)


def same(a, b):
    """Two images (PIL or ndarray) have the same mode/shape and pixels."""
    if isinstance(a, Image.Image) and isinstance(b, Image.Image):
        assert a.mode == b.mode
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert np.asarray(a).shape == np.asarray(b).shape


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_flips_are_pils_transpose(mode):
    img = picture(mode)
    out = F.hflip(img)
    assert isinstance(out, Image.Image)
    same(out, img.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    same(F.vflip(img), img.transpose(Image.Transpose.FLIP_TOP_BOTTOM))
    same(T.RandomHorizontalFlip(p=1.0)(img), img.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    same(T.RandomVerticalFlip(p=1.0)(img), img.transpose(Image.Transpose.FLIP_TOP_BOTTOM))
    assert T.RandomHorizontalFlip(p=0.0)(img) is img


@settings(max_examples=30)
@given(top=st.integers(-4, 8), left=st.integers(-4, 9), height=st.integers(1, 9),
       width=st.integers(1, 10), mode=st.sampled_from(["L", "RGB"]))
def test_crop_is_pils_crop_even_outside_the_image(top, left, height, width, mode):
    img = picture(mode)
    want = img.crop((left, top, left + width, top + height))
    same(F.crop(img, top, left, height, width), want)
    same(F.crop(np.asarray(img), top, left, height, width), want)


@settings(max_examples=30)
@given(padding=st.one_of(st.integers(0, 4), st.lists(st.integers(0, 4), min_size=1,
                                                        max_size=1),
                         st.lists(st.integers(0, 4), min_size=2, max_size=2),
                         st.lists(st.integers(0, 4), min_size=4, max_size=4)),
       fill=st.integers(0, 255), mode=st.sampled_from(["L", "RGB"]),
       padding_mode=st.sampled_from(["constant", "edge", "reflect", "symmetric"]))
def test_pad_is_imageops_expand_or_numpy_pad(padding, fill, mode, padding_mode):
    """torchvision: constant padding is ImageOps.expand, the other modes np.pad."""
    img = picture(mode)
    p = [padding] if isinstance(padding, int) else list(padding)
    left, top, right, bottom = p * 4 if len(p) == 1 else (p * 2 if len(p) == 2 else p)
    if padding_mode == "constant":
        want = ImageOps.expand(img, border=(left, top, right, bottom),
                               fill=fill if mode == "L" else (fill,) * 3)
    else:
        widths = ((top, bottom), (left, right)) + (((0, 0),) if mode == "RGB" else ())
        want = Image.fromarray(np.pad(np.asarray(img), widths, padding_mode))
    got = T.Pad(padding, fill, padding_mode)(img)
    same(got, want)
    same(T.Pad(padding, fill, padding_mode)(np.asarray(img)), want)


def test_pad_fill_per_channel_and_negative_padding():
    img = picture("RGB")
    same(F.pad(img, 2, fill=(10, 20, 30)), ImageOps.expand(img, border=2, fill=(10, 20, 30)))
    same(F.pad(img, [-1, 2, 0, -2], padding_mode="edge"),
         Image.fromarray(np.pad(np.asarray(img)[:-2, 1:], ((2, 0), (0, 0), (0, 0)), "edge")))
    with pytest.raises(ValueError, match=r"The number of elements in 'fill' does not match the "
                                         r"number of channels of the image \(2 != 3\)"):
        F.pad(img, 1, fill=(1, 2))


@pytest.mark.parametrize("make,error,message", [
    (lambda: T.Pad("1"), TypeError, "Got inappropriate padding arg"),
    (lambda: T.Pad(1, fill="x"), TypeError, "Got inappropriate fill arg"),
    (lambda: T.Pad(1, padding_mode="wrap"), ValueError,
     "Padding mode should be either constant, edge, reflect or symmetric"),
    (lambda: T.Pad([1, 2, 3]), ValueError,
     "Padding must be an int or a 1, 2, or 4 element tuple, not a 3 element tuple"),
    (lambda: T.Lambda(3), TypeError, "Argument lambd should be callable, got 'int'"),
    (lambda: T.RandomCrop(9)(picture()), ValueError,
     r"Required crop size (9, 9) is larger than input image size (5, 7)"),
    (lambda: T.CenterCrop((1, 2, 3)), ValueError,
     "Please provide only two dimensions (h, w) for size."),
    (lambda: T.Resize(2.5), TypeError, "Size should be int or sequence. Got <class 'float'>"),
    (lambda: T.Resize((1, 2, 3)), ValueError, "If size is a sequence, it should have 1 or 2 "
                                               "values"),
    (lambda: T.Resize(10, max_size=10)(picture()), ValueError,
     "max_size = 10 must be strictly greater than the requested size for the smaller edge "
     "size = 10"),
    (lambda: T.RandomRotation(-3), ValueError,
     "If degrees is a single number, it must be positive."),
    (lambda: F.hflip([[1]]), TypeError, "img should be PIL Image. Got <class 'list'>"),
    (lambda: T.Grayscale(2)(picture()), ValueError, "num_output_channels should be either 1 or 3"),
    (lambda: T.ToPILImage()(npconv.zeros(5, 2, 2)), ValueError,
     "pic should not have > 4 channels. Got 5 channels."),
    (lambda: T.ToPILImage()(npconv.zeros(1, 1, 2, 2)), ValueError,
     "pic should be 2/3 dimensional. Got 4 dimensions."),
])
def test_errors_are_torchvisions(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("image_size,size,max_size,want", [
    ((30, 40), 20, None, (20, 26)), ((40, 30), 20, None, (26, 20)), ((33, 33), 10, None, (10, 10)),
    ((30, 40), [20], None, (20, 26)), ((30, 40), (7, 9), None, (7, 9)),
    ((30, 90), 20, 50, (16, 50)), ((90, 30), 20, 70, (60, 20)), ((5, 7), 5, None, (5, 7)),
])
def test_resize_output_size_is_torchvisions_formula(image_size, size, max_size, want):
    """int(size * long / short) for the longer edge, scaled to max_size if it exceeds it."""
    assert tuple(F.resized_output_size(image_size, size, max_size)) == want


@settings(max_examples=20)
@given(w=st.integers(2, 20), h=st.integers(2, 20), size=st.integers(1, 25),
       interpolation=st.sampled_from(list(F.InterpolationMode)),
       mode=st.sampled_from(["L", "RGB"]))
def test_resize_is_pils_resize(w, h, size, interpolation, mode):
    img = picture(mode, (w, h))
    new_h, new_w = F.resized_output_size((h, w), size)
    got = T.Resize(size, interpolation)(img)
    if (new_h, new_w) == (h, w):
        assert got is img  # torchvision returns the very image
    same(got, img.resize((new_w, new_h), F.PIL_FILTERS[interpolation]))
    same(T.Resize(size, interpolation)(np.asarray(img)), got)
    assert F.PIL_FILTERS[F.InterpolationMode.BILINEAR] == Image.Resampling.BILINEAR


@pytest.mark.parametrize("h,th", [(h, th) for h in range(1, 12) for th in range(1, 14)])
def test_center_crop_rounding_and_padding_as_torchvision(h, th):
    """Every offset parity: Python's round() rounds half to even (1.5 -> 2, 2.5 -> 2)."""
    w, tw = 13 - h, th + 1
    img = picture("RGB", (w, h))
    got = T.CenterCrop((th, tw))(img)
    if th <= h and tw <= w:
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        want = img.crop((left, top, left + tw, top + th))
    else:  # zero-pad to at least the crop, the odd pixel right/bottom, then crop the centre
        pl, pt = max(tw - w, 0) // 2, max(th - h, 0) // 2
        pr, pb = (max(tw - w, 0) + 1) // 2, (max(th - h, 0) + 1) // 2
        padded = ImageOps.expand(img, border=(pl, pt, pr, pb), fill=(0, 0, 0))
        ph, pw = padded.height, padded.width
        top, left = int(round((ph - th) / 2.0)), int(round((pw - tw) / 2.0))
        want = padded.crop((left, top, left + tw, top + th))
    same(got, want)
    same(T.CenterCrop((th, tw))(np.asarray(img)), want)


@pytest.mark.parametrize("kwargs", [{"padding": 4}, {"padding": (1, 2)},
                                    {"padding": 2, "padding_mode": "reflect"},
                                    {"pad_if_needed": True, "fill": 7}, {}])
def test_random_crop_is_a_seeded_crop_of_the_padded_image(kwargs):
    img = picture("RGB", (6, 5))
    size = (8, 9) if kwargs.get("pad_if_needed") else (4, 3)
    crop = T.RandomCrop(size, **kwargs)
    npconv.manual_seed(11)
    outs = [np.asarray(crop(img)) for _ in range(20)]
    npconv.manual_seed(11)
    assert all((np.asarray(crop(img)) == o).all() for o in outs)  # reproducible
    padded = img
    if "padding" in kwargs:
        padded = F.pad(img, kwargs["padding"], kwargs.get("fill", 0),
                       kwargs.get("padding_mode", "constant"))
    if kwargs.get("pad_if_needed"):  # each short side padded by its deficit on both ends
        padded = ImageOps.expand(padded, border=(size[1] - 6, size[0] - 5), fill=(7, 7, 7))
    array = np.asarray(padded)
    windows = {(i, j) for i in range(array.shape[0] - size[0] + 1)
               for j in range(array.shape[1] - size[1] + 1)}
    hit = set()
    for out in outs:
        assert out.shape == size + (3,)
        matches = [(i, j) for i, j in windows
                   if (array[i:i + size[0], j:j + size[1]] == out).all()]
        assert matches
        hit.update(matches)
    assert len(hit) > 1 or len(windows) == 1
    npconv.manual_seed(11)
    from_array = [crop(np.asarray(img)) for _ in range(20)]  # the ndarray path, same draws
    assert all((a == o).all() for a, o in zip(from_array, outs))


def test_random_transforms_follow_manual_seed_and_p():
    img = picture("L")
    flip = T.RandomHorizontalFlip(p=0.3)
    npconv.manual_seed(0)
    first = [np.asarray(flip(img)).tobytes() for _ in range(400)]
    npconv.manual_seed(0)
    assert [np.asarray(flip(img)).tobytes() for _ in range(400)] == first
    flipped = sum(f == np.asarray(F.hflip(img)).tobytes() for f in first)
    assert 80 < flipped < 160  # about 0.3 of 400


def test_random_rotation_is_pils_rotate_by_the_drawn_angle():
    img = picture("RGB", (9, 7))
    rotation = T.RandomRotation(30, fill=(1, 2, 3))
    npconv.manual_seed(5)
    got = rotation(img)
    npconv.manual_seed(5)
    angle = T.RandomRotation.get_params([-30.0, 30.0])
    assert -30 <= angle <= 30
    same(got, img.rotate(angle, Image.Resampling.NEAREST, False, None, fillcolor=(1, 2, 3)))
    assert repr(rotation) == ("RandomRotation(degrees=[-30.0, 30.0], interpolation=nearest, "
                              "expand=False, fill=(1, 2, 3))")


def test_grayscale_is_pils_luma():
    img = picture("RGB")
    same(T.Grayscale()(img), img.convert("L"))
    three = T.Grayscale(3)(img)
    assert three.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(three), np.dstack([np.asarray(img.convert("L"))] * 3))


def test_lambda_and_compose_on_pil_images():
    pipeline = T.Compose([T.Pad(1), T.Lambda(lambda im: im.rotate(90)), T.CenterCrop(3),
                          T.ToTensor()])
    out = pipeline(picture("L"))
    assert out.shape == (1, 3, 3) and out.dtype == npconv.float32
    assert repr(T.Lambda(abs)) == "Lambda()"


def torchvision_to_tensor(pic):
    """torchvision's ToTensor on a PIL image, re-derived with torch."""
    dtypes = {"I": np.int32, "I;16": np.int16, "F": np.float32}
    img = torch.from_numpy(np.array(pic, dtypes.get(pic.mode, np.uint8), copy=True))
    if pic.mode == "1":
        img = 255 * img
    img = img.view(pic.size[1], pic.size[0], len(pic.getbands())).permute((2, 0, 1)).contiguous()
    return img.to(torch.get_default_dtype()).div(255) if img.dtype == torch.uint8 else img


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "I;16", "I", "F", "1"])
def test_to_tensor_on_pil_modes_as_torchvision(mode):
    rng = np.random.default_rng(3)
    base = picture("RGB" if mode in ("RGB", "RGBA") else "L")
    img = {"RGBA": picture("RGBA"), "I;16": Image.fromarray(
        rng.integers(0, 30000, (5, 7), dtype=np.uint16)), "1": base.convert("1"),
        "I": base.convert("I"), "F": base.convert("F")}.get(mode, base)
    assert img.mode == mode
    got, want = T.ToTensor()(img), torchvision_to_tensor(img)
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_to_pil_image_as_torchvision():
    x = np.random.default_rng(0).random((3, 4, 5), dtype=np.float32)
    img = T.ToPILImage()(npconv.from_numpy(x))
    want = torch.from_numpy(x).mul(255).byte().permute(1, 2, 0).numpy()  # truncation, not round
    assert img.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(img), want)
    grey = T.ToPILImage()(npconv.from_numpy(x[:1]))
    assert grey.mode == "L"
    assert T.ToPILImage()(np.zeros((2, 2, 4), np.uint8)).mode == "RGBA"
    assert T.ToPILImage(mode="F")(npconv.from_numpy(x[:1])).mode == "F"
    back = T.ToTensor()(T.ToPILImage()(T.ToTensor()(picture())))
    np.testing.assert_array_equal(back.numpy(), T.ToTensor()(picture()).numpy())
    assert repr(T.ToPILImage()) == "ToPILImage()"


def test_normalize_inplace_bumps_the_version_as_torch():
    x = npconv.rand(3, 4, 4)
    before = x._version
    out = T.Normalize((0.5, 0.4, 0.3), (0.2, 0.2, 0.2), inplace=True)(x)
    t = torch.rand(3, 4, 4)
    t_before = t._version
    t.sub_(torch.tensor([0.5, 0.4, 0.3]).view(-1, 1, 1)).div_(torch.tensor([0.2] * 3).view(-1, 1,
                                                                                           1))
    assert out is x and x._version - before == t._version - t_before == 2
    y = npconv.rand(3, 2, 2)
    v = y._version
    T.Normalize((0.5,) * 3, (0.2,) * 3)(y)
    assert y._version == v  # not in place: untouched


def test_tensor_images_flip_crop_and_pad_on_their_last_two_dims():
    x = np.random.default_rng(0).random((2, 3, 5, 6)).astype(np.float32)
    t = npconv.from_numpy(x)
    np.testing.assert_array_equal(F.hflip(t).numpy(), torch.from_numpy(x).flip(-1).numpy())
    np.testing.assert_array_equal(F.vflip(t).numpy(), torch.from_numpy(x).flip(-2).numpy())
    np.testing.assert_array_equal(F.crop(t, 1, 2, 3, 3).numpy(), x[..., 1:4, 2:5])
    want = torch.nn.functional.pad(torch.from_numpy(x), (1, 2, 3, 0), value=0.5)
    np.testing.assert_array_equal(F.pad(t, [1, 3, 2, 0], fill=0.5).numpy(), want.numpy())
    want = torch.nn.functional.pad(torch.from_numpy(x), (1, 1, 2, 2), mode="reflect")
    np.testing.assert_array_equal(F.pad(t, [1, 2], padding_mode="reflect").numpy(), want.numpy())
    assert F.get_dimensions(t) == [3, 5, 6]


def test_transform_reprs_are_torchvisions():
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.RandomVerticalFlip(0.2)) == "RandomVerticalFlip(p=0.2)"
    assert repr(T.Resize(256)) == ("Resize(size=256, interpolation=bilinear, max_size=None, "
                                   "antialias=True)")
    assert repr(T.CenterCrop(224)) == "CenterCrop(size=(224, 224))"
    assert repr(T.Pad(2)) == "Pad(padding=2, fill=0, padding_mode=constant)"
    assert repr(T.Grayscale()) == "Grayscale(num_output_channels=1)"


# ---- make_grid and save_image ----------------------------------------------------------------

def torchvision_make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None,
                          scale_each=False, pad_value=0):
    """torchvision.utils.make_grid's algorithm, written with torch ops (torchvision itself is
    not installable here)."""
    if isinstance(tensor, list):
        tensor = torch.stack(tensor, dim=0)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = torch.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = torch.cat((tensor, tensor, tensor), 1)
    if normalize is True:
        tensor = tensor.clone()

        def norm_ip(img, low, high):
            img.clamp_(min=low, max=high)
            img.sub_(low).div_(max(high - low, 1e-5))

        def norm_range(t, value_range):
            if value_range is not None:
                norm_ip(t, value_range[0], value_range[1])
            else:
                norm_ip(t, float(t.min()), float(t.max()))
        if scale_each is True:
            for t in tensor:
                norm_range(t, value_range)
        else:
            norm_range(tensor, value_range)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(tensor.size(2) + padding), int(tensor.size(3) + padding)
    grid = tensor.new_full((tensor.size(1), height * ymaps + padding, width * xmaps + padding),
                           pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            grid.narrow(1, y * height + padding, height - padding).narrow(
                2, x * width + padding, width - padding).copy_(tensor[k])
            k = k + 1
    return grid


grid_configs = dict(
    shape=st.sampled_from([(5, 3, 4, 6), (1, 3, 4, 4), (9, 1, 3, 2), (3, 4, 4), (1, 5, 5),
                           (6, 7), (12, 3, 2, 2)]),
    nrow=st.integers(1, 10), padding=st.integers(0, 3), normalize=st.booleans(),
    value_range=st.sampled_from([None, (-0.5, 0.5), (0.0, 2.0)]), scale_each=st.booleans(),
    pad_value=st.sampled_from([0, 1, 0.25]), as_list=st.booleans(), seed=st.integers(0, 999))


@settings(max_examples=40)
@given(**grid_configs)
def test_make_grid_equals_torchvisions_algorithm(shape, nrow, padding, normalize, value_range,
                                                 scale_each, pad_value, as_list, seed):
    x = (np.random.default_rng(seed).standard_normal(shape) * 2).astype(np.float32)
    kwargs = dict(nrow=nrow, padding=padding, normalize=normalize, value_range=value_range,
                  scale_each=scale_each, pad_value=pad_value)
    as_list = as_list and len(shape) == 4
    ours = vutils.make_grid([npconv.from_numpy(a) for a in x] if as_list
                            else npconv.from_numpy(x.copy()), **kwargs)
    theirs = torchvision_make_grid([torch.from_numpy(a) for a in x] if as_list
                                   else torch.from_numpy(x.copy()), **kwargs)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == npconv.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_make_grid_leaves_its_input_alone_and_checks_types():
    x = npconv.randn(4, 3, 2, 2)
    before = x.numpy().copy()
    vutils.make_grid(x, normalize=True)
    np.testing.assert_array_equal(x.numpy(), before)
    with pytest.raises(TypeError, match="tensor or list of tensors expected, got <class "
                                        "'numpy.ndarray'>"):
        vutils.make_grid(before)


@settings(max_examples=10)
@given(**grid_configs)
def test_save_image_writes_torchvisions_pixels(tmp_path_factory, shape, nrow, padding,
                                               normalize, value_range, scale_each, pad_value,
                                               as_list, seed):
    x = np.random.default_rng(seed).random(shape, dtype=np.float32) * 1.2 - 0.1
    kwargs = dict(nrow=nrow, padding=padding, normalize=normalize, value_range=value_range,
                  scale_each=scale_each, pad_value=pad_value)
    path = tmp_path_factory.mktemp("img") / "grid.png"
    vutils.save_image(npconv.from_numpy(x), path, **kwargs)
    grid = torchvision_make_grid(torch.from_numpy(x), **kwargs)
    want = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to("cpu", torch.uint8).numpy()
    with Image.open(path) as img:
        got = np.asarray(img)
    np.testing.assert_array_equal(got, want)
