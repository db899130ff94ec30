"""The pooling family against torch: max, average, adaptive average and adaptive max pooling
in 1, 2 and 3 dimensions, functionals and modules. Forward (with indices) and input gradients
over random configurations at float32 and float64, float64 finite differences without torch,
reprs, geometry, dtypes, and the errors torch raises (same type, torch's message first)."""
import functools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import npconv
import npconv.nn as nn
import npconv.nn.functional as F
from npconv.kernels.geometry import AdaptivePoolSpec, PoolSpec

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = {"float32": (npconv.float32, torch.float32), "float64": (npconv.float64, torch.float64)}
dtype_names = st.sampled_from(sorted(DTYPES))


def examples(n):
    """Hypothesis settings; the close/count_config fixtures hold no per-example state."""
    return settings(max_examples=n, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])



def compare(ours_fn, torch_fn, x, dtype, close, grad=True, exact=False, seed=0):
    """Run both on x (a leaf that requires grad) and, with grad, the same upstream gradient;
    compare the output (exactly when exact: max pooling, whose -inf windows close() cannot
    take), indices exactly, and the input gradient. Returns our output."""
    nd, td = DTYPES[dtype]
    ours, theirs = (npconv.tensor(x, dtype=nd, requires_grad=True),
                    torch.tensor(x, dtype=td, requires_grad=True))
    y, ty = ours_fn(ours), torch_fn(theirs)
    (y, *idx), (ty, *tidx) = (y if isinstance(y, tuple) else (y,),
                              ty if isinstance(ty, tuple) else (ty,))
    assert y.dtype.name == dtype and len(idx) == len(tidx)
    if exact:
        np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    else:
        close(y.detach().numpy(), ty.detach().numpy(), dtype, "output")
    for i, ti in zip(idx, tidx):
        assert i.dtype == npconv.int64 and np.array_equal(i.numpy(), ti.numpy())
    if grad:
        gy = np.random.default_rng(seed).standard_normal(ty.shape)
        y.backward(npconv.tensor(gy, dtype=nd))
        ty.backward(torch.tensor(gy, dtype=td))
        close(ours.grad.numpy(), theirs.grad.numpy(), dtype, "input gradient")
    return y


# ---- random configurations ------------------------------------------------------------------
def _form(draw, values, one=True):
    """An argument as torch takes it: a tuple or a list, an int when all axes agree, and (not
    for output sizes) a 1-tuple, which 2-d/3-d pooling broadcasts to every axis."""
    forms = ["tuple", "list"]
    if len(set(values)) == 1 and values[0] is not None:
        forms += ["int"] + ["one"] * one
    form = draw(st.sampled_from(forms))
    return {"int": values[0], "one": (values[0],), "tuple": tuple(values),
            "list": list(values)}[form]


def _shape(draw, size, small):
    """(N, C, *size), or unbatched (C, *size)."""
    c = draw(st.integers(1, 2 if small else 3))
    if draw(st.booleans()):
        return (c, *size)
    return (draw(st.integers(1, 1 if small else 2)), c, *size)


@st.composite
def pool_configs(draw, kind, small=False):
    """kind "max" or "avg": n spatial axes, per-axis kernel/stride/padding (pad <= k/2; max
    also dilation), sizes that fit at least one window (avg_pool3d: at least the kernel)."""
    n = draw(st.integers(1, 3))
    top = 4 if n < 3 and not small else 3
    k = [draw(st.integers(1, top)) for _ in range(n)]
    d = [draw(st.integers(1, 3)) for _ in range(n)] if kind == "max" else [1] * n
    p = [draw(st.integers(0, ki // 2)) for ki in k]
    stride = draw(st.one_of(st.none(), st.lists(st.integers(1, 3), min_size=n, max_size=n)))
    low = [max(1, di * (ki - 1) + 1 - 2 * pi, ki if kind == "avg" and n == 3 else 1)
           for ki, di, pi in zip(k, d, p)]
    size = [draw(st.integers(lo, lo + (3 if n == 3 or small else 6))) for lo in low]
    args = dict(kernel_size=_form(draw, k), stride=stride and _form(draw, stride),
                padding=_form(draw, p), ceil_mode=draw(st.booleans()))
    if kind == "max":
        args["dilation"] = _form(draw, d)
    return dict(n=n, shape=_shape(draw, size, small), args=args)


def _divisors(i):
    return [o for o in range(1, i + 1) if i % o == 0]


@st.composite
def adaptive_configs(draw, small=False):
    """Input sizes and output sizes: divisors (uniform windows), others (overlapping windows,
    larger than the input too), None (keeps the axis; 2-d/3-d only)."""
    n = draw(st.integers(1, 3))
    size = [draw(st.integers(1, 5 if n == 3 or small else 9)) for _ in range(n)]
    out = [draw(st.one_of(st.sampled_from(_divisors(i)), st.integers(1, i + 3))) for i in size]
    out = [None if n > 1 and draw(st.integers(0, 4)) == 0 else o for o in out]
    return dict(n=n, shape=_shape(draw, size, small), output_size=_form(draw, out, one=False))


def _input(shape, seed, ties=False):
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.round(x) if ties else x  # rounding makes windows with tied maxima


def _every_window_holds_input(size, spec: PoolSpec):
    """Padding plus dilation can make a window of padding only: torch then gives -inf and an
    index outside the plane, whose gradient lands elsewhere; its gradient is not compared."""
    return all(any(0 <= o * s - p + j * d < i for j in range(k))
               for i, o, k, s, (p, _), d in zip(size, spec.output_size(size), spec.kernel_size,
                                                spec.stride, spec.padding, spec.dilation)
               for o in range(o))


@examples(300)
@given(cfg=pool_configs("max"), return_indices=st.booleans(), ties=st.booleans(),
       dtype=dtype_names, seed=st.integers(0, 2**31))
def test_max_pool_matches_torch(cfg, return_indices, ties, dtype, seed, close, count_config):
    count_config("max_pool")
    n, args = cfg["n"], cfg["args"]
    close = functools.partial(close, family="max_pool")
    x = _input(cfg["shape"], seed, ties)
    ours = getattr(nn, f"MaxPool{n}d")(**args, return_indices=return_indices)
    ref = getattr(torch.nn, f"MaxPool{n}d")(**args, return_indices=return_indices)
    assert repr(ours) == repr(ref)
    size = x.shape[-n:]
    grad = _every_window_holds_input(size, ours.geometry)
    fn, tfn = getattr(F, f"max_pool{n}d"), getattr(TF, f"max_pool{n}d")
    y = compare(lambda t: fn(t, **args, return_indices=return_indices),
                lambda t: tfn(t, **args, return_indices=return_indices), x, dtype, close, grad,
                exact=True)
    compare(ours, ref, x, dtype, close, grad, exact=True)
    assert ours.geometry.output_size(size) == tuple(y.shape[-n:])


@examples(300)
@given(cfg=pool_configs("avg"), count_include_pad=st.booleans(),
       divisor=st.one_of(st.none(), st.integers(-3, 7).filter(bool)), dtype=dtype_names,
       seed=st.integers(0, 2**31))
def test_avg_pool_matches_torch(cfg, count_include_pad, divisor, dtype, seed, close,
                                count_config):
    count_config("avg_pool")
    n, args = cfg["n"], dict(cfg["args"], count_include_pad=count_include_pad)
    if n > 1:  # avg_pool1d has no divisor_override
        args["divisor_override"] = divisor
    close = functools.partial(close, family="avg_pool")
    x = _input(cfg["shape"], seed)
    ours, ref = getattr(nn, f"AvgPool{n}d")(**args), getattr(torch.nn, f"AvgPool{n}d")(**args)
    assert repr(ours) == repr(ref)
    fn, tfn = getattr(F, f"avg_pool{n}d"), getattr(TF, f"avg_pool{n}d")
    y = compare(lambda t: fn(t, **args), lambda t: tfn(t, **args), x, dtype, close)
    compare(ours, ref, x, dtype, close)
    assert ours.geometry.output_size(x.shape[-n:]) == tuple(y.shape[-n:])


@examples(300)
@given(cfg=adaptive_configs(), dtype=dtype_names, seed=st.integers(0, 2**31))
def test_adaptive_avg_pool_matches_torch(cfg, dtype, seed, close, count_config):
    count_config("adaptive_avg_pool")
    n, out = cfg["n"], cfg["output_size"]
    close = functools.partial(close, family="adaptive_avg_pool")
    x = _input(cfg["shape"], seed)
    ours = getattr(nn, f"AdaptiveAvgPool{n}d")(out)
    ref = getattr(torch.nn, f"AdaptiveAvgPool{n}d")(out)
    assert repr(ours) == repr(ref)
    fn, tfn = getattr(F, f"adaptive_avg_pool{n}d"), getattr(TF, f"adaptive_avg_pool{n}d")
    y = compare(lambda t: fn(t, out), lambda t: tfn(t, out), x, dtype, close)
    compare(ours, ref, x, dtype, close)
    assert ours.geometry.output_size(x.shape[-n:]) == tuple(y.shape[-n:])


@examples(300)
@given(cfg=adaptive_configs(), return_indices=st.booleans(), ties=st.booleans(),
       dtype=dtype_names, seed=st.integers(0, 2**31))
def test_adaptive_max_pool_matches_torch(cfg, return_indices, ties, dtype, seed, close,
                                         count_config):
    count_config("adaptive_max_pool")
    n, out = cfg["n"], cfg["output_size"]
    close = functools.partial(close, family="adaptive_max_pool")
    x = _input(cfg["shape"], seed, ties)
    ours = getattr(nn, f"AdaptiveMaxPool{n}d")(out, return_indices)
    ref = getattr(torch.nn, f"AdaptiveMaxPool{n}d")(out, return_indices)
    assert repr(ours) == repr(ref)
    fn, tfn = getattr(F, f"adaptive_max_pool{n}d"), getattr(TF, f"adaptive_max_pool{n}d")
    y = compare(lambda t: fn(t, out, return_indices), lambda t: tfn(t, out, return_indices),
                x, dtype, close, exact=True)
    compare(ours, ref, x, dtype, close, exact=True)
    assert ours.geometry.output_size(x.shape[-n:]) == tuple(y.shape[-n:])


# ---- finite differences (no torch) ----------------------------------------------------------
def _check_gradient(fn, shape, seed, numeric_gradient):
    """d sum(fn(x) * w) / dx by backward against central differences, at float64, on distinct
    input values spaced far wider than the difference step (no ties for max pooling)."""
    rng = np.random.default_rng(seed)
    size = math.prod(shape)
    x = (rng.permutation(size).reshape(shape) + rng.uniform(0.1, 0.9, shape)) / size
    t = npconv.tensor(x, dtype=npconv.float64, requires_grad=True)
    y = fn(t)
    w = rng.standard_normal(y.shape)
    (y * npconv.tensor(w)).sum().backward()
    numeric = numeric_gradient(lambda: float((fn(npconv.tensor(x)).numpy() * w).sum()), x)
    np.testing.assert_allclose(t.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


@examples(12)
@given(cfg=pool_configs("max", small=True), seed=st.integers(0, 2**31))
def test_max_pool_gradient_matches_finite_differences(cfg, seed, numeric_gradient):
    n, args = cfg["n"], cfg["args"]
    layer = getattr(nn, f"MaxPool{n}d")(**args)
    if _every_window_holds_input(cfg["shape"][-n:], layer.geometry):  # else -inf outputs
        _check_gradient(layer, cfg["shape"], seed, numeric_gradient)


@examples(12)
@given(cfg=pool_configs("avg", small=True), count_include_pad=st.booleans(),
       seed=st.integers(0, 2**31))
def test_avg_pool_gradient_matches_finite_differences(cfg, count_include_pad, seed,
                                                      numeric_gradient):
    n = cfg["n"]
    layer = getattr(nn, f"AvgPool{n}d")(**cfg["args"], count_include_pad=count_include_pad)
    _check_gradient(layer, cfg["shape"], seed, numeric_gradient)


@examples(12)
@given(cfg=adaptive_configs(small=True), seed=st.integers(0, 2**31))
def test_adaptive_pool_gradients_match_finite_differences(cfg, seed, numeric_gradient):
    n, out = cfg["n"], cfg["output_size"]
    for layer in (getattr(nn, f"AdaptiveAvgPool{n}d")(out),
                  getattr(nn, f"AdaptiveMaxPool{n}d")(out)):
        _check_gradient(layer, cfg["shape"], seed, numeric_gradient)


# ---- values, dtypes, geometry ---------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3])
def test_nan_wins_its_window_and_ties_keep_the_first_cell(n):
    """torch's scan: a NaN beats everything (the last NaN wins), ties keep the first cell."""
    rng = np.random.default_rng(n)
    x = np.round(rng.standard_normal((2, 3) + (7,) * n))
    x[rng.random(x.shape) < 0.1] = np.nan
    for ours, theirs in ((lambda t: F.__dict__[f"max_pool{n}d"](t, 3, 2, 1, 1, True, True),
                          lambda t: TF.__dict__[f"max_pool{n}d"](t, 3, 2, 1, 1, True, True)),
                         (lambda t: F.__dict__[f"adaptive_max_pool{n}d"](t, 3, True),
                          lambda t: TF.__dict__[f"adaptive_max_pool{n}d"](t, 3, True))):
        (y, i), (ty, ti) = ours(npconv.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_array_equal(y.numpy(), ty.numpy())
        np.testing.assert_array_equal(i.numpy(), ti.numpy())


def test_max_pool_window_over_padding_only_is_minus_inf_and_passes_no_gradient():
    """torch gives -inf and an index past the plane; its own backward then writes out of
    bounds, npconv passes nothing."""
    x = npconv.tensor(np.arange(2.0).reshape(1, 1, 1, 2), requires_grad=True)
    args = (3, 1), (3, 2), (1, 0), (2, 1), True, True
    (y, i), (ty, ti) = F.max_pool2d(x, *args), TF.max_pool2d(torch.arange(2.0).reshape(x.shape),
                                                              *args)
    np.testing.assert_array_equal(y.detach().numpy(), ty.numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    assert np.isneginf(y.detach().numpy()).all()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)


@pytest.mark.parametrize("fn,args", [
    ("max_pool1d", (3, 2, 1)), ("max_pool2d", ((2, 3), 2, 1, 1, True)), ("avg_pool1d", (3, 2, 1)),
    ("avg_pool2d", (3, 2, 1, False, False)), ("adaptive_avg_pool1d", (3,)),
    ("adaptive_avg_pool2d", ((3, 2),)), ("adaptive_max_pool2d", (3,)),
    ("adaptive_max_pool1d", (4,)), ("max_pool3d", (2, 2, 1)), ("adaptive_avg_pool3d", (2,))])
def test_float16_matches_torch(fn, args):
    x = np.random.default_rng(0).standard_normal((2, 3) + (7, 6, 5)[:int(fn[-2])])
    y = getattr(F, fn)(npconv.tensor(x, dtype=npconv.float16), *args)
    ref = getattr(TF, fn)(torch.tensor(x, dtype=torch.float16), *args)
    assert y.dtype == npconv.float16
    np.testing.assert_allclose(y.numpy().astype(np.float64), ref.numpy().astype(np.float64),
                               rtol=2e-3, atol=2e-3)


def test_float16_avg_pool3d_runs_where_torchs_cpu_kernel_refuses():
    """torch's avg_pool3d has no Half CPU kernel; npconv accumulates in float32 as for 2-d."""
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 5, 4))
    y = F.avg_pool3d(npconv.tensor(x, dtype=npconv.float16), 2, 1, 1, False, False)
    ref = TF.avg_pool3d(torch.tensor(x, dtype=torch.float32), 2, 1, 1, False, False)
    assert y.dtype == npconv.float16
    np.testing.assert_allclose(y.numpy().astype(np.float64), ref.numpy(), rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("fn,args,dtype", [
    ("max_pool2d", (3, 2, 1), "int64"), ("max_pool2d", (2,), "uint8"),
    ("max_pool3d", ((2, 2, 3), 1, 1), "int32"), ("max_pool1d", (3, 1, 1, 1, False, True), "int8"),
    ("avg_pool2d", (3, 2, 1), "int64"), ("avg_pool1d", (2,), "int64"),
    ("avg_pool3d", (2, 1, 1, False, True, -3), "int64")])
def test_integer_inputs_pool_as_torchs(fn, args, dtype):
    """torch max-pools every integer type (padding below every value) and average-pools int64
    (the sum divided, truncated toward zero)."""
    shape = (2, 3) + (7, 6, 5)[:int(fn[-2])]
    x = np.random.default_rng(0).integers(0 if dtype == "uint8" else -50, 50, shape)
    ours = getattr(F, fn)(npconv.tensor(x.astype(dtype)), *args)
    theirs = getattr(TF, fn)(torch.tensor(x.astype(dtype)), *args)
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    for a, b in zip(ours, theirs):
        assert a.dtype.name == str(b.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("fn,shape,out", [
    ("adaptive_avg_pool2d", (2, 0, 5, 6), 3), ("adaptive_avg_pool1d", (0, 5), 2),
    ("adaptive_max_pool2d", (0, 5, 6), (2, None)), ("adaptive_avg_pool2d", (2, 3, 5, 6), 0),
    ("adaptive_max_pool1d", (2, 3, 5), 0), ("adaptive_avg_pool3d", (0, 3, 4, 5), (None, 2, 0)),
    ("max_pool2d", (0, 3, 5, 6), 2), ("avg_pool1d", (0, 3, 5), 2)])
def test_empty_shapes_torch_accepts(fn, shape, out):
    """Empty batches everywhere, empty channels for adaptive pooling, output sizes of 0; the
    gradient of nothing is zeros (torch's adaptive backward refuses a size-0 output)."""
    x = npconv.zeros(*shape, requires_grad=True)
    y = getattr(F, fn)(x, out)
    assert y.shape == getattr(TF, fn)(torch.zeros(*shape), out).shape
    y.sum().backward()
    assert x.grad.shape == x.shape and not x.grad.numpy().any()


@pytest.mark.parametrize("fn,shape,out", [
    ("adaptive_avg_pool2d", (2, 3, 5, 4), 1), ("adaptive_avg_pool2d", (5, 4), 1),
    ("adaptive_avg_pool2d", (2, 1, 3, 1, 4), (None, 1)), ("adaptive_avg_pool3d", (4, 5, 3), 1),
    ("adaptive_avg_pool3d", (2, 0, 4, 5, 3), 1), ("adaptive_avg_pool1d", (3, 7), 1)])
def test_global_average_pools_the_last_axes_of_any_rank_as_torch(fn, shape, out, close):
    """An all-ones output is torch's input.mean() over the last axes: ResNet's head, and any
    rank from the pooled axes up."""
    x = np.random.default_rng(0).standard_normal(shape)
    compare(lambda t: getattr(F, fn)(t, out), lambda t: getattr(TF, fn)(t, out), x, "float64",
            close)


def test_global_average_of_an_empty_axis_is_refused_where_torch_gives_nan():
    assert TF.adaptive_avg_pool2d(torch.ones(2, 3, 0, 4), 1).isnan().all()
    with pytest.raises(RuntimeError, match="^adaptive_avg_pool2d.*dimension 2 being empty"):
        F.adaptive_avg_pool2d(npconv.ones(2, 3, 0, 4), 1)


def test_geometry_of_every_pooling_module():
    assert nn.MaxPool2d(3, 2, 1, 2, ceil_mode=True).geometry == PoolSpec(
        (3, 3), (2, 2), ((1, 1), (1, 1)), (2, 2), True)
    assert nn.MaxPool1d((3,), None, 1).geometry == PoolSpec((3,), (3,), ((1, 1),), (1,))
    assert nn.AvgPool3d((1, 2, 3), padding=(0, 1, 1)).geometry == PoolSpec(
        (1, 2, 3), (1, 2, 3), ((0, 0), (1, 1), (1, 1)), (1, 1, 1))
    assert nn.AvgPool1d(4, 2).geometry.output_size((9,)) == (3,)
    assert nn.AdaptiveAvgPool2d((None, 7)).geometry == AdaptivePoolSpec((None, 7))
    assert nn.AdaptiveAvgPool2d((1, 1)).geometry.output_size((7, 5)) == (1, 1)
    assert nn.AdaptiveMaxPool3d(2).geometry.windows((5, 4, 4))[0] == [(0, 3), (2, 5)]
    assert nn.AdaptiveMaxPool1d(3, True).geometry == AdaptivePoolSpec((3,))
    with pytest.raises(RuntimeError, match="^pad should be at most half of effective kernel"):
        nn.AvgPool2d(2, padding=2).geometry  # noqa: B018 - the property raises
    with pytest.raises(AttributeError):
        nn.MaxPool2d(2).geometry = None


REPRS = [
    lambda m: m.MaxPool1d(3), lambda m: m.MaxPool1d((3,), 2, 1, 2, True, True),
    lambda m: m.MaxPool2d(2), lambda m: m.MaxPool2d((2, 3), 1, 1, 2, ceil_mode=True),
    lambda m: m.MaxPool3d([2, 1, 2], (1, 2, 1)), lambda m: m.AvgPool1d(3),
    lambda m: m.AvgPool1d((3,), 1, 1, True, False), lambda m: m.AvgPool2d(2),
    lambda m: m.AvgPool2d((2, 3), padding=(1, 0), divisor_override=2),
    lambda m: m.AvgPool3d(2, (1, 2, 2), 1, True), lambda m: m.AdaptiveAvgPool1d(5),
    lambda m: m.AdaptiveAvgPool2d((1, 1)), lambda m: m.AdaptiveAvgPool2d((None, 7)),
    lambda m: m.AdaptiveAvgPool3d([2, None, 3]), lambda m: m.AdaptiveMaxPool1d(4, True),
    lambda m: m.AdaptiveMaxPool2d(7), lambda m: m.AdaptiveMaxPool3d((1, 2, 3)),
]


@pytest.mark.parametrize("i", range(len(REPRS)))
def test_repr_matches_torch(i):
    assert repr(REPRS[i](nn)) == repr(REPRS[i](torch.nn))


def test_every_pooling_name_is_exported_as_torchs():
    for name in ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
                 "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
                 "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d"]:
        assert name in nn.__all__ and issubclass(getattr(nn, name), nn.Module)
        fn = "_".join(["adaptive"] * name.startswith("Adaptive") + [
            name.removeprefix("Adaptive")[:3].lower() + "_pool" + name[-2:]])
        assert fn in F.__all__ and callable(getattr(F, fn)) and hasattr(TF, fn)


# ---- errors ---------------------------------------------------------------------------------
def _plain_cases():
    """(name, functional, input shape, args, kwargs, input dtype) for max/avg pooling."""
    cases = []
    for n in (1, 2, 3):
        full, size8 = (2, 3) + (8,) * n, (8,) * n
        for fn, kw in ((f"max_pool{n}d", {}), (f"max_pool{n}d", {"return_indices": True}),
                       (f"avg_pool{n}d", {})):
            tag = fn + (" with indices" if kw else "")

            def add(what, args=(2,), shape=full, dtype="float32", **more):
                cases.append((f"{tag}: {what}", fn, shape, args, {**kw, **more}, dtype))
            add("kernel of n+1", ((2,) * (n + 1),))
            add("empty kernel", ((),))
            add("stride of n+1", (2, (1,) * (n + 1)))
            add("padding of n+1", (2, 2, (0,) * (n + 1)))
            add("pad > half kernel", (2,), padding=2)
            add("negative pad", (2, 2, -1))
            add("negative pad on the last axis", (2, 2, (0,) * (n - 1) + (-1,)))
            add("zero stride", (2, 0))
            add("zero stride on one axis", (2, (1,) * (n - 1) + (0,)))
            add("negative stride", (2, -1))
            add("zero kernel", (0,))
            add("negative kernel", (-1, 1))
            add("zero kernel on one axis", ((2,) * (n - 1) + (0,), 1))
            add("float kernel", (2.0,))
            add("bool kernel", (True,))
            add("str kernel", ("2",))
            add("None kernel", (None,))
            add("float first in tuple", ((2.5,) + (2,) * (n - 1),))
            add("float last in tuple", ((2,) * n + (2.5,),))
            add("float stride", (2, 2.0))
            add("float padding in tuple", (2, 2, (0.0,)))
            add("int ceil_mode", (2,), ceil_mode=1)
            add("numpy bool ceil_mode", (2,), ceil_mode=np.bool_(True))
            add("output too small", (9,))
            add("output too small on one axis", ((2,) * (n - 1) + (9,),))
            add("output too small unbatched", ((2,) * (n - 1) + (9,),), shape=full[1:])
            add("zero channels", shape=(2, 0) + size8)
            add("zero spatial size", shape=full[:-1] + (0,))
            add("unbatched zero channels", shape=(0,) + size8)
            add("one dim too many", shape=(1,) + full)
            add("two dims too few", shape=size8)
            add("bool input", dtype="bool")
            add("int32 input", dtype="int32")
            add("stride 0 and kernel -1", (-1, 0))
            add("zero channels and pad > half kernel", (2, 1, 2), shape=(2, 0) + size8)
            add("zero channels and output too small", (9,), shape=(2, 0) + size8)
            if fn.startswith("max"):
                add("dilation of n+1", (2, 2, 0, (1,) * (n + 1)))
                add("zero dilation", (2,), dilation=0)
                add("negative dilation", (2,), dilation=-1)
                add("float dilation", (2,), dilation=1.0)
                add("pad > half kernel but not dilated kernel", (3, 1, 2, 3))
                add("dilated kernel too long", (3,), dilation=5)
                add("zero dilation and pad > half", (2, 1, 2, 0))
            else:
                add("int count_include_pad", (2,), count_include_pad=1)
                if n == 1:
                    add("divisor_override", (2,), divisor_override=2)
                else:
                    add("zero divisor", (2,), divisor_override=0)
                    add("float divisor", (2,), divisor_override=1.5)
                    add("bool divisor", (2,), divisor_override=True)
                    add("zero divisor and zero stride", (2, 0), divisor_override=0)
                if n == 3:
                    add("input smaller than kernel", ((2, 2, 3), 1, (0, 0, 1)),
                        shape=(2, 3, 8, 8, 2))
                    add("half input", dtype="float16_torch_refuses")
        cases.append((f"max_pool{n}d: int64 input without indices", f"max_pool{n}d", full,
                      (2,), {}, "int64"))
    cases.append(("avg_pool2d: 0-d input", "avg_pool2d", (), (1,), {}, "float32"))
    cases.append(("avg_pool2d: 1-d input", "avg_pool2d", (8,), (1,), {}, "float32"))
    cases.append(("avg_pool2d: int16 input", "avg_pool2d", (2, 3, 4, 4), (2,), {}, "int16"))
    cases.append(("max_pool1d: 0-d input", "max_pool1d", (), (1,), {}, "float32"))
    return cases


def _adaptive_cases():
    cases = []
    for n in (1, 2, 3):
        full, size8 = (2, 3) + (8,) * n, (8,) * n
        for fn, kw in ((f"adaptive_avg_pool{n}d", {}), (f"adaptive_max_pool{n}d", {}),
                       (f"adaptive_max_pool{n}d", {"return_indices": True})):
            tag = fn + (" with indices" if kw else "")

            def add(what, out, shape=full, dtype="float32"):
                cases.append((f"{tag}: {what}", fn, shape, (out,), dict(kw), dtype))
            add("output_size of n+1", (3,) * (n + 1))
            add("empty output_size", ())
            add("negative output_size", -1)
            add("negative output_size on one axis", (3,) * (n - 1) + (-2,))
            add("float output_size", 2.0)
            add("float in output_size", (2,) * (n - 1) + (2.5,))
            add("bool output_size", True)
            add("str output_size", "3")
            add("None output_size", None)
            add("numpy int output_size", np.int64(2))
            add("one dim too many", 3, shape=(1,) + full)
            add("one dim too few", 3, shape=full[2:] if n > 1 else (8,))
            add("zero spatial size", 3, shape=full[:-1] + (0,))
            add("zero spatial size unbatched", 3, shape=full[1:-1] + (0,))
            add("bool input", 3, dtype="bool")
            add("int64 input", 3, dtype="int64")
            add("negative output_size and zero spatial size", -1, shape=full[:-1] + (0,))
            if n > 1:
                add("1-tuple output_size", (3,))
                add("None output_size on too few dims", (None,) * n, shape=size8[1:])
            if n == 1:
                add("None in output_size", (None,))
            if fn.startswith("adaptive_max") or n == 3:
                add("zero channels", 3, shape=(2, 0) + size8)
            add("output 1, bool input", 1, dtype="bool")  # adaptive_avg: torch's mean() path
            add("output 1, int64 input", 1, dtype="int64")
            add("output 1, one dim too few", 1, shape=size8[1:] or ())
            add("output 1, two dims too many", 1, shape=(1, 1) + full)
    return cases


CASES = {name: rest for name, *rest in _plain_cases() + _adaptive_cases()}
CASES_MODULES = {
    "MaxPool2d pad > half kernel": lambda m, x: m.nn.MaxPool2d(2, padding=2)(x),
    "MaxPool3d int ceil_mode": lambda m, x: m.nn.MaxPool3d(2, ceil_mode=1)(x[None]),
    "AvgPool1d stride 0": lambda m, x: m.nn.AvgPool1d(2, 0)(x[0]),
    "AvgPool2d zero divisor": lambda m, x: m.nn.AvgPool2d(2, divisor_override=0)(x),
    "AdaptiveAvgPool2d negative": lambda m, x: m.nn.AdaptiveAvgPool2d((None, -1))(x),
    "AdaptiveMaxPool1d of 2": lambda m, x: m.nn.AdaptiveMaxPool1d((2, 2))(x[0]),
    "MaxPool1d too large": lambda m, x: m.nn.MaxPool1d(9)(x[0]),
}


def _input_of(lib, shape, dtype):
    if dtype == "bool":
        return lib.ones(shape) > 0
    if dtype == "float16_torch_refuses":
        return lib.ones(shape, dtype=lib.float16)
    return lib.ones(shape, dtype=getattr(lib, dtype))


@pytest.mark.parametrize("name", sorted(CASES))
def test_errors_match_torch(name, raised):
    fn, shape, args, kwargs, dtype = CASES[name]
    theirs = raised(lambda: getattr(TF, fn)(_input_of(torch, shape, dtype), *args, **kwargs))
    ours = raised(lambda: getattr(F, fn)(_input_of(npconv, shape, dtype), *args, **kwargs))
    if dtype == "float16_torch_refuses":  # the one refusal npconv does not copy
        assert theirs is not None and ours is None
        return
    if theirs is None:  # a few of the generated cases are fine for torch: fine for npconv too
        assert ours is None, f"npconv raised {ours!r} where torch accepts {name}"
        return
    assert type(ours) is type(theirs), (ours, theirs)
    assert str(ours).startswith(str(theirs)), (str(ours), str(theirs))


@pytest.mark.parametrize("name", sorted(CASES_MODULES))
def test_module_errors_match_torch(name, raised):
    x = np.ones((2, 3, 8, 8))
    theirs = raised(lambda: CASES_MODULES[name](torch, torch.tensor(x)))
    ours = raised(lambda: CASES_MODULES[name](npconv, npconv.tensor(x)))
    assert theirs is not None and type(ours) is type(theirs), (ours, theirs)
    assert str(ours).startswith(str(theirs)), (str(ours), str(theirs))


def test_messages_explain_and_hint():
    with pytest.raises(RuntimeError) as info:
        F.max_pool2d(npconv.ones(1, 3, 8, 8), (2, 9))
    assert "on spatial axis 1 the window spans" in str(info.value)
    with pytest.raises(NotImplementedError, match="x.float()"):
        F.max_pool3d(npconv.ones(1, 2, 2, 2) > 0, 1)
    with pytest.raises(RuntimeError, match=r"expects \(N, C, H, W\) or \(C, H, W\) input"):
        F.max_pool2d(npconv.ones(8, 8), 2)
    with pytest.raises(RuntimeError, match="padding may be at most 1 on that axis"):
        F.avg_pool3d(npconv.ones(1, 2, 8, 8, 8), 3, padding=(0, 2, 0))
