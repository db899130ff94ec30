"""max/avg pooling kernels, plain and adaptive, on arrays of 1, 2 and 3 spatial axes against
torch: values, indices and gradients, including ceil_mode, padding, dilation, tied maxima and
NaNs."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npconv.kernels import pool
from npconv.kernels.geometry import AdaptivePoolSpec, PoolSpec

torch = pytest.importorskip("torch")
TF = torch.nn.functional

FIXTURES = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])



@st.composite
def pool_cases(draw, dilated=True):
    """n axes of kernel/stride/padding/dilation with torch's rule pad <= k/2, sizes at least
    one dilated window (after padding) large (avg_pool3d: at least the kernel)."""
    n = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4 if n < 3 else 3)) for _ in range(n))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(n)) if dilated else (1,) * n
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p, k if n == 3 and not dilated else 1)
                 + draw(st.integers(0, 6 if n < 3 else 3))
                 for k, p, d in zip(kernel, padding, dilation))
    spec = PoolSpec(kernel, tuple(draw(st.integers(1, 3)) for _ in range(n)),
                    tuple((p, p) for p in padding), dilation, draw(st.booleans()))
    return dict(shape=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size), spec=spec,
                dtype=draw(st.sampled_from(["float32", "float64"])),
                values=draw(st.sampled_from(["normal", "ties", "nan"])),
                seed=draw(st.integers(0, 99)))


@st.composite
def adaptive_cases(draw):
    n = draw(st.integers(1, 3))
    size = tuple(draw(st.integers(1, 9 if n < 3 else 5)) for _ in range(n))
    out = tuple(draw(st.integers(1, i + 3)) for i in size)
    return dict(shape=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size),
                spec=AdaptivePoolSpec(out), dtype=draw(st.sampled_from(["float32", "float64"])),
                values=draw(st.sampled_from(["normal", "ties", "nan"])),
                seed=draw(st.integers(0, 99)))


def make_input(case):
    """Normal values; or few distinct values (ties); or normal with some NaNs."""
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["shape"])
    if case["values"] == "ties":
        x = np.round(x)
    elif case["values"] == "nan":
        x[rng.random(x.shape) < 0.15] = np.nan
    return x.astype(case["dtype"])


def torch_args(spec: PoolSpec, dilated=True):
    args = (spec.kernel_size, spec.stride, tuple(lo for lo, _ in spec.padding))
    return args + ((spec.dilation,) if dilated else ()) + (spec.ceil_mode,)


def every_window_has_a_cell(shape, spec):
    """False when some dilated window covers only padding: torch's index then leaves the
    volume and its own backward writes out of bounds, so it cannot be the oracle."""
    size = shape[-spec.ndim:]
    for i, o, k, s, (p, _), d in zip(size, spec.output_size(size), spec.kernel_size,
                                     spec.stride, spec.padding, spec.dilation):
        start = np.arange(o) * s - p
        first = start + d * ((np.maximum(-start, 0) + d - 1) // d)
        if ((first >= i) | (first > start + (k - 1) * d)).any():
            return False
    return True


def check_max(y, winners, x, ty, tidx, tx, dtype, close, grad=True):
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y, ty.detach().numpy())  # exact, NaN where torch has NaN
    np.testing.assert_array_equal(pool.max_pool_indices(winners), tidx.numpy())
    if grad:
        gy = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
        (tgx,) = torch.autograd.grad(ty, tx, torch.tensor(gy))
        close(pool.max_pool_backward(gy, winners), tgx.numpy(), dtype, "max gx")


@settings(max_examples=150, **FIXTURES)
@given(case=pool_cases())
def test_max_pool_matches_torch(case, close, count_config):
    count_config("pool kernels")
    x, spec = make_input(case), case["spec"]
    y, winners = pool.max_pool(x, spec)
    tx = torch.tensor(x, requires_grad=True)
    ty, tidx = getattr(TF, f"max_pool{spec.ndim}d")(tx, *torch_args(spec), return_indices=True)
    check_max(y, winners, x, ty, tidx, tx, case["dtype"], close,
              every_window_has_a_cell(x.shape, spec))


@settings(max_examples=150, **FIXTURES)
@given(case=pool_cases(dilated=False), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, None, 1, 3, -5]))
def test_avg_pool_matches_torch(case, count_include_pad, divisor_override, close, count_config):
    count_config("pool kernels")
    x, spec = np.nan_to_num(make_input(case)), case["spec"]
    divisor_override = divisor_override if spec.ndim > 1 else None
    y = pool.avg_pool(x, spec, count_include_pad, divisor_override)
    tx = torch.tensor(x, requires_grad=True)
    more = (divisor_override,) if spec.ndim > 1 else ()
    ty = getattr(TF, f"avg_pool{spec.ndim}d")(tx, *torch_args(spec, dilated=False),
                                               count_include_pad, *more)
    assert y.dtype == x.dtype
    close(y, ty.detach().numpy(), case["dtype"], "avg y")
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
    (tgx,) = torch.autograd.grad(ty, tx, torch.tensor(gy))
    gx = pool.avg_pool_backward(gy, x.shape, spec, count_include_pad, divisor_override)
    close(gx, tgx.numpy(), case["dtype"], "avg gx")


@settings(max_examples=100, **FIXTURES)
@given(case=adaptive_cases())
def test_adaptive_max_pool_matches_torch(case, close, count_config):
    count_config("pool kernels")
    x, spec = make_input(case), case["spec"]
    y, winners = pool.adaptive_max_pool(x, spec)
    tx = torch.tensor(x, requires_grad=True)
    ty, tidx = getattr(TF, f"adaptive_max_pool{spec.ndim}d")(tx, spec.output_size_, True)
    check_max(y, winners, x, ty, tidx, tx, case["dtype"], close)


@settings(max_examples=100, **FIXTURES)
@given(case=adaptive_cases())
def test_adaptive_avg_pool_matches_torch(case, close, count_config):
    count_config("pool kernels")
    x, spec = np.nan_to_num(make_input(case)), case["spec"]
    y = pool.adaptive_avg_pool(x, spec)
    tx = torch.tensor(x, requires_grad=True)
    ty = getattr(TF, f"adaptive_avg_pool{spec.ndim}d")(tx, spec.output_size_)
    close(y, ty.detach().numpy(), case["dtype"], "adaptive avg y")
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
    (tgx,) = torch.autograd.grad(ty, tx, torch.tensor(gy))
    close(pool.adaptive_avg_pool_backward(gy, x.shape, spec), tgx.numpy(), case["dtype"],
          "adaptive avg gx")


@pytest.mark.parametrize("shape", [(4, 3, 8, 8), (2, 3, 9, 7), (2, 3, 9), (2, 2, 5, 6, 4)])
@pytest.mark.parametrize("k", [2, 3])
def test_max_pool_kernel_equals_stride(shape, k):
    """The MaxPool2d(k, k) hot path, with sizes that tile and that leave a remainder; each
    stage's winners are int16."""
    n = len(shape) - 2
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    y, winners = pool.max_pool(x, PoolSpec((k,) * n, (k,) * n, ((0, 0),) * n, (1,) * n))
    ty, tidx = getattr(TF, f"max_pool{n}d")(torch.tensor(x), k, k, return_indices=True)
    np.testing.assert_array_equal(y, ty.numpy())
    np.testing.assert_array_equal(pool.max_pool_indices(winners), tidx.numpy())
    assert [c.dtype for c in winners.choices] == [np.int16] * n


def test_uniform_adaptive_windows_run_the_plain_path():
    """Sizes divisible by the output: adaptive pooling is pooling with k = s = i / o, bit for
    bit (ResNet's global average pool is avg_pool(7, 7) on a 7x7 map)."""
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6)).astype(np.float32)
    plain = PoolSpec((7, 3), (7, 3), ((0, 0), (0, 0)), (1, 1))
    adaptive = AdaptivePoolSpec((1, 2))
    np.testing.assert_array_equal(pool.adaptive_avg_pool(x, adaptive),
                                  pool.avg_pool(x, plain, True, None))
    (y, w), (ty, tw) = pool.adaptive_max_pool(x, adaptive), pool.max_pool(x, plain)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(pool.max_pool_indices(w), pool.max_pool_indices(tw))


def test_float16_pools():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6)).astype(np.float16)
    y, _ = pool.max_pool(x, PoolSpec((2, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), True))
    ref = TF.max_pool2d(torch.tensor(x), (2, 3), 2, 1, ceil_mode=True).numpy()
    np.testing.assert_array_equal(y, ref)
    avg = pool.avg_pool(x, PoolSpec((3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1)), False, None)
    assert avg.dtype == np.float16
    ref = TF.avg_pool2d(torch.tensor(x), 3, 2, 1, count_include_pad=False).numpy()
    np.testing.assert_allclose(avg, ref, rtol=2e-3, atol=2e-3)
    adaptive = pool.adaptive_avg_pool(x, AdaptivePoolSpec((4, 4)))
    assert adaptive.dtype == np.float16
    ref = TF.adaptive_avg_pool2d(torch.tensor(x), 4).numpy()
    np.testing.assert_allclose(adaptive, ref, rtol=2e-3, atol=2e-3)
