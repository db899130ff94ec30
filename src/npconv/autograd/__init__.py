"""Reverse-mode autograd: Functions pair a forward with its backward on arrays."""
from npconv.autograd.engine import (Function, enable_grad, intercept_ops, is_grad_enabled,
                                    no_grad, set_grad_enabled)

__all__ = ["Function", "enable_grad", "intercept_ops", "is_grad_enabled", "no_grad",
           "set_grad_enabled"]
