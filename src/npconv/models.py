"""Ready-made models.

``SimpleCNN`` is the MNIST classifier of the seed tutorial (chapter 1.6), layer for layer and in
the same attribute order, so ``print(SimpleCNN())`` shows the same repr as torch does::

    SimpleCNN(
      (conv1): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
      (conv2): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
      (fc1): Linear(in_features=3136, out_features=128, bias=True)
      (fc2): Linear(in_features=128, out_features=10, bias=True)
      (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
      (dropout): Dropout(p=0.25, inplace=False)
    )

It has 421,642 parameters and maps (N, 1, 28, 28) images to (N, 10) logits.
"""
from __future__ import annotations

import npconv.nn
import npconv.nn.functional

__all__ = ["SimpleCNN", "simple_cnn_class"]


def simple_cnn_class(nn, F):
    """The SimpleCNN class built from a torch-shaped library's ``nn`` and ``nn.functional``:
    npconv's for ``SimpleCNN``, torch's for the same network as a test or benchmark oracle."""

    class SimpleCNN(nn.Module):
        """conv(1->32) -> relu -> pool -> conv(32->64) -> relu -> pool -> fc(3136->128) -> relu
        -> dropout(0.25) -> fc(128->10), for 28x28 single-channel images."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)
            self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
            self.fc1 = nn.Linear(64 * 7 * 7, 128)
            self.fc2 = nn.Linear(128, 10)
            self.pool = nn.MaxPool2d(2, 2)
            self.dropout = nn.Dropout(0.25)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))  # 28x28 -> 14x14
            x = self.pool(F.relu(self.conv2(x)))  # 14x14 -> 7x7
            x = x.view(-1, 64 * 7 * 7)
            x = F.relu(self.fc1(x))
            x = self.dropout(x)
            return self.fc2(x)

    return SimpleCNN


SimpleCNN = simple_cnn_class(npconv.nn, npconv.nn.functional)
