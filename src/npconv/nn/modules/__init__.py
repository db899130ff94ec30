"""Layers, as torch.nn.modules."""
from npconv.nn.modules.conv import Conv2d
from npconv.nn.modules.module import Module

__all__ = ["Conv2d", "Module"]
