"""BatchNorm1d/2d/3d and InstanceNorm1d/2d/3d on one _NormBase, as torch.nn.modules.batchnorm
and instancenorm (one file here, so the base stays private)."""
from __future__ import annotations

import warnings

from npconv import creation, dtypes
from npconv.device import check_device
from npconv.nn import functional as F
from npconv.nn.modules.module import Module
from npconv.nn.modules.normalization import register_affine, reset_affine


class _NormBase(Module):
    """What batch and instance norm share: num_features weights and biases (ones and zeros),
    and the running_mean/running_var/num_batches_tracked buffers when tracking statistics.
    Subclasses name the input dims they accept in ``input_dims``."""

    input_dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *,
                 bias: bool = True):
        super().__init__()
        if device is not None:
            check_device(device)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        register_affine(self, (num_features,), affine, bias, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", creation.tensor(0, dtype=dtypes.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        reset_affine(self)

    def _check_input_dim(self, input) -> None:
        if input.dim() not in self.input_dims:
            expected = " or ".join(f"{d}D" for d in self.input_dims)
            raise ValueError(f"expected {expected} input (got {input.dim()}D input) "
                             f"({type(self).__name__} takes {self._input_layout})")

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Training: batch statistics, and running ones updated with momentum (None: the
    cumulative average, 1 / num_batches_tracked); eval: the running statistics (the batch's
    if not tracked)."""

    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or (self.running_mean is None
                                            and self.running_var is None)
        pass_stats = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if pass_stats else None,
                            self.running_var if pass_stats else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) input over N (and L) per channel."""

    input_dims, _input_layout = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) input over N, H, W per channel."""

    input_dims, _input_layout = (4,), "(N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch norm of (N, C, D, H, W) input over N, D, H, W per channel."""

    input_dims, _input_layout = (5,), "(N, C, D, H, W)"


class _InstanceNorm(_NormBase):
    """Statistics over each (sample, channel)'s positions; running ones only if tracked (and
    then used in eval mode). An unbatched input (one dim fewer) is a batch of one."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        self._check_input_dim(input)
        unbatched = input.dim() == self.input_dims[0]
        feature_dim = 0 if unbatched else 1
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You "
                          "can silence this warning by not passing in num_features, which is "
                          "not used because affine=False", stacklevel=2)
        batch = input.unsqueeze(0) if unbatched else input
        out = F.instance_norm(batch, self.running_mean, self.running_var, self.weight,
                              self.bias, self.training or not self.track_running_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    input_dims, _input_layout = (2, 3), "(C, L) or (N, C, L)"


class InstanceNorm2d(_InstanceNorm):
    input_dims, _input_layout = (3, 4), "(C, H, W) or (N, C, H, W)"


class InstanceNorm3d(_InstanceNorm):
    input_dims, _input_layout = (4, 5), "(C, D, H, W) or (N, C, D, H, W)"
