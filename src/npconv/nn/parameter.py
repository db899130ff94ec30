"""Parameter: a Tensor that a Module registers as learnable."""
from __future__ import annotations

from npconv.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor with requires_grad=True by default; shares storage (and version counter)
    with ``data``."""

    def __init__(self, data=None, requires_grad: bool = True):
        if not isinstance(data, Tensor):
            data = Tensor([] if data is None else data)
        self._init(data.data_array, requires_grad, base=data)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
