"""Loss functionals and modules against torch: values and gradients (input and target) over
random shapes, options and reductions, inputs at the kinks and clamps, finite differences in
float64, reprs, buffers in state_dict, the legacy size_average/reduce flags and errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_gradcheck import gradcheck
from test_layers import DTYPES, compare, dtype_names, examples

import npconv
import npconv.nn as nn
import npconv.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = st.sampled_from(["none", "mean", "sum"])
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4)


@examples(60)
@given(name=st.sampled_from(["l1_loss", "smooth_l1_loss", "huber_loss", "mse_loss"]),
       shape=shapes, reduction=REDUCTIONS, width=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
       weighted=st.booleans(), dtype=dtype_names, seed=st.integers(0, 2**31))
def test_regression_losses_match_torch(name, shape, reduction, width, weighted, dtype, seed,
                                       close, count_config):
    count_config("regression loss")
    rng = np.random.default_rng(seed)
    x = 2 * rng.standard_normal(shape)
    t = x - rng.choice([-1, 1], shape) * (width or 1.0)  # some differences exactly at the kink
    t = np.where(rng.random(shape) < 0.5, t, rng.standard_normal(shape))
    kwargs = dict(reduction=reduction)
    if name == "smooth_l1_loss":
        kwargs["beta"] = width
    if name == "huber_loss":
        kwargs["delta"] = width or 1.0
    w = rng.uniform(0.1, 2, shape) if weighted and name != "smooth_l1_loss" else None
    nd, td = DTYPES[dtype]
    ours_w = None if w is None else npconv.tensor(w, dtype=nd)
    theirs_w = None if w is None else torch.tensor(w, dtype=td)
    compare(lambda x, t: getattr(F, name)(x, t, weight=ours_w, **kwargs) if w is not None
            else getattr(F, name)(x, t, **kwargs),
            lambda x, t: getattr(TF, name)(x, t, weight=theirs_w, **kwargs) if w is not None
            else getattr(TF, name)(x, t, **kwargs), [x, t], dtype, close, seed)


@examples(40)
@given(shape=shapes, reduction=REDUCTIONS, weight=st.sampled_from([None, "full", "last"]),
       dtype=dtype_names, seed=st.integers(0, 2**31))
def test_binary_cross_entropy_matches_torch(shape, reduction, weight, dtype, seed, close,
                                            count_config):
    count_config("binary cross-entropy")
    rng = np.random.default_rng(seed)
    x, t = rng.uniform(0.02, 0.98, shape), rng.uniform(0, 1, shape)
    t[rng.random(shape) < 0.3] = 1.0
    w = {None: None, "full": rng.uniform(0, 2, shape), "last": rng.uniform(0, 2, shape[-1:])}
    nd, td = DTYPES[dtype]
    ow, tw = (None, None) if weight is None else (npconv.tensor(w[weight], dtype=nd),
                                                  torch.tensor(w[weight], dtype=td))
    compare(lambda x, t: F.binary_cross_entropy(x, t, ow, reduction=reduction),
            lambda x, t: TF.binary_cross_entropy(x, t, tw, reduction=reduction),
            [x, t], dtype, close, seed)


def test_binary_cross_entropy_clamps_the_log_at_minus_100():
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-50, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.5])
    ours = F.binary_cross_entropy(npconv.tensor(x), npconv.tensor(t), reduction="none")
    theirs = TF.binary_cross_entropy(torch.tensor(x), torch.tensor(t), reduction="none")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert np.isfinite(ours.numpy()).all()


@examples(40)
@given(shape=shapes, reduction=REDUCTIONS, weight=st.sampled_from([None, "full", "last"]),
       pos_weight=st.booleans(), scale=st.sampled_from([1.0, 60.0]), dtype=dtype_names,
       seed=st.integers(0, 2**31))
def test_binary_cross_entropy_with_logits_matches_torch(shape, reduction, weight, pos_weight,
                                                        scale, dtype, seed, close,
                                                        count_config):
    """Large logits (scale 60) check the stable form: exp(60) would overflow float32's
    naive log(1 + exp(-x))."""
    count_config("BCE with logits")
    rng = np.random.default_rng(seed)
    x, t = scale * rng.standard_normal(shape), rng.uniform(0, 1, shape)
    w = {None: None, "full": rng.uniform(0, 2, shape), "last": rng.uniform(0, 2, shape[-1:])}
    pw = rng.uniform(0.5, 3, shape[-1:]) if pos_weight else None
    nd, td = DTYPES[dtype]
    arrays = [(None if a is None else (npconv.tensor(a, dtype=nd), torch.tensor(a, dtype=td)))
              for a in (w[weight], pw)]
    (ow, tw), (opw, tpw) = [(None, None) if a is None else a for a in arrays]
    compare(lambda x, t: F.binary_cross_entropy_with_logits(x, t, ow, reduction=reduction,
                                                            pos_weight=opw),
            lambda x, t: TF.binary_cross_entropy_with_logits(x, t, tw, reduction=reduction,
                                                             pos_weight=tpw),
            [x, t], dtype, close, seed)


@examples(40)
@given(n=st.integers(1, 4), classes=st.integers(1, 5),
       spatial=st.lists(st.integers(1, 3), max_size=2), weighted=st.booleans(),
       ignore=st.booleans(), reduction=REDUCTIONS, dtype=dtype_names,
       seed=st.integers(0, 2**31))
def test_nll_and_cross_entropy_k_dim_match_torch(n, classes, spatial, weighted, ignore,
                                                 reduction, dtype, seed, close, count_config):
    count_config("nll / cross-entropy")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, classes, *spatial))
    target = rng.integers(0, classes, (n, *spatial))
    ignore_index = int(target.flat[0]) if ignore and (target != target.flat[0]).any() else -100
    w = rng.uniform(0.1, 2, classes) if weighted else None
    nd, td = DTYPES[dtype]
    ow, tw = (None, None) if w is None else (npconv.tensor(w, dtype=nd), torch.tensor(w, dtype=td))
    kwargs = dict(ignore_index=ignore_index, reduction=reduction)
    for ours, theirs in ((F.nll_loss, TF.nll_loss), (F.cross_entropy, TF.cross_entropy)):
        compare(lambda x, t: ours(x, t, ow, **kwargs), lambda x, t: theirs(x, t, tw, **kwargs),
                [x, target], dtype, close, seed)
    for ours, theirs in ((nn.NLLLoss, torch.nn.NLLLoss),
                         (nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss)):
        compare(ours(ow, **kwargs), theirs(tw, **kwargs), [x, target], dtype, close, seed)


GRADCHECK = {
    "l1_loss": lambda x, t: F.l1_loss(x, t),
    "smooth_l1_loss": lambda x, t: F.smooth_l1_loss(x, t, reduction="sum", beta=0.7),
    "huber_loss": lambda x, t: F.huber_loss(x, t, reduction="none", delta=0.7),
    "binary_cross_entropy": lambda x, t: F.binary_cross_entropy(
        npconv.sigmoid(x), npconv.sigmoid(t), npconv.tensor([0.5, 1.0, 2.0], dtype=npconv.float64)),
    "binary_cross_entropy_with_logits": lambda x, t: F.binary_cross_entropy_with_logits(
        x, npconv.sigmoid(t), pos_weight=npconv.tensor([0.5, 1.0, 2.0], dtype=npconv.float64),
        reduction="sum"),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_loss_backward_matches_finite_differences(name, numeric_gradient):
    rng = np.random.default_rng(7)
    x, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    gradcheck(numeric_gradient, GRADCHECK[name], x, t)


MODULES = [
    ("BCELoss", (), {}), ("BCELoss", ("w3",), {}), ("BCEWithLogitsLoss", (), {}),
    ("BCEWithLogitsLoss", (), dict(pos_weight="w3")),
    ("BCEWithLogitsLoss", ("w3",), dict(pos_weight="w3", reduction="sum")),
    ("L1Loss", (), {}), ("SmoothL1Loss", (), dict(beta=0.5)), ("HuberLoss", (), dict(delta=2.0)),
    ("NLLLoss", ("w3",), {}), ("CrossEntropyLoss", (), dict(label_smoothing=0.1)),
    ("MSELoss", (), dict(reduction="none")),
    ("L1Loss", (False,), {}), ("MSELoss", (None, False), {}), ("NLLLoss", (None, False), {}),
    ("BCELoss", (None, True, True), {}), ("SmoothL1Loss", (False, False), {}),
    ("CrossEntropyLoss", (None, None, 1, False), {}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=str)
def test_loss_modules_as_torch(name, args, kwargs):
    """Positional arguments in torch's order (the legacy flags included), buffers, reprs."""
    def build(lib):
        value = (lambda a: lib.tensor([0.5, 1.0, 2.0]) if a == "w3" else a)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = getattr(lib.nn, name)(*map(value, args),
                                           **{k: value(v) for k, v in kwargs.items()})
        return module, [str(w.message) for w in caught]
    (ours, our_warnings), (ref, their_warnings) = build(npconv), build(torch)
    assert repr(ours) == repr(ref) and ours.reduction == ref.reduction
    assert our_warnings == their_warnings
    assert list(ours.state_dict()) == list(ref.state_dict())
    for attr in ("ignore_index", "beta", "delta", "label_smoothing"):
        assert getattr(ours, attr, None) == getattr(ref, attr, None)


ERRORS = [
    lambda lib, F, x, y: F.binary_cross_entropy(x * 5, y),
    lambda lib, F, x, y: F.binary_cross_entropy(x, y * 3),
    lambda lib, F, x, y: F.binary_cross_entropy(x, y[0]),
    lambda lib, F, x, y: F.binary_cross_entropy(x.double(), y),
    lambda lib, F, x, y: F.binary_cross_entropy(x, y, weight=lib.ones(4)),
    lambda lib, F, x, y: F.binary_cross_entropy(x, y, weight=lib.ones(2, 2, 3)),
    lambda lib, F, x, y: F.binary_cross_entropy(x, y, reduction="foo"),
    lambda lib, F, x, y: F.binary_cross_entropy_with_logits(x, y[0]),
    lambda lib, F, x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=lib.ones(4)),
    lambda lib, F, x, y: F.binary_cross_entropy_with_logits(x, y, weight=lib.ones(4)),
    lambda lib, F, x, y: F.binary_cross_entropy_with_logits(x.long(), y.long()),
    lambda lib, F, x, y: F.l1_loss(x, y, reduction="foo"),
    lambda lib, F, x, y: F.l1_loss(x, y, weight=lib.ones(3)),
    lambda lib, F, x, y: F.mse_loss(x, y, reduction="foo", weight=lib.ones(2, 3)),
    lambda lib, F, x, y: F.l1_loss(x.long(), y.long()),
    lambda lib, F, x, y: F.smooth_l1_loss(x, y, beta=-1.0),
    lambda lib, F, x, y: F.smooth_l1_loss(x.long(), y.long()),
    lambda lib, F, x, y: F.huber_loss(x, y, delta=0.0),
    lambda lib, F, x, y: F.huber_loss(x.long(), y.long()),
    lambda lib, F, x, y: F.huber_loss(x, y, reduction="foo"),
    lambda lib, F, x, y: F.mse_loss(x.long(), y.long()),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_loss_errors_as_torch(index, raised):
    x, y = np.full((2, 3), 0.25, np.float32), np.full((2, 3), 0.5, np.float32)
    mine = raised(lambda: ERRORS[index](npconv, F, npconv.tensor(x), npconv.tensor(y)))
    theirs = raised(lambda: ERRORS[index](torch, TF, torch.tensor(x), torch.tensor(y)))
    assert theirs is not None and type(mine) is type(theirs)
    assert str(mine).startswith(str(theirs).replace("torch.Size", "npconv.Size"))


@pytest.mark.parametrize("name", ["l1_loss", "smooth_l1_loss", "huber_loss", "mse_loss"])
def test_broadcast_targets_warn_as_torch(name):
    x, y = npconv.ones(2, 3), npconv.ones(3)
    with pytest.warns(UserWarning, match=r"Using a target size \(npconv.Size\(\[3\]\)\) that is "
                                         r"different to the input size"):
        getattr(F, name)(x, y)


def test_legacy_flags_in_functionals_warn_and_choose_torchs_reduction():
    x, t = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    for size_average, reduce in [(False, None), (None, False), (True, True)]:
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            ours = F.l1_loss(npconv.tensor(x), npconv.tensor(t), size_average, reduce)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = TF.l1_loss(torch.tensor(x), torch.tensor(t), size_average, reduce)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy())
