"""Optimizer: parameter groups, per-parameter state and (de)serialization, as torch.optim."""
from __future__ import annotations

import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain

from npconv import dtypes
from npconv._backend import xp
from npconv.autograd import enable_grad
from npconv.tensor import Tensor

__all__ = ["Optimizer"]


def typename(obj) -> str:
    """torch.typename: a tensor's type() ("npconv.FloatTensor"), else the dotted type name."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module, qualname = obj.__class__.__module__ or "", obj.__class__.__qualname__
    return qualname if module in {"", "builtins"} else f"{module}.{qualname}"


def check_hyperparameters(**values) -> None:
    """torch's ValueErrors, checked in the order given: learning rate, epsilon and the other
    names >= 0, rho in [0, 1], each of betas in [0, 1)."""
    for name, value in values.items():
        if name == "betas":
            for i, beta in enumerate(value[:2]):
                if not 0.0 <= beta < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        elif not (0.0 <= value <= 1.0 if name == "rho" else 0.0 <= value):
            label = {"lr": "learning rate:", "eps": "epsilon value:"}.get(name, f"{name} value:")
            raise ValueError(f"Invalid {label} {value}")


def check_execution_flags(differentiable=False, capturable=False, fused=None,
                          foreach=None) -> None:
    """torch's fused/foreach/capturable/differentiable: foreach and fused only choose how torch
    loops over parameters (npconv always runs one vectorised update per parameter), so they
    are accepted; autograd through the step and CUDA-graph capture do not exist here."""
    if fused and differentiable:
        raise RuntimeError("`fused` does not support `differentiable`")
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    for name, value in (("differentiable", differentiable), ("capturable", capturable)):
        if value:
            raise NotImplementedError(f"{name}=True is not supported by npconv.optim: its "
                                      "steps run outside autograd on the CPU. Leave "
                                      f"{name}=False (the default).")


class Optimizer:
    """Base of every optimizer. ``param_groups`` is a list of dicts, each holding "params" and
    every hyper-parameter (the constructor's defaults where the group gives none); ``state``
    maps a parameter to its buffers. Subclasses implement ``_update(p, direction, group,
    param)``, which ``step`` calls, outside autograd, for each parameter that has a gradient,
    with the arrays of the parameter and of the direction to follow (see ``_direction``) and
    the parameter itself; it writes p and the ``self.state[param]`` tensors in place, and step
    bumps their versions."""

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {typename(params)}")
        self.state = defaultdict(dict)
        self.param_groups = []
        self._scratch = {}  # (dtype, slot) -> flat buffer the size of the largest parameter
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Append a group (the given dict itself, completed with the defaults, as torch does);
        ``params`` may hold tensors or (name, tensor) pairs."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                            "the ordering of tensors in sets will change between runs. Please use "
                            "a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{typename(p)}")
            if not (p.is_leaf or p._retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        if len(set(map(id, params))) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        taken = set()
        for group in self.param_groups:
            taken.update(map(id, group["params"]))
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in chain.from_iterable(g["params"] for g in self.param_groups):
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad = p.grad.detach()
                p.grad.requires_grad_(False)
                p.grad.zero_()

    def step(self, closure=None):
        """One update of every parameter with a gradient; closure re-evaluates the loss first,
        with gradients enabled, and step returns what it returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                self._update(p.data_array, self._direction(p, group), group, p)
                p._bump_version()
                for t in self.state.get(p, {}).values():
                    if isinstance(t, Tensor):
                        t._bump_version()
        return loss

    def _direction(self, p: Tensor, group: dict):
        """The gradient to follow: grad, negated when maximizing, plus weight_decay * p (the L2
        penalty) unless the group decouples weight decay. Written to scratch, never to .grad."""
        g = p.grad.data_array
        if group["maximize"]:
            g = xp.negative(g, out=self._scratch_like(p.data_array, "direction"))
        if group["weight_decay"] and not group.get("decoupled_weight_decay", False):
            decay = xp.multiply(p.data_array, group["weight_decay"],
                                out=self._scratch_like(p.data_array, "decay"))
            g = xp.add(g, decay, out=self._scratch_like(p.data_array, "direction"))
        return g

    def _scratch_like(self, p, slot: str):
        """A preallocated buffer shaped as array p: one per dtype and slot, shared by all
        parameters, so steps allocate nothing after the first."""
        buf = self._scratch.get((p.dtype, slot))
        if buf is None or buf.size < p.size:
            buf = self._scratch[p.dtype, slot] = xp.empty(p.size, p.dtype)
        return buf[:p.size].reshape(p.shape)

    @staticmethod
    def _lerp_(start, end, weight: float, work) -> None:
        """start += weight * (end - start) in place, as torch's lerp_ rounds it: from the
        nearer end, start + w (end - start) for w < 0.5, else end - (1 - w)(end - start); work is
        scratch shaped as start."""
        diff = xp.subtract(end, start, out=work)
        if weight < 0.5:
            diff *= weight
            start += diff
        else:
            diff *= 1 - weight
            xp.subtract(end, diff, out=start)

    def _counted_state(self, param: Tensor, p, buffers, **scalars) -> tuple[dict, float]:
        """(state, t): self.state[param] with its "step" advanced to t; made on first use as
        torch makes it, "step", then the 0-d ``scalars``, then zero ``buffers`` shaped as p."""
        state = self.state[param]
        if not state:
            state["step"] = self._scalar_state(0.0)
            state.update((k, self._scalar_state(v)) for k, v in scalars.items())
            state.update((k, Tensor._make(xp.zeros_like(p))) for k in buffers)
        state["step"].data_array += 1
        return state, float(state["step"].data_array)

    @staticmethod
    def _average_square_(avg, g, beta: float, work) -> None:
        """avg = beta * avg + (1 - beta) * g^2 in place, rounded as torch's
        avg.mul_(beta).addcmul_(g, g, value=1 - beta)."""
        square = xp.multiply(g, 1 - beta, out=work)
        square *= g
        avg *= beta
        avg += square

    @staticmethod
    def _scalar_state(value: float) -> Tensor:
        """A 0-d state tensor ("step", "mu_product") in torch's scalar dtype: float64 when
        that is the default dtype, else float32."""
        dtype = xp.float64 if dtypes.get_default_dtype() is dtypes.float64 else xp.float32
        return Tensor._make(xp.array(value, dtype))

    def _update(self, p, direction, group: dict, param: Tensor) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """{"state": {index: buffers}, "param_groups": [group with "params" as indices]}, with
        parameters numbered in group order, as torch (the buffers are this optimizer's own
        tensors, not copies)."""
        index, groups, start = {}, [], 0
        for group in self.param_groups:
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": [index[id(p)] for p in group["params"]]})
            start += len(group["params"])
        state = {index[id(p)] if isinstance(p, Tensor) else p: s for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and buffers from a state_dict of an optimizer over parameters
        of the same shapes: tensors are copied, cast to their parameter's floating dtype
        (except "step", kept as saved)."""
        saved = deepcopy(state_dict["param_groups"])
        if len(saved) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the "
                             "size of optimizer's group")
        params = dict(zip(chain.from_iterable(s["params"] for s in saved),
                          chain.from_iterable(g["params"] for g in self.param_groups)))
        self.state = defaultdict(dict)
        for i, value in state_dict["state"].items():
            if i in params:
                self.state[params[i]] = self._cast(params[i], value)
            else:
                self.state[i] = value
        for group, new in zip(self.param_groups, saved):
            new["params"] = group["params"]
            if "param_names" in group and "param_names" not in new:
                new["param_names"] = group["param_names"]
        self.param_groups = saved

    @classmethod
    def _cast(cls, param: Tensor, value, key=None):
        """A copy of a saved state value: tensors on param's floating dtype but "step"."""
        if isinstance(value, Tensor):
            dtype = param.data_array.dtype if key != "step" and param.dtype.is_floating_point \
                else value.data_array.dtype
            return Tensor._make(xp.array(value.data_array, dtype=dtype))
        if isinstance(value, dict):
            return {k: cls._cast(param, v, k) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(cls._cast(param, v) for v in value)
        return value

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {k}: {group[k]}\n" for k in sorted(group) if k != "params")
        return text + ")"
