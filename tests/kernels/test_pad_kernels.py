"""pad / pad_backward on arrays against torch.nn.functional.pad and its autograd, for every mode,
1 to 3 padded dimensions, asymmetric and negative (cropping) pads."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npconv.kernels import pad as pad_kernels

torch = pytest.importorskip("torch")

FIXTURES = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def pad_cases(draw):
    """A configuration inside the kernel's preconditions (and torch's): constant pads 1-3 dims
    of any rank; the other modes pad 1-2 dims of a (dims+1)- or (dims+2)-D input."""
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    dims = draw(st.integers(1, 3 if mode == "constant" else 2))
    lead = draw(st.integers(0, 2)) if mode == "constant" else draw(st.integers(1, 2))
    shape = tuple(draw(st.integers(1, 5)) for _ in range(lead + dims))
    pads = []
    for axis in range(len(shape) - 1, len(shape) - 1 - dims, -1):
        pads += _axis_pads(draw, mode, shape[axis])
    return dict(shape=shape, pads=tuple(pads), mode=mode, value=draw(st.sampled_from([0.0, -1.5])),
                dtype=draw(st.sampled_from(["float32", "float64"])))


def _axis_pads(draw, mode, n):
    """(lo, hi) for one axis of size n: crops of up to n//2 on each side, pads up to the mode's
    limit (reflect < n; circular <= what is left after cropping), output size >= 1 (torch)."""
    crop = st.integers(-(n // 2), 0)
    grow = {"constant": 4, "replicate": 4, "reflect": n - 1, "circular": n}[mode]
    lo, hi = (draw(st.one_of(crop, st.integers(0, grow))) for _ in range(2))
    hi = max(hi, 1 - n - lo)
    if mode == "circular":
        kept = n + min(lo, 0) + min(hi, 0)
        lo, hi = (min(p, kept) for p in (lo, hi))
    return [lo, hi]


@settings(max_examples=200, **FIXTURES)
@given(case=pad_cases())
def test_pad_matches_torch(case, close, count_config):
    count_config("pad kernels")
    x = np.random.default_rng(0).standard_normal(case["shape"]).astype(case["dtype"])
    pads, mode = case["pads"], case["mode"]
    value = case["value"] if mode == "constant" else 0.0
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.pad(tx, pads, mode=mode, value=value)
    y = pad_kernels.pad(x, pads, mode, value)
    assert y.dtype == x.dtype
    assert y.shape == tuple(ty.shape) == pad_kernels.padded_shape(x.shape, pads)
    np.testing.assert_array_equal(y, ty.detach().numpy())
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
    (tgx,) = torch.autograd.grad(ty, tx, torch.tensor(gy))
    close(pad_kernels.pad_backward(gy, pads, mode, x.shape), tgx.numpy(), case["dtype"], "gx")


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_is_adjoint_of_pad_backward(mode):
    """<pad(x), g> == <x, pad_backward(g)> for the index-map modes, without torch."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5, 4))
    pads = (3, 1, 2, -1)
    g = rng.standard_normal(pad_kernels.padded_shape(x.shape, pads))
    lhs = np.vdot(pad_kernels.pad(x, pads, mode), g)
    rhs = np.vdot(x, pad_kernels.pad_backward(g, pads, mode, x.shape))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_constant_pad_can_crop_everything():
    x = np.ones((2, 3))
    y = pad_kernels.pad(x, (-3, 1), "constant", 7.0)
    np.testing.assert_array_equal(y, np.full((2, 1), 7.0))
    np.testing.assert_array_equal(pad_kernels.pad_backward(y, (-3, 1), "constant", x.shape), 0)
