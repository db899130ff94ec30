"""Activation functionals and modules against torch: outputs and gradients over random shapes
(including inputs exactly at each kink, where torch picks a derivative), finite differences in
float64, reprs, state_dict keys, inplace=True (same tensor, version bumped) and errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_gradcheck import gradcheck
from test_layers import compare, dtype_names, examples

import npconv
import npconv.nn as nn
import npconv.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# name -> keyword arguments tried (the functional's, by torch's names)
FUNCTIONS = {
    "elu": [{}, dict(alpha=0.5)], "hardtanh": [{}, dict(min_val=-2.0, max_val=0.5)],
    "relu6": [{}], "gelu": [{}, dict(approximate="tanh")], "silu": [{}], "mish": [{}],
    "hardsigmoid": [{}], "hardswish": [{}], "softplus": [{}, dict(beta=2.0, threshold=3.0)],
    "leaky_relu": [{}, dict(negative_slope=0.2)], "relu": [{}], "sigmoid": [{}], "tanh": [{}],
}
KINKS = [0.0, -1.0, 1.0, -3.0, 3.0, 6.0, -2.0, 0.5, 1.5, 20.0]


@examples(80)
@given(name=st.sampled_from(sorted(FUNCTIONS)), data=st.data(),
       shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), dtype=dtype_names,
       scale=st.sampled_from([1.0, 4.0, 40.0]), seed=st.integers(0, 2**31))
def test_activation_functionals_match_torch(name, data, shape, dtype, scale, seed, close,
                                            count_config):
    if name == "hardsigmoid":  # torch's float64 backward scales by 1/6 rounded to float32
        dtype = "float32"
    count_config("activation")
    kwargs = data.draw(st.sampled_from(FUNCTIONS[name]))
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal(shape)
    flat = x.reshape(-1)
    flat[rng.random(flat.size) < 0.3] = rng.choice(KINKS)
    compare(lambda x: getattr(F, name)(x, **kwargs), lambda x: getattr(TF, name)(x, **kwargs),
            [x], dtype, close, seed)


@pytest.mark.parametrize("name,kwargs", [(n, k) for n, ks in FUNCTIONS.items() for k in ks],
                         ids=str)
def test_activation_backward_matches_finite_differences(name, kwargs, numeric_gradient):
    x = np.random.default_rng(6).standard_normal((3, 4)) * 2.5
    x[np.abs(np.abs(x) - 3) < 0.05] += 0.1  # central differences need distance from the kinks
    gradcheck(numeric_gradient, lambda x: getattr(F, name)(x, **kwargs), x)


@examples(30)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), per_channel=st.booleans(),
       dtype=dtype_names, seed=st.integers(0, 2**31))
def test_prelu_matches_torch(shape, per_channel, dtype, seed, close):
    channels = shape[1] if per_channel and len(shape) >= 2 else 1
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(shape), rng.standard_normal(channels)
    compare(F.prelu, TF.prelu, [x, w], dtype, close, seed)


MODULES = [
    ("ELU", (), {}), ("ELU", (0.5, True), {}), ("GELU", (), {}), ("GELU", ("tanh",), {}),
    ("SiLU", (), {}), ("SiLU", (True,), {}), ("Mish", (), dict(inplace=True)),
    ("Hardswish", (True,), {}), ("Hardsigmoid", (True,), {}), ("Hardtanh", (), {}),
    ("Hardtanh", (-2, 3, True), {}), ("ReLU6", (), {}), ("ReLU6", (True,), {}),
    ("Softplus", (), {}), ("Softplus", (2, 10), {}), ("PReLU", (), {}), ("PReLU", (3, 0.1), {}),
    ("Sigmoid", (), {}), ("Tanh", (), {}), ("Softmax", (1,), {}), ("LogSoftmax", (), {}),
    ("LogSoftmax", (-1,), {}), ("LeakyReLU", (0.2, True), {}), ("LeakyReLU", (), {}),
    ("ReLU", (True,), {}),
]


@pytest.mark.filterwarnings("ignore:Implicit dimension choice")
@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=str)
def test_activation_modules_as_torch(name, args, kwargs, close):
    ours, ref = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for key, value in ref.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())
    x = np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32) * 4
    with torch.no_grad():
        expected = ref(torch.tensor(x)).numpy()
    close(ours(npconv.tensor(x)).detach().numpy(), expected, "float32", name)
    if name == "PReLU":
        compare(ours, ref, [x], "float32", close)
        close(ours.weight.grad.numpy(), ref.weight.grad.numpy(), "float32", "grad of weight")


INPLACE = ["elu", "hardtanh", "relu6", "silu", "mish", "hardsigmoid", "hardswish",
           "leaky_relu", "relu"]


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_writes_the_input_and_bumps_its_version(name, raised):
    x = np.linspace(-5, 5, 12, dtype=np.float32).reshape(3, 4)
    t = npconv.tensor(x)
    before = t._version
    out = getattr(F, name)(t, inplace=True)
    assert out is t and t._version == before + 1
    np.testing.assert_allclose(t.numpy(), getattr(TF, name)(torch.tensor(x)).numpy(), rtol=1e-6)
    leaf = npconv.tensor(x, requires_grad=True)
    mine = raised(lambda: getattr(F, name)(leaf, inplace=True))
    theirs = raised(lambda: getattr(TF, name)(torch.tensor(x, requires_grad=True), inplace=True))
    assert type(mine) is type(theirs) and str(mine).startswith(str(theirs))


ERRORS = [
    *[(lambda lib, F, n=n: getattr(F, n)(lib.arange(6).reshape(2, 3)))
      for n in ["elu", "gelu", "silu", "mish", "hardswish", "hardsigmoid", "softplus",
                "leaky_relu"]],
    lambda lib, F: F.gelu(lib.ones(3), approximate="foo"),
    lambda lib, F: F.hardtanh(lib.ones(3), 2.0, 1.0),
    lambda lib, F: lib.nn.Hardtanh(2, 1),
    lambda lib, F: F.prelu(lib.ones(2, 4), lib.ones(3)),
    lambda lib, F: F.prelu(lib.ones(4), lib.ones(4)),
    lambda lib, F: F.prelu(lib.ones(2, 4), lib.ones(1, 4)),
    lambda lib, F: F.prelu(lib.ones(2, 4, dtype=lib.float64), lib.ones(4)),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_activation_errors_as_torch(index, raised):
    mine, theirs = raised(lambda: ERRORS[index](npconv, F)), raised(lambda: ERRORS[index](torch, TF))
    assert theirs is not None and type(mine) is type(theirs)
    assert str(mine).startswith(str(theirs))


def test_integer_inputs_of_sigmoid_and_tanh_become_float32_as_torch():
    for fn in ("sigmoid", "tanh"):
        ours = getattr(npconv, fn)(npconv.arange(4))
        theirs = getattr(torch, fn)(torch.arange(4))
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
