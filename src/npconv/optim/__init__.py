"""npconv.optim: optimizers and learning-rate schedulers, as torch.optim."""
from npconv.optim import lr_scheduler
from npconv.optim.adadelta import Adadelta
from npconv.optim.adagrad import Adagrad
from npconv.optim.adam import Adam
from npconv.optim.adamw import AdamW
from npconv.optim.nadam import NAdam
from npconv.optim.optimizer import Optimizer
from npconv.optim.rmsprop import RMSprop
from npconv.optim.sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "lr_scheduler", "NAdam", "Optimizer", "RMSprop",
           "SGD"]
