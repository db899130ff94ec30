"""summary(): every output shape and parameter count against torch's, on random models built
the same way in both libraries; MACs against the formula on grouped, depthwise, dilated and
transposed convs (with torch's shapes); totals against sum(p.numel())."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import npconv
import npconv.nn as nn
import npconv.nn.functional as F
from npconv import analysis
from npconv.kernels.geometry import conv_output_size, conv_transpose_output_size
from npconv.models import SimpleCNN
from test_receptive_field import load_example


@st.composite
def layer_specs(draw):
    """(input shape, layer specs): conv (any groups, dilation, stride, padding, bias),
    transposed conv, pooling, relu, then maybe flatten + linear."""
    size = draw(st.integers(6, 16))
    channels = draw(st.sampled_from([1, 2, 3, 4]))
    shape = (draw(st.integers(1, 2)), channels, size, size + draw(st.integers(0, 3)))
    spatial, specs = list(shape[2:]), []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "transpose", "max", "avg", "adaptive",
                                     "relu"]))
        k, s, d = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
        p = draw(st.integers(0, k // 2))
        if kind in ("conv", "transpose"):
            groups = draw(st.sampled_from([1, channels]))  # channels: depthwise
            c_out = groups * draw(st.integers(1, 2))
            if kind == "conv":
                out = [conv_output_size(n, k, s, p, p, d) for n in spatial]
            else:
                op = draw(st.integers(0, max(s, d) - 1))
                out = [conv_transpose_output_size(n, k, s, p, p, d, op) for n in spatial]
            if min(out) < 1:
                continue
            specs.append((kind, channels, c_out, k, s, p, d, groups, draw(st.booleans()),
                          op if kind == "transpose" else 0))
            channels, spatial = c_out, out
        elif kind in ("max", "avg"):
            out = [(n + 2 * p - k) // s + 1 for n in spatial]
            if min(out) < 1:
                continue
            specs.append((kind, k, s, p))
            spatial = out
        elif kind == "adaptive":
            spatial = [draw(st.integers(1, n)) for n in spatial]
            specs.append((kind, tuple(spatial)))
        else:
            specs.append(("relu",))
    if draw(st.booleans()):
        specs += [("flatten",), ("linear", channels * math.prod(spatial),
                                 draw(st.integers(1, 5)))]
    return shape, specs


def build(lib_nn, specs):
    layers = []
    for kind, *args in specs:
        if kind == "conv":
            c_in, c_out, k, s, p, d, g, bias, _ = args
            layers.append(lib_nn.Conv2d(c_in, c_out, k, s, p, d, g, bias))
        elif kind == "transpose":
            c_in, c_out, k, s, p, d, g, bias, op = args
            layers.append(lib_nn.ConvTranspose2d(c_in, c_out, k, s, p, op, g, bias, d))
        elif kind == "max":
            layers.append(lib_nn.MaxPool2d(*args))
        elif kind == "avg":
            layers.append(lib_nn.AvgPool2d(*args))
        elif kind == "adaptive":
            layers.append(lib_nn.AdaptiveAvgPool2d(*args))
        elif kind == "relu":
            layers.append(lib_nn.ReLU())
        elif kind == "flatten":
            layers.append(lib_nn.Flatten())
        else:
            layers.append(lib_nn.Linear(*args))
    return lib_nn.Sequential(*layers)


def torch_shapes(model, shape):
    """Each child's output shape in torch."""
    shapes = []
    for child in model.children():
        child.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape)))
    with torch.no_grad():
        model(torch.zeros(shape))
    return shapes


def formula_macs(layer, in_shape, out_shape):
    """The issue's convention, from torch's layer and shapes."""
    if isinstance(layer, torch.nn.ConvTranspose2d):
        return (in_shape[0] * layer.in_channels * math.prod(in_shape[2:]) *
                layer.out_channels // layer.groups * math.prod(layer.kernel_size))
    if isinstance(layer, torch.nn.Conv2d):
        return (out_shape[0] * layer.out_channels * math.prod(out_shape[2:]) *
                layer.in_channels // layer.groups * math.prod(layer.kernel_size))
    if isinstance(layer, torch.nn.Linear):
        return math.prod(in_shape[:-1]) * layer.in_features * layer.out_features
    return 0


@settings(max_examples=40)
@given(layer_specs())
def test_shapes_params_and_macs_match_torch_and_the_formula(case):
    shape, specs = case
    ours, theirs = build(nn, specs), build(torch.nn, specs)
    result = analysis.summary(ours, shape)
    rows = [r for r in result.rows if r.depth == 1]
    expected = torch_shapes(theirs, shape)
    assert [r.output_shape for r in rows] == expected
    assert [r.params for r in rows] == [sum(p.numel() for p in m.parameters())
                                        for m in theirs.children()]
    ins = [shape] + expected[:-1]
    assert [r.macs for r in rows] == [formula_macs(m, i, o) for m, i, o in
                                      zip(theirs.children(), ins, expected)]
    assert result.total_params == sum(p.numel() for p in theirs.parameters())
    assert result.total_macs == sum(r.macs for r in rows) and \
        result.total_flops == 2 * result.total_macs


def test_simple_cnn_summary():
    theirs = load_example_simple_cnn_torch()
    result = analysis.summary(SimpleCNN(), (1, 1, 28, 28))
    assert result.total_params == result.trainable_params == \
        sum(p.numel() for p in theirs.parameters()) == 421_642
    assert [r.name for r in result.rows] == ["SimpleCNN", "conv1", "relu", "pool", "conv2", "relu",
                                             "pool", "reshape", "fc1", "relu", "dropout", "fc2"]
    conv2 = result.rows[4]
    assert conv2.macs == 1 * 64 * 14 * 14 * 32 * 9 and conv2.field == (8, 8)
    assert conv2.geometry == "k 3x3 s 1x1 p 1x1"
    text = str(result)
    assert "Total params: 421,642" in text and "FLOPs = 2 x MACs" in text
    assert "bias additions" in text


def load_example_simple_cnn_torch():
    from npconv.models import simple_cnn_class
    return simple_cnn_class(torch.nn, torch.nn.functional)()


def test_functional_ops_in_forward_are_rows_with_their_macs():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(npconv.randn(4, 2, 3, 3))
            self.proj = nn.Parameter(npconv.randn(5, 6))

        def forward(self, x):
            y = F.conv2d(x, self.weight, padding=1, groups=1)
            y = F.max_pool2d(y + y, 2)
            return y @ self.proj

    result = analysis.summary(Functional(), (1, 2, 12, 10))
    names = [r.name for r in result.rows]
    assert names == ["Functional", "conv", "add", "max_pool", "matmul"]
    conv, _, pool, matmul = result.rows[1:]
    assert conv.macs == 1 * 4 * 12 * 10 * 2 * 9 and conv.geometry == "k 3x3 s 1x1 p 1x1"
    assert pool.output_shape == (1, 4, 6, 5) and pool.macs == 0
    assert matmul.output_shape == (1, 4, 6, 6) and matmul.macs == 4 * 6 * 6 * 5
    assert result.rows[0].params == result.total_params == 4 * 2 * 9 + 30


def test_nested_modules_are_not_counted_twice_and_frozen_params_are_not_trainable():
    resnet = load_example("resnet")
    model = resnet.SmallResNet()
    model.stem.requires_grad_(False)
    result = analysis.summary(model, (2, 3, 32, 32))
    assert result.total_params == sum(p.numel() for p in model.parameters())
    assert result.non_trainable_params == model.stem.weight.numel() + model.stem.bias.numel()
    assert result.total_macs == sum(r.macs for r in result.rows)
    block = next(r for r in result.rows if r.name == "block2")
    assert block.depth == 1 and block.macs == 0 and block.params == 0
    assert [r.name for r in result.rows if r.name.startswith("block2.")][-2:] == [
        "block2.add", "block2.relu"]


def test_shared_module_counts_its_parameters_once():
    conv = nn.Conv2d(2, 2, 3, padding=1)
    model = nn.Sequential(conv, nn.ReLU(), conv)
    result = analysis.summary(model, (1, 2, 8, 8))
    assert result.total_params == 2 * 2 * 9 + 2
    assert result.total_macs == 2 * (2 * 64 * 2 * 9)


def test_summary_of_a_failing_model_raises_the_diagnosis():
    with pytest.raises(RuntimeError, match="fc1 .Linear. expects 3136 input features"):
        analysis.summary(nn.Sequential(nn.Flatten(), _named_linear()), (1, 1, 10, 10))


def _named_linear():
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(3136, 128)

        def forward(self, x):
            return self.fc1(x)
    return Head()


def test_trace_leaves_state_and_random_numbers_alone():
    class Counting(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("seen", npconv.zeros(1))
            self.drop = nn.Dropout(0.5)

        def forward(self, x):
            self.seen.add_(1)
            return self.drop(x)

    model = Counting()
    npconv.manual_seed(3)
    expected = npconv.rand(3)
    npconv.manual_seed(3)
    analysis.summary(model, (1, 4))
    assert npconv.rand(3).equal(expected) and model.seen.item() == 0


def test_cli_summary_and_check(capsys):
    from npconv.cli import main
    assert main(["summary", "SimpleCNN", "--input", "1,1,28,28"]) == 0
    assert str(analysis.summary(SimpleCNN(), (1, 1, 28, 28))) in capsys.readouterr().out
    example = str(load_example.__globals__["EXAMPLES"] / "resnet.py")
    assert main(["check", f"{example}:SmallResNet", "--input", "1,3,32,32"]) == 0
    assert "fits: output shape npconv.Size([1, 10])" in capsys.readouterr().out
    assert main(["check", "SimpleCNN", "--input", "1,1,20,20"]) == 1
    assert "the model runs on inputs of 28 x 28 to 31 x 31" in capsys.readouterr().out
    assert main(["summary", "SimpleCNN", "--input", "1,3,28,28"]) == 1
    assert "conv1 (Conv2d) expects 1 input channels" in capsys.readouterr().err
    for bad in (["summary", "NoSuchModel", "--input", "1,1,28,28"],
                ["summary", f"{example}:Missing", "--input", "1,1,28,28"],
                ["check", "SimpleCNN", "--input", "1,x"]):
        with pytest.raises(SystemExit) as exit_:
            main(bad)
        assert exit_.value.code == 2
