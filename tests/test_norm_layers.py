"""GroupNorm, LayerNorm and InstanceNorm1d/2d/3d (and their functionals) against torch:
outputs and gradients over random shapes and options, reprs, state_dict keys, errors; the
backward against finite differences."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_gradcheck import gradcheck
from test_layers import DTYPES, compare, dtype_names, examples

import npconv
import npconv.nn as nn
import npconv.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _affine_arrays(rng, shape, affine):
    return (rng.standard_normal(shape), rng.standard_normal(shape)) if affine else (None, None)


@examples(40)
@given(n=st.integers(1, 3), groups=st.integers(1, 3), per_group=st.integers(1, 3),
       spatial=st.lists(st.integers(1, 3), max_size=3), affine=st.booleans(),
       dtype=dtype_names, seed=st.integers(0, 2**31))
def test_group_norm_matches_torch(n, groups, per_group, spatial, affine, dtype, seed, close,
                                  count_config):
    channels = groups * per_group
    if n * channels // groups * groups * np.prod(spatial) // groups == 1:
        return  # one value per group: torch's error, tested below
    count_config("group norm")
    rng = np.random.default_rng(seed)
    x = 2 * rng.standard_normal((n, channels, *spatial)) + 1
    w, b = _affine_arrays(rng, channels, affine)
    compare(lambda x, w, b: F.group_norm(x, groups, w, b, 1e-3),
            lambda x, w, b: TF.group_norm(x, groups, w, b, 1e-3), [x, w, b], dtype, close, seed)


@examples(40)
@given(lead=st.lists(st.integers(1, 3), max_size=2), normalized=st.lists(st.integers(1, 4),
       min_size=1, max_size=3), affine=st.booleans(), dtype=dtype_names,
       seed=st.integers(0, 2**31))
def test_layer_norm_matches_torch(lead, normalized, affine, dtype, seed, close, count_config):
    count_config("layer norm")
    rng = np.random.default_rng(seed)
    x = 2 * rng.standard_normal((*lead, *normalized)) - 1
    w, b = _affine_arrays(rng, normalized, affine)
    compare(lambda x, w, b: F.layer_norm(x, normalized, w, b),
            lambda x, w, b: TF.layer_norm(x, normalized, w, b), [x, w, b], dtype, close, seed)


@examples(40)
@given(nd=st.integers(1, 3), data=st.data(), affine=st.booleans(), track=st.booleans(),
       batched=st.booleans(), dtype=dtype_names, seed=st.integers(0, 2**31))
def test_instance_norm_modules_match_torch(nd, data, affine, track, batched, dtype, seed,
                                           close, count_config):
    """Training steps (running statistics when tracked), then eval, as torch."""
    count_config("instance norm")
    spatial = data.draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd).filter(
        lambda s: np.prod(s) > 1))
    shape = ([data.draw(st.integers(1, 3))] if batched else []) + [3, *spatial]
    nd_, td = DTYPES[dtype]
    name = f"InstanceNorm{nd}d"
    ours = getattr(nn, name)(3, affine=affine, track_running_stats=track, dtype=nd_)
    ref = getattr(torch.nn, name)(3, affine=affine, track_running_stats=track, dtype=td)
    rng = np.random.default_rng(seed)
    for step in range(3):
        if step == 2:
            ours.eval(), ref.eval()
        x = 2 * rng.standard_normal(shape) + 1
        compare(ours, ref, [x], dtype, close, seed + step)
        for key, value in ref.state_dict().items():
            close(ours.state_dict()[key].numpy(), value.numpy(), dtype, key)


@pytest.mark.parametrize("case", ["group", "layer", "instance"])
def test_norm_backward_matches_finite_differences(case, numeric_gradient):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 3))
    fn = {"group": lambda x, w, b: F.group_norm(x, 2, w, b),
          "layer": lambda x, w, b: F.layer_norm(x, (3,), w[:3], b[:3]),
          "instance": lambda x, w, b: F.instance_norm(x, weight=w, bias=b)}[case]
    gradcheck(numeric_gradient, fn, x, rng.standard_normal(4), rng.standard_normal(4))


MODULES = [
    ("GroupNorm", (2, 4), {}), ("GroupNorm", (1, 3), dict(affine=False, eps=1e-3)),
    ("GroupNorm", (3, 3), dict(bias=False)),
    ("LayerNorm", (4,), {}), ("LayerNorm", ((3, 4),), dict(elementwise_affine=False)),
    ("LayerNorm", ([2, 3],), dict(bias=False, eps=0.1)),
    ("InstanceNorm1d", (3,), {}), ("InstanceNorm2d", (3,), dict(affine=True)),
    ("InstanceNorm3d", (3,), dict(track_running_stats=True, momentum=None)),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=str)
def test_norm_module_repr_state_dict_and_init_as_torch(name, args, kwargs):
    ours, ref = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for key, value in ref.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())


ERRORS = [
    lambda lib, F: lib.nn.GroupNorm(2, 3),
    lambda lib, F: F.group_norm(lib.ones(2, 3, 4), 2),
    lambda lib, F: F.group_norm(lib.ones(3), 1),
    lambda lib, F: F.group_norm(lib.ones(1, 2), 2),
    lambda lib, F: F.group_norm(lib.ones(2, 3, 4), 3, lib.ones(4)),
    lambda lib, F: F.group_norm(lib.ones(2, 3, 4), 3, lib.ones(3), lib.ones(2)),
    lambda lib, F: F.layer_norm(lib.ones(2, 3), [4]),
    lambda lib, F: F.layer_norm(lib.ones(2, 3), []),
    lambda lib, F: F.layer_norm(lib.ones(2, 3), [3], lib.ones(4)),
    lambda lib, F: F.layer_norm(lib.ones(2, 3), [3], None, lib.ones(2)),
    lambda lib, F: F.layer_norm(lib.ones(3), [2, 3]),
    lambda lib, F: lib.nn.InstanceNorm2d(3)(lib.ones(2, 3, 1, 1)),
    lambda lib, F: lib.nn.InstanceNorm2d(3)(lib.ones(2, 3)),
    lambda lib, F: lib.nn.InstanceNorm1d(3, affine=True)(lib.ones(2, 4, 5)),
    lambda lib, F: F.instance_norm(lib.ones(2, 3, 4), use_input_stats=False),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_norm_errors_as_torch(index, raised):
    mine = raised(lambda: ERRORS[index](npconv, F))
    theirs = raised(lambda: ERRORS[index](torch, TF))
    assert theirs is not None and type(mine) is type(theirs)
    expected = str(theirs).replace("torch.Size", "npconv.Size")
    if "got bias of shape" in expected:  # torch prints the weight's shape there; npconv the bias's
        expected = expected.split(" of shape")[0]
        assert "got bias of shape [2]" in str(mine)
    assert str(mine).startswith(expected)


def test_instance_norm_warns_when_unused_num_features_differ():
    with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features"):
        nn.InstanceNorm1d(3)(npconv.ones(2, 4, 5))
