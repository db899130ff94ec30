"""Shared test settings: hypothesis profile, and a record of the largest errors against torch."""
import importlib.util
import os
import socket
import warnings
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
_HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """The oracle's problems are tiny: torch's second thread only waits for the first (on the
    2-core machine a small conv_transpose backward took ~50 ms with 2 threads, ~2 ms with 1)."""
    if not _HAS_TORCH:  # the finite-difference tests run without the oracle
        yield
        return
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


_ERRORS = defaultdict(float)
_COUNTS = defaultdict(int)


def assert_close(actual, expected, dtype_name, what="", family=None):
    """Compare relative to the largest magnitude; record the error for the session summary
    (per dtype, and per family of configurations when given)."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    err = float(np.abs(actual - expected).max(initial=0.0)) / scale
    for key in (dtype_name, f"{family}, {dtype_name}") if family else (dtype_name,):
        _ERRORS[key] = max(_ERRORS[key], err)
    tol = {"float16": 2e-2, "float32": 2e-5, "float64": 1e-11}[dtype_name]
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol:g}"


def numerical_grad(f, array, eps=1e-6):
    """d f() / d array by central differences, (f(a + eps e_i) - f(a - eps e_i)) / (2 eps),
    one element at a time (array is perturbed in place and restored)."""
    grad = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        old = array[idx]
        array[idx] = old + eps
        plus = f()
        array[idx] = old - eps
        minus = f()
        array[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def raised_by(fn):
    """The exception fn() raises, or None; warnings are silenced (tests that compare errors
    with torch's compare types and messages, not warnings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - comparing whatever each library raises
            return e
    return None


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails, as on a machine without network."""
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def raised():
    return raised_by


@pytest.fixture
def numeric_gradient():
    return numerical_grad


@pytest.fixture
def close():
    return assert_close


@pytest.fixture
def count_config():
    def count(kind):
        _COUNTS[kind] += 1
    return count


def pytest_terminal_summary(terminalreporter):
    if _ERRORS or _COUNTS:
        terminalreporter.section("npconv vs torch")
        for kind, n in sorted(_COUNTS.items()):
            terminalreporter.write_line(f"random configurations checked ({kind}): {n}")
        for name, err in sorted(_ERRORS.items()):
            terminalreporter.write_line(f"largest relative error ({name}): {err:.3g}")
