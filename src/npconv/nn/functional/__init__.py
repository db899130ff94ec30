"""npconv.nn.functional: stateless ops, as torch.nn.functional."""
from npconv.nn.functional.activation import (elu, gelu, hardsigmoid, hardswish, hardtanh,
                                             leaky_relu, log_softmax, logsigmoid, mish, prelu,
                                             relu, relu6, sigmoid, silu, softmax, softplus, tanh)
from npconv.nn.functional.conv import (conv1d, conv2d, conv3d, conv_transpose1d,
                                       conv_transpose2d, conv_transpose3d)
from npconv.nn.functional.dropout import dropout, dropout1d, dropout2d, dropout3d
from npconv.nn.functional.fold import fold, unfold
from npconv.nn.functional.linear import linear
from npconv.nn.functional.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,
                                       cross_entropy, huber_loss, l1_loss, mse_loss, nll_loss,
                                       smooth_l1_loss)
from npconv.nn.functional.normalization import batch_norm, group_norm, instance_norm, layer_norm
from npconv.nn.functional.padding import pad
from npconv.nn.functional.pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d,
                                          adaptive_avg_pool3d, adaptive_max_pool1d,
                                          adaptive_max_pool2d, adaptive_max_pool3d, avg_pool1d,
                                          avg_pool2d, avg_pool3d, max_pool1d, max_pool2d,
                                          max_pool3d)

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "avg_pool1d",
           "avg_pool2d", "avg_pool3d", "batch_norm", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
           "conv_transpose2d", "conv_transpose3d", "cross_entropy", "dropout", "dropout1d",
           "dropout2d", "dropout3d", "elu", "fold", "gelu", "group_norm", "hardsigmoid",
           "hardswish", "hardtanh", "huber_loss", "instance_norm", "l1_loss", "layer_norm",
           "leaky_relu", "linear", "log_softmax", "logsigmoid", "max_pool1d", "max_pool2d",
           "max_pool3d", "mish", "mse_loss", "nll_loss", "pad", "prelu", "relu", "relu6",
           "sigmoid", "silu", "smooth_l1_loss", "softmax", "softplus", "tanh", "unfold"]
