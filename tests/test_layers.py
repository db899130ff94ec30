"""Layers and their functionals against torch: outputs, input and parameter gradients over
random configurations, reprs, and the errors raised for bad arguments."""
import warnings
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import npconv
import npconv.nn as nn
import npconv.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = {"float32": (npconv.float32, torch.float32), "float64": (npconv.float64, torch.float64)}
dtype_names = st.sampled_from(sorted(DTYPES))


def examples(n):
    """Hypothesis settings; the close/count_config fixtures hold no per-example state."""
    return settings(max_examples=n, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _tensor(lib, a, dtype):
    """Float arrays become leaf tensors that require grad; integer arrays stay as they are."""
    if a is None or a.dtype.kind != "f":
        return None if a is None else lib.tensor(a)
    return lib.tensor(a, dtype=dtype, requires_grad=True)


def compare(ours_fn, torch_fn, arrays, dtype, close, seed=0):
    """Run both functions on the same arrays and upstream gradient; compare every output and
    the gradient of every float input. Returns (our outputs, torch outputs)."""
    nd, td = DTYPES[dtype]
    ours = [_tensor(npconv, a, nd) for a in arrays]
    theirs = [_tensor(torch, a, td) for a in arrays]
    y, ty = ours_fn(*ours), torch_fn(*theirs)
    y, ty = (y, ty) if isinstance(ty, tuple) else ((y,), (ty,))
    assert y[0].dtype.name == dtype
    for a, b in zip(y, ty):
        close(a.detach().numpy(), b.detach().numpy(), dtype, "output")
    gy = np.random.default_rng(seed).standard_normal(ty[0].shape)
    y[0].backward(npconv.tensor(gy, dtype=nd))
    ty[0].backward(torch.tensor(gy, dtype=td))
    for i, (t, tt) in enumerate(zip(ours, theirs)):
        if tt is not None and tt.requires_grad:
            close(t.grad.numpy(), tt.grad.numpy(), dtype, f"grad of input {i}")
    return y, ty


def compare_module(ours, ref, x, dtype, close, **params):
    """compare() on modules after setting the named parameters to the given arrays, then
    compare those parameters' gradients."""
    nd, td = DTYPES[dtype]
    for name, a in params.items():
        setattr(ours, name, nn.Parameter(npconv.tensor(a, dtype=nd)))
        setattr(ref, name, torch.nn.Parameter(torch.tensor(a, dtype=td)))
    compare(ours, ref, [x], dtype, close)
    for name in params:
        close(getattr(ours, name).grad.numpy(), getattr(ref, name).grad.numpy(), dtype,
              f"grad of {name}")


# ---- activations and softmax ----------------------------------------------------------------
shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4)


@examples(60)
@given(shape=shapes, data=st.data(), dtype=dtype_names, scale=st.sampled_from([1.0, 30.0]),
       seed=st.integers(0, 2**31))
def test_softmax_and_log_softmax_match_torch(shape, data, dtype, scale, seed, close,
                                             count_config):
    count_config("softmax")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = scale * np.random.default_rng(seed).standard_normal(shape)  # scale 30 would overflow exp
    for ours, theirs in ((F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax),
                         (nn.Softmax(dim), torch.nn.Softmax(dim)),
                         (nn.LogSoftmax(dim), torch.nn.LogSoftmax(dim))):
        if isinstance(ours, nn.Module):
            assert repr(ours) == repr(theirs)
            compare(ours, theirs, [x], dtype, close)
        else:
            compare(lambda t: ours(t, dim), lambda t: theirs(t, dim=dim), [x], dtype, close)


def test_softmax_without_dim_warns_and_picks_torchs_dim(close):
    for shape in [(4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
        x = np.random.default_rng(0).standard_normal(shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            y = F.softmax(npconv.tensor(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            close(y.numpy(), TF.softmax(torch.tensor(x, dtype=torch.float32)).numpy(), "float32")


@examples(40)
@given(shape=shapes, dtype=dtype_names, slope=st.floats(0.0, 0.5), seed=st.integers(0, 2**31))
def test_activations_match_torch(shape, dtype, slope, seed, close, count_config):
    count_config("activations")
    x = np.random.default_rng(seed).standard_normal(shape)
    pairs = [(F.relu, TF.relu), (F.sigmoid, torch.sigmoid), (F.tanh, torch.tanh),
             (lambda t: F.leaky_relu(t, slope), lambda t: TF.leaky_relu(t, slope)),
             (nn.ReLU(), torch.nn.ReLU()), (nn.Sigmoid(), torch.nn.Sigmoid()),
             (nn.Tanh(), torch.nn.Tanh()), (nn.LeakyReLU(slope), torch.nn.LeakyReLU(slope)),
             (nn.Identity(), torch.nn.Identity())]
    for ours, theirs in pairs:
        compare(ours, theirs, [x], dtype, close)


def test_inplace_activations_write_into_their_input():
    x = npconv.tensor([-1.0, 2.0, -3.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0, 0.0]
    y = npconv.tensor([-1.0, 2.0])
    assert nn.LeakyReLU(0.5, inplace=True)(y) is y and y.tolist() == [-0.5, 2.0]
    z = npconv.tensor([-1.0, 2.0], requires_grad=True)  # part of a graph: computed out of place
    out = F.relu(z * 1, inplace=True)
    out.sum().backward()
    assert z.grad.tolist() == [0.0, 1.0]


# ---- linear, flatten ------------------------------------------------------------------------
@examples(60)
@given(lead=st.lists(st.integers(1, 4), max_size=3), fin=st.integers(1, 6),
       fout=st.integers(1, 6), bias=st.booleans(), dtype=dtype_names, seed=st.integers(0, 2**31))
def test_linear_matches_torch(lead, fin, fout, bias, dtype, seed, close, count_config):
    count_config("linear")
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((*lead, fin)), rng.standard_normal((fout, fin))
    b = rng.standard_normal(fout) if bias else None
    compare(F.linear, TF.linear, [x, w, b], dtype, close)
    nd, td = DTYPES[dtype]
    ours, ref = nn.Linear(fin, fout, bias, dtype=nd), torch.nn.Linear(fin, fout, bias, dtype=td)
    assert repr(ours) == repr(ref)
    assert [(n, p.shape, p.dtype.name) for n, p in ours.named_parameters()] == \
           [(n, tuple(p.shape), str(p.dtype)[6:]) for n, p in ref.named_parameters()]
    compare_module(ours, ref, x, dtype, close, weight=w, **({"bias": b} if bias else {}))


def test_linear_init_follows_torchs_bounds():
    """kaiming_uniform(a=sqrt(5)) on (out, in) and the bias are both U(-1/sqrt(in), 1/sqrt(in))."""
    npconv.manual_seed(0)
    layer = nn.Linear(50, 400)
    bound = 1 / np.sqrt(50)
    for p in (layer.weight.detach().numpy(), layer.bias.detach().numpy()):
        assert p.dtype == np.float32 and np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.95 * bound and abs(p.mean()) < 0.1 * bound


@pytest.mark.parametrize("start,end", [(1, -1), (0, -1), (0, 1), (1, 2), (-2, -1), (2, 2)])
def test_flatten_matches_torch(start, end, close):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    ours, ref = nn.Flatten(start, end), torch.nn.Flatten(start, end)
    assert repr(ours) == repr(ref)
    compare(ours, ref, [x], "float64", close)


# ---- dropout --------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.0, 0.25, 0.5, 0.9, 1.0])
def test_dropout_scales_kept_elements_and_their_gradient(p):
    npconv.manual_seed(1)
    x = npconv.tensor(np.random.default_rng(0).uniform(1, 2, (200, 100)), requires_grad=True)
    layer = nn.Dropout(p)
    y = layer(x)
    kept = y.detach().numpy() != 0
    scale = 0.0 if p == 1 else 1 / (1 - p)
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() * kept * scale, rtol=1e-6)
    assert abs(1 - kept.mean() - p) < 0.02
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept * scale, rtol=1e-6)
    layer.eval()
    assert layer(x) is x
    assert repr(layer) == repr(torch.nn.Dropout(p))


def test_dropout_draws_from_the_seeded_generator_and_can_work_in_place():
    x = npconv.ones(1000)
    npconv.manual_seed(5)
    a = F.dropout(x, 0.5).numpy()
    npconv.manual_seed(5)
    b = F.dropout(x, 0.5).numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, F.dropout(x, 0.5).numpy())
    assert F.dropout(x, 0.3, training=False) is x
    assert F.dropout(x, 0.5, inplace=True) is x and set(np.unique(x.numpy())) == {0.0, 2.0}
    assert repr(nn.Dropout(p=0.25)) == "Dropout(p=0.25, inplace=False)"


# ---- losses ---------------------------------------------------------------------------------
@st.composite
def ce_configs(draw):
    classes = draw(st.integers(2, 5))
    shape = draw(st.sampled_from([(), (4,), (3, 2), (2, 2, 3)]))  # () is unbatched input (C,)
    return dict(classes=classes, shape=shape,
                input_shape=(shape[0], classes, *shape[1:]) if shape else (classes,),
                weight=draw(st.booleans()),
                reduction=draw(st.sampled_from(["mean", "sum", "none"])),
                smoothing=draw(st.sampled_from([0.0, 0.1, 0.45])),
                ignore=draw(st.sampled_from([-100, 1])), probs=draw(st.booleans()),
                dtype=draw(dtype_names))


@examples(150)
@given(cfg=ce_configs(), seed=st.integers(0, 2**31))
def test_cross_entropy_matches_torch(cfg, seed, close, count_config):
    count_config("cross_entropy")
    rng = np.random.default_rng(seed)
    x = 3 * rng.standard_normal(cfg["input_shape"])
    if cfg["probs"]:
        target = rng.dirichlet(np.ones(cfg["classes"]), cfg["shape"] or None)
        target = np.moveaxis(target, -1, 1) if cfg["shape"] else target
        ignore = -100
    else:
        target = rng.integers(0, cfg["classes"], cfg["shape"])
        if cfg["ignore"] == -100:
            target[rng.random(cfg["shape"]) < 0.2] = -100
        target.flat[0] = 0  # at least one target counts, so 'mean' is not 0/0
        ignore = cfg["ignore"]
    weight = rng.uniform(0.5, 2, cfg["classes"]) if cfg["weight"] else None
    kw = dict(ignore_index=ignore, reduction=cfg["reduction"], label_smoothing=cfg["smoothing"])
    nd, td = DTYPES[cfg["dtype"]]
    w_ours = None if weight is None else npconv.tensor(weight, dtype=nd)
    w_torch = None if weight is None else torch.tensor(weight, dtype=td)
    compare(lambda a, t: F.cross_entropy(a, t, w_ours, **kw),
            lambda a, t: TF.cross_entropy(a, t, w_torch, **kw), [x, target], cfg["dtype"], close)
    ours = nn.CrossEntropyLoss(w_ours, **kw)
    ref = torch.nn.CrossEntropyLoss(w_torch, **kw)
    assert repr(ours) == repr(ref) and list(ours.state_dict()) == list(ref.state_dict())
    compare(ours, ref, [x, target], cfg["dtype"], close)
    if not cfg["probs"] and not cfg["smoothing"]:
        del kw["label_smoothing"]
        compare(lambda a, t: F.nll_loss(F.log_softmax(a, min(1, a.dim() - 1)), t, w_ours, **kw),
                lambda a, t: TF.nll_loss(TF.log_softmax(a, min(1, a.dim() - 1)), t, w_torch, **kw),
                [x, target], cfg["dtype"], close)
        compare(nn.NLLLoss(w_ours, **kw), torch.nn.NLLLoss(w_torch, **kw), [x, target],
                cfg["dtype"], close)


def test_cross_entropy_mean_over_only_ignored_targets_is_nan_as_torch():
    x, t = np.zeros((2, 3)), np.array([-100, -100])
    assert np.isnan(F.cross_entropy(npconv.tensor(x), npconv.tensor(t)).item())
    assert np.isnan(TF.cross_entropy(torch.tensor(x), torch.tensor(t)).item())
    assert F.cross_entropy(npconv.tensor(x), npconv.tensor(t), reduction="sum").item() == 0


@examples(40)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       reduction=st.sampled_from(["mean", "sum", "none"]), dtype=dtype_names,
       seed=st.integers(0, 2**31))
def test_mse_loss_matches_torch(shape, reduction, dtype, seed, close, count_config):
    count_config("mse_loss")
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    compare(lambda a, b: F.mse_loss(a, b, reduction=reduction),
            lambda a, b: TF.mse_loss(a, b, reduction=reduction), [x, y], dtype, close)
    compare(nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), [x, y],
            dtype, close)


def test_mse_loss_warns_about_broadcasting_like_torch():
    with pytest.warns(UserWarning, match=r"Using a target size \(npconv.Size\(\[4, 1\]\)\) that "
                      r"is different to the input size \(npconv.Size\(\[4, 3\]\)\)"):
        F.mse_loss(npconv.zeros(4, 3), npconv.zeros(4, 1))


# ---- containers -----------------------------------------------------------------------------
def _layers(lib):
    nn_ = lib.nn
    return [nn_.Linear(4, 3), nn_.ReLU(), nn_.Sequential(nn_.Linear(3, 3), nn_.Tanh())]


def test_sequential_indexing_and_repr_match_torch(close):
    ours, ref = nn.Sequential(*_layers(npconv)), torch.nn.Sequential(*_layers(torch))
    ours.load_state_dict({k: npconv.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    for view in (lambda s: s, lambda s: s[1:], lambda s: s[-1], lambda s: s[::2], lambda s: s[0]):
        assert repr(view(ours)) == repr(view(ref))
    assert type(ours[1:]) is nn.Sequential and ours[-1] is list(ours)[2] and len(ours) == 3
    compare(ours, ref, [np.random.default_rng(0).standard_normal((5, 4))], "float32", close)
    ours.append(nn.Softmax(dim=1))
    ref.append(torch.nn.Softmax(dim=1))
    assert repr(ours) == repr(ref)
    named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.ReLU()))
    assert repr(named) == repr(torch.nn.Sequential(OrderedDict(fc=torch.nn.Linear(2, 2),
                                                               act=torch.nn.ReLU())))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    assert named[1] is named.act


def test_module_list_registers_and_prints_like_torch():
    def build(lib):
        return lib.nn.ModuleList([lib.nn.ReLU(), lib.nn.ReLU(), lib.nn.Linear(2, 3),
                                  lib.nn.ReLU()])
    ours, ref = build(npconv), build(torch)
    assert repr(ours) == repr(ref) and repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert repr(ours[1:3]) == repr(ref[1:3]) and len(ours) == 4
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    ours.append(nn.Tanh()).extend([nn.Tanh()])
    ref.append(torch.nn.Tanh()).extend([torch.nn.Tanh()])
    assert repr(ours) == repr(ref)


# ---- reprs and errors -----------------------------------------------------------------------
REPRS = [
    lambda m: m.ReLU(), lambda m: m.ReLU(inplace=True), lambda m: m.LeakyReLU(0.2, True),
    lambda m: m.Softmax(), lambda m: m.LogSoftmax(dim=1), lambda m: m.Sigmoid(),
    lambda m: m.Linear(3136, 128), lambda m: m.Linear(3, 4, bias=False),
    lambda m: m.Dropout(p=0.25), lambda m: m.Dropout(0.1, inplace=True),
    lambda m: m.Flatten(), lambda m: m.Flatten(0, 2), lambda m: m.Identity(54, unused=1),
    lambda m: m.CrossEntropyLoss(), lambda m: m.NLLLoss(), lambda m: m.MSELoss(reduction="sum"),
]


@pytest.mark.parametrize("i", range(len(REPRS)))
def test_repr_matches_torch(i):
    assert repr(REPRS[i](nn)) == repr(REPRS[i](torch.nn))


X = np.random.default_rng(0).standard_normal((2, 3, 8, 8))
LOGITS, TARGET = np.random.default_rng(1).standard_normal((4, 3)), np.array([0, 2, 1, 1])
ERRORS = {  # name -> f(lib, F, x) that raises in both libraries
    "dropout p > 1": lambda m, f, x: f.dropout(x, 1.5),
    "dropout p < 0": lambda m, f, x: f.dropout(x, -0.1),
    "Dropout p > 1": lambda m, f, x: m.nn.Dropout(1.5),
    "linear shapes": lambda m, f, x: f.linear(x, m.ones(4, 5, dtype=x.dtype)),
    "linear 1-D shapes": lambda m, f, x: f.linear(x[0, 0, 0, :5], m.ones(4, 3, dtype=x.dtype)),
    "linear dtypes": lambda m, f, x: f.linear(x.double(), m.ones(4, 8)),
    "softmax dim": lambda m, f, x: f.softmax(x, 4),
    "log_softmax dim": lambda m, f, x: f.log_softmax(x, dim=-5),
    "ce target out of bounds": lambda m, f, x: f.cross_entropy(x[0, 0, :4, :3],
                                                               m.tensor([0, 3, 1, 1])),
    "ce negative target": lambda m, f, x: f.cross_entropy(x[0, 0, :4, :3], m.tensor([0, -1, 1, 1])),
    "ce batch sizes": lambda m, f, x: f.cross_entropy(x[0, 0, :4, :3], m.tensor([0, 1, 1])),
    "ce weight size": lambda m, f, x: f.cross_entropy(x[0, 0, :4, :3], m.tensor([0, 2, 1, 1]),
                                                      weight=m.ones(4, dtype=x.dtype)),
    "ce weight dtype": lambda m, f, x: f.nll_loss(x[0, 0, :4, :3], m.tensor([0, 2, 1, 1]),
                                                  weight=m.ones(3, dtype=m.float32)),
    "ce float target": lambda m, f, x: f.cross_entropy(x[0, 0, :4, :3], m.tensor([0., 1, 1, 1])),
    "ce int32 target": lambda m, f, x: f.nll_loss(x[0, 0, :4, :3], m.tensor([0, 1, 1, 1]).int()),
    "ce 2-D target": lambda m, f, x: f.cross_entropy(x[0, 0, :4, :3], m.zeros(4, 2).long()),
    "ce spatial target": lambda m, f, x: f.cross_entropy(x[:, :, 0], m.zeros(2, 5).long()),
    "ce smoothing > 1": lambda m, f, x: f.cross_entropy(x[0, 0], m.zeros(8).long(),
                                                        label_smoothing=1.5),
    "ce reduction": lambda m, f, x: f.cross_entropy(x[0, 0], m.zeros(8).long(), reduction="avg"),
    "ce prob target ints": lambda m, f, x: f.cross_entropy(x[0, 0], m.zeros(8, 8).long()),
    "ce prob target ignore": lambda m, f, x: f.cross_entropy(x[0, 0], x[0, 1], ignore_index=1),
    "nll 0-d input": lambda m, f, x: f.nll_loss(x[0, 0, 0, 0], m.tensor([0])),
    "mse reduction": lambda m, f, x: f.mse_loss(x, x, reduction="x"),
    "loss module reduction": lambda m, f, x: m.nn.CrossEntropyLoss(reduction="bad")(
        x[0, 0], m.zeros(8).long()),
    "sequential non-module": lambda m, f, x: m.nn.Sequential(1),
    "module list non-module": lambda m, f, x: m.nn.ModuleList([m.nn.ReLU(), 1]),
    "sequential index": lambda m, f, x: m.nn.Sequential(m.nn.ReLU())[1],
    "sequential negative index": lambda m, f, x: m.nn.Sequential(m.nn.ReLU())[-2],
    "sequential str index": lambda m, f, x: m.nn.Sequential(m.nn.ReLU())["a"],
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name, raised):
    ours = raised(lambda: ERRORS[name](npconv, F, npconv.tensor(X)))
    theirs = raised(lambda: ERRORS[name](torch, TF, torch.tensor(X)))
    assert theirs is not None, f"torch accepts {name}"
    assert type(ours) is type(theirs), (ours, theirs)
    assert str(ours) == str(theirs)
