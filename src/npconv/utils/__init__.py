"""Utilities that mirror torch.utils (``npconv.utils.data``)."""
from npconv.utils import data

__all__ = ["data"]
