"""The conv algorithms on arrays (every entry of conv.ALGORITHMS, on every number of spatial axes it
supports): forward, backward_data and backward_weight against torch (F.pad for the asymmetric
padding, then F.conv1d/2d/3d and autograd.grad) over random configurations, and against central
finite differences without torch; im2col/col2im against F.unfold/F.fold; which algorithm
conv.choose picks, and that no algorithm runs a spec it does not support."""
import contextlib
import dataclasses
import tracemalloc

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from npconv.autograd.conv_ops import Convolution
from npconv.kernels import (_common, conv, conv_dilated, conv_direct, conv_im2col, conv_shifted,
                            conv_winograd)
from npconv.kernels.geometry import ConvSpec
from npconv.tensor import Tensor

torch = pytest.importorskip("torch")
F = torch.nn.functional

# the module attribute that bounds each algorithm's batch chunks or tiles, in bytes
BUDGETS = {conv_im2col: "COL_BUDGET", conv_direct: "TILE_BUDGET", conv_shifted: "BUDGET"}


def spec_of(kernel, stride=None, padding=None, dilation=None, groups=1):
    """A ConvSpec with defaults (stride 1, no padding, dilation 1) per axis."""
    nd = len(kernel)
    return ConvSpec(tuple(kernel), stride or (1,) * nd, padding or ((0, 0),) * nd,
                    dilation or (1,) * nd, groups)


# (algorithm, ndim) for every number of spatial axes each general algorithm supports (the ones
# for every stride; the specialised ones, stride 1 or 3x3 only, have their own tests below)
PAIRS = [(algo, nd) for algo in conv.ALGORITHMS.values() for nd in (1, 2, 3)
         if algo.supports(spec_of((1,) * nd, stride=(2,) * nd))]
ALGO_NDIM = pytest.mark.parametrize(
    "algo, nd", PAIRS, ids=[f"{a.__name__.rsplit('_', 1)[-1]}-{nd}d" for a, nd in PAIRS])


@st.composite
def conv_cases(draw, nd, depthwise=False, dtypes=("float32", "float64")):
    """A valid configuration: unequal per-axis kernel/stride/dilation, asymmetric padding, and
    sizes that often leave cells no window reaches ((S + pads - dk) % stride != 0). 3-d cases
    draw smaller kernels and sizes."""
    groups = draw(st.integers(1, 6)) if depthwise else draw(st.sampled_from([1, 1, 2, 3]))
    cg = 1 if depthwise else draw(st.integers(1, 3))
    kmax, extra = (3, 3) if nd == 3 else (4, 6)
    kernel = tuple(draw(st.integers(1, kmax)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    padding = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(nd))
    sizes = []
    for k, d, (lo, hi) in zip(kernel, dilation, padding):
        sizes.append(max(1, d * (k - 1) + 1 - lo - hi) + draw(st.integers(0, extra)))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    return dict(
        n=draw(st.integers(1, 3)), c=groups * cg, o=groups * draw(st.integers(1, 3)),
        groups=groups, size=tuple(sizes), dtype=draw(st.sampled_from(dtypes)),
        spec=ConvSpec(kernel, stride, padding, dilation, groups))


def make_arrays(case, seed=0):
    rng = np.random.default_rng(seed)
    spec = case["spec"]
    x = rng.standard_normal((case["n"], case["c"], *case["size"])).astype(case["dtype"])
    w_shape = (case["o"], case["c"] // case["groups"], *spec.kernel_size)
    w = rng.standard_normal(w_shape).astype(case["dtype"])
    out = spec.conv_output_size(case["size"])
    gy = rng.standard_normal((case["n"], case["o"], *out)).astype(case["dtype"])
    return x, w, gy


def torch_conv(spec):
    return getattr(F, f"conv{spec.ndim}d")


def torch_reference(x, w, gy, spec):
    """(y, gx, gw) from torch: F.pad with the spec's F.pad-order widths, then conv1d/2d/3d."""
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    y = torch_conv(spec)(F.pad(tx, spec.pad_widths), tw, stride=spec.stride,
                         dilation=spec.dilation, groups=spec.groups)
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
        close(ours, ref, dtype, f"{spec.ndim}-d {name}")


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


@pytest.mark.parametrize("case", [
    # rows past the last window (stride 3 over 7 + 1 padded rows), and the flat stride-1 col2im
    dict(n=2, c=2, o=3, groups=1, size=(7, 5), dtype="float64",
         spec=ConvSpec((3, 2), (3, 2), ((1, 0), (2, 1)), (1, 2), 1)),
    dict(n=2, c=4, o=2, groups=2, size=(6, 6), dtype="float32",
         spec=ConvSpec((3, 3), (1, 1), ((1, 1), (0, 2)), (2, 1), 2)),
    dict(n=2, c=4, o=2, groups=2, size=(6, 5, 7), dtype="float64",
         spec=ConvSpec((3, 2, 2), (1, 1, 1), ((1, 1), (0, 2), (1, 0)), (2, 1, 3), 2)),
    dict(n=2, c=3, o=6, groups=3, size=(9,), dtype="float64",
         spec=ConvSpec((3,), (2,), ((2, 1),), (2,), 3)),
], ids=["2d-strided", "2d-flat", "3d-flat", "1d"])
@pytest.mark.parametrize("algo", conv.ALGORITHMS.values(), ids=conv.ALGORITHMS.keys())
def test_examples_match_torch(algo, case, close):
    if algo.supports(case["spec"]):
        check_against_torch(case, close, algo)


@ALGO_NDIM
@settings(max_examples=120)
@given(data=st.data())
def test_matches_torch(algo, nd, data, close, count_config):
    case = data.draw(conv_cases(nd))
    count_config(f"conv kernels {nd}-d")
    check_against_torch(case, close, algo)


@ALGO_NDIM
@settings(max_examples=120)
@given(data=st.data())
def test_depthwise_matches_torch(algo, nd, data, close, count_config):
    """Depthwise convs (C/g = 1, O/g from 1 to 3), direct's domain."""
    case = data.draw(conv_cases(nd, depthwise=True))
    count_config(f"conv kernels {nd}-d")
    check_against_torch(case, close, algo)


@ALGO_NDIM
@settings(max_examples=20)
@given(data=st.data(), nbytes=st.integers(1, 4000), n=st.integers(3, 5))
def test_chunked_batch_matches_torch(algo, nd, data, nbytes, n, close, count_config):
    """Chunks (or tiles) of one item up to a few, with a shorter last chunk."""
    case = data.draw(conv_cases(nd))
    count_config(f"conv kernels {nd}-d")
    with budget(algo, nbytes):
        check_against_torch({**case, "n": n}, close, algo)


@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=40)
@given(data=st.data(), band=st.integers(1, 3), pad_rows=st.integers(0, 8))
def test_im2col_row_bands_match_torch(nd, data, band, pad_rows, close, count_config):
    """A budget below one item's columns cuts each item into bands of 1..3 output rows of the
    first spatial axis (taller inputs so that there are several), overlapping in the input
    wherever the dilated kernel is taller than the stride."""
    case = data.draw(conv_cases(nd))
    count_config(f"conv kernels {nd}-d")
    case = {**case, "size": (case["size"][0] + pad_rows, *case["size"][1:])}
    x, _, _ = make_arrays(case)
    out = case["spec"].conv_output_size(case["size"])
    k = x.shape[1] * int(np.prod(case["spec"].kernel_size))
    rest = int(np.prod(out[1:]))
    nbytes = band * (k + case["o"]) * rest * x.itemsize
    with budget(conv_im2col, nbytes):
        tiled_band = conv_im2col._tiles(case["n"], out[0], k, case["o"], rest, x.dtype)[1]
        assert tiled_band <= band or out[0] * k * rest * x.itemsize <= nbytes
        check_against_torch(case, close, conv_im2col)


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
    spec = spec_of((3, 3), padding=((1, 1), (1, 1)))
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        y = conv_im2col.forward(x, w, spec)
        peak = tracemalloc.get_traced_memory()[1] - start - y.nbytes
    finally:
        tracemalloc.stop()
    assert peak < 4 * conv_im2col.COL_BUDGET, peak
    ty = F.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    np.testing.assert_allclose(y, ty, rtol=1e-4, atol=1e-3)


@ALGO_NDIM
@settings(max_examples=10)
@given(data=st.data())
def test_float16_computed_in_float32(algo, nd, data, close, count_config):
    case = data.draw(conv_cases(nd, dtypes=("float16",)))
    count_config(f"conv kernels {nd}-d")
    check_against_torch(case, close, algo)


@pytest.mark.parametrize("spec", [
    ConvSpec((3,), (2,), ((1, 0),), (2,), 4),
    ConvSpec((3, 2), (2, 1), ((1, 0), (2, 1)), (1, 2), 4),
    ConvSpec((2, 1, 2), (1, 2, 1), ((1, 0), (0, 1), (1, 1)), (1, 1, 2), 4)], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("algo", conv.ALGORITHMS.values(), ids=conv.ALGORITHMS.keys())
def test_integer_dtypes_are_exact(algo, spec):
    """Integer arrays compute in their own dtype: the float64 results, exactly."""
    if not algo.supports(spec):
        return
    case = dict(n=2, c=4, o=4, groups=4, size=(7, 6, 5)[: spec.ndim], dtype="float64",
                spec=spec)
    x, w, gy = (np.rint(4 * a) for a in make_arrays(case))
    for name, args in (("forward", (x, w, spec)), ("backward_data", (gy, w, spec, x.shape)),
                       ("backward_weight", (gy, x, spec, w.shape))):
        as_int = [a.astype(np.int64) if isinstance(a, np.ndarray) else a for a in args]
        ours = getattr(algo, name)(*as_int)
        assert ours.dtype == np.int64, name
        np.testing.assert_array_equal(ours, getattr(algo, name)(*args), err_msg=name)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("groups", [1, 2])
def test_pointwise_is_a_plain_matmul(nd, groups, close):
    """1x..x1, stride 1, no padding skips im2col; same numbers as torch."""
    case = dict(n=3, c=4, o=6, groups=groups, size=(5, 7, 3)[:nd], dtype="float64",
                spec=spec_of((1,) * nd, groups=groups))
    check_against_torch(case, close, conv_im2col)


@ALGO_NDIM
@settings(max_examples=8)
@given(data=st.data())
def test_backward_matches_finite_differences(algo, nd, data, numeric_gradient):
    """L = sum(gy * conv(x, w)): dL/dx and dL/dw by finite differences, without torch."""
    case = data.draw(conv_cases(nd, dtypes=("float64",)))
    case = {**case, "n": min(case["n"], 2)}
    x, w, gy = make_arrays(case, seed=1)
    spec = case["spec"]

    def loss():
        return float(np.sum(gy * algo.forward(x, w, spec)))

    gx = algo.backward_data(gy, w, spec, x.shape)
    gw = algo.backward_weight(gy, x, spec, w.shape)
    np.testing.assert_allclose(gx, numeric_gradient(loss, x), rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(gw, numeric_gradient(loss, w), rtol=1e-7, atol=1e-7)


@settings(max_examples=40)
@given(case=conv_cases(2, dtypes=("float64",)))
def test_im2col_and_col2im_are_torch_unfold_and_fold(case, close, count_config):
    """The public im2col/col2im are F.unfold/F.fold (2-d, where torch has them), zero padded."""
    count_config("conv kernels 2-d")
    spec = case["spec"]
    padded = ConvSpec(spec.kernel_size, spec.stride, tuple((lo, lo) for lo, _ in spec.padding),
                      spec.dilation)
    x = make_arrays(case)[0]
    args = dict(kernel_size=spec.kernel_size, dilation=spec.dilation,
                padding=[lo for lo, _ in padded.padding], stride=spec.stride)
    cols = conv_im2col.im2col(x, padded)
    ref = F.unfold(torch.tensor(x), **args)
    close(cols, ref.numpy(), "float64", "im2col")
    probe = np.random.default_rng(2).standard_normal(cols.shape)
    back = conv_im2col.col2im(probe, padded, x.shape)
    close(back, F.fold(torch.tensor(probe), x.shape[2:], **args).numpy(), "float64", "col2im")


@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=15)
@given(data=st.data())
def test_im2col_columns_give_the_conv_and_col2im_is_their_adjoint(nd, data, close):
    """Any ndim (torch's unfold is 2-d only): W @ im2col(x) is the conv (one group), and
    <im2col(x), c> = <x, col2im(c)> with asymmetric padding."""
    case = data.draw(conv_cases(nd, dtypes=("float64",)))
    spec = dataclasses.replace(case["spec"], groups=1)
    x, w, _ = make_arrays({**case, "groups": 1})
    w = np.random.default_rng(3).standard_normal((5, x.shape[1], *spec.kernel_size))
    cols = conv_im2col.im2col(x, spec)
    y = (w.reshape(5, -1) @ cols).reshape(x.shape[0], 5, *spec.conv_output_size(x.shape[2:]))
    close(y, torch_reference(x, w, y, spec)[0], "float64", f"{nd}-d im2col")
    probe = np.random.default_rng(4).standard_normal(cols.shape)
    back = conv_im2col.col2im(probe, spec, x.shape)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * probe), np.sum(x * back), rtol=1e-10)


class _CountingXp:
    """numpy, with ndindex counting the steps of the loops that iterate it (col2im's loops over
    kernel offsets or output positions): the Python-level work, independent of machine speed."""

    def __init__(self):
        self.steps = 0

    def __getattr__(self, name):
        return getattr(np, name)

    def ndindex(self, *shape):
        for index in np.ndindex(*shape):
            self.steps += 1
            yield index


@pytest.mark.parametrize("size, kernel, padding, stride, groups, dtype", [
    ((3, 3), (31, 31), ((30, 30), (30, 30)), (1, 1), 1, "float64"),  # 33x33 out of 3x3
    ((4, 5), (21, 17), ((20, 19), (3, 16)), (2, 3), 2, "float32"),
    ((33, 34), (31, 31), ((0, 0), (0, 1)), (1, 1), 1, "float64"),  # 3x4 positions, 961 offsets
    ((9,), (40,), ((35, 39),), (2,), 3, "float64"),
    ((2, 3, 2), (7, 6, 8), ((6, 6), (5, 4), (7, 7)), (1, 2, 1), 1, "float32"),
], ids=["2d-dual", "2d-dual-strided-grouped", "2d-positions", "1d-dual", "3d-dual"])
def test_large_kernels_match_torch_with_few_loop_steps(size, kernel, padding, stride, groups,
                                                        dtype, close, monkeypatch):
    """Issue 12 item 6: a kernel with more elements than the output has positions. col2im
    looped over every kernel offset (per band of rows: 961 steps per band for a 31x31 kernel
    over a 3x3 input padded by 30); now its loop makes at most as many steps as the input and
    the output have positions (the convs whose output is larger than the input go through the
    dual), over all three ops together. Same numbers as torch."""
    spec = ConvSpec(kernel, stride, padding, (1,) * len(kernel), groups)
    case = dict(n=2, c=2 * groups, o=groups, groups=groups, size=size, dtype=dtype, spec=spec)
    counting = _CountingXp()
    monkeypatch.setattr(conv_im2col, "xp", counting)
    check_against_torch(case, close, conv_im2col)
    positions = min(np.prod(size), np.prod(spec.conv_output_size(size)))
    assert counting.steps <= positions < np.prod(kernel), counting.steps


def test_chunk_buffer_stays_under_budget():
    """The 8x3x224x224 -> 64 case from the brief: one item per chunk, so the column buffer is
    one item's 27 x 224*224 floats, well under the budget."""
    step, chunks = _common.chunks(8, (27 + 64) * 224 * 224 * 4, conv_im2col.COL_BUDGET)
    assert step == 1 and len(chunks) == 8
    assert 27 * 224 * 224 * 4 < 64 * 2**20


def test_registry():
    assert conv.algorithm() is conv_im2col
    assert conv.algorithm("im2col") is conv_im2col
    assert conv.algorithm("direct") is conv_direct
    with pytest.raises(KeyError, match="unknown conv algorithm"):
        conv.algorithm("fft")


@pytest.mark.parametrize("nd", [1, 3])
def test_registry_refuses_an_algorithm_on_a_spec_it_does_not_support(nd):
    """direct is 2-d only: algorithm(name, spec) says so, the autograd op's forced algo= too."""
    spec = spec_of((3,) * nd, groups=4)
    with pytest.raises(ValueError, match=r"conv algorithm 'direct' does not support this "
                                         rf"{nd}-d conv .*2-d convs only"):
        conv.algorithm("direct", spec)
    x = Tensor(np.ones((1, 4, *(5,) * nd)))
    with pytest.raises(ValueError, match="'direct' does not support"):
        Convolution.apply(x, Tensor(np.ones((4, 1, *(3,) * nd))), None, spec=spec, algo="direct")
    # choose never picks it there: a depthwise conv of another ndim goes to im2col
    assert conv.choose(spec, x.shape, (4, 1, *(3,) * nd)) is conv_im2col


@pytest.mark.parametrize("spec, x_shape, w_shape, expected", [
    (spec_of((3, 3), padding=((1, 1), (1, 1)), groups=64), (64, 64, 14, 14), (64, 1, 3, 3),
     conv_direct),
    (spec_of((3, 3), stride=(2, 2), groups=32), (8, 32, 56, 56), (32, 1, 3, 3), conv_direct),
    (spec_of((3, 3), padding=((1, 1), (1, 1))), (64, 32, 14, 14), (64, 32, 3, 3), conv_im2col),
    (spec_of((3, 3), padding=((1, 1), (1, 1))), (64, 1, 28, 28), (32, 1, 3, 3), conv_im2col),
    (spec_of((3, 3), groups=4), (8, 32, 14, 14), (64, 8, 3, 3), conv_im2col),
    (spec_of((3, 3), groups=64), (8, 64, 14, 14), (128, 1, 3, 3), conv_im2col),
], ids=["depthwise", "depthwise-stride-2", "regular", "one-input-channel", "grouped",
        "depthwise-multiplier-2"])
def test_choose(spec, x_shape, w_shape, expected):
    """direct for 2-d depthwise only (C/g = O/g = 1, g > 1); im2col for the rest, including a
    channel multiplier O/g > 1, where im2col measured faster."""
    assert conv.choose(spec, x_shape, w_shape) is expected


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_op_adds_bias_and_computes_only_needed_gradients(nd, close, monkeypatch):
    """The autograd op on any ndim: bias broadcast over the spatial axes, its gradient summed
    over batch and space; no input gradient (backward_data never runs) when x needs none."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, *(5,) * nd)), rng.standard_normal((4, 3, *(3,) * nd))
    b, gy = rng.standard_normal(4), rng.standard_normal((2, 4, *(5,) * nd))
    tx, tw, tb = (torch.tensor(a, requires_grad=r) for a, r in ((x, False), (w, True), (b, True)))
    ty = torch_conv(spec_of((3,) * nd))(tx, tw, tb, padding=1)
    ty.backward(torch.tensor(gy))
    monkeypatch.setattr(conv_im2col, "backward_data", None)  # calling it would fail
    ours = [Tensor(x), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)]
    y = Convolution.apply(*ours, spec=spec_of((3,) * nd, padding=((1, 1),) * nd))
    assert repr(y.grad_fn) == "<ConvolutionBackward0 object>"
    y.backward(Tensor(gy))
    close(y.data_array, ty.detach().numpy(), "float64", "output")
    assert ours[0].grad is None
    close(ours[1].grad.data_array, tw.grad.numpy(), "float64", "grad weight")
    close(ours[2].grad.data_array, tb.grad.numpy(), "float64", "grad bias")


@pytest.mark.parametrize("algo, expected", [(None, conv_direct), ("im2col", conv_im2col)])
def test_conv_op_uses_choose_unless_told(algo, expected):
    """The autograd op picks the algorithm with choose; algo= forces one (same numbers)."""
    x = Tensor(np.random.default_rng(0).standard_normal((2, 4, 5, 5)), requires_grad=True)
    w = Tensor(np.ones((4, 1, 3, 3)), requires_grad=True)
    spec = spec_of((3, 3), padding=((1, 1), (1, 1)), groups=4)
    y = Convolution.apply(x, w, None, spec=spec, algo=algo)
    assert y.grad_fn.algo is expected
    box = np.pad(x.data_array, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected_y = sum(box[:, :, i : i + 5, j : j + 5] for i in range(3) for j in range(3))
    np.testing.assert_allclose(y.data_array, expected_y, rtol=1e-12)


# ---- Winograd F(4x4, 3x3): 3x3, stride 1, dilation 1, padding <= 2 --------------------------

@st.composite
def winograd_cases(draw, dtypes=("float32", "float64")):
    """3x3 stride-1 configurations: asymmetric padding up to 2, groups, sizes leaving partial
    4x4 tiles."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    size = tuple(max(1, 3 - lo - hi) + draw(st.integers(0, 10)) for lo, hi in padding)
    return dict(n=draw(st.integers(1, 3)), c=groups * draw(st.integers(1, 4)),
                o=groups * draw(st.integers(1, 4)), groups=groups, size=size,
                dtype=draw(st.sampled_from(dtypes)),
                spec=ConvSpec((3, 3), (1, 1), padding, (1, 1), groups))


@settings(max_examples=150)
@given(case=winograd_cases())
def test_winograd_matches_torch(case, close, count_config):
    count_config("conv kernels 2-d")
    check_against_torch(case, close, conv_winograd)


@settings(max_examples=10)
@given(case=winograd_cases(dtypes=("float16",)))
def test_winograd_float16_computed_in_float32(case, close):
    check_against_torch(case, close, conv_winograd)


@settings(max_examples=8)
@given(case=winograd_cases(dtypes=("float64",)))
def test_winograd_backward_data_matches_finite_differences(case, numeric_gradient):
    x, w, gy = make_arrays({**case, "n": min(case["n"], 2)}, seed=1)
    spec = case["spec"]
    gx = conv_winograd.backward_data(gy, w, spec, x.shape)
    np.testing.assert_allclose(
        gx, numeric_gradient(lambda: float(np.sum(gy * conv_winograd.forward(x, w, spec))), x),
        rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("n, c, o, size", [(8, 64, 64, 28), (4, 256, 256, 14), (1, 512, 512, 7)])
def test_winograd_float32_error_against_float64(n, c, o, size):
    """Many-channel layers, Winograd's domain: the worst error relative to the largest output
    stays below the differential tests' 2e-5 (conftest.assert_close) and within 25x im2col's."""
    rng = np.random.default_rng(0)
    spec = spec_of((3, 3), padding=((1, 1), (1, 1)))
    x = rng.standard_normal((n, c, size, size), dtype=np.float32)
    w = rng.standard_normal((o, c, 3, 3), dtype=np.float32) / np.sqrt(9 * c)
    exact = conv_im2col.forward(x.astype(np.float64), w.astype(np.float64), spec)
    scale = np.abs(exact).max()
    wino = np.abs(conv_winograd.forward(x, w, spec) - exact).max() / scale
    im2col = np.abs(conv_im2col.forward(x, w, spec) - exact).max() / scale
    assert wino < 2e-5 and wino < 25 * im2col, (wino, im2col)


def test_winograd_chunked_batch(monkeypatch, close):
    """A budget below one item's tiles: one item per chunk, same numbers."""
    monkeypatch.setattr(conv_winograd, "TILE_BUDGET", 1)
    check_against_torch(dict(n=3, c=4, o=5, groups=1, size=(9, 6), dtype="float64",
                             spec=spec_of((3, 3), padding=((1, 2), (0, 1)))), close, conv_winograd)


@pytest.mark.parametrize("algo, spec, supported", [
    (conv_winograd, spec_of((3, 3), padding=((1, 1), (1, 1))), True),
    (conv_winograd, spec_of((3, 3), padding=((0, 2), (2, 0)), groups=4), True),
    (conv_winograd, spec_of((3, 3), stride=(2, 2)), False),
    (conv_winograd, spec_of((3, 3), dilation=(2, 2)), False),
    (conv_winograd, spec_of((3, 3), padding=((3, 1), (1, 1))), False),
    (conv_winograd, spec_of((3, 5)), False),
    (conv_winograd, spec_of((3, 3, 3)), False),
    (conv_dilated, spec_of((3, 3), dilation=(2, 1)), True),
    (conv_dilated, spec_of((2,), dilation=(3,), padding=((4, 0),)), True),
    (conv_dilated, spec_of((3, 3), dilation=(2, 2), stride=(1, 2)), False),
    (conv_dilated, spec_of((3, 3, 3)), False),
], ids=lambda v: getattr(v, "__name__", None))
def test_specialised_algorithms_refuse_what_they_cannot_run(algo, spec, supported):
    assert algo.supports(spec) is supported
    name = algo.__name__.rsplit("_", 1)[-1]
    if not supported:
        with pytest.raises(ValueError, match=f"'{name}' does not support"):
            conv.algorithm(name, spec)


@pytest.mark.parametrize("algo", [conv_winograd, conv_dilated, conv_shifted],
                         ids=["winograd", "dilated", "shifted"])
def test_integer_inputs_are_exact(algo):
    """Winograd's transforms have fractions: integer inputs go to im2col, exactly."""
    rng = np.random.default_rng(0)
    spec = spec_of((3, 3), padding=((1, 1), (1, 1)),
                   dilation=(1, 1) if algo is conv_winograd else (2, 2))
    x, w = rng.integers(-5, 5, (2, 3, 7, 6)), rng.integers(-5, 5, (4, 3, 3, 3))
    np.testing.assert_array_equal(algo.forward(x, w, spec), conv_im2col.forward(x, w, spec))


# ---- stride-1 algorithms: space-to-batch for dilated convs, shifted-window accumulation -------

STRIDE_ONE = pytest.mark.parametrize("algo", [conv_dilated, conv_shifted],
                                     ids=["dilated", "shifted"])


def stride_one_case(data, nd, algo, dtypes=("float32", "float64")):
    """A random case at stride 1 (its sizes stay valid), dilated where algo needs it."""
    case = data.draw(conv_cases(nd, dtypes=dtypes))
    spec = dataclasses.replace(case["spec"], stride=(1,) * nd)
    assume(algo.supports(spec))
    return {**case, "spec": spec}


@STRIDE_ONE
@pytest.mark.parametrize("nd", [1, 2, 3])
@settings(max_examples=60)
@given(data=st.data())
def test_stride_one_algorithms_match_torch(algo, nd, data, close, count_config):
    case = stride_one_case(data, nd, algo)
    count_config(f"conv kernels {nd}-d")
    check_against_torch(case, close, algo)


@STRIDE_ONE
@settings(max_examples=6)
@given(data=st.data())
def test_stride_one_backward_matches_finite_differences(algo, data, numeric_gradient):
    case = stride_one_case(data, 2, algo, dtypes=("float64",))
    x, w, gy = make_arrays({**case, "n": min(case["n"], 2)}, seed=1)
    spec = case["spec"]

    def loss():
        return float(np.sum(gy * algo.forward(x, w, spec)))

    gx = algo.backward_data(gy, w, spec, x.shape)
    gw = algo.backward_weight(gy, x, spec, w.shape)
    np.testing.assert_allclose(gx, numeric_gradient(loss, x), rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(gw, numeric_gradient(loss, w), rtol=1e-7, atol=1e-7)


@settings(max_examples=15)
@given(data=st.data(), nbytes=st.integers(1, 4000), n=st.integers(3, 5))
def test_shifted_chunked_batch_matches_torch(data, nbytes, n, close):
    case = stride_one_case(data, 2, conv_shifted)
    with budget(conv_shifted, nbytes):
        check_against_torch({**case, "n": n}, close, conv_shifted)


# ---- the measured choice (kernels.conv.benchmark, npconv.backends.benchmark) -------------------

@pytest.fixture
def measuring(monkeypatch):
    monkeypatch.setattr(conv, "benchmark", True)
    monkeypatch.setattr(conv, "_measured", {})


@pytest.mark.parametrize("case", [
    dict(n=2, c=6, o=4, groups=1, size=(9, 8), dtype="float32",
         spec=spec_of((3, 3), padding=((1, 1), (1, 1)))),
    dict(n=2, c=6, o=6, groups=6, size=(9, 8), dtype="float64",
         spec=spec_of((3, 3), padding=((1, 1), (1, 1)), dilation=(2, 1), groups=6)),
    dict(n=1, c=2, o=3, groups=1, size=(7,), dtype="float64", spec=spec_of((3,), stride=(2,))),
], ids=["3x3", "depthwise-dilated", "1d-strided"])
def test_measured_choice_runs_the_fastest_supporting_algorithm_per_op(case, close, measuring):
    spec = case["spec"]
    x, w, _ = make_arrays(case)
    plan = conv.choose(spec, x.shape, w.shape, x.dtype)
    assert conv.choose(spec, x.shape, w.shape, x.dtype) is plan  # measured once, then cached
    able = {name for name, a in conv.ALGORITHMS.items() if a.supports(spec)}
    names = conv.name_of(plan).split("/")
    assert set(names) <= able and len(names) == (3 if len(able) > 1 else 1)
    check_against_torch(case, close, plan)


def test_measured_choice_leaves_dual_convs_to_im2col(measuring):
    """A 31x31 kernel over 3x3 padded by 30: the other algorithms' timing calls would loop over
    961 offsets per output cell; im2col's dual is the only candidate."""
    spec = spec_of((31, 31), padding=((30, 30), (30, 30)), groups=2)
    assert conv.choose(spec, (1, 2, 3, 3), (2, 1, 31, 31)) is conv_im2col
