"""F.conv1d/2d/3d and nn.Conv1d/2d/3d against torch: outputs and gradients (input, weight,
bias) over random configurations, modules' attributes, reprs and geometry."""
import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npconv
import npconv.nn as nn
import npconv.nn.functional as F
from npconv.kernels.geometry import ConvSpec

torch = pytest.importorskip("torch")

DTYPES = {"float32": (npconv.float32, torch.float32), "float64": (npconv.float64, torch.float64)}
NDIMS = pytest.mark.parametrize("nd", [1, 2, 3])


@contextlib.contextmanager
def _no_warning_check():
    """'same' with even kernels warns in both libraries; these tests compare only numbers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _argument(draw, values, nd):
    """An argument as torch takes it (an int, a 1-tuple, or a tuple or list of nd values drawn
    from `values`) and its per-axis values."""
    kind = draw(st.sampled_from(["int", "one", "tuple", "list"]))
    if kind in ("int", "one"):
        v = draw(values)
        return (v if kind == "int" else (v,)), (v,) * nd
    per_axis = tuple(draw(values) for _ in range(nd))
    return (per_axis if kind == "tuple" else list(per_axis)), per_axis


@st.composite
def conv_configs(draw, nd, modes=("zeros",)):
    """A valid conv configuration with unequal per-axis values and odd leftovers allowed; 3-d
    draws smaller kernels and sizes."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    kmax, extra = (3, 3) if nd == 3 else (4, 6)
    k = tuple(draw(st.integers(1, kmax)) for _ in range(nd))
    cfg = dict(
        nd=nd, n=draw(st.integers(1, 3)), groups=groups,
        cin=groups * draw(st.integers(1, 3)), cout=groups * draw(st.integers(1, 3)), k=k,
        bias=draw(st.booleans()), batched=draw(st.booleans()),
        dtype=draw(st.sampled_from(sorted(DTYPES))), mode=draw(st.sampled_from(modes)))
    kind = draw(st.sampled_from(["int", "same", "valid"]))
    cfg["dilation"], dilation = _argument(draw, st.integers(1, 3), nd)
    cfg["stride"] = _argument(draw, st.integers(1, 1 if kind == "same" else 3), nd)[0]
    if kind == "int":
        cfg["padding"], pads = _argument(draw, st.integers(0, 3), nd)
        if cfg["mode"] != "zeros" and isinstance(cfg["padding"], tuple) and nd > 1:
            cfg["padding"] = pads  # F.pad, which pads for these modes, refuses a 1-tuple (torch)
    else:
        cfg["padding"], pads = kind, (0,) * nd
    sizes = []
    for axis in range(nd):
        dk = dilation[axis] * (k[axis] - 1) + 1
        low = max(1, dk - 2 * pads[axis])
        if cfg["mode"] == "reflect":
            low = max(low, pads[axis] + 1)
        elif cfg["mode"] in ("circular", "replicate"):
            low = max(low, pads[axis], 1)
        sizes.append(draw(st.integers(low, low + extra)))
    cfg["size"] = tuple(sizes)
    return cfg


def _make_inputs(cfg, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg["n"], cfg["cin"], *cfg["size"]))
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
    where = f"{cfg['nd']}-d"
    close(y, ty, cfg["dtype"], f"{where} output")
    for name, g, tg in zip(("input", "weight", "bias"), grads, tgrads):
        if tg is not None:
            close(g, tg, cfg["dtype"], f"{where} grad {name}")


@NDIMS
@settings(max_examples=250)
@given(data=st.data())
def test_functional_conv_matches_torch(nd, data, close, count_config):
    cfg = data.draw(conv_configs(nd))
    count_config(f"F.conv{nd}d")
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"],
              groups=cfg["groups"])
    ours, theirs = getattr(F, f"conv{nd}d"), getattr(torch.nn.functional, f"conv{nd}d")
    with _no_warning_check():
        _compare(cfg, lambda x, w, b: ours(x, w, b, **kw), lambda x, w, b: theirs(x, w, b, **kw),
                 close)


@NDIMS
@settings(max_examples=150)
@given(data=st.data())
def test_module_conv_matches_torch(nd, data, close, count_config):
    cfg = data.draw(conv_configs(nd, modes=("zeros", "reflect", "replicate", "circular")))
    count_config(f"nn.Conv{nd}d")
    nd_, td = DTYPES[cfg["dtype"]]
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"],
              groups=cfg["groups"], bias=cfg["bias"], padding_mode=cfg["mode"])
    kernel = cfg["k"] if len(set(cfg["k"])) > 1 else cfg["k"][0]
    ours = getattr(nn, f"Conv{nd}d")(cfg["cin"], cfg["cout"], kernel, dtype=nd_, **kw)
    ref = getattr(torch.nn, f"Conv{nd}d")(cfg["cin"], cfg["cout"], kernel, dtype=td, **kw)
    assert repr(ours) == repr(ref)
    for name in ("kernel_size", "stride", "padding", "dilation", "output_padding", "transposed",
                 "_reversed_padding_repeated_twice"):
        assert getattr(ours, name) == getattr(ref, name), name

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
@NDIMS
def test_float16_matches_torch(nd, padding, groups, close):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, *(9, 7, 5)[:nd]))
    w = rng.standard_normal((6, 4 // groups, *(3, 2, 2)[:nd])) * 0.3
    ours = getattr(F, f"conv{nd}d")(npconv.tensor(x, dtype=npconv.float16),
                                    npconv.tensor(w, dtype=npconv.float16), padding=padding,
                                    groups=groups)
    with _no_warning_check():
        ref = getattr(torch.nn.functional, f"conv{nd}d")(
            torch.tensor(x, dtype=torch.float16), torch.tensor(w, dtype=torch.float16),
            padding=padding, groups=groups)
    assert ours.dtype == npconv.float16
    close(ours.numpy(), ref.numpy(), "float16")


@NDIMS
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int8"])
def test_integer_conv_matches_torch(nd, dtype):
    """torch computes integer convs when input and weight are both integer; so do we."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, (2, 3, *(6,) * nd)).astype(dtype)
    w = rng.integers(0, 3, (4, 3, *(3,) * nd)).astype(dtype)
    ours = getattr(F, f"conv{nd}d")(npconv.tensor(x), npconv.tensor(w), padding=1)
    ref = getattr(torch.nn.functional, f"conv{nd}d")(torch.tensor(x), torch.tensor(w), padding=1)
    assert ours.dtype.name == dtype
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@NDIMS
def test_empty_batch_gives_empty_output(nd):
    y = getattr(F, f"conv{nd}d")(npconv.randn(0, 4, *(8,) * nd), npconv.randn(6, 2, *(3,) * nd),
                                 groups=2)
    assert y.shape == (0, 6, *(6,) * nd)


@NDIMS
def test_only_needed_gradients_are_computed(nd):
    x = npconv.randn(2, 3, *(6,) * nd)
    conv = getattr(nn, f"Conv{nd}d")(3, 4, 3)
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
                                                   ((2, 2), 2, False), ((2, 3), 1, True),
                                                   ((2,), 1, True), ((3, 3, 2), 1, True),
                                                   ((3, 3, 3), 1, False)])
def test_same_padding_warns_when_it_needs_an_asymmetric_pad(kernel, dilation, warns):
    """torch's warning (TORCH_WARN_ONCE, so it cannot be compared call by call): an odd total
    padding d*(k-1) on some axis needs a zero-padded copy."""
    nd = len(kernel)
    x, w = npconv.ones(1, 2, *(6,) * nd), npconv.ones(3, 2, *kernel)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(F, f"conv{nd}d")(x, w, padding="same", dilation=dilation)
    assert [str(m.message).startswith("Using padding='same' with even kernel lengths")
            for m in caught] == ([True] if warns else [])


@pytest.mark.parametrize("mode, warns", [("zeros", True), ("reflect", False)])
def test_module_same_padding_warns_at_forward_as_torch(mode, warns):
    """The module routes through the functional: nn.Conv2d(2, 3, 4, padding='same') warns
    when it runs (not when built), as torch's does; a padding_mode other than zeros pads with
    F.pad first, then convolves unpadded, and does not warn (torch neither)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        conv = nn.Conv2d(2, 3, 4, padding="same", padding_mode=mode)
        assert not caught
        y = conv(npconv.ones(1, 2, 6, 6))
    assert y.shape == (1, 3, 6, 6)
    assert [str(m.message).startswith("Using padding='same' with even kernel lengths")
            for m in caught] == ([True] if warns else [])


@pytest.mark.parametrize("build, spec", [
    (lambda m: m.Conv1d(2, 4, 3, stride=2, padding=1, dilation=2, groups=2),
     ConvSpec((3,), (2,), ((1, 1),), (2,), 2)),
    (lambda m: m.Conv2d(3, 6, (4, 3), padding="same", dilation=(1, 2), padding_mode="reflect"),
     ConvSpec((4, 3), (1, 1), ((1, 2), (2, 2)), (1, 2), 1, "reflect")),
    (lambda m: m.Conv3d(2, 2, (1, 2, 3), stride=(1, 2, 3), padding="valid"),
     ConvSpec((1, 2, 3), (1, 2, 3), ((0, 0),) * 3, (1, 1, 1))),
], ids=["1d", "2d-same", "3d-valid"])
def test_geometry_is_the_layers_conv_spec(build, spec):
    """Every conv layer exposes its ConvSpec, read-only; its output size is torch's."""
    layer, ref = build(nn), build(torch.nn)
    assert layer.geometry == spec
    with pytest.raises(AttributeError):
        layer.geometry = spec
    x = np.ones((1, layer.in_channels, *(9, 8, 7)[: spec.ndim]), dtype=np.float32)
    with _no_warning_check():
        assert tuple(ref(torch.tensor(x)).shape[2:]) == spec.output_size(x.shape[2:])


@NDIMS
def test_init_matches_torch_statistics(nd):
    """weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C/g * prod(kernel)."""
    npconv.manual_seed(0)
    conv = getattr(nn, f"Conv{nd}d")(8, 16, 3, groups=2)
    bound = 1 / np.sqrt(4 * 3**nd)
    weight, bias = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert 0.9 * bound < np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    assert conv.weight.shape == (16, 4, *(3,) * nd) and np.ptp(bias) > 0
