"""``npconv.accelerator``, as torch.accelerator on a machine without one: nothing is available,
and what needs a device raises torch's RuntimeError."""
from __future__ import annotations

__all__ = ["current_accelerator", "current_device_index", "device_count", "empty_cache",
           "is_available", "set_device_index", "synchronize"]


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    """None: npconv computes on the CPU, which torch does not count as an accelerator."""
    return None


def device_count() -> int:
    return 0


def _no_accelerator(what: str) -> RuntimeError:
    return RuntimeError(f"Cannot access accelerator device when none is available. ({what}: "
                        "npconv runs on the CPU only; check torch.accelerator.is_available() "
                        "first)")


def current_device_index() -> int:
    raise _no_accelerator("torch.accelerator.current_device_index()")


def set_device_index(device) -> None:
    raise _no_accelerator("torch.accelerator.set_device_index()")


def synchronize(device=None) -> None:
    raise _no_accelerator("torch.accelerator.synchronize()")


def empty_cache() -> None:
    raise _no_accelerator("torch.accelerator.empty_cache()")
