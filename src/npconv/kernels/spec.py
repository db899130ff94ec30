"""The normalized convolution arguments that every kernel reads."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConvSpec:
    """Per-axis conv arguments, normalized once.

    padding is (top, bottom, left, right) so that 'same' with an even dilated kernel can put the
    extra row/column at the bottom/right, as torch does. padding_mode is how that padding is
    filled ('zeros', 'reflect', 'replicate', 'circular').
    """

    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    padding_mode: str = "zeros"

    def dilated_kernel(self, kh: int, kw: int) -> tuple[int, int]:
        """Extent of a dilated kernel: d*(k-1)+1 per axis."""
        return self.dilation[0] * (kh - 1) + 1, self.dilation[1] * (kw - 1) + 1

    def padded_size(self, h: int, w: int) -> tuple[int, int]:
        top, bottom, left, right = self.padding
        return h + top + bottom, w + left + right

    def output_size(self, h: int, w: int, kh: int, kw: int) -> tuple[int, int]:
        """o = floor((i + p_lo + p_hi - d*(k-1) - 1) / s) + 1, per axis."""
        ph, pw = self.padded_size(h, w)
        dkh, dkw = self.dilated_kernel(kh, kw)
        return (ph - dkh) // self.stride[0] + 1, (pw - dkw) // self.stride[1] + 1

    @property
    def zero_padding(self) -> "ConvSpec":
        """The same conv on an input that was already padded by padding_mode."""
        return ConvSpec(self.stride, (0, 0, 0, 0), self.dilation, self.groups, "zeros")
