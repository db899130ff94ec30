"""Tensor.softmax / log_softmax own the op, so tensor.py needs nothing from nn.functional."""
import warnings

import numpy as np
import pytest

import npconv
import npconv.nn.functional as F

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((2, 3, 4))


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
