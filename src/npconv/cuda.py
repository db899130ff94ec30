"""``npconv.cuda``, as torch.cuda in torch's CPU-only build: no device, seeding is a no-op, and
what needs a device raises torch's AssertionError."""
from __future__ import annotations

from npconv.device import no_cuda_error

__all__ = ["current_device", "device_count", "empty_cache", "get_device_name", "init",
           "is_available", "is_bf16_supported", "is_initialized", "manual_seed",
           "manual_seed_all", "max_memory_allocated", "memory_allocated", "seed", "seed_all",
           "synchronize"]


def is_available() -> bool:
    return False


def is_initialized() -> bool:
    return False


def is_bf16_supported() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed) -> None:
    """No-op, as in torch without CUDA: there is no CUDA generator to seed."""


def manual_seed_all(seed) -> None:
    """No-op, as in torch without CUDA."""


def seed() -> None:
    """No-op, as in torch without CUDA."""


def seed_all() -> None:
    """No-op, as in torch without CUDA."""


def empty_cache() -> None:
    """No-op: nothing is cached on a device that does not exist."""


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def init() -> None:
    raise no_cuda_error("torch.cuda.init()")


def synchronize(device=None) -> None:
    raise no_cuda_error("torch.cuda.synchronize()")


def current_device() -> int:
    raise no_cuda_error("torch.cuda.current_device()")


def get_device_name(device=None) -> str:
    raise no_cuda_error("torch.cuda.get_device_name()")
