"""Design tools: the arithmetic of conv and pooling layers, exact and explained.

Every number comes from npconv.kernels.geometry (the one geometry module) and every refusal
from the nn.functional checks, so the sizes are the layers' own and the errors torch's.
"""
from npconv.analysis.padding import PaddingSolution, same_padding, solve_padding
from npconv.analysis.shapes import (conv_output_size, conv_transpose_output_size,
                                    explain_conv, explain_pool, explain_transpose,
                                    pool_output_size)

__all__ = ["conv_output_size", "conv_transpose_output_size", "pool_output_size", "explain_conv",
           "explain_pool", "explain_transpose", "solve_padding", "same_padding",
           "PaddingSolution"]
