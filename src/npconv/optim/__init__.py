"""npconv.optim: optimizers, as torch.optim."""
from npconv.optim.adam import Adam
from npconv.optim.optimizer import Optimizer
from npconv.optim.sgd import SGD

__all__ = ["Adam", "Optimizer", "SGD"]
