"""npconv.vision: IDX parsing, the shipped MNIST, download without network, transforms, reprs."""
import errno
import gzip
import hashlib
import os
import shutil
import sys
import types

import numpy as np
import pytest

import npconv
from npconv.vision import datasets, idx, transforms
from npconv.vision.datasets import mnist, utils as dataset_utils

SHIPPED = mnist._SHIPPED_DIR
FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte"]
TORCHVISION_MD5 = {  # torchvision.datasets.MNIST.resources
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
SEED_TRANSFORM = transforms.Compose([transforms.ToTensor(),
                                     transforms.Normalize((0.1307,), (0.3081,))])


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    datasets.MNIST(root, download=True)
    return root


@pytest.fixture(scope="module")
def train(root):
    return datasets.MNIST(root, train=True)


@pytest.fixture(scope="module")
def test(root):
    return datasets.MNIST(root, train=False)


def _idx_bytes(array: np.ndarray, code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


# ---- IDX -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,code", [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B),
                                        (np.int32, 0x0C), (np.float32, 0x0D), (np.float64, 0x0E)])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_all_types_plain_and_gzipped(tmp_path, dtype, code, compress):
    array = (np.arange(24) - 5).reshape(2, 3, 4).astype(dtype)
    data = _idx_bytes(array, code)
    path = tmp_path / "x.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    got = idx.read_idx(path)
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative and got.flags.writeable
    np.testing.assert_array_equal(got, array)


def _corrupt_cases():
    good = _idx_bytes(np.zeros((2, 2, 2), np.uint8), 0x08)
    return {
        "empty": (b"", "a 0-byte file"),
        "bad magic": (b"\x12\x34" + good[2:], "got 0x12340803"),
        "unknown type": (good[:2] + b"\x07" + good[3:], "got 0x00000703"),
        "zero dims": (good[:3] + b"\x00" + good[4:], "got 0x00000800"),
        "cut header": (good[:9], "expected a 16-byte header for 3 dimensions, got 9 bytes"),
        "cut data": (good[:-1], r"expected 24 bytes .*shape \(2, 2, 2\), got 23 \(truncated\)"),
        "trailing": (good + b"\0", r"got 25 \(trailing bytes\)"),
        "cut gzip": (gzip.compress(good)[:-10], "expected a complete gzip stream"),
        "bad crc": (gzip.compress(good)[:-8] + b"\0\0\0\0" + gzip.compress(good)[-4:],
                    "expected a complete gzip stream"),
    }


@pytest.mark.parametrize("case", list(_corrupt_cases()))
def test_corrupt_or_truncated_idx_raises_a_clear_error(tmp_path, case):
    data, message = _corrupt_cases()[case]
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(data)
    with pytest.raises(RuntimeError, match=message) as info:
        idx.read_idx(path)
    assert str(path) in str(info.value) and "delete it and download it again" in str(info.value)


# ---- shipped files and checksums --------------------------------------------------------------

def test_shipped_files_are_the_originals():
    lines = (SHIPPED / "SHA256SUMS").read_text().splitlines()
    sums = dict(reversed(line.split()) for line in lines)
    assert set(sums) == {name + ".gz" for name in FILES}
    for name in FILES:
        data = (SHIPPED / (name + ".gz")).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sums[name + ".gz"]
        assert sums[name + ".gz"] == mnist._RESOURCES[name][0]
        assert hashlib.md5(data).hexdigest() == TORCHVISION_MD5[name + ".gz"]
        payload = gzip.decompress(data)
        assert hashlib.sha256(payload).hexdigest() == mnist._RESOURCES[name][1]


def test_a_modified_file_fails_the_checksum_on_load(tmp_path, root):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in FILES[2:]:
        shutil.copy(SHIPPED / (name + ".gz"), raw)
    labels = idx.read_idx(raw / "t10k-labels-idx1-ubyte.gz")
    labels[0] = (labels[0] + 1) % 10  # still a valid IDX file, but not MNIST
    (raw / "t10k-labels-idx1-ubyte.gz").unlink()
    (raw / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(labels, 0x08))
    with pytest.raises(RuntimeError, match=r"t10k-labels-idx1-ubyte is not the original MNIST "
                                           r"file: .* Delete it and run MNIST\(root, "
                                           r"download=True\)"):
        datasets.MNIST(tmp_path, train=False)


def test_uncompressed_files_as_torchvision_leaves_them(tmp_path, test):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in FILES[2:]:
        (raw / name).write_bytes(gzip.decompress((SHIPPED / (name + ".gz")).read_bytes()))
    plain = datasets.MNIST(str(tmp_path), train=False)
    np.testing.assert_array_equal(plain.data.numpy(), test.data.numpy())


# ---- download and offline behaviour ----------------------------------------------------------

def test_download_copies_the_shipped_files_without_network(tmp_path, no_network):
    ds = datasets.MNIST(tmp_path, train=False, download=True)
    assert len(ds) == 10000
    raw = tmp_path / "MNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(name + ".gz" for name in FILES)
    for name in FILES:
        assert (raw / (name + ".gz")).read_bytes() == (SHIPPED / (name + ".gz")).read_bytes()
    datasets.MNIST(tmp_path, train=True, download=True)  # already there: nothing to do


def test_missing_files_without_download(tmp_path):
    with pytest.raises(RuntimeError, match=r"^Dataset not found. You can use download=True to "
                                           r"download it \(missing from .*MNIST.raw: "
                                           r"t10k-images-idx3-ubyte\[\.gz\], "
                                           r"t10k-labels-idx1-ubyte\[\.gz\]"):
        datasets.MNIST(tmp_path, train=False)


def test_offline_without_a_shipped_copy_says_what_is_missing_and_how_to_fix_it(
        tmp_path, monkeypatch, no_network):
    monkeypatch.setattr(mnist, "_SHIPPED_DIR", tmp_path / "nothing-shipped")
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["https://mirror.invalid/mnist/"])
    with pytest.raises(RuntimeError) as info:
        datasets.MNIST(tmp_path / "root", download=True)
    message = str(info.value)
    assert message.startswith("Could not download train-images-idx3-ubyte.gz "
                              "(https://mirror.invalid/mnist/train-images-idx3-ubyte.gz: ")
    assert "network disabled" in message
    assert "copy the four MNIST files (train-images-idx3-ubyte.gz, " in message
    assert "reinstall npconv" in message
    assert os.listdir(tmp_path / "root" / "MNIST" / "raw") == []  # no partial file left


def _mirror(tmp_path, corrupt=None):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in FILES:
        data = (SHIPPED / (name + ".gz")).read_bytes()
        (mirror / (name + ".gz")).write_bytes(data[:-1] if name == corrupt else data)
    return mirror.as_uri() + "/"


def test_download_from_a_mirror_verifies_the_checksum(tmp_path, monkeypatch, no_network):
    monkeypatch.setattr(mnist, "_SHIPPED_DIR", tmp_path / "nothing-shipped")
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["https://mirror.invalid/", _mirror(tmp_path)])
    assert len(datasets.MNIST(tmp_path / "root", train=False, download=True)) == 10000


def test_a_damaged_download_is_rejected(tmp_path, monkeypatch, no_network):
    monkeypatch.setattr(mnist, "_SHIPPED_DIR", tmp_path / "nothing-shipped")
    monkeypatch.setattr(datasets.MNIST, "mirrors",
                        [_mirror(tmp_path, corrupt="t10k-labels-idx1-ubyte")])
    expected = mnist._RESOURCES["t10k-labels-idx1-ubyte"][0]
    with pytest.raises(RuntimeError, match=f"Could not download t10k-labels-idx1-ubyte.gz .*"
                                           f"expected {expected}"):
        datasets.MNIST(tmp_path / "root", train=False, download=True)
    assert "t10k-labels-idx1-ubyte.gz" not in os.listdir(tmp_path / "root" / "MNIST" / "raw")


# ---- the dataset -----------------------------------------------------------------------------

def test_label_counts(train, test):
    assert np.bincount(train.targets.numpy()).tolist() == [5923, 6742, 5958, 6131, 5842, 5421,
                                                           5918, 6265, 5851, 5949]
    assert np.bincount(test.targets.numpy()).tolist() == [980, 1135, 1032, 1010, 982, 892, 958,
                                                          1028, 974, 1009]


def test_pixel_statistics(train):
    pixels = train.data.numpy()
    # Exact integer sums (255**2 fits in uint16): 20x quicker than float arrays of 47M pixels.
    total = int(pixels.sum(dtype=np.uint64))
    squares = int(np.square(pixels.astype(np.uint16)).sum(dtype=np.uint64))
    mean = total / pixels.size / 255
    std = (squares / pixels.size / 255**2 - mean**2) ** 0.5
    assert round(mean, 4) == 0.1307 and round(std, 4) == 0.3081


def test_data_targets_and_items(train, test):
    assert len(train) == 60000 and len(test) == 10000
    assert train.data.dtype == npconv.uint8 and train.data.shape == (60000, 28, 28)
    assert train.targets.dtype == npconv.int64 and train.targets.shape == (60000,)
    img, target = train[0]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    assert type(target) is int and target == 5  # the well-known first training digit
    img[:] = 0  # the sample is a copy: the dataset is untouched
    assert train.data.numpy()[0].max() == 255
    assert train.classes[5] == "5 - five" and train.class_to_idx["9 - nine"] == 9
    assert test[-1][1] == int(test.targets.numpy()[-1])


def test_transforms_are_applied(root, train):
    ds = datasets.MNIST(root, transform=SEED_TRANSFORM, target_transform=lambda y: y * 10)
    img, target = ds[0]
    assert img.dtype == npconv.float32 and img.shape == (1, 28, 28) and target == 50
    want = (train.data.numpy()[0] / np.float32(255) - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_array_equal(img.numpy()[0], want.astype(np.float32))


def test_torchvision_like_repr(root):
    ds = datasets.MNIST(root, train=True, transform=SEED_TRANSFORM)
    assert repr(ds) == (
        "Dataset MNIST\n"
        "    Number of datapoints: 60000\n"
        f"    Root location: {root}\n"
        "    Split: Train\n"
        "    StandardTransform\n"
        "Transform: Compose(\n"
        "               ToTensor()\n"
        "               Normalize(mean=(0.1307,), std=(0.3081,))\n"
        "           )")
    plain = datasets.MNIST(str(root), train=False)
    assert repr(plain) == ("Dataset MNIST\n    Number of datapoints: 10000\n"
                           f"    Root location: {root}\n    Split: Test")
    targets_only = datasets.MNIST(root, train=False, target_transform=transforms.ToTensor())
    assert repr(targets_only).endswith("    StandardTransform\nTarget transform: ToTensor()")


# ---- transforms ------------------------------------------------------------------------------

def test_to_tensor_matches_torchvision_arithmetic():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    color = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    for pic, chw in ((gray, gray[None]), (color, color.transpose(2, 0, 1))):
        got = transforms.ToTensor()(pic)
        want = torch.from_numpy(np.ascontiguousarray(chw)).to(torch.float32).div(255)
        assert got.dtype == npconv.float32 and got.numpy().flags.c_contiguous
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    floats = rng.random((4, 4, 2))  # non-uint8 keeps its values and dtype
    got = transforms.ToTensor()(floats)
    assert got.dtype == npconv.float64
    np.testing.assert_array_equal(got.numpy(), floats.transpose(2, 0, 1))


def test_to_tensor_follows_the_default_dtype():
    npconv.set_default_dtype(npconv.float64)
    try:
        assert transforms.ToTensor()(np.zeros((2, 2), np.uint8)).dtype == npconv.float64
    finally:
        npconv.set_default_dtype(npconv.float32)


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray. Got <class 'list'>"):
        transforms.ToTensor()([[1]])
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 4 dimensions."):
        transforms.ToTensor()(np.zeros((1, 2, 2, 1), np.uint8))
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        transforms.ToTensor().batched(npconv.zeros(2, 3, 3))  # fails as per image would


def test_to_tensor_accepts_pil_images(monkeypatch):
    """Pillow is not a dependency: a stand-in PIL.Image module checks the PIL branch."""
    class Image:
        def __init__(self, array, mode):
            self.array, self.mode = array, mode

        def __array__(self, dtype=None, copy=None):
            return self.array.astype(dtype or self.array.dtype)
    monkeypatch.setitem(sys.modules, "PIL.Image", types.SimpleNamespace(Image=Image))
    pixels = np.arange(12, dtype=np.uint8).reshape(3, 4)
    got = transforms.ToTensor()(Image(pixels, "L"))
    np.testing.assert_array_equal(got.numpy(), transforms.ToTensor()(pixels).numpy())
    binary = transforms.ToTensor()(Image(pixels > 5, "1"))
    np.testing.assert_array_equal(binary.numpy()[0], (pixels > 5).astype(np.float32))
    as_int = transforms.ToTensor()(Image(pixels.astype(np.int32) * 1000, "I"))
    assert as_int.dtype == npconv.int32 and as_int.numpy().max() == 11000


def test_normalize_matches_torchvision_arithmetic():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).random((2, 3, 4, 5), dtype=np.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    got = transforms.Normalize(mean, std)(npconv.from_numpy(x.copy()))
    t = torch.from_numpy(x.copy())  # torchvision: tensor.sub_(mean).div_(std) in its dtype
    want = t.sub_(torch.tensor(mean).view(-1, 1, 1)).div_(torch.tensor(std).view(-1, 1, 1))
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_normalize_inplace_and_not():
    x = npconv.ones(1, 2, 2)
    out = transforms.Normalize((0.5,), (0.25,))(x)
    assert out is not x and x.numpy().max() == 1 and out.numpy().max() == 2
    assert transforms.Normalize((0.5,), (0.25,), inplace=True)(x) is x and x.numpy().max() == 2


def test_normalize_errors_like_torchvision():
    norm = transforms.Normalize((0.5,), (0.0,))
    with pytest.raises(ValueError, match="std evaluated to zero after conversion to "
                                         "npconv.float32, leading to division by zero."):
        norm(npconv.ones(1, 2, 2))
    with pytest.raises(TypeError, match="img should be Tensor Image. Got <class 'numpy.ndarray'>"):
        norm(np.ones((1, 2, 2)))
    with pytest.raises(TypeError, match="Input tensor should be a float tensor. Got "
                                        "npconv.uint8."):
        norm(npconv.from_numpy(np.ones((1, 2, 2), np.uint8)))
    with pytest.raises(ValueError, match=r"Expected tensor to be a tensor image of size "
                                         r"\(..., C, H, W\). Got tensor.size\(\) = "
                                         r"npconv.Size\(\[2, 2\]\)"):
        norm(npconv.ones(2, 2))


def test_transform_reprs():
    assert repr(transforms.ToTensor()) == "ToTensor()"
    assert repr(transforms.Normalize([0.5], [0.5])) == "Normalize(mean=[0.5], std=[0.5])"
    assert repr(SEED_TRANSFORM) == ("Compose(\n    ToTensor()\n"
                                    "    Normalize(mean=(0.1307,), std=(0.3081,))\n)")


def test_batched_transforms_equal_stacked_per_image_results(train):
    batch = train.data.numpy()[:50]
    batched = transforms.batch_transform(SEED_TRANSFORM)(batch)
    one_by_one = np.stack([SEED_TRANSFORM(img).numpy() for img in batch])
    assert batched.dtype == npconv.float32 and batched.shape == (50, 1, 28, 28)
    np.testing.assert_array_equal(batched.numpy(), one_by_one)
    color = np.random.default_rng(0).integers(0, 256, (3, 5, 6, 3), dtype=np.uint8)
    np.testing.assert_array_equal(transforms.ToTensor().batched(color).numpy(),
                                  np.stack([transforms.ToTensor()(c).numpy() for c in color]))
    assert transforms.batch_transform(transforms.Compose([transforms.ToTensor(), abs])) is None


def _as_for_a_user_without_write_permission(monkeypatch, folder):
    """Make writing into folder fail as the kernel makes it fail for a user without write
    permission. Tests may run as root, whom the kernel lets write into a mode-0555 folder, so
    for root the refusal is played by open() and os.makedirs (npconv's only ways of creating
    files and folders there); for anyone else the chmod alone does it."""
    folder.chmod(0o555)
    if getattr(os, "geteuid", lambda: -1)() != 0:
        return

    def refuse(path, *args):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))

    real_open, real_makedirs = open, os.makedirs

    def guarded_open(path, mode="r", *args, **kwargs):
        if os.path.dirname(os.path.abspath(path)) == str(folder) and set(mode) & set("wax+"):
            refuse(path)
        return real_open(path, mode, *args, **kwargs)

    def guarded_makedirs(path, *args, **kwargs):
        if os.path.dirname(os.path.abspath(path)) == str(folder) and not os.path.isdir(path):
            refuse(path)
        return real_makedirs(path, *args, **kwargs)

    monkeypatch.setattr(dataset_utils, "open", guarded_open, raising=False)
    monkeypatch.setattr(os, "makedirs", guarded_makedirs)


@pytest.mark.parametrize("read_only", ["raw", "MNIST"])
def test_download_into_a_read_only_folder_says_it_is_not_writable(read_only, tmp_path,
                                                                  monkeypatch, no_network):
    """It used to say "Could not download ... Without network, copy the files", after trying
    every mirror; the network was never the problem."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    if read_only == "MNIST":
        raw.rmdir()
    folder = tmp_path / read_only if read_only == "MNIST" else raw
    _as_for_a_user_without_write_permission(monkeypatch, folder)
    try:
        with pytest.raises(PermissionError) as info:
            datasets.MNIST(tmp_path, train=False, download=True)
    finally:
        folder.chmod(0o755)
    message = str(info.value)
    assert message.startswith("[Errno 13] Permission denied: ")
    assert f"the folder {folder} is not writable" in message and f"files into {raw}" in message
    assert f"chmod u+w {folder}" in message and "--data DIR" in message
    assert "network" not in message
