"""SimpleCNN, the training loop, the plots and the ``npconv train`` / ``npconv demo`` commands."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

import npconv
import npconv.nn as nn
import npconv.optim as optim
from npconv import cli
from npconv.models import SimpleCNN, simple_cnn_class
from npconv.training import evaluate, fit, train_epoch
from npconv.utils.data import DataLoader, TensorDataset

SEED_REPR = """\
SimpleCNN(
  (conv1): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
  (conv2): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
  (fc1): Linear(in_features=3136, out_features=128, bias=True)
  (fc2): Linear(in_features=128, out_features=10, bias=True)
  (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (dropout): Dropout(p=0.25, inplace=False)
)"""


def test_simplecnn_repr_and_parameters():
    model = SimpleCNN()
    assert repr(model) == SEED_REPR
    assert [(n, list(p.shape)) for n, p in model.named_parameters()] == [
        ("conv1.weight", [32, 1, 3, 3]), ("conv1.bias", [32]),
        ("conv2.weight", [64, 32, 3, 3]), ("conv2.bias", [64]),
        ("fc1.weight", [128, 3136]), ("fc1.bias", [128]),
        ("fc2.weight", [10, 128]), ("fc2.bias", [10])]
    assert sum(p.numel() for p in model.parameters()) == 421642


def test_simplecnn_matches_torch():
    """Same weights -> same logits and same gradients as the seed's SimpleCNN in torch."""
    torch = pytest.importorskip("torch")
    tnn, TF = torch.nn, torch.nn.functional

    TorchSimpleCNN = simple_cnn_class(tnn, TF)

    npconv.manual_seed(1)
    ours = SimpleCNN().eval()
    theirs = TorchSimpleCNN().eval()
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.from_numpy(np.array(ours.state_dict()[name].numpy())))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 5)
    out = ours(npconv.from_numpy(x))
    ref = theirs(torch.from_numpy(x))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-5)
    nn.CrossEntropyLoss()(out, npconv.from_numpy(y)).backward()
    tnn.CrossEntropyLoss()(ref, torch.from_numpy(y)).backward()
    grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(),
                                   rtol=1e-3, atol=1e-6, err_msg=name)


def _blobs(n, seed):
    """A separable toy problem in MNIST shape: the class is where a bright square sits."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.normal(0, 0.3, (n, 1, 28, 28)).astype(np.float32)
    for i, c in enumerate(y):
        r, col = divmod(int(c), 5)
        x[i, 0, 4 + 12 * r:10 + 12 * r, 1 + 5 * col:5 + 5 * col] += 2.0
    return TensorDataset(npconv.from_numpy(x), npconv.from_numpy(y.astype(np.int64)))


def test_fit_history_and_log_lines():
    npconv.manual_seed(0)
    model = SimpleCNN()
    train_loader = DataLoader(_blobs(256, 0), batch_size=32, shuffle=True)
    test_loader = DataLoader(_blobs(100, 1), batch_size=50)
    logged = []
    seen = []
    history = fit(model, train_loader, test_loader, optim.Adam(model.parameters(), lr=1e-3),
                  nn.CrossEntropyLoss(), epochs=2, log=logged.append,
                  on_epoch_end=lambda epoch, h: seen.append(epoch))
    assert seen == [1, 2]
    assert history["epoch"] == [1, 2]
    assert set(history) == {"epoch", "train_loss", "train_acc", "test_loss", "test_acc",
                            "epoch_time"}
    assert all(len(v) == 2 for v in history.values())
    assert history["train_loss"][1] < history["train_loss"][0]
    assert history["test_acc"][-1] > 90.0
    json.dumps(history)  # plain floats and ints
    text = "\n".join(logged)
    assert re.search(r"^Epoch 2/2\n  Train Loss: \d\.\d{4}, Train Acc: \d+\.\d\d%\n"
                     r"  Test Loss:  \d\.\d{4}, Test Acc:  \d+\.\d\d%\n  Time: \d+\.\ds\n$",
                     text, re.M), text
    # evaluate puts the model in eval mode and agrees with itself; train_epoch back in train mode
    loss, acc = evaluate(model, test_loader, nn.CrossEntropyLoss())
    assert not model.training and acc == history["test_acc"][-1]
    assert loss == pytest.approx(history["test_loss"][-1])
    calls = []
    train_epoch(model, train_loader, optim.SGD(model.parameters(), lr=0.0),
                nn.CrossEntropyLoss(), progress=lambda *a: calls.append(a))
    assert model.training and len(calls) == len(train_loader) and calls[-1][0] == 8


def test_simple_progress_bar_without_tty():
    import io

    from npconv.training import _SimpleBar

    buf = io.StringIO()
    bar = _SimpleBar(20, "Epoch 1/1", file=buf)
    for n in range(1, 21):
        bar.update(n, loss=1.0 / n, acc=5.0 * n)
    bar.close()
    out = buf.getvalue().splitlines()
    assert len(out) == 10  # a line per tenth, not per batch
    assert out[-1].startswith("Epoch 1/1  20/20 [########################]  loss 0.0500  "
                              "acc 100.00%")


def test_plots_write_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    from npconv.viz import plot_curves, plot_filters

    model = SimpleCNN()
    plot_filters(model.conv1, tmp_path / "filters.png")
    plot_curves({"train_loss": [0.3, 0.1], "test_loss": [0.2, 0.1],
                 "train_acc": [90.0, 97.0], "test_acc": [95.0, 98.0]}, tmp_path / "curves.png")
    for name in ("filters.png", "curves.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000


def test_plots_without_matplotlib_say_how_to_install(monkeypatch, tmp_path):
    from npconv import viz

    for mod in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(ImportError, match=r'pip install "npconv\[plot\]".*matplotlib'):
        viz.plot_curves({"train_loss": [1.0]}, tmp_path / "c.png")


def _npconv_cli(*args, cwd, timeout=300):
    return subprocess.run([sys.executable, "-m", "npconv", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ, MPLBACKEND="Agg"))


def test_cli_train_quick_run_writes_checkpoint_and_plots(tmp_path):
    proc = _npconv_cli("train", "--limit", "2000", "--epochs", "1", "--out", "tmp",
                       "--data", str(tmp_path / "data"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    match = re.search(r"^Epoch 1/1\n  Train Loss: (\d+\.\d{4}), Train Acc: (\d+\.\d\d)%\n"
                      r"  Test Loss:  (\d+\.\d{4}), Test Acc:  (\d+\.\d\d)%\n"
                      r"  Time: \d+\.\ds$", out, re.M)
    assert match, out
    assert float(match.group(4)) > 75.0, out  # torch: 81-88% over seeds; chance 10%
    assert "2000 train / 2000 test images" in out
    assert "Epoch 1/1  32/32 [" in proc.stderr  # the progress bar, on stderr
    run = tmp_path / "tmp"
    for name in ("simplecnn.npconv", "filters.png", "curves.png", "history.json"):
        assert (run / name).is_file(), name
        assert str(run.relative_to(tmp_path) / name) in out  # says where
    history = json.loads((run / "history.json").read_text())
    assert history["epoch"] == [1] and history["test_acc"][0] == float(match.group(4))
    assert history["config"]["limit"] == 2000 and history["train_images"] == 2000

    model = SimpleCNN()
    fresh = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    result = model.load_state_dict(npconv.load(run / "simplecnn.npconv"))
    assert not result.missing_keys and not result.unexpected_keys
    loaded = model.state_dict()
    assert set(loaded) == set(fresh)
    assert not np.array_equal(loaded["fc2.weight"].numpy(), fresh["fc2.weight"])


def test_cli_demo_and_help(tmp_path):
    proc = _npconv_cli("demo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "output shape: [1, 16, 28, 28]" in proc.stdout
    assert "parameters:   448" in proc.stdout
    assert "total parameters: 421,642" in proc.stdout
    proc = _npconv_cli(cwd=tmp_path)
    assert proc.returncode == 2 and "train" in proc.stdout and "demo" in proc.stdout
    proc = _npconv_cli("train", "--epochs", "0", cwd=tmp_path)
    assert proc.returncode == 2 and "positive" in proc.stderr


# ---- npconv train never loses or mixes a run ------------------------------------------------

OLD_SET = {name: f"old {name}".encode()
           for name in ("simplecnn.npconv", "history.json", "filters.png", "curves.png")}
QUICK = ["--limit", "64", "--batch-size", "32", "--test-batch-size", "64", "--epochs", "1",
         "--no-progress"]


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp("mnist"))


@pytest.fixture
def previous_run(tmp_path):
    """runs/mnist holding an older run's complete set; returns its path."""
    out = tmp_path / "runs" / "mnist"
    out.mkdir(parents=True)
    for name, data in OLD_SET.items():
        (out / name).write_bytes(data)
    return out


def _folder_holds_only_the_old_set(out):
    assert {p.name: p.read_bytes() for p in out.iterdir()} == OLD_SET
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no staging folder left


def _no_training(*args, **kwargs):
    raise AssertionError("trained before refusing the arguments")


@pytest.mark.parametrize("argv, message", [
    (["--out", "afile"], "argument --out: afile exists and is not a directory"),
    (["--out", "afile/run"], "argument --out: cannot create afile/run: "),
    (["--out", "."], "argument --out: . is the current directory or contains it"),
    (["--out", "full"], "argument --out: full holds files npconv train did not write "
                        "(notes.txt)"),
    (["--lr", "inf"], "argument --lr: must be a positive finite number, got inf"),
    (["--lr", "nan"], "argument --lr: must be a positive finite number, got nan"),
    (["--seed", str(2**70)], f"argument --seed: Overflow when unpacking long long (seed "
                             f"{2**70} is outside"),
    (["--seed", str(-2**63 - 1)], "argument --seed: Overflow when unpacking long long"),
    (["--seed", "1.5"], "argument --seed: must be an integer, got 1.5"),
])
def test_train_refuses_bad_arguments_before_training(argv, message, tmp_path, monkeypatch,
                                                     capsys, mnist_root):
    """--out a file used to fail with a traceback after all the training; --lr inf trained an
    all-NaN model and exited 0; a seed out of range ended in a RuntimeError traceback."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("npconv.training.fit", _no_training)
    (tmp_path / "afile").write_text("")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", "--data", mnist_root, *QUICK, *argv])
    assert exit_.value.code == 2  # argparse's usage-error code
    err = capsys.readouterr().err
    assert "usage: npconv train" in err and f"npconv train: error: {message}" in err, err
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_train_fails_at_once_when_out_cannot_be_created(monkeypatch, capsys, mnist_root):
    """The output folder is made before training: the kernel refuses folders in /proc even to
    root, which os.access does not predict."""
    monkeypatch.setattr("npconv.training.fit", _no_training)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", "--data", mnist_root, *QUICK, "--out", "/proc/npconv-run"])
    assert exit_.value.code == 2
    assert "npconv train: error: argument --out: cannot write into /proc/npconv-run: " in \
        capsys.readouterr().err


def test_train_replaces_the_previous_set_as_a_whole(previous_run, monkeypatch, capsys,
                                                    mnist_root):
    """Without matplotlib the new set has no pictures: the old pictures must not stay behind
    beside the new checkpoint."""
    for mod in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, mod, None)
    assert cli.main(["train", "--data", mnist_root, *QUICK, "--out", str(previous_run)]) == 0
    assert sorted(p.name for p in previous_run.iterdir()) == ["history.json", "simplecnn.npconv"]
    assert [p.name for p in previous_run.parent.iterdir()] == ["mnist"]
    assert json.loads((previous_run / "history.json").read_text())["train_images"] == 64
    assert set(npconv.load(previous_run / "simplecnn.npconv")) == set(SimpleCNN().state_dict())
    assert f"{previous_run / 'simplecnn.npconv'}" in capsys.readouterr().out


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk full", "Ctrl-C"])
def test_failure_while_saving_leaves_the_previous_set_intact(error, previous_run, monkeypatch,
                                                             mnist_root):
    """The checkpoint and history are written before the pictures; they used to overwrite the
    old ones, leaving a folder mixing this run with the previous one."""
    def fail(*args, **kwargs):
        raise error
    monkeypatch.setattr("npconv.viz.plot_filters", fail)
    argv = ["train", "--data", mnist_root, *QUICK, "--out", str(previous_run)]
    if isinstance(error, KeyboardInterrupt):
        assert cli.main(argv) == 130
    else:
        with pytest.raises(OSError, match="No space left"):
            cli.main(argv)
    _folder_holds_only_the_old_set(previous_run)


def test_ctrl_c_during_training_exits_130_and_leaves_out_alone(previous_run, tmp_path,
                                                               mnist_root):
    """A real SIGINT, sent once the run has printed that training starts: with 50 epochs
    ahead it always lands in training."""
    proc = subprocess.Popen([sys.executable, "-m", "npconv", "train", "--data", mnist_root,
                             "--limit", "2000", "--epochs", "50", "--no-progress",
                             "--out", str(previous_run)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, MPLBACKEND="Agg"))
    try:
        assert proc.stdout.readline().startswith("Training SimpleCNN")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.strip() == "interrupted" and "Traceback" not in err
    _folder_holds_only_the_old_set(previous_run)


def test_ctrl_c_is_held_off_while_the_set_is_moved_into_place():
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with cli._sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            reached.append("end of block")
    assert reached == ["end of block"]
