"""MNIST and FashionMNIST, as torchvision.datasets, from IDX files read with numpy.

The four original MNIST files ship inside npconv (``vision/data/mnist``, CC BY-SA 3.0, by Yann
LeCun, Corinna Cortes and Christopher J.C. Burges), so ``MNIST(download=True)`` needs no
network: it copies them into ``root/MNIST/raw/`` after checking their SHA-256, and only without
that copy falls back to the public mirrors. Every MNIST file is checked against its known
SHA-256 when loaded. FashionMNIST is not shipped: its files come from its mirror (or are put in
``root/FashionMNIST/raw/`` by hand) and each ``.gz`` is checked against the MD5 torchvision
publishes, the class attribute ``resources``.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from npconv.creation import from_numpy
from npconv.vision import idx
from npconv.vision.datasets import utils
from npconv.vision.datasets.vision import SplitDataset

__all__ = ["FashionMNIST", "MNIST"]

_SHIPPED_DIR = Path(__file__).parent.parent / "data" / "mnist"

# name: (SHA-256 of the published .gz, SHA-256 of the IDX bytes inside it). The first checks a
# download; the second checks a load, whether the file on disk is gzip'd or not.
_RESOURCES = {
    "train-images-idx3-ubyte": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train-labels-idx1-ubyte": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "t10k-images-idx3-ubyte": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "t10k-labels-idx1-ubyte": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}

# Payloads whose SHA-256 was checked in this process, keyed by (path, size, mtime).
_verified: set = set()


class MNIST(SplitDataset):
    """The MNIST handwritten digits: 60000 training or 10000 test images of 28x28 pixels.

    Files are looked up in ``root/<class name>/raw/`` as ``<name>`` or ``<name>.gz``. A sample is
    ``(img, target)`` with ``target`` an int; ``img`` is ``transform(img)`` or, without a
    transform, a 28x28 uint8 ndarray (torchvision gives a PIL image; an ndarray spares a Pillow
    dependency, and every npconv transform takes either). ``data`` (uint8, N x 28 x 28) and
    ``targets`` (int64, N) hold the whole split as tensors.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False) -> None:
        super().__init__(root, train, transform, target_transform, download)
        images, labels = (self._load(path) for path in self._raw_paths())
        self.data = from_numpy(images)
        self.targets = from_numpy(labels.astype(np.int64))

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self) -> dict:
        return {name: i for i, name in enumerate(self.classes)}

    def _split_files(self) -> tuple[str, str]:
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _find(self, name: str):
        """The path of ``name`` in raw_folder, plain or gzip'd, or None."""
        for path in (os.path.join(self.raw_folder, name + ext) for ext in ("", ".gz")):
            if os.path.isfile(path):
                return path
        return None

    def _raw_paths(self) -> list[str]:
        """The image and label files of this split, or a RuntimeError naming what is missing."""
        names = self._split_files()
        paths = [self._find(name) for name in names]
        missing = [f"{name}[.gz]" for name, path in zip(names, paths) if path is None]
        if missing:
            raise RuntimeError(
                "Dataset not found. You can use download=True to download it (missing from "
                f"{self.raw_folder}: {', '.join(missing)}; {self._offline_hint()})")
        return paths

    def _offline_hint(self) -> str:
        return "download=True copies the files shipped with npconv, no network needed"

    def _load(self, path: str) -> np.ndarray:
        """Read an MNIST IDX file and check its content is the original's."""
        stat = os.stat(path)
        key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
        payload = idx.read_idx_payload(path)
        array = idx.parse_idx(payload, path)
        if key not in _verified:
            expected = _RESOURCES[os.path.basename(path).removesuffix(".gz")][1]
            got = hashlib.sha256(payload).hexdigest()
            if got != expected:
                raise RuntimeError(
                    f"{path} is not the original MNIST file: its content has SHA-256 {got}, "
                    f"expected {expected}. Delete it and run MNIST(root, download=True) to get "
                    "a good copy.")
            _verified.add(key)
        return array

    def download(self) -> None:
        """Put all four MNIST files in raw_folder, unless they are there already."""
        missing = [name for name in _RESOURCES if self._find(name) is None]
        self._make_raw_folder(missing)
        offline = (f"Without network, copy the four MNIST files "
                   f"({', '.join(name + '.gz' for name in _RESOURCES)}) into {self.raw_folder}, "
                   "or reinstall npconv, whose package ships them.")
        for name in missing:
            filename = name + ".gz"
            shipped = _SHIPPED_DIR / filename
            urls = ([shipped.as_uri()] if shipped.is_file() else []) + \
                [mirror + filename for mirror in self.mirrors]
            utils.fetch(filename, ("sha256", _RESOURCES[name][0]), self.raw_folder, urls,
                        offline, "the MNIST files")

    def _make_raw_folder(self, missing) -> None:
        if missing:
            with utils.writing_into(self.raw_folder, f"the {type(self).__name__} files"):
                os.makedirs(self.raw_folder, exist_ok=True)

class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grey pictures of clothes in MNIST's IDX format.

    ``resources`` is the checksum table, torchvision's ``(filename, MD5)`` list: a ``.gz`` in
    raw_folder is checked against it when loaded, a download before it is kept. A file already
    unpacked (``train-images-idx3-ubyte`` without ``.gz``) has no published checksum, so only its
    IDX structure is checked, as torchvision checks none.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]

    def _offline_hint(self) -> str:
        files = ", ".join(f"{name} (MD5 {md5})" for name, md5 in self.resources)
        return (f"without network, download {files} from {' or '.join(self.mirrors)} and put "
                f"them in {self.raw_folder}")

    def _load(self, path: str) -> np.ndarray:
        if path.endswith(".gz"):
            utils.verify(path, ("md5", dict(self.resources)[os.path.basename(path)]),
                         f"Delete it and run {type(self).__name__}(root, download=True), or put "
                         "a good copy there.")
        return idx.read_idx(path)

    def download(self) -> None:
        """Download the four files into raw_folder, unless they are there already."""
        missing = [(name, md5) for name, md5 in self.resources
                   if self._find(name.removesuffix(".gz")) is None]
        self._make_raw_folder(missing)
        hint = self._offline_hint()
        offline = hint[0].upper() + hint[1:] + "."
        for filename, md5 in missing:
            utils.fetch(filename, ("md5", md5), self.raw_folder,
                        [mirror + filename for mirror in self.mirrors], offline,
                        f"the {type(self).__name__} files")
