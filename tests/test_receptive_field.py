"""Receptive fields against a brute-force measure: the input cells whose gradient reaches one
output unit (npconv's own autograd, float64, random input and weights so that no gradient
vanishes by accident; tanh and average pooling, whose gradients never vanish), compared as
bounding boxes (a dilation can leave holes inside), on random sequential and branched models."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npconv
import npconv.nn as nn
import npconv.nn.functional as F
from npconv import analysis
from npconv.kernels.geometry import conv_output_size, conv_transpose_output_size, pool_output_size

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Chain(nn.Module):
    """Blocks applied in turn, each block a (kind, modules) pair: 'seq' runs its module,
    'add' returns body(x) + x, 'cat' concatenates two branches along the channels."""

    def __init__(self, blocks):
        super().__init__()
        self.kinds = [kind for kind, _ in blocks]
        self.blocks = nn.ModuleList([nn.ModuleList(mods) for _, mods in blocks])

    def forward(self, x):
        for kind, mods in zip(self.kinds, self.blocks):
            if kind == "seq":
                x = mods[0](x)
            elif kind == "add":
                x = mods[0](x) + x
            else:
                x = npconv.cat([mods[0](x), mods[1](x)], 1)
            x = npconv.tanh(x)
        return x


@st.composite
def models(draw, ndim=2, pooling="avg"):
    """(model, input shape, whether every block keeps the fields aligned and zero-padded)."""
    size = [draw(st.integers(6, 14)) for _ in range(ndim)]
    shape = (1, draw(st.integers(1, 2)), *size)
    channels, blocks, plain = shape[1], [], True
    conv = (nn.Conv1d, nn.Conv2d)[ndim - 1]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "pool", "transpose", "adaptive", "add", "cat"]))
        k = draw(st.integers(1, 3))
        s, d = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        p = draw(st.integers(0, k - 1))
        if kind == "conv":
            mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
            if mode == "reflect":
                p = min(p, min(size) - 1)
            groups = draw(st.sampled_from([1, channels]))
            out = conv_output_size(min(size), k, s, p, p, d)
            if out < 1:
                continue
            c_out = groups * draw(st.integers(1, 2))
            blocks.append(("seq", [conv(channels, c_out, k, s, p, d, groups, padding_mode=mode)]))
            size = [conv_output_size(n, k, s, p, p, d) for n in size]
            channels, plain = c_out, plain and mode == "zeros"
        elif kind == "pool":
            ceil = draw(st.booleans())
            p = min(p, k // 2)
            if pool_output_size(min(size), k, s, p, 1, ceil) < 1:
                continue
            pool = (nn.AvgPool1d, nn.AvgPool2d)[ndim - 1] if pooling == "avg" else \
                (nn.MaxPool1d, nn.MaxPool2d)[ndim - 1]
            blocks.append(("seq", [pool(k, s, p, ceil_mode=ceil)]))
            size = [pool_output_size(n, k, s, p, 1, ceil) for n in size]
        elif kind == "transpose":
            p = min(p, d * (k - 1))
            op = draw(st.integers(0, max(s, d) - 1))
            t = (nn.ConvTranspose1d, nn.ConvTranspose2d)[ndim - 1]
            blocks.append(("seq", [t(channels, 2, k, s, p, op, dilation=d)]))
            size = [conv_transpose_output_size(n, k, s, p, p, d, op) for n in size]
            channels, plain = 2, False
        elif kind == "adaptive":
            out = [draw(st.integers(1, n)) for n in size]
            blocks.append(("seq", [(nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)[ndim - 1](
                out if ndim > 1 else out[0])]))
            size, plain = out, False
        else:
            k = draw(st.sampled_from([1, 3]))
            d = draw(st.integers(1, 2))
            branch = [conv(channels, channels, k, 1, d * (k - 1) // 2, d)]
            if kind == "cat":
                branch.append(conv(channels, channels, 1))
                channels *= 2
            blocks.append((kind, branch))
    return Chain(blocks).double(), shape, plain


def brute_force(model, shape, unit):
    """The bounding box, per spatial axis, of the input cells whose gradient reaches every
    channel of `unit` of the output (sample 0)."""
    x = npconv.tensor(np.random.default_rng(0).standard_normal(shape), dtype=npconv.float64,
                      requires_grad=True)
    y = model(x)
    y[(0, slice(None), *unit)].sum().backward()
    reached = np.abs(x.grad.numpy()[0]).sum(axis=0) > 0
    boxes = []
    for axis in range(reached.ndim):
        cells = np.flatnonzero(reached.any(axis=tuple(i for i in range(reached.ndim) if i != axis)))
        boxes.append((int(cells[0]), int(cells[-1])) if cells.size else None)
    return tuple(boxes)


def units(out_spatial, rng):
    every = list(np.ndindex(*out_spatial))
    return [every[i] for i in rng.choice(len(every), min(len(every), 6), replace=False)]


@settings(max_examples=50)
@given(st.sampled_from([1, 2, 2]).flatmap(lambda ndim: models(ndim=ndim)),
       st.integers(0, 2 ** 31))
def test_region_of_a_unit_is_the_cells_its_gradient_reaches(case, seed):
    model, shape, _ = case
    out = analysis.check(model, shape).output_shape
    for unit in units(out[2:], np.random.default_rng(seed)):
        assert analysis.receptive_field_of(model, shape, unit) == brute_force(model, shape, unit)


@settings(max_examples=30)
@given(models())
def test_recurrence_gives_the_field_of_every_unit_inside_the_input(case):
    """On zero-padded conv/pool models (sequential, residual, concatenated) the last row's
    size, jump and start place every unit's field: where it lies inside the input, it is the
    gradient's bounding box."""
    model, shape, plain = case
    if not plain:
        return
    row = analysis.receptive_field(model, shape)[-1]
    assert row.shape == tuple(analysis.check(model, shape).output_shape)
    for unit in np.ndindex(*row.shape[2:]):
        nominal = [(st_ + u * j - (r - 1) / 2, st_ + u * j + (r - 1) / 2)
                   for u, r, j, st_ in zip(unit, row.size, row.jump, row.start)]
        if all(0 <= lo and hi <= n - 1 for (lo, hi), n in zip(nominal, shape[2:])):
            assert brute_force(model, shape, unit) == tuple((int(lo), int(hi))
                                                            for lo, hi in nominal)


@settings(max_examples=15)
@given(models(pooling="max"))
def test_max_pooling_has_the_field_of_average_pooling(case):
    """Max pooling's gradient reaches one cell per window, so its brute force is the average
    pool of the same geometry."""
    model, shape, _ = case
    avg = Chain([(kind, [nn.AvgPool2d(m.kernel_size, m.stride, m.padding, m.ceil_mode)
                         if isinstance(m, nn.MaxPool2d) else m for m in mods])
                 for kind, mods in zip(model.kinds, model.blocks)])
    out = analysis.check(model, shape).output_shape
    for unit in units(out[2:], np.random.default_rng(0)):
        assert analysis.receptive_field_of(model, shape, unit) == brute_force(avg, shape, unit)


def test_dilation_leaves_holes_but_the_region_is_the_bounding_box():
    model = nn.Conv1d(1, 1, 2, dilation=4).double()
    assert analysis.receptive_field_of(model, (1, 1, 9), (0,)) == brute_force(model, (1, 1, 9),
                                                                              (0,)) == ((0, 4),)
    row, = analysis.receptive_field(model, (1, 1, 9))
    assert (row.size, row.jump, row.start) == ((5,), (1,), (2,))


def test_recurrence_of_a_strided_dilated_chain():
    """r = r + (k-1) d j, j = j s, start = start + ((k-1)d/2 - p) j, written out."""
    model = nn.Sequential(nn.Conv2d(1, 1, 3, 2, 1), nn.Conv2d(1, 1, (5, 3), 1, 0, (1, 2)),
                          nn.MaxPool2d(2))
    rows = analysis.receptive_field(model, (1, 1, 32, 32))
    assert [r.name for r in rows] == ["0", "1", "2"]
    assert [(r.size, r.jump, r.start) for r in rows] == [
        ((3, 3), (2, 2), (0, 0)),
        ((3 + 4 * 2, 3 + 4 * 2), (2, 2), (0 + 2 * 2, 0 + 2 * 2)),
        ((11 + 2, 11 + 2), (4, 4), (4 + 0.5 * 2, 4 + 0.5 * 2))]


def test_misaligned_merge_says_so():
    class TwoPaths(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(1, 1, 3, 2), nn.Conv2d(1, 1, 2, 2)

        def forward(self, x):
            return self.a(x) + self.b(x)  # both 4 x 4 from 9 x 9, fields centred 1 and 0.5

    rows = analysis.receptive_field(TwoPaths(), (1, 1, 9, 9))
    assert "not aligned" in rows[-1].note and "'a'" in rows[-1].note and "'b'" in rows[-1].note
    assert rows[-1].size == (3, 3) and rows[-1].start == (1, 1)  # [0, 2] and [0, 1]


def test_flatten_and_linear_see_the_whole_input():
    from npconv.models import SimpleCNN
    rows = analysis.receptive_field(SimpleCNN(), (1, 1, 28, 28))
    assert rows[-1].name == "fc2" and rows[-1].size == (28, 28) and rows[-1].jump == (0, 0)
    assert [r.name for r in rows][:3] == ["conv1", "relu", "pool"]
    # the unit is one of the last spatial map (pool, 7 x 7): r = 10, j = 4, start = 1.5
    assert analysis.receptive_field_of(SimpleCNN(), (1, 1, 28, 28), (3, 3)) == ((9, 18),
                                                                                (9, 18))
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    assert analysis.receptive_field_of(mlp, (1, 1, 3, 4), ()) == ((0, 2), (0, 3))
    with pytest.raises(IndexError):
        analysis.receptive_field_of(mlp, (1, 1, 3, 4), (0, 0))


def test_unit_out_of_range_is_refused():
    with pytest.raises(IndexError, match="spatial size"):
        analysis.receptive_field_of(nn.Conv2d(1, 1, 3), (1, 1, 5, 5), (3, 0))


def test_resnet18_field_is_the_published_435():
    """torchvision's resnet18 geometry: 435 x 435 at layer4 (jump 32)."""
    resnet = load_example("resnet")
    rows = analysis.receptive_field(resnet.ResNet18(), (1, 3, 224, 224))
    last = [r for r in rows if r.name.startswith("layer4")][-1]
    assert (last.size, last.jump) == ((435, 435), (32, 32)) and last.note == ""
    assert rows[-1].name == "fc" and rows[-1].size == (224, 224)


def test_functional_pooling_and_concatenation_in_forward_are_seen():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3, padding=1)

        def forward(self, x):
            y = F.max_pool2d(self.conv(x), 2)
            return npconv.cat([y, F.avg_pool2d(x, 2)], 1)

    rows = analysis.receptive_field(Functional(), (1, 1, 8, 8))
    assert [r.name for r in rows] == ["conv", "max_pool", "avg_pool", "cat"]
    assert rows[-1].size == (4, 4)  # the union of 4 x 4 (conv + pool) and 2 x 2 (pool)


def test_global_pooling_map_is_passed_over_for_the_map_it_pools():
    resnet = load_example("resnet")
    model, shape = resnet.SmallResNet(), (1, 3, 32, 32)
    features = nn.Sequential(model.stem, nn.ReLU(), model.block1, model.block2)
    for unit in [(0, 0), (15, 7), (8, 15)]:  # block2's 16 x 16 map, not the pool's 1 x 1
        assert analysis.receptive_field_of(model, shape, unit) == \
            analysis.receptive_field_of(features, shape, unit)
    with pytest.raises(IndexError, match=r"spatial size \(16, 16\)"):
        analysis.receptive_field_of(model, shape, (16, 0))


@pytest.mark.parametrize("train", [True, False])
def test_batch_norm_leaves_the_field_as_without_it(train):
    """Batch norm acts cell by cell (running statistics in eval; batch statistics not counted
    in training): fields and regions are those of the model without it."""
    convs = [nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 4, 3, stride=2, dilation=2)]
    plain = nn.Sequential(convs[0], nn.ReLU(), convs[1])
    normed = nn.Sequential(convs[0], nn.BatchNorm2d(4), nn.ReLU(), convs[1], nn.BatchNorm2d(4))
    normed.train(train)
    size = (2, 1, 17, 15)
    assert analysis.receptive_field_of(normed, size, (2, 3)) == \
        analysis.receptive_field_of(plain, size, (2, 3))
    last = analysis.receptive_field(normed, size)[-1]
    ref = analysis.receptive_field(plain, size)[-1]
    assert (last.size, last.jump, last.start) == (ref.size, ref.jump, ref.start)


@pytest.mark.parametrize("norm", [lambda: nn.GroupNorm(2, 4), lambda: nn.LayerNorm([4, 9, 8]),
                                  lambda: nn.InstanceNorm2d(4)], ids=["group", "layer", "instance"])
def test_group_layer_instance_norm_mix_each_samples_cells(norm):
    """Their statistics cover every position of a sample, in eval too: the whole input, as the
    gradient shows."""
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), norm(), nn.Conv2d(4, 2, 3)).eval()
    assert analysis.receptive_field(model, (1, 1, 9, 8))[-1].size == (9, 8)
    x = npconv.randn(1, 1, 9, 8, dtype=npconv.float64, requires_grad=True)
    model.double()(x)[0, 0, 2, 2].backward()
    assert (x.grad.numpy() != 0).all()
