"""max/avg pooling kernels on arrays against torch: values, indices and gradients, including
ceil_mode, padding, dilation, tied maxima and NaNs."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npconv.kernels import pool

torch = pytest.importorskip("torch")
torch.set_num_threads(2)
TF = torch.nn.functional

FIXTURES = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def pool_cases(draw, dilated=True):
    """kernel/stride/padding/dilation per axis with torch's rule pad <= k/2, sizes at least one
    dilated window (after padding) large."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilated else (1, 1)
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    hw = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 6))
               for k, p, d in zip(kernel, padding, dilation))
    return dict(shape=(draw(st.integers(1, 3)), draw(st.integers(1, 3)), *hw), kernel=kernel,
                stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))), padding=padding,
                dilation=dilation, ceil_mode=draw(st.booleans()),
                dtype=draw(st.sampled_from(["float32", "float64"])),
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


def every_window_has_a_cell(case, out_hw):
    """False when some dilated window covers only padding: torch's index then leaves the
    plane and its own backward writes out of bounds, so it cannot be the oracle."""
    for size, out, k, s, p, d in zip(case["shape"][-2:], out_hw, case["kernel"], case["stride"],
                                     case["padding"], case["dilation"]):
        start = np.arange(out) * s - p
        first = start + d * ((np.maximum(-start, 0) + d - 1) // d)
        if ((first >= size) | (first > start + (k - 1) * d)).any():
            return False
    return True


@settings(max_examples=150, **FIXTURES)
@given(case=pool_cases())
def test_max_pool_matches_torch(case, close, count_config):
    count_config("pool kernels")
    x = make_input(case)
    args = case["kernel"], case["stride"], case["padding"], case["dilation"], case["ceil_mode"]
    y, winners = pool.max_pool2d(x, *args)
    argmax = pool.max_pool2d_indices(winners)
    tx = torch.tensor(x, requires_grad=True)
    ty, tidx = TF.max_pool2d(tx, *args, return_indices=True)
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y, ty.detach().numpy())  # exact, NaN where torch has NaN
    np.testing.assert_array_equal(argmax, tidx.numpy())
    if every_window_has_a_cell(case, y.shape[-2:]):
        gy = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
        (tgx,) = torch.autograd.grad(ty, tx, torch.tensor(gy))
        close(pool.max_pool2d_backward(gy, winners), tgx.numpy(), case["dtype"], "max gx")


def test_max_pool_window_over_padding_only():
    """A dilated window that covers only padding: -inf and torch's index (past the plane), and
    no gradient, where torch's own backward would write out of bounds."""
    x = np.arange(2.0).reshape(1, 1, 1, 2)
    args = (3, 1), (3, 2), (1, 0), (2, 1), True
    y, winners = pool.max_pool2d(x, *args)
    ty, tidx = TF.max_pool2d(torch.tensor(x), *args, return_indices=True)
    np.testing.assert_array_equal(y, ty.numpy())
    np.testing.assert_array_equal(pool.max_pool2d_indices(winners), tidx.numpy())
    assert np.isneginf(y).all()
    np.testing.assert_array_equal(pool.max_pool2d_backward(np.ones_like(y), winners), 0)


@pytest.mark.parametrize("shape", [(4, 3, 8, 8), (2, 3, 9, 7)])
@pytest.mark.parametrize("k", [2, 3])
def test_max_pool_kernel_equals_stride(shape, k):
    """The MaxPool2d(k, k) hot path, with sizes that tile and that leave a remainder."""
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    y, winners = pool.max_pool2d(x, (k, k), (k, k), (0, 0), (1, 1), False)
    ty, tidx = TF.max_pool2d(torch.tensor(x), k, k, return_indices=True)
    np.testing.assert_array_equal(y, ty.numpy())
    np.testing.assert_array_equal(pool.max_pool2d_indices(winners), tidx.numpy())


@settings(max_examples=150, **FIXTURES)
@given(case=pool_cases(dilated=False), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, None, 1, 3, 5]))
def test_avg_pool_matches_torch(case, count_include_pad, divisor_override, close, count_config):
    count_config("pool kernels")
    x = np.nan_to_num(make_input(case))
    args = (case["kernel"], case["stride"], case["padding"], case["ceil_mode"], count_include_pad,
            divisor_override)
    y = pool.avg_pool2d(x, *args)
    tx = torch.tensor(x, requires_grad=True)
    ty = TF.avg_pool2d(tx, *args)
    assert y.dtype == x.dtype
    close(y, ty.detach().numpy(), case["dtype"], "avg y")
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
    (tgx,) = torch.autograd.grad(ty, tx, torch.tensor(gy))
    close(pool.avg_pool2d_backward(gy, x.shape, *args), tgx.numpy(), case["dtype"], "avg gx")


@pytest.mark.parametrize("size,k,s,p,d,ceil,expected", [
    (28, 2, 2, 0, 1, False, 14),
    (5, 2, 2, 0, 1, True, 3),   # ceil: a last, partial window
    (5, 2, 2, 1, 1, True, 3),   # ceil: a 4th window would start in the right padding
    (7, 3, 2, 1, 2, False, 3),
])
def test_output_size(size, k, s, p, d, ceil, expected):
    assert pool.output_size(size, k, s, p, d, ceil) == expected


def test_float16_pools():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6)).astype(np.float16)
    y, _ = pool.max_pool2d(x, (2, 3), (2, 2), (1, 1), (1, 1), True)
    ref = TF.max_pool2d(torch.tensor(x), (2, 3), 2, 1, ceil_mode=True).numpy()
    np.testing.assert_array_equal(y, ref)
    avg = pool.avg_pool2d(x, (3, 3), (2, 2), (1, 1), False, False, None)
    assert avg.dtype == np.float16
    ref = TF.avg_pool2d(torch.tensor(x), 3, 2, 1, count_include_pad=False).numpy()
    np.testing.assert_allclose(avg, ref, rtol=2e-3, atol=2e-3)
