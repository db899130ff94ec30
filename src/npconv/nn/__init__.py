"""npconv.nn: modules, parameters, init and functional ops, as torch.nn."""
from npconv.nn import functional, init
from npconv.nn.modules import *  # noqa: F401,F403
from npconv.nn.modules import __all__ as _modules_all
from npconv.nn.parameter import Parameter

__all__ = ["Parameter", "functional", "init", *_modules_all]
