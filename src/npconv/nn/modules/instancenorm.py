"""InstanceNorm1d/2d/3d, as torch.nn.modules.instancenorm: batch norm's base, statistics per
sample and channel."""
from __future__ import annotations

import warnings

from npconv.nn import functional as F
from npconv.nn.modules.batchnorm import _NormBase


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
