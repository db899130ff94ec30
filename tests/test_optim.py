"""SGD and Adam against torch.optim: the same weights and gradients for 5 steps give the same
parameters; param groups, state_dict round trips, zero_grad and torch's argument errors."""
import itertools
import re
import warnings

import numpy as np
import pytest

import npconv
import npconv.nn as nn
import npconv.optim as optim

torch = pytest.importorskip("torch")

SHAPES = [(4, 3), (3,), (2, 1, 3)]
STEPS = 5


def _run(lib, make_optimizer, dtype, steps=STEPS, seed=0, skip_grad_of=None):
    """Parameters after `steps` updates from fixed weights with fixed per-step gradients."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]
    params = [(nn.Parameter if lib is npconv else torch.nn.Parameter)(lib.tensor(w, dtype=dtype))
              for w in weights]
    opt = make_optimizer(lib, params)
    for step in grads:
        for i, (p, g) in enumerate(zip(params, step)):
            p.grad = None if i == skip_grad_of else lib.tensor(g, dtype=dtype)
        opt.step()
    return [p.detach().numpy() for p in params], opt


def _compare(make_optimizer, close, dtype="float64", **kw):
    ours, opt = _run(npconv, make_optimizer, getattr(npconv, dtype), **kw)
    theirs, ref = _run(torch, make_optimizer, getattr(torch, dtype), **kw)
    for a, b in zip(ours, theirs):
        assert a.dtype == np.dtype(dtype)
        close(a, b, dtype, "parameter")
    return opt, ref


SGD_OPTIONS = list(itertools.product([0, 0.9], [0, 0.3], [0, 0.05], [False, True],
                                     [False, True]))


@pytest.mark.parametrize("momentum,dampening,weight_decay,nesterov,maximize", SGD_OPTIONS)
def test_sgd_matches_torch(momentum, dampening, weight_decay, nesterov, maximize, close,
                           count_config):
    kw = dict(lr=0.1, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
              nesterov=nesterov, maximize=maximize)
    if nesterov and (momentum == 0 or dampening != 0):
        for lib in (optim, torch.optim):
            with pytest.raises(ValueError, match="^Nesterov momentum requires a momentum and "
                                                 "zero dampening$"):
                lib.SGD([nn.Parameter(npconv.zeros(1))] if lib is optim
                        else [torch.nn.Parameter(torch.zeros(1))], **kw)
        return
    count_config("SGD")
    _compare(lambda lib, ps: (optim if lib is npconv else torch.optim).SGD(ps, **kw), close)


@pytest.mark.parametrize("amsgrad,weight_decay,maximize", list(itertools.product(
    [False, True], [0, 0.1], [False, True])))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_adam_matches_torch(amsgrad, weight_decay, maximize, dtype, close, count_config):
    count_config("Adam")
    kw = dict(lr=0.05, betas=(0.8, 0.95), eps=1e-6, weight_decay=weight_decay, amsgrad=amsgrad,
              maximize=maximize)
    _compare(lambda lib, ps: (optim if lib is npconv else torch.optim).Adam(ps, **kw), close,
             dtype)


def test_adam_defaults_and_parameters_without_gradient_match_torch(close):
    opt, ref = _compare(lambda lib, ps: (optim if lib is npconv else torch.optim).Adam(ps), close,
                        skip_grad_of=1)
    assert opt.defaults.items() <= ref.defaults.items()
    assert set(opt.state_dict()["state"]) == set(ref.state_dict()["state"]) == {0, 2}
    for key, value in opt.state_dict()["state"][0].items():
        close(value.numpy(), ref.state_dict()["state"][0][key].numpy(), "float64", key)


def test_param_groups_override_defaults_like_torch(close):
    def make(lib, ps):
        module = optim if lib is npconv else torch.optim
        return module.SGD([{"params": ps[:2], "lr": 0.5, "momentum": 0.5},
                           {"params": ps[2]}], lr=0.1, momentum=0.9)
    opt, ref = _compare(make, close)
    ours = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    theirs = [{k: v for k, v in g.items() if k in ours[0]} for g in ref.param_groups]
    assert ours == theirs and [len(g["params"]) for g in opt.param_groups] == [2, 1]
    assert repr(opt).startswith("SGD (\nParameter Group 0\n    dampening: 0\n    lr: 0.5\n")


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_state_dict_round_trip_resumes_exactly(name, close):
    """3 steps, save, load into a new optimizer, 2 more steps == 5 uninterrupted steps."""
    kw = dict(lr=0.1, momentum=0.9, nesterov=True) if name == "SGD" else dict(lr=0.1, amsgrad=True)
    make = lambda ps: getattr(optim, name)(ps, **kw)  # noqa: E731
    rng = np.random.default_rng(0)
    w, grads = rng.standard_normal(5), rng.standard_normal((5, 5))

    def run(steps, params, opt):
        for g in steps:
            params[0].grad = npconv.tensor(g)
            opt.step()

    full = [nn.Parameter(npconv.tensor(w))]
    run(grads, full, make(full))
    first = [nn.Parameter(npconv.tensor(w))]
    opt = make(first)
    run(grads[:3], first, opt)
    saved = opt.state_dict()
    resumed = [nn.Parameter(npconv.tensor(first[0].detach().numpy().copy()))]
    opt2 = make(resumed)
    opt2.load_state_dict(saved)
    run(grads[3:], resumed, opt2)
    assert np.array_equal(resumed[0].detach().numpy(), full[0].detach().numpy())
    run(grads[3:], first, opt)  # the loaded state was copied, not shared
    assert np.array_equal(first[0].detach().numpy(), full[0].detach().numpy())


def test_state_dict_layout_matches_torch():
    def build(lib, module):
        param = nn.Parameter if lib is npconv else torch.nn.Parameter
        ps = [param(lib.ones(2, dtype=lib.float64)) for _ in range(3)]
        opt = module.Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.1}])
        for p in ps:
            p.grad = lib.ones(2, dtype=lib.float64)
        opt.step()
        return opt.state_dict()
    ours, theirs = build(npconv, optim), build(torch, torch.optim)
    assert [g["params"] for g in ours["param_groups"]] == [[0], [1, 2]]
    assert [g["params"] for g in theirs["param_groups"]] == [[0], [1, 2]]
    assert all(g.items() <= t.items()
               for g, t in zip(ours["param_groups"], theirs["param_groups"]))
    assert {i: sorted(s) for i, s in ours["state"].items()} == \
           {i: sorted(s) for i, s in theirs["state"].items()}
    assert ours["state"][0]["step"].item() == 1.0 and ours["state"][0]["step"].dtype.name == \
           str(theirs["state"][0]["step"].dtype)[6:]


def test_zero_grad():
    p = nn.Parameter(npconv.ones(3))
    opt = optim.SGD([p], lr=0.1)
    p.grad = npconv.ones(3)
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    opt.step()  # no gradient: nothing moves
    assert p.tolist() == [1.0, 1.0, 1.0]


def test_step_evaluates_the_closure_with_grad_enabled():
    p = nn.Parameter(npconv.tensor([2.0]))
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with npconv.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0 and p.tolist() == [1.0]


ERRORS = {
    "empty": lambda m, ps: m.SGD([], lr=0.1),
    "negative lr": lambda m, ps: m.SGD(ps, lr=-1),
    "negative momentum": lambda m, ps: m.SGD(ps, lr=1, momentum=-1),
    "negative weight decay": lambda m, ps: m.SGD(ps, weight_decay=-1),
    "nesterov without momentum": lambda m, ps: m.SGD(ps, lr=1, nesterov=True),
    "nesterov with dampening": lambda m, ps: m.SGD(ps, momentum=0.9, dampening=0.5,
                                                   nesterov=True),
    "adam negative lr": lambda m, ps: m.Adam(ps, lr=-1),
    "adam negative eps": lambda m, ps: m.Adam(ps, eps=-1),
    "adam beta0": lambda m, ps: m.Adam(ps, betas=(1.0, 0.9)),
    "adam beta1": lambda m, ps: m.Adam(ps, betas=(0.9, -0.1)),
    "adam weight decay": lambda m, ps: m.Adam(ps, weight_decay=-1),
    "a tensor, not an iterable": lambda m, ps: m.SGD(ps[0], lr=1),
    "a set": lambda m, ps: m.SGD([{"params": set(ps)}]),
    "not a tensor": lambda m, ps: m.SGD([1.0]),
    "non-leaf": lambda m, ps: m.SGD([ps[0] * 2]),
    "param in two groups": lambda m, ps: m.SGD([{"params": ps}, {"params": ps[:1]}]),
    "load fewer groups": lambda m, ps: m.SGD(ps).load_state_dict({"state": {},
                                                                  "param_groups": []}),
    "load bigger group": lambda m, ps: m.SGD(ps).load_state_dict(
        {"state": {}, "param_groups": [{"params": [0, 1, 2]}]}),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    def raised(module, lib, param):
        try:
            ERRORS[name](module, [param(lib.ones(2)), param(lib.ones(2))])
        except Exception as e:  # noqa: BLE001 - comparing whatever each library raises
            return e
        raise AssertionError("no exception raised")
    ours = raised(optim, npconv, nn.Parameter)
    theirs = raised(torch.optim, torch, torch.nn.Parameter)
    assert type(ours) is type(theirs)
    type_name = r"\w+\.\w+Tensor"  # Tensor.type() names: npconv.Float32Tensor, torch.FloatTensor
    assert re.sub(type_name, "T", str(ours)) == re.sub(type_name, "T", str(theirs))


def test_duplicate_parameters_warn_like_torch():
    p = nn.Parameter(npconv.ones(2))
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.SGD([p])
