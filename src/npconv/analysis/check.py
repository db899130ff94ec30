"""check(model, input_size): run a model on shapes alone (npconv.analysis.trace) and say
whether it fits the input; when it does not, which layer fails, what it received and from
where, what it expected, and what would fit: the layer to build, or the input size, found by
tracing the model again at other sizes (cheap, as a trace does no arithmetic on values).
"""
from __future__ import annotations

from dataclasses import dataclass

from npconv.analysis.trace import Trace
from npconv.kernels.geometry import ConvSpec
from npconv.nn import Linear
from npconv.tensor import Size

_LARGEST = 4096  # the input sizes searched for a fix: 1 .. this


@dataclass(frozen=True)
class CheckResult:
    """What check() found: the output's shape (a tuple of shapes for several outputs), or
    the failure: its description, the layer (as named in named_modules()) and the model's own
    exception. True when the model fits; str() is the shape or the description."""

    output_shape: Size | tuple | None
    failure: str | None = None
    layer: str | None = None
    error: Exception | None = None

    def __bool__(self) -> bool:
        return self.failure is None

    def __str__(self) -> str:
        return self.failure if self.failure else f"fits: output shape {self.output_shape}"


def check(model, input_size, dtypes=None) -> CheckResult:
    """Run model on zero stand-ins of input_size (one shape with the batch first, or a list
    of shapes, one per forward argument) with no arithmetic on values, and return the output
    shape, or the first failure described with what would fit."""
    trace = Trace(model, input_size, dtypes).run()
    if trace.error is None:
        shapes = [Size(a.shape) for a in trace.output]
        return CheckResult(shapes[0] if len(shapes) == 1 else tuple(shapes))
    layer = trace.layers[trace.stack[-1]] if trace.stack else None
    return CheckResult(None, describe(trace), layer.label if layer else None, trace.error)


def traced(model, input_size, dtypes=None) -> Trace:
    """The trace of a model that fits the input; else the model's exception type with the
    description of the failure (raised from the model's own exception)."""
    trace = Trace(model, input_size, dtypes).run()
    if trace.error is None:
        return trace
    text = describe(trace)
    try:
        error = type(trace.error)(text)
    except Exception:  # noqa: BLE001 - an exception type that needs other arguments
        error = RuntimeError(text)
    raise error from trace.error


def _by(values) -> str:
    return " x ".join(map(str, values))


def describe(trace: Trace) -> str:
    """The failure of a trace in words: the layer, what it received from where, what it
    expected, and what would fit."""
    error = trace.error
    if not trace.stack:
        return str(error)
    layer = trace.layers[trace.stack[-1]]
    module, head = layer.module, f"{layer.label} ({layer.type})"
    if not layer.inputs:
        return f"{head} fails: {error}"
    x = layer.inputs[0]
    source, before = trace.origin(x)
    received = f"{list(x.shape)} from '{source}'"
    if trace.failed_op is not None and trace.failed_op.layer == trace.stack[-1]:
        op = trace.failed_op
        sources = " and ".join(f"{list(a.shape)} from '{trace.origin(a)[0]}'"
                               for a in op.inputs if trace.traced(a))
        return f"{head} fails in its {op.fn.__class__.__name__} of {sources}: {error}"
    if isinstance(module, Linear) and x.ndim and x.shape[-1] != module.in_features:
        got = x.shape[-1]
        shown = f"{got} = {_by(before[1:])}" if before != x.shape and len(before) > 2 else \
            str(got)
        fix = f"use nn.Linear({got}, {module.out_features})"
        fits = _fitting_inputs(trace, layer.name, lambda y: y.shape[-1] - module.in_features)
        return (f"{head} expects {module.in_features} input features but receives {shown} "
                f"from '{source}': {fix}" + (f", or an input of {fits}" if fits else ""))
    spec = getattr(module, "geometry", None)
    channels = getattr(module, "in_channels", None)
    if isinstance(spec, ConvSpec) and channels is not None and x.ndim >= spec.ndim + 1:
        got = x.shape[1] if x.ndim == spec.ndim + 2 else x.shape[0]
        if got != channels:
            return (f"{head} expects {channels} input channels but receives {got} from "
                    f"'{source}' (input {list(x.shape)}): use nn.{layer.type}({got}, "
                    f"{module.out_channels}, ...)" +
                    (f" with {got} divisible by groups={module.groups}"
                     if module.groups > 1 else ""))
    if spec is not None and hasattr(spec, "kernel_size") and x.ndim > spec.ndim:
        size = x.shape[-spec.ndim:]
        out = spec.output_size(size)
        too_small = min(out) < 1 or (isinstance(spec, ConvSpec) and not spec.transposed and any(
            p < k for p, k in zip(spec.padded_size(size), spec.dilated_kernel)))
        if too_small:
            fits = _fitting_inputs(trace, layer.name, None)
            pads = _by(f"{lo}+{hi}" for lo, hi in spec.padding)
            return (f"{head} receives {_by(size)} per channel ({list(x.shape)}) from '{source}', "
                    f"too small for its window: kernel {_by(spec.dilated_kernel)} (dilated) "
                    f"with padding {pads} gives an output of {_by(out)}" +
                    (f"; the smallest input that gets through it is {fits}" if fits else ""))
    last = trace.ops[-1].outputs[0] if trace.ops else x
    after = f" after '{trace.origin(last)[0]}' gave {list(last.shape)}" if trace.ops else ""
    runs = _running_inputs(trace)
    return (f"{head}, given {received}, fails{after}: {error}" +
            (f"; the model runs on inputs of {runs}" if runs else ""))


def _running_inputs(trace: Trace) -> str | None:
    """The sizes (one on every spatial axis of the first input) near the given one, up to
    twice its largest, on which the whole model runs, as text; None if none does."""
    first = trace.shapes[0]
    if len(first) < 3:
        return None
    spatial = len(first) - 2
    runs = [size for size in range(1, 2 * max(first[2:]) + 1)
            if Trace(trace.model, [(*first[:2], *(size,) * spatial), *trace.shapes[1:]],
                     trace.dtypes).run().error is None]
    if not runs:
        return None
    spans, start = [], runs[0]
    for a, b in zip(runs, runs[1:] + [None]):
        if b != a + 1:
            spans.append(_by((start,) * spatial) + ("" if a == start else
                                                   f" to {_by((a,) * spatial)}"))
            start = b
    return ", ".join(spans[:3]) + (" ..." if len(spans) > 3 else "")


def _fitting_inputs(trace: Trace, name: str, excess) -> str | None:
    """The input sizes (one size on every spatial axis of the first input) that fit the
    layer `name`, as text: with excess (the layer's input -> how far from fitting: < 0 too
    small, 0 fits, > 0 too large, growing with the input), the sizes where it is 0; without,
    the smallest size at which the layer runs. None if no size up to _LARGEST does."""
    first = trace.shapes[0]
    if len(first) < 3:
        return None

    def at(size):
        shapes = [(*first[:2], *(size,) * (len(first) - 2)), *trace.shapes[1:]]
        t = Trace(trace.model, shapes, trace.dtypes).run()
        layer = next((ly for ly in t.layers if ly.module is not None and ly.name == name), None)
        if excess is None:
            return 0 if layer is not None and layer.done else -1
        return excess(layer.inputs[0]) if layer is not None and layer.inputs else -1

    def first_size(goal):  # smallest size with at(size) >= goal (at grows with size)
        lo, hi = 1, _LARGEST
        if at(hi) < goal:
            return None
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if at(mid) >= goal else (mid + 1, hi)
        return lo

    smallest = first_size(0)
    if smallest is None or at(smallest) != 0:
        return None
    spatial = len(first) - 2
    if excess is None:
        return _by((smallest,) * spatial)
    largest = (first_size(1) or _LARGEST + 1) - 1
    shown = _by((smallest,) * spatial)
    return shown if largest == smallest else f"{shown} (up to {_by((largest,) * spatial)})"

