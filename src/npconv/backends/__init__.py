"""``npconv.backends``, as torch.backends in torch's CPU-only build: flags programs set
(``cudnn.benchmark``, ``cudnn.deterministic``, ``cuda.matmul.allow_tf32``) are accepted and
kept but change nothing, since npconv has no cuDNN, CUDA or MPS backend."""
from npconv.backends import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
