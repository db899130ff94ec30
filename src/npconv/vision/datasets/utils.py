"""Getting published dataset files onto disk and checking them (torchvision.datasets.utils).

Every check is against a published checksum, written as ``(algorithm, hex digest)``: MNIST's
SHA-256s, torchvision's MD5s for FashionMNIST and CIFAR-10. A download streams into a temporary
file that replaces the target only once its checksum is right, so an interrupted or bad
download never leaves a file behind.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import os
import urllib.request

__all__ = ["DOWNLOAD_TIMEOUT", "digest_of", "download", "fetch", "verify", "writing_into"]

DOWNLOAD_TIMEOUT = 60  # seconds without progress before a mirror is given up

# Files whose content was checked in this process, keyed by (path, size, mtime, checksum):
# hashing 47 MB of training images once is enough.
_verified: set = set()


def digest_of(path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path, checksum, fix: str) -> None:
    """RuntimeError unless the file at ``path`` has ``checksum`` = (algorithm, hex digest);
    ``fix`` says how to get a good copy."""
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns, tuple(checksum))
    if key in _verified:
        return
    algorithm, expected = checksum
    got = digest_of(path, algorithm)
    if got != expected:
        raise RuntimeError(f"{path} is corrupted or not the published file: its {algorithm.upper()} "
                           f"is {got}, expected {expected}. {fix}")
    _verified.add(key)


def fetch(filename: str, checksum, folder: str, urls, offline_hint: str, what: str) -> None:
    """Get ``filename`` into ``folder`` from the first of ``urls`` that delivers it with the
    right checksum, or a RuntimeError listing every failure and ``offline_hint``; ``what``
    names the files in a PermissionError ("the MNIST files")."""
    errors = []
    for url in urls:
        try:
            download(url, os.path.join(folder, filename), checksum, what)
            return
        except PermissionError:  # the folder is the problem, which no other mirror solves
            raise
        except (OSError, http.client.HTTPException, RuntimeError) as e:  # URLError: OSError
            errors.append(f"{url}: {e}")
    raise RuntimeError(f"Could not download {filename} ({'; '.join(errors)}). {offline_hint}")


@contextlib.contextmanager
def writing_into(folder: str, what: str):
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
            f"{e}: the folder {blocked} is not writable, so download=True cannot put {what} "
            f"into {folder}. Make it writable (e.g. chmod u+w {blocked}), use a root "
            "you can write to (root=...; npconv train --data DIR), or copy the files into "
            f"{folder} yourself.") from e


def download(url: str, dest: str, checksum, what: str = "the files") -> None:
    """Stream ``url`` into ``dest`` via a temporary file, kept only if its checksum is right.
    The file is opened first: a folder we may not write into is reported as such
    (PermissionError), not as a failed download. (urlopen wraps its own OSErrors in URLError.)"""
    partial = dest + ".part"
    algorithm, expected = checksum
    digest = hashlib.new(algorithm)
    request = urllib.request.Request(url, headers={"User-Agent": "npconv"})
    with writing_into(os.path.dirname(dest), what):
        out = open(partial, "wb")
    try:
        with out, urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected:
            raise RuntimeError(f"got {algorithm.upper()} {digest.hexdigest()}, expected "
                               f"{expected}")
        os.replace(partial, dest)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
