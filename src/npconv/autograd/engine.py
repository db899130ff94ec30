"""The autograd engine: Function.apply records the graph, run_backward walks it in reverse."""
from __future__ import annotations

import contextlib
import functools
import threading

from npconv._backend import xp

_state = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_state, "enabled", True)


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn graph recording on or off, as torch does: at construction (so it also works as a plain
    call), again on entering a ``with`` block (which may be later, inside another mode), and back
    at exit to the mode seen at construction. As a decorator, each call gets a fresh instance."""

    def __init__(self, mode: bool):
        self.mode = mode
        self.prev = is_grad_enabled()
        _state.enabled = mode

    def __enter__(self):
        _state.enabled = self.mode

    def __exit__(self, *exc):
        _state.enabled = self.prev

    def __call__(self, func):
        _state.enabled = self.prev  # decorating only wraps: undo the constructor's switch
        return super().__call__(func)

    def _recreate_cm(self):  # contextlib.ContextDecorator's per-call hook
        return type(self)(self.mode)


class no_grad(contextlib.ContextDecorator):
    """Disable graph recording inside the block (evaluation, optimizer steps)."""

    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = False

    def __exit__(self, *exc):
        _state.enabled = self.prev

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)
        return wrapper


class enable_grad(no_grad):
    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = True


class intercept_ops:
    """Inside the block, this thread's Function.apply calls interceptor(fn, arrays, consts)
    in place of fn.forward(*arrays, **consts) and takes what it returns as the forward's
    result: how npconv.analysis sees every op a model runs (and answers from shapes alone).
    Other threads are not affected; blocks nest."""

    def __init__(self, interceptor):
        self.interceptor = interceptor

    def __enter__(self):
        self.prev = getattr(_state, "interceptor", None)
        _state.interceptor = self.interceptor
        return self

    def __exit__(self, *exc):
        _state.interceptor = self.prev


def unbroadcast(grad, shape):
    """Sum a broadcast gradient back down to ``shape`` (the adjoint of broadcasting)."""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


OUTPUT = "output"  # in Function.saves: the op's result


class Function:
    """One differentiable op. Subclasses define ``forward(*arrays, **consts) -> array`` and
    ``backward(grad) -> grads`` (one per positional input, None where no gradient flows).
    forward may return a tuple: its first array is the output, the rest non-differentiable
    extras (e.g. max_pool2d's indices) that apply returns as plain tensors after it.

    ``self.needs_input_grad`` tells backward which gradients are wanted, so costly ones
    (e.g. a conv's input gradient in the first layer) can be skipped.

    ``saves`` names the tensors backward needs, as torch's saved tensors: input positions, and
    OUTPUT for the result (a property where it depends on needs_input_grad). apply records
    their versions and backward checks them, so an in-place change in between raises torch's
    error instead of giving a wrong gradient. ``is_view`` ops (reshape, permute, ...) may
    return a view of input 0; a result that is one shares its version counter, as in torch.

    Inputs are tensors or constants. The engine knows tensors only as graph nodes: objects with
    ``data_array``, ``requires_grad``, ``grad_fn``, ``_version``, ``_accumulate_grad`` and
    ``_make`` (which builds the results), so autograd needs nothing from the tensor layer above.
    """

    needs_input_grad: tuple = ()
    saves: tuple = ()
    is_view = False

    @classmethod
    def apply(cls, *inputs, **consts):
        fn = cls()
        node = next(t for t in inputs if is_node(t))
        arrays = [t.data_array if is_node(t) else t for t in inputs]
        fn.needs_input_grad = tuple(is_node(t) and t.requires_grad for t in inputs)
        record = is_grad_enabled() and any(fn.needs_input_grad)
        interceptor = getattr(_state, "interceptor", None)
        out = fn.forward(*arrays, **consts) if interceptor is None else \
            interceptor(fn, arrays, consts)
        out, *extra = out if isinstance(out, tuple) else (out,)  # extras carry no gradient
        base = inputs[0] if cls.is_view and xp.may_share_memory(out, arrays[0]) else None
        result = node._make(out, requires_grad=record, base=base)
        if record:
            fn.inputs = inputs
            result.grad_fn = fn
            fn.saved_versions = tuple((i, fn._saved(i, result)._version) for i in fn.saves)
        return (result, *map(node._make, extra)) if extra else result

    def _saved(self, i, output):
        return output if i is OUTPUT else self.inputs[i]

    def check_saved(self, output) -> None:
        """Raise torch's error if a tensor backward needs was changed in place since forward."""
        for i, version in self.saved_versions:
            t = self._saved(i, output)
            if t._version != version:
                raise RuntimeError(_modified_message(t, version, self.name()))

    def forward(self, *arrays, **consts):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def name(self) -> str:
        return f"{type(self).__name__}Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object>"


def _modified_message(t, version: int, saved_by: str) -> str:
    """torch's message (its type string, and the op that made t, minus "Backward0"), with
    npconv's hint in place of torch's anomaly-mode one."""
    legacy = t.dtype.legacy_name
    kind = "CPUBoolType" if legacy == "Bool" else f"torch.{legacy}Tensor"
    made_by = "" if t.grad_fn is None else \
        f", which is output 0 of {t.grad_fn.name().removesuffix('Backward0')},"
    return ("one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{kind} {list(t.shape)}]{made_by} is at version {t._version}; "
            f"expected version {version} instead. Hint: {saved_by} saved it for backward, and it "
            "was changed in place since (by an in-place op such as mul_, add_, copy_ or "
            "t[i] = v, an inplace=True layer, or optimizer.step()); call backward() before "
            "changing it, or change a clone() or use the out-of-place op instead.")


def each_saved_for_the_other(needs_input_grad) -> tuple:
    """saves of (a, b) ops whose a-gradient reads b and b-gradient reads a (mul, matmul,
    linear): each is saved only if the other needs a gradient, as torch."""
    return tuple(i for i, other in ((0, 1), (1, 0)) if needs_input_grad[other])


def is_node(x) -> bool:
    """Whether an op input is a tensor in the graph (it has a grad_fn slot), not a constant."""
    return hasattr(x, "grad_fn")


def _inputs(fn):
    if not hasattr(fn, "inputs"):
        raise RuntimeError(
            "Trying to backward through the graph a second time (or directly access saved "
            "tensors after they have already been freed). Specify retain_graph=True if you "
            "need to backward through the graph a second time.")
    return fn.inputs


def _topological_order(root):
    """Nodes reachable from root through grad_fn, each after all nodes that consume it."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        if node.grad_fn is not None:
            for parent in _inputs(node.grad_fn):
                if getattr(parent, "requires_grad", False) and id(parent) not in seen:
                    stack.append((parent, False))
    return reversed(order)


def run_backward(root, grad, retain_graph: bool = False):
    """Propagate ``grad`` from ``root`` to every leaf that requires grad, accumulating ``.grad``."""
    grads = {id(root): grad}
    for node in _topological_order(root):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if node.grad_fn is None or node._retains_grad:
            node._accumulate_grad(g)
        fn = node.grad_fn
        if fn is None:
            continue
        fn.check_saved(node)
        parent_grads = fn.backward(g)
        if not isinstance(parent_grads, tuple):
            parent_grads = (parent_grads,)
        for parent, pg in zip(fn.inputs, parent_grads):
            if pg is None or not getattr(parent, "requires_grad", False):
                continue
            pg = xp.asarray(pg, dtype=parent.data_array.dtype)
            key = id(parent)
            grads[key] = pg if key not in grads else grads[key] + pg
        if not retain_graph:
            del fn.inputs
