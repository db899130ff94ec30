"""Run a model on shapes alone and record what ran: every op (Function.apply, through the
autograd engine's intercept_ops, so functional calls, `x + y` and `cat` inside forward are
seen) and every module call (forward pre-hooks and hooks), in execution order.

The input is zero-filled stand-ins; ops with a shape rule (npconv.analysis.ops: conv,
transposed conv, pooling, linear, matmul, elementwise) answer with new stand-ins of the output
shape and do no arithmetic; the others (reshapes, cat, reductions, ops the rules do not know)
run their own forward on the stand-ins. Model state is left as it was: no random numbers are
drawn (dropout has a shape rule) and buffers a forward updates (running statistics) are put
back. While a trace runs, the model's modules carry its hooks: do not call the same model from
another thread meanwhile (the op interception itself is per thread).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from npconv import creation, dtypes
from npconv.analysis import ops
from npconv.autograd import enable_grad, intercept_ops
from npconv.tensor import Tensor


@dataclass
class Op:
    """One Function.apply: its Function, constants, input arrays (all, traced or not) and
    output arrays, and the index of the layer it ran in."""

    fn: object
    consts: dict
    inputs: list
    outputs: list
    layer: int


@dataclass
class Layer:
    """A module call or, when called directly in a forward other than an npconv.nn layer's,
    one op.
    name: the module's name in named_modules() (the op's name after its module's, for an op);
    depth: nesting (the model is 0); ops: indices of the ops run inside (a leaf module's all,
    an op row's one); inputs/outputs: the arrays it received and returned."""

    name: str
    type: str
    depth: int
    module: object = None
    fn: object = None
    ops: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    done: bool = False

    @property
    def label(self) -> str:
        """The name, or the model's type for the model itself (whose name is '')."""
        return self.name or self.type

    @property
    def leaf(self) -> bool:
        """Whether it runs as one layer, its ops its own: an op, or one of npconv.nn's layers
        without submodules. Other modules (containers, models, user modules) show the ops
        their forward calls directly as layers of their own."""
        return self.module is None or (type(self.module).__module__.startswith("npconv.nn.")
                                       and next(self.module.children(), None) is None)


def _arrays(obj) -> list:
    """The arrays of the tensors in obj (a tensor, or a tuple/list/dict of them)."""
    if isinstance(obj, Tensor):
        return [obj.data_array]
    if isinstance(obj, (tuple, list)):
        return [a for item in obj for a in _arrays(item)]
    if isinstance(obj, dict):
        return _arrays(list(obj.values()))
    return []


def input_shapes(input_size) -> list[tuple]:
    """input_size as torchinfo takes it: one shape (1, 1, 28, 28), or a list of shapes, one
    per forward argument."""
    if isinstance(input_size, (tuple, list)) and input_size and \
            all(isinstance(s, (tuple, list)) for s in input_size):
        shapes = [tuple(s) for s in input_size]
    else:
        shapes = [tuple(input_size)]
    for shape in shapes:
        if not all(isinstance(n, (int, np.integer)) and n >= 1 for n in shape):
            raise ValueError(f"input_size must be a shape of positive ints such as (1, 1, 28, "
                             f"28), with the batch size first, or a list of such shapes (got "
                             f"{input_size!r})")
    return shapes


class Trace:
    """The record of one shape-only run of model on inputs of input_size (see the module
    docstring). After run(): layers, ops, inputs (the stand-in arrays), output (the model's
    output arrays), error (the exception the model raised, or None) and stack (the layers
    being called when it raised, outermost first). The inputs have dtypes_ (one per input),
    by default the dtype of the model's floating-point parameters."""

    def __init__(self, model, input_size, dtypes_=None):
        self.model = model
        self.shapes = input_shapes(input_size)
        default = next((p.dtype for p in model.parameters() if p.dtype.is_floating_point),
                       dtypes.get_default_dtype())
        self.dtypes = list(dtypes_) if dtypes_ is not None else [default] * len(self.shapes)
        self.layers: list[Layer] = []
        self.ops: list[Op] = []
        self.stack: list[int] = []
        self.inputs, self.output, self.error = [], [], None
        self.failed_op: Op | None = None  # the op whose forward raised, if one did
        self.producer: dict[int, int] = {}  # id(array) -> index of the op that made it
        self._keep: list = []  # every traced array stays alive, so ids are never reused

    # ---- running --------------------------------------------------------------------------
    def run(self) -> "Trace":
        names = {id(m): n for n, m in self.model.named_modules()}
        handles = []
        for module in self.model.modules():
            name = names[id(module)]
            handles.append(module.register_forward_pre_hook(functools.partial(self._enter,
                                                                              name)))
            handles.append(module.register_forward_hook(self._leave))
        saved = [(m, n, b, b.data_array.copy()) for m in self.model.modules()
                 for n, b in m.named_buffers(recurse=False)]
        args = [creation.zeros(shape, dtype=dtype, requires_grad=dtype.is_floating_point)
                for shape, dtype in zip(self.shapes, self.dtypes)]
        self.inputs = [a.data_array for a in args]
        self._keep.extend(self.inputs)
        try:
            with enable_grad(), intercept_ops(self._op):
                self.output = _arrays(self.model(*args))
        except Exception as e:  # noqa: BLE001 - the model's failure is what check() reports
            self.error = e
        finally:
            for handle in handles:
                handle.remove()
            for module, name, buffer, array in saved:
                setattr(module, name, buffer)
                buffer.data_array = array
        return self

    def _enter(self, name, module, args):
        depth = len(self.stack)
        self.layers.append(Layer(name, type(module).__name__, depth, module,
                                 inputs=_arrays(args)))
        self.stack.append(len(self.layers) - 1)

    def _leave(self, module, args, output):
        layer = self.layers[self.stack.pop()]
        layer.outputs, layer.done = _arrays(output), True

    def _op(self, fn, arrays, consts):
        out = ops.shape_only_output(fn, arrays, consts)
        if out is None:
            try:
                out = fn.forward(*arrays, **consts)
            except Exception:
                self.failed_op = Op(fn, consts, list(arrays), [], self.stack[-1])
                raise
        outs = [np.asarray(o) for o in (out if isinstance(out, tuple) else (out,))]
        self._keep.extend(outs)
        caller = self.layers[self.stack[-1]]
        index = len(self.ops)
        if caller.leaf:
            layer = self.stack[-1]
        else:
            self.layers.append(Layer(f"{caller.name}.{ops.op_name(fn)}" if caller.depth else
                                     ops.op_name(fn),
                                     type(fn).__name__, caller.depth + 1, fn=fn,
                                     inputs=list(arrays), outputs=outs, done=True))
            layer = len(self.layers) - 1
        self.layers[layer].ops.append(index)
        self.ops.append(Op(fn, consts, list(arrays), outs, layer))
        for o in outs:
            self.producer[id(o)] = index
        return tuple(outs) if isinstance(out, tuple) else outs[0]

    # ---- reading ----------------------------------------------------------------------------
    def traced(self, array) -> bool:
        """Whether the array came from the input (an input or some op's output)."""
        return id(array) in self.producer or any(array is a for a in self.inputs)

    def origin(self, array):
        """(layer name, shape) the array came from, looking through reshapes (a flatten or
        view keeps the layer that made the values): 'input' for a model input."""
        while id(array) in self.producer:
            op = self.ops[self.producer[id(array)]]
            if not isinstance(op.fn, ops.RESHAPES):
                return self.layers[op.layer].label, array.shape
            array = op.inputs[0]
        return "input", array.shape

    def running(self) -> list[Layer]:
        """The layers that run, in execution order: leaf module calls and op rows."""
        return [layer for layer in self.layers if layer.leaf]
