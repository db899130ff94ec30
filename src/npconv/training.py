"""Training loops: the seed tutorial's ``train_epoch``/``evaluate``, and ``fit`` over epochs.

``train_epoch`` and ``evaluate`` compute exactly what the tutorial's functions compute (mean of
the per-batch losses, accuracy in percent), so numbers are comparable with a torch run::

    history = fit(model, train_loader, test_loader, optimizer, criterion, epochs=3)
    # Epoch 1/3
    #   Train Loss: 0.2145, Train Acc: 93.52%
    #   Test Loss:  0.0789, Test Acc:  97.56%
    #   Time: 41.3s

``fit`` returns the per-epoch history as a dict of lists (JSON-serializable).
"""
from __future__ import annotations

import sys
import time

from npconv.autograd import no_grad

__all__ = ["train_epoch", "evaluate", "fit", "progress_bar"]


def _to(x, device):
    return x if device is None else x.to(device)


def train_epoch(model, train_loader, optimizer, criterion, device=None, progress=None):
    """One pass over ``train_loader``; returns ``(mean batch loss, accuracy %)``.

    ``progress``, if given, is called after every batch as
    ``progress(batches_done, running_mean_loss, running_accuracy)``.
    """
    model.train()
    running_loss = 0.0
    correct = 0
    total = 0
    batches = 0
    for data, target in train_loader:
        data, target = _to(data, device), _to(target, device)
        optimizer.zero_grad()
        output = model(data)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()

        running_loss += loss.item()
        batches += 1
        _, predicted = output.detach().max(1)
        total += target.size(0)
        correct += predicted.eq(target).sum().item()
        if progress is not None:
            progress(batches, running_loss / batches, 100.0 * correct / total)
    if batches == 0:
        raise ValueError("train_loader yielded no batches")
    return running_loss / batches, 100.0 * correct / total


def evaluate(model, test_loader, criterion, device=None):
    """Loss (mean over batches) and accuracy (% of ``len(test_loader.dataset)``), no grad."""
    model.eval()
    test_loss = 0.0
    correct = 0
    batches = 0
    with no_grad():
        for data, target in test_loader:
            data, target = _to(data, device), _to(target, device)
            output = model(data)
            test_loss += criterion(output, target).item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
            batches += 1
    if batches == 0:
        raise ValueError("test_loader yielded no batches")
    return test_loss / batches, 100.0 * correct / len(test_loader.dataset)


def fit(model, train_loader, test_loader, optimizer, criterion, epochs, device=None,
        progress=False, log=print, on_epoch_end=None):
    """Train for ``epochs`` epochs, evaluating after each; returns the history dict.

    history keys: ``epoch``, ``train_loss``, ``train_acc``, ``test_loss``, ``test_acc``,
    ``epoch_time`` (seconds of wall time for training plus evaluation), one entry per epoch.
    ``log`` (default ``print``; ``None`` for silence) receives the tutorial's per-epoch lines.
    ``progress=True`` shows a per-batch progress bar on stderr (tqdm if installed).
    ``on_epoch_end(epoch, history)`` is called after each epoch.
    """
    history = {"epoch": [], "train_loss": [], "train_acc": [], "test_loss": [],
               "test_acc": [], "epoch_time": []}
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        bar = progress_bar(len(train_loader), f"Epoch {epoch}/{epochs}") if progress else None
        try:
            train_loss, train_acc = train_epoch(
                model, train_loader, optimizer, criterion, device,
                progress=None if bar is None else
                (lambda n, loss, acc: bar.update(n, loss=loss, acc=acc)))
        finally:
            if bar is not None:
                bar.close()
        test_loss, test_acc = evaluate(model, test_loader, criterion, device)
        elapsed = time.perf_counter() - start
        for key, value in (("epoch", epoch), ("train_loss", train_loss),
                           ("train_acc", train_acc), ("test_loss", test_loss),
                           ("test_acc", test_acc), ("epoch_time", elapsed)):
            history[key].append(value)
        if log is not None:
            log(f"Epoch {epoch}/{epochs}")
            log(f"  Train Loss: {train_loss:.4f}, Train Acc: {train_acc:.2f}%")
            log(f"  Test Loss:  {test_loss:.4f}, Test Acc:  {test_acc:.2f}%")
            log(f"  Time: {elapsed:.1f}s\n")
        if on_epoch_end is not None:
            on_epoch_end(epoch, history)
    return history


# ---- progress bar ---------------------------------------------------------------------------
class _TqdmBar:
    def __init__(self, total, desc):
        from tqdm import tqdm
        self._bar = tqdm(total=total, desc=desc, leave=True, dynamic_ncols=True)
        self._n = 0

    def update(self, n, loss, acc):
        self._bar.update(n - self._n)
        self._n = n
        self._bar.set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.2f}%", refresh=False)

    def close(self):
        self._bar.close()


class _SimpleBar:
    """``Epoch 1/3  412/938 [#########...........]  loss 0.2311  acc 92.85%  21.4 it/s``.

    On a terminal it redraws in place (at most 10 times a second); elsewhere (a log file, a
    pipe) it writes a line at every tenth of the way, so logs stay short.
    """

    WIDTH = 24

    def __init__(self, total, desc, file=None):
        self.total, self.desc = max(int(total), 1), desc
        self.file = sys.stderr if file is None else file
        self.tty = bool(getattr(self.file, "isatty", lambda: False)())
        self.start = self._last = time.perf_counter()
        self._next_mark = 0.1
        self._line = ""

    def _render(self, n, loss, acc):
        done = int(self.WIDTH * n / self.total)
        rate = n / max(time.perf_counter() - self.start, 1e-9)
        return (f"{self.desc}  {n}/{self.total} [{'#' * done}{'.' * (self.WIDTH - done)}]"
                f"  loss {loss:.4f}  acc {acc:.2f}%  {rate:.1f} it/s")

    def update(self, n, loss, acc):
        now = time.perf_counter()
        if self.tty:
            if now - self._last >= 0.1 or n >= self.total:
                self._line = self._render(n, loss, acc)
                self.file.write("\r" + self._line)
                self.file.flush()
                self._last = now
        elif n / self.total >= self._next_mark or n >= self.total:
            self.file.write(self._render(n, loss, acc) + "\n")
            self.file.flush()
            while self._next_mark <= n / self.total:
                self._next_mark += 0.1

    def close(self):
        if self.tty and self._line:
            self.file.write("\n")
            self.file.flush()


def progress_bar(total, desc=""):
    """A bar with ``update(n, loss=..., acc=...)`` and ``close()``: tqdm's if tqdm is
    installed, else a small built-in one writing to stderr."""
    try:
        return _TqdmBar(total, desc)
    except ImportError:
        return _SimpleBar(total, desc)
