"""check(): shapes alone, against torch running the same model; diagnoses of deliberately broken
models, each of whose suggested fixes is then checked to work."""
import pytest
import torch
from hypothesis import given, settings

import npconv
import npconv.nn as nn
import npconv.nn.functional as F
from npconv import analysis
from npconv.autograd import conv_ops
from test_receptive_field import load_example
from test_summary import build, layer_specs


def mnist_classes(lib_nn, fc_in, channels=(1, 32, 64)):
    class Net(lib_nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = lib_nn.Conv2d(channels[0], 32, 3, padding=1)
            self.pool1 = lib_nn.MaxPool2d(2)
            self.conv2 = lib_nn.Conv2d(channels[1], 64, 3, padding=1)
            self.pool2 = lib_nn.MaxPool2d(2)
            self.fc1 = lib_nn.Linear(fc_in, 128)

        def forward(self, x):
            x = self.pool2(self.conv2(self.pool1(self.conv1(x))))
            return self.fc1(x.flatten(1))
    return Net


def torch_outcome(model, shape):
    """torch's output shape, or its exception type."""
    try:
        with torch.no_grad():
            return tuple(model(torch.zeros(shape)).shape)
    except Exception as e:  # noqa: BLE001 - comparing whatever torch raises
        return type(e)


@settings(max_examples=40)
@given(layer_specs())
def test_outcome_matches_torch_on_random_models_and_sizes(case):
    """Fits or not as torch, with torch's output shape; also on an input one size smaller."""
    shape, specs = case
    for size in (shape, (*shape[:2], shape[2] - 5, shape[3])):
        result = analysis.check(build(nn, specs), size)
        expected = torch_outcome(build(torch.nn, specs), size)
        if isinstance(expected, tuple):
            assert result and tuple(result.output_shape) == expected
        else:
            assert not result and isinstance(result.error, expected), result


def test_linear_mismatch_names_the_layer_the_source_and_both_fixes():
    result = analysis.check(mnist_classes(nn, 3136)(), (1, 1, 20, 20))
    assert not result and result.layer == "fc1"
    assert str(result) == ("fc1 (Linear) expects 3136 input features but receives 1600 = "
                           "64 x 5 x 5 from 'pool2': use nn.Linear(1600, 128), or an input of "
                           "28 x 28 (up to 31 x 31)")
    assert isinstance(result.error, torch_outcome(mnist_classes(torch.nn, 3136)(),
                                                  (1, 1, 20, 20)))
    assert analysis.check(mnist_classes(nn, 1600)(), (1, 1, 20, 20))
    for size in (28, 31):
        assert analysis.check(mnist_classes(nn, 3136)(), (1, 1, size, size))
    for size in (27, 32):
        assert not analysis.check(mnist_classes(nn, 3136)(), (1, 1, size, size))


def test_channel_mismatch_names_the_fix():
    result = analysis.check(mnist_classes(nn, 3136, (1, 16, 64))(), (1, 1, 28, 28))
    assert result.layer == "conv2"
    assert str(result).startswith("conv2 (Conv2d) expects 16 input channels but receives 32 "
                                  "from 'pool1'")
    assert "use nn.Conv2d(32, 64, ...)" in str(result)


def test_input_too_small_gives_the_smallest_that_works():
    model = nn.Sequential(nn.Conv2d(1, 2, 5), nn.MaxPool2d(2), nn.Conv2d(2, 2, 3, dilation=2))
    result = analysis.check(model, (1, 1, 8, 8))
    assert result.layer == "2" and "too small for its window" in str(result)
    smallest = int(str(result).rsplit(" is ", 1)[1].split(" x ")[0])
    assert analysis.check(model, (1, 1, smallest, smallest))
    assert not analysis.check(model, (1, 1, smallest - 1, smallest - 1))
    assert smallest == 4 + 2 * 5  # conv 5: +4, pool 2: x2, dilated 3x3 needs 5


def test_residual_shape_mismatch_names_the_addition_and_its_inputs():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

        def forward(self, x):
            return self.conv(x) + x

    result = analysis.check(Block(), (1, 3, 8, 8))
    assert not result and result.layer == "Block"
    text = str(result)
    assert "Add" in text and "[1, 8, 4, 4] from 'conv'" in text and "from 'input'" in text


def test_check_does_no_conv_arithmetic(monkeypatch):
    """A 224 x 224 ResNet-18-shaped model checks with the conv kernels never called."""
    def refuse(*args, **kwargs):
        raise AssertionError("a conv kernel ran during check")

    monkeypatch.setattr(conv_ops.Convolution, "forward", refuse)
    resnet = load_example("resnet")
    result = analysis.check(resnet.ResNet18(), (1, 3, 224, 224))
    assert result and result.output_shape == (1, 1000)
    with pytest.raises(AssertionError):
        resnet.ResNet18()(npconv.zeros(1, 3, 32, 32))


def test_resnet18_example_matches_torch():
    resnet = load_example("resnet")
    ours = resnet.ResNet18()
    _, theirs_class, _ = resnet.resnet_classes(torch.nn, torch.nn.functional,
                                               with_norm=hasattr(nn, "BatchNorm2d"))
    theirs = theirs_class()
    shape = (1, 3, 224, 224)
    small = (1, 3, 48, 40)  # torch runs for real: a small input
    assert tuple(analysis.check(ours, small).output_shape) == torch_outcome(theirs, small)
    assert analysis.summary(ours, shape).total_params == sum(p.numel()
                                                             for p in theirs.parameters())


def test_several_inputs_and_unbatched_ones():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 4, 3)

        def forward(self, x, y):
            return F.relu(self.conv(x)).flatten(1) @ y

    assert analysis.check(Two(), [(2, 2, 5, 5), (36, 7)]).output_shape == (2, 7)
    assert analysis.check(nn.Conv2d(2, 4, 3), (2, 5, 5)).output_shape == (4, 3, 3)
    with pytest.raises(ValueError, match="input_size must be a shape"):
        analysis.check(Two(), (2, 0, 5))


def test_a_model_that_indexes_by_value_still_checks():
    class ByValue(nn.Module):
        def forward(self, x):
            return x[x.argmax(1)] if x.sum().item() == 0 else x

    assert analysis.check(ByValue(), (3, 4)).output_shape == (3, 4)
