"""npconv.nn.init against torch.nn.init. Random draws differ between the libraries, so the
distributions are compared by their statistics on large tensors (support exactly, mean and std
within sampling error), the deterministic initialisers element for element, and the errors by
type and message."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npconv
from npconv.nn import init

torch = pytest.importorskip("torch")

WEIGHT_SHAPES = [(300, 120), (64, 32, 3, 3), (48, 16, 5), (16, 8, 2, 3, 3)]
NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


def _both(name, shape, *args, **kwargs):
    """The same initialiser applied to an npconv and a torch float32 tensor of ``shape``."""
    ours, ref = npconv.empty(*shape), torch.empty(*shape)
    getattr(init, name)(ours, *args, **kwargs)
    getattr(torch.nn.init, name)(ref, *args, **kwargs)
    return ours.numpy().astype(np.float64), ref.numpy().astype(np.float64)


def _same_distribution(ours, ref, mean_tol=None):
    """Sample statistics agree within a few standard errors (n is 10^4 or more)."""
    n = ours.size
    scale = ref.std()
    assert abs(ours.mean() - ref.mean()) <= (mean_tol or 6 * scale / math.sqrt(n))
    assert ours.std() == pytest.approx(ref.std(), rel=8 / math.sqrt(n) + 0.01)


@settings(max_examples=12)
@given(shape=st.sampled_from(WEIGHT_SHAPES), mode=st.sampled_from(["fan_in", "fan_out", "FAN_OUT"]),
       nonlinearity=st.sampled_from(["relu", "leaky_relu", "tanh", "linear", "selu"]),
       a=st.sampled_from([0, 0.2, math.sqrt(5)]))
def test_kaiming_matches_torch(shape, mode, nonlinearity, a, count_config):
    count_config("nn.init.kaiming")
    ours, ref = _both("kaiming_uniform_", shape, a=a, mode=mode, nonlinearity=nonlinearity)
    fan = torch.nn.init._calculate_correct_fan(torch.empty(shape), mode)
    bound = math.sqrt(3.0) * torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    # uniform on [-bound, bound] (torch's formula): the largest of >= 2304 draws is within 5% of
    # it but for a chance of 0.95**2304 ~ 1e-51 (comparing with torch's own sample's max was flaky)
    assert bound * 0.95 <= np.abs(ours).max() <= bound * (1 + 1e-6)
    _same_distribution(ours, ref)
    _same_distribution(*_both("kaiming_normal_", shape, a=a, mode=mode, nonlinearity=nonlinearity))


@settings(max_examples=8)
@given(shape=st.sampled_from(WEIGHT_SHAPES), gain=st.sampled_from([1.0, 0.5, math.sqrt(2)]))
def test_xavier_matches_torch(shape, gain, count_config):
    count_config("nn.init.xavier")
    ours, ref = _both("xavier_uniform_", shape, gain=gain)
    bound = gain * math.sqrt(6.0 / (shape[0] + shape[1]) / math.prod(shape[2:]))
    assert np.abs(ours).max() <= bound * (1 + 1e-6) and np.abs(ours).max() >= 0.99 * bound
    _same_distribution(ours, ref)
    _same_distribution(*_both("xavier_normal_", shape, gain=gain))


@pytest.mark.parametrize("name,args", [("uniform_", (-3.0, 0.5)), ("uniform_", ()),
                                       ("normal_", (2.0, 0.25)), ("normal_", ())])
def test_uniform_and_normal_match_torch(name, args):
    ours, ref = _both(name, (200, 100), *args)
    if name == "uniform_":
        low, high = args or (0.0, 1.0)
        assert low <= ours.min() < low + 0.01 and high - 0.01 < ours.max() < high
    _same_distribution(ours, ref)


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04),
                                          (1.0, 2.0, 0.0, 1.5), (0.0, 1.0, 2.0, 3.0),
                                          (0.0, 1.0, -0.2, 0.1)])
def test_trunc_normal_matches_torch(mean, std, a, b):
    """Both of torch's samplers: the normal redrawn (most of the mass inside [a, b]) and uniform
    proposals accepted by the density (little mass inside)."""
    ours, ref = _both("trunc_normal_", (150, 100), mean=mean, std=std, a=a, b=b)
    assert ours.min() >= np.float32(a) and ours.max() <= np.float32(b)
    _same_distribution(ours, ref)


def test_trunc_normal_warns_and_rejects_reversed_bounds_as_torch(raised):
    for lib in (npconv, torch):
        with pytest.warns(UserWarning, match="mean is more than 2 std from"):
            lib.nn.init.trunc_normal_(lib.empty(100), mean=5.0, std=1.0, a=-1.0, b=0.5)
    ours = raised(lambda: init.trunc_normal_(npconv.empty(3), 0.0, 1.0, 2.0, -2.0))
    ref = raised(lambda: torch.nn.init.trunc_normal_(torch.empty(3), 0.0, 1.0, 2.0, -2.0))
    assert type(ours) is type(ref) and str(ours).startswith(str(ref))


@pytest.mark.parametrize("shape,gain", [((40, 40), 1.0), ((30, 70), 2.0), ((70, 30), 0.5),
                                        ((8, 4, 3, 3), 1.0), ((50, 4, 3), math.sqrt(2))])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape, gain):
    w = init.orthogonal_(npconv.empty(*shape), gain=gain).numpy().astype(np.float64)
    flat = w.reshape(shape[0], -1)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(len(gram)), atol=1e-5)


def test_orthogonal_is_haar_distributed():
    """Without torch's sign fix Q[0, 0] of a QR would always have one sign; Haar-distributed Q
    has E[Q[0, 0]] = 0, as torch's draws do."""
    g = npconv.Generator().manual_seed(0)
    ours = [init.orthogonal_(npconv.empty(3, 3), generator=g).numpy()[0, 0] for _ in range(400)]
    ref = [torch.nn.init.orthogonal_(torch.empty(3, 3)).numpy()[0, 0] for _ in range(400)]
    assert abs(np.mean(ours)) < 0.15 and abs(np.mean(ref)) < 0.15
    assert np.std(ours) == pytest.approx(np.std(ref), rel=0.15)


@pytest.mark.parametrize("name,val", [("constant_", 0.3), ("zeros_", None), ("ones_", None)])
def test_constants_match_torch(name, val):
    args = () if val is None else (val,)
    ours, ref = _both(name, (3, 4), *args)
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (6, 1)])
def test_eye_matches_torch(shape):
    np.testing.assert_array_equal(*_both("eye_", shape))


@settings(max_examples=15)
@given(groups=st.integers(1, 3), out_per_group=st.integers(1, 4), in_channels=st.integers(1, 4),
       kernel=st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_dirac_matches_torch(groups, out_per_group, in_channels, kernel, count_config):
    count_config("nn.init.dirac_")
    shape = (groups * out_per_group, in_channels, *kernel)
    np.testing.assert_array_equal(*_both("dirac_", shape, groups))


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES + ["identity", "Relu", "gelu"])
@pytest.mark.parametrize("param", [None, 0.2, 1, True, "0.2"])
def test_calculate_gain_matches_torch(nonlinearity, param, raised):
    ours = raised(lambda: init.calculate_gain(nonlinearity, param))
    ref = raised(lambda: torch.nn.init.calculate_gain(nonlinearity, param))
    if ref is None:
        assert ours is None, ours
        value = init.calculate_gain(nonlinearity, param)
        expected = torch.nn.init.calculate_gain(nonlinearity, param)
        assert value == expected and type(value) is type(expected)
    else:
        assert type(ours) is type(ref) and str(ours).startswith(str(ref))


ERROR_CASES = [
    ("kaiming_uniform_", (5,), {}), ("kaiming_normal_", (6,), {}), ("xavier_uniform_", (4,), {}),
    ("xavier_normal_", (7,), {}), ("kaiming_uniform_", (3, 3), {"mode": "fan_avg"}),
    ("kaiming_normal_", (3, 3), {"nonlinearity": "swish"}),
    ("kaiming_uniform_", (3, 3), {"a": "0.1"}), ("eye_", (2, 2, 2), {}), ("eye_", (4,), {}),
    ("dirac_", (3, 3), {}), ("dirac_", (3, 2, 3), {"groups": 2}), ("orthogonal_", (5,), {}),
    ("uniform_", (3,), {"a": 1.0, "b": 0.0}), ("normal_", (3,), {"std": -1.0}),
]


@pytest.mark.parametrize("name,shape,kwargs", ERROR_CASES)
def test_errors_match_torch(name, shape, kwargs, raised):
    ours = raised(lambda: getattr(init, name)(npconv.empty(*shape), **kwargs))
    ref = raised(lambda: getattr(torch.nn.init, name)(torch.empty(*shape), **kwargs))
    assert ref is not None
    assert type(ours) is type(ref) and str(ours).startswith(str(ref)), (ours, ref)
    assert len(str(ours)) > len(str(ref)), "torch's words, then what was wrong"


@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize("name", ["uniform_", "normal_"])
def test_random_fills_reject_non_float_tensors_as_torch(name, dtype, raised):
    ours = raised(lambda: getattr(init, name)(npconv.zeros(3, dtype=getattr(npconv, dtype))))
    ref = raised(lambda: getattr(torch.nn.init, name)(torch.zeros(3, dtype=getattr(torch, dtype))))
    assert type(ours) is type(ref) and str(ours).startswith(str(ref))


def test_fans_match_torch():
    for shape in WEIGHT_SHAPES + [(3, 0, 2), (5, 2)]:
        ours = init._calculate_fan_in_and_fan_out(npconv.empty(*shape))
        assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_zero_element_kaiming_warns_and_leaves_the_tensor(name):
    for lib in (npconv, torch):
        t = lib.empty(0, 3)
        with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
            assert getattr(lib.nn.init, name)(t) is t


RANDOM_INITS = [("uniform_", {}), ("normal_", {}), ("xavier_uniform_", {}),
                ("xavier_normal_", {}), ("kaiming_uniform_", {}), ("kaiming_normal_", {}),
                ("orthogonal_", {}), ("trunc_normal_", {}),
                ("trunc_normal_", {"a": 2.0, "b": 3.0})]


@pytest.mark.parametrize("name,kwargs", RANDOM_INITS)
def test_generator_gives_reproducible_draws_and_leaves_the_default_alone(name, kwargs):
    fn = getattr(init, name)
    first = fn(npconv.empty(6, 5), generator=npconv.Generator().manual_seed(3), **kwargs).numpy()
    npconv.manual_seed(11)
    again = fn(npconv.empty(6, 5), generator=npconv.Generator().manual_seed(3), **kwargs).numpy()
    after = npconv.randn(4).numpy()
    npconv.manual_seed(11)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(after, npconv.randn(4).numpy())
    other = fn(npconv.empty(6, 5), generator=npconv.Generator().manual_seed(4), **kwargs).numpy()
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("name,args", [(n, ()) for n, _ in RANDOM_INITS[:-1]]
                         + [("constant_", (0.5,)), ("zeros_", ()), ("ones_", ()), ("eye_", ()),
                            ("dirac_", ())])
def test_inits_run_on_parameters_without_grad_and_bump_the_version(name, args):
    """Under autograd an in-place write on a leaf that requires grad fails; init is no_grad."""
    shape = (4, 3, 3) if name == "dirac_" else (4, 3)
    p = npconv.nn.Parameter(npconv.empty(*shape))
    before = p._version
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert getattr(init, name)(p, *args) is p
    assert p._version > before and p.requires_grad and p.grad_fn is None and p.grad is None
