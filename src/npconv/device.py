"""Devices: npconv computes on the CPU; other devices fail as a CPU-only torch build does."""
from __future__ import annotations


class device:
    """``npconv.device('cpu')``; compares equal to another device of the same type."""

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        name, _, idx = str(type).partition(":")
        if name not in ("cpu", "cuda", "mps", "meta", "xpu"):
            raise RuntimeError(f"Expected one of cpu, cuda, mps, meta, xpu device type at start "
                               f"of device string: {type}")
        self.type, self.index = name, int(idx) if idx else index

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None
                                               else ")")

    def __str__(self):
        return self.type + (f":{self.index}" if self.index is not None else "")


def no_cuda_error(what: str) -> AssertionError:
    """What a CPU-only torch build raises when asked for CUDA, and what to do instead."""
    return AssertionError(f"Torch not compiled with CUDA enabled: npconv runs on the CPU only "
                          f"({what}); use device='cpu'")


def check_device(value) -> device:
    """Only the CPU is available; anything else raises like a CPU-only torch build."""
    d = device(value)
    if d.type != "cpu":
        raise no_cuda_error(f"asked for device '{d}'")
    return d
