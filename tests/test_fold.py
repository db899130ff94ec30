"""F.unfold / F.fold and nn.Unfold / nn.Fold against torch: outputs, gradients, reprs and
errors; the adjoint identity and float64 finite differences without torch."""
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


def _arg(draw, values):
    """An int when both axes agree and the draw says so, else the pair (tuple or list)."""
    if values[0] == values[1] and draw(st.booleans()):
        return values[0]
    return draw(st.sampled_from([tuple, list]))(values)


@st.composite
def window_configs(draw):
    """Kernel, dilation, padding, stride per axis and an image size with at least one block."""
    axes = []
    for _ in range(2):
        k, d, s, p = (draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3)),
                      draw(st.integers(0, 2)))
        low = max(1, d * (k - 1) + 1 - 2 * p)
        axes.append((k, d, s, p, draw(st.integers(low, low + 6))))
    k, d, s, p, size = (list(v) for v in zip(*axes))
    return dict(kernel_size=_arg(draw, k), dilation=_arg(draw, d), padding=_arg(draw, p),
                stride=_arg(draw, s), k=k, d=d, p=p, s=s, size=tuple(size),
                n=draw(st.integers(1, 3)), c=draw(st.integers(1, 3)),
                batched=draw(st.booleans()), dtype=draw(st.sampled_from(sorted(DTYPES))))


def _kwargs(cfg):
    return {key: cfg[key] for key in ("kernel_size", "dilation", "padding", "stride")}


def _blocks(cfg):
    return [(i + 2 * p - d * (k - 1) - 1) // s + 1
            for i, k, d, p, s in zip(cfg["size"], cfg["k"], cfg["d"], cfg["p"], cfg["s"])]


def _grad_check(cfg, array, ours, theirs, close):
    """ours(x) and theirs(x) and their input gradients for one random output gradient."""
    nd_, td = DTYPES[cfg["dtype"]]
    x = nn.Parameter(npconv.tensor(array, dtype=nd_))
    y = ours(x)
    gy = np.random.default_rng(1).standard_normal(tuple(y.shape))
    y.backward(npconv.tensor(gy, dtype=nd_))
    tx = torch.nn.Parameter(torch.tensor(array, dtype=td))
    ty = theirs(tx)
    ty.backward(torch.tensor(gy, dtype=td))
    assert y.dtype == nd_ and y.grad_fn.name() == type(ty.grad_fn).__name__
    close(y.detach().numpy(), ty.detach().numpy(), cfg["dtype"], "output")
    close(x.grad.numpy(), tx.grad.numpy(), cfg["dtype"], "grad input")


@settings(max_examples=300)
@given(cfg=window_configs())
def test_unfold_matches_torch(cfg, close, count_config):
    count_config("F.unfold")
    shape = (cfg["n"], cfg["c"], *cfg["size"])
    x = np.random.default_rng(hash(str(cfg)) % 2**32).standard_normal(shape)
    x = x if cfg["batched"] else x[0]
    kw = _kwargs(cfg)
    _grad_check(cfg, x, lambda t: F.unfold(t, **kw),
                lambda t: torch.nn.functional.unfold(t, **kw), close)


@settings(max_examples=300)
@given(cfg=window_configs(), module=st.booleans())
def test_fold_matches_torch(cfg, module, close, count_config):
    count_config("F.fold / nn.Fold")
    k0, k1 = cfg["k"]
    blocks = _blocks(cfg)
    shape = (cfg["n"], cfg["c"] * k0 * k1, blocks[0] * blocks[1])
    cols = np.random.default_rng(hash(str(cfg)) % 2**32).standard_normal(shape)
    cols = cols if cfg["batched"] else cols[0]
    kw = dict(_kwargs(cfg), output_size=cfg["size"])
    if module:
        ours, theirs = nn.Fold(**kw), torch.nn.Fold(**kw)
        assert repr(ours) == repr(theirs)
    else:
        ours = lambda t: F.fold(t, **kw)  # noqa: E731
        theirs = lambda t: torch.nn.functional.fold(t, **kw)  # noqa: E731
    _grad_check(cfg, cols, ours, theirs, close)


@settings(max_examples=40)
@given(cfg=window_configs())
def test_fold_is_the_adjoint_of_unfold(cfg):
    """<unfold(x), c> = <x, fold(c)> in float64, without torch (fold is col2im)."""
    rng = np.random.default_rng(hash(str(cfg)) % 2**32)
    x = rng.standard_normal((cfg["n"], cfg["c"], *cfg["size"]))
    kw = _kwargs(cfg)
    cols = F.unfold(npconv.tensor(x), **kw).numpy()
    c = rng.standard_normal(cols.shape)
    back = F.fold(npconv.tensor(c), cfg["size"], **kw).numpy()
    assert np.isclose((cols * c).sum(), (x * back).sum(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=(2, 1),
                                                          padding=(1, 0), dilation=(1, 2))])
def test_gradients_match_finite_differences(kw, numeric_gradient):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 4, 5))
    cols = F.unfold(npconv.tensor(x), **kw).numpy()
    r, c = rng.standard_normal(cols.shape), rng.standard_normal(cols.shape)
    rx = rng.standard_normal(x.shape)
    cases = [(x, lambda a: F.unfold(a, **kw), r), (c, lambda a: F.fold(a, (4, 5), **kw), rx)]
    for array, fn, weight in cases:
        p = nn.Parameter(npconv.tensor(array))
        (fn(p) * npconv.tensor(weight)).sum().backward()
        numeric = numeric_gradient(lambda: float((fn(npconv.tensor(array)).numpy()
                                                  * weight).sum()), array)
        np.testing.assert_allclose(p.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", ["float16", "bool"])
def test_float16_and_bool_match_torch(dtype):
    """torch folds bool columns too (overlaps add as logical or)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 6))
    x = x > 0 if dtype == "bool" else x
    ours = F.unfold(npconv.tensor(x, dtype=getattr(npconv, dtype)), (2, 3), stride=(1, 2))
    ref = torch.nn.functional.unfold(torch.tensor(x, dtype=getattr(torch, dtype)), (2, 3),
                                     stride=(1, 2))
    assert ours.dtype == getattr(npconv, dtype)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    back = F.fold(ours, (5, 6), (2, 3), stride=(1, 2))
    tback = torch.nn.functional.fold(ref, (5, 6), (2, 3), stride=(1, 2))
    np.testing.assert_allclose(back.numpy().astype(float), tback.numpy().astype(float),
                               rtol=2e-3)


@pytest.mark.parametrize("build", [
    lambda n: n.Unfold(3), lambda n: n.Unfold((3, 2), 1, 2, 3),
    lambda n: n.Fold((4, 5), 2), lambda n: n.Fold(5, (2, 3), dilation=2, padding=(1, 0),
                                                  stride=[1, 2])])
def test_reprs_match_torch(build):
    assert repr(build(nn)) == repr(build(torch.nn))


def test_unfold_module_matches_functional():
    x = npconv.randn(2, 3, 6, 7)
    layer = nn.Unfold((2, 3), dilation=(2, 1), padding=1, stride=(1, 2))
    expected = F.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2))
    np.testing.assert_array_equal(layer(x).numpy(), expected.numpy())


# ---- errors -------------------------------------------------------------------------------

def _x(lib, *shape, dtype="float32"):
    return lib.ones(tuple(shape), dtype=getattr(lib, dtype))


def _u(lib, shape=(2, 3, 6, 7), *args, **kw):
    return lib.nn.functional.unfold(_x(lib, *shape), *args, **kw)


def _f(lib, shape=(2, 12, 12), *args, **kw):
    return lib.nn.functional.fold(_x(lib, *shape), *args, **kw)


ERRORS = {
    "unfold 0-d": lambda t: _u(t, (), 2),
    "unfold 1-d": lambda t: _u(t, (5,), 3),
    "unfold 2-d": lambda t: _u(t, (6, 7), 3),
    "unfold 5-d": lambda t: _u(t, (1, 2, 3, 6, 7), 3),
    "unfold zero channels": lambda t: _u(t, (2, 0, 6, 7), 3),
    "unfold zero height unbatched": lambda t: _u(t, (3, 0, 7), 3, padding=2),
    "unfold kernel of 3": lambda t: _u(t, (2, 3, 6, 7), (3, 2, 1)),
    "unfold kernel of 1": lambda t: _u(t, (2, 3, 6, 7), (3,)),
    "unfold padding before stride": lambda t: _u(t, (3, 4, 5), 2, stride=(1, 2, 3),
                                                 padding=(1, 2, 3)),
    "unfold dilation before stride": lambda t: _u(t, (3, 4, 5), 2, stride=(1, 2, 3),
                                                  dilation=(1, 2, 3)),
    "unfold kernel 0": lambda t: _u(t, (3, 4, 5), 0, stride=0, padding=-1, dilation=0),
    "unfold kernel -1": lambda t: _u(t, (3, 4, 5), -1),
    "unfold dilation 0": lambda t: _u(t, (3, 4, 5), 2, stride=0, padding=-1, dilation=0),
    "unfold padding -1": lambda t: _u(t, (3, 4, 5), 2, stride=0, padding=-1),
    "unfold stride 0": lambda t: _u(t, (5,), 2, stride=0),
    "unfold kernel too large": lambda t: _u(t, (2, 3, 6, 7), 8),
    "unfold kernel too large one axis": lambda t: _u(t, (2, 3, 6, 7), (7, 3)),
    "unfold dilated kernel too large": lambda t: _u(t, (2, 3, 6, 7), 3, dilation=3),
    "unfold float kernel": lambda t: _u(t, (2, 3, 6, 7), 1.5),
    "unfold float in kernel": lambda t: _u(t, (2, 3, 6, 7), (1.5, 2)),
    "unfold None kernel": lambda t: _u(t, (2, 3, 6, 7), None),
    "unfold bool padding": lambda t: _u(t, (2, 3, 6, 7), 3, padding=True),
    "unfold float padding": lambda t: _u(t, (7, 5, 5), 3, 2, 1.0),
    "unfold list input": lambda t: t.nn.functional.unfold([1], 3),
    "unfold int64": lambda t: t.nn.functional.unfold(_x(t, 3, 4, 5, dtype="int64"), 2),
    "unfold uint8": lambda t: t.nn.functional.unfold(_x(t, 3, 4, 5, dtype="uint8"), 2),
    "fold blocks mismatch": lambda t: _f(t, (2, 12, 12), (4, 6), 2),
    "fold 1-d": lambda t: _f(t, (12,), (4, 5), 2),
    "fold 0-d": lambda t: _f(t, (), 3, 2),
    "fold 4-d": lambda t: _f(t, (1, 2, 12, 12), (4, 5), 2),
    "fold zero length": lambda t: _f(t, (2, 12, 0), (1, 1), 2),
    "fold zero planes": lambda t: _f(t, (2, 0, 12), (4, 5), 2),
    "fold not divisible": lambda t: _f(t, (2, 13, 12), (4, 5), 2),
    "fold not divisible unbatched": lambda t: _f(t, (13, 12), (4, 5), 2),
    "fold kernel 0": lambda t: _f(t, (8, 5), 3, 0, stride=0, padding=-1, dilation=0),
    "fold stride 0": lambda t: _f(t, (8, 5), 3, 2, stride=0, padding=-1, dilation=0),
    "fold dilation 0": lambda t: _f(t, (8, 5), 3, 2, padding=-1, dilation=0),
    "fold padding -1": lambda t: _f(t, (2, 12, 12), (4, 5), 2, padding=-1),
    "fold output 0": lambda t: _f(t, (2, 12, 12), (0, 5), 2),
    "fold output 1": lambda t: _f(t, (2, 12, 12), (1, 5), 2),
    "fold blocks non-positive": lambda t: _f(t, (4, 1), (0, 0), 2),
    "fold output not positive": lambda t: _f(t, (4, 14), (0, 5), 1, padding=1),
    "fold output of 3": lambda t: _f(t, (2, 12, 12), (4, 5, 6), 2),
    "fold kernel of 3": lambda t: _f(t, (8, 5), 3, (2, 2, 2), stride=(0, 0, 0)),
    "fold output before kernel": lambda t: _f(t, (8, 5), (3, 3, 3), (2, 2, 2)),
    "fold dilation before stride": lambda t: _f(t, (8, 5), 3, 2, stride=(0, 0, 0),
                                                dilation=(1, 1, 1)),
    "fold padding before stride": lambda t: _f(t, (8, 5), 3, 2, stride=(0, 0, 0),
                                               padding=(1, 1, 1)),
    "fold dilation before padding": lambda t: _f(t, (8, 5), 3, 2, padding=(1, 1, 1),
                                                 dilation=(1, 1, 1)),
    "fold float output_size": lambda t: _f(t, (2, 12, 12), (4.0, 5), 2),
    "fold None output_size": lambda t: _f(t, (7, 5), None, 2),
    "fold float dilation": lambda t: _f(t, (7, 5), 3, 2, 1.0),
    "fold int64": lambda t: t.nn.functional.fold(_x(t, 4, 30, dtype="int64"), (4, 5), 1,
                                                 padding=1),
    "fold list input": lambda t: t.nn.functional.fold([1], 3, 2),
    "Fold module": lambda t: t.nn.Fold((4, 6), 2)(_x(t, 2, 12, 12)),
    "Unfold module kernel 0": lambda t: t.nn.Unfold(0)(_x(t, 2, 3, 6, 7)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name, raised):
    """Same type; the message begins with all of torch's (for TypeErrors, its words up to the
    expected type)."""
    ours, theirs = (raised(lambda lib=lib: ERRORS[name](lib)) for lib in (npconv, torch))
    assert theirs is not None, f"torch accepts {name}"
    assert ours is not None, f"npconv accepted {name}; torch raised {theirs!r}"
    assert type(ours) is type(theirs), f"{name}: {ours!r} vs {theirs!r}"
    text = str(theirs)
    if isinstance(theirs, TypeError):
        text = re.match(r".*?must be (tuple of ints|Tensor)", text).group(0)
    assert str(ours).startswith(text), (str(ours), str(theirs))
    assert len(str(ours)) > len(text), f"{name}: no hint after torch's wording"
