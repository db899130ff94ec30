"""What a convolution picture shows, as data: the grid the kernel slides over, which of its
cells are input, padding, inserted zeros or output_padding, which input cell each one holds or
copies, and which cells each output position reads. The drawing (npconv.viz.conv) only paints
this model, so tests can check it without reading pixels.

The layer itself is built and run once on zeros, so impossible settings raise exactly the
errors nn.Conv*d / nn.ConvTranspose*d raise; the geometry is that layer's ConvSpec.

A conv's grid is the padded input: output o reads grid cells o s + t d (tap t < k), and a
padded cell copies input cell kernels.pad.pad(arange(i), (lo, hi), mode) of its axis. A
transposed conv is drawn as the conv it equals: the input stretched with s - 1 zeros between
cells, q = d(k - 1) - p zeros around (q < 0 crops), output_padding extra cells at the end,
then a stride-1 conv with the kernel flipped, so output o reads grid cells max(-q, 0) + o + t d.
"""
from __future__ import annotations

import contextlib
import itertools
import warnings
from dataclasses import dataclass

import numpy as np

import npconv
import npconv.nn as nn
from npconv.kernels import pad
from npconv.random import default_generator

__all__ = ["ConvDiagram", "conv_diagram", "random_values", "INPUT", "PADDING", "ZERO",
           "OUTPUT_PADDING"]

INPUT, PADDING, ZERO, OUTPUT_PADDING = "input", "padding", "zero", "output_padding"
# A 2-d cell is of the first kind (in this order) that either of its axes gives it.
_PRIORITY = (OUTPUT_PADDING, PADDING, ZERO, INPUT)
NO_SOURCE = -1


@dataclass(frozen=True)
class ConvDiagram:
    """The model of every frame of one conv's picture (always 2-d: a 1-d conv is one row).

    kinds[r, c]: INPUT, PADDING, ZERO or OUTPUT_PADDING. sources[r, c]: the (row, col) of the
    input cell the grid cell holds or copies, (-1, -1) for a zero. origin, step: output
    (a, b) reads grid cells origin + (a, b) * step + tap * dilation. kernel: the weights as
    applied at each tap (flipped for a transposed conv), grid_values the grid's numbers
    (both None without values).
    """

    layer: nn.Module
    input_size: tuple[int, ...]
    output_size: tuple[int, ...]
    kinds: np.ndarray
    sources: np.ndarray
    kernel_size: tuple[int, int]
    dilation: tuple[int, int]
    origin: tuple[int, int]
    step: tuple[int, int]
    caption: tuple[str, ...]
    kernel: np.ndarray | None = None
    grid_values: np.ndarray | None = None

    @property
    def ndim(self) -> int:
        """Spatial axes of the conv drawn: 1 or 2."""
        return len(self.input_size)

    @property
    def transposed(self) -> bool:
        return self.layer.transposed

    @property
    def grid_shape(self) -> tuple[int, int]:
        return self.kinds.shape

    @property
    def output_shape(self) -> tuple[int, int]:
        """The output as drawn: (1, o) for a 1-d conv."""
        return (1,) * (2 - self.ndim) + tuple(self.output_size)

    def positions(self) -> list[tuple[int, int]]:
        """Every output position in row-major order: one frame each."""
        return list(itertools.product(*map(range, self.output_shape)))

    def position(self, position) -> tuple[int, int]:
        """A position as given (an int or tuple for 1-d, a pair for 2-d) as a drawn (row, col);
        IndexError if it is not an output cell."""
        given = tuple(np.atleast_1d(position).tolist())
        if len(given) != self.ndim or not all(
                isinstance(p, int) and 0 <= p < o for p, o in zip(given, self.output_size)):
            raise IndexError(f"position {position!r} is not a cell of the {_by(self.output_size)}"
                             f" output: give {self.ndim} index(es), each 0 <= index < its size")
        return (0,) * (2 - self.ndim) + given

    def taps(self, position) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """((grid row, grid col), (kernel row, kernel col)) of each tap the output at the drawn
        position (row, col) reads."""
        a, b = position
        (r0, c0), (sr, sc), (dr, dc) = self.origin, self.step, self.dilation
        return [((r0 + a * sr + i * dr, c0 + b * sc + j * dc), (i, j))
                for i, j in itertools.product(*map(range, self.kernel_size))]

    def label(self, cell) -> str:
        """The text of a grid cell: its value (with values), "0" for a zero, and for a cell a
        reflect/replicate/circular padding copies, the input cell it copies, e.g. "(0,1)"."""
        kind = self.kinds[cell]
        if kind in (ZERO, OUTPUT_PADDING) or (kind == PADDING and self.copies_nothing(cell)):
            return "0"
        if self.grid_values is not None:
            return number(self.grid_values[cell])
        if kind == PADDING:
            return self.source_label(cell)
        return ""

    def copies_nothing(self, cell) -> bool:
        return bool((self.sources[cell] == NO_SOURCE).any())

    def source_label(self, cell) -> str:
        """The input cell a grid cell holds, "(row,col)" or "(i)" for a 1-d conv."""
        return "(" + ",".join(map(str, self.sources[cell][2 - self.ndim:])) + ")"

    def product_sum(self, position) -> tuple[list[str], float]:
        """(terms "x*w", their sum) of the output at a drawn position (needs values)."""
        terms, total = [], 0.0
        for cell, tap in self.taps(position):
            x, w = self.grid_values[cell], self.kernel[tap]
            terms.append(f"{number(x)}*{number(w, signed=True)}")
            total += x * w
        return terms, total

    def output_name(self, position) -> str:
        """out(a,b), or out(j) for a 1-d conv."""
        return "out(" + ",".join(map(str, position[2 - self.ndim:])) + ")"

    def frame_text(self, position) -> str:
        """The per-frame caption: the product-sum with values, else the window read."""
        if self.kernel is not None:
            terms, total = self.product_sum(position)
            return f"{self.output_name(position)} = {' + '.join(terms)} = {number(total)}"
        cells = [cell for cell, _ in self.taps(position)]
        rows, cols = zip(*cells)
        span = f"cols {min(cols)}..{max(cols)}" if self.ndim == 1 else \
            f"rows {min(rows)}..{max(rows)}, cols {min(cols)}..{max(cols)}"
        return f"{self.output_name(position)} reads grid {span} ({len(cells)} taps)"


def number(value, signed=False) -> str:
    """A cell's number, short: 3, -0.5, 0.25 (parenthesized when negative and signed)."""
    text = f"{float(value):.3g}".removesuffix(".0")
    if text == "-0":
        text = "0"
    return f"({text})" if signed and text.startswith("-") else text


def _by(values) -> str:
    return "x".join(map(str, values))


def _axes(input_size, *args) -> int:
    """1 or 2: the length of input_size if a tuple, else of the longest tuple argument, else 2."""
    if isinstance(input_size, (tuple, list)):
        n = len(input_size)
    else:
        n = max((len(a) for a in args if isinstance(a, (tuple, list))), default=2)
    if n not in (1, 2):
        raise ValueError(f"npconv.viz draws 1-d and 2-d convs: give input_size as an int, a "
                         f"(rows, cols) pair or a 1-tuple (got {n} spatial axes)")
    return n


@contextlib.contextmanager
def _random_state_kept():
    """Put npconv's default random stream back afterwards: the layer's weight init draws from
    it, and a picture must not change a user's random numbers."""
    bits = default_generator().numpy_rng.bit_generator
    state = bits.state
    try:
        yield
    finally:
        bits.state = state


def _layer(n, kernel_size, stride, padding, dilation, padding_mode, transposed,
           output_padding):
    """The nn layer these arguments make (1 channel in and out, no bias): its construction
    raises what torch's does."""
    if transposed:
        cls = nn.ConvTranspose1d if n == 1 else nn.ConvTranspose2d
        return cls(1, 1, kernel_size, stride, padding, output_padding, bias=False,
                   dilation=dilation, padding_mode=padding_mode)
    if output_padding not in (0, (0,) * n, [0] * n):
        raise ValueError(f"output_padding={output_padding!r} is an argument of transposed convs "
                         "only: pass transposed=True, or leave output_padding=0")
    cls = nn.Conv1d if n == 1 else nn.Conv2d
    return cls(1, 1, kernel_size, stride, padding, dilation, bias=False,
               padding_mode=padding_mode)


def _conv_axis(i, lo, hi, mode):
    """(kinds, sources) along one axis of a conv's padded grid."""
    kinds = np.array([PADDING] * lo + [INPUT] * i + [PADDING] * hi, dtype=object)
    if mode == "zeros":
        return kinds, pad.pad(np.arange(i), (lo, hi), "constant", NO_SOURCE)
    return kinds, pad.pad(np.arange(i), (lo, hi), mode)


def _transposed_axis(i, k, s, p, d, op):
    """(kinds, sources, origin) along one axis of a transposed conv's stretched grid."""
    q, stretched = d * (k - 1) - p, (i - 1) * s + 1
    lead = max(q, 0)
    kinds, sources = [], []
    for x in range(-lead, max(stretched, stretched + q + op)):
        inside = 0 <= x < stretched and x % s == 0
        kinds.append(INPUT if inside else ZERO if 0 <= x < stretched else
                     PADDING if x < 0 or x - stretched < q else OUTPUT_PADDING)
        sources.append(x // s if inside else NO_SOURCE)
    return np.array(kinds, dtype=object), np.array(sources), max(-q, 0)


def _combine(row_kinds, col_kinds):
    """2-d kinds: per cell the first of _PRIORITY that either axis has."""
    rank = {kind: n for n, kind in enumerate(_PRIORITY)}
    ranks = np.minimum.outer(np.vectorize(rank.get)(row_kinds), np.vectorize(rank.get)(col_kinds))
    return np.array(_PRIORITY, dtype=object)[ranks]


def _formula(spec, size, out) -> list[str]:
    """The output-size formula with the numbers, one line (or one per axis if they differ)."""
    lines = []
    for i, k, s, (lo, hi), d, op, o in zip(size, spec.kernel_size, spec.stride, spec.padding,
                                          spec.dilation, spec.output_padding, out):
        pads = f"2*{lo}" if lo == hi else f"{lo} + {hi}"
        if spec.transposed:
            lines.append(f"({i} - 1)*{s} - {pads} + {d}*({k}-1) + 1 + {op} = {o}")
        else:
            lines.append(f"floor(({i} + {pads} - {d}*({k}-1) - 1)/{s}) + 1 = {o}")
    general = ("out = (in - 1)*stride - 2*padding + dilation*(kernel-1) + 1 + output_padding"
               if spec.transposed else
               "out = floor((in + padding_lo + padding_hi - dilation*(kernel-1) - 1)/stride) + 1")
    if len(set(lines)) == 1:
        return [general, f"out = {lines[0]}"]
    names = ("rows", "cols")[2 - len(lines):] if len(lines) == 2 else ("",)
    return [general] + [f"{name}: out = {line}" for name, line in zip(names, lines)]


def _notes(spec, size) -> list[str]:
    """What the grid shows beyond the input: asymmetric padding, a transposed conv's stretch."""
    if not spec.transposed:
        if spec.symmetric:
            return []
        pads = ", ".join(f"({lo}, {hi})" for lo, hi in spec.padding)
        return [f"padding (lo, hi) per axis: {pads} (the odd cell at the end, as torch)"]
    s, k, d, p = spec.stride[-1], spec.kernel_size[-1], spec.dilation[-1], spec.padding[-1][0]
    q = d * (k - 1) - p
    same = len({*zip(spec.stride, spec.kernel_size, spec.dilation, spec.padding)}) == 1
    where = "" if same else " (last axis)"
    return [f"drawn as a stride-1 conv{where}: {s - 1} zero(s) between input cells, "
            f"d*(k-1) - p = {d}*({k}-1) - {p} = {q} zero(s) around"
            + (" (negative: cropped)" if q < 0 else "")
            + (f", output_padding {_by(spec.output_padding)} at the end"
               if any(spec.output_padding) else ""), "kernel flipped (rotated 180 degrees)"]


def _as_array(value, name, shape):
    array = np.asarray(value.detach().numpy() if hasattr(value, "detach") else value,
                       dtype=np.float64)
    if array.shape != tuple(shape):
        raise ValueError(f"values: {name} must have shape {tuple(shape)} (the {name} size), got "
                         f"shape {array.shape}")
    return array


def conv_diagram(input_size, kernel_size, stride=1, padding=0, dilation=1, padding_mode="zeros",
                 transposed=False, output_padding=0, values=None) -> ConvDiagram:
    """The frame model of animate_conv / draw_conv for these arguments (see the module doc).
    values: None or (x, w), x of the input's shape and w of the kernel's."""
    n = _axes(input_size, kernel_size, stride, padding, dilation, output_padding)
    with _random_state_kept():
        layer = _layer(n, kernel_size, stride, padding, dilation, padding_mode, transposed,
                       output_padding)
    size = tuple(np.broadcast_to(np.asarray(input_size), (n,)).tolist())
    with npconv.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'same' with an even kernel: a speed note, not ours
        out = tuple(layer(npconv.zeros(1, 1, *size)).shape[2:])
    spec = layer.geometry
    if transposed:
        axes = [_transposed_axis(i, k, s, p, d, op) for i, k, s, (p, _), d, op in zip(
            size, spec.kernel_size, spec.stride, spec.padding, spec.dilation,
            spec.output_padding)]
        step = (1,) * n
    else:
        axes = [(*_conv_axis(i, lo, hi, padding_mode), 0)
                for i, (lo, hi) in zip(size, spec.padding)]
        step = spec.stride
    lift = (lambda v, fill: (fill,) * (2 - n) + tuple(v))
    if n == 1:
        axes.insert(0, (np.array([INPUT], dtype=object), np.array([0]), 0))
    (row_kinds, row_src, r0), (col_kinds, col_src, c0) = axes
    sources = np.stack(np.broadcast_arrays(row_src[:, None], col_src[None, :]), axis=-1)
    kernel_size = lift(spec.kernel_size, 1)
    kernel = grid_values = None
    if values is not None:
        x, w = values
        x = _as_array(x, "input", size).reshape(lift(size, 1))
        kernel = _as_array(w, "kernel", spec.kernel_size).reshape(kernel_size)
        kernel = kernel[::-1, ::-1] if transposed else kernel
        valid = (sources != NO_SOURCE).all(axis=-1)
        grid_values = np.where(valid, x[tuple(np.where(valid[..., None], sources, 0)
                                              .transpose(2, 0, 1))], 0.0)
    caption = (repr(layer), *_formula(spec, size, out), *_notes(spec, size))
    return ConvDiagram(layer, size, out, _combine(row_kinds, col_kinds), sources, kernel_size,
                       lift(spec.dilation, 1), (r0, c0), lift(step, 1), caption, kernel,
                       grid_values)


def random_values(input_size, kernel_size, seed=0):
    """Small integers for a readable values picture: input 0..9, kernel -1..1 (x, w)."""
    n = _axes(input_size, kernel_size)
    rng = np.random.default_rng(seed)
    shape = lambda v: tuple(np.broadcast_to(np.asarray(v), (n,)).tolist())
    return (rng.integers(0, 10, shape(input_size)).astype(float),
            rng.integers(-1, 2, shape(kernel_size)).astype(float))
