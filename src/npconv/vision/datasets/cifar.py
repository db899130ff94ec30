"""CIFAR-10, as torchvision.datasets.CIFAR10, from the published python batches.

The batches are pickles. Unpickling runs whatever callables a file names, so they are read with
``ArrayUnpickler``, which admits only the few globals a genuine batch needs to rebuild NumPy
arrays and refuses every other one before anything is called: a tampered file raises
``pickle.UnpicklingError`` instead of running code. Every file is checked against the MD5
torchvision publishes (the class attributes ``tgz_md5``, ``train_list``, ``test_list``,
``meta``) before it is unpickled at all.
"""
from __future__ import annotations

import codecs
import os
import pickle
import tarfile

import numpy as np

from npconv.vision.datasets import utils
from npconv.vision.datasets.vision import SplitDataset

__all__ = ["ArrayUnpickler", "CIFAR10", "load_pickle"]


def _array_globals() -> dict:
    """The globals a pickled ndarray refers to, taken from NumPy's own reduce so both numpy 1
    (numpy.core) and numpy 2 (numpy._core) spellings resolve to this NumPy's functions."""
    sample = np.zeros(1)
    reconstruct = sample.__reduce_ex__(2)[0]
    frombuffer = sample.__reduce_ex__(5)[0]  # protocol 5 rebuilds arrays from a buffer
    scalar = np.float32(0).__reduce__()[0]  # a NumPy scalar from its dtype and bytes
    allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
               ("_codecs", "encode"): codecs.encode}  # how protocol 2 pickles bytes
    for core in ("numpy.core", "numpy._core"):
        allowed[(f"{core}.multiarray", "_reconstruct")] = reconstruct
        allowed[(f"{core}.numeric", "_frombuffer")] = frombuffer
        allowed[(f"{core}.multiarray", "scalar")] = scalar
    return allowed


class ArrayUnpickler(pickle.Unpickler):
    """An Unpickler for plain containers (dict, list, tuple, str, bytes, numbers) and NumPy
    arrays: ``find_class`` resolves only ``ALLOWED``; any other global (``os.system``,
    ``builtins.eval``, ...) is refused, so no code named by the file ever runs."""

    ALLOWED = _array_globals()

    def find_class(self, module: str, name: str):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load the global {module}.{name}: this reader admits only plain "
                "containers and NumPy arrays (a CIFAR batch needs nothing else), so the file is "
                "not a genuine batch; delete it and download it again") from None


def load_pickle(path) -> object:
    """The object pickled in ``path``, read with ArrayUnpickler (Python 2 strings as latin1,
    as torchvision reads the CIFAR batches)."""
    with open(path, "rb") as f:
        try:
            return ArrayUnpickler(f, encoding="latin1").load()
        except pickle.UnpicklingError as e:
            raise pickle.UnpicklingError(f"{path}: {e}") from None


class CIFAR10(SplitDataset):
    """The CIFAR-10 images: 50000 training or 10000 test 32x32 colour pictures in 10 classes.

    Reads ``root/cifar-10-batches-py/`` as the published archive unpacks. A sample is
    ``(img, target)``: ``img`` a 32x32x3 uint8 ndarray (torchvision gives a PIL image; every
    npconv transform takes either) or ``transform(img)``. ``data`` (uint8, N x 32 x 32 x 3) and
    ``targets`` (a list of ints) are torchvision's; ``classes`` comes from ``batches.meta``.
    ``download=True`` unpacks ``root/cifar-10-python.tar.gz`` if it is there, else downloads it.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [
        ["test_batch", "40351d587109b95175f43aff81a1287e"],
    ]
    meta = {"filename": "batches.meta", "key": "label_names",
            "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False) -> None:
        super().__init__(root, train, transform, target_transform, download)
        self._check_integrity()
        batches = [load_pickle(self._path(name))
                   for name, _ in (self.train_list if train else self.test_list)]
        self.data = np.vstack([b["data"] for b in batches]).reshape(-1, 3, 32, 32)
        self.data = self.data.transpose((0, 2, 3, 1))  # to HWC, as torchvision
        self.targets = [label for b in batches
                        for label in (b["labels"] if "labels" in b else b["fine_labels"])]
        self.classes = load_pickle(self._path(self.meta["filename"]))[self.meta["key"]]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _path(self, name: str) -> str:
        return os.path.join(self.root, self.base_folder, name)

    def _files(self) -> list:
        """(name, md5) of every file the unpacked archive holds."""
        return [tuple(entry) for entry in self.train_list + self.test_list] + \
            [(self.meta["filename"], self.meta["md5"])]

    def _check_integrity(self) -> None:
        """All batches and the meta file present with their published MD5, else a
        RuntimeError naming what is missing and how to get it."""
        missing = [name for name, _ in self._files() if not os.path.isfile(self._path(name))]
        if missing:
            raise RuntimeError(
                "Dataset not found or corrupted. You can use download=True to download it "
                f"(missing from {os.path.join(self.root, self.base_folder)}: "
                f"{', '.join(missing)}). Without network, download {self.url} (MD5 "
                f"{self.tgz_md5}) and put {self.filename} in {self.root}: download=True then "
                "unpacks it.")
        for name, md5 in self._files():
            utils.verify(self._path(name), ("md5", md5),
                         f"Delete {os.path.join(self.root, self.base_folder)} and run "
                         f"{type(self).__name__}(root, download=True).")

    def download(self) -> None:
        """Unpack the archive into root (downloading it first if it is not there), unless
        every batch is already there."""
        if all(os.path.isfile(self._path(name)) for name, _ in self._files()):
            return
        archive = os.path.join(self.root, self.filename)
        with utils.writing_into(self.root, f"the {type(self).__name__} files"):
            os.makedirs(self.root, exist_ok=True)
        if not os.path.isfile(archive):
            utils.fetch(self.filename, ("md5", self.tgz_md5), self.root, [self.url],
                        f"Without network, download {self.url} (MD5 {self.tgz_md5}) elsewhere "
                        f"and put {self.filename} in {self.root}.",
                        f"the {type(self).__name__} files")
        utils.verify(archive, ("md5", self.tgz_md5),
                     f"Delete it and run {type(self).__name__}(root, download=True).")
        self._unpack(archive)

    def _unpack(self, archive: str) -> None:
        """Write the archive's known members into base_folder, and nothing else (no member
        path from the archive is ever used as a path on disk)."""
        wanted = {f"{self.base_folder}/{name}" for name, _ in self._files()}
        os.makedirs(os.path.join(self.root, self.base_folder), exist_ok=True)
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    content = tar.extractfile(member).read()
                    with open(self._path(os.path.basename(member.name)), "wb") as out:
                        out.write(content)