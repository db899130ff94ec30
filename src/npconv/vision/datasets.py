"""MNIST, as torchvision.datasets.MNIST, from IDX files read with numpy.

The four original MNIST files ship inside npconv (``vision/data/mnist``, CC BY-SA 3.0, by Yann
LeCun, Corinna Cortes and Christopher J.C. Burges), so ``download=True`` needs no network: it
copies them into ``root/MNIST/raw/`` after checking their SHA-256. Only without that copy does it
fall back to the public mirrors. Every file is checked against its known SHA-256 when loaded.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import os
import urllib.request
from pathlib import Path

import numpy as np

from npconv.creation import from_numpy
from npconv.utils.data import Dataset, StackedBatch
from npconv.vision import idx
from npconv.vision.transforms import batch_transform

__all__ = ["MNIST"]

_SHIPPED_DIR = Path(__file__).parent / "data" / "mnist"

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
_DOWNLOAD_TIMEOUT = 60  # seconds without progress before a mirror is given up

# Files whose content was checked in this process, keyed by (path, size, mtime): hashing the
# 47 MB of training images once is enough.
_verified: set = set()


class MNIST(Dataset):
    """The MNIST handwritten digits: 60000 training or 10000 test images of 28x28 pixels.

    Files are looked up in ``root/MNIST/raw/`` as ``<name>`` or ``<name>.gz``. A sample is
    ``(img, target)`` with ``target`` an int; ``img`` is ``transform(img)`` or, without a
    transform, a 28x28 uint8 ndarray (torchvision gives a PIL image; an ndarray spares a Pillow
    dependency, and ToTensor takes either). ``data`` (uint8, N x 28 x 28) and ``targets``
    (int64, N) hold the whole split as tensors.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False) -> None:
        self.root = os.path.expanduser(root) if isinstance(root, str) else root
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if download:
            self.download()
        images, labels = (_load_verified(path) for path in self._raw_paths())
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
                f"{self.raw_folder}: {', '.join(missing)}; download=True copies the files "
                "shipped with npconv, no network needed)")
        return paths

    def download(self) -> None:
        """Put all four MNIST files in raw_folder, unless they are there already."""
        missing = [name for name in _RESOURCES if self._find(name) is None]
        if missing:
            with _writing_into(self.raw_folder):
                os.makedirs(self.raw_folder, exist_ok=True)
        for name in missing:
            _fetch(name + ".gz", _RESOURCES[name][0], self.raw_folder, self.mirrors)

    def __getitem__(self, index):
        img, target = self.data.numpy()[index].copy(), int(self.targets.numpy()[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getitems__(self, indices):
        """A batch with one vectorized transform when the transform has a batched form (e.g.
        Compose of ToTensor and Normalize); otherwise one ``self[i]`` per index. Same values."""
        transform = _identity if self.transform is None else batch_transform(self.transform)
        if transform is None or self.target_transform is not None:
            return [self[i] for i in indices]
        rows = np.asarray(indices, dtype=np.intp)
        return StackedBatch(transform(self.data.numpy()[rows]),
                            self.targets.numpy()[rows].tolist())

    def __len__(self) -> int:
        return len(self.targets)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"

    def __repr__(self) -> str:
        # torchvision's VisionDataset layout, including its quirk that only the first line of
        # the transform block is indented.
        body = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}"]
        body += self.extra_repr().splitlines()
        transforms = _standard_transform_repr(self.transform, self.target_transform)
        if transforms:
            body.append(transforms)
        return "\n".join([f"Dataset {type(self).__name__}"] + ["    " + line for line in body])


def _identity(batch):
    return batch


def _standard_transform_repr(transform, target_transform) -> str:
    """torchvision's StandardTransform repr, or '' when there is no transform at all."""
    if transform is None and target_transform is None:
        return ""
    lines = ["StandardTransform"]
    for head, t in (("Transform: ", transform), ("Target transform: ", target_transform)):
        if t is not None:
            first, *rest = repr(t).splitlines()
            lines += [head + first] + [" " * len(head) + line for line in rest]
    return "\n".join(lines)


def _load_verified(path: str) -> np.ndarray:
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
                f"{path} is not the original MNIST file: its content has SHA-256 {got}, expected "
                f"{expected}. Delete it and run MNIST(root, download=True) to get a good copy.")
        _verified.add(key)
    return array


def _fetch(filename: str, sha256: str, folder: str, mirrors) -> None:
    """Get ``filename`` into ``folder``, checked against ``sha256``: from the copy shipped with
    npconv if there is one, else from the first mirror that delivers it."""
    shipped = _SHIPPED_DIR / filename
    urls = ([shipped.as_uri()] if shipped.is_file() else []) + [m + filename for m in mirrors]
    errors = []
    for url in urls:
        try:
            _download(url, os.path.join(folder, filename), sha256)
            return
        except PermissionError:  # the folder is the problem, which no other mirror solves
            raise
        except (OSError, http.client.HTTPException, RuntimeError) as e:  # URLError: OSError
            errors.append(f"{url}: {e}")
    raise RuntimeError(
        f"Could not download {filename} ({'; '.join(errors)}). Without network, copy the four "
        f"MNIST files ({', '.join(name + '.gz' for name in _RESOURCES)}) into {folder}, or "
        "reinstall npconv, whose package ships them.")


@contextlib.contextmanager
def _writing_into(folder: str):
    """Report a folder we may not write into as such: a PermissionError naming it and the fix
    (torchvision lets the bare one through; npconv used to blame the network)."""
    try:
        yield
    except OSError as e:
        if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        blocked = folder  # the folder itself, or the nearest existing one it is to be made in
        while not os.path.isdir(blocked):
            blocked = os.path.dirname(blocked)
        raise PermissionError(
            f"{e}: the folder {blocked} is not writable, so download=True cannot put the MNIST "
            f"files into {folder}. Make it writable (e.g. chmod u+w {blocked}), use a root you "
            "can write to (MNIST(root=...); npconv train --data DIR), or copy the four files "
            f"into {folder} yourself.") from e


def _download(url: str, dest: str, sha256: str) -> None:
    """Stream ``url`` into ``dest`` via a temporary file, which replaces ``dest`` only once its
    SHA-256 is right, so an interrupted or bad download never leaves a file behind. The file is
    opened first: a folder we may not write into is reported as such (PermissionError), not
    as a failed download. (urlopen wraps its own OSErrors in URLError.)"""
    partial = dest + ".part"
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "npconv"})
    with _writing_into(os.path.dirname(dest)):
        out = open(partial, "wb")
    try:
        with out, urllib.request.urlopen(request, timeout=_DOWNLOAD_TIMEOUT) as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise RuntimeError(f"got SHA-256 {digest.hexdigest()}, expected {sha256}")
        os.replace(partial, dest)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
