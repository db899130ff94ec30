"""Layers, as torch.nn.modules."""
from npconv.nn.modules.activation import (ELU, GELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU,
                                          LogSigmoid, LogSoftmax, Mish, PReLU, ReLU, ReLU6, SiLU,
                                          Sigmoid, Softmax, Softplus, Tanh)
from npconv.nn.modules.batchnorm import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d,
                                        InstanceNorm2d, InstanceNorm3d)
from npconv.nn.modules.container import ModuleList, Sequential
from npconv.nn.modules.conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
                                    ConvTranspose3d)
from npconv.nn.modules.dropout import Dropout, Dropout1d, Dropout2d, Dropout3d
from npconv.nn.modules.flatten import Flatten
from npconv.nn.modules.fold import Fold, Unfold
from npconv.nn.modules.linear import Identity, Linear
from npconv.nn.modules.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss,
                                    L1Loss, MSELoss, NLLLoss, SmoothL1Loss)
from npconv.nn.modules.module import Module
from npconv.nn.modules.normalization import GroupNorm, LayerNorm
from npconv.nn.modules.pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d,
                                      AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d,
                                      AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d,
                                      MaxPool3d)

__all__ = ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
           "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "Conv1d",
           "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
           "CrossEntropyLoss", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "ELU", "Flatten",
           "Fold", "GELU", "GroupNorm", "Hardsigmoid", "Hardswish", "Hardtanh", "HuberLoss",
           "Identity", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "L1Loss",
           "LayerNorm", "LeakyReLU", "Linear", "LogSigmoid", "LogSoftmax", "MSELoss", "MaxPool1d",
           "MaxPool2d", "MaxPool3d", "Mish", "Module", "ModuleList", "NLLLoss", "PReLU", "ReLU",
           "ReLU6", "Sequential", "SiLU", "Sigmoid", "SmoothL1Loss", "Softmax", "Softplus",
           "Tanh", "Unfold"]
