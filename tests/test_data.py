"""npconv.utils.data: datasets, samplers, DataLoader and default_collate, checked against torch."""
import collections
import math

import numpy as np
import pytest

import npconv
from npconv.utils.data import (BatchSampler, DataLoader, Dataset, SequentialSampler, StackedBatch,
                               Subset, TensorDataset, default_collate, random_split)
from npconv.vision import datasets, transforms


class PerItem(Dataset):
    """The same samples without ``__getitems__``: the reference for the batched fast path."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __getitem__(self, index):
        return self.dataset[index]

    def __len__(self):
        return len(self.dataset)


@pytest.fixture(scope="module")
def mnist_test(tmp_path_factory):
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))])
    return datasets.MNIST(tmp_path_factory.mktemp("data"), train=False, download=True,
                          transform=transform)


def _xy(n=10):
    x = npconv.from_numpy(np.arange(n * 2, dtype=np.float32).reshape(n, 2))
    y = npconv.from_numpy(np.arange(n, dtype=np.int64) % 3)
    return x, y


def _assert_batches_equal(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert type(g) is type(w)
        if isinstance(g, npconv.Tensor):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g.numpy(), w.numpy())
        else:
            _assert_batches_equal(g, w)


def test_tensor_dataset_items_and_length():
    x, y = _xy()
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[3]
    assert xi.numpy().tolist() == [6.0, 7.0] and yi.item() == 0


def test_tensor_dataset_size_mismatch_is_torchs_error():
    x, _ = _xy()
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(x, npconv.zeros(9))


def test_sequential_batches_and_tuple_collation():
    x, y = _xy()
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4))
    assert [b[1].numpy().tolist() for b in batches] == [[0, 1, 2, 0], [1, 2, 0, 1], [2, 0]]
    xb, yb = batches[0]  # a tuple sample collates to a list, as in torch
    assert isinstance(batches[0], list)
    assert xb.shape == (4, 2) and xb.dtype == npconv.float32 and yb.dtype == npconv.int64
    assert xb.numpy()[:, 0].tolist() == [0.0, 2.0, 4.0, 6.0]


@pytest.mark.parametrize("n,batch_size", [(10, 3), (10, 5), (10, 10), (10, 11), (1, 1)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_len_and_drop_last_match_torch(n, batch_size, drop_last):
    torch = pytest.importorskip("torch")
    x, y = _xy(n)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    oracle = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(n)),
                                         batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(oracle) == (n // batch_size if drop_last
                                          else math.ceil(n / batch_size))
    sizes = [len(b[1]) for b in loader]
    assert sizes == [len(b[0]) for b in oracle]


def test_shuffle_is_reproducible_with_a_seeded_generator():
    x, y = _xy(50)
    ds = TensorDataset(x, y)

    def epochs(generator, count=2):
        loader = DataLoader(ds, batch_size=8, shuffle=True, generator=generator)
        return [np.concatenate([b[0].numpy()[:, 0] for b in loader]).tolist()
                for _ in range(count)]

    first = epochs(npconv.Generator().manual_seed(7))
    assert first == epochs(npconv.Generator().manual_seed(7))
    assert first != epochs(npconv.Generator().manual_seed(8))
    assert first[0] != first[1]  # each epoch draws a new order
    for order in first:
        assert sorted(order) == list(range(0, 100, 2))  # every sample exactly once


def test_shuffle_without_generator_follows_manual_seed():
    x, y = _xy(50)
    loader = DataLoader(TensorDataset(x, y), batch_size=50, shuffle=True)
    npconv.manual_seed(3)
    a = next(iter(loader))[1].numpy().tolist()
    npconv.manual_seed(3)
    assert next(iter(loader))[1].numpy().tolist() == a


def test_default_collate_matches_torch_types_and_values():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    Point = collections.namedtuple("Point", "x y")
    cases = [
        [1, 2, 3], [True, False], [0.5, 1.5], [np.float32(1), np.float32(2)], [np.int32(4)],
        [(1, 2.0), (3, 4.0)], [[1, 2], [3, 4]], [Point(1, 2.0), Point(3, 4.0)],
        [{"a": 1, "b": np.zeros(2, np.uint8)}, {"a": 2, "b": np.ones(2, np.uint8)}],
        [collections.OrderedDict(z=1.0, a=2), collections.OrderedDict(z=3.0, a=4)],
        [np.arange(6, dtype=np.int16).reshape(2, 3)] * 2, ["a", "b"],
    ]

    def compare(ours, theirs):
        if isinstance(theirs, torch.Tensor):
            assert isinstance(ours, npconv.Tensor)
            assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        elif isinstance(theirs, collections.abc.Mapping):
            assert type(ours) is type(theirs) and list(ours) == list(theirs)
            for key in theirs:
                compare(ours[key], theirs[key])
        elif isinstance(theirs, (list, tuple)) and not isinstance(theirs[0], str):
            assert type(ours) is type(theirs) and len(ours) == len(theirs)
            for o, t in zip(ours, theirs):
                compare(o, t)
        else:
            assert ours == theirs

    for batch in cases:
        compare(default_collate(batch), torch_collate(batch))
    tensors = [npconv.ones(2, 3), npconv.zeros(2, 3)]
    assert default_collate(tensors).shape == (2, 2, 3)


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers"):
        default_collate([object()])
    with pytest.raises(TypeError, match="batch must contain tensors"):
        default_collate([np.array(["a"])])


def test_batched_fast_path_equals_per_item_path_for_mnist(mnist_test):
    indices = list(range(0, 10000, 37))
    fast = mnist_test.__getitems__(indices)
    assert isinstance(fast, StackedBatch)
    _assert_batches_equal(default_collate(fast),
                          default_collate([mnist_test[i] for i in indices]))
    for got, want in zip(fast, (mnist_test[i] for i in indices)):  # as a sequence of samples
        np.testing.assert_array_equal(got[0].numpy(), want[0].numpy())
        assert got[1] == want[1] and type(got[1]) is int

    def epoch(ds):
        loader = DataLoader(ds, batch_size=64, shuffle=True,
                            generator=npconv.Generator().manual_seed(1))
        return list(loader)
    _assert_batches_equal(epoch(mnist_test), epoch(PerItem(mnist_test)))


@pytest.mark.parametrize("transform", [None, transforms.ToTensor(),
                                       transforms.Normalize((0.5,), (0.5,))])
def test_fast_path_for_other_mnist_transforms(mnist_test, transform):
    ds = datasets.MNIST(mnist_test.root, train=False)
    ds.transform = transforms.Compose([transforms.ToTensor(), transform]) \
        if isinstance(transform, transforms.Normalize) else transform
    loader, reference = DataLoader(ds, batch_size=100), DataLoader(PerItem(ds), batch_size=100)
    for got, want in zip(loader, reference):
        _assert_batches_equal(got, want)
    if transform is None:
        assert got[0].dtype == npconv.uint8 and got[0].shape == (100, 28, 28)


def test_mnist_falls_back_to_per_item_when_a_step_has_no_batched_form(mnist_test):
    ds = datasets.MNIST(mnist_test.root, train=False, transform=transforms.Compose([
        transforms.ToTensor(), lambda t: t * 2]))
    batch = ds.__getitems__([0, 1])
    assert isinstance(batch, list)
    ds.transform, ds.target_transform = None, lambda y: y + 1
    assert isinstance(ds.__getitems__([0, 1]), list)
    assert ds.__getitems__([0])[0][1] == int(ds.targets[0].item()) + 1


def test_custom_collate_fn_sees_per_sample_tuples(mnist_test):
    seen = []
    loader = DataLoader(mnist_test, batch_size=3, collate_fn=lambda samples: seen.append(
        [(s[0].shape, s[1]) for s in samples]))
    next(iter(loader))
    assert seen == [[((1, 28, 28), mnist_test[i][1]) for i in range(3)]]


def test_tensor_dataset_fast_path_equals_per_item_and_keeps_grad():
    x, y = _xy(23)
    ds = TensorDataset(x, y)
    fast = list(DataLoader(ds, batch_size=5, shuffle=True,
                           generator=npconv.Generator().manual_seed(0)))
    slow = list(DataLoader(PerItem(ds), batch_size=5, shuffle=True,
                           generator=npconv.Generator().manual_seed(0)))
    _assert_batches_equal(fast, slow)

    w = npconv.ones(4, 2, requires_grad=True)
    (batch,) = next(iter(DataLoader(TensorDataset(w), batch_size=3)))
    batch.sum().backward()
    assert w.grad.numpy().tolist() == [[1, 1]] * 3 + [[0, 0]]


def test_subset_and_random_split():
    x, y = _xy(10)
    ds = TensorDataset(x, y)
    sub = Subset(ds, [9, 2, 4])
    assert len(sub) == 3 and sub[0][1].item() == 0
    assert isinstance(sub.__getitems__([0, 2]), StackedBatch)  # keeps the fast path
    assert [b[1].numpy().tolist() for b in DataLoader(sub, batch_size=2)] == [[0, 2], [1]]

    parts = random_split(ds, [7, 3], generator=npconv.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [7, 3]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    again = random_split(ds, [7, 3], generator=npconv.Generator().manual_seed(0))
    assert again[0].indices == parts[0].indices
    assert [len(p) for p in random_split(ds, [0.5, 0.3, 0.2])] == [5, 3, 2]
    assert [len(p) for p in random_split(TensorDataset(*_xy(11)), [0.5, 0.5])] == [6, 5]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(ds, [5, 4])


def test_samplers_and_argument_checks():
    x, y = _xy(7)
    ds = TensorDataset(x, y)
    assert list(BatchSampler(SequentialSampler(ds), 3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    loader = DataLoader(ds, batch_sampler=[[6, 0], [3]])
    assert [b[1].numpy().tolist() for b in loader] == [[0, 0], [0]]
    assert loader.batch_size is None
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, shuffle=True, sampler=SequentialSampler(ds))
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but "
                                         "got batch_size=0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no "
                                         "accelerator is found"):
        assert len(list(DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True))) == 2
