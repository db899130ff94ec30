"""Optimizer: parameter groups, per-parameter state and (de)serialization, as torch.optim."""
from __future__ import annotations

import warnings
from collections import defaultdict
from itertools import chain

from npconv._backend import xp
from npconv.autograd import enable_grad
from npconv.tensor import Tensor


class Optimizer:
    """Base of SGD and Adam. ``param_groups`` is a list of dicts, each holding "params" and
    every hyper-parameter (the constructor's defaults where the group gives none); ``state``
    maps a parameter to its buffers. Subclasses implement ``_update(p, grad, state, group)``,
    which ``step`` calls, without autograd, for each parameter that has a gradient; it writes
    the parameter and its state tensors in place, so step bumps their versions."""

    def __init__(self, params, defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {params.type()}")
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                            "the ordering of tensors in sets will change between runs. Please use "
                            "a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = {**self.defaults, **param_group, "params": params}
        if len(set(map(id, params))) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in chain.from_iterable(g["params"] for g in self.param_groups):
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.zero_()

    def step(self, closure=None):
        """One update of every parameter with a gradient; closure re-evaluates the loss first."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    state = self.state[p]
                    self._update(p.data_array, self._grad(p, group), state, group)
                    p._bump_version()
                    for t in state.values():
                        if isinstance(t, Tensor):
                            t._bump_version()
        return loss

    @staticmethod
    def _grad(p: Tensor, group: dict):
        """The gradient to follow: -grad when maximizing, plus weight_decay * p (L2 penalty)."""
        g = p.grad.data_array
        if group["maximize"]:
            g = -g
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p.data_array
        return g

    def _update(self, p, grad, state: dict, group: dict) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """{"state": {index: buffers}, "param_groups": [group with "params" as indices]}, with
        parameters numbered in group order, as torch."""
        index, groups = {}, []
        for group in self.param_groups:
            ids = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: s for p, s in self.state.items() if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and buffers (copied, cast to each parameter's dtype except
        "step") from a state_dict of an optimizer over parameters of the same shapes."""
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the "
                             "size of optimizer's group")
        params = dict(zip(chain.from_iterable(s["params"] for s in saved),
                          chain.from_iterable(g["params"] for g in self.param_groups)))
        self.state = defaultdict(dict)
        for i, buffers in state_dict["state"].items():
            p = params[i]
            self.state[p] = {k: Tensor._make(xp.array(
                v.data_array, dtype=v.data_array.dtype if k == "step" else p.data_array.dtype))
                if isinstance(v, Tensor) else v for k, v in buffers.items()}
        self.param_groups = [{**s, "params": g["params"]} for g, s in zip(self.param_groups, saved)]

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"
