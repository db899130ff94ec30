"""npconv.nn.functional: stateless ops, as torch.nn.functional."""
from npconv.nn.functional.conv import conv2d
from npconv.nn.functional.padding import pad

__all__ = ["conv2d", "pad"]
