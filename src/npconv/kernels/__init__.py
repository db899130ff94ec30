"""Array kernels: pure functions on arrays, no autograd, no Tensor."""
