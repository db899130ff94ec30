"""torchvision's counterpart: ``datasets`` (MNIST, shipped with the package) and ``transforms``."""
from npconv.vision import datasets, transforms

__all__ = ["datasets", "transforms"]
