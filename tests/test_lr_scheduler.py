"""npconv.optim.lr_scheduler against torch.optim.lr_scheduler: the same learning rates (and
cycled momenta) bit for bit over 100 steps for random options, the same state_dicts, a
save/load round trip mid-training, torch's warnings and errors."""
import io
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import npconv
import npconv.nn as nn
import npconv.optim as optim
from npconv.optim import lr_scheduler

torch = pytest.importorskip("torch")

EPOCHS = 100


def _optimizer(lib, kind="SGD", lrs=(0.1, 0.03)):
    param = nn.Parameter if lib is npconv else torch.nn.Parameter
    groups = [{"params": [param(lib.ones(2))], "lr": lr} for lr in lrs]
    module = optim if lib is npconv else torch.optim
    return module.SGD(groups, momentum=0.9) if kind == "SGD" else module.Adam(groups)


def _schedulers(lib):
    return lr_scheduler if lib is npconv else torch.optim.lr_scheduler


def _history(lib, build, kind="SGD", epochs=EPOCHS, metrics=None):
    """[(get_last_lr(), each group's lr and momentum or beta1)] after each epoch."""
    opt = _optimizer(lib, kind)
    scheduler = build(_schedulers(lib), opt)
    history = []
    for epoch in range(epochs):
        opt.step()
        scheduler.step(*([metrics[epoch]] if metrics is not None else []))
        momenta = [g["momentum"] if kind == "SGD" else g["betas"][0] for g in opt.param_groups]
        history.append((list(scheduler.get_last_lr()), [g["lr"] for g in opt.param_groups],
                        momenta))
    return history, scheduler


def _same_history(build, **kw):
    ours, scheduler = _history(npconv, build, **kw)
    theirs, ref = _history(torch, build, **kw)
    assert ours == theirs  # the same float operations in the same order: equal, not close
    assert _comparable(scheduler.state_dict()) == _comparable(ref.state_dict())
    return scheduler


def _comparable(state):
    """A state_dict with nested scheduler states and with callables' entries left as they are;
    NaN-free, so == compares it."""
    if isinstance(state, dict):
        return {k: _comparable(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_comparable(v) for v in state)
    return state


floats = st.floats


def _strategies():
    """For each scheduler, a strategy of (builder, optimizer kind)."""
    def lam(draw_gamma):
        return lambda epoch: draw_gamma ** (epoch % 7)
    one_cycle = st.fixed_dictionaries({
        "max_lr": st.sampled_from([0.5, [0.2, 1.0]]), "pct_start": floats(0.05, 0.9),
        "anneal_strategy": st.sampled_from(["cos", "linear"]),
        "cycle_momentum": st.booleans(), "div_factor": floats(2, 50),
        "final_div_factor": floats(10, 1e5), "three_phase": st.booleans(),
        "base_momentum": floats(0.5, 0.85), "max_momentum": floats(0.86, 0.99)})
    return {
        "StepLR": st.builds(lambda s, g: lambda m, o: m.StepLR(o, s, g), st.integers(1, 30),
                            floats(0.05, 1.0)),
        "MultiStepLR": st.builds(lambda ms, g: lambda m, o: m.MultiStepLR(o, ms, g),
                                 st.lists(st.integers(0, 120), max_size=6), floats(0.05, 1.0)),
        "ExponentialLR": st.builds(lambda g: lambda m, o: m.ExponentialLR(o, g),
                                   floats(0.8, 1.0)),
        "CosineAnnealingLR": st.builds(lambda t, e: lambda m, o: m.CosineAnnealingLR(o, t, e),
                                       st.integers(1, 60), floats(0, 0.01)),
        "LambdaLR": st.builds(lambda g: lambda m, o: m.LambdaLR(o, lam(g)), floats(0.5, 1.2)),
        "MultiplicativeLR": st.builds(lambda g: lambda m, o: m.MultiplicativeLR(
            o, [lambda e: g, lambda e: 1 - g / 10]), floats(0.9, 1.0)),
        "LinearLR": st.builds(lambda s, e, t: lambda m, o: m.LinearLR(o, s, e, t),
                              floats(0.01, 1.0), floats(0.0, 1.0), st.integers(1, 80)),
        "ConstantLR": st.builds(lambda f, t: lambda m, o: m.ConstantLR(o, f, t),
                                floats(0.01, 1.0), st.integers(0, 80)),
        "PolynomialLR": st.builds(lambda t, p: lambda m, o: m.PolynomialLR(o, t, p),
                                  st.integers(1, 120), floats(0.5, 3.0)),
        "OneCycleLR": st.builds(lambda kw, by_epochs: lambda m, o: m.OneCycleLR(
            o, **kw, **({"epochs": 10, "steps_per_epoch": 10} if by_epochs
                        else {"total_steps": EPOCHS})), one_cycle, st.booleans()),
        "CyclicLR": st.builds(lambda up, down, mode, g: lambda m, o: m.CyclicLR(
            o, 0.01, [0.1, 0.5], up, down, mode, g), st.integers(1, 20),
            st.one_of(st.none(), st.integers(1, 20)),
            st.sampled_from(["triangular", "triangular2", "exp_range"]), floats(0.9, 1.0)),
        "CosineAnnealingWarmRestarts": st.builds(
            lambda t0, mult, e: lambda m, o: m.CosineAnnealingWarmRestarts(o, t0, mult, e),
            st.integers(1, 20), st.integers(1, 3), floats(0, 0.01)),
        "SequentialLR": st.builds(lambda t, ms: lambda m, o: m.SequentialLR(
            o, [m.LinearLR(o, 0.1, total_iters=t), m.ExponentialLR(o, 0.95),
                m.StepLR(o, 7, 0.5)], sorted(ms)), st.integers(1, 30),
            st.lists(st.integers(1, 90), min_size=2, max_size=2)),
        "ChainedScheduler": st.builds(lambda t, g: lambda m, o: m.ChainedScheduler(
            [m.ConstantLR(o, 0.5, t), m.ExponentialLR(o, g)]), st.integers(1, 30),
            floats(0.9, 1.0)),
    }


STRATEGIES = _strategies()


@pytest.mark.parametrize("name", list(STRATEGIES))
@settings(max_examples=12)
@given(data=st.data())
def test_learning_rates_match_torch_over_many_epochs(name, data, count_config):
    count_config(f"scheduler {name}")
    build = data.draw(STRATEGIES[name])
    kind = data.draw(st.sampled_from(["SGD", "Adam"]))
    _same_history(build, kind=kind)


@settings(max_examples=25)
@given(mode=st.sampled_from(["min", "max"]), threshold_mode=st.sampled_from(["rel", "abs"]),
       factor=floats(0.1, 0.9), patience=st.integers(0, 5), cooldown=st.integers(0, 4),
       threshold=floats(0, 0.1), min_lr=st.sampled_from([0, 1e-3, [1e-3, 1e-4]]),
       eps=st.sampled_from([1e-8, 1e-3]), seed=st.integers(0, 2**16))
def test_reduce_lr_on_plateau_matches_torch(mode, threshold_mode, factor, patience, cooldown,
                                            threshold, min_lr, eps, seed, count_config):
    count_config("scheduler ReduceLROnPlateau")
    rng = np.random.default_rng(seed)
    metrics = np.cumsum(rng.normal(-0.05 if mode == "min" else 0.05, 1.0, EPOCHS)).tolist()
    metrics[::9] = [1.0] * len(metrics[::9])  # plateaus
    _same_history(lambda m, o: m.ReduceLROnPlateau(
        o, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps),
        metrics=metrics)


@pytest.mark.parametrize("name,build", [
    ("StepLR", lambda m, o: m.StepLR(o, 3, 0.5)),
    ("MultiStepLR", lambda m, o: m.MultiStepLR(o, [2, 5, 5], 0.5)),
    ("ExponentialLR", lambda m, o: m.ExponentialLR(o, 0.9)),
    ("CosineAnnealingLR", lambda m, o: m.CosineAnnealingLR(o, 10, 0.001)),
    ("LinearLR", lambda m, o: m.LinearLR(o, 0.2, 0.9, 6)),
    ("ConstantLR", lambda m, o: m.ConstantLR(o, 0.3, 4)),
    ("PolynomialLR", lambda m, o: m.PolynomialLR(o, 8, 2.0)),
    ("LambdaLR", lambda m, o: m.LambdaLR(o, lambda e: 1 / (e + 1))),
    ("CosineAnnealingWarmRestarts", lambda m, o: m.CosineAnnealingWarmRestarts(o, 3, 2)),
])
def test_step_with_an_epoch_uses_the_closed_form_and_warns_like_torch(name, build):
    def run(lib):
        opt = _optimizer(lib)
        scheduler = build(_schedulers(lib), opt)
        rates = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for epoch in [1, 4, 2, 9, 12, 3.5 if name == "CosineAnnealingWarmRestarts" else 3]:
                opt.step()
                scheduler.step(epoch)
                rates.append(scheduler.get_last_lr())
        return rates, [(w.category, str(w.message)) for w in caught]
    assert run(npconv) == run(torch)


def _train(lib, make, epochs, state=None):
    """make(module, optimizer) -> scheduler; steps of SGD on a fixed quadratic loss."""
    param = (nn.Parameter if lib is npconv else torch.nn.Parameter)(lib.tensor([1.0, -2.0]))
    opt = (optim if lib is npconv else torch.optim).SGD([param], lr=0.1, momentum=0.9)
    scheduler = make(_schedulers(lib), opt)
    if state is not None:
        opt.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        param.data_array[...] = state["param"].numpy()
    for _ in range(epochs):
        opt.zero_grad()
        (param * param).sum().backward()
        opt.step()
        scheduler.step()
    return param, opt, scheduler


@pytest.mark.parametrize("make", [
    lambda m, o: m.MultiStepLR(o, [5, 15, 15, 25]),
    lambda m, o: m.OneCycleLR(o, 1.0, total_steps=40, three_phase=True),
    lambda m, o: m.CosineAnnealingWarmRestarts(o, 4, 2, 1e-3),
    lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=5),
                                    m.CosineAnnealingLR(o, 20)], [5]),
    lambda m, o: m.ChainedScheduler([m.ConstantLR(o, 0.5, 8), m.ExponentialLR(o, 0.9)]),
], ids=["MultiStepLR", "OneCycleLR", "CosineAnnealingWarmRestarts", "SequentialLR",
        "ChainedScheduler"])
def test_save_load_mid_training_continues_exactly(make, close):
    """20 steps, npconv.save the optimizer's and the scheduler's state_dicts, load both into a
    new optimizer and scheduler, 20 more: the same as 40 uninterrupted steps, and as torch."""
    param, opt, scheduler = _train(npconv, make, 20)
    buffer = io.BytesIO()
    npconv.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict(),
                 "param": param.detach()}, buffer)
    buffer.seek(0)
    resumed, _, resumed_scheduler = _train(npconv, make, 20, npconv.load(buffer))
    full, _, full_scheduler = _train(npconv, make, 40)
    ref, _, ref_scheduler = _train(torch, make, 40)
    assert resumed_scheduler.get_last_lr() == full_scheduler.get_last_lr() == \
        ref_scheduler.get_last_lr()
    assert np.array_equal(resumed.detach().numpy(), full.detach().numpy())
    close(full.detach().numpy(), ref.detach().numpy(), "float32", "parameter")


def _warnings_of(lib, calls):
    opt = _optimizer(lib)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        calls(_schedulers(lib), opt)
    return [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("case", {
    "scheduler before optimizer": lambda m, o: (lambda s: (s.step(), o.step()))(
        m.StepLR(o, 2)),
    "right order": lambda m, o: (lambda s: (o.step(), s.step(), s.step()))(m.StepLR(o, 2)),
    "overridden step": lambda m, o: (lambda s: (setattr(o, "step", lambda: None), s.step()))(
        m.ExponentialLR(o, 0.5)),
    "get_lr outside step": lambda m, o: m.StepLR(o, 2).get_lr(),
    "two schedulers, one wrap": lambda m, o: (m.StepLR(o, 2), m.ExponentialLR(o, 0.9),
                                              o.step()),
    "plateau never warns": lambda m, o: m.ReduceLROnPlateau(o).step(1.0),
}.items(), ids=lambda case: case[0])
def test_warnings_match_torch(case):
    ours, theirs = _warnings_of(npconv, case[1]), _warnings_of(torch, case[1])
    assert ours == theirs
    if case[0] == "scheduler before optimizer":
        assert ours and ours[0][1].startswith("Detected call of `lr_scheduler.step()` before "
                                              "`optimizer.step()`.")


def test_scheduler_step_before_optimizer_step_warns_once():
    opt = _optimizer(npconv)
    scheduler = lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match=r"^Detected call of `lr_scheduler\.step\(\)` before "
                                         r"`optimizer\.step\(\)`"):
        scheduler.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()
        opt.step()
        scheduler.step()


def test_the_step_wrapper_keeps_the_closure_and_its_loss():
    opt = _optimizer(npconv)
    lr_scheduler.ExponentialLR(opt, 0.5)
    assert opt.step(lambda: 3.0) == 3.0 and opt._opt_called


def test_initial_lr_and_base_lrs_as_torch():
    def state(lib):
        opt = _optimizer(lib)
        scheduler = _schedulers(lib).StepLR(opt, 2)
        opt.param_groups[0]["lr"] = 0.5  # a later change does not move initial_lr
        resumed = _schedulers(lib).StepLR(opt, 2, last_epoch=3)
        return ([g["initial_lr"] for g in opt.param_groups], scheduler.base_lrs,
                resumed.base_lrs, resumed.last_epoch)
    assert state(npconv) == state(torch)


ERRORS = {
    "not an optimizer": lambda m, o: m.StepLR(object(), 2),
    "resume without initial_lr": lambda m, o: m.StepLR(o, 2, last_epoch=4),
    "verbose was removed": lambda m, o: m.StepLR(o, 2, verbose=True),
    "lambdas per group": lambda m, o: m.LambdaLR(o, [lambda e: 1.0]),
    "multiplicative not callable": lambda m, o: m.MultiplicativeLR(o, [1.0, 2.0]),
    "constant factor": lambda m, o: m.ConstantLR(o, factor=1.5),
    "linear start": lambda m, o: m.LinearLR(o, start_factor=0),
    "linear end": lambda m, o: m.LinearLR(o, end_factor=2),
    "sequential empty": lambda m, o: m.SequentialLR(o, [], []),
    "sequential milestones": lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2)], [3]),
    "sequential plateau": lambda m, o: m.SequentialLR(o, [m.ReduceLROnPlateau(o)], []),
    "sequential other optimizer": lambda m, o: m.SequentialLR(
        o, [m.StepLR(_optimizer(npconv if m is lr_scheduler else torch), 2)], []),
    "chained empty": lambda m, o: m.ChainedScheduler([]),
    "chained not a scheduler": lambda m, o: m.ChainedScheduler([1]),
    "plateau factor": lambda m, o: m.ReduceLROnPlateau(o, factor=1.0),
    "plateau mode": lambda m, o: m.ReduceLROnPlateau(o, mode="lowest"),
    "plateau threshold mode": lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="pct"),
    "plateau min_lrs": lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]),
    "plateau new group": lambda m, o: (lambda s: (o.add_param_group(
        {"params": [(nn.Parameter if m is lr_scheduler else torch.nn.Parameter)(
            (npconv if m is lr_scheduler else torch).ones(1))]}),
        [s.step(1.0) for _ in range(3)]))(m.ReduceLROnPlateau(o, patience=0, min_lr=[0, 0])),
    "one cycle nothing": lambda m, o: m.OneCycleLR(o, 1.0),
    "one cycle total_steps": lambda m, o: m.OneCycleLR(o, 1.0, total_steps=0),
    "one cycle epochs": lambda m, o: m.OneCycleLR(o, 1.0, epochs=2.5, steps_per_epoch=3),
    "one cycle steps_per_epoch": lambda m, o: m.OneCycleLR(o, 1.0, epochs=2, steps_per_epoch=0),
    "one cycle pct_start": lambda m, o: m.OneCycleLR(o, 1.0, total_steps=9, pct_start=1),
    "one cycle anneal": lambda m, o: m.OneCycleLR(o, 1.0, total_steps=9,
                                                  anneal_strategy="exp"),
    "one cycle max_lr list": lambda m, o: m.OneCycleLR(o, [1.0], total_steps=9),
    "one cycle past total_steps": lambda m, o: (lambda s: [(o.step(), s.step())
                                                           for _ in range(6)])(
        m.OneCycleLR(o, 1.0, total_steps=5)),
    "warm restarts T_0": lambda m, o: m.CosineAnnealingWarmRestarts(o, 0),
    "warm restarts T_mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, 2, 1.5),
    "warm restarts eta_min": lambda m, o: m.CosineAnnealingWarmRestarts(o, 2, eta_min="0"),
    "warm restarts epoch": lambda m, o: m.CosineAnnealingWarmRestarts(o, 2).step(-1),
    "cyclic mode": lambda m, o: m.CyclicLR(o, 0.1, 1.0, mode="square"),
    "cycle momentum without momentum": lambda m, o: m.OneCycleLR(
        (optim if m is lr_scheduler else torch.optim).Adagrad(o.param_groups[0]["params"]),
        1.0, total_steps=9),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name, raised):
    ours = raised(lambda: ERRORS[name](lr_scheduler, _optimizer(npconv)))
    theirs = raised(lambda: ERRORS[name](torch.optim.lr_scheduler, _optimizer(torch)))
    assert theirs is not None and type(ours) is type(theirs)
    strip = lambda e: str(e).replace("torch.optim.sgd.SGD", "SGD")  # noqa: E731
    if name == "sequential other optimizer":  # the message prints both optimizers' reprs
        assert strip(ours).split(" has ")[0] == strip(theirs).split(" has ")[0]
    else:
        assert strip(ours) == strip(theirs)


def test_namespace_matches_torch():
    assert set(lr_scheduler.__all__) == set(torch.optim.lr_scheduler.__all__)
    assert optim.lr_scheduler.StepLR is lr_scheduler.StepLR
    assert issubclass(lr_scheduler._LRScheduler, lr_scheduler.LRScheduler)
    assert all(issubclass(getattr(lr_scheduler, name), lr_scheduler.LRScheduler)
               for name in lr_scheduler.__all__)


@pytest.mark.parametrize("base", ["LRScheduler", "_LRScheduler"])
def test_a_users_own_scheduler_runs_as_in_torch(base):
    """A get_lr() of the user's on torch's base: base_lrs, last_epoch and get_last_lr()."""
    def run(lib):
        opt = _optimizer(lib)
        custom = type("Halving", (getattr(_schedulers(lib), base),), {
            "get_lr": lambda self: [b * 0.5 ** self.last_epoch + 1e-3 * self._step_count
                                    for b in self.base_lrs]})(opt)
        rates = []
        for _ in range(10):
            opt.step()
            custom.step()
            rates.append(custom.get_last_lr())
        return rates
    assert run(npconv) == run(torch)
