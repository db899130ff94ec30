"""FashionMNIST and CIFAR10 read from tiny files in the published formats, built here: IDX
images and labels (gzip'd, as published) and CIFAR-style pickled batches in a tar.gz. The
checksum tables are the classes' documented attributes (torchvision's), pointed at the tiny
files' MD5s; nothing touches the network."""
import gzip
import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

import npconv
from npconv.vision import datasets, transforms
from npconv.vision.datasets.cifar import ArrayUnpickler, load_pickle

TORCHVISION_FASHION_MD5 = {  # torchvision.datasets.FashionMNIST.resources
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.tobytes()


# ---- FashionMNIST ----------------------------------------------------------------------------

@pytest.fixture
def fashion(tmp_path, monkeypatch):
    """root with tiny FashionMNIST files (10 train, 4 test images), the table pointed at them."""
    rng = np.random.default_rng(0)
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    arrays, table = {}, []
    for prefix, n in (("train", 10), ("t10k", 4)):
        arrays[prefix] = (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
                          rng.integers(0, 10, n).astype(np.uint8))
        for kind, array in zip(("images-idx3", "labels-idx1"), arrays[prefix]):
            name = f"{prefix}-{kind}-ubyte.gz"
            data = gzip.compress(idx_bytes(array))
            (raw / name).write_bytes(data)
            table.append((name, md5(data)))
    monkeypatch.setattr(datasets.FashionMNIST, "resources", table)
    return tmp_path, arrays


def test_fashion_mnist_has_torchvisions_table_classes_and_mirror():
    assert dict(datasets.FashionMNIST.resources) == TORCHVISION_FASHION_MD5
    assert datasets.FashionMNIST.classes == ["T-shirt/top", "Trouser", "Pullover", "Dress",
                                             "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                                             "Ankle boot"]
    assert datasets.FashionMNIST.mirrors == [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]


@pytest.mark.parametrize("train", [True, False])
def test_fashion_mnist_reads_the_idx_files(fashion, train):
    root, arrays = fashion
    images, labels = arrays["train" if train else "t10k"]
    ds = datasets.FashionMNIST(root, train=train)
    assert len(ds) == len(labels) and ds.data.dtype == npconv.uint8
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert ds.targets.dtype == npconv.int64 and ds.targets.numpy().tolist() == labels.tolist()
    img, target = ds[1]
    np.testing.assert_array_equal(img, images[1])
    assert type(target) is int and target == labels[1]
    assert ds.class_to_idx["Ankle boot"] == 9 and ds.raw_folder == os.path.join(
        root, "FashionMNIST", "raw")
    assert repr(ds).startswith(f"Dataset FashionMNIST\n    Number of datapoints: {len(labels)}")


def test_fashion_mnist_transforms(fashion):
    root, arrays = fashion
    ds = datasets.FashionMNIST(root, transform=transforms.ToTensor(),
                               target_transform=lambda y: y + 100)
    img, target = ds[3]
    assert img.shape == (1, 28, 28) and target == arrays["train"][1][3] + 100
    np.testing.assert_array_equal(img.numpy()[0], arrays["train"][0][3] / np.float32(255))


def test_fashion_mnist_wrong_checksum_raises(fashion, monkeypatch):
    root, _ = fashion
    table = [(name, "0" * 32) if name.startswith("t10k-labels") else (name, digest)
             for name, digest in datasets.FashionMNIST.resources]
    monkeypatch.setattr(datasets.FashionMNIST, "resources", table)
    datasets.FashionMNIST(root, train=True)  # the train files are still right
    with pytest.raises(RuntimeError, match=r"t10k-labels-idx1-ubyte.gz is corrupted or not the "
                                           r"published file: its MD5 is [0-9a-f]{32}, expected "
                                           r"0{32}. Delete it and run FashionMNIST"):
        datasets.FashionMNIST(root, train=False)


def test_fashion_mnist_missing_files_say_what_to_put_where(tmp_path):
    with pytest.raises(RuntimeError) as info:
        datasets.FashionMNIST(tmp_path, train=False)
    message = str(info.value)
    raw = os.path.join(tmp_path, "FashionMNIST", "raw")
    assert message.startswith("Dataset not found. You can use download=True to download it "
                              f"(missing from {raw}: t10k-images-idx3-ubyte[.gz], "
                              "t10k-labels-idx1-ubyte[.gz]")
    for name, digest in TORCHVISION_FASHION_MD5.items():
        assert f"{name} (MD5 {digest})" in message
    assert "fashion-mnist.s3-website" in message and message.endswith(f"put them in {raw})")


def test_fashion_mnist_download_offline_names_files_checksums_and_folder(tmp_path, no_network):
    with pytest.raises(RuntimeError) as info:
        datasets.FashionMNIST(tmp_path, download=True)
    message = str(info.value)
    assert message.startswith("Could not download train-images-idx3-ubyte.gz (http://fashion-"
                              "mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-"
                              "ubyte.gz: ")
    assert "network disabled" in message and "(MD5 8d4fb7e6c68d591d4c3dfef9ec88bf0d)" in message
    assert os.listdir(tmp_path / "FashionMNIST" / "raw") == []  # nothing half-written


def test_fashion_mnist_download_from_a_mirror_checks_md5(fashion, tmp_path_factory, monkeypatch,
                                                         no_network):
    source, arrays = fashion
    mirror = source / "FashionMNIST" / "raw"
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [mirror.as_uri() + "/"])
    root = tmp_path_factory.mktemp("fresh")
    ds = datasets.FashionMNIST(root, train=False, download=True)
    np.testing.assert_array_equal(ds.data.numpy(), arrays["t10k"][0])
    assert sorted(os.listdir(root / "FashionMNIST" / "raw")) == sorted(
        name for name, _ in datasets.FashionMNIST.resources)
    bad = [(name, "f" * 32) for name, _ in datasets.FashionMNIST.resources]
    monkeypatch.setattr(datasets.FashionMNIST, "resources", bad)
    with pytest.raises(RuntimeError, match=r"Could not download train-images-idx3-ubyte.gz .*got "
                                           r"MD5 [0-9a-f]{32}, expected f{32}"):
        datasets.FashionMNIST(tmp_path_factory.mktemp("other"), download=True)


# ---- CIFAR10 ---------------------------------------------------------------------------------

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
         "truck"]


def batch(rng, n, protocol=2):
    """A CIFAR batch as published: a pickled dict of row-major (R, G, B planes) uint8 rows."""
    content = {"batch_label": "tiny", "labels": rng.integers(0, 10, n).tolist(),
               "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
               "filenames": [f"img_{i}.png" for i in range(n)]}
    return content, pickle.dumps(content, protocol=protocol)


@pytest.fixture
def cifar(tmp_path, monkeypatch):
    """A tiny cifar-10-python.tar.gz (5 train batches of 3, a test batch of 4) in tmp_path/src,
    the class's checksum table pointed at its files."""
    rng = np.random.default_rng(1)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    contents, files = {}, {}
    for i, name in enumerate(names):
        contents[name], files[name] = batch(rng, 4 if name == "test_batch" else 3,
                                            protocol=(2, 5)[i % 2])
    files["batches.meta"] = pickle.dumps({"label_names": NAMES, "num_vis": 3072}, protocol=2)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive = buffer.getvalue()
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", md5(archive))
    monkeypatch.setattr(datasets.CIFAR10, "train_list", [[n, md5(files[n])] for n in names[:5]])
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", md5(files["test_batch"])]])
    monkeypatch.setattr(datasets.CIFAR10, "meta", {"filename": "batches.meta",
                                                   "key": "label_names",
                                                   "md5": md5(files["batches.meta"])})
    return archive, contents


def hwc(content):
    return content["data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def test_cifar10_has_torchvisions_checksums():
    assert datasets.CIFAR10.tgz_md5 == "c58f30108f718f92721af3b95e74349a"
    assert datasets.CIFAR10.train_list[0] == ["data_batch_1", "c99cafc152244af753f735de768cd75f"]
    assert datasets.CIFAR10.test_list == [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    assert datasets.CIFAR10.meta["md5"] == "5ff9c542aee3614f3951f8cda6e48888"
    assert datasets.CIFAR10.base_folder == "cifar-10-batches-py"


def test_cifar10_unpacks_a_local_archive_and_reads_both_splits(cifar, tmp_path, no_network):
    archive, contents = cifar
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(archive)
    train = datasets.CIFAR10(tmp_path, train=True, download=True)
    assert sorted(os.listdir(tmp_path / "cifar-10-batches-py")) == sorted(list(contents) + [
        "batches.meta"])
    want = np.concatenate([hwc(contents[f"data_batch_{i}"]) for i in range(1, 6)])
    assert isinstance(train.data, np.ndarray) and train.data.shape == (15, 32, 32, 3)
    np.testing.assert_array_equal(train.data, want)
    assert train.targets == [y for i in range(1, 6) for y in contents[f"data_batch_{i}"]["labels"]]
    assert train.classes == NAMES and train.class_to_idx["truck"] == 9
    test = datasets.CIFAR10(tmp_path, train=False)
    np.testing.assert_array_equal(test.data, hwc(contents["test_batch"]))
    img, target = test[2]
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8 and type(target) is int
    np.testing.assert_array_equal(img, hwc(contents["test_batch"])[2])
    assert repr(test) == (f"Dataset CIFAR10\n    Number of datapoints: 4\n    Root location: "
                          f"{tmp_path}\n    Split: Test")


def test_cifar10_batches_through_transforms_and_a_loader(cifar, tmp_path):
    archive, contents = cifar
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(archive)
    norm = transforms.Compose([transforms.ToTensor(),
                               transforms.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))])
    ds = datasets.CIFAR10(tmp_path, train=False, download=True, transform=norm)
    images, labels = next(iter(npconv.utils.data.DataLoader(ds, batch_size=4)))
    want = (hwc(contents["test_batch"]).transpose(0, 3, 1, 2) / np.float32(255) - 0.5) / 0.25
    np.testing.assert_allclose(images.numpy(), want, rtol=1e-6)
    assert labels.numpy().tolist() == contents["test_batch"]["labels"]


def test_cifar10_download_from_the_url_checks_md5(cifar, tmp_path, monkeypatch, no_network):
    archive, _ = cifar
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "cifar-10-python.tar.gz").write_bytes(archive)
    monkeypatch.setattr(datasets.CIFAR10, "url",
                        (tmp_path / "mirror" / "cifar-10-python.tar.gz").as_uri())
    assert len(datasets.CIFAR10(tmp_path / "root", download=True)) == 15
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", "0" * 32)
    with pytest.raises(RuntimeError, match=r"Could not download cifar-10-python.tar.gz .*"
                                           r"expected 0{32}"):
        datasets.CIFAR10(tmp_path / "other", download=True)
    assert not (tmp_path / "other" / "cifar-10-python.tar.gz").exists()


def test_cifar10_missing_and_offline_messages(tmp_path, no_network):
    with pytest.raises(RuntimeError) as info:
        datasets.CIFAR10(tmp_path)
    message = str(info.value)
    assert message.startswith("Dataset not found or corrupted. You can use download=True to "
                              "download it (missing from ")
    assert "data_batch_1, " in message and "batches.meta" in message
    assert ("download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (MD5 "
            "c58f30108f718f92721af3b95e74349a) and put cifar-10-python.tar.gz in "
            f"{tmp_path}") in message
    with pytest.raises(RuntimeError, match=r"Could not download cifar-10-python.tar.gz "
                                           r"\(https://www.cs.toronto.edu/.*network disabled.*"
                                           r"MD5 c58f30108f718f92721af3b95e74349a\) elsewhere"):
        datasets.CIFAR10(tmp_path, download=True)


def test_cifar10_corrupted_batch_is_refused_before_unpickling(cifar, tmp_path):
    archive, _ = cifar
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(archive)
    datasets.CIFAR10(tmp_path, download=True)
    batch_path = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    batch_path.write_bytes(batch_path.read_bytes() + b".")  # still unpickles as before
    with pytest.raises(RuntimeError, match=r"data_batch_3 is corrupted or not the published "
                                           r"file: its MD5 is [0-9a-f]{32}, expected"):
        datasets.CIFAR10(tmp_path, train=False)


class RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class Evaluates:
    def __reduce__(self):
        return eval, ("1 + 1",)


@pytest.mark.parametrize("payload", ["os.system", "eval", "class"])
@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_restricted_unpickler_refuses_code_and_runs_nothing(payload, protocol, tmp_path):
    marker = tmp_path / "ran"
    evil = {"os.system": RunsACommand(marker), "eval": Evaluates(),
            "class": RunsACommand}[payload]
    data = pickle.dumps({"data": np.zeros(2, np.uint8), "labels": [evil]}, protocol=protocol)
    path = tmp_path / "data_batch_1"
    path.write_bytes(data)
    with pytest.raises(pickle.UnpicklingError, match=r"data_batch_1: refusing to load the "
                                                     r"global .*: this reader admits only plain "
                                                     r"containers and NumPy arrays"):
        load_pickle(path)
    assert not marker.exists()


def test_restricted_unpickler_reads_arrays_of_every_protocol():
    content = {"data": np.arange(12, dtype=np.uint8).reshape(3, 4), "f": np.float32(2.5),
               "labels": [1, 2], "t": (1.5, "x", b"raw", None, True)}
    for protocol in range(0, pickle.HIGHEST_PROTOCOL + 1):
        got = ArrayUnpickler(io.BytesIO(pickle.dumps(content, protocol=protocol))).load()
        np.testing.assert_array_equal(got["data"], content["data"])
        assert got["data"].dtype == np.uint8 and got["labels"] == [1, 2]
        assert got["t"] == content["t"]


def test_archive_members_outside_the_batches_are_never_written(cifar, tmp_path):
    archive, _ = cifar
    buffer = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as source, \
            tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for member in source:
            tar.addfile(member, source.extractfile(member))
        evil = tarfile.TarInfo("../escaped")
        evil.size = 4
        tar.addfile(evil, io.BytesIO(b"evil"))
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "cifar-10-python.tar.gz").write_bytes(buffer.getvalue())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(datasets.CIFAR10, "tgz_md5", md5(buffer.getvalue()))
        assert len(datasets.CIFAR10(tmp_path / "root", download=True)) == 15
    assert not (tmp_path / "escaped").exists()


def test_cifar10_with_the_usual_augmentation_pipeline(cifar, tmp_path):
    """The CIFAR tutorials' training transform, through a shuffling loader: reproducible from
    the seeds, and each image a flipped-or-not 32x32 crop of the 4-padded original."""
    archive, contents = cifar
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(archive)
    augment = transforms.Compose([transforms.RandomCrop(32, padding=4),
                                  transforms.RandomHorizontalFlip(), transforms.ToTensor()])
    ds = datasets.CIFAR10(tmp_path, train=False, download=True, transform=augment)

    def run():
        npconv.manual_seed(0)
        loader = npconv.utils.data.DataLoader(ds, batch_size=2, shuffle=True,
                                              generator=npconv.Generator().manual_seed(1))
        return [(x.numpy(), y.numpy()) for x, y in loader]
    first = run()
    for (x, y), (x2, y2) in zip(first, run()):
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)
    originals = hwc(contents["test_batch"])
    for x, y in first:
        assert x.shape == (2, 3, 32, 32)
        for image, label in zip(x, y):
            candidates = [i for i, target in enumerate(contents["test_batch"]["labels"])
                          if target == label]
            padded = [np.pad(originals[i], ((4, 4), (4, 4), (0, 0))) for i in candidates]
            pixels = np.rint(image.transpose(1, 2, 0) * 255).astype(np.uint8)
            assert any((p[r:r + 32, c:c + 32] == view).all()
                       for p in padded for view in (pixels, pixels[:, ::-1])
                       for r in range(9) for c in range(9))
