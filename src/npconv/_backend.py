"""The one place that names the array library.

Everything else does ``from npconv._backend import xp`` and calls ``xp.*``, so a GPU array
library with NumPy's interface (CuPy) can be slotted in here without touching kernels or autograd.
"""
import numpy as xp  # noqa: F401

__all__ = ["xp"]
