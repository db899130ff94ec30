"""torch's free functions (npconv.sum, npconv.softmax, ...): torch's parameter names and order,
the same results, and the Tensor methods they call taking the same arguments."""
import inspect
import warnings

import numpy as np
import pytest

import npconv
import npconv.nn.functional as F

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((2, 3, 4))
M = np.random.default_rng(1).standard_normal((4, 3))
T = "tensor"  # placeholder for X as the library's tensor
TM = "matrix"  # placeholder for M

# (function, [(torch's parameter name, value), ...], how many of them torch takes positionally)
CASES = [
    ("exp", [("input", T)], 1), ("log", [("input", "abs")], 1), ("sqrt", [("input", "abs")], 1),
    ("abs", [("input", T)], 1), ("relu", [("input", T)], 1), ("sigmoid", [("input", T)], 1),
    ("tanh", [("input", T)], 1),
    ("clamp", [("input", T), ("min", -0.5), ("max", 0.5)], 3),
    ("sum", [("input", T), ("dim", 1), ("keepdim", True), ("dtype", "float64")], 3),
    ("mean", [("input", T), ("dim", 2), ("keepdim", True)], 3),
    ("var", [("input", T), ("dim", 1), ("unbiased", False), ("keepdim", True)], 4),
    ("std", [("input", T), ("dim", 0), ("unbiased", True), ("keepdim", False)], 4),
    ("max", [("input", T), ("dim", 1), ("keepdim", True)], 3),
    ("min", [("input", T), ("dim", 2), ("keepdim", False)], 3),
    ("amax", [("input", T), ("dim", 1), ("keepdim", True)], 3),
    ("argmax", [("input", T), ("dim", 2), ("keepdim", True)], 3),
    ("argmin", [("input", T), ("dim", 0), ("keepdim", False)], 3),
    ("softmax", [("input", T), ("dim", 1), ("dtype", "float64")], 2),
    ("log_softmax", [("input", T), ("dim", -1), ("dtype", "float64")], 2),
    ("flatten", [("input", T), ("start_dim", 1), ("end_dim", 2)], 3),
    ("reshape", [("input", T), ("shape", (4, 6))], 2),
    ("permute", [("input", T), ("dims", (2, 0, 1))], 2),
    ("transpose", [("input", T), ("dim0", 0), ("dim1", 2)], 3),
    ("squeeze", [("input", "unit"), ("dim", 1)], 2),
    ("unsqueeze", [("input", T), ("dim", 1)], 2),
    ("matmul", [("input", T), ("other", TM)], 2),
    ("mm", [("input", "rows"), ("mat2", TM)], 2),
    ("eq", [("input", T), ("other", 0.0)], 2),
    ("equal", [("input", T), ("other", T)], 2),
    ("where", [("condition", "positive"), ("input", T), ("other", 0.0)], 3),
    ("allclose", [("input", T), ("other", "nudged"), ("rtol", 0.0), ("atol", 2e-3),
                  ("equal_nan", False)], 5),
    ("numel", [("input", T)], 1),
]


def _value(lib, v):
    arrays = {T: X, TM: M, "abs": np.abs(X) + 0.5, "unit": X[:, :1], "rows": X[0],
              "nudged": X + 1e-3, "positive": X > 0}
    if isinstance(v, str) and v in arrays:
        return lib.tensor(arrays[v], dtype=None if v == "positive" else lib.float64)
    if v == "float64":
        return lib.float64
    return v


def _plain(out):
    if isinstance(out, tuple):
        return [_plain(o) for o in out]
    if isinstance(out, (bool, int, float)):
        return out
    return str(out.dtype).split(".")[-1], out.detach().numpy()


def _same(ours, theirs):
    if isinstance(theirs, list):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _same(o, t)
    elif isinstance(theirs, tuple):
        assert ours[0] == theirs[0], f"dtype {ours[0]} != {theirs[0]}"
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-12)
    else:
        assert type(ours) is type(theirs) and ours == theirs


@pytest.mark.parametrize("name, params, n_positional", CASES, ids=[c[0] for c in CASES])
def test_free_functions_take_torchs_arguments_positionally_and_by_name(name, params,
                                                                       n_positional):
    for lib in (npconv, torch):  # both must accept either way of calling
        values = [(p, _value(lib, v)) for p, v in params]
        by_position = getattr(lib, name)(*[v for _, v in values[:n_positional]],
                                         **dict(values[n_positional:]))
        by_name = getattr(lib, name)(**dict(values))
        _same(_plain(by_position), _plain(by_name))
        if lib is npconv:
            ours = _plain(by_name)
    _same(ours, _plain(by_name))


def test_is_tensor_takes_its_object_positionally():
    assert npconv.is_tensor(npconv.zeros(1)) and not npconv.is_tensor(np.zeros(1))
    with pytest.raises(TypeError):
        npconv.is_tensor(obj=npconv.zeros(1))
    with pytest.raises(TypeError):
        torch.is_tensor(obj=torch.zeros(1))


def test_free_functions_are_written_out_with_torchs_parameter_names():
    """Not generated: help(), editors and linters see the real function and parameters."""
    for name, params, _ in CASES:
        f = getattr(npconv, name)
        assert f.__name__ == name and f.__module__ == "npconv.functional_ops"
        assert [p for p, _ in params] == list(inspect.signature(f).parameters)[:len(params)]


def test_tensor_var_and_std_take_unbiased_before_keepdim_as_torch():
    for method in ("var", "std"):
        ours = getattr(npconv.tensor(X, dtype=npconv.float64), method)(1, False)
        theirs = getattr(torch.tensor(X, dtype=torch.float64), method)(1, False)
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_tensor_softmax_takes_dtype_and_checks_dim_as_torch():
    for method in ("softmax", "log_softmax"):
        ours = getattr(npconv.tensor(X), method)(1, npconv.float64)
        theirs = getattr(torch.tensor(X, dtype=torch.float32), method)(1, torch.float64)
        assert ours.dtype == npconv.float64 and theirs.dtype == torch.float64
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
        for lib in (npconv, torch):
            with pytest.raises(IndexError, match=r"^Dimension out of range \(expected to be in "
                                                 r"range of \[-3, 2\], but got 3\)"):
                getattr(lib.tensor(X), method)(3)
            assert getattr(lib.tensor(2.0), method)(-1).shape == ()


def test_softmax_implicit_dim_warning_points_at_the_caller():
    for lib_f in (F.softmax, torch.nn.functional.softmax):
        x = npconv.tensor(X) if lib_f is F.softmax else torch.tensor(X)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib_f(x)
        assert [w.filename for w in caught] == [__file__]


@pytest.mark.parametrize("method", ["sum", "mean", "amax", "var", "std"])
def test_reductions_check_dim_as_torch(method):
    """An out-of-range dim raises instead of silently wrapping to another axis."""
    for lib in (npconv, torch):
        for dim in (3, (0, -4)):
            with pytest.raises(IndexError, match=r"^Dimension out of range \(expected to be in "
                                                 r"range of \[-3, 2\], but got (3|-4)\)"):
                getattr(lib.tensor(X), method)(dim)


@pytest.mark.parametrize("method", ["sum", "mean", "amax"])
@pytest.mark.parametrize("dim", [0, -1, (0,)])
def test_reductions_of_a_0d_tensor_take_dim_0_or_minus_1(method, dim):
    results = []
    for lib in (npconv, torch):
        x = lib.tensor(2.5, dtype=lib.float64, requires_grad=True)
        y = getattr(x, method)(dim)
        (y * 3).backward()
        results.append((tuple(y.shape), y.item(), x.grad.item()))
    assert results[0] == results[1]
    with pytest.raises(IndexError, match=r"^Dimension out of range \(expected to be in range of "
                                         r"\[-1, 0\], but got 1\)"):
        getattr(npconv.tensor(2.5), method)(1)
