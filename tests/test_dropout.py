"""Dropout and channel dropout (Dropout1d/2d/3d, F.dropout1d/2d/3d) against torch: what is
dropped together, torch's 1 / (1 - p) scaling, the gradient, eval identity, inplace, reprs, and
torch's errors and warnings (randomness differs, so the draws are checked by their law)."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_layers import examples

import npconv
import npconv.nn as nn
import npconv.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# functional, input dims, how many leading axes one draw covers (the rest share it)
CASES = [("dropout", 1, None), ("dropout", 4, None), ("dropout1d", 3, 2), ("dropout1d", 2, 1),
         ("dropout2d", 4, 2), ("dropout2d", 3, 2), ("dropout3d", 5, 2), ("dropout3d", 4, 1)]
MODULES = {"dropout": "Dropout", "dropout1d": "Dropout1d", "dropout2d": "Dropout2d",
           "dropout3d": "Dropout3d"}


@examples(30)
@given(case=st.sampled_from(CASES), p=st.sampled_from([0.2, 0.5, 0.9]), data=st.data(),
       seed=st.integers(0, 2**31))
@pytest.mark.filterwarnings("ignore:dropout2d")
def test_dropout_masks_scale_and_gradient(case, p, data, seed):
    name, ndim, axes = case
    shape = data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim))
    npconv.manual_seed(seed)
    x = npconv.tensor(np.random.default_rng(seed).uniform(1, 2, shape), requires_grad=True)
    y = getattr(F, name)(x, p)
    ratio = np.round((y / x).detach().numpy(), 10)
    assert np.isin(ratio, [0.0, round(1 / (1 - p), 10)]).all()
    if axes is not None:  # one draw per leading index: constant over the other axes
        flat = ratio.reshape(*shape[:axes], -1)
        assert (flat == flat[..., :1]).all()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), ratio, rtol=1e-9)


@pytest.mark.parametrize("name", ["dropout", "dropout1d", "dropout2d", "dropout3d"])
def test_dropout_drops_with_probability_p(name):
    """Over 20000 independent draws the dropped fraction is within 5 sigma of p."""
    shape = {"dropout": (200, 100), "dropout1d": (200, 100, 2), "dropout2d": (200, 100, 2, 1),
             "dropout3d": (200, 100, 1, 2, 1)}[name]
    npconv.manual_seed(0)
    for p in (0.1, 0.5):
        y = getattr(F, name)(npconv.ones(*shape), p).numpy()
        dropped = (y.reshape(200, 100, -1)[..., 0] == 0).mean()
        assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / 20000)


@pytest.mark.parametrize("name", ["dropout", "dropout1d", "dropout2d", "dropout3d"])
def test_dropout_eval_zero_one_and_inplace_as_torch(name):
    shape = {"dropout": (2, 3), "dropout1d": (2, 3, 4), "dropout2d": (2, 3, 4, 4),
             "dropout3d": (2, 3, 2, 2, 2)}[name]
    fn, ref = getattr(F, name), getattr(TF, name)
    x, tx = npconv.ones(*shape), torch.ones(*shape)
    assert (fn(x, 0.5, training=False) is x) == (ref(tx, 0.5, training=False) is tx)
    assert (fn(x, 0.0) is x) == (ref(tx, 0.0) is tx)
    np.testing.assert_array_equal(fn(x, 1.0).numpy(), ref(tx, 1.0).numpy())
    before = x._version
    assert fn(x, 0.5, inplace=True) is x and x._version == before + 1
    assert getattr(nn, MODULES[name])(0.3).eval()(x) is x


@pytest.mark.parametrize("name", sorted(MODULES.values()))
@pytest.mark.parametrize("args", [(), (0.2,), (0.7, True)], ids=str)
def test_dropout_module_reprs_as_torch(name, args):
    ours, ref = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(ref) and list(ours.state_dict()) == list(ref.state_dict())


ERRORS = [
    ("dropout", (2, 3), dict(p=1.5)), ("dropout2d", (2, 3, 4, 4), dict(p=-0.1)),
    ("dropout1d", (3,), {}), ("dropout1d", (2, 3, 4, 5), {}), ("dropout2d", (3,), {}),
    ("dropout2d", (2, 3), {}), ("dropout2d", (2, 3, 4), {}), ("dropout3d", (2, 3, 4), {}),
    ("dropout3d", (1, 2, 3, 4, 4, 4), {}), ("dropout2d", (2, 3, 4, 4), dict(dtype="int64")),
    ("dropout2d", (2, 3, 4, 4), dict(dtype="int64", p=1.0)),
    ("dropout", (2, 3), dict(dtype="int64")),
]


@pytest.mark.parametrize("name,shape,kwargs", ERRORS, ids=str)
def test_dropout_errors_and_warnings_as_torch(name, shape, kwargs):
    def outcome(lib, fn):
        x = lib.ones(*shape, dtype=getattr(lib, kwargs.get("dtype", "float32")))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fn(x, kwargs.get("p", 0.5))
                error = None
            except Exception as e:  # noqa: BLE001 - comparing whatever each library raises
                error = e
        return error, [str(w.message) for w in caught]
    (mine, our_warnings), (theirs, their_warnings) = (outcome(npconv, getattr(F, name)),
                                                      outcome(torch, getattr(TF, name)))
    assert our_warnings == their_warnings
    assert type(mine) is type(theirs)
    if theirs is not None:
        assert str(mine).startswith(str(theirs))
    if not 0 <= kwargs.get("p", 0.5) <= 1:
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            getattr(nn, MODULES[name])(kwargs["p"])
