"""Random number generators: torch's seeding API over numpy.random.Generator.

Everything random in npconv (init, dropout, randn, DataLoader shuffling) draws from a
``Generator``'s ``numpy_rng``; code that is not handed one uses the process-wide default, so
``manual_seed`` makes a whole run reproducible, as ``torch.manual_seed`` does.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Generator", "default_generator", "initial_seed", "manual_seed"]

# torch seeds its default CPU generator with this constant, so a fresh process is deterministic.
_DEFAULT_SEED = 67280421310721
_SEED_MIN, _SEED_LIMIT = -(2**63), 2**64


def checked_seed(seed) -> int:
    """``int(seed)`` if torch takes it as a seed (-2**63 <= seed < 2**64), else torch's error."""
    seed = int(seed)
    if not _SEED_MIN <= seed < _SEED_LIMIT:
        raise ValueError(f"Overflow when unpacking long long (seed {seed} is outside the range "
                         "a seed must be in, [-0x8000_0000_0000_0000, 0xffff_ffff_ffff_ffff]: "
                         "pick one inside, e.g. seed % 2**64)")
    return seed


class Generator:
    """A seedable source of randomness; ``numpy_rng`` is the numpy.random.Generator to draw from."""

    def __init__(self) -> None:
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from ``seed``; returns self, so ``Generator().manual_seed(0)``."""
        self._seed = checked_seed(seed) % _SEED_LIMIT  # torch maps negative seeds to uint64
        self.numpy_rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        """The seed the current stream started from."""
        return self._seed

    def __repr__(self) -> str:
        return f"npconv.Generator(initial_seed={self._seed})"


_default = Generator()


def default_generator() -> Generator:
    """The process-wide generator used when no ``generator=`` is given."""
    return _default


def manual_seed(seed: int) -> Generator:
    """Reseed the default generator (like ``torch.manual_seed``) and return it."""
    return _default.manual_seed(seed)


def initial_seed() -> int:
    """The seed of the default generator (like ``torch.initial_seed``)."""
    return _default.initial_seed()
