"""conv_transpose1d/2d/3d and nn.ConvTranspose1d/2d/3d against torch: outputs, gradients, reprs,
init, output_size= and errors; float64 finite differences without torch."""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npconv
import npconv.nn as nn
import npconv.nn.functional as F

torch = pytest.importorskip("torch")


DTYPES = {"float32": (npconv.float32, torch.float32), "float64": (npconv.float64, torch.float64)}
FUNCTIONALS = {1: (F.conv_transpose1d, torch.nn.functional.conv_transpose1d),
               2: (F.conv_transpose2d, torch.nn.functional.conv_transpose2d),
               3: (F.conv_transpose3d, torch.nn.functional.conv_transpose3d)}
MODULES = {1: (nn.ConvTranspose1d, torch.nn.ConvTranspose1d),
           2: (nn.ConvTranspose2d, torch.nn.ConvTranspose2d),
           3: (nn.ConvTranspose3d, torch.nn.ConvTranspose3d)}


def _arg(draw, values):
    """An int when all axes agree and the draw says so, else the per-axis tuple."""
    return values[0] if len(set(values)) == 1 and draw(st.booleans()) else tuple(values)


@st.composite
def transpose_configs(draw, nd):
    """A valid transposed conv: output_padding below stride or dilation on every axis, and a
    padding that leaves an output of at least one cell."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    big = 4 if nd < 3 else 3
    axes = []
    for _ in range(nd):
        k, s, d = draw(st.integers(1, big)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        op = draw(st.integers(0, max(s, d) - 1))
        i = draw(st.integers(1, 6 if nd < 3 else 4))
        p = draw(st.integers(0, min(3, ((i - 1) * s + d * (k - 1) + op) // 2)))
        axes.append((k, s, d, op, i, p))
    k, s, d, op, size, p = (list(v) for v in zip(*axes))
    return dict(nd=nd, n=draw(st.integers(1, 3)), groups=groups,
                cin=groups * draw(st.integers(1, 3)), cout=groups * draw(st.integers(1, 3)),
                k=tuple(k), size=tuple(size), stride=_arg(draw, s), dilation=_arg(draw, d),
                output_padding=_arg(draw, op), padding=_arg(draw, p),
                bias=draw(st.booleans()), batched=draw(st.booleans()),
                dtype=draw(st.sampled_from(sorted(DTYPES))))


def _arrays(cfg, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg["n"], cfg["cin"], *cfg["size"]))
    w = rng.standard_normal((cfg["cin"], cfg["cout"] // cfg["groups"], *cfg["k"]))
    b = rng.standard_normal(cfg["cout"]) if cfg["bias"] else None
    return (x if cfg["batched"] else x[0]), w, b


def _run(lib, param, tensor, fn, arrays, dtype, gy=None):
    """fn(*params) and the gradients of all of them for the output gradient gy (random if
    None); returns (output, gradients, gy) as arrays."""
    params = [None if a is None else param(tensor(a, dtype=dtype)) for a in arrays]
    y = fn(*params)
    if gy is None:
        gy = np.random.default_rng(1).standard_normal(tuple(y.shape))
    y.backward(tensor(gy, dtype=dtype))
    return (y.detach().numpy(), [None if p is None else p.grad.numpy() for p in params], gy)


def _compare(cfg, ours, theirs, close):
    nd_, td = DTYPES[cfg["dtype"]]
    arrays = _arrays(cfg, seed=hash(str(cfg)) % 2**32)
    y, grads, gy = _run(npconv, nn.Parameter, npconv.tensor, ours, arrays, nd_)
    ty, tgrads, _ = _run(torch, torch.nn.Parameter, torch.tensor, theirs, arrays, td, gy)
    assert y.dtype == np.dtype(cfg["dtype"])
    close(y, ty, cfg["dtype"], "output")
    for name, g, tg in zip(("input", "weight", "bias"), grads, tgrads):
        if tg is not None:
            close(g, tg, cfg["dtype"], f"grad {name}")


def _functional_kwargs(cfg):
    return {key: cfg[key] for key in ("stride", "padding", "output_padding", "groups",
                                      "dilation")}


@pytest.mark.parametrize("nd,examples", [(1, 300), (2, 300), (3, 300)])
def test_functional_conv_transpose_matches_torch(nd, examples, close, count_config):
    @settings(max_examples=examples)
    @given(cfg=transpose_configs(nd))
    def check(cfg):
        count_config(f"F.conv_transpose{nd}d")
        kw = _functional_kwargs(cfg)
        ours, theirs = FUNCTIONALS[nd]
        _compare(cfg, lambda x, w, b: ours(x, w, b, **kw), lambda x, w, b: theirs(x, w, b, **kw),
                 close)
    check()


@st.composite
def module_configs(draw, nd):
    """A transposed-conv layer config with output_size= (per axis between the smallest size
    and that plus stride - 1, spatial only or with the non-spatial sizes in front) where such
    a size is at least 1, else with output_padding."""
    cfg = draw(transpose_configs(nd))
    s, k, d, p = (np.broadcast_to(cfg[key], nd).tolist()
                  for key in ("stride", "k", "dilation", "padding"))
    low = [(i - 1) * si - 2 * pi + di * (ki - 1) + 1
           for i, si, pi, di, ki in zip(cfg["size"], s, p, d, k)]
    cfg["output_size"] = None
    if all(lo + si - 1 >= 1 for lo, si in zip(low, s)) and draw(st.booleans()):
        cfg["output_padding"] = 0
        size = [draw(st.integers(max(lo, 1), lo + si - 1)) for lo, si in zip(low, s)]
        lead = [cfg["n"], cfg["cout"]] if cfg["batched"] else [cfg["cout"]]
        cfg["output_size"] = (lead + size) if draw(st.booleans()) else size
    return cfg


@pytest.mark.parametrize("nd,examples", [(1, 150), (2, 150), (3, 100)])
def test_module_conv_transpose_matches_torch(nd, examples, close, count_config):
    @settings(max_examples=examples)
    @given(cfg=module_configs(nd))
    def check(cfg):
        count_config(f"nn.ConvTranspose{nd}d")
        nd_, td = DTYPES[cfg["dtype"]]
        kw = dict(_functional_kwargs(cfg), bias=cfg["bias"])
        ours_cls, torch_cls = MODULES[nd]
        ours = ours_cls(cfg["cin"], cfg["cout"], cfg["k"], dtype=nd_, **kw)
        ref = torch_cls(cfg["cin"], cfg["cout"], cfg["k"], dtype=td, **kw)
        assert repr(ours) == repr(ref)
        assert tuple(ours.weight.shape) == tuple(ref.weight.shape)

        def run(layer):
            def forward(x, w, b):
                layer.weight, layer.bias = w, b
                return layer(x, output_size=cfg["output_size"])
            return forward
        _compare(cfg, run(ours), run(ref), close)
    check()


@pytest.mark.parametrize("kw", [
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(2, 1), dilation=(1, 3), output_padding=(1, 2), groups=2),
    dict(stride=1, dilation=2, output_padding=1, padding=(0, 2)),
    dict(stride=3, padding=(2, 0), output_padding=(2, 1), dilation=(1, 2)),
])
@pytest.mark.parametrize("batched", [True, False])
def test_conv_transpose2d_gradients_match_finite_differences(kw, batched, numeric_gradient):
    """float64 gradients of sum(y * r) against central differences, without torch;
    output_padding >= stride (below the dilation) included."""
    rng = np.random.default_rng(0)
    shapes = (2, 4, 3, 4), (4, 3, 2, 3), (3 * kw.get("groups", 1),)
    x, w, b = (rng.standard_normal(s) for s in shapes)
    x = x if batched else x[0]
    arrays = [x, w, b]
    shape = F.conv_transpose2d(*(npconv.tensor(a) for a in arrays), **kw).shape
    r = rng.standard_normal(tuple(shape))

    def loss():
        return float((F.conv_transpose2d(*(npconv.tensor(a) for a in arrays), **kw).numpy()
                      * r).sum())

    params = [nn.Parameter(npconv.tensor(a)) for a in arrays]
    (F.conv_transpose2d(*params, **kw) * npconv.tensor(r)).sum().backward()
    for p, a in zip(params, arrays):
        np.testing.assert_allclose(p.grad.numpy(), numeric_gradient(loss, a), rtol=1e-6,
                                   atol=1e-7)


@pytest.mark.parametrize("nd", [1, 3])
def test_conv_transpose_1d_3d_gradients_match_finite_differences(nd, numeric_gradient):
    rng = np.random.default_rng(nd)
    kw = dict(stride=2, padding=1, output_padding=1, dilation=2, groups=2)
    arrays = [rng.standard_normal((1, 4) + (3,) * nd), rng.standard_normal((4, 1) + (2,) * nd),
              rng.standard_normal(2)]
    fn = FUNCTIONALS[nd][0]
    r = rng.standard_normal(tuple(fn(*(npconv.tensor(a) for a in arrays), **kw).shape))

    def loss():
        return float((fn(*(npconv.tensor(a) for a in arrays), **kw).numpy() * r).sum())

    params = [nn.Parameter(npconv.tensor(a)) for a in arrays]
    (fn(*params, **kw) * npconv.tensor(r)).sum().backward()
    for p, a in zip(params, arrays):
        np.testing.assert_allclose(p.grad.numpy(), numeric_gradient(loss, a), rtol=1e-6,
                                   atol=1e-7)


def test_float16_and_int64_match_torch(close):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((4, 3, 3, 2)) * 0.3, \
        rng.standard_normal(6)
    kw = dict(stride=2, padding=1, output_padding=1, groups=2)
    ours = F.conv_transpose2d(*(npconv.tensor(a, dtype=npconv.float16) for a in (x, w, b)), **kw)
    ref = torch.nn.functional.conv_transpose2d(
        *(torch.tensor(a, dtype=torch.float16) for a in (x, w, b)), **kw)
    assert ours.dtype == npconv.float16
    close(ours.numpy(), ref.numpy(), "float16")
    xi, wi = rng.integers(-4, 4, (2, 4, 5, 6)), rng.integers(-3, 3, (4, 3, 3, 2))
    ours = F.conv_transpose2d(npconv.tensor(xi), npconv.tensor(wi), **kw)
    ref = torch.nn.functional.conv_transpose2d(torch.tensor(xi), torch.tensor(wi), **kw)
    assert ours.dtype == npconv.int64
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_grad_fn_is_named_as_torchs(nd):
    x, w = (1, 2) + (3,) * nd, (2, 3) + (2,) * nd
    ours = FUNCTIONALS[nd][0](nn.Parameter(npconv.ones(*x)), npconv.ones(*w))
    theirs = FUNCTIONALS[nd][1](torch.ones(*x, requires_grad=True), torch.ones(*w))
    assert ours.grad_fn.name() == type(theirs.grad_fn).__name__


def test_bias_of_another_float_dtype_is_cast_as_torch_does(close):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((2, 2, 2, 2)), \
        rng.standard_normal(2)
    ours = F.conv_transpose2d(npconv.tensor(x, dtype=npconv.float32),
                              npconv.tensor(w, dtype=npconv.float32),
                              nn.Parameter(npconv.tensor(b, dtype=npconv.float64)))
    ref = torch.nn.functional.conv_transpose2d(torch.tensor(x, dtype=torch.float32),
                                               torch.tensor(w, dtype=torch.float32),
                                               torch.tensor(b, dtype=torch.float64))
    assert ours.dtype == npconv.float32
    close(ours.detach().numpy(), ref.numpy(), "float32")


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_init_follows_torchs_fan_in_for_transposed_weights(nd):
    """torch's fan_in of a (C_in, C_out/g, *K) weight is C_out/g * prod(K): weight and bias
    are U(-1/sqrt(fan_in), 1/sqrt(fan_in)), filling that range."""
    npconv.manual_seed(0)
    cls = MODULES[nd][0]
    layer = cls(8, 60, 3, groups=2)
    bound = 1 / np.sqrt(60 // 2 * 3 ** nd)
    ref = MODULES[nd][1](8, 60, 3, groups=2)
    assert tuple(layer.weight.shape) == tuple(ref.weight.shape) == (8, 30) + (3,) * nd
    for ours, theirs in ((layer.weight, ref.weight), (layer.bias, ref.bias)):
        p, t = ours.detach().numpy(), theirs.detach().numpy()
        assert p.dtype == np.float32 and np.abs(p).max() <= bound
        assert np.abs(t).max() <= bound and np.abs(p).max() > 0.8 * bound
        assert abs(p.mean()) < 0.2 * bound


@pytest.mark.parametrize("build", [
    lambda n: n.ConvTranspose2d(2, 3, 3),
    lambda n: n.ConvTranspose2d(2, 4, (3, 2), stride=(2, 1), padding=1, output_padding=(1, 0),
                                groups=2, bias=False, dilation=2),
    lambda n: n.ConvTranspose1d(2, 3, 3, stride=2, output_padding=1),
    lambda n: n.ConvTranspose3d(2, 3, 3, padding=(1, 0, 0), dtype=None),
])
def test_repr_and_attributes_match_torch(build):
    ours, ref = build(nn), build(torch.nn)
    assert repr(ours) == repr(ref)
    for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                 "output_padding", "groups", "padding_mode", "transposed",
                 "_reversed_padding_repeated_twice"):
        assert tuple(np.atleast_1d(getattr(ours, name))) == \
            tuple(np.atleast_1d(getattr(ref, name))), name


# ---- errors -------------------------------------------------------------------------------


def _x(lib, *shape, dtype="float64"):
    return lib.ones(tuple(shape), dtype=getattr(lib, dtype))


def _t2(lib, x=(1, 4, 5, 5), w=(4, 2, 3, 3), **kw):
    """A conv_transpose2d call in float64 (torch's float32 grouped path runs oneDNN, whose
    checks differ from its own reference kernel's)."""
    return lib.nn.functional.conv_transpose2d(_x(lib, *x), _x(lib, *w), **kw)


ERRORS = {
    "output_padding == stride": lambda t: _t2(t, stride=2, output_padding=2),
    "output_padding one axis": lambda t: _t2(t, stride=2, output_padding=(1, 2)),
    "output_padding 1-d": lambda t: t.nn.functional.conv_transpose1d(
        _x(t, 1, 4, 5), _x(t, 4, 2, 2), stride=2, output_padding=2),
    "output_padding 3-d": lambda t: t.nn.functional.conv_transpose3d(
        _x(t, 1, 4, 3, 3, 3), _x(t, 4, 2, 2, 2, 2), stride=2, output_padding=(1, 2, 1)),
    "output_padding grouped": lambda t: _t2(t, x=(4, 5, 5), w=(4, 2, 2, 2), groups=2,
                                            output_padding=1),
    "negative output_padding": lambda t: _t2(t, stride=-1, output_padding=-1),
    "negative padding": lambda t: _t2(t, padding=(-1, 1), groups=3),
    "non-positive stride": lambda t: _t2(t, stride=(1, 0)),
    "negative dilation": lambda t: _t2(t, dilation=-1, groups=3),
    "zero dilation": lambda t: _t2(t, dilation=(1, 0), output_padding=3),
    "zero dilation 1-d": lambda t: t.nn.functional.conv_transpose1d(
        _x(t, 1, 4, 5), _x(t, 4, 2, 2), dilation=0),
    "zero dilation 3-d": lambda t: t.nn.functional.conv_transpose3d(
        _x(t, 1, 4, 3, 3, 3), _x(t, 4, 2, 2, 2, 2), dilation=(1, 0, 1)),
    "non-positive groups": lambda t: _t2(t, groups=0, padding=-1),
    "groups not dividing": lambda t: _t2(t, groups=3),
    "groups above weight": lambda t: _t2(t, x=(8, 5, 5), groups=8),
    "channels": lambda t: _t2(t, w=(3, 2, 3, 3), output_padding=3),
    "channels unbatched": lambda t: t.nn.functional.conv_transpose1d(
        _x(t, 4, 5), _x(t, 3, 2, 2)),
    "bias size": lambda t: _t2(t, bias=_x(t, 3)),
    "bias grouped": lambda t: t.nn.functional.conv_transpose2d(
        _x(t, 1, 4, 5, 5), _x(t, 4, 2, 3, 3), _x(t, 3), groups=2),
    "bias 2-d": lambda t: _t2(t, bias=_x(t, 2, 1)),
    "input 2-d": lambda t: _t2(t, x=(4, 5)),
    "input 5-d": lambda t: _t2(t, x=(1, 4, 5, 5, 5)),
    "input 4-d to 1-d": lambda t: t.nn.functional.conv_transpose1d(
        _x(t, 1, 4, 5, 5), _x(t, 4, 2, 3)),
    "input 3-d to 3-d": lambda t: t.nn.functional.conv_transpose3d(
        _x(t, 1, 4, 5), _x(t, 4, 2, 3)),
    "weight 5-d": lambda t: _t2(t, w=(4, 2, 3, 3, 3)),
    "weight 5-d expanded": lambda t: _t2(t, w=(4, 2, 3, 3, 3), stride=(1,), padding=(0,),
                                         output_padding=(0,), dilation=(1,)),
    "weight 2-d": lambda t: _t2(t, w=(4, 2), stride=(1,), padding=(0,), output_padding=(0,),
                                dilation=(1,)),
    "stride of 3": lambda t: _t2(t, stride=(1, 2, 3), padding=-1),
    "padding of 3": lambda t: _t2(t, padding=(1, 2, 3)),
    "output_padding of 3": lambda t: _t2(t, output_padding=(0, 0, 0)),
    "empty stride": lambda t: _t2(t, stride=()),
    "zero kernel": lambda t: _t2(t, w=(4, 2, 0, 3), dilation=0),
    "zero kernel 1-d": lambda t: t.nn.functional.conv_transpose1d(
        _x(t, 1, 4, 5), _x(t, 4, 2, 0)),
    "zero kernel 3-d": lambda t: t.nn.functional.conv_transpose3d(
        _x(t, 1, 4, 5, 5, 5), _x(t, 4, 2, 0, 2, 2), dilation=0),
    "empty spatial": lambda t: _t2(t, x=(1, 4, 0, 5), padding=1),
    "empty spatial 1-d": lambda t: t.nn.functional.conv_transpose1d(
        _x(t, 1, 4, 0), _x(t, 4, 2, 2)),
    "output too small": lambda t: _t2(t, padding=5),
    "output zero": lambda t: _t2(t, w=(4, 2, 2, 2), padding=(3, 0)),
    "output too small 1-d": lambda t: t.nn.functional.conv_transpose1d(
        _x(t, 1, 4, 5), _x(t, 4, 2, 2), padding=3),
    "output too small 3-d": lambda t: t.nn.functional.conv_transpose3d(
        _x(t, 1, 4, 5, 5, 5), _x(t, 4, 2, 2, 2, 2), padding=(0, 0, 3)),
    "float input, double weight": lambda t: t.nn.functional.conv_transpose2d(
        _x(t, 1, 4, 5, 5, dtype="float32"), _x(t, 4, 2, 3, 3)),
    "half input, float weight": lambda t: t.nn.functional.conv_transpose2d(
        _x(t, 1, 4, 5, 5, dtype="float16"), _x(t, 4, 2, 3, 3, dtype="float32")),
    "long input, float weight": lambda t: t.nn.functional.conv_transpose2d(
        _x(t, 1, 4, 5, 5, dtype="int64"), _x(t, 4, 2, 3, 3, dtype="float32")),
    "long input, float bias": lambda t: t.nn.functional.conv_transpose2d(
        _x(t, 1, 4, 5, 5, dtype="int64"), _x(t, 4, 2, 3, 3, dtype="int64"),
        _x(t, 2, dtype="float32")),
    "int input": lambda t: t.nn.functional.conv_transpose2d(
        _x(t, 1, 4, 5, 5, dtype="int32"), _x(t, 4, 2, 3, 3, dtype="float32")),
    "bool input 3-d": lambda t: t.nn.functional.conv_transpose3d(
        _x(t, 1, 4, 5, 5, 5, dtype="bool"), _x(t, 4, 2, 2, 2, 2, dtype="bool")),
    "dtype checked after shapes": lambda t: t.nn.functional.conv_transpose2d(
        _x(t, 1, 4, 5, 5, dtype="int32"), _x(t, 4, 2, 3, 3), padding=4),
    "input not a tensor": lambda t: t.nn.functional.conv_transpose2d([1], _x(t, 4, 2, 3, 3)),
    "weight not a tensor": lambda t: t.nn.functional.conv_transpose2d(_x(t, 1, 4, 5, 5), [1]),
    "bias not a tensor": lambda t: _t2(t, bias=[1, 2]),
    "float stride": lambda t: _t2(t, stride=1.5),
    "float in stride": lambda t: _t2(t, stride=(1.5, 1)),
    "bool stride": lambda t: _t2(t, stride=True),
    "padding string": lambda t: _t2(t, padding="same"),
    "float groups": lambda t: _t2(t, groups=2.0),
    "module padding_mode": lambda t: t.nn.ConvTranspose2d(2, 3, 3, padding_mode="reflect"),
    "module bad padding_mode": lambda t: t.nn.ConvTranspose1d(2, 3, 3, padding_mode="bad"),
    "module groups 0": lambda t: t.nn.ConvTranspose2d(2, 3, 3, groups=0),
    "module out_channels % groups": lambda t: t.nn.ConvTranspose2d(2, 3, 3, groups=2),
    "module in_channels % groups": lambda t: t.nn.ConvTranspose3d(3, 4, 3, groups=2),
    "module output_padding": lambda t: t.nn.ConvTranspose2d(2, 3, 3, output_padding=2)(
        _x(t, 1, 2, 4, 4, dtype="float32")),
    "module output_size length": lambda t: t.nn.ConvTranspose2d(2, 3, 3, stride=2)(
        _x(t, 1, 2, 5, 5, dtype="float32"), output_size=(1, 10, 10)),
    "module output_size length unbatched": lambda t: t.nn.ConvTranspose1d(2, 3, 3, stride=3)(
        _x(t, 2, 4, dtype="float32"), output_size=[1, 2, 5]),
    "module output_size length 5-d": lambda t: t.nn.ConvTranspose2d(2, 3, 3, stride=3)(
        _x(t, 2, 4, 4, 4, 4, dtype="float32"), output_size=[5, 5, 5]),
    "module output_size too large": lambda t: t.nn.ConvTranspose2d(2, 3, 3, stride=2,
                                                                   padding=1)(
        _x(t, 1, 2, 5, 5, dtype="float32"), output_size=(11, 11)),
    "module output_size too small": lambda t: t.nn.ConvTranspose2d(2, 3, 3, stride=2,
                                                                   padding=1)(
        _x(t, 1, 2, 5, 5, dtype="float32"), output_size=(1, 3, 8, 10)),
    "module output_size unreachable at stride 1": lambda t: t.nn.ConvTranspose2d(
        2, 3, 3, padding=1, dilation=2, output_padding=1)(
        _x(t, 1, 2, 5, 5, dtype="float32"), output_size=(8, 8)),
}

# torch's own text names torch.Size and, for unbatched input, the wrong axes; ours says
# "spatial size [..]": compare the part before it
_UP_TO = {"module output_size": " (for an input of"}


# Where the CPU has oneDNN's fp16 support (this machine's Xeon, not the AMD CI-class machine),
# torch hands a half conv_transpose to oneDNN and words a dtype mismatch as oneDNN does; npconv
# gives the native path's words, the same two dtypes in ATen's scalar-type names.
_ONEDNN_MISMATCH = re.compile(r"Input type \(torch\.(\w+)Tensor\) and weight type "
                              r"\(torch\.(\w+)Tensor\) should be the same or input should be a "
                              r"MKLDNN tensor")


def _torch_text(name, theirs):
    """The part of torch's message ours must begin with: all of it, but for TypeErrors (whose
    wording depends on how torch's parser was reached) the words up to the expected type, for
    output_size errors the part before torch's torch.Size, and oneDNN's dtype-mismatch wording
    as the native path's."""
    text = str(theirs)
    onednn = _ONEDNN_MISMATCH.match(text)
    if onednn:
        return "expected scalar type {} but found {}".format(*onednn.groups())
    if isinstance(theirs, TypeError):
        return re.match(r".*?must be (tuple of ints|Tensor|int)", text).group(0)
    for prefix, cut in _UP_TO.items():
        if name.startswith(prefix) and cut in text:
            return text.split(cut)[0]
    return text


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name, raised):
    ours, theirs = (raised(lambda lib=lib: ERRORS[name](lib)) for lib in (npconv, torch))
    assert theirs is not None, f"torch accepts {name}"
    assert ours is not None, f"npconv accepted {name}; torch raised {theirs!r}"
    assert type(ours) is type(theirs), f"{name}: {ours!r} vs {theirs!r}"
    assert str(ours).startswith(_torch_text(name, theirs)), (str(ours), str(theirs))


def test_output_size_error_says_which_sizes_are_reachable():
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    with pytest.raises(ValueError) as info:
        layer(npconv.ones(2, 5, 5), output_size=(11, 11))
    text = str(info.value)
    assert text.startswith("requested an output size of (11, 11), but valid sizes range from "
                           "[9, 9] to [10, 10]")
    assert "spatial size [5, 5]" in text and "9 to 10" in text


def test_padding_strings_are_rejected_when_the_layer_is_built():
    """torch keeps padding='same' as the tuple ('s', 'a', 'm', 'e') and fails in forward with
    this TypeError; npconv raises it where the mistake is made."""
    with pytest.raises(TypeError, match=r"^conv_transpose2d\(\): argument 'padding' must be "
                                        r"tuple of ints.*'same'"):
        nn.ConvTranspose2d(2, 3, 3, padding="same")
    with pytest.raises(TypeError):
        torch.nn.ConvTranspose2d(2, 3, 3, padding="same")(torch.ones(1, 2, 5, 5))


def test_accepts_what_torch_accepts():
    """Odd but valid: one-element tuples for every axis, output_padding >= stride when below
    the dilation, lists, an empty batch."""
    for kw, shape in ((dict(stride=(2,), padding=[1]), (1, 2, 9, 9)),
                      (dict(stride=(2, 1), output_padding=(1, 1), dilation=(1, 2)),
                       (1, 2, 12, 10)),
                      (dict(padding=(2, 1)), (1, 2, 3, 5))):
        assert tuple(F.conv_transpose2d(npconv.ones(1, 4, 5, 5), npconv.ones(4, 2, 3, 3),
                                        **kw).shape) == shape
        assert tuple(torch.nn.functional.conv_transpose2d(
            torch.ones(1, 4, 5, 5), torch.ones(4, 2, 3, 3), **kw).shape) == shape
    assert tuple(F.conv_transpose2d(npconv.ones(0, 4, 5, 5), npconv.ones(4, 2, 3, 3)).shape) \
        == (0, 2, 7, 7)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_geometry_is_the_layers_transposed_spec(nd):
    """layer.geometry (as for every conv layer) is a transposed ConvSpec whose output_size is
    the shape the layer produces, torch's too."""
    kw = dict(stride=(2, 3, 1)[:nd], padding=(1, 0, 2)[:nd], output_padding=(1, 2, 0)[:nd],
              dilation=(1, 2, 3)[:nd])
    layer, ref = (cls(2, 3, (3, 2, 2)[:nd], **kw) for cls in MODULES[nd])
    spec, size = layer.geometry, (5, 4, 3)[:nd]
    assert spec.transposed and spec.output_padding == kw["output_padding"]
    assert spec.output_size(size) == tuple(layer(npconv.ones(2, *size)).shape[1:]) == \
        tuple(ref(torch.ones(2, *size)).shape[1:])
