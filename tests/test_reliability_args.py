"""Arguments torch refuses or treats specially, outside conv: grad-mode objects, F.pad's pad
elements, integer and bool inputs to losses/activations/pooling, label smoothing, seeds."""
import warnings

import numpy as np
import pytest

import npconv
import npconv.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _raised(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - comparing whatever each library raises
            return e
    raise AssertionError("no exception raised")


def assert_raises_like_torch(ours, theirs):
    """Same exception type; our message starts with torch's and adds a hint after it."""
    mine, ref = _raised(ours), _raised(theirs)
    assert type(mine) is type(ref), (mine, ref)
    assert str(mine).startswith(str(ref)), (str(mine), str(ref))
    return mine


def _grad_mode_story(lib):
    """is_grad_enabled() at each step of the ways set_grad_enabled can be used."""
    seen = []
    built_outside = lib.set_grad_enabled(True)
    with lib.no_grad():
        with built_outside:
            seen.append(lib.is_grad_enabled())  # entering switches on, though built earlier
        seen.append(lib.is_grad_enabled())      # exit restores the mode seen at construction
    seen.append(lib.is_grad_enabled())
    lib.set_grad_enabled(False)                 # a plain call switches at once
    seen.append(lib.is_grad_enabled())
    lib.set_grad_enabled(True)

    @lib.set_grad_enabled(False)
    def f():
        return lib.is_grad_enabled()
    seen.append(lib.is_grad_enabled())          # decorating does not switch
    seen += [f(), lib.is_grad_enabled()]
    with lib.no_grad():
        seen += [f(), lib.is_grad_enabled()]
    reused = lib.set_grad_enabled(False)
    lib.set_grad_enabled(True)
    for _ in range(2):
        with reused:
            seen.append(lib.is_grad_enabled())
        seen.append(lib.is_grad_enabled())
    lib.set_grad_enabled(True)
    return seen


def test_set_grad_enabled_sets_its_mode_on_enter_and_as_decorator_like_torch():
    theirs = _grad_mode_story(torch)
    ours = _grad_mode_story(npconv)
    assert npconv.is_grad_enabled()
    assert ours == theirs
    x = npconv.ones(2, requires_grad=True)
    on = npconv.set_grad_enabled(True)
    with npconv.no_grad():
        with on:
            assert (x * 2).requires_grad


X = np.random.default_rng(0).standard_normal((1, 2, 4, 5)).astype(np.float32)
BAD_PADS = {  # name -> lib -> pad argument that torch's argument parser refuses
    "float first": lambda m: (1.5, 1),
    "float whole number": lambda m: (2.0, 1),
    "float later": lambda m: (1, 1, 1, 0.5),
    "numpy float": lambda m: (1, np.float64(1)),
    "float tensor": lambda m: (m.tensor(1.0), 1),
    "str": lambda m: ("1", 1),
    "None later": lambda m: (1, None),
    "bool first": lambda m: (True, 1),
    "an int": lambda m: 1,
    "an ndarray": lambda m: np.array([1, 1]),
    "a generator": lambda m: (p for p in (1, 1)),
}


@pytest.mark.parametrize("name", list(BAD_PADS))
@pytest.mark.parametrize("mode", ["constant", "reflect"])
def test_pad_refuses_non_int_sizes_like_torch(name, mode):
    """F.pad((1.5, 1)) used to pad by int(1.5) = 1 without a word."""
    error = assert_raises_like_torch(
        lambda: F.pad(npconv.tensor(X), BAD_PADS[name](npconv), mode=mode),
        lambda: TF.pad(torch.tensor(X), BAD_PADS[name](torch), mode=mode))
    assert "whole numbers" in str(error)


@pytest.mark.parametrize("pad", [(1, 2), [0, 1, 2, 1], (np.int64(1), 2), (1, True)],
                         ids=["tuple", "list", "numpy int", "bool later"])
def test_pad_takes_what_torch_takes_as_ints(pad):
    ours = F.pad(npconv.tensor(X), pad, value=3.0)
    theirs = TF.pad(torch.tensor(X), pad, value=3.0)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours = F.pad(npconv.tensor(X), (npconv.tensor(1), npconv.tensor([2])))
    np.testing.assert_array_equal(ours.numpy(), TF.pad(torch.tensor(X), (1, 2)).numpy())
