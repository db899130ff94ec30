"""animate_conv and draw_conv: a conv's arithmetic drawn with Pillow, one frame per output
position, from the frame model of npconv.viz.diagram.

Frames are painted in palette mode with the fixed colours below (no quantizing, exact colours
to read back), on a canvas whose size follows the grids (Layout): per panel
max(cells * CELL, its label's width), panels GAP apart, MARGIN around.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from npconv.viz.deps import pillow
from npconv.viz.diagram import (INPUT, OUTPUT_PADDING, PADDING, ZERO, ConvDiagram, conv_diagram,
                                number)

__all__ = ["animate_conv", "draw_conv", "Layout", "layout", "render_frame", "font", "COLORS",
           "CELL", "GAP", "MARGIN", "LINE"]

CELL, GAP, MARGIN, LINE, FONT_SIZE = 40, 32, 14, 16, 11
INPUT_PANEL, KERNEL_PANEL, OUTPUT_PANEL = "input", "kernel", "output"

COLORS = {
    "background": (255, 255, 255), "text": (0, 0, 0), "grid": (110, 110, 110),
    "light text": (255, 255, 255),
    INPUT: (173, 216, 230), PADDING: (205, 205, 205), ZERO: (255, 243, 200),
    OUTPUT_PADDING: (255, 205, 230),
    "tap on " + INPUT: (255, 165, 70), "tap on " + PADDING: (205, 140, 90),
    "tap on " + ZERO: (255, 200, 110), "tap on " + OUTPUT_PADDING: (240, 150, 150),
    "kernel": (255, 140, 0), "footprint": (220, 80, 0),
    "output pending": (250, 250, 250), "output done": (150, 225, 150),
    "output now": (30, 130, 30),
}
INDEX = {name: i for i, name in enumerate(COLORS)}
PALETTE = [v for rgb in COLORS.values() for v in rgb]
LEGEND = {INPUT: "input", PADDING: "padding", ZERO: "inserted zero",
          OUTPUT_PADDING: "output_padding"}
SWATCH = 11


def font():
    """The pictures' one font: Pillow's default at FONT_SIZE."""
    return pillow()[2].load_default(size=FONT_SIZE)


@dataclass(frozen=True)
class Layout:
    """Where everything goes. panels: name -> (x, y, rows, cols, label); legend_y and
    caption_y: the tops of the legend row and of the caption lines below the panels;
    frame_texts: the lines of each position's frame text, wrapped to the canvas."""

    size: tuple[int, int]
    panels: dict
    legend_y: int
    caption_y: int
    frame_texts: dict

    def cell_box(self, panel, cell) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of a cell, inclusive."""
        x, y, _, _, _ = self.panels[panel]
        r, c = cell
        return x + c * CELL, y + r * CELL, x + (c + 1) * CELL - 1, y + (r + 1) * CELL - 1

    def cell_centre(self, panel, cell) -> tuple[int, int]:
        x0, y0, x1, y1 = self.cell_box(panel, cell)
        return (x0 + x1) // 2, (y0 + y1) // 2

    def fill_point(self, panel, cell) -> tuple[int, int]:
        """A point of the cell's fill no text covers: centred, a fifth of a cell from its top."""
        x, y = self.cell_centre(panel, cell)
        return x, y - 3 * CELL // 10


def _labels(diagram: ConvDiagram) -> dict:
    rows, cols = diagram.grid_shape
    size = "x".join(map(str, diagram.input_size))
    grid = "stretched + padding" if diagram.transposed else "+ padding"
    kernel = "kernel " + "x".join(map(str, diagram.layer.kernel_size))
    footprint = [d * (k - 1) + 1 for k, d in zip(diagram.kernel_size, diagram.dilation)]
    if footprint != list(diagram.kernel_size):
        kernel += f", dilated {'x'.join(map(str, footprint[2 - diagram.ndim:]))}"
    if diagram.transposed:
        kernel += ", flipped"
    return {INPUT_PANEL: (diagram.grid_shape, f"input {size} {grid} = {rows}x{cols}"),
            KERNEL_PANEL: (diagram.kernel_size, kernel),
            OUTPUT_PANEL: (diagram.output_shape,
                           "output " + "x".join(map(str, diagram.output_size)))}


def _wrap(text, font, width) -> list[str]:
    """Lines of at most width pixels, broken at spaces (continuations indented)."""
    if font.getlength(text) <= width:
        return [text]
    lines, line = [], ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if line and font.getlength(candidate) > width:
            lines.append(line)
            candidate = "    " + word
        line = candidate
    return lines + [line]


def layout(diagram: ConvDiagram, face=None) -> Layout:
    """The canvas: width 2 MARGIN + the panels (each max(cols CELL, label width), GAP apart)
    or the widest caption or legend line if wider; height MARGIN + title LINE + label LINE +
    the tallest panel + GAP / 2 + legend LINE + a LINE per caption and frame-text line +
    MARGIN."""
    face = face or font()
    labels = _labels(diagram)
    widths = {name: max(shape[1] * CELL, int(face.getlength(label)) + 1)
              for name, (shape, label) in labels.items()}
    panels_width = sum(widths.values()) + GAP * (len(widths) - 1)
    width = max(panels_width, _legend(diagram, face)[1],
                *(int(face.getlength(t)) + 1 for t in diagram.caption)) + 2 * MARGIN
    frame_texts = {p: _wrap(diagram.frame_text(p), face, width - 2 * MARGIN)
                   for p in diagram.positions()}
    top = MARGIN + 2 * LINE
    panels, x = {}, MARGIN
    for name, (shape, label) in labels.items():
        panels[name] = (x, top, *shape, label)
        x += widths[name] + GAP
    legend_y = top + max(shape[0] for shape, _ in labels.values()) * CELL + GAP // 2
    caption_y = legend_y + LINE
    frame_lines = max(map(len, frame_texts.values()))
    height = caption_y + LINE * (len(diagram.caption) - 1 + frame_lines) + MARGIN
    return Layout((width, height), panels, legend_y, caption_y, frame_texts)


def _legend_entries(diagram):
    kinds = set(diagram.kinds.ravel())
    entries = [(kind, text) for kind, text in LEGEND.items() if kind in kinds]
    if PADDING in kinds and diagram.layer.padding_mode != "zeros":
        entries[[k for k, _ in entries].index(PADDING)] = (
            PADDING, f"padding ({diagram.layer.padding_mode}: copies input cell (row,col))")
    return entries + [("tap on " + INPUT, "kernel tap"), ("output done", "output done"),
                      ("output now", "output now")]


def _legend(diagram, font) -> tuple[list, int]:
    """([(x, colour, text), ...], total width) of the legend row: a swatch, its text, a space."""
    items, x = [], MARGIN
    for color, text in _legend_entries(diagram):
        items.append((x, color, text))
        x += SWATCH + 4 + int(font.getlength(text)) + 14
    return items, x - 14 - MARGIN


class _Painter:
    """Draws a diagram's frames: the still parts once, then per frame the kernel's window, the
    output cell it fills and the frame's text."""

    def __init__(self, diagram: ConvDiagram):
        Image, self.ImageDraw, _ = pillow()
        self.diagram, self.font = diagram, font()
        self.layout = layout(diagram, self.font)
        self.base = Image.new("P", self.layout.size, INDEX["background"])
        self.base.putpalette(PALETTE)
        self._paint_still(self.ImageDraw.Draw(self.base))

    def _cell(self, draw, panel, cell, color, text="", text_color="text"):
        draw.rectangle(self.layout.cell_box(panel, cell), fill=INDEX[color],
                       outline=INDEX["grid"])
        if text:
            draw.text(self.layout.cell_centre(panel, cell), text, fill=INDEX[text_color],
                      font=self.font, anchor="mm")

    def _outline(self, draw, panel, first, last, color, width):
        x0, y0, _, _ = self.layout.cell_box(panel, first)
        _, _, x1, y1 = self.layout.cell_box(panel, last)
        draw.rectangle((x0, y0, x1, y1), outline=INDEX[color], width=width)

    def _text(self, draw, xy, text):
        draw.text(xy, text, fill=INDEX["text"], font=self.font)

    def _paint_still(self, draw):
        d, lay = self.diagram, self.layout
        self._text(draw, (MARGIN, MARGIN), d.caption[0])
        for x, y, _, _, label in lay.panels.values():
            self._text(draw, (x, y - LINE), label)
        rows, cols = d.grid_shape
        for r in range(rows):
            for c in range(cols):
                self._cell(draw, INPUT_PANEL, (r, c), d.kinds[r, c], d.label((r, c)))
        inside = [(r, c) for r in range(rows) for c in range(cols) if d.kinds[r, c] == INPUT]
        self._outline(draw, INPUT_PANEL, min(inside), max(inside), "text", 2)
        for r in range(d.kernel_size[0]):
            for c in range(d.kernel_size[1]):
                text = "" if d.kernel is None else number(d.kernel[r, c])
                self._cell(draw, KERNEL_PANEL, (r, c), "kernel", text)
        for cell in d.positions():
            self._cell(draw, OUTPUT_PANEL, cell, "output pending")
        for x, color, text in _legend(d, self.font)[0]:
            draw.rectangle((x, lay.legend_y + 2, x + SWATCH, lay.legend_y + 2 + SWATCH),
                           fill=INDEX[color], outline=INDEX["grid"])
            self._text(draw, (x + SWATCH + 4, lay.legend_y), text)
        for n, line in enumerate(d.caption[1:]):
            self._text(draw, (MARGIN, lay.caption_y + n * LINE), line)

    def _output_text(self, position):
        d = self.diagram
        return "" if d.kernel is None else number(d.product_sum(position)[1])

    def paint(self, image, position):
        """Paint the frame of one output position onto a copy of the still parts (with the
        outputs before it done)."""
        d, lay = self.diagram, self.layout
        draw = self.ImageDraw.Draw(image)
        taps = [cell for cell, _ in d.taps(position)]
        for cell in taps:
            self._cell(draw, INPUT_PANEL, cell, "tap on " + d.kinds[cell], d.label(cell))
        self._outline(draw, INPUT_PANEL, taps[0], taps[-1], "footprint", 3)
        self._cell(draw, OUTPUT_PANEL, position, "output now", self._output_text(position),
                   "light text")
        y = lay.caption_y + (len(d.caption) - 1) * LINE
        for n, line in enumerate(lay.frame_texts[position]):
            self._text(draw, (MARGIN, y + n * LINE), line)
        return image

    def mark_done(self, image, position):
        self._cell(self.ImageDraw.Draw(image), OUTPUT_PANEL, position, "output done",
                   self._output_text(position))

    def frames(self):
        """One image per output position, row-major."""
        done = self.base.copy()
        for position in self.diagram.positions():
            yield self.paint(done.copy(), position)
            self.mark_done(done, position)

    def frame(self, position):
        """The frame of one position alone: the outputs before it done."""
        done = self.base.copy()
        for earlier in self.diagram.positions():
            if earlier == position:
                return self.paint(done, position)
            self.mark_done(done, earlier)


def render_frame(diagram: ConvDiagram, position):
    """The Pillow image of one output position of a diagram (a drawn (row, col))."""
    return _Painter(diagram).frame(tuple(position))


def animate_conv(input_size, kernel_size, stride=1, padding=0, dilation=1,
                 padding_mode="zeros", transposed=False, output_padding=0, path="conv.gif",
                 values=None, fps=2):
    """An animated GIF of a conv (or transposed conv, transposed=True) with these arguments,
    as nn.Conv2d / nn.Conv1d / nn.ConvTranspose*d take them: one frame per output position,
    row-major, fps frames a second, looping. values=(x, w) shows the numbers and each
    product-sum. Impossible settings raise what the layer raises. Returns path."""
    if not fps > 0:
        raise ValueError(f"fps must be a positive number of frames per second, got {fps!r}")
    diagram = conv_diagram(input_size, kernel_size, stride, padding, dilation, padding_mode,
                           transposed, output_padding, values)
    first, *rest = _Painter(diagram).frames()
    first.save(os.fspath(path), save_all=True, append_images=rest, duration=round(1000 / fps),
               loop=0)
    return path


def draw_conv(input_size, kernel_size, stride=1, padding=0, dilation=1, padding_mode="zeros",
              transposed=False, output_padding=0, position=(0, 0), path="conv.png",
              values=None):
    """A PNG of animate_conv's frame for one output position (a pair, or an int for a 1-d
    conv; IndexError outside the output). Returns path."""
    diagram = conv_diagram(input_size, kernel_size, stride, padding, dilation, padding_mode,
                           transposed, output_padding, values)
    render_frame(diagram, diagram.position(position)).save(os.fspath(path))
    return path
