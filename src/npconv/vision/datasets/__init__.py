"""torchvision.datasets' counterpart: MNIST (shipped with the package), FashionMNIST, CIFAR10."""
from npconv.vision.datasets.cifar import CIFAR10
from npconv.vision.datasets.mnist import MNIST, FashionMNIST
from npconv.vision.datasets.vision import VisionDataset

__all__ = ["CIFAR10", "FashionMNIST", "MNIST", "VisionDataset"]
