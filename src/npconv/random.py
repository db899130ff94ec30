"""Random number generation: one seedable default generator, like torch's."""
from __future__ import annotations

import numpy as np


class Generator:
    """A seedable source of randomness; ``numpy_rng`` is the numpy Generator behind it."""

    def __init__(self, seed: int | None = None):
        self.manual_seed(np.random.SeedSequence().entropy % (2**63) if seed is None else seed)

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self.numpy_rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed


_default = Generator(0)


def default_generator() -> Generator:
    return _default


def manual_seed(seed: int) -> Generator:
    """Reseed the default generator (used by randn/rand/init/dropout/shuffle)."""
    return _default.manual_seed(seed)


def initial_seed() -> int:
    return _default.initial_seed()
