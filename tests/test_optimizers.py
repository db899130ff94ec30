"""npconv.optim against torch.optim: from the same weights and the same gradients, every
optimizer and option gives the same parameters after each of several steps, the same
state_dict (keys, values, param_groups), and torch's errors; state_dicts round-trip through
npconv.save mid-training and training continues exactly."""
import io
import itertools
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import npconv
import npconv.nn as nn
import npconv.optim as optim

torch = pytest.importorskip("torch")

SHAPES = [(4, 3), (3,), (2, 1, 3)]
STEPS = 8
NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "NAdam"]

# Each optimizer's options, one list of values per keyword; every combination is checked.
OPTIONS = {
    "SGD": dict(lr=[0.1], momentum=[0, 0.9], dampening=[0, 0.3], weight_decay=[0, 0.05],
                nesterov=[False, True], maximize=[False, True]),
    "Adam": dict(lr=[0.05], betas=[(0.8, 0.95), (0.3, 0.6)], eps=[1e-6], weight_decay=[0, 0.1],
                 amsgrad=[False, True], maximize=[False, True],
                 decoupled_weight_decay=[False, True]),
    "AdamW": dict(lr=[0.05], betas=[(0.9, 0.999), (0.4, 0.9)], weight_decay=[0, 0.1],
                  amsgrad=[False, True], maximize=[False, True]),
    "RMSprop": dict(lr=[0.01], alpha=[0.99, 0.4], eps=[1e-8, 1e-3], weight_decay=[0, 0.1],
                    momentum=[0, 0.8], centered=[False, True], maximize=[False, True]),
    "Adagrad": dict(lr=[0.1], lr_decay=[0, 0.2], initial_accumulator_value=[0, 0.5],
                    eps=[1e-10, 1e-2], weight_decay=[0, 0.1], maximize=[False, True]),
    "Adadelta": dict(lr=[1.0, 0.3], rho=[0.9, 0.3], eps=[1e-6, 1e-2], weight_decay=[0, 0.1],
                     maximize=[False, True]),
    "NAdam": dict(lr=[0.02], betas=[(0.9, 0.999), (0.4, 0.7)], weight_decay=[0, 0.1],
                  momentum_decay=[4e-3, 0.5], decoupled_weight_decay=[False, True],
                  maximize=[False, True]),
}


def _configs():
    for name, options in OPTIONS.items():
        for values in itertools.product(*options.values()):
            kw = dict(zip(options, values))
            if kw.get("nesterov") and (kw["momentum"] == 0 or kw["dampening"] != 0):
                continue  # refused; see the error table
            yield pytest.param(name, kw, id=f"{name}-" + "-".join(map(str, values)))


def _module(lib):
    return optim if lib is npconv else torch.optim


def _parameter(lib, array, dtype):
    return (nn.Parameter if lib is npconv else torch.nn.Parameter)(
        lib.tensor(array, dtype=getattr(lib, dtype)))


def _trajectory(lib, make, dtype, steps=STEPS, seed=0, skip=None):
    """(parameters after each step, optimizer) from fixed weights and per-step gradients;
    skip(step, i) says which parameters get no gradient at a step."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]
    params = [_parameter(lib, w, dtype) for w in weights]
    opt = make(_module(lib), params)
    history = []
    for step, step_grads in enumerate(grads):
        for i, (p, g) in enumerate(zip(params, step_grads)):
            p.grad = None if skip and skip(step, i) else lib.tensor(g, dtype=getattr(lib, dtype))
        opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history, opt


def _compare_trajectories(make, close, dtype="float64", **kw):
    ours, opt = _trajectory(npconv, make, dtype, **kw)
    theirs, ref = _trajectory(torch, make, dtype, **kw)
    for step, (a_params, b_params) in enumerate(zip(ours, theirs)):
        for a, b in zip(a_params, b_params):
            assert a.dtype == np.dtype(dtype)
            close(a, b, dtype, f"parameter after step {step + 1}")
    return opt, ref


def _compare_state_dicts(ours, theirs, close, dtype="float64"):
    """Same parameter indices, same group entries, same state keys, values and dtypes."""
    assert ours["param_groups"] == theirs["param_groups"]
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for i, state in ours["state"].items():
        assert list(state) == list(theirs["state"][i]), i
        for key, value in state.items():
            expected = theirs["state"][i][key]
            assert isinstance(value, npconv.Tensor) == isinstance(expected, torch.Tensor), key
            if isinstance(value, npconv.Tensor):
                assert value.dtype.name == str(expected.dtype)[len("torch."):], key
                close(value.numpy(), expected.numpy(), dtype, f"state {i} {key}")
            else:
                assert value == expected, key


@pytest.mark.parametrize("name,kw", list(_configs()))
def test_steps_match_torch(name, kw, close, count_config):
    count_config(name)
    make = lambda m, ps: getattr(m, name)(ps, **kw)  # noqa: E731
    opt, ref = _compare_trajectories(make, close)
    _compare_state_dicts(opt.state_dict(), ref.state_dict(), close)


@pytest.mark.parametrize("name", NAMES)
def test_float32_steps_and_defaults_match_torch(name, close):
    """The constructor's defaults, in float32, with a parameter that skips gradients at some
    steps (no state for it until its first gradient, no update while it has none)."""
    make = lambda m, ps: getattr(m, name)(ps)  # noqa: E731
    skip = lambda step, i: i == 1 and step % 3 != 2  # noqa: E731
    opt, ref = _compare_trajectories(make, close, "float32", skip=skip)
    assert opt.defaults == ref.defaults
    _compare_state_dicts(opt.state_dict(), ref.state_dict(), close, "float32")


@settings(max_examples=30)
@given(name=st.sampled_from(NAMES), data=st.data())
def test_random_hyperparameters_match_torch(name, data, close, count_config):
    """(alpha >= 0.1: centered RMSprop with alpha = 0 takes the square root of rounding noise,
    g^2 - g * g.)"""
    count_config(f"{name}, random hyper-parameters")
    draw = lambda lo, hi: data.draw(st.floats(lo, hi))  # noqa: E731
    lr, wd = draw(1e-3, 0.5), data.draw(st.sampled_from([0.0, draw(0.0, 0.3)]))
    kw = {"SGD": lambda: dict(momentum=draw(0, 0.99), dampening=draw(0, 0.9)),
          "Adam": lambda: dict(betas=(draw(0, 0.99), draw(0, 0.999)), eps=draw(1e-8, 1e-2)),
          "AdamW": lambda: dict(betas=(draw(0, 0.99), draw(0, 0.999)), eps=draw(1e-8, 1e-2)),
          "RMSprop": lambda: dict(alpha=draw(0.1, 0.99), momentum=draw(0, 0.9),
                                  centered=data.draw(st.booleans()), eps=draw(1e-6, 1e-2)),
          "Adagrad": lambda: dict(lr_decay=draw(0, 1), initial_accumulator_value=draw(0, 1)),
          "Adadelta": lambda: dict(rho=draw(0, 1), eps=draw(1e-6, 1e-2)),
          "NAdam": lambda: dict(betas=(draw(0, 0.99), draw(0, 0.999)),
                                momentum_decay=draw(0, 1),
                                decoupled_weight_decay=data.draw(st.booleans()))}[name]()
    kw.update(lr=lr, weight_decay=wd, maximize=data.draw(st.booleans()))
    dtype = data.draw(st.sampled_from(["float32", "float64"]))
    _compare_trajectories(lambda m, ps: getattr(m, name)(ps, **kw), close, dtype,
                          seed=data.draw(st.integers(0, 2**16)))


GROUP_OPTIONS = {"SGD": dict(momentum=0.5, nesterov=True), "Adam": dict(amsgrad=True),
                 "AdamW": dict(weight_decay=0.5), "RMSprop": dict(centered=True, momentum=0.5),
                 "Adagrad": dict(lr_decay=0.5), "Adadelta": dict(rho=0.5),
                 "NAdam": dict(momentum_decay=0.1)}


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_with_their_own_options_match_torch(name, close):
    def make(m, ps):
        return getattr(m, name)([{"params": ps[:2], "lr": 0.05, **GROUP_OPTIONS[name]},
                                 {"params": iter(ps[2:])}], lr=0.2)
    opt, ref = _compare_trajectories(make, close)
    _compare_state_dicts(opt.state_dict(), ref.state_dict(), close)
    assert [len(g["params"]) for g in opt.param_groups] == [2, 1]
    assert repr(opt) == repr(ref)


@pytest.mark.parametrize("name", NAMES)
def test_add_param_group_mid_training_matches_torch(name, close):
    def run(lib):
        rng = np.random.default_rng(1)
        ps = [_parameter(lib, rng.standard_normal(s), "float64") for s in SHAPES]
        opt = getattr(_module(lib), name)(ps[:1], lr=0.1)
        for step in range(6):
            if step == 2:
                opt.add_param_group({"params": ps[1:], "lr": 0.01})
            for p in ps:
                p.grad = lib.tensor(rng.standard_normal(p.shape), dtype=lib.float64)
            opt.step()
        return [p.detach().numpy() for p in ps], opt.state_dict()
    (ours, our_state), (theirs, their_state) = run(npconv), run(torch)
    for a, b in zip(ours, theirs):
        close(a, b, "float64", "parameter")
    _compare_state_dicts(our_state, their_state, close)


@pytest.mark.parametrize("name", NAMES)
def test_save_load_mid_training_continues_exactly(name, close):
    """4 steps, npconv.save the state_dict, npconv.load it into a new optimizer over copies of
    the parameters, 4 more steps: the same parameters as 8 uninterrupted steps, and as torch."""
    kw = dict(lr=0.05, **GROUP_OPTIONS[name])
    rng = np.random.default_rng(2)
    weights = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(8)]

    def run(lib, params, opt, steps):
        for step in steps:
            for p, g in zip(params, step):
                p.grad = lib.tensor(g, dtype=lib.float32)
            opt.step()

    def fresh(lib, arrays):
        params = [_parameter(lib, a, "float32") for a in arrays]
        return params, getattr(_module(lib), name)(
            [{"params": params[:1]}, {"params": params[1:], "lr": 0.02}], **kw)

    full, full_opt = fresh(npconv, weights)
    run(npconv, full, full_opt, grads)
    ref, ref_opt = fresh(torch, weights)
    run(torch, ref, ref_opt, grads)

    first, opt = fresh(npconv, weights)
    run(npconv, first, opt, grads[:4])
    buffer = io.BytesIO()
    npconv.save(opt.state_dict(), buffer)
    buffer.seek(0)
    resumed, resumed_opt = fresh(npconv, [p.detach().numpy() for p in first])
    resumed_opt.load_state_dict(npconv.load(buffer))
    assert repr(resumed_opt) == repr(opt)
    run(npconv, resumed, resumed_opt, grads[4:])
    run(npconv, first, opt, grads[4:])  # the loaded state was copied, not shared
    for a, b, c, r in zip(resumed, full, first, ref):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
        assert np.array_equal(c.detach().numpy(), b.detach().numpy())
        close(a.detach().numpy(), r.detach().numpy(), "float32", "parameter")
    _compare_state_dicts(resumed_opt.state_dict(), ref_opt.state_dict(), close, "float32")


def test_load_state_dict_casts_buffers_to_the_parameters_dtype_but_not_step():
    src = [nn.Parameter(npconv.ones(3, dtype=npconv.float64))]
    opt = optim.Adam(src)
    src[0].grad = npconv.ones(3, dtype=npconv.float64)
    opt.step()
    dst = [nn.Parameter(npconv.ones(3))]
    opt2 = optim.Adam(dst)
    opt2.load_state_dict(opt.state_dict())
    state = opt2.state[dst[0]]
    assert state["exp_avg"].dtype is npconv.float32 and state["step"].dtype is npconv.float32
    assert state["exp_avg"] is not opt.state[src[0]]["exp_avg"]


def test_adamw_loading_adams_state_stays_decoupled_like_torch():
    def groups(lib):
        m = _module(lib)
        p = _parameter(lib, [1.0], "float32")
        opt = m.AdamW([p])
        opt.load_state_dict(m.Adam([p], weight_decay=0.1).state_dict())
        return opt.param_groups[0]["decoupled_weight_decay"], opt.param_groups[0]["weight_decay"]
    assert groups(npconv) == groups(torch) == (True, 0.1)


@pytest.mark.parametrize("name", NAMES)
def test_params_as_generator_list_or_named_pairs(name, close):
    def build(lib, kind):
        module = (nn if lib is npconv else torch.nn).Linear(3, 2)
        if lib is npconv:
            module.weight.data_array[...] = 0.5
            module.bias.data_array[...] = -0.25
        else:
            with torch.no_grad():
                module.weight.fill_(0.5), module.bias.fill_(-0.25)
        params = {"generator": module.parameters(), "list": list(module.parameters()),
                  "named": module.named_parameters()}[kind]
        opt = getattr(_module(lib), name)(params, lr=0.1)
        for p in module.parameters():
            p.grad = lib.full(tuple(p.shape), 0.3)
        opt.step()
        return module, opt.state_dict()
    for kind in ("generator", "list", "named"):
        ours, our_state = build(npconv, kind)
        theirs, their_state = build(torch, kind)
        close(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), "float32", kind)
        _compare_state_dicts(our_state, their_state, close, "float32")


@pytest.mark.parametrize("name", NAMES)
def test_step_updates_in_place_and_bumps_versions(name):
    p = nn.Parameter(npconv.ones(3))
    array = p.data_array
    opt = getattr(optim, name)([p], lr=0.1, **({"momentum": 0.9} if name == "SGD" else {}))
    p.grad = npconv.full((3,), 0.5)
    before = p._version
    opt.step()
    state = list(opt.state[p].values())
    versions = [t._version for t in state]
    opt.step()
    assert p.data_array is array and p._version == before + 2
    assert [t._version for t in state] == [v + 1 for v in versions]
    assert not np.array_equal(p.detach().numpy(), np.ones(3))


def test_repr_matches_torch():
    def build(m, lib, param):
        return m.Adam([{"params": [param(lib.ones(1))]}, {"params": [param(lib.ones(1))],
                                                          "lr": 0.5}], betas=(0.5, 0.9))
    assert repr(build(optim, npconv, nn.Parameter)) == \
        repr(build(torch.optim, torch, torch.nn.Parameter))


def test_zero_grad():
    p = nn.Parameter(npconv.ones(3))
    opt = optim.SGD([p], lr=0.1)
    p.grad = npconv.ones(3)
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and p.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    opt.step()  # no gradient: nothing moves
    assert p.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("name", NAMES)
def test_step_returns_the_closures_loss_evaluated_with_grad_enabled(name, close):
    def run(lib):
        p = _parameter(lib, [2.0, -1.0], "float64")
        opt = getattr(_module(lib), name)([p], lr=0.25)

        def closure():
            opt.zero_grad()
            loss = (p * p).sum()
            loss.backward()
            return loss
        with lib.no_grad():
            loss = opt.step(closure)
        return loss.item(), p.detach().numpy()
    (our_loss, ours), (their_loss, theirs) = run(npconv), run(torch)
    assert our_loss == their_loss == 5.0
    close(ours, theirs, "float64", "parameter")


ERRORS = {
    "empty": lambda m, ps: m.SGD([], lr=0.1),
    "empty generator": lambda m, ps: m.Adam(iter([])),
    "negative lr": lambda m, ps: m.SGD(ps, lr=-1),
    "negative momentum": lambda m, ps: m.SGD(ps, lr=1, momentum=-1),
    "negative weight decay": lambda m, ps: m.SGD(ps, weight_decay=-1),
    "nesterov without momentum": lambda m, ps: m.SGD(ps, lr=1, nesterov=True),
    "nesterov with dampening": lambda m, ps: m.SGD(ps, momentum=0.9, dampening=0.5,
                                                   nesterov=True),
    "lr checked before params": lambda m, ps: m.Adam([], lr=-1),
    "a tensor, not an iterable": lambda m, ps: m.SGD(ps[0], lr=1),
    "a set": lambda m, ps: m.SGD([{"params": set(ps)}]),
    "not a tensor": lambda m, ps: m.SGD([1.0]),
    "an array": lambda m, ps: m.SGD([np.ones(2)]),
    "non-leaf": lambda m, ps: m.SGD([ps[0] * 2]),
    "param in two groups": lambda m, ps: m.SGD([{"params": ps}, {"params": ps[:1]}]),
    "add_param_group overlap": lambda m, ps: m.SGD(ps[:1]).add_param_group({"params": ps}),
    "add_param_group not a dict": lambda m, ps: m.SGD(ps[:1]).add_param_group(ps[1:]),
    "names missing": lambda m, ps: m.SGD([("a", ps[0]), ps[1]]),
    "named group after unnamed": lambda m, ps: m.SGD(ps[:1]).add_param_group(
        {"params": [("b", ps[1])]}),
    "load fewer groups": lambda m, ps: m.SGD(ps).load_state_dict({"state": {},
                                                                  "param_groups": []}),
    "load bigger group": lambda m, ps: m.SGD(ps).load_state_dict(
        {"state": {}, "param_groups": [{"params": [0, 1, 2]}]}),
    "fused and foreach": lambda m, ps: m.Adam(ps, fused=True, foreach=True),
    "adam negative eps": lambda m, ps: m.Adam(ps, eps=-1),
    "adam beta0": lambda m, ps: m.Adam(ps, betas=(1.0, 0.9)),
    "adam beta1": lambda m, ps: m.Adam(ps, betas=(0.9, -0.1)),
    "adam int beta": lambda m, ps: m.Adam(ps, betas=(0, 0.9)),
    "adam weight decay": lambda m, ps: m.Adam(ps, weight_decay=-1),
    "adamw negative lr": lambda m, ps: m.AdamW(ps, lr=-0.5),
    "adamw beta1": lambda m, ps: m.AdamW(ps, betas=(0.9, 1.5)),
    "rmsprop alpha": lambda m, ps: m.RMSprop(ps, alpha=-0.1),
    "rmsprop momentum": lambda m, ps: m.RMSprop(ps, momentum=-0.1),
    "rmsprop eps": lambda m, ps: m.RMSprop(ps, eps=-0.1),
    "rmsprop weight decay": lambda m, ps: m.RMSprop(ps, weight_decay=-0.1),
    "adagrad lr_decay": lambda m, ps: m.Adagrad(ps, lr_decay=-0.1),
    "adagrad initial accumulator": lambda m, ps: m.Adagrad(ps, initial_accumulator_value=-1),
    "adagrad eps": lambda m, ps: m.Adagrad(ps, eps=-1),
    "adadelta rho": lambda m, ps: m.Adadelta(ps, rho=1.5),
    "adadelta lr": lambda m, ps: m.Adadelta(ps, lr=-1.0),
    "adadelta eps": lambda m, ps: m.Adadelta(ps, eps=-1.0),
    "nadam momentum decay": lambda m, ps: m.NAdam(ps, momentum_decay=-1),
    "nadam beta": lambda m, ps: m.NAdam(ps, betas=(0.9, 1.0)),
    "nadam weight decay": lambda m, ps: m.NAdam(ps, weight_decay=-1e-3),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name, raised):
    ours = raised(lambda: ERRORS[name](optim, [nn.Parameter(npconv.ones(2)) for _ in "ab"]))
    theirs = raised(lambda: ERRORS[name](torch.optim, [torch.nn.Parameter(torch.ones(2))
                                                       for _ in "ab"]))
    assert theirs is not None and type(ours) is type(theirs)
    type_name = r"\w+\.\w+Tensor"  # Tensor.type() names: npconv.FloatTensor, torch.FloatTensor
    assert re.sub(type_name, "T", str(ours)) == re.sub(type_name, "T", str(theirs))


@pytest.mark.parametrize("flag", ["differentiable", "capturable"])
def test_autograd_and_graph_capture_flags_are_refused(flag):
    """A deliberate difference: torch accepts these (capturable then fails at step on the
    CPU); npconv's steps run outside autograd, so it refuses them when built."""
    with pytest.raises(NotImplementedError, match=f"^{flag}=True is not supported"):
        optim.Adam([nn.Parameter(npconv.ones(1))], **{flag: True})


def test_duplicate_parameters_warn_like_torch():
    p = nn.Parameter(npconv.ones(2))
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.SGD([p])


def test_all_matches_torch_for_the_names_npconv_has():
    assert set(optim.__all__) <= set(torch.optim.__all__)
    assert {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "NAdam",
            "Optimizer"} <= set(optim.__all__)
