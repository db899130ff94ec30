"""DataLoader arguments, samplers, IterableDataset and ConcatDataset, checked against torch.

Datasets here are plain Python classes returning numpy arrays, numbers and dicts, so the very
same dataset object feeds npconv's DataLoader and torch's, and batches are compared field by
field (values and dtypes)."""
import collections
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import npconv
from npconv.utils import data

torch = pytest.importorskip("torch")
tdata = torch.utils.data


class Samples:
    """A map-style dataset both libraries can index: (image, label, {"w": weight, "id": i})."""

    def __init__(self, n, seed=0):
        rng = np.random.default_rng(seed)
        self.images = rng.integers(0, 256, (n, 2, 3), dtype=np.uint8)
        self.labels = rng.integers(0, 10, n).tolist()
        self.weights = rng.random(n).tolist()

    def __getitem__(self, i):
        return self.images[i], self.labels[i], {"w": self.weights[i], "id": np.int32(i)}

    def __len__(self):
        return len(self.labels)


def plain(batch):
    """A batch of either library as nested lists of (dtype name, values)."""
    if isinstance(batch, (npconv.Tensor, torch.Tensor)):
        return (str(batch.dtype).split(".")[1], batch.numpy().tolist())
    if isinstance(batch, (np.ndarray, np.generic)):
        return ("ndarray", str(batch.dtype), batch.tolist())
    if isinstance(batch, collections.abc.Mapping):
        return {key: plain(value) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [type(batch).__name__] + [plain(b) for b in batch]
    return batch


def epoch(loader):
    return [plain(b) for b in loader]


def first_field(samples):
    return [s[0] for s in samples]


@settings(max_examples=40)
@given(n=st.integers(1, 17), batch_size=st.integers(1, 6), drop_last=st.booleans(),
       sampler=st.sampled_from(["default", "sequential", "indices", "batch_sampler"]),
       collate=st.sampled_from(["default", "custom"]), num_workers=st.integers(0, 3),
       seed=st.integers(0, 2**16))
def test_batches_equal_torchs_for_the_same_indices(n, batch_size, drop_last, sampler, collate,
                                                   num_workers, seed):
    ds = Samples(n, seed)
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, n, rng.integers(1, 2 * n + 1)).tolist()
    kwargs = {"batch_size": batch_size, "drop_last": drop_last}
    ours, theirs = dict(kwargs), dict(kwargs)
    if sampler == "sequential":
        ours["sampler"], theirs["sampler"] = data.SequentialSampler(ds), tdata.SequentialSampler(ds)
    elif sampler == "indices":
        ours["sampler"] = theirs["sampler"] = indices
    elif sampler == "batch_sampler":
        batches = [indices[i:i + batch_size] for i in range(0, len(indices), batch_size)]
        ours = {"batch_sampler": batches}
        theirs = {"batch_sampler": batches}
    if collate == "custom":
        ours["collate_fn"] = theirs["collate_fn"] = first_field
    loader = data.DataLoader(ds, num_workers=num_workers, **ours)
    oracle = tdata.DataLoader(ds, **theirs)  # torch's workers give the same order as none
    assert len(loader) == len(oracle) == len(iter(loader)) == len(iter(oracle))
    assert epoch(loader) == epoch(oracle)
    assert loader.batch_size == oracle.batch_size and loader.drop_last == oracle.drop_last


def test_without_automatic_batching_samples_are_converted_as_torch():
    ds = Samples(5)
    assert epoch(data.DataLoader(ds, batch_size=None)) == epoch(tdata.DataLoader(
        ds, batch_size=None))
    assert epoch(data.DataLoader(ds, batch_size=None, sampler=[4, 0])) == epoch(
        tdata.DataLoader(ds, batch_size=None, sampler=[4, 0]))
    assert len(data.DataLoader(ds, batch_size=None)) == 5


@pytest.mark.parametrize("kwargs", [
    {"num_workers": -1}, {"timeout": -1}, {"persistent_workers": True},
    {"prefetch_factor": 2}, {"num_workers": 2, "prefetch_factor": -1},
    {"shuffle": True, "sampler": [0]}, {"batch_sampler": [[0]], "batch_size": 2},
    {"batch_sampler": [[0]], "shuffle": True}, {"batch_sampler": [[0]], "drop_last": True},
    {"batch_sampler": [[0]], "sampler": [0]}, {"batch_size": None, "drop_last": True},
    {"batch_size": 0}, {"batch_size": True}, {"drop_last": 1},
    {"multiprocessing_context": "fork"},
    {"num_workers": 1, "multiprocessing_context": "bogus"},
    {"num_workers": 1, "multiprocessing_context": 3},
])
def test_argument_errors_match_torch(kwargs, raised):
    ours = raised(lambda: data.DataLoader(Samples(3), **kwargs))
    theirs = raised(lambda: tdata.DataLoader(Samples(3), **kwargs))
    assert theirs is not None and type(ours) is type(theirs)
    assert str(ours).startswith(str(theirs).split(", but got")[0])
    assert str(ours).startswith(str(theirs)[:60])


def test_accepted_arguments_that_change_nothing_on_the_cpu():
    ds = Samples(6)
    want = epoch(tdata.DataLoader(ds, batch_size=4))
    loader = data.DataLoader(ds, batch_size=4, num_workers=2, prefetch_factor=4, timeout=5,
                             persistent_workers=True, multiprocessing_context="spawn",
                             in_order=True)
    assert loader.prefetch_factor == 4 and epoch(loader) == want
    assert data.DataLoader(ds, num_workers=2).prefetch_factor == 2  # torch's default
    with pytest.warns(UserWarning) as record:
        got = epoch(data.DataLoader(ds, batch_size=4, pin_memory=True))
    with pytest.warns(UserWarning) as torch_record:
        list(tdata.DataLoader(ds, batch_size=4, pin_memory=True))
    assert got == want
    assert [str(w.message) for w in record] == [str(w.message) for w in torch_record]


@pytest.mark.parametrize("name", ["batch_size", "sampler", "batch_sampler", "drop_last",
                                  "dataset", "persistent_workers"])
def test_fixed_attributes_cannot_be_set_after_init(name, raised):
    ours = raised(lambda: setattr(data.DataLoader(Samples(3)), name, None))
    theirs = raised(lambda: setattr(tdata.DataLoader(Samples(3)), name, None))
    assert type(ours) is type(theirs) is ValueError and str(ours).startswith(str(theirs))
    loader = data.DataLoader(Samples(3))
    loader.num_workers = 1  # torch lets this one change
    assert loader.num_workers == 1


# ---- workers ---------------------------------------------------------------------------------

class Range(data.IterableDataset, tdata.IterableDataset):
    """The integers [start, end), split between workers when ``shard`` (torch's docs example)."""

    def __init__(self, start, end, shard=True):
        self.start, self.end, self.shard = start, end, shard

    def __iter__(self):
        info = data.get_worker_info() or tdata.get_worker_info()
        start, end = self.start, self.end
        if self.shard and info is not None:
            per_worker = math.ceil((end - start) / info.num_workers)
            start = start + info.id * per_worker
            end = min(start + per_worker, end)
        return iter(range(start, end))


@pytest.mark.slow
@pytest.mark.parametrize("shard,batch_size,drop_last", [(True, 3, False), (False, 2, True),
                                                        (True, None, False)])
def test_iterable_dataset_with_workers_yields_torchs_order(shard, batch_size, drop_last):
    """torch runs real worker processes here: round-robin over workers, exhausted ones skipped,
    each worker batching its own stream (so drop_last applies per worker)."""
    ds = Range(3, 14, shard)
    kwargs = {"batch_size": batch_size, "drop_last": drop_last, "num_workers": 3}
    want = epoch(tdata.DataLoader(ds, multiprocessing_context="fork", **kwargs))
    assert epoch(data.DataLoader(ds, **kwargs)) == want


def split_between_workers(worker_id):
    """torch's docs' worker_init_fn: each worker's copy of the dataset keeps its share."""
    info = data.get_worker_info() or tdata.get_worker_info()
    dataset = info.dataset
    per_worker = math.ceil((dataset.end - dataset.start) / info.num_workers)
    dataset.start = dataset.start + worker_id * per_worker
    dataset.end = min(dataset.start + per_worker, dataset.end)


@pytest.mark.slow
def test_worker_init_fn_shards_each_workers_copy_as_in_torch():
    ds = Range(0, 10, shard=False)
    kwargs = {"batch_size": 2, "num_workers": 2, "worker_init_fn": split_between_workers}
    want = epoch(tdata.DataLoader(ds, multiprocessing_context="fork", **kwargs))
    loader = data.DataLoader(ds, **kwargs)
    assert epoch(loader) == want and epoch(loader) == want
    assert (ds.start, ds.end) == (0, 10)  # the workers changed their copies only


def test_worker_init_fn_calls_and_worker_info():
    calls = []

    def init(worker_id):
        info = data.get_worker_info()
        calls.append((worker_id, info.id, info.num_workers, info.seed))
        with pytest.raises(RuntimeError, match="Cannot assign attributes to WorkerInfo objects"):
            info.id = 5  # torch's WorkerInfo is read-only too

    seen = []

    class Who(data.Dataset):
        def __getitem__(self, i):
            seen.append((i, data.get_worker_info().id))
            return i

        def __len__(self):
            return 6

    for persistent, epochs_calls in ((False, 6), (True, 3)):
        calls.clear()
        loader = data.DataLoader(Who(), batch_size=2, num_workers=3, worker_init_fn=init,
                                 persistent_workers=persistent,
                                 generator=npconv.Generator().manual_seed(1))
        assert data.get_worker_info() is None
        assert epoch(loader) == epoch(loader) == [("int64", [0, 1]), ("int64", [2, 3]),
                                                  ("int64", [4, 5])]
        assert len(calls) == epochs_calls
        assert [c[:3] for c in calls[:3]] == [(0, 0, 3), (1, 1, 3), (2, 2, 3)]
        base = calls[0][3]
        assert [c[3] for c in calls[:3]] == [base, base + 1, base + 2]  # torch: base_seed + id
    assert seen[:6] == [(0, 0), (1, 0), (2, 1), (3, 1), (4, 2), (5, 2)]  # batch i: worker i % 3
    assert data.get_worker_info() is None


def test_workers_draw_from_their_own_seeded_streams():
    """As torch seeds each worker with base_seed + id: random transforms in workers are
    reproducible from the loader's generator, and leave the main stream alone."""
    class Noisy(data.Dataset):
        def __getitem__(self, i):
            return npconv.rand(1).item()

        def __len__(self):
            return 8

    def draws():
        loader = data.DataLoader(Noisy(), batch_size=2, num_workers=2,
                                 generator=npconv.Generator().manual_seed(5))
        return epoch(loader)
    npconv.manual_seed(0)
    untouched = npconv.rand(1).item()
    npconv.manual_seed(0)
    first = draws()
    assert npconv.rand(1).item() == untouched  # the workers' draws left the main stream alone
    npconv.manual_seed(123)
    assert draws() == first  # the loader's generator alone decides the workers' seeds
    values = [v for batch in first for v in batch[1]]
    assert len(set(values)) == 8


# ---- iterable datasets -----------------------------------------------------------------------

@pytest.mark.parametrize("batch_size,drop_last", [(3, False), (3, True), (1, False),
                                                  (20, False), (None, False)])
def test_iterable_dataset_batches_as_torch(batch_size, drop_last):
    ds = Range(2, 9)
    loader = data.DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
    oracle = tdata.DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
    assert epoch(loader) == epoch(oracle)


def test_iterable_dataset_len_and_option_errors(raised):
    class Sized(Range):
        def __len__(self):
            return self.end - self.start

    for batch_size, drop_last in ((3, False), (3, True), (None, False)):
        assert len(data.DataLoader(Sized(0, 7), batch_size=batch_size, drop_last=drop_last)) \
            == len(tdata.DataLoader(Sized(0, 7), batch_size=batch_size, drop_last=drop_last))
    for make in (lambda lib: len(Range(0, 3)),
                 lambda lib: len(lib.DataLoader(Range(0, 3))),
                 lambda lib: lib.DataLoader(Range(0, 3), shuffle=True),
                 lambda lib: lib.DataLoader(Range(0, 3), sampler=[0]),
                 lambda lib: lib.DataLoader(Range(0, 3), batch_sampler=[[0]])):
        ours, theirs = raised(lambda: make(data)), raised(lambda: make(tdata))
        assert type(ours) is type(theirs) and str(ours) == str(theirs)
    assert epoch(data.DataLoader(Range(0, 3), shuffle=False)) == [("int64", [0]),
                                                                  ("int64", [1]),
                                                                  ("int64", [2])]


def test_chain_dataset_and_adding_datasets():
    chained = Range(0, 2) + Range(5, 7)
    assert isinstance(chained, data.ChainDataset) and list(chained) == [0, 1, 5, 6]
    both = data.TensorDataset(npconv.arange(3)) + data.TensorDataset(npconv.arange(2))
    assert isinstance(both, data.ConcatDataset) and len(both) == 5


# ---- ConcatDataset ---------------------------------------------------------------------------

def test_concat_dataset_indexing_matches_torch(raised):
    parts = [Samples(3, 0), Samples(0, 1), Samples(4, 2), Samples(1, 3)]
    ours, theirs = data.ConcatDataset(parts), tdata.ConcatDataset(parts)
    assert ours.cumulative_sizes == theirs.cumulative_sizes and len(ours) == len(theirs) == 8
    for i in range(-8, 8):
        assert plain(list(ours[i])) == plain(list(theirs[i]))
    for i in (8, 9, -9, -20):
        got, want = raised(lambda: ours[i]), raised(lambda: theirs[i])
        assert type(got) is type(want) and str(got).startswith(str(want))
    assert epoch(data.DataLoader(ours, batch_size=3)) == epoch(tdata.DataLoader(theirs,
                                                                                batch_size=3))
    for make in (lambda lib: lib.ConcatDataset([]),
                 lambda lib: lib.ConcatDataset([Range(0, 1)])):
        got, want = raised(lambda: make(data)), raised(lambda: make(tdata))
        assert type(got) is type(want) is AssertionError and str(got) == str(want)


# ---- samplers --------------------------------------------------------------------------------

@settings(max_examples=25)
@given(n=st.integers(1, 30), num_samples=st.one_of(st.none(), st.integers(1, 70)),
       replacement=st.booleans(), seed=st.integers(0, 2**32))
def test_random_sampler_draws_and_reproducibility(n, num_samples, replacement, seed):
    def draw():
        return list(data.RandomSampler(range(n), replacement, num_samples,
                                       npconv.Generator().manual_seed(seed)))
    got = draw()
    oracle = tdata.RandomSampler(range(n), replacement, num_samples)
    assert len(got) == len(oracle) == len(data.RandomSampler(range(n), replacement,
                                                             num_samples))
    assert got == draw() and all(0 <= i < n for i in got)
    if not replacement:  # whole permutations, then part of one
        for start in range(0, len(got), n):
            chunk = got[start:start + n]
            assert len(set(chunk)) == len(chunk)


def test_random_sampler_epochs_differ_and_follow_manual_seed():
    sampler = data.RandomSampler(range(20))
    npconv.manual_seed(4)
    a, b = list(sampler), list(sampler)
    assert sorted(a) == sorted(b) == list(range(20)) and a != b
    npconv.manual_seed(4)
    assert list(sampler) == a


@pytest.mark.parametrize("make", [
    lambda lib: lib.RandomSampler(range(3), replacement=1),
    lambda lib: lib.RandomSampler(range(3), num_samples=0),
    lambda lib: lib.RandomSampler(range(3), num_samples=-2),
    lambda lib: lib.WeightedRandomSampler([1, 2], 0),
    lambda lib: lib.WeightedRandomSampler([1, 2], 3, replacement=1),
    lambda lib: lib.WeightedRandomSampler([[1, 2]], 3),
    lambda lib: list(lib.WeightedRandomSampler([1, 2], 3, replacement=False)),
    lambda lib: lib.BatchSampler(range(3), 0, False),
    lambda lib: lib.BatchSampler(range(3), 2, 1),
])
def test_sampler_errors_match_torch(make, raised):
    ours, theirs = raised(lambda: make(data)), raised(lambda: make(tdata))
    assert theirs is not None and type(ours) is type(theirs)
    assert str(ours).startswith(str(theirs))


def test_subset_random_sampler_and_weighted_sampler():
    indices = [7, 3, 11, 5]
    sampler = data.SubsetRandomSampler(indices, npconv.Generator().manual_seed(0))
    assert len(sampler) == 4 and sorted(sampler) == sorted(indices)
    again = data.SubsetRandomSampler(indices, npconv.Generator().manual_seed(0))
    assert list(again) == list(data.SubsetRandomSampler(indices,
                                                        npconv.Generator().manual_seed(0)))
    weights = [0.0, 1.0, 3.0, 0.0]
    drawn = list(data.WeightedRandomSampler(weights, 4000,
                                            generator=npconv.Generator().manual_seed(0)))
    counts = np.bincount(drawn, minlength=4)
    assert counts[0] == counts[3] == 0 and 0.7 < counts[2] / 4000 < 0.8
    unique = list(data.WeightedRandomSampler(npconv.tensor([1.0, 1.0, 1.0]), 3,
                                             replacement=False))
    assert sorted(unique) == [0, 1, 2] and len(data.WeightedRandomSampler(weights, 9)) == 9


def test_sampler_objects_in_a_loader():
    ds = Samples(9)
    loader = data.DataLoader(ds, batch_size=4, sampler=data.SubsetRandomSampler(
        [1, 4, 6], npconv.Generator().manual_seed(2)))
    ids = sorted(v for batch in epoch(loader) for v in batch[3]["id"][1])
    assert ids == [1, 4, 6]
    batch_sampler = data.BatchSampler(data.SequentialSampler(ds), 4, drop_last=True)
    assert epoch(data.DataLoader(ds, batch_sampler=batch_sampler)) == epoch(
        tdata.DataLoader(ds, batch_sampler=tdata.BatchSampler(tdata.SequentialSampler(ds), 4,
                                                              drop_last=True)))
    shuffled = data.DataLoader(ds, shuffle=True, generator=npconv.Generator().manual_seed(3))
    assert isinstance(shuffled.sampler, data.RandomSampler)
    assert sorted(b[3]["id"][1][0] for b in epoch(shuffled)) == list(range(9))
