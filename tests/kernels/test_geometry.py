"""The geometry formulas against the output shapes torch computes, over random arguments."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npconv.kernels import geometry as G

torch = pytest.importorskip("torch")
F = torch.nn.functional


@st.composite
def axis_args(draw):
    k, s, d = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    lo, hi = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    i = max(1, G.dilated_kernel(k, d) - lo - hi) + draw(st.integers(0, 7))
    return i, k, s, lo, hi, d


@settings(max_examples=150, deadline=None)
@given(axis_args())
def test_conv_output_size_matches_torch(args):
    i, k, s, lo, hi, d = args
    x = F.pad(torch.zeros(1, 1, i), (lo, hi))
    y = F.conv1d(x, torch.zeros(1, 1, k), stride=s, dilation=d)
    assert G.conv_output_size(i, k, s, lo, hi, d) == y.shape[-1]


@settings(max_examples=150, deadline=None)
@given(axis_args(), st.data())
def test_conv_transpose_output_size_matches_torch_and_inverts_conv(args, data):
    i, k, s, p, _, d = args
    op = data.draw(st.integers(0, max(s, d) - 1))
    o = G.conv_transpose_output_size(i, k, s, p, p, d, op)
    if o < 1:  # torch refuses: "Output size is too small"
        return
    y = F.conv_transpose1d(torch.zeros(1, 1, i), torch.zeros(1, 1, k), stride=s, padding=p,
                           output_padding=op, dilation=d)
    assert o == y.shape[-1]
    if op < s:  # torch also admits output_padding < dilation, past the sizes conv maps to i
        assert G.conv_output_size(o, k, s, p, p, d) == i


@settings(max_examples=200, deadline=None)
@given(axis_args(), st.booleans())
def test_pool_output_size_matches_torch(args, ceil_mode):
    i, k, s, p, _, d = args
    p = min(p, k // 2)
    if G.pool_output_size(i, k, s, p, d, ceil_mode) < 1:
        return
    y = F.max_pool1d(torch.zeros(1, 1, i), k, s, p, d, ceil_mode)
    assert G.pool_output_size(i, k, s, p, d, ceil_mode) == y.shape[-1]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 20), st.integers(1, 20))
def test_adaptive_windows_match_torch(i, o):
    x = torch.arange(i, dtype=torch.float64).reshape(1, 1, i)
    spec = G.AdaptivePoolSpec((o,))
    (windows,) = spec.windows((i,))
    expect = F.adaptive_max_pool1d(x, o)[0, 0].numpy()
    assert np.array_equal([end - 1 for _, end in windows], expect)
    assert np.array_equal([start for start, _ in windows],
                          -F.adaptive_max_pool1d(-x, o)[0, 0].numpy())


@pytest.mark.parametrize("k,d", [(1, 1), (3, 1), (4, 1), (4, 2), (5, 3), (2, 3)])
def test_same_padding_keeps_size_with_extra_at_end(k, d):
    lo, hi = G.same_padding(k, d)
    assert hi - lo in (0, 1) and G.conv_output_size(9, k, 1, lo, hi, d) == 9


def test_spec_axes_and_views():
    spec = G.ConvSpec((3, 2), (1, 2), ((1, 2), (0, 1)), (2, 1))
    assert spec.ndim == 2 and spec.output_padding == (0, 0)
    assert spec.dilated_kernel == (5, 2)
    assert spec.pad_widths == (0, 1, 1, 2)
    assert spec.output_size((7, 6)) == (G.conv_output_size(7, 3, 1, 1, 2, 2),
                                        G.conv_output_size(6, 2, 2, 0, 1, 1))
    assert spec.zero_padding.padding == ((0, 0), (0, 0)) and not spec.symmetric
    with pytest.raises(ValueError):
        G.ConvSpec((3,), (1, 1), ((0, 0),), (1,))
    assert G._pair(3) == (3, 3) and G._triple((1, 2, 3)) == (1, 2, 3) and G._single(4) == (4,)
