"""Datasets, samplers and the DataLoader, mirroring torch.utils.data."""
from npconv.utils.data.dataloader import (BatchSampler, DataLoader, RandomSampler, Sampler,
                                          SequentialSampler, StackedBatch, default_collate)
from npconv.utils.data.dataset import Dataset, Subset, TensorDataset, random_split

__all__ = ["BatchSampler", "DataLoader", "Dataset", "RandomSampler", "Sampler",
           "SequentialSampler", "StackedBatch", "Subset", "TensorDataset", "default_collate",
           "random_split"]
