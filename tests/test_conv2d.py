"""conv2d and nn.Conv2d against torch: outputs and gradients over random configurations."""
import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npconv
import npconv.nn as nn
import npconv.nn.functional as F

torch = pytest.importorskip("torch")
torch.set_num_threads(2)



@contextlib.contextmanager
def _no_warning_check():
    """'same' with even kernels warns in both libraries; these tests compare only numbers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


DTYPES = {"float32": (npconv.float32, torch.float32), "float64": (npconv.float64, torch.float64)}


@st.composite
def conv_configs(draw, modes=("zeros",)):
    """A valid conv configuration with unequal per-axis values and odd leftovers allowed."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cfg = dict(
        n=draw(st.integers(1, 3)), groups=groups,
        cin=groups * draw(st.integers(1, 3)), cout=groups * draw(st.integers(1, 3)),
        k=(draw(st.integers(1, 4)), draw(st.integers(1, 4))),
        stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        dilation=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        bias=draw(st.booleans()), batched=draw(st.booleans()),
        dtype=draw(st.sampled_from(sorted(DTYPES))), mode=draw(st.sampled_from(modes)))
    kind = draw(st.sampled_from(["int", "tuple", "same", "valid"]))
    if kind == "same":
        cfg["stride"] = (1, 1)
        cfg["padding"] = "same"
    elif kind == "valid":
        cfg["padding"] = "valid"
    elif kind == "int":
        cfg["padding"] = draw(st.integers(0, 3))
    else:
        cfg["padding"] = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    pads = {"same": (0, 0), "valid": (0, 0)}.get(kind) or (
        (cfg["padding"],) * 2 if kind == "int" else cfg["padding"])
    sizes = []
    for axis in range(2):
        dk = cfg["dilation"][axis] * (cfg["k"][axis] - 1) + 1
        low = max(1, dk - 2 * pads[axis])
        if cfg["mode"] == "reflect":
            low = max(low, pads[axis] + 1)
        elif cfg["mode"] in ("circular", "replicate"):
            low = max(low, pads[axis], 1)
        sizes.append(draw(st.integers(low, low + 6)))
    cfg["hw"] = tuple(sizes)
    return cfg


def _make_inputs(cfg, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg["n"], cfg["cin"], *cfg["hw"]))
    if not cfg["batched"]:
        x = x[0]
    w = rng.standard_normal((cfg["cout"], cfg["cin"] // cfg["groups"], *cfg["k"]))
    b = rng.standard_normal(cfg["cout"]) if cfg["bias"] else None
    return x, w, b


def _npconv_run(fn, arrays, dtype):
    tensors = [None if a is None else nn.Parameter(npconv.tensor(a, dtype=dtype))
               for a in arrays]
    y = fn(*tensors)
    gy = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(npconv.tensor(gy, dtype=dtype))
    return y.detach().numpy(), [None if t is None else t.grad.numpy() for t in tensors], gy


def _torch_run(fn, arrays, dtype, gy):
    tensors = [None if a is None else torch.nn.Parameter(torch.tensor(a, dtype=dtype))
               for a in arrays]
    y = fn(*tensors)
    y.backward(torch.tensor(gy, dtype=dtype))
    return y.detach().numpy(), [None if t is None else t.grad.numpy() for t in tensors]


def _compare(cfg, ours_fn, torch_fn, close):
    nd, td = DTYPES[cfg["dtype"]]
    arrays = _make_inputs(cfg, seed=hash(str(cfg)) % 2**32)
    y, grads, gy = _npconv_run(ours_fn, arrays, nd)
    ty, tgrads = _torch_run(torch_fn, arrays, td, gy)
    assert y.dtype == np.dtype(cfg["dtype"])
    close(y, ty, cfg["dtype"], "output")
    for name, g, tg in zip(("input", "weight", "bias"), grads, tgrads):
        if tg is not None:
            close(g, tg, cfg["dtype"], f"grad {name}")


@settings(max_examples=250)
@given(cfg=conv_configs())
def test_functional_conv2d_matches_torch(cfg, close, count_config):
    count_config("F.conv2d")
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"],
              groups=cfg["groups"])
    with _no_warning_check():
        _compare(cfg, lambda x, w, b: F.conv2d(x, w, b, **kw),
                 lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **kw), close)


@settings(max_examples=150)
@given(cfg=conv_configs(modes=("zeros", "reflect", "replicate", "circular")))
def test_module_conv2d_matches_torch(cfg, close, count_config):
    count_config("nn.Conv2d")
    nd, td = DTYPES[cfg["dtype"]]
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"],
              groups=cfg["groups"], bias=cfg["bias"], padding_mode=cfg["mode"])
    ours = nn.Conv2d(cfg["cin"], cfg["cout"], cfg["k"], dtype=nd, **kw)
    ref = torch.nn.Conv2d(cfg["cin"], cfg["cout"], cfg["k"], dtype=td, **kw)
    assert repr(ours) == repr(ref)

    def run_ours(x, w, b):
        ours.weight, ours.bias = w, b
        return ours(x)

    def run_torch(x, w, b):
        ref.weight, ref.bias = w, b
        return ref(x)

    with _no_warning_check():
        _compare(cfg, run_ours, run_torch, close)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("padding", [0, 1, "same"])
@pytest.mark.parametrize("groups", [1, 2])
def test_float16_matches_torch(padding, groups, close):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 9, 7))
    w = rng.standard_normal((6, 4 // groups, 3, 2)) * 0.3
    ours = F.conv2d(npconv.tensor(x, dtype=npconv.float16), npconv.tensor(w, dtype=npconv.float16),
                    padding=padding, groups=groups)
    with _no_warning_check():
        ref = torch.nn.functional.conv2d(torch.tensor(x, dtype=torch.float16),
                                         torch.tensor(w, dtype=torch.float16),
                                         padding=padding, groups=groups)
    assert ours.dtype == npconv.float16
    close(ours.numpy(), ref.numpy(), "float16")


def test_integer_conv_matches_torch():
    """torch computes integer convs when input and weight are both integer; so do we."""
    rng = np.random.default_rng(0)
    x, w = rng.integers(-5, 5, (2, 3, 6, 6)), rng.integers(-3, 3, (4, 3, 3, 3))
    ours = F.conv2d(npconv.tensor(x), npconv.tensor(w), padding=1)
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    assert ours.dtype == npconv.int64
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_empty_batch_gives_empty_output():
    y = F.conv2d(npconv.randn(0, 4, 8, 8), npconv.randn(6, 2, 3, 3), groups=2)
    assert y.shape == (0, 6, 6, 6)


def test_only_needed_gradients_are_computed():
    x = npconv.randn(2, 3, 8, 8)
    conv = nn.Conv2d(3, 4, 3)
    conv(x).sum().backward()
    assert x.grad is None and conv.weight.grad is not None and conv.bias.grad is not None


def test_gradients_accumulate_like_torch():
    conv = nn.Conv2d(2, 3, 3, padding=1)
    x = npconv.randn(1, 2, 5, 5)
    conv(x).sum().backward()
    first = conv.weight.grad.numpy().copy()
    conv(x).sum().backward()
    np.testing.assert_allclose(conv.weight.grad.numpy(), 2 * first, rtol=1e-6)


@pytest.mark.parametrize("kernel,dilation,warns", [((4, 3), 1, True), ((3, 3), 1, False),
                                                   ((2, 2), 2, False), ((2, 3), 1, True)])
def test_same_padding_warns_when_it_needs_an_asymmetric_pad(kernel, dilation, warns):
    """torch's warning (TORCH_WARN_ONCE, so it cannot be compared call by call): an odd total
    padding d*(k-1) on some axis needs a zero-padded copy."""
    x, w = npconv.ones(1, 2, 6, 6), npconv.ones(3, 2, *kernel)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        F.conv2d(x, w, padding="same", dilation=dilation)
    assert [str(m.message).startswith("Using padding='same' with even kernel lengths")
            for m in caught] == ([True] if warns else [])
