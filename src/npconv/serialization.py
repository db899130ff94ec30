"""save/load for state dicts in a format that never needs pickle.

A file is a zip archive: ``npconv.json`` describes the object tree, and every tensor or array is
an uncompressed ``.npy`` member read back with ``allow_pickle=False``. Loading therefore cannot
run code, unlike torch.load of an untrusted file, and a crafted file is refused from its headers
before it can cost more memory than its own size. Saving to a path is atomic: the archive is
written to a temporary file next to the target, flushed to disk and then renamed over it, so a
crash leaves either the old file or the new one, never a torn one. Otherwise saving behaves as
writing the file would: it writes through symlinks, keeps an existing file's mode and owner, and
refuses a read-only file or directory.

Supported values: Tensors, numpy arrays and scalars (not of dtype object), None, bool, int,
float, str, and lists, tuples, dicts, OrderedDicts and Counters (MultiStepLR's milestones) of
them (dict keys may be any of the scalar types). Tensors come back as plain tensors (no
requires_grad), with their dtype and shape; an object that appears twice (tied weights) comes
back as one object.
"""
from __future__ import annotations

import collections
import contextlib
import errno
import json
import math
import os
import socket
import stat
import uuid
import zipfile

import numpy as np

from npconv.creation import from_numpy
from npconv.dtypes import ALL_DTYPES, BY_NUMPY_DTYPE
from npconv.tensor import Tensor

__all__ = ["load", "save"]

_FORMAT = "npconv.save"
_VERSION = 1
_MANIFEST = "npconv.json"
_TEMPORARY_SUFFIX = ".npconv-tmp"
_SCALARS = (type(None), bool, int, float, str)
_CONTAINERS = {list: "list", tuple: "tuple", dict: "dict", collections.OrderedDict: "odict",
               collections.Counter: "counter"}
_MAPPINGS = {"dict": dict, "odict": collections.OrderedDict, "counter": collections.Counter}
_TENSOR_DTYPES = ", ".join(d.name for d in ALL_DTYPES) + " (in native byte order)"
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}


def save(obj, f) -> None:
    """Write ``obj`` to ``f``: a path (written atomically, see _write_atomically) or a writable
    binary file object."""
    if isinstance(f, (str, os.PathLike)):
        _write_atomically(os.fspath(f), lambda out: _write_archive(obj, out))
    else:
        _write_archive(obj, f)


def load(f):
    """Read what ``save`` wrote from a path or a readable, seekable binary file object.

    Every member is checked against what the file itself can hold before it is read, so a crafted
    file costs no more memory than its own size: compressed members (zip bombs) are refused, and
    an array's declared shape must match its member's stored size.
    """
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", repr(f))
    try:
        size = os.path.getsize(name) if isinstance(f, (str, os.PathLike)) else f.seek(0, 2)
        with zipfile.ZipFile(f) as archive:
            reader = _Reader(archive, size)
            manifest = _read_manifest(reader, name)
            return _Decoder(reader).decode(manifest["root"])
    except (zipfile.BadZipFile, EOFError, KeyError, ValueError, RecursionError) as e:
        raise RuntimeError(f"{name} is not a readable npconv checkpoint: it is truncated or "
                           f"corrupt ({type(e).__name__}: {e}). Save it again with "
                           "npconv.save.") from e


def _write_archive(obj, out) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        root = _Encoder(archive).encode(obj)
        manifest = {"format": _FORMAT, "version": _VERSION, "root": root}
        archive.writestr(_MANIFEST, json.dumps(manifest))


def _write_atomically(path: str, write) -> None:
    """Write ``path`` as open(path, 'wb') would, but atomically.

    The archive goes to a temporary file next to the file ``path`` resolves to (through
    symlinks, so a link stays a link), is flushed to disk and renamed over it; the new file keeps
    the old one's mode, owner and group, and a new file gets the umask's mode. Devices and pipes
    (os.devnull) are written in place, as open() would. Errors name ``path``, never the temporary.
    """
    try:
        existing = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with open(path, "wb") as out:  # a directory raises IsADirectoryError here, as open() does
            write(_Unseekable(out))
        return
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    _check_writable(path, target, existing)
    _remove_stale_temporaries(target)
    temporary = os.path.join(directory, _temporary_prefix(target) +
                             f"{_host()}.{os.getpid()}.{uuid.uuid4().hex[:8]}{_TEMPORARY_SUFFIX}")
    try:
        _write_and_rename(temporary, target, existing, write)
    except OSError as e:
        if e.errno is None:
            raise
        raise _os_error(e.errno, path, "npconv.save writes a temporary file next to it and "
                        "renames it into place; the previous file, if any, is unchanged") from e
    _fsync_directory(directory)


class _Unseekable:
    """Only the writing half of a stream: os.devnull claims to seek, yet reads back nothing, so
    zipfile must write it (and pipes) straight through, as it writes any stream without tell()."""

    def __init__(self, out) -> None:
        self.write, self.flush = out.write, out.flush


def _write_and_rename(temporary: str, target: str, existing, write) -> None:
    # os.open honours the umask, as open() would (mkstemp would force 0o600); an existing file's
    # mode bounds the temporary's from the start, so its data is never more readable than before.
    mode = 0o666 if existing is None else stat.S_IMODE(existing.st_mode) & 0o777
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 mode)
    try:
        with os.fdopen(fd, "wb") as out:
            if existing is not None:
                _copy_owner_and_mode(temporary, existing)
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def _copy_owner_and_mode(temporary: str, existing: os.stat_result) -> None:
    """Give the replacement the old file's owner, group and mode, as writing in place keeps them.

    Only root may give a file away; anyone else's replacement belongs to them, as every file they
    create does (and as editors that save by renaming behave).
    """
    if hasattr(os, "chown"):
        with contextlib.suppress(PermissionError):
            os.chown(temporary, existing.st_uid, existing.st_gid)
    os.chmod(temporary, stat.S_IMODE(existing.st_mode))  # after chown, which clears setuid bits


def _check_writable(path: str, target: str, existing) -> None:
    """Refuse what the user could not write: a missing directory (RuntimeError, torch's wording),
    a read-only file, or a read-only directory, which the rename needs (PermissionError)."""
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        linked = target != os.path.abspath(path)
        shown = directory if linked else os.path.dirname(path) or "."
        via = f" ({path} resolves to {target} through symbolic links.)" if linked else ""
        kind = " It is a file, not a directory." if os.path.exists(shown) else ""
        raise RuntimeError(f"Parent directory {shown} does not exist.{kind}{via} npconv.save "
                           "does not create directories: create it first (os.makedirs) or save "
                           "to an existing directory.")
    if existing is not None and not _may_write(target, existing):
        raise _os_error(errno.EACCES, path, f"it is read-only (mode "
                        f"{oct(stat.S_IMODE(existing.st_mode))}), so npconv.save leaves it alone. "
                        "Make it writable (chmod u+w) or save to another path.")
    if not _may_write(directory, os.stat(directory)):
        raise _os_error(errno.EACCES, path, f"its directory {directory} is read-only, and "
                        "npconv.save needs to create a temporary file there to rename into "
                        "place. Make the directory writable or save to another directory.")


def _may_write(path: str, st: os.stat_result) -> bool:
    """Whether open() would let this user write ``path``, except for root: open() lets root write
    anything, so for root a file or directory without any write bit (mode & 0o222 == 0) counts
    as read-only: its mode is the only sign left that nobody should change it."""
    if not os.access(path, os.W_OK, effective_ids=os.access in os.supports_effective_ids):
        return False
    return not (hasattr(os, "geteuid") and os.geteuid() == 0) or bool(st.st_mode & 0o222)


def _os_error(code: int, path: str, why: str) -> OSError:
    """The OSError subclass open() raises for ``code``, worded as open() words it
    ("[Errno 13] Permission denied: 'model.npc'"), then why."""
    return OSError(code, f"{os.strerror(code)}: {path!r}; {why}")


def _temporary_prefix(target: str) -> str:
    """``.{name}.`` -- temporaries are ``.{name}.{host}.{pid}.{token}.npconv-tmp``; the name is
    cut to 100 characters so a temporary's name stays within the 255 most file systems allow."""
    return f".{os.path.basename(target)[:100]}."


def _remove_stale_temporaries(target: str) -> None:
    """Remove the temporaries of saves to ``target`` that were killed before their rename: those
    written by a process of this host that no longer runs. (POSIX only: Windows has no harmless
    way to ask whether a process is alive.)"""
    if os.name != "posix":
        return
    directory, prefix = os.path.dirname(target), _temporary_prefix(target)
    for entry in os.listdir(directory):
        if not (entry.startswith(prefix) and entry.endswith(_TEMPORARY_SUFFIX)):
            continue
        fields = entry[len(prefix):-len(_TEMPORARY_SUFFIX)].rsplit(".", 2)  # host may hold dots
        if len(fields) == 3 and fields[0] == _host() and fields[1].isdecimal() \
                and not _process_alive(int(fields[1])):
            with contextlib.suppress(FileNotFoundError, PermissionError):  # gone / not ours
                os.remove(os.path.join(directory, entry))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 only asks
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # another user's process / no pid we ever wrote
        pass
    return True


def _host() -> str:
    return socket.gethostname().replace(os.sep, "_")[:64]


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
        if kind in _MAPPINGS:
            return {kind: [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        raise TypeError(f"npconv.save cannot store {type(obj).__name__} objects; it stores "
                        "Tensors, numpy arrays and scalars, None, bool, int, float, str and "
                        "lists, tuples, dicts, OrderedDicts and Counters of them")

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


class _Reader:
    """Opens an archive's members after checking, from the zip directory alone, that reading one
    costs no more memory than the file's own size."""

    def __init__(self, archive: zipfile.ZipFile, size: int) -> None:
        self.archive = archive
        self.size = size

    def member(self, name: str) -> zipfile.ZipInfo:
        """The member's directory entry, checked before any of it is read: npconv.save stores
        members uncompressed, so a compressed one, which could expand without bound (a zip bomb),
        or an encrypted one is refused, and a stored one must lie within the file."""
        info = self.archive.getinfo(name)
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise ValueError(f"member {name!r} is compressed or encrypted (method "
                             f"{info.compress_type}, flags {info.flag_bits:#x}); npconv.save "
                             "stores members uncompressed, and npconv.load refuses others before "
                             "expanding them")
        if info.file_size != info.compress_size or \
                info.header_offset + info.compress_size > self.size:
            raise ValueError(f"member {name!r} declares {info.file_size} bytes, more than the "
                             f"{self.size}-byte file holds")
        return info

    def read(self, name: str) -> bytes:
        return self.archive.read(self.member(name))

    def array(self, name: str, kind: str) -> np.ndarray:
        """The .npy member ``name`` of a node of ``kind``, after its header is checked: a dtype
        npconv.save writes for that kind, and a shape whose size (prod(shape) * itemsize) is the
        member's stored size, so no crafted header can make numpy allocate more than the file
        holds."""
        info = self.member(name)
        with self.archive.open(info) as stream:
            version = np.lib.format.read_magic(stream)
            if version not in _HEADER_READERS:
                raise ValueError(f"member {name!r} is a .npy file of version {version}; "
                                 "npconv.save writes versions 1.0 and 2.0")
            shape, _fortran_order, dtype = _HEADER_READERS[version](stream)
            header = stream.tell()
        if dtype.hasobject:
            raise ValueError(f"member {name!r} holds an array of dtype {dtype}: Python objects, "
                             "which only pickle could read, and npconv never unpickles")
        if kind == "tensor" and dtype not in BY_NUMPY_DTYPE:
            raise ValueError(f"member {name!r} holds a tensor of dtype {dtype}; npconv tensors "
                             f"have the dtypes {_TENSOR_DTYPES}")
        if kind == "scalar" and shape != ():
            raise ValueError(f"member {name!r} holds a scalar, yet its shape is {shape}")
        declared = math.prod(shape) * dtype.itemsize
        if header + declared != info.file_size:
            raise ValueError(f"member {name!r} declares a {dtype} array of shape {shape} "
                             f"({declared} bytes), but holds {info.file_size - header} bytes")
        with self.archive.open(info) as stream:
            return np.lib.format.read_array(stream, allow_pickle=False)


class _Decoder:
    """Rebuilds the object tree from JSON nodes, reading each .npy member once."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.loaded: dict[str, object] = {}

    def decode(self, node):
        if not isinstance(node, (dict, list)):
            return node
        if isinstance(node, list) or len(node) != 1:
            raise ValueError(f"unexpected node {str(node)[:80]}")
        (kind, value), = node.items()
        if kind in ("list", "tuple", *_MAPPINGS) and not isinstance(value, list):
            raise ValueError(f"a {kind!r} node holds a list, not {str(value)[:80]}")
        if kind == "list":
            return [self.decode(item) for item in value]
        if kind == "tuple":
            return tuple(self.decode(item) for item in value)
        if kind in _MAPPINGS:
            if not all(isinstance(pair, list) and len(pair) == 2 for pair in value):
                raise ValueError(f"a {kind!r} node holds [key, value] pairs, not "
                                 f"{str(value)[:80]}")
            pairs = [(self.decode(k), self.decode(v)) for k, v in value]
            try:
                return _MAPPINGS[kind](dict(pairs))
            except TypeError as e:  # a key that is a list or a dict
                raise ValueError(f"a {kind!r} node has an unusable key ({e})") from e
        if kind in ("tensor", "ndarray", "scalar"):
            if not isinstance(value, str):
                raise ValueError(f"a {kind!r} node names a member, not {str(value)[:80]}")
            if value not in self.loaded:
                self.loaded[value] = self._read_array(kind, value)
            return self.loaded[value]
        raise ValueError(f"unknown node kind {kind!r}")

    def _read_array(self, kind: str, member: str):
        array = self.reader.array(member, kind)
        if kind == "tensor":
            return from_numpy(array)
        return array if kind == "ndarray" else array[()]


def _read_manifest(reader: _Reader, name: str) -> dict:
    members = reader.archive.namelist()
    if _MANIFEST not in members:
        hint = (" It looks like a torch.save file; npconv never unpickles, so load it with torch "
                "and save the tensors' .numpy() arrays with npconv.save."
                if any(m.endswith("data.pkl") for m in members) else "")
        raise RuntimeError(f"{name} is not an npconv checkpoint: it has no {_MANIFEST}.{hint}")
    manifest = json.loads(reader.read(_MANIFEST))
    found = (manifest.get("format"), manifest.get("version")) if isinstance(manifest, dict) \
        else (None, None)
    if found != (_FORMAT, _VERSION):
        raise RuntimeError(f"{name} is not an npconv checkpoint of a version this npconv reads "
                           f"(format {found[0]!r}, version {found[1]!r}; expected {_FORMAT!r} "
                           f"{_VERSION}).")
    return manifest
