"""Central finite differences in float64 check every backward without needing torch."""
import numpy as np
import pytest

import npconv
import npconv.nn.functional as F


def gradcheck(numerical_grad, fn, *arrays, atol=1e-7, rtol=1e-6):
    """Compare autograd's gradients of sum(fn(*inputs) * probe) with finite differences."""
    tensors = [npconv.from_numpy(a).requires_grad_() for a in arrays]
    out = fn(*tensors)
    probe = np.random.default_rng(0).standard_normal(out.shape)
    (out * npconv.from_numpy(probe)).sum().backward()

    def value():
        with npconv.no_grad():
            return float((fn(*[npconv.from_numpy(a) for a in arrays]).numpy() * probe).sum())

    for t, a in zip(tensors, arrays):
        np.testing.assert_allclose(t.grad.numpy(), numerical_grad(value, a), atol=atol, rtol=rtol)


CONV_CASES = [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=1),
    dict(stride=(1, 3), padding="same", dilation=(2, 1), groups=2),
    dict(stride=(3, 2), padding=1, dilation=1, groups=2),
    dict(stride=1, padding="same", dilation=1, groups=4),
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("kw", CONV_CASES, ids=str)
def test_conv2d_gradients_match_finite_differences(kw, numeric_gradient):
    if kw["padding"] == "same":
        kw = {**kw, "stride": 1}
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((4, 4 // kw["groups"], 3, 2))
    b = rng.standard_normal(4)
    gradcheck(numeric_gradient, lambda x, w, b: F.conv2d(x, w, b, **kw), x, w, b)


ND_CONV_CASES = [
    (1, dict(stride=2, padding=(2,), dilation=2, groups=2)),
    (1, dict(stride=1, padding="same", dilation=1, groups=1)),
    (3, dict(stride=(1, 2, 1), padding=(1, 0, 2), dilation=(2, 1, 1), groups=2)),
    (3, dict(stride=1, padding="same", dilation=(1, 2, 1), groups=1)),
    (3, dict(stride=1, padding=3, dilation=1, groups=1)),  # output larger than the input
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("nd, kw", ND_CONV_CASES, ids=str)
def test_conv1d_conv3d_gradients_match_finite_differences(nd, kw, numeric_gradient):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, 7) if nd == 1 else (1, 4, 5, 4, 3))
    w = rng.standard_normal((4, 4 // kw["groups"], *(3, 2, 2)[:nd]))
    b = rng.standard_normal(4)
    conv = getattr(F, f"conv{nd}d")
    gradcheck(numeric_gradient, lambda x, w, b: conv(x, w, b, **kw), x, w, b)


@pytest.mark.parametrize("nd", [1, 3])
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv1d_conv3d_module_padding_modes_match_finite_differences(nd, mode,
                                                                     numeric_gradient):
    layer = getattr(npconv.nn, f"Conv{nd}d")
    conv = layer(2, 2, (3, 2, 2)[:nd], padding=(2, 1, 1)[:nd], padding_mode=mode,
                 dtype=npconv.float64)
    x = np.random.default_rng(5).standard_normal((1, 2, *(5, 4, 3)[:nd]))
    gradcheck(numeric_gradient, conv, x)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradients_match_finite_differences(mode, numeric_gradient):
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 5))
    gradcheck(numeric_gradient, lambda x: F.pad(x, (2, 1, 3, 0), mode=mode), x)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_module_padding_modes_match_finite_differences(mode, numeric_gradient):
    conv = npconv.nn.Conv2d(2, 3, (3, 2), padding=(2, 1), padding_mode=mode,
                            dtype=npconv.float64)
    x = np.random.default_rng(3).standard_normal((1, 2, 5, 4))
    gradcheck(numeric_gradient, conv, x)
