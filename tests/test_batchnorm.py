"""BatchNorm1d/2d/3d and F.batch_norm against torch: outputs, input and parameter gradients
over several training steps, the running statistics, eval mode, reprs, state_dict keys and
errors; the closed-form backward against finite differences."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_gradcheck import gradcheck
from test_layers import DTYPES, compare, dtype_names, examples

import npconv
import npconv.nn as nn
import npconv.nn.functional as F
import npconv.optim

torch = pytest.importorskip("torch")
TF = torch.nn.functional

LAYOUTS = {"BatchNorm1d": (2, 3), "BatchNorm2d": (4,), "BatchNorm3d": (5,)}


def _pair(name, *args, **kwargs):
    return getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


def _step(ours, ref, x, dtype, close, seed):
    """One forward and backward of both modules on x; compare outputs, gradients, buffers."""
    nd, td = DTYPES[dtype]
    a = npconv.tensor(x, dtype=nd, requires_grad=True)
    b = torch.tensor(x, dtype=td, requires_grad=True)
    y, ty = ours(a), ref(b)
    close(y.detach().numpy(), ty.detach().numpy(), dtype, "output")
    g = np.random.default_rng(seed).standard_normal(x.shape)
    y.backward(npconv.tensor(g, dtype=nd))
    ty.backward(torch.tensor(g, dtype=td))
    close(a.grad.numpy(), b.grad.numpy(), dtype, "grad of input")
    for name, p in ref.named_parameters():
        close(getattr(ours, name).grad.numpy(), p.grad.numpy(), dtype, f"grad of {name}")
    for name, buf in ref.named_buffers():
        close(getattr(ours, name).numpy(), buf.numpy(), dtype, name)


@examples(40)
@given(name=st.sampled_from(sorted(LAYOUTS)), data=st.data(), dtype=dtype_names,
       affine=st.booleans(), track=st.booleans(), momentum=st.sampled_from([0.1, 0.5, None]),
       seed=st.integers(0, 2**31))
def test_batchnorm_trains_and_evaluates_as_torch(name, data, dtype, affine, track, momentum,
                                                 seed, close, count_config):
    count_config("batch norm")
    ndim = data.draw(st.sampled_from(LAYOUTS[name]))
    shape = [data.draw(st.integers(2, 4)), data.draw(st.integers(1, 4))]
    shape += data.draw(st.lists(st.integers(1, 3), min_size=ndim - 2, max_size=ndim - 2))
    nd, td = DTYPES[dtype]
    kwargs = dict(momentum=momentum, affine=affine, track_running_stats=track)
    ours = getattr(nn, name)(shape[1], dtype=nd, **kwargs)
    ref = getattr(torch.nn, name)(shape[1], dtype=td, **kwargs)
    rng = np.random.default_rng(seed)
    if affine:  # away from torch's ones and zeros, so their gradients matter
        w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
        ours.weight.data, ours.bias.data = npconv.tensor(w, dtype=nd), npconv.tensor(b, dtype=nd)
        ref.weight.data, ref.bias.data = torch.tensor(w, dtype=td), torch.tensor(b, dtype=td)
    for step in range(3):
        x = 3 * rng.standard_normal(shape) + rng.standard_normal((1, shape[1], *[1] * (ndim - 2)))
        _step(ours, ref, x, dtype, close, seed + step)
        ours.zero_grad(), ref.zero_grad()
    ours.eval(), ref.eval()
    _step(ours, ref, rng.standard_normal(shape), dtype, close, seed)


@examples(30)
@given(shape=st.lists(st.integers(2, 4), min_size=2, max_size=5), dtype=dtype_names,
       training=st.booleans(), affine=st.booleans(), eps=st.sampled_from([1e-5, 0.5]),
       seed=st.integers(0, 2**31))
def test_functional_batch_norm_matches_torch(shape, dtype, training, affine, eps, seed, close):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = rng.standard_normal(shape)
    w, b = (rng.standard_normal(c), rng.standard_normal(c)) if affine else (None, None)
    mean, var = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    nd, td = DTYPES[dtype]
    stats = [npconv.tensor(mean, dtype=nd), npconv.tensor(var, dtype=nd)]
    tstats = [torch.tensor(mean, dtype=td), torch.tensor(var, dtype=td)]
    compare(lambda x, w, b: F.batch_norm(x, *stats, w, b, training, 0.3, eps),
            lambda x, w, b: TF.batch_norm(x, *tstats, w, b, training, 0.3, eps),
            [x, w, b], dtype, close, seed)
    for s, t in zip(stats, tstats):  # updated in place when training
        close(s.numpy(), t.numpy(), dtype, "running statistics")


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 5), (2, 3, 2, 2)])
def test_batch_norm_backward_matches_finite_differences(shape, training, numeric_gradient):
    rng = np.random.default_rng(2)
    c = shape[1]
    x, w, b = rng.standard_normal(shape), rng.standard_normal(c), rng.standard_normal(c)
    mean, var = npconv.tensor(rng.standard_normal(c)), npconv.tensor(rng.uniform(0.5, 2, c))
    gradcheck(numeric_gradient,
              lambda x, w, b: F.batch_norm(x, mean.clone(), var.clone(), w, b, training), x, w, b)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@pytest.mark.parametrize("kwargs", [{}, dict(affine=False), dict(track_running_stats=False),
                                    dict(momentum=None, eps=1e-3), dict(bias=False),
                                    dict(affine=False, track_running_stats=False)], ids=str)
def test_batchnorm_repr_state_dict_and_init_as_torch(name, kwargs):
    ours, ref = _pair(name, 5, **kwargs)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for key, value in ref.state_dict().items():
        assert ours.state_dict()[key].dtype.name == str(value.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in ref.named_buffers()]


def test_batchnorm_state_round_trips_and_converts():
    """Running statistics load from a state_dict and follow .double(); the counter stays int64."""
    trained = nn.BatchNorm2d(3)
    for _ in range(2):
        trained(npconv.randn(4, 3, 2, 2) * 3 + 1)
    fresh = nn.BatchNorm2d(3)
    fresh.load_state_dict(trained.state_dict())
    for key, value in trained.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key].numpy(), value.numpy())
    fresh.double()
    assert fresh.running_mean.dtype == npconv.float64
    assert fresh.num_batches_tracked.dtype == npconv.int64 and fresh.num_batches_tracked.item() == 2


ERROR_CASES = [
    ("BatchNorm1d", (2, 3, 4, 5), True),
    ("BatchNorm1d", (3,), True),
    ("BatchNorm2d", (2, 3, 4), True),
    ("BatchNorm3d", (2, 3, 4, 4), False),
    ("BatchNorm1d", (1, 3), True),       # one value per channel while training
    ("BatchNorm2d", (1, 3, 1, 1), True),
    ("BatchNorm2d", (1, 3, 1, 1), False),  # fine in eval mode
    ("BatchNorm2d", (2, 4, 2, 2), True),  # wrong number of channels
]


@pytest.mark.parametrize("name,shape,training", ERROR_CASES, ids=str)
def test_batchnorm_errors_as_torch(name, shape, training, raised):
    ours, ref = _pair(name, 3)
    ours.train(training), ref.train(training)
    x = np.ones(shape, dtype=np.float32)
    mine, theirs = raised(lambda: ours(npconv.tensor(x))), raised(lambda: ref(torch.tensor(x)))
    assert type(mine) is type(theirs)
    if theirs is not None:
        assert str(mine).startswith(str(theirs).replace("torch.Size", "npconv.Size"))


F_ERROR_CASES = [
    dict(mean=4), dict(var=4), dict(weight=4), dict(bias=4), dict(mean=None, training=False),
    dict(var=None, training=False), dict(eps=0.0), dict(eps=-1.0, training=False),
    dict(stats_dtype="float64"), dict(input_dtype="int32"), dict(mean=None, var=None),
]


@pytest.mark.parametrize("case", F_ERROR_CASES, ids=str)
def test_functional_batch_norm_errors_as_torch(case, raised):
    def call(lib, fn):
        stats_dtype = getattr(lib, case.get("stats_dtype", "float32"))
        vec = (lambda n: None if n is None else lib.ones(n, dtype=stats_dtype))
        x = lib.ones(2, 3, 2).to(getattr(lib, case.get("input_dtype", "float32")))
        return lambda: fn(x, vec(case.get("mean", 3)), vec(case.get("var", 3)),
                          vec(case.get("weight", 3)), vec(case.get("bias", 3)),
                          case.get("training", True), 0.1, case.get("eps", 1e-5))
    mine, theirs = raised(call(npconv, F.batch_norm)), raised(call(torch, TF.batch_norm))
    assert type(mine) is type(theirs)
    if theirs is not None:
        assert str(mine).startswith(str(theirs))


def _cnn(lib):
    n = lib.nn
    return n.Sequential(n.Conv2d(2, 4, 3, padding=1), n.BatchNorm2d(4), n.LeakyReLU(0.1),
                        n.MaxPool2d(2), n.Flatten(), n.Linear(4 * 3 * 3, 8), n.BatchNorm1d(8),
                        n.GELU(), n.Dropout(0.0), n.Linear(8, 3))


def test_cnn_with_batchnorm_trains_step_for_step_as_torch(close):
    """Same weights, same batches: the losses, the weights and the running statistics after
    SGD steps, and the eval-mode outputs, all equal torch's."""
    ours, ref = _cnn(npconv), _cnn(torch)
    ours.load_state_dict({k: npconv.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    opt = npconv.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = rng.standard_normal((6, 2, 6, 6)).astype(np.float32)
        t = rng.integers(0, 3, 6)
        losses = []
        for model, optimizer, lib in ((ours, opt, npconv), (ref, ref_opt, torch)):
            optimizer.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(t))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        close(losses[0], losses[1], "float32", "loss")
    for key, value in ref.state_dict().items():
        close(ours.state_dict()[key].numpy(), value.numpy(), "float32", key)
    ours.eval(), ref.eval()
    x = rng.standard_normal((3, 2, 6, 6)).astype(np.float32)
    with torch.no_grad():
        expected = ref(torch.tensor(x)).numpy()
    close(ours(npconv.tensor(x)).detach().numpy(), expected, "float32", "eval output")
