"""Parameter: a Tensor that a Module registers as learnable."""
from __future__ import annotations

from npconv.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor with requires_grad=True by default; shares storage with ``data``."""

    def __init__(self, data=None, requires_grad: bool = True):
        array = Tensor([] if data is None else data).data_array \
            if not isinstance(data, Tensor) else data.data_array
        self._init(array, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
