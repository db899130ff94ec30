"""Tensor and autograd against torch: arithmetic with broadcasting, reductions, shapes."""
import numpy as np
import pytest

import npconv

torch = pytest.importorskip("torch")

SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((5,), ())]
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / (b * b + 1), "pow": lambda a, b: (a * a + 1) ** b,
          "matmul-like": lambda a, b: (a * b).sum()}
UNARY = {
    "exp": lambda a: a.exp(), "log": lambda a: (a * a + 1).log(), "relu": lambda a: a.relu(),
    "sigmoid": lambda a: a.sigmoid(), "tanh": lambda a: a.tanh(), "abs": lambda a: a.abs(),
    "neg": lambda a: -a, "sqrt": lambda a: (a * a + 1).sqrt(),
    "clamp": lambda a: a.clamp(-0.5, 0.5), "sum": lambda a: a.sum(),
    "sum-dim": lambda a: a.sum(1), "sum-keepdim": lambda a: a.sum(-1, keepdim=True),
    "mean": lambda a: a.mean(), "mean-dims": lambda a: a.mean((0, 1)),
    "max": lambda a: a.max(), "max-dim": lambda a: a.max(1)[0], "min-dim": lambda a: a.min(0)[0],
    "view": lambda a: a.view(-1, 2) * 2, "permute": lambda a: a.permute(2, 0, 1) * 3,
    "transpose": lambda a: a.transpose(0, 2) * 3, "flatten": lambda a: a.flatten(1),
    "unsqueeze": lambda a: a.unsqueeze(1).squeeze(1) * 2, "index": lambda a: a[1, :, ::2],
    "fancy-index": lambda a: a[[0, 1, 0]], "expand": lambda a: a[:, :1].expand(2, 3, 4),
    "var": lambda a: a.var(1), "std": lambda a: a.std(), "rsub": lambda a: 1 - a,
    "rdiv": lambda a: 1 / (a * a + 1), "scalar-pow": lambda a: 2 ** a,
    "softmax": lambda a: a.softmax(-1), "log_softmax": lambda a: a.log_softmax(1),
}


def _run(lib, fn, arrays, dtype):
    ts = [lib.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    out = fn(*ts)
    out.backward(lib.ones(out.shape, dtype=dtype) * 0.5)
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_ops_and_broadcast_gradients(op, shapes, close):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = _run(npconv, BINARY[op], arrays, npconv.float64)
    ref = _run(torch, BINARY[op], arrays, torch.float64)
    close(ours[0], ref[0], "float64", op)
    for g, tg in zip(ours[1], ref[1]):
        close(g, tg, "float64", op + " grad")


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_ops_and_gradients(op, close):
    a = np.random.default_rng(1).standard_normal((2, 3, 4))
    ours = _run(npconv, UNARY[op], [a], npconv.float64)
    ref = _run(torch, UNARY[op], [a], torch.float64)
    close(ours[0], ref[0], "float64", op)
    close(ours[1][0], ref[1][0], "float64", op + " grad")


def test_matmul_shapes_and_gradients(close):
    rng = np.random.default_rng(2)
    for sa, sb in [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)),
                   ((2, 1, 3, 4), (5, 4, 2))]:
        arrays = [rng.standard_normal(sa), rng.standard_normal(sb)]
        ours = _run(npconv, lambda a, b: a @ b, arrays, npconv.float64)
        ref = _run(torch, lambda a, b: a @ b, arrays, torch.float64)
        close(ours[0], ref[0], "float64")
        for g, tg in zip(ours[1], ref[1]):
            close(g, tg, "float64")


def test_reused_tensor_accumulates_gradient(close):
    a = np.random.default_rng(3).standard_normal((3,))
    fn = lambda x: (x * x + x * 3).sum() + (x.exp() * x).mean()  # noqa: E731
    ours, ref = _run(npconv, fn, [a], npconv.float64), _run(torch, fn, [a], torch.float64)
    close(ours[1][0], ref[1][0], "float64")


def test_dtypes_and_promotion_like_torch():
    assert npconv.tensor([1.0, 2.0]).dtype == npconv.float32
    assert npconv.tensor([1, 2]).dtype == npconv.int64
    assert npconv.tensor([True]).dtype == npconv.bool
    assert npconv.zeros(2).dtype == npconv.float32
    assert (npconv.ones(2) * 2.5).dtype == npconv.float32
    assert (npconv.tensor([1, 2]) * 2.5).dtype == npconv.float32
    assert (npconv.tensor([1, 2]) / 2).dtype == npconv.float32
    assert npconv.arange(5).dtype == npconv.int64
    assert npconv.from_numpy(np.zeros(3)).dtype == npconv.float64
    assert npconv.ones(2, dtype=npconv.float16).dtype == npconv.float16
    assert str(npconv.float32) == "npconv.float32"


def test_size_prints_like_torch_and_equals_tuples():
    size = npconv.randn(1, 16, 28, 28).shape
    assert repr(size) == "npconv.Size([1, 16, 28, 28])"
    assert size == (1, 16, 28, 28) and list(size) == [1, 16, 28, 28]
    assert npconv.randn(2, 3).size(1) == 3 and npconv.randn(2, 3).size() == (2, 3)


def test_backward_errors_like_torch():
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        npconv.ones(2, requires_grad=True).mul(2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        npconv.ones(2).sum().backward()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        npconv.ones(2, requires_grad=True).add_(1)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y = (npconv.ones(2, requires_grad=True) * 2).sum()
        y.backward()
        y.backward()


def test_no_grad_detach_data_and_copy():
    a = npconv.ones(3, requires_grad=True)
    with npconv.no_grad():
        b = a * 2
    assert not b.requires_grad and b.grad_fn is None
    assert not a.detach().requires_grad
    d = a.data
    d[0] = 5.0
    assert a.detach().numpy()[0] == 5.0  # .data shares storage
    c = npconv.zeros(3)
    c.copy_(npconv.tensor([1.0, 2.0, 3.0]))
    assert c.tolist() == [1.0, 2.0, 3.0]
    a.data = npconv.zeros(3)
    assert a.sum().item() == 0.0 and a.requires_grad


def test_max_argmax_eq_item_like_the_training_loop():
    out = npconv.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    target = npconv.tensor([1, 0, 0])
    _, predicted = out.max(1)
    assert predicted.eq(target).sum().item() == 2
    pred = out.argmax(dim=1, keepdim=True)
    assert pred.eq(target.view_as(pred)).sum().item() == 2
    assert target.size(0) == 3


def test_to_device_and_cuda():
    t = npconv.ones(2)
    assert t.to(npconv.device("cpu")) is t and t.cpu() is t and t.to("cpu") is t
    assert t.to(npconv.float64).dtype == npconv.float64
    assert npconv.cuda.is_available() is False
    assert str(npconv.device("cpu")) == "cpu"
    with pytest.raises(AssertionError, match="not compiled with CUDA"):
        t.to("cuda")


def test_manual_seed_makes_randn_reproducible():
    npconv.manual_seed(7)
    a = npconv.randn(3, 3)
    npconv.manual_seed(7)
    assert np.array_equal(a.numpy(), npconv.randn(3, 3).numpy())
    assert npconv.rand(100).numpy().min() >= 0


REPR_CASES = [
    lambda t: t.tensor(0.5), lambda t: t.tensor([1.5, -2.25, 3.0]), lambda t: t.tensor([[1, 2]]),
    lambda t: t.tensor([1e-5, 1.0]), lambda t: t.tensor([1.0, 2.0], dtype=t.float64),
    lambda t: t.tensor([True, False]), lambda t: t.tensor([0.1234567, 100.5]),
    lambda t: t.zeros(0), lambda t: t.zeros(0, dtype=t.int64),
    lambda t: t.tensor([-2.0, -1.0, 0.0, 1.0, 2.0]).relu(), lambda t: t.tensor([1e9, 1.0]),
    lambda t: t.tensor([[0.5, float("nan")], [float("inf"), -1.25]]),
    lambda t: t.tensor([1.0, 2.0], requires_grad=True), lambda t: t.ones(2, requires_grad=True) * 2,
]


@pytest.mark.parametrize("case", range(len(REPR_CASES)))
def test_repr_like_torch(case):
    build = REPR_CASES[case]
    assert repr(build(npconv)) == repr(build(torch)).replace("torch.", "npconv.")
