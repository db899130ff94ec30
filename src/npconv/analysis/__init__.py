"""Design tools: the arithmetic of conv and pooling layers, exact and explained.

Every number comes from npconv.kernels.geometry (the one geometry module) and every refusal
from the nn.functional checks, so the sizes are the layers' own and the errors torch's. The
model tools (check, summary, receptive_field) trace one forward pass on shapes alone
(npconv.analysis.trace).
"""
from npconv.analysis.check import CheckResult, check
from npconv.analysis.padding import PaddingSolution, same_padding, solve_padding
from npconv.analysis.shapes import (conv_output_size, conv_transpose_output_size,
                                    explain_conv, explain_pool, explain_transpose,
                                    pool_output_size)
from npconv.analysis.receptive import FieldRow, receptive_field, receptive_field_of
from npconv.analysis.summary import Summary, SummaryRow, summary

__all__ = ["conv_output_size", "conv_transpose_output_size", "pool_output_size", "explain_conv",
           "explain_pool", "explain_transpose", "solve_padding", "same_padding",
           "PaddingSolution", "receptive_field", "receptive_field_of", "FieldRow", "summary",
           "Summary", "SummaryRow", "check", "CheckResult"]
