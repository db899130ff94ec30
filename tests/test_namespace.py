"""``import npconv as torch`` reaches what ``import torch`` reaches, and the device-facing
modules (cuda, backends, accelerator) answer as torch's CPU-only build does."""
import subprocess
import sys
from pathlib import Path

import pytest

import npconv

torch = pytest.importorskip("torch")

SRC = Path(__file__).resolve().parents[1] / "src"

# Dotted names a typical CNN program reaches from the package root, with no other import.
REACHED_FROM_ROOT = [
    "nn.Conv2d", "nn.Module", "nn.functional.conv2d", "nn.functional.relu",
    "nn.init.kaiming_uniform_", "nn.init.calculate_gain", "optim.SGD", "optim.Adam",
    "optim.Optimizer", "utils.data.DataLoader", "utils.data.Dataset", "utils.data.TensorDataset",
    "autograd.Function", "autograd.no_grad", "cuda.is_available", "cuda.manual_seed",
    "backends.cudnn.benchmark", "backends.mps.is_available", "accelerator.is_available",
    "accelerator.current_accelerator", "device", "manual_seed",
]


def _resolve(root, dotted):
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


def test_a_fresh_interpreter_reaches_the_subpackages_from_the_root_alone():
    """What a program swapped to ``import npconv as torch`` does first."""
    code = ("import npconv as torch\n"
            + "".join(f"torch.{name}\n" for name in REACHED_FROM_ROOT)
            + "print(torch.nn.Conv2d(1, 2, 3)(torch.randn(1, 1, 5, 5)).shape)")
    done = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(SRC)},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "npconv.Size([1, 2, 3, 3])"


@pytest.mark.parametrize("name", REACHED_FROM_ROOT)
def test_every_name_exists_in_torch_too(name):
    """The list above is torch's namespace, not one we made up."""
    assert callable(_resolve(torch, name)) == callable(_resolve(npconv, name))


def test_the_submodules_import_by_their_dotted_names():
    """As ``import torch.backends.cudnn as cudnn`` in torch's ImageNet example."""
    import npconv.backends.cudnn as cudnn
    import npconv.nn.functional as F
    import npconv.utils.data as data
    assert (cudnn, F, data) == (npconv.backends.cudnn, npconv.nn.functional, npconv.utils.data)


QUERIES = {  # name: arguments
    "cuda.is_available": (), "cuda.is_initialized": (), "cuda.is_bf16_supported": (),
    "cuda.device_count": (), "cuda.manual_seed": (0,), "cuda.manual_seed_all": (0,),
    "cuda.seed": (), "cuda.seed_all": (), "cuda.empty_cache": (), "cuda.memory_allocated": (),
    "cuda.max_memory_allocated": (), "cuda.init": (), "cuda.synchronize": (),
    "cuda.current_device": (), "cuda.get_device_name": (),
    "accelerator.is_available": (), "accelerator.current_accelerator": (),
    "accelerator.device_count": (), "accelerator.current_device_index": (),
    "accelerator.set_device_index": (0,), "accelerator.synchronize": (),
    "accelerator.empty_cache": (), "backends.cudnn.is_available": (),
    "backends.cudnn.version": (), "backends.mps.is_available": (), "backends.mps.is_built": (),
    "backends.cuda.is_built": (),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_device_queries_answer_or_raise_as_torch_cpu_build(name, raised):
    args = QUERIES[name]
    expected_error = raised(lambda: _resolve(torch, name)(*args))
    error = raised(lambda: _resolve(npconv, name)(*args))
    if expected_error is None:
        assert error is None, error
        assert _resolve(npconv, name)(*args) == _resolve(torch, name)(*args)
    else:
        assert type(error) is type(expected_error)
        assert str(error).startswith(str(expected_error)) and len(str(error)) > len(
            str(expected_error)), "torch's words first, then a hint"


FLAGS = ["backends.cudnn.enabled", "backends.cudnn.benchmark", "backends.cudnn.deterministic",
         "backends.cudnn.allow_tf32", "backends.cuda.matmul.allow_tf32"]


@pytest.mark.parametrize("name", FLAGS)
def test_backend_flags_have_torch_defaults_and_are_settable(name):
    owner_name, _, flag = name.rpartition(".")
    owner = _resolve(npconv, owner_name)
    default = getattr(owner, flag)
    assert default == _resolve(torch, name)
    try:
        setattr(owner, flag, not default)
        assert _resolve(npconv, name) is (not default)
    finally:
        setattr(owner, flag, default)


def test_no_accelerator_is_reported():
    assert npconv.accelerator.current_accelerator() is None
    assert npconv.accelerator.current_accelerator(check_available=True) is None
