"""summary(model, input_size): a torchinfo-style table from one shape-only trace: every module
call (nested, with its depth) and every op called directly in a forward other than an npconv.nn
layer's (`x + y`, F.relu, F.conv2d, view, cat, ...), with output shape, parameters, MACs, receptive
field and kernel/stride/padding, and the totals."""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

from npconv.analysis import ops
from npconv.analysis.check import traced
from npconv.analysis.receptive import field_rows
from npconv.kernels.geometry import AdaptivePoolSpec, ConvSpec

CONVENTION = ("FLOPs = 2 x MACs. MACs: multiply-accumulates of conv (N x C_out x prod(out spatial) x C_in/groups x "
              "prod(kernel)), transposed conv (counted on the input's spatial size), linear and "
              "matmul; bias additions, elementwise ops, pooling and normalization count 0.")


@dataclass(frozen=True)
class SummaryRow:
    """One row: name (as in named_modules(); an op's after its module's), type, depth,
    output_shape (the model itself is named by its type), params (the module's own parameters, not its submodules'; 0 for an op),
    macs (of the ops run directly in it: a module with submodules counts only its own ops'
    rows), field (receptive field size per input axis, or None), geometry (kernel, stride,
    padding, dilation as text, or '')."""

    name: str
    type: str
    depth: int
    output_shape: tuple | None
    params: int
    macs: int
    field: tuple | None
    geometry: str


@dataclass(frozen=True)
class Summary:
    """summary()'s result: rows, the totals, and str() the table."""

    model_name: str
    rows: list
    total_params: int
    trainable_params: int
    total_macs: int
    param_bytes: int
    activation_bytes: int
    input_bytes: int

    @property
    def total_flops(self) -> int:
        return 2 * self.total_macs

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    def __str__(self) -> str:
        head = ("Layer (type)", "Output shape", "Params", "MACs", "Field", "Kernel/stride/pad")
        lines = [head] + [(f"{'  ' * r.depth}{r.name} ({r.type})" if r.depth else r.type,
                           "--" if r.output_shape is None else str(list(r.output_shape)),
                           f"{r.params:,}" if r.params else "--",
                           f"{r.macs:,}" if r.macs else "--",
                           "x".join(map(str, r.field)) if r.field else "--", r.geometry)
                          for r in self.rows]
        widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
        rule = "=" * (sum(widths) + 2 * (len(widths) - 1))

        def fmt(line):
            return "  ".join(c.ljust(w) if i in (0, 1, 5) else c.rjust(w)
                             for i, (c, w) in enumerate(zip(line, widths))).rstrip()

        mb = 1024 ** 2
        foot = [f"Total params: {self.total_params:,} (trainable {self.trainable_params:,}, "
                f"non-trainable {self.non_trainable_params:,})",
                f"Total MACs: {self.total_macs:,}   FLOPs: {self.total_flops:,}",
                f"Input: {self.input_bytes / mb:.2f} MB   Forward activations: "
                f"{self.activation_bytes / mb:.2f} MB   Parameters and buffers: "
                f"{self.param_bytes / mb:.2f} MB",
                *textwrap.wrap(CONVENTION, len(rule))]
        return "\n".join([rule, fmt(lines[0]), rule, *map(fmt, lines[1:]), rule, *foot, rule])


def _geometry_text(spec) -> str:
    if isinstance(spec, AdaptivePoolSpec):
        return "out " + "x".join("-" if o is None else str(o) for o in spec.output_size_)
    if spec is None or not hasattr(spec, "kernel_size"):
        return ""

    def by(values):
        return "x".join(map(str, values))

    pads = by(lo if lo == hi else f"{lo}+{hi}" for lo, hi in spec.padding)
    text = f"k {by(spec.kernel_size)} s {by(spec.stride)} p {pads}"
    if any(d != 1 for d in spec.dilation):
        text += f" d {by(spec.dilation)}"
    if isinstance(spec, ConvSpec) and spec.groups != 1:
        text += f" g {spec.groups}"
    return text


def _spec_of(layer, trace):
    """The layer's geometry: its module's, else that of the windowed op it is."""
    spec = getattr(layer.module, "geometry", None) if layer.module is not None else None
    if spec is None and layer.ops and isinstance(trace.ops[layer.ops[0]].fn, ops.WINDOWED):
        spec = trace.ops[layer.ops[0]].consts["spec"]
    return spec


def summary(model, input_size, dtypes=None) -> Summary:
    """The table of model run on inputs of input_size (one shape with the batch first, or a
    list of shapes, one per forward argument; dtypes: one per input, default float32). A
    model that fails on the input raises its exception type with check()'s diagnosis."""
    trace = traced(model, input_size, dtypes)
    fields = field_rows(trace)
    rows = []
    for i, layer in enumerate(trace.layers):
        own = [] if layer.module is None else list(layer.module.parameters(recurse=False))
        macs = sum(ops.macs(op.fn, [getattr(a, "shape", ()) for a in op.inputs],
                            op.outputs[0].shape) for op in (trace.ops[j] for j in layer.ops))
        field = fields.get(i)
        rows.append(SummaryRow(layer.label, layer.type, layer.depth,
                               tuple(layer.outputs[0].shape) if layer.outputs else None,
                               sum(p.numel() for p in own), macs,
                               field.size if field is not None and field.size else None,
                               _geometry_text(_spec_of(layer, trace))))
    params = list(model.parameters())
    owned = {id(o): o for op in trace.ops for o in op.outputs if o.base is None}
    return Summary(type(model).__name__, rows, sum(p.numel() for p in params),
                   sum(p.numel() for p in params if p.requires_grad),
                   sum(row.macs for row in rows),
                   sum(t.numel() * t.data_array.itemsize
                       for t in [*params, *model.buffers()]),
                   sum(a.nbytes for a in owned.values()),
                   sum(math.prod(a.shape) * a.itemsize for a in trace.inputs))
