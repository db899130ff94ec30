"""Winograd F(4x4, 3x3) (kernels/conv_winograd.py): its domain, forward and backward against torch
over random 3x3 stride-1 configurations (asymmetric padding up to 2, groups, odd sizes that leave
partial tiles), against finite differences in float64, and its float32 rounding error against
float64 bounded at sizes that matter."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npconv.kernels import conv, conv_im2col, conv_winograd
from npconv.kernels.geometry import ConvSpec

torch = pytest.importorskip("torch")
F = torch.nn.functional


@st.composite
def winograd_cases(draw, dtypes=("float32", "float64")):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    size = tuple(max(1, 3 - lo - hi) + draw(st.integers(0, 10)) for lo, hi in padding)
    return dict(n=draw(st.integers(1, 3)), c=groups * draw(st.integers(1, 4)),
                o=groups * draw(st.integers(1, 4)), size=size, dtype=draw(st.sampled_from(dtypes)),
                spec=ConvSpec((3, 3), (1, 1), padding, (1, 1), groups))


def arrays(case, seed=0):
    rng = np.random.default_rng(seed)
    spec = case["spec"]
    x = rng.standard_normal((case["n"], case["c"], *case["size"])).astype(case["dtype"])
    w = rng.standard_normal((case["o"], case["c"] // spec.groups, 3, 3)).astype(case["dtype"])
    gy = rng.standard_normal((case["n"], case["o"], *spec.conv_output_size(case["size"])))
    return x, w, gy.astype(case["dtype"])


def torch_reference(x, w, gy, spec):
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    y = F.conv2d(F.pad(tx, spec.pad_widths), tw, groups=spec.groups)
    gx, gw = torch.autograd.grad(y, (tx, tw), torch.tensor(gy))
    return y.detach().numpy(), gx.numpy(), gw.numpy()


@settings(max_examples=150)
@given(case=winograd_cases())
def test_matches_torch(case, close, count_config):
    count_config("conv kernels 2-d (winograd)")
    x, w, gy = arrays(case)
    spec = case["spec"]
    ty, tgx, tgw = torch_reference(x, w, gy, spec)
    ours = (conv_winograd.forward(x, w, spec), conv_winograd.backward_data(gy, w, spec, x.shape),
            conv_winograd.backward_weight(gy, x, spec, w.shape))
    for name, got, ref in zip(("forward", "backward_data", "backward_weight"), ours,
                              (ty, tgx, tgw)):
        assert got.dtype == x.dtype, name
        close(got, ref, case["dtype"], f"winograd {name}", family="winograd")


@settings(max_examples=10)
@given(case=winograd_cases(dtypes=("float16",)))
def test_float16_computed_in_float32(case, close):
    x, w, gy = arrays(case)
    ty, tgx, _ = torch_reference(x, w, gy, case["spec"])
    close(conv_winograd.forward(x, w, case["spec"]), ty, "float16", "winograd forward")
    close(conv_winograd.backward_data(gy, w, case["spec"], x.shape), tgx, "float16",
          "winograd backward_data")


@settings(max_examples=8)
@given(case=winograd_cases(dtypes=("float64",)))
def test_backward_matches_finite_differences(case, numeric_gradient):
    case = {**case, "n": min(case["n"], 2)}
    x, w, gy = arrays(case, seed=1)
    spec = case["spec"]
    gx = conv_winograd.backward_data(gy, w, spec, x.shape)
    np.testing.assert_allclose(
        gx, numeric_gradient(lambda: float(np.sum(gy * conv_winograd.forward(x, w, spec))), x),
        rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("n, c, o, size", [(8, 64, 64, 28), (4, 256, 256, 14), (1, 512, 512, 7)])
def test_float32_error_against_float64_stays_within_the_differential_tolerance(n, c, o, size):
    """Many-channel layers, where Winograd is meant to be used: the worst error relative to the
    largest output stays below the 2e-5 of the differential tests (conftest.assert_close), and
    within 25x im2col's."""
    rng = np.random.default_rng(0)
    spec = ConvSpec((3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    x = rng.standard_normal((n, c, size, size), dtype=np.float32)
    w = rng.standard_normal((o, c, 3, 3), dtype=np.float32) / np.sqrt(9 * c)
    exact = conv_im2col.forward(x.astype(np.float64), w.astype(np.float64), spec)
    scale = np.abs(exact).max()
    wino = np.abs(conv_winograd.forward(x, w, spec) - exact).max() / scale
    im2col = np.abs(conv_im2col.forward(x, w, spec) - exact).max() / scale
    assert wino < 2e-5 and wino < 25 * im2col, (wino, im2col)


@pytest.mark.parametrize("spec, supported", [
    (ConvSpec((3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1), True),
    (ConvSpec((3, 3), (1, 1), ((0, 2), (2, 0)), (1, 1), 4), True),
    (ConvSpec((3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), 1), False),
    (ConvSpec((3, 3), (1, 1), ((1, 1), (1, 1)), (2, 2), 1), False),
    (ConvSpec((3, 3), (1, 1), ((3, 1), (1, 1)), (1, 1), 1), False),
    (ConvSpec((3, 5), (1, 1), ((1, 1), (1, 1)), (1, 1), 1), False),
    (ConvSpec((3, 3, 3), (1, 1, 1), ((1, 1),) * 3, (1, 1, 1), 1), False),
])
def test_supports_only_3x3_stride_1(spec, supported):
    assert conv_winograd.supports(spec) is supported
    if not supported:
        with pytest.raises(ValueError, match="'winograd' does not support"):
            conv.algorithm("winograd", spec)


def test_integer_inputs_are_exact_through_im2col():
    spec = ConvSpec((3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    rng = np.random.default_rng(0)
    x, w = rng.integers(-5, 5, (2, 3, 6, 6)), rng.integers(-5, 5, (4, 3, 3, 3))
    np.testing.assert_array_equal(conv_winograd.forward(x, w, spec),
                                  conv_im2col.forward(x, w, spec))


def test_tiles_of_a_chunked_batch(monkeypatch, close):
    """A budget below one item's tiles: one item per chunk, same numbers."""
    monkeypatch.setattr(conv_winograd, "TILE_BUDGET", 1)
    case = dict(n=3, c=4, o=5, size=(9, 6), dtype="float64",
                spec=ConvSpec((3, 3), (1, 1), ((1, 2), (0, 1)), (1, 1), 1))
    x, w, gy = arrays(case)
    ty, tgx, _ = torch_reference(x, w, gy, case["spec"])
    close(conv_winograd.forward(x, w, case["spec"]), ty, "float64", "chunked forward")
    close(conv_winograd.backward_data(gy, w, case["spec"], x.shape), tgx, "float64",
          "chunked backward_data")
