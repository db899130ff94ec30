"""Models built from npconv.nn against the same models built from torch.nn: parameter names
and order, state_dict and its errors, train/eval, zero_grad, repr, forward and backward."""
from collections import OrderedDict

import numpy as np
import pytest

import npconv
import npconv.nn  # noqa: F401 - the builders reach layers as lib.nn
from npconv.models import simple_cnn_class

torch = pytest.importorskip("torch")


def simple_cnn(lib):
    """The MNIST CNN: conv(1->32) pool conv(32->64) pool fc(3136->128) dropout fc(128->10)."""
    return simple_cnn_class(lib.nn, lib.nn.functional)()


def nested_net(lib):
    """Sequential (numbered and named), ModuleList, parameter-free layers, a bias-free conv."""
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(),
                                          nn.AvgPool2d(2), nn.Conv2d(4, 4, 3, bias=False))
            self.head = nn.Sequential(OrderedDict(
                flatten=nn.Flatten(), fc=nn.Linear(16, 8), act=nn.LeakyReLU(0.1),
                drop=nn.Dropout(0.5)))
            self.outputs = nn.ModuleList([nn.Linear(8, 3), nn.Linear(8, 2)])

        def forward(self, x):
            h = self.head(self.features(x))
            return self.outputs[0](h), self.outputs[1](h)
    return Net()


def _copy_weights(ours, ref):
    """Load torch's weights into ours, so both compute the same function."""
    ours.load_state_dict(OrderedDict((k, npconv.tensor(v.numpy()))
                                     for k, v in ref.state_dict().items()))


def _forward_backward(lib, model, x, target):
    inputs = lib.tensor(x)
    outputs = model(inputs)
    logits, regression = outputs if isinstance(outputs, tuple) else (outputs, None)
    loss = lib.nn.functional.cross_entropy(logits, lib.tensor(target))
    if regression is not None:
        loss = loss + lib.nn.MSELoss()(regression, lib.zeros(regression.shape))
    loss.backward()
    return loss.item(), {n: p.grad.numpy() for n, p in model.named_parameters()}


@pytest.mark.parametrize("build,shape", [(simple_cnn, (3, 1, 28, 28)), (nested_net, (3, 2, 8, 8))])
def test_model_matches_torch(build, shape, close):
    ours, ref = build(npconv), build(torch)
    assert repr(ours) == repr(ref)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
           [(n, tuple(p.shape)) for n, p in ref.named_parameters()]
    assert list(ours.state_dict()) == list(ref.state_dict())
    _copy_weights(ours, ref)
    ours.eval()
    ref.eval()
    rng = np.random.default_rng(0)
    x, target = rng.standard_normal(shape).astype(np.float32), rng.integers(0, 3, shape[0])
    loss, grads = _forward_backward(npconv, ours, x, target)
    ref_loss, ref_grads = _forward_backward(torch, ref, x, target)
    close(loss, ref_loss, "float32", "loss")
    assert list(grads) == list(ref_grads)
    for name in grads:
        close(grads[name], ref_grads[name], "float32", f"grad of {name}")


def test_train_and_eval_reach_every_submodule():
    model = nested_net(npconv)
    assert all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    x = npconv.tensor(np.random.default_rng(0).standard_normal((64, 2, 8, 8)).astype(np.float32))
    with npconv.no_grad():
        h = model.features(x)
        assert np.array_equal(model.head(h).numpy(), model.head(h).numpy())  # dropout is off
        model.train()
        assert all(m.training for m in model.modules())
        assert (model.head(h).numpy() == 0).mean() > 0.3  # dropout(0.5) after leaky relu


def test_zero_grad_clears_every_parameter():
    model = nested_net(npconv)
    x = np.zeros((2, 2, 8, 8), np.float32)
    _forward_backward(npconv, model, x, np.array([0, 1]))
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def _broken_state(lib, model, missing=(), unexpected=(), resized=()):
    state = OrderedDict((k, v) for k, v in model.state_dict().items() if k not in missing)
    for key in unexpected:
        state[key] = lib.zeros(2)
    for key in resized:
        state[key] = lib.zeros(7, 3)
    return state


@pytest.mark.parametrize("broken", [
    dict(missing=["head.fc.bias"]),
    dict(missing=["features.0.weight", "outputs.1.bias"]),
    dict(unexpected=["head.extra", "outputs.2.weight"]),
    dict(resized=["outputs.0.weight"]),
    dict(missing=["head.fc.weight"], unexpected=["head.fc.gain"], resized=["outputs.1.weight"]),
])
def test_load_state_dict_errors_match_torch(broken):
    ours, ref = nested_net(npconv), nested_net(torch)
    with pytest.raises(RuntimeError) as ours_error:
        ours.load_state_dict(_broken_state(npconv, ours, **broken))
    with pytest.raises(RuntimeError) as torch_error:
        ref.load_state_dict(_broken_state(torch, ref, **broken))
    assert str(ours_error.value) == str(torch_error.value).replace("torch.Size", "npconv.Size")
    if not broken.get("resized"):
        result = ours.load_state_dict(_broken_state(npconv, ours, **broken), strict=False)
        expected = ref.load_state_dict(_broken_state(torch, ref, **broken), strict=False)
        assert result.missing_keys == expected.missing_keys
        assert result.unexpected_keys == expected.unexpected_keys


def test_state_dict_shares_storage_and_load_copies():
    model, other = nested_net(npconv), nested_net(npconv)
    state = model.state_dict()
    assert state["head.fc.weight"].data_array is model.head.fc.weight.data_array
    other.load_state_dict(state)
    for (name, a), (_, b) in zip(model.named_parameters(), other.named_parameters()):
        assert a is not b and np.array_equal(a.detach().numpy(), b.detach().numpy()), name
