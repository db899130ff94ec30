"""torchvision's counterpart: ``datasets`` (MNIST shipped with the package, FashionMNIST,
CIFAR10), ``transforms`` and ``utils`` (make_grid, save_image)."""
from npconv.vision import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
