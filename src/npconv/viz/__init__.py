"""Pictures: convolution arithmetic for any arguments (animate_conv, draw_conv), filters,
feature maps, receptive fields, and the training job's curves.

Drawing needs the optional `[plot]` extra (Pillow for the conv pictures, matplotlib for the
plots): ``pip install "npconv[plot]"``. This package imports without them; a picture made
without them raises an ImportError saying so.
"""
from npconv.viz.conv import animate_conv, draw_conv
from npconv.viz.diagram import ConvDiagram, conv_diagram, random_values
from npconv.viz.figures import (feature_maps, filter_mosaic, plot_curves, plot_feature_maps,
                                plot_filters)

__all__ = ["animate_conv", "draw_conv", "conv_diagram", "ConvDiagram", "random_values",
           "plot_filters", "filter_mosaic", "plot_feature_maps", "feature_maps", "plot_curves"]
