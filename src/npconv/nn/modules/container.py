"""Sequential and ModuleList, as torch.nn."""
from __future__ import annotations

import operator
from collections import OrderedDict

from npconv.nn.modules.module import Module, indent_tail


def _check_module(module) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{type(module).__name__} is not a Module subclass")
    return module


class _Indexed(Module):
    """Children registered under "0", "1", ...: integer indexing (negative too), len, iteration."""

    def _key(self, idx) -> str:
        i = operator.index(idx)
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {idx} is out of range")
        return list(self._modules)[i % len(self)]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __setitem__(self, idx, module) -> None:
        self._modules[self._key(idx)] = _check_module(module)

    def append(self, module):
        self.add_module(str(len(self)), _check_module(module))
        return self


class Sequential(_Indexed):
    """Calls its modules in order, each on the previous one's output.

    ``Sequential(m0, m1, ...)`` names them "0", "1", ...; ``Sequential(OrderedDict(name=m))``
    keeps the given names. Indexing by int gives a module, by slice a Sequential.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, _check_module(module))
        else:
            for module in args:
                self.append(module)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._key(idx)]

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(_Indexed):
    """A list of modules whose parameters the owner registers; indexing by slice gives a
    ModuleList. Its repr folds runs of equal modules into "(i-j): n x module", as torch."""

    def __init__(self, modules=None):
        super().__init__()
        self.extend(modules or ())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[self._key(idx)]

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def __repr__(self) -> str:
        runs = []  # [first index, last index, repr]
        for i, module in enumerate(self):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        if not runs:
            return self._get_name() + "()"
        lines = [indent_tail(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}", 2)
                 for a, b, text in runs]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"
