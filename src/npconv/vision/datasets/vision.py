"""VisionDataset, torchvision's base: root, transform, target_transform and the common repr."""
from __future__ import annotations

import os

import numpy as np

from npconv.utils.data import Dataset, StackedBatch
from npconv.vision.transforms import batch_transform

__all__ = ["SplitDataset", "VisionDataset"]


class VisionDataset(Dataset):
    """A dataset of images under ``root``; subclasses set ``data`` (N images, an ndarray or a
    tensor) and ``targets`` (N ints) and may add an ``extra_repr``."""

    def __init__(self, root, transform=None, target_transform=None) -> None:
        self.root = os.path.expanduser(root) if isinstance(root, str) else root
        self.transform = transform
        self.target_transform = target_transform

    def _image(self, index) -> np.ndarray:
        data = self.data
        return np.array(data.numpy()[index] if hasattr(data, "numpy") else data[index])

    def __getitem__(self, index):
        img, target = self._image(index), int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getitems__(self, indices):
        """A batch with one vectorized transform when the transform has a batched form (e.g.
        Compose of ToTensor and Normalize); otherwise one ``self[i]`` per index. Same values."""
        transform = _identity if self.transform is None else batch_transform(self.transform)
        if transform is None or self.target_transform is not None:
            return [self[i] for i in indices]
        rows = np.asarray(indices, dtype=np.intp)
        targets = self.targets.numpy() if hasattr(self.targets, "numpy") else \
            np.asarray(self.targets)
        return StackedBatch(transform(self._image(rows)), targets[rows].tolist())

    def __len__(self) -> int:
        return len(self.targets)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        # torchvision's layout, including its quirk that only the first line of the transform
        # block is indented.
        body = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}"]
        body += self.extra_repr().splitlines()
        transforms = _standard_transform_repr(self.transform, self.target_transform)
        if transforms:
            body.append(transforms)
        return "\n".join([f"Dataset {type(self).__name__}"] + ["    " + line for line in body])


class SplitDataset(VisionDataset):
    """A dataset published as a training and a test split (``train``), fetched by
    ``download()`` when asked before anything is read."""

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False) -> None:
        super().__init__(root, transform, target_transform)
        self.train = train
        if download:
            self.download()

    def download(self) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


def _identity(batch):
    return batch


def _standard_transform_repr(transform, target_transform) -> str:
    """torchvision's StandardTransform repr, or '' when there is no transform at all."""
    if transform is None and target_transform is None:
        return ""
    lines = ["StandardTransform"]
    for head, t in (("Transform: ", transform), ("Target transform: ", target_transform)):
        if t is not None:
            first, *rest = repr(t).splitlines()
            lines += [head + first] + [" " * len(head) + line for line in rest]
    return "\n".join(lines)
