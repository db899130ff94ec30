"""save/load for state dicts in a format that never needs pickle.

A file is a zip archive: ``npconv.json`` describes the object tree, and every tensor or array is
a ``.npy`` member read back with ``allow_pickle=False``. Loading therefore cannot run code, unlike
torch.load of an untrusted file. Saving to a path is atomic: the archive is written to a
temporary file in the same directory, flushed to disk and then renamed over the target, so a
crash leaves either the old file or the new one, never a torn one.

Supported values: Tensors, numpy arrays and scalars, None, bool, int, float, str, and lists,
tuples, dicts and OrderedDicts of them (dict keys may be any of the scalar types). Tensors come
back as plain tensors (no requires_grad), with their dtype and shape; an object that appears
twice (tied weights) comes back as one object.
"""
from __future__ import annotations

import collections
import json
import os
import uuid
import zipfile

import numpy as np

from npconv.creation import from_numpy
from npconv.tensor import Tensor

__all__ = ["load", "save"]

_FORMAT = "npconv.save"
_VERSION = 1
_MANIFEST = "npconv.json"
_SCALARS = (type(None), bool, int, float, str)
_CONTAINERS = {list: "list", tuple: "tuple", dict: "dict", collections.OrderedDict: "odict"}


def save(obj, f) -> None:
    """Write ``obj`` to ``f``: a path (written atomically) or a writable binary file object."""
    if isinstance(f, (str, os.PathLike)):
        _write_atomically(os.fspath(f), lambda out: _write_archive(obj, out))
    else:
        _write_archive(obj, f)


def load(f):
    """Read what ``save`` wrote from a path or a readable, seekable binary file object."""
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", repr(f))
    try:
        with zipfile.ZipFile(f) as archive:
            manifest = _read_manifest(archive, name)
            return _Decoder(archive).decode(manifest["root"])
    except (zipfile.BadZipFile, EOFError, KeyError, ValueError) as e:
        raise RuntimeError(f"{name} is not a readable npconv checkpoint: it is truncated or "
                           f"corrupt ({type(e).__name__}: {e}). Save it again with "
                           "npconv.save.") from e


def _write_archive(obj, out) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        root = _Encoder(archive).encode(obj)
        manifest = {"format": _FORMAT, "version": _VERSION, "root": root}
        archive.writestr(_MANIFEST, json.dumps(manifest))


def _write_atomically(path: str, write) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    # os.open with 0o666 honours the umask, as open() would (mkstemp would force 0o600).
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.remove(temporary)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX; Windows cannot open directories)."""
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Encoder:
    """Turns an object tree into JSON nodes, writing each array as a .npy member."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        # id(array-like) -> its node, so an object met twice is stored once. The ids stay
        # unique because the tree being saved keeps every object alive meanwhile.
        self.members: dict[int, dict] = {}

    def encode(self, obj):
        if isinstance(obj, (Tensor, np.ndarray, np.generic)):  # np.float64 is a float
            return self._array_node(obj)
        if isinstance(obj, _SCALARS):
            return obj
        kind = _CONTAINERS.get(type(obj))
        if kind in ("list", "tuple"):
            return {kind: [self.encode(item) for item in obj]}
        if kind in ("dict", "odict"):
            return {kind: [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        raise TypeError(f"npconv.save cannot store {type(obj).__name__} objects; it stores "
                        "Tensors, numpy arrays and scalars, None, bool, int, float, str and "
                        "lists, tuples, dicts and OrderedDicts of them")

    def _array_node(self, obj) -> dict:
        if id(obj) not in self.members:
            kind = "tensor" if isinstance(obj, Tensor) else \
                "ndarray" if isinstance(obj, np.ndarray) else "scalar"
            array = np.asarray(obj.detach().numpy() if kind == "tensor" else obj)
            if array.dtype.hasobject:
                raise TypeError("npconv.save cannot store arrays of Python objects (they would "
                                "need pickle)")
            member = f"data/{len(self.members)}.npy"
            with self.archive.open(member, "w", force_zip64=array.nbytes >= 2**31) as out:
                np.lib.format.write_array(out, array, allow_pickle=False)
            self.members[id(obj)] = {kind: member}
        return self.members[id(obj)]


class _Decoder:
    """Rebuilds the object tree from JSON nodes, reading each .npy member once."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.loaded: dict[str, object] = {}

    def decode(self, node):
        if not isinstance(node, (dict, list)):
            return node
        if isinstance(node, list) or len(node) != 1:
            raise ValueError(f"unexpected node {str(node)[:80]}")
        (kind, value), = node.items()
        if kind == "list":
            return [self.decode(item) for item in value]
        if kind == "tuple":
            return tuple(self.decode(item) for item in value)
        if kind in ("dict", "odict"):
            pairs = ((self.decode(k), self.decode(v)) for k, v in value)
            return dict(pairs) if kind == "dict" else collections.OrderedDict(pairs)
        if kind in ("tensor", "ndarray", "scalar"):
            if value not in self.loaded:
                self.loaded[value] = self._read_array(kind, value)
            return self.loaded[value]
        raise ValueError(f"unknown node kind {kind!r}")

    def _read_array(self, kind: str, member: str):
        with self.archive.open(member) as stream:
            array = np.lib.format.read_array(stream, allow_pickle=False)
        if kind == "tensor":
            return from_numpy(array)
        return array if kind == "ndarray" else array[()]


def _read_manifest(archive: zipfile.ZipFile, name: str) -> dict:
    members = archive.namelist()
    if _MANIFEST not in members:
        hint = (" It looks like a torch.save file; npconv never unpickles, so load it with torch "
                "and save the tensors' .numpy() arrays with npconv.save."
                if any(m.endswith("data.pkl") for m in members) else "")
        raise RuntimeError(f"{name} is not an npconv checkpoint: it has no {_MANIFEST}.{hint}")
    manifest = json.loads(archive.read(_MANIFEST))
    found = (manifest.get("format"), manifest.get("version")) if isinstance(manifest, dict) \
        else (None, None)
    if found != (_FORMAT, _VERSION):
        raise RuntimeError(f"{name} is not an npconv checkpoint of a version this npconv reads "
                           f"(format {found[0]!r}, version {found[1]!r}; expected {_FORMAT!r} "
                           f"{_VERSION}).")
    return manifest
