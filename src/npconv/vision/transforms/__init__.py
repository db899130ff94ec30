"""torchvision.transforms' counterpart: the transform classes and ``functional``."""
from npconv.vision.transforms import functional
from npconv.vision.transforms.functional import InterpolationMode
from npconv.vision.transforms.transforms import (CenterCrop, Compose, Grayscale, Lambda,
                                                 Normalize, Pad, RandomCrop,
                                                 RandomHorizontalFlip, RandomRotation,
                                                 RandomVerticalFlip, Resize, ToPILImage,
                                                 ToTensor, batch_transform)

__all__ = ["CenterCrop", "Compose", "Grayscale", "InterpolationMode", "Lambda", "Normalize",
           "Pad", "RandomCrop", "RandomHorizontalFlip", "RandomRotation", "RandomVerticalFlip",
           "Resize", "ToPILImage", "ToTensor", "batch_transform", "functional"]
