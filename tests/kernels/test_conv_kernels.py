"""The conv2d algorithms on arrays (every entry of conv2d.ALGORITHMS): forward, backward_data and
backward_weight against torch (F.pad for the asymmetric padding, then F.conv2d and
autograd.grad) over random configurations, and against central finite differences without
torch; and which algorithm conv2d.choose picks."""
import contextlib
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from npconv.autograd.conv_ops import Conv2d
from npconv.kernels import _common, conv2d, conv2d_direct, conv2d_im2col
from npconv.kernels.spec import ConvSpec
from npconv.tensor import Tensor

torch = pytest.importorskip("torch")
torch.set_num_threads(2)

# the close/count_config fixtures are pure functions, safe to share across examples
FIXTURES = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ALGORITHMS = pytest.mark.parametrize("algo", list(conv2d.ALGORITHMS.values()),
                                     ids=list(conv2d.ALGORITHMS))
# the module attribute that bounds each algorithm's batch chunks or tiles, in bytes
BUDGETS = {conv2d_im2col: "COL_BUDGET", conv2d_direct: "TILE_BUDGET"}


@st.composite
def conv_cases(draw, depthwise=False, dtypes=("float32", "float64")):
    """A valid configuration: unequal per-axis kernel/stride/dilation, asymmetric padding, and
    sizes that often leave rows no window reaches ((H + pads - dk) % stride != 0)."""
    groups = draw(st.integers(1, 6)) if depthwise else draw(st.sampled_from([1, 1, 2, 3]))
    cg = 1 if depthwise else draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, 3)) for _ in range(4))
    sizes = []
    for axis in range(2):
        dk = dilation[axis] * (kernel[axis] - 1) + 1
        low = max(1, dk - padding[2 * axis] - padding[2 * axis + 1])
        sizes.append(low + draw(st.integers(0, 6)))
    return dict(
        n=draw(st.integers(1, 3)), c=groups * cg, o=groups * draw(st.integers(1, 3)),
        groups=groups, kernel=kernel, hw=tuple(sizes), dtype=draw(st.sampled_from(dtypes)),
        spec=ConvSpec(stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                      padding=padding, dilation=dilation, groups=groups))


def make_arrays(case, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case["n"], case["c"], *case["hw"])).astype(case["dtype"])
    w_shape = (case["o"], case["c"] // case["groups"], *case["kernel"])
    w = rng.standard_normal(w_shape).astype(case["dtype"])
    oh, ow = case["spec"].output_size(*case["hw"], *case["kernel"])
    gy = rng.standard_normal((case["n"], case["o"], oh, ow)).astype(case["dtype"])
    return x, w, gy


def torch_reference(x, w, gy, spec):
    """(y, gx, gw) from torch: F.pad with (left, right, top, bottom), then conv2d."""
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    top, bottom, left, right = spec.padding
    y = torch.nn.functional.conv2d(torch.nn.functional.pad(tx, (left, right, top, bottom)), tw,
                                   stride=spec.stride, dilation=spec.dilation, groups=spec.groups)
    gx, gw = torch.autograd.grad(y, (tx, tw), torch.tensor(gy))
    return y.detach().numpy(), gx.numpy(), gw.numpy()


def check_against_torch(case, close, algo):
    x, w, gy = make_arrays(case)
    spec, dtype = case["spec"], case["dtype"]
    ty, tgx, tgw = torch_reference(x, w, gy, spec)
    y = algo.forward(x, w, spec)
    gx = algo.backward_data(gy, w, spec, x.shape)
    gw = algo.backward_weight(gy, x, spec, w.shape)
    for name, ours, ref in (("forward", y, ty), ("backward_data", gx, tgx),
                            ("backward_weight", gw, tgw)):
        assert ours.dtype == np.dtype(dtype), name
        close(ours, ref, dtype, name)


@contextlib.contextmanager
def budget(algo, nbytes):
    """Force small batch chunks or tiles (one item, one group when nbytes is tiny) to test the
    chunk loops."""
    name = BUDGETS[algo]
    old = getattr(algo, name)
    setattr(algo, name, nbytes)
    try:
        yield
    finally:
        setattr(algo, name, old)


@ALGORITHMS
# rows past the last window (stride 3 over 7 + 1 padded rows), and the flat stride-1 col2im
@example(case=dict(n=2, c=2, o=3, groups=1, kernel=(3, 2), hw=(7, 5), dtype="float64",
              spec=ConvSpec((3, 2), (1, 0, 2, 1), (1, 2), 1)))
@example(case=dict(n=2, c=4, o=2, groups=2, kernel=(3, 3), hw=(6, 6), dtype="float32",
              spec=ConvSpec((1, 1), (1, 1, 0, 2), (2, 1), 2)))
@settings(max_examples=150, **FIXTURES)
@given(case=conv_cases())
def test_matches_torch(algo, case, close, count_config):
    count_config("conv kernels")
    check_against_torch(case, close, algo)


@ALGORITHMS
@example(case=dict(n=2, c=3, o=3, groups=3, kernel=(3, 3), hw=(14, 14), dtype="float32",
              spec=ConvSpec((1, 1), (1, 1, 1, 1), (1, 1), 3)))
@settings(max_examples=300, **FIXTURES)
@given(case=conv_cases(depthwise=True))
def test_depthwise_matches_torch(algo, case, close, count_config):
    """Depthwise convs (C/g = 1, O/g from 1 to 3), direct's domain."""
    count_config("conv kernels")
    check_against_torch(case, close, algo)


@ALGORITHMS
@settings(max_examples=30, **FIXTURES)
@given(case=conv_cases(), nbytes=st.integers(1, 4000), n=st.integers(3, 5))
def test_chunked_batch_matches_torch(algo, case, nbytes, n, close, count_config):
    """Chunks (or tiles) of one item up to a few, with a shorter last chunk."""
    count_config("conv kernels")
    with budget(algo, nbytes):
        check_against_torch({**case, "n": n}, close, algo)


@settings(max_examples=60, **FIXTURES)
@given(case=conv_cases(), band=st.integers(1, 3), pad_rows=st.integers(0, 8))
def test_im2col_row_bands_match_torch(case, band, pad_rows, close, count_config):
    """A budget below one item's columns cuts each item into bands of 1..3 output rows (taller
    images so that there are several), overlapping in the input wherever the dilated kernel is
    taller than the stride."""
    count_config("conv kernels")
    h = case["hw"][0] + pad_rows
    case = {**case, "hw": (h, case["hw"][1])}
    x, _, _ = make_arrays(case)
    oh, ow = case["spec"].output_size(*case["hw"], *case["kernel"])
    k = x.shape[1] * int(np.prod(case["kernel"]))
    nbytes = band * (k + case["o"]) * ow * x.itemsize
    with budget(conv2d_im2col, nbytes):
        tiled_band = conv2d_im2col._tiles(case["n"], oh, k, case["o"], ow, x.dtype)[1]
        assert tiled_band <= band or oh * k * ow * x.itemsize <= nbytes
        check_against_torch(case, close, conv2d_im2col)


@pytest.mark.parametrize("n, rows, per_row, nbytes, split", [
    (2, 10, 100, 350, None), (3, 10, 100, 5000, None), (1, 5, 100, 1, None),
    (1, 1, 100, 1, None), (2, 7, 0, 1, None), (2, 10, 100, 500, 40), (2, 10, 100, 350, 40)])
def test_tiles_cover_every_row_once(n, rows, per_row, nbytes, split):
    """Whole items while one's split bytes fit (then one per chunk here if it is over budget),
    else bands of nearly equal height within the budget."""
    step, band, parts = _common.tiles(n, rows, per_row, nbytes, split)
    covered = np.zeros((n, rows), int)
    for items, rs in parts:
        assert items.stop - items.start <= step and 1 <= rs.stop - rs.start <= band
        covered[items, rs] += 1
    assert (covered == 1).all()
    if rows * (per_row if split is None else split) > nbytes:
        assert step == 1 and band * per_row <= max(nbytes, per_row)
        heights = {rs.stop - rs.start for _, rs in parts}
        assert max(heights) - min(heights) <= 1
    else:
        assert band == rows


def test_large_item_columns_stay_near_budget():
    """1x16x256x256 -> 16, 3x3: one item's columns are 144 x 65536 floats (36 MB), so the rows
    are banded; the peak of temporary allocations (beyond y) stays within a few budgets."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 16, 256, 256), dtype=np.float32)
    w = rng.standard_normal((16, 16, 3, 3), dtype=np.float32)
    spec = ConvSpec(padding=(1, 1, 1, 1))
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        y = conv2d_im2col.forward(x, w, spec)
        peak = tracemalloc.get_traced_memory()[1] - start - y.nbytes
    finally:
        tracemalloc.stop()
    assert peak < 4 * conv2d_im2col.COL_BUDGET, peak
    ty = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    np.testing.assert_allclose(y, ty, rtol=1e-4, atol=1e-3)


@ALGORITHMS
@settings(max_examples=15, **FIXTURES)
@given(case=conv_cases(dtypes=("float16",)))
def test_float16_computed_in_float32(algo, case, close, count_config):
    count_config("conv kernels")
    check_against_torch(case, close, algo)


@ALGORITHMS
def test_integer_dtypes_are_exact(algo):
    """Integer arrays compute in their own dtype: the float64 results, exactly."""
    case = dict(n=2, c=4, o=4, groups=4, kernel=(3, 2), hw=(7, 6), dtype="float64",
                spec=ConvSpec((2, 1), (1, 0, 2, 1), (1, 2), 4))
    x, w, gy = (np.rint(4 * a) for a in make_arrays(case))
    spec = case["spec"]
    for name, args in (("forward", (x, w, spec)), ("backward_data", (gy, w, spec, x.shape)),
                       ("backward_weight", (gy, x, spec, w.shape))):
        as_int = [a.astype(np.int64) if isinstance(a, np.ndarray) else a for a in args]
        ours = getattr(algo, name)(*as_int)
        assert ours.dtype == np.int64, name
        np.testing.assert_array_equal(ours, getattr(algo, name)(*args), err_msg=name)


@pytest.mark.parametrize("spec", [ConvSpec(), ConvSpec(groups=2)])
def test_pointwise_is_a_plain_matmul(spec, close):
    """1x1, stride 1, no padding skips im2col; same numbers as torch."""
    case = dict(n=3, c=4, o=6, groups=spec.groups, kernel=(1, 1), hw=(5, 7), dtype="float64",
                spec=spec)
    check_against_torch(case, close, conv2d_im2col)


@ALGORITHMS
@settings(max_examples=15, deadline=None)
@given(case=conv_cases(dtypes=("float64",)))
def test_backward_matches_finite_differences(algo, case, numeric_gradient):
    """L = sum(gy * conv(x, w)): dL/dx and dL/dw by finite differences, without torch."""
    case = {**case, "n": min(case["n"], 2)}
    x, w, gy = make_arrays(case, seed=1)
    spec = case["spec"]

    def loss():
        return float(np.sum(gy * algo.forward(x, w, spec)))

    gx = algo.backward_data(gy, w, spec, x.shape)
    gw = algo.backward_weight(gy, x, spec, w.shape)
    np.testing.assert_allclose(gx, numeric_gradient(loss, x), rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(gw, numeric_gradient(loss, w), rtol=1e-7, atol=1e-7)


def test_chunk_buffer_stays_under_budget():
    """The 8x3x224x224 -> 64 case from the brief: one item per chunk, so the column buffer is
    one item's 27 x 224*224 floats, well under the budget."""
    step, chunks = _common.chunks(8, (27 + 64) * 224 * 224 * 4, conv2d_im2col.COL_BUDGET)
    assert step == 1 and len(chunks) == 8
    assert 27 * 224 * 224 * 4 < 64 * 2**20


def test_registry():
    assert conv2d.algorithm() is conv2d_im2col
    assert conv2d.algorithm("im2col") is conv2d_im2col
    assert conv2d.algorithm("direct") is conv2d_direct
    with pytest.raises(KeyError, match="unknown conv2d algorithm"):
        conv2d.algorithm("fft")


@pytest.mark.parametrize("spec, x_shape, w_shape, expected", [
    (ConvSpec(padding=(1, 1, 1, 1), groups=64), (64, 64, 14, 14), (64, 1, 3, 3), conv2d_direct),
    (ConvSpec(stride=(2, 2), groups=32), (8, 32, 56, 56), (32, 1, 3, 3), conv2d_direct),
    (ConvSpec(padding=(1, 1, 1, 1)), (64, 32, 14, 14), (64, 32, 3, 3), conv2d_im2col),
    (ConvSpec(padding=(1, 1, 1, 1)), (64, 1, 28, 28), (32, 1, 3, 3), conv2d_im2col),
    (ConvSpec(groups=4), (8, 32, 14, 14), (64, 8, 3, 3), conv2d_im2col),
    (ConvSpec(groups=64), (8, 64, 14, 14), (128, 1, 3, 3), conv2d_im2col),
], ids=["depthwise", "depthwise-stride-2", "regular", "one-input-channel", "grouped",
        "depthwise-multiplier-2"])
def test_choose(spec, x_shape, w_shape, expected):
    """direct for depthwise only (C/g = O/g = 1, g > 1); im2col for the rest, including a
    channel multiplier O/g > 1, where im2col measured faster."""
    assert conv2d.choose(spec, x_shape, w_shape) is expected


@pytest.mark.parametrize("algo, expected", [(None, conv2d_direct), ("im2col", conv2d_im2col)])
def test_conv_op_uses_choose_unless_told(algo, expected):
    """The autograd op picks the algorithm with choose; algo= forces one (same numbers)."""
    x = Tensor(np.random.default_rng(0).standard_normal((2, 4, 5, 5)), requires_grad=True)
    w = Tensor(np.ones((4, 1, 3, 3)), requires_grad=True)
    spec = ConvSpec(padding=(1, 1, 1, 1), groups=4)
    y = Conv2d.apply(x, w, None, spec=spec, algo=algo)
    assert y.grad_fn.algo is expected
    box = np.pad(x.data_array, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected_y = sum(box[:, :, i : i + 5, j : j + 5] for i in range(3) for j in range(3))
    np.testing.assert_allclose(y.data_array, expected_y, rtol=1e-12)
