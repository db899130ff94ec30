"""Receptive fields, from a trace of the forward pass (so branches, residual additions,
concatenation and functional ops inside forward count).

receptive_field gives, per layer that runs, the field of its output's units along each spatial
axis of the (first) input by the general recurrence, per axis, from the geometry of each
windowed op (npconv.analysis.ops.window):

    r = r_prev + span j_prev          (span = (k - 1) d for conv and pooling)
    j = j_prev spacing                (spacing = s; 1 / s for a transposed conv)
    start = start_prev + centre j_prev  (centre = (k - 1) d / 2 - p_lo)

start is the centre of unit 0's field in input pixels (padding counted, so it may lie outside
the input). A merge (x + y, cat, ...) takes the union of its inputs' fields and says so in
`note` when they are not aligned; an op that mixes a whole axis (linear, flatten, a reduction
over it, softmax along it) makes the field the whole input there (size = the input's size,
jump 0). Normalization statistics are not counted (as eval mode; batch statistics would make
every field the whole batch), and channels are not told apart.

receptive_field_of gives one unit's exact region: the set of input cells each op's output
cells read is carried back op by op (windows with their taps and holes, padding modes, crops,
concatenation), and its bounding box is returned.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from npconv.analysis import ops
from npconv.analysis.check import traced
from npconv.analysis.trace import Trace
from npconv.autograd import conv_ops as C
from npconv.autograd import math_ops as M
from npconv.autograd import nn_ops as N
from npconv.autograd import norm_ops as NO
from npconv.autograd import shape_ops as S


@dataclass(frozen=True)
class AxisField:
    """The field along one input axis, carried by tensor dim `dim` (None: the whole input)."""

    dim: int | None
    size: float
    jump: float
    start: float
    aligned: bool = True


@dataclass(frozen=True)
class FieldRow:
    """One layer's output: per spatial axis of the input, the field size, jump (effective
    stride, in input pixels) and start (centre of unit 0's field); shape is the output's
    shape and note says how a merge or a whole-input field came about."""

    name: str
    type: str
    size: tuple
    jump: tuple
    start: tuple
    shape: tuple
    note: str = ""


def _number(x):
    return int(x) if float(x).is_integer() else float(x)


def _whole(n: int) -> AxisField:
    return AxisField(None, n, 0, (n - 1) / 2)


# ---- forward: the recurrence ---------------------------------------------------------------
class _Fields:
    """The fields of every traced array: id(array) -> tuple of AxisField per input axis."""

    def __init__(self, trace: Trace):
        self.trace = trace
        x = trace.inputs[0]
        self.sizes = x.shape[2:]
        self.of = {id(x): tuple(AxisField(2 + a, 1, 1, 0) for a in range(len(self.sizes)))}
        self.notes: dict[int, str] = {}
        for op in trace.ops:
            fields = [(a, self.of[id(a)]) for a in op.inputs
                      if isinstance(a, np.ndarray) and id(a) in self.of]
            if not fields:
                continue
            out = self._apply(op, fields, op.outputs[0])
            for o in op.outputs:
                self.of[id(o)] = out

    def _apply(self, op, fields, y):
        fn, (x, f) = op.fn, fields[0]
        if isinstance(fn, ops.WINDOWED):
            lead = x.ndim - op.consts["spec"].ndim
            return tuple(self._window(op, x, y, a, lead) if a.dim is not None and a.dim >= lead
                         else self._whole_axis(n, a) for a, n in zip(f, self.sizes))
        if isinstance(fn, NO.Normalize):
            mixed = () if _per_cell(op) else op.consts["axes"]
            return self._moved(f, {d: d for d in range(x.ndim) if d not in mixed})
        if isinstance(fn, C.Pad):
            pads = op.consts["pads"]
            return tuple(a if a.dim is None or x.ndim - 1 - a.dim >= len(pads) // 2 else
                         AxisField(a.dim, a.size, a.jump,
                                   a.start - pads[2 * (x.ndim - 1 - a.dim)] * a.jump)
                         for a in f)
        if isinstance(fn, S.Permute):
            return self._moved(f, {d: op.consts["dims"].index(d) for d in range(x.ndim)})
        if isinstance(fn, (S.Reshape, S.Index)):
            return self._moved(f, _kept_dims(x.shape, y.shape))
        if isinstance(fn, N.Linear):
            return self._moved(f, _right_aligned(x.ndim, y.ndim, mixed={x.ndim - 1}))
        if isinstance(fn, REDUCING):
            mixed, keep = _reduced(op, x)
            return self._moved(f, {d: j for d, j in keep.items() if d not in mixed})
        if isinstance(fn, M.MatMul) and x.ndim >= 2 and op.inputs[1].ndim >= 2:
            moved = [(a, self._moved(g, _right_aligned(a.ndim, y.ndim, mixed={
                a.ndim - 1 if a is x else a.ndim - 2}))) for a, g in fields]
            return self._merge(op, [(y, g) for _, g in moved], y)
        arrays = [a.shape for a in op.inputs if isinstance(a, np.ndarray)]
        if isinstance(fn, (S.Cat, S.Stack, S.Expand)) or _broadcasts_to(arrays, y.shape):
            return self._merge(op, fields, y)
        return tuple(self._whole_axis(n, a) for a, n in zip(f, self.sizes))

    def _window(self, op, x, y, a, lead):
        w = ops.window(op.fn, op.consts, x.shape[a.dim], y.shape[a.dim], a.dim - lead)
        return AxisField(a.dim, a.size + w.span * a.jump, a.jump * w.spacing,
                         a.start + w.centre * a.jump, a.aligned)

    @staticmethod
    def _whole_axis(n, a):
        return a if a.dim is None else _whole(n)

    def _moved(self, f, dims: dict):
        """Fields after the tensor dims moved: dims maps old dim -> new dim (absent: merged
        with others, so that axis' field is the whole input)."""
        return tuple(AxisField(dims[a.dim], a.size, a.jump, a.start, a.aligned)
                     if a.dim in dims else self._whole_axis(n, a)
                     for a, n in zip(f, self.sizes))

    def _merge(self, op, fields, y):
        """Elementwise, broadcasting and concatenating ops: each input's dims aligned from the
        right, then the union of the fields per axis."""
        cat = op.consts.get("dim") if isinstance(op.fn, (S.Cat, S.Stack)) else None
        merged, notes = [], []
        for axis, n in enumerate(self.sizes):
            parts = []
            for x, f in fields:
                a = f[axis]
                shift = y.ndim - x.ndim
                parts.append(a if a.dim is None else
                             AxisField(a.dim + shift, a.size, a.jump, a.start, a.aligned))
            if isinstance(op.fn, S.Stack):
                d = cat % y.ndim
                parts = [p if p.dim is None else
                         AxisField(p.dim - 1 + (p.dim - 1 >= d), p.size, p.jump, p.start,
                                   p.aligned) for p in parts]
            if cat is not None and isinstance(op.fn, S.Cat) and \
                    any(p.dim == cat % y.ndim for p in parts):
                notes.append(f"axis {axis}: concatenated along it")
                merged.append(_whole(n))
                continue
            field, note = _union(parts, n)
            merged.append(field)
            if note:
                notes.append(f"axis {axis}: {note}")
        if notes:
            sources = ", ".join(repr(self.trace.origin(x)[0]) for x, _ in fields)
            self.notes[id(y)] = f"merge of {sources}: " + "; ".join(notes)
        return tuple(merged)


REDUCING = (*ops.REDUCTIONS, N.Softmax, N.LogSoftmax)


def _reduced(op, x):
    """(the dims a reduction or softmax reads whole, where each input dim goes)."""
    if isinstance(op.fn, (N.Softmax, N.LogSoftmax)):
        return {op.consts["dim"] % x.ndim}, {i: i for i in range(x.ndim)}
    axes = set(M.reduction_axes(op.consts.get("dim"), x.ndim))
    if op.consts.get("keepdim"):
        return axes, {i: i for i in range(x.ndim)}
    kept = [i for i in range(x.ndim) if i not in axes]
    return axes, {d: j for j, d in enumerate(kept)}


def _right_aligned(ndim_in, ndim_out, mixed) -> dict:
    """Dims aligned from the right (a broadcast, a linear layer), but for those in `mixed`."""
    return {d: d + ndim_out - ndim_in for d in range(ndim_in) if d not in mixed}


def _kept_dims(shape_in, shape_out) -> dict:
    """Dims a reshape (or index) keeps: those of the common leading and trailing sizes."""
    kept, n, m = {}, len(shape_in), len(shape_out)
    for i in range(min(n, m)):
        if shape_in[i] != shape_out[i]:
            break
        kept[i] = i
    for i in range(1, min(n, m) + 1):
        if shape_in[-i] != shape_out[-i]:
            break
        kept.setdefault(n - i, m - i)
    return kept


def _union(parts, n):
    """The union of the fields of a merge's inputs along one axis, and a note when they are
    not aligned (different jump or start)."""
    if any(p.dim is None for p in parts):
        whole = [p for p in parts if p.dim is None]
        return (whole[0] if all(p.dim is None for p in parts) else _whole(n)), ""
    if len({p.dim for p in parts}) > 1:
        return _whole(n), "inputs carry it on different dims"
    lo = min(p.start - (p.size - 1) / 2 for p in parts)
    hi = max(p.start + (p.size - 1) / 2 for p in parts)
    jumps, starts = {p.jump for p in parts}, {p.start for p in parts}
    aligned = len(jumps) == 1 and len(starts) == 1
    note = "" if aligned else (f"not aligned (jumps {sorted(jumps)}, starts {sorted(starts)}); "
                               "the union of unit 0's fields, at the largest jump")
    return AxisField(parts[0].dim, hi - lo + 1, max(jumps), (lo + hi) / 2,
                     aligned and all(p.aligned for p in parts)), note


def field_rows(trace: Trace) -> dict:
    """{index of a running layer in trace.layers: its FieldRow}, and under key None the
    model's output row when no layer's output is the model's output."""
    fields = _Fields(trace)
    rows = {i: _row(layer.label, layer.type, layer.outputs[0], fields)
            for i, layer in enumerate(trace.layers) if layer.leaf and layer.outputs}
    last = max(rows, default=None)
    if trace.output and (last is None or trace.layers[last].outputs[0] is not trace.output[0]):
        rows[None] = _row("output", "output", trace.output[0], fields)
    return rows


def receptive_field(model, input_size) -> list[FieldRow]:
    """One FieldRow per layer that runs (leaf module calls and ops called in forward), in
    execution order; the last row is the model's output. input_size is the whole input shape,
    e.g. (1, 1, 28, 28); its spatial axes are dims 2 and on. A model that fails on the input
    raises the diagnosis of npconv.analysis.check."""
    return list(field_rows(traced(model, input_size)).values())


def _row(name, kind, y, fields) -> FieldRow:
    f = fields.of.get(id(y))
    note = fields.notes.get(id(y), "")
    if f is None:
        return FieldRow(name, kind, (), (), (), tuple(y.shape), "does not depend on the input")
    if any(a.dim is None for a in f) and not note:
        note = "whole input" if all(a.dim is None for a in f) else \
            "whole input along axes " + ", ".join(str(i) for i, a in enumerate(f)
                                                  if a.dim is None)
    return FieldRow(name, kind, tuple(_number(a.size) for a in f),
                    tuple(_number(a.jump) for a in f), tuple(_number(a.start) for a in f),
                    tuple(y.shape), note)


# ---- backward: one unit's exact region -------------------------------------------------------
def receptive_field_of(model, input_size, unit) -> tuple:
    """The input region one unit sees: per spatial axis of the input, the inclusive (lo, hi)
    of the input cells it reads (the bounding box: a dilation can leave holes inside),
    clipped to the input. unit is the spatial index of the unit in the last spatial feature
    map the model computes (the output itself when it has spatial axes; a global pooling's
    1 x 1 map counts only when there is no larger one); when no value keeps
    the input's spatial axes, unit is () and the region is the whole input. An axis on which
    the unit reads no input cell (a transposed conv's phase without taps) gives None."""
    trace = traced(model, input_size)
    fields = _Fields(trace)
    x = trace.inputs[0]
    target = _last_spatial(trace, fields)
    unit = tuple(unit)
    if target is None:
        if unit:
            raise IndexError(f"the model keeps no spatial axis of the input (its output has "
                             f"shape {list(trace.output[0].shape)}): every unit sees the whole "
                             f"input, pass unit=()")
        return tuple((0, n - 1) for n in x.shape[2:])
    f = fields.of[id(target)]
    dims = [a.dim for a in f]
    sizes = [target.shape[d] for d in dims]
    if len(unit) != len(dims) or not all(0 <= u < n for u, n in zip(unit, sizes)):
        raise IndexError(f"unit must be {len(dims)} indices into the last spatial feature map "
                         f"'{trace.origin(target)[0]}' of spatial size {tuple(sizes)} (got "
                         f"unit={unit})")
    need = np.zeros(target.shape, dtype=bool)
    index = [slice(None)] * target.ndim
    for d, u in zip(dims, unit):
        index[d] = u
    need[tuple(index)] = True
    region = _needed_input(trace, target, need)
    boxes = []
    for axis in range(2, x.ndim):
        cells = np.flatnonzero(region.any(axis=tuple(i for i in range(x.ndim) if i != axis)))
        boxes.append((int(cells[0]), int(cells[-1])) if cells.size else None)
    return tuple(boxes)


def _last_spatial(trace, fields):
    """The last array (in execution order) that carries every spatial axis of the input on a
    dim of its own and has more than one cell on some of them (a global pooling's 1 x 1 map
    is passed over for the map it pooled, unless there is no other)."""
    maps = []
    for op in trace.ops:
        y = op.outputs[0]
        f = fields.of.get(id(y))
        if f and all(a.dim is not None for a in f) and len({a.dim for a in f}) == len(f):
            maps.append((y, max(y.shape[a.dim] for a in f) > 1))
    larger = [y for y, more in maps if more]
    return larger[-1] if larger else (maps[-1][0] if maps else None)


def _needed_input(trace, target, need):
    """The cells of the input that the cells `need` of `target` read, carried back through the
    ops that ran before target was made (in reverse order)."""
    needs = {id(target): need}
    stop = trace.producer[id(target)]
    for op in reversed(trace.ops[:stop + 1]):
        outs = [needs.get(id(o)) for o in op.outputs]
        if all(m is None for m in outs):
            continue
        masks = _back(op, [m if m is not None else np.zeros(o.shape, bool)
                           for m, o in zip(outs, op.outputs)])
        for a, m in zip(op.inputs, masks):
            if m is not None and isinstance(a, np.ndarray) and trace.traced(a):
                needs[id(a)] = needs[id(a)] | m if id(a) in needs else m
    x = trace.inputs[0]
    return needs.get(id(x), np.zeros(x.shape, bool))


def _back(op, outs) -> list:
    """Per input of op, the mask of its cells the masked output cells read."""
    fn, y_need = op.fn, outs[0]
    x = op.inputs[0]
    if isinstance(fn, ops.WINDOWED):
        return [_back_window(op, x, y_need)]
    if isinstance(fn, ops.MOVES):
        return _back_moves(op, y_need)
    if isinstance(fn, NO.Normalize):  # each output cell reads the cells its statistics cover
        mixed = () if _per_cell(op) else op.consts["axes"]
        return [np.broadcast_to(y_need.any(axis=mixed, keepdims=True), x.shape)] + \
            [None] * (len(op.inputs) - 1)
    if isinstance(fn, N.Linear):
        return [np.broadcast_to(y_need.any(-1, keepdims=True), x.shape)]
    if isinstance(fn, M.MatMul) and x.ndim >= 2 and op.inputs[1].ndim >= 2:
        a, b = op.inputs[:2]
        return [_unbroadcast(np.broadcast_to(y_need.any(-1, keepdims=True),
                                             (*y_need.shape[:-1], a.shape[-1])), a.shape),
                _unbroadcast(np.broadcast_to(y_need.any(-2, keepdims=True),
                                             (*y_need.shape[:-2], *b.shape[-2:])), b.shape)]
    if isinstance(fn, REDUCING):
        mixed, keep = _reduced(op, x)
        m = y_need
        if len(keep) != x.ndim:
            m = np.expand_dims(m, tuple(sorted(mixed)))
        m = m.any(axis=tuple(mixed), keepdims=True)
        return [np.broadcast_to(m, x.shape)]
    arrays = [a for a in op.inputs if isinstance(a, np.ndarray)]
    if _broadcasts_to([a.shape for a in arrays], y_need.shape):
        return [_unbroadcast(y_need, a.shape) if isinstance(a, np.ndarray) else None
                for a in op.inputs]
    return [np.full(a.shape, y_need.any()) if isinstance(a, np.ndarray) else None
            for a in op.inputs]


def _per_cell(op) -> bool:
    """Batch norm acts cell by cell: with its running statistics in eval, and its batch
    statistics are not counted in training (the field of one image's unit should not depend on
    the rest of the batch). Group, layer and instance norm mix the cells their statistics cover
    in either mode."""
    return isinstance(op.fn, NO.Normalize) and (op.consts.get("stats") is not None
                                                 or 0 in op.consts["axes"])


def _broadcasts_to(shapes, target) -> bool:
    """Whether the shapes broadcast together to exactly target (an elementwise op)."""
    try:
        return np.broadcast_shapes(*shapes) == tuple(target)
    except ValueError:
        return False


def _unbroadcast(m, shape):
    """The adjoint of broadcasting for masks: any over the broadcast dims."""
    m = m.any(axis=tuple(range(m.ndim - len(shape)))) if m.ndim > len(shape) else m
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and m.shape[i] != 1)
    return m.any(axis=axes, keepdims=True) if axes else m


def _back_window(op, x, y_need):
    """A windowed op: per spatial axis, input cell i is read by output cell o when (o, i) is
    one of the op's taps; a conv reads every channel of its group."""
    fn, spec = op.fn, op.consts["spec"]
    m = y_need
    lead = x.ndim - spec.ndim
    if isinstance(fn, (C.Convolution, C.ConvTranspose)):
        g = spec.groups
        m = m.reshape(m.shape[0], g, -1, *m.shape[2:]).any(axis=2)
    for axis in range(spec.ndim):
        dim = lead + axis
        w = ops.window(fn, op.consts, x.shape[dim], y_need.shape[dim], axis)
        reads = np.zeros((y_need.shape[dim], x.shape[dim]), dtype=np.float32)
        reads[w.taps_out, w.taps_in] = 1
        m = np.moveaxis(np.moveaxis(m, dim, -1).astype(np.float32) @ reads > 0, -1, dim)
    if isinstance(fn, (C.Convolution, C.ConvTranspose)):
        m = np.repeat(m, x.shape[1] // spec.groups, axis=1)
    return m


def _back_moves(op, y_need):
    """Ops that only move cells (reshape, permute, expand, index, cat, stack, pad): run the
    op's own forward on the cells' 1-based numbers (padding gets 0), so each output cell names
    the input cell it holds."""
    data = [isinstance(a, np.ndarray) and (i == 0 or not isinstance(op.fn, S.Index))
            for i, a in enumerate(op.inputs)]
    numbered, offset = [], 1
    for a, is_data in zip(op.inputs, data):
        if is_data:
            numbered.append(np.arange(offset, offset + a.size, dtype=np.int64).reshape(a.shape))
            offset += a.size
        else:
            numbered.append(a)
    consts = dict(op.consts, value=0) if isinstance(op.fn, C.Pad) else op.consts
    source = np.asarray(type(op.fn)().forward(*numbered, **consts))
    held = np.zeros(offset, dtype=bool)
    held[source[y_need]] = True
    masks, offset = [], 1
    for a, is_data in zip(op.inputs, data):
        if is_data:
            masks.append(held[offset:offset + a.size].reshape(a.shape))
            offset += a.size
        else:
            masks.append(None)
    return masks
