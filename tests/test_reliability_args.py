"""Arguments torch refuses or treats specially, outside conv: grad-mode objects, F.pad's pad
elements, integer and bool inputs to losses/activations/pooling, label smoothing, seeds."""

import numpy as np
import pytest

import npconv
import npconv.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


@pytest.fixture
def raises_like_torch(raised):
    """check(ours, theirs): the same exception type; our message starts with torch's and adds
    a hint after it. Returns our exception."""
    def check(ours, theirs):
        mine, ref = raised(ours), raised(theirs)
        assert ref is not None, "torch raised nothing"
        assert type(mine) is type(ref), (mine, ref)
        assert str(mine).startswith(str(ref)), (str(mine), str(ref))
        return mine
    return check


def _grad_mode_story(lib):
    """is_grad_enabled() at each step of the ways set_grad_enabled can be used."""
    seen = []
    built_outside = lib.set_grad_enabled(True)
    with lib.no_grad():
        with built_outside:
            seen.append(lib.is_grad_enabled())  # entering switches on, though built earlier
        seen.append(lib.is_grad_enabled())      # exit restores the mode seen at construction
    seen.append(lib.is_grad_enabled())
    lib.set_grad_enabled(False)                 # a plain call switches at once
    seen.append(lib.is_grad_enabled())
    lib.set_grad_enabled(True)

    @lib.set_grad_enabled(False)
    def f():
        return lib.is_grad_enabled()
    seen.append(lib.is_grad_enabled())          # decorating does not switch
    seen += [f(), lib.is_grad_enabled()]
    with lib.no_grad():
        seen += [f(), lib.is_grad_enabled()]
    reused = lib.set_grad_enabled(False)
    lib.set_grad_enabled(True)
    for _ in range(2):
        with reused:
            seen.append(lib.is_grad_enabled())
        seen.append(lib.is_grad_enabled())
    lib.set_grad_enabled(True)
    return seen


def test_set_grad_enabled_sets_its_mode_on_enter_and_as_decorator_like_torch():
    theirs = _grad_mode_story(torch)
    ours = _grad_mode_story(npconv)
    assert npconv.is_grad_enabled()
    assert ours == theirs
    x = npconv.ones(2, requires_grad=True)
    on = npconv.set_grad_enabled(True)
    with npconv.no_grad():
        with on:
            assert (x * 2).requires_grad


X = np.random.default_rng(0).standard_normal((1, 2, 4, 5)).astype(np.float32)
BAD_PADS = {  # name -> lib -> pad argument that torch's argument parser refuses
    "float first": lambda m: (1.5, 1),
    "float whole number": lambda m: (2.0, 1),
    "float later": lambda m: (1, 1, 1, 0.5),
    "numpy float": lambda m: (1, np.float64(1)),
    "float tensor": lambda m: (m.tensor(1.0), 1),
    "str": lambda m: ("1", 1),
    "None later": lambda m: (1, None),
    "bool first": lambda m: (True, 1),
    "an int": lambda m: 1,
    "an ndarray": lambda m: np.array([1, 1]),
    "a generator": lambda m: (p for p in (1, 1)),
}


@pytest.mark.parametrize("name", list(BAD_PADS))
@pytest.mark.parametrize("mode", ["constant", "reflect"])
def test_pad_refuses_non_int_sizes_like_torch(name, mode, raises_like_torch):
    """F.pad((1.5, 1)) used to pad by int(1.5) = 1 without a word."""
    error = raises_like_torch(
        lambda: F.pad(npconv.tensor(X), BAD_PADS[name](npconv), mode=mode),
        lambda: TF.pad(torch.tensor(X), BAD_PADS[name](torch), mode=mode))
    assert "whole numbers" in str(error)


@pytest.mark.parametrize("pad", [(1, 2), [0, 1, 2, 1], (np.int64(1), 2), (1, True)],
                         ids=["tuple", "list", "numpy int", "bool later"])
def test_pad_takes_what_torch_takes_as_ints(pad):
    ours = F.pad(npconv.tensor(X), pad, value=3.0)
    theirs = TF.pad(torch.tensor(X), pad, value=3.0)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours = F.pad(npconv.tensor(X), (npconv.tensor(1), npconv.tensor([2])))
    np.testing.assert_array_equal(ours.numpy(), TF.pad(torch.tensor(X), (1, 2)).numpy())


def _ints(m, *shape, dtype="int64"):
    return m.ones(*shape, dtype=getattr(m, dtype))


TARGET3 = [0, 1, 2]
DTYPE_REFUSALS = {  # name -> f(lib, F) that torch refuses for the input's dtype
    "cross_entropy long logits": lambda m, f: f.cross_entropy(_ints(m, 3, 4), m.tensor(TARGET3)),
    "cross_entropy bool logits": lambda m, f: f.cross_entropy(_ints(m, 3, 4, dtype="bool"),
                                                              m.tensor(TARGET3)),
    "cross_entropy spatial int32 logits": lambda m, f: f.cross_entropy(
        _ints(m, 2, 3, 2, dtype="int32"), m.zeros(2, 2, dtype=m.int64)),
    "cross_entropy long logits, prob target": lambda m, f: f.cross_entropy(_ints(m, 3, 4),
                                                                           m.ones(3, 4)),
    "log_softmax long": lambda m, f: f.log_softmax(_ints(m, 2, 3), 1),
    "log_softmax long, not last dim": lambda m, f: f.log_softmax(_ints(m, 2, 3), 0),
    "softmax uint8": lambda m, f: f.softmax(_ints(m, 2, 3, dtype="uint8"), -1),
    "nll_loss long input": lambda m, f: f.nll_loss(_ints(m, 3, 4), m.tensor(TARGET3)),
    "nll_loss spatial bool input": lambda m, f: f.nll_loss(_ints(m, 2, 3, 2, 2, dtype="bool"),
                                                           m.zeros(2, 2, 2, dtype=m.int64)),
    "nll_loss long input, float weight": lambda m, f: f.nll_loss(
        _ints(m, 3, 4), m.tensor(TARGET3), weight=m.ones(4)),
    "mse_loss long": lambda m, f: f.mse_loss(_ints(m, 3), _ints(m, 3)),
    "mse_loss bool": lambda m, f: f.mse_loss(_ints(m, 3, dtype="bool"), _ints(m, 3, dtype="bool")),
    "mse_loss int32 and long": lambda m, f: f.mse_loss(_ints(m, 3, dtype="int32"), _ints(m, 3)),
    "mse_loss uint8 and int8": lambda m, f: f.mse_loss(_ints(m, 3, dtype="uint8"),
                                                       _ints(m, 3, dtype="int8")),
    "relu bool": lambda m, f: f.relu(_ints(m, 3, dtype="bool")),
    "ReLU bool": lambda m, f: m.nn.ReLU()(_ints(m, 3, dtype="bool")),
    "leaky_relu long": lambda m, f: f.leaky_relu(_ints(m, 3)),
    "leaky_relu bool": lambda m, f: f.leaky_relu(_ints(m, 3, dtype="bool")),
    "dropout long": lambda m, f: f.dropout(_ints(m, 3), 0.5),
    "Dropout bool": lambda m, f: m.nn.Dropout(0.2)(_ints(m, 3, dtype="bool")),
    "max_pool2d bool": lambda m, f: f.max_pool2d(_ints(m, 1, 1, 4, 4, dtype="bool"), 2),
    "MaxPool2d bool, empty batch": lambda m, f: m.nn.MaxPool2d(2)(_ints(m, 0, 1, 4, 4,
                                                                        dtype="bool")),
    "avg_pool2d bool": lambda m, f: f.avg_pool2d(_ints(m, 1, 4, 4, dtype="bool"), 2),
    "avg_pool2d uint8": lambda m, f: f.avg_pool2d(_ints(m, 1, 1, 4, 4, dtype="uint8"), 2),
    "avg_pool2d int32": lambda m, f: f.avg_pool2d(_ints(m, 1, 1, 4, 4, dtype="int32"), 2),
}


@pytest.mark.parametrize("name", list(DTYPE_REFUSALS))
def test_integer_and_bool_inputs_are_refused_like_torch(name, raises_like_torch):
    """These used to compute something (cross_entropy of int64 logits gave a float64 loss,
    max_pool2d of bool gave bool) or fail inside numpy with a TypeError."""
    error = raises_like_torch(lambda: DTYPE_REFUSALS[name](npconv, F),
                                     lambda: DTYPE_REFUSALS[name](torch, TF))
    assert "convert" in str(error)


DTYPE_ACCEPTED = {  # name -> f(lib, F) that torch computes although an input is not floating
    "dropout long, p=1": lambda m, f: f.dropout(_ints(m, 3), 1.0),
    "dropout long, eval": lambda m, f: f.dropout(_ints(m, 3), 0.5, training=False),
    "relu int32": lambda m, f: f.relu(_ints(m, 3, dtype="int32") * -1),
    "max_pool2d uint8": lambda m, f: f.max_pool2d(_ints(m, 1, 1, 4, 4, dtype="uint8"), 2),
    "avg_pool2d long": lambda m, f: f.avg_pool2d(_ints(m, 1, 1, 4, 4) * 3, 2),
    "mse_loss float and bool": lambda m, f: f.mse_loss(m.zeros(3), _ints(m, 3, dtype="bool")),
    "log_softmax long with dtype": lambda m, f: f.log_softmax(_ints(m, 2, 3), 1,
                                                              dtype=m.float32),
}


@pytest.mark.parametrize("name", list(DTYPE_ACCEPTED))
def test_non_float_inputs_torch_accepts_still_work(name):
    ours, theirs = DTYPE_ACCEPTED[name](npconv, F), DTYPE_ACCEPTED[name](torch, TF)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


LOGITS = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
INDEX_TARGET = np.array([0, 2, 1, 1])
PROB_TARGET = np.random.default_rng(2).dirichlet(np.ones(3), 4).astype(np.float32)


@pytest.mark.parametrize("eps", [-0.1, -np.inf, np.nan, 0.0, 0.3, 1.0])
@pytest.mark.parametrize("probs", [False, True], ids=["index target", "prob target"])
def test_label_smoothing_outside_0_1_is_treated_like_torch(eps, probs):
    """torch smooths only for eps > 0 (eps <= 0 or NaN is plain cross entropy); npconv used to
    smooth index targets by a negative eps (and gave NaN for NaN)."""
    target = PROB_TARGET if probs else INDEX_TARGET
    ours = F.cross_entropy(npconv.tensor(LOGITS), npconv.tensor(target), label_smoothing=eps)
    theirs = TF.cross_entropy(torch.tensor(LOGITS), torch.tensor(target), label_smoothing=eps)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)


CE_ORDER = {  # name -> f(lib, F): several things wrong at once; torch names the first it checks
    "smoothing printed as C++ does": lambda m, f: f.cross_entropy(
        m.tensor(LOGITS), m.tensor(INDEX_TARGET), label_smoothing=1234567.0),
    "smoothing inf, prob target": lambda m, f: f.cross_entropy(
        m.tensor(LOGITS), m.tensor(PROB_TARGET), label_smoothing=float("inf")),
    "reduction before smoothing": lambda m, f: f.cross_entropy(
        m.tensor(LOGITS), m.tensor(INDEX_TARGET), reduction="avg", label_smoothing=2.0),
    "reduction before logits dtype": lambda m, f: f.cross_entropy(
        m.tensor(INDEX_TARGET[:3]).reshape(1, 3), m.tensor([0]), reduction="avg"),
    "smoothing before logits dtype": lambda m, f: f.cross_entropy(
        m.tensor(INDEX_TARGET[:3]).reshape(1, 3), m.tensor([0]), label_smoothing=1.5),
    "prob target dtype before smoothing": lambda m, f: f.cross_entropy(
        m.tensor(LOGITS), m.tensor(LOGITS).long(), label_smoothing=1.5),
    "ignore_index before smoothing": lambda m, f: f.cross_entropy(
        m.tensor(LOGITS), m.tensor(PROB_TARGET), ignore_index=1, label_smoothing=1.5),
    "logits dtype before smoothing, prob target": lambda m, f: f.cross_entropy(
        m.tensor(LOGITS).long(), m.tensor(PROB_TARGET), label_smoothing=1.5),
}


@pytest.mark.parametrize("name", list(CE_ORDER))
def test_cross_entropy_checks_in_torchs_order(name, raises_like_torch):
    raises_like_torch(lambda: CE_ORDER[name](npconv, F), lambda: CE_ORDER[name](torch, TF))


@pytest.mark.parametrize("seed", [2**64, 2**70, -2**63 - 1])
def test_out_of_range_seed_raises_like_torch(seed, raises_like_torch):
    """torch raises ValueError (its docstring says RuntimeError, which npconv used to raise)."""
    error = raises_like_torch(lambda: npconv.manual_seed(seed),
                                     lambda: torch.manual_seed(seed))
    assert str(seed) in str(error) and "0xffff_ffff_ffff_ffff" in str(error)
    raises_like_torch(lambda: npconv.Generator().manual_seed(seed),
                             lambda: torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("seed", [2**64 - 1, -2**63, -1, 0])
def test_seeds_at_the_ends_of_torchs_range_are_taken(seed):
    try:
        assert npconv.manual_seed(seed).initial_seed() == torch.Generator().manual_seed(
            seed).initial_seed()
    finally:
        npconv.manual_seed(0)
