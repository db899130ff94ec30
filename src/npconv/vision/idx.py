"""Read IDX files (the container MNIST ships in) with numpy alone, gzip'd or not.

An IDX file is two zero bytes, a type code, the number of dimensions n, n big-endian uint32
sizes, then the values in row-major order, big-endian. Every way a file can be damaged (not gzip
when it claims to be, cut short, wrong magic, wrong length) ends in a RuntimeError that names the
file, says what was expected, and how to fix it.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

__all__ = ["parse_idx", "read_idx", "read_idx_payload"]

_GZIP_MAGIC = b"\x1f\x8b"
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """The array stored in the IDX file at ``path`` (native byte order, writable)."""
    return parse_idx(read_idx_payload(path), path)


def read_idx_payload(path) -> bytes:
    """The raw IDX bytes of ``path``, gunzipped if the file is gzip (told by content, not name)."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        raise _invalid(path, "a complete gzip stream", f"a damaged one ({e})") from None


def parse_idx(payload: bytes, path="<bytes>") -> np.ndarray:
    """Decode IDX ``payload``; ``path`` only names the source in error messages."""
    if len(payload) < 4 or payload[:2] != b"\0\0" or payload[2] not in _DTYPES or payload[3] == 0:
        raise _invalid(path, "the magic number 0x0000TTNN (TT a type code in "
                       f"{', '.join(f'0x{c:02X}' for c in _DTYPES)}; NN >= 1 dimensions)",
                       f"0x{payload[:4].hex().upper()}" if len(payload) >= 4
                       else f"a {len(payload)}-byte file")
    ndim = payload[3]
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise _invalid(path, f"a {header}-byte header for {ndim} dimensions",
                       f"{len(payload)} bytes in all")
    shape = tuple(int(d) for d in np.frombuffer(payload, ">u4", ndim, 4))
    dtype = np.dtype(_DTYPES[payload[2]])
    expected = header + math.prod(shape) * dtype.itemsize
    if len(payload) != expected:
        problem = "truncated" if len(payload) < expected else "trailing bytes"
        raise _invalid(path, f"{expected} bytes for a {dtype.name} array of shape {shape}",
                       f"{len(payload)} ({problem})")
    values = np.frombuffer(payload, dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))  # a native, writable copy


def _invalid(path, expected: str, got: str) -> RuntimeError:
    return RuntimeError(f"{os.fspath(path)} is not a valid IDX file: expected {expected}, got "
                        f"{got}. The file is corrupt or incomplete: delete it and download it "
                        "again.")
