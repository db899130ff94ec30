"""The optional picture libraries (the `[plot]` extra), imported when a picture is made so
that npconv and npconv.viz import without them."""
from __future__ import annotations

INSTALL = 'pip install "npconv[plot]"'


def pillow():
    """(Image, ImageDraw, ImageFont) of Pillow, or an ImportError saying how to install it."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as exc:
        raise ImportError(f"npconv.viz draws conv pictures with Pillow, which is not installed: "
                          f"{INSTALL}  (or: pip install Pillow)") from exc
    return Image, ImageDraw, ImageFont


def figure(figsize):
    """A matplotlib Figure on the Agg canvas: no pyplot, no GUI, no global backend switch, so
    it works headless and leaves a caller's pyplot state alone."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(f"npconv.viz plots with matplotlib, which is not installed: "
                          f"{INSTALL}  (or: pip install matplotlib)") from exc
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig
