"""Version counters against torch: an in-place change of a tensor that backward needs raises
torch's RuntimeError at backward, exactly where torch raises; elsewhere the gradients are
torch's; ``_version`` counts in-place writes as torch does, shared with views."""
import itertools
from types import SimpleNamespace

import numpy as np
import pytest

import npconv
import npconv.nn
import npconv.optim

torch = pytest.importorskip("torch")

LIBS = [SimpleNamespace(T=lib, nn=lib.nn, F=lib.nn.functional, optim=lib.optim)
        for lib in (npconv, torch)]
TORCH_HINT = " Hint: "


def _outcome(program, m):
    """("raises", message) or ("ok", the gradients program returns, as arrays)."""
    try:
        grads = program(m)
    except RuntimeError as e:
        return "raises", str(e)
    return "ok", [None if g is None else g.detach().numpy().copy() for g in grads]


def _both(program):
    return _outcome(program, LIBS[0]), _outcome(program, LIBS[1])


def _rand(m, *shape, requires_grad=False, seed=0):
    """The same positive values (0.5 .. 1.5) in either library."""
    array = np.random.default_rng(seed).random(shape).astype(np.float32) + 0.5
    return m.T.tensor(array, requires_grad=requires_grad)


# ---- changed after forward: both raise, npconv with torch's message --------------------------
def mul_operand_mul_(m):
    a = m.T.ones(3, requires_grad=True)
    w = m.T.ones(3) * 2
    y = (a * w).sum()
    w.mul_(10)
    y.backward()


def mul_operand_setitem(m):
    a = m.T.ones(3, requires_grad=True)
    w = m.T.ones(3) * 2
    y = (a * w).sum()
    w[0] = 100.
    y.backward()


def mul_operand_iadd(m):
    a = m.T.ones(3, requires_grad=True)
    w = m.T.ones(3) * 2
    y = (a * w).sum()
    w += 1
    y.backward()


def conv_input_add_(m):
    x = _rand(m, 1, 2, 5, 5)
    w = _rand(m, 3, 2, 3, 3, requires_grad=True, seed=1)
    y = m.F.conv2d(x, w)
    x.add_(1)
    y.sum().backward()


def conv_weight_changed_by_init(m):
    x = _rand(m, 1, 2, 5, 5, requires_grad=True)
    w = _rand(m, 3, 2, 3, 3, seed=1)
    y = m.F.conv2d(x, w, padding=1)
    m.nn.init.normal_(w)
    y.sum().backward()


def sgd_step_between_retained_backwards(m):
    conv = m.nn.Conv2d(1, 2, 3)
    opt = m.optim.SGD(conv.parameters(), lr=0.1)
    loss = conv(_rand(m, 1, 1, 6, 6)).sum()
    loss.backward(retain_graph=True)
    opt.step()
    loss.backward()


def adam_step_between_retained_backwards(m):
    model = m.nn.Sequential(m.nn.Conv2d(1, 2, 3), m.nn.ReLU(), m.nn.Conv2d(2, 1, 3))
    opt = m.optim.Adam(model.parameters())
    loss = model(_rand(m, 1, 1, 7, 7)).sum()
    loss.backward(retain_graph=True)
    opt.step()
    loss.backward()


def retained_backward_after_add_(m):
    a = m.T.ones(2, 3, requires_grad=True)
    x = m.T.ones(2, 3)
    y = (a * x).sum()
    y.backward(retain_graph=True)
    x.add_(1)
    y.backward()


def exp_output_under_no_grad(m):
    a = m.T.ones(3, requires_grad=True)
    e = a.exp()
    s = e.sum()
    with m.T.no_grad():
        e.mul_(2)
    s.backward()


def exp_output_through_detach(m):
    a = m.T.ones(3, requires_grad=True)
    e = a.exp()
    s = e.sum()
    e.detach().mul_(2)
    s.backward()


def softmax_output_through_detach(m):
    x = _rand(m, 2, 3, requires_grad=True)
    s = m.F.softmax(x, dim=1)
    loss = (s * _rand(m, 2, 3, seed=1)).sum()
    s.detach().zero_()
    loss.backward()


def saved_non_leaf(m):
    a, b = m.T.ones(3, requires_grad=True), m.T.ones(3, requires_grad=True)
    w = b * 2
    y = (a * w).sum()
    with m.T.no_grad():
        w.mul_(10)
    y.backward()


def base_written_while_its_slice_is_saved(m):
    a = m.T.ones(3, requires_grad=True)
    w = m.T.ones(4) * 2
    y = (a * w[1:]).sum()
    w[:1].mul_(10)  # another view of the same storage
    y.backward()


def relu_inplace_on_saved_tensor(m):
    a = m.T.ones(3, requires_grad=True)
    w = m.T.ones(3) - 2
    y = (a * w).sum()
    m.F.relu(w, inplace=True)
    y.backward()


def dropout_inplace_on_saved_tensor(m):
    a = m.T.ones(4, requires_grad=True)
    w = m.T.ones(4)
    y = (a * w).sum()
    m.nn.Dropout(0.5, inplace=True)(w)
    y.backward()


def parameter_data_changed(m):
    data = m.T.ones(3)
    p = m.nn.Parameter(data)
    y = (p * p).sum()
    data.fill_(3)  # the parameter shares its storage and version counter
    y.backward()


def double_matrix(m):
    a = m.T.ones(2, 3, dtype=m.T.float64, requires_grad=True)
    w = m.T.ones(2, 3, dtype=m.T.float64)
    y = (a * w).sum()
    w.copy_(m.T.zeros(2, 3))
    y.backward()


def zero_dim(m):
    a = m.T.ones((), requires_grad=True)
    w = m.T.ones(())
    y = a * w
    w.uniform_()
    y.backward()


def index_tensor_changed(m):
    a = m.T.ones(3, requires_grad=True)
    i = m.T.tensor([0, 1])
    y = (a[i] * 2).sum()
    i[0] = 2
    y.backward()


def mask_changed(m):
    a = m.T.ones(3, requires_grad=True)
    mask = m.T.tensor([True, False, True])
    y = (a[mask] * 2).sum()
    mask[1] = True
    y.backward()


def where_condition_changed(m):
    a = m.T.ones(3, requires_grad=True)
    c = m.T.tensor([True, False, True])
    y = m.T.where(c, a, m.T.zeros(3)).sum()
    c.zero_()
    y.backward()


RAISES = [mul_operand_mul_, mul_operand_setitem, mul_operand_iadd, conv_input_add_,
          conv_weight_changed_by_init, sgd_step_between_retained_backwards,
          adam_step_between_retained_backwards, retained_backward_after_add_,
          exp_output_under_no_grad, exp_output_through_detach, softmax_output_through_detach,
          saved_non_leaf, base_written_while_its_slice_is_saved, relu_inplace_on_saved_tensor,
          dropout_inplace_on_saved_tensor, parameter_data_changed, double_matrix, zero_dim,
          index_tensor_changed, mask_changed, where_condition_changed]


@pytest.mark.parametrize("program", RAISES, ids=lambda p: p.__name__)
def test_change_of_a_saved_tensor_raises_torch_error(program):
    npconv.manual_seed(0)
    torch.manual_seed(0)
    (ours, our_message), (theirs, their_message) = _both(program)
    assert ours == theirs == "raises", (our_message, their_message)
    assert our_message.split(TORCH_HINT)[0] == their_message.split(TORCH_HINT)[0]
    assert "saved it for backward" in our_message.split(TORCH_HINT)[1]


def test_message_names_the_op_that_saved_the_tensor():
    with pytest.raises(RuntimeError, match=r"Hint: MulBackward0 saved it for backward, and it "
                                           r"was changed in place since"):
        mul_operand_mul_(LIBS[0])


# ---- changes torch accepts: the same gradients as torch ---------------------------------------
def add_operand_changed(m):
    a = m.T.ones(3, requires_grad=True)
    w = m.T.ones(3) * 2
    y = (a + w).sum() + (w - a).sum()
    w.mul_(10)
    y.backward()
    return [a.grad]


def changed_before_forward(m):
    a = m.T.ones(3, requires_grad=True)
    w = m.T.ones(3) * 2
    w.mul_(10)
    w[0] = 5.
    (a * w).sum().backward()
    return [a.grad]


def unsaved_operand_changed(m):
    a = _rand(m, 3, requires_grad=True)
    w = _rand(m, 3, seed=1)
    y = (a * w).sum()  # a's gradient reads w only; a itself is not saved
    with m.T.no_grad():
        a.mul_(10)
    y.backward()
    return [a.grad]


def changed_through_data(m):
    a = m.T.ones(3, requires_grad=True)
    w = m.T.ones(3) * 2
    y = (a * w).sum()
    w.data.mul_(10)  # .data has its own version counter: unseen by backward, as in torch
    y.backward()
    return [a.grad]


def changed_after_copying_reshape(m):
    a = m.T.ones(6, requires_grad=True)
    w = m.T.ones(2, 3) * 2
    y = (a * w.t().reshape(6)).sum()  # not viewable: a copy with its own counter
    w.mul_(10)
    y.backward()
    return [a.grad]


def changed_after_advanced_index(m):
    a = m.T.ones(2, requires_grad=True)
    w = m.T.ones(3) * 2
    y = (a * w[m.T.tensor([0, 2])]).sum()  # a copy
    w.mul_(10)
    y.backward()
    return [a.grad]


def cross_entropy_logits_changed(m):
    x = _rand(m, 4, 3, requires_grad=True)
    loss = m.F.cross_entropy(x, m.T.tensor([0, 2, 1, 0]))  # log_softmax saves its output
    with m.T.no_grad():
        x.mul_(3)
    loss.backward()
    return [x.grad]


def linear_weight_stepped_between_retained_backwards(m):
    model = m.nn.Linear(3, 2)  # the input needs no gradient, so the weight is not saved
    with m.T.no_grad():
        model.weight.copy_(_rand(m, 2, 3, seed=1))
        model.bias.copy_(_rand(m, 2, seed=2))
    opt = m.optim.SGD(model.parameters(), lr=0.1)
    loss = (model(_rand(m, 4, 3)) ** 2).sum()
    loss.backward(retain_graph=True)
    opt.step()
    loss.backward()
    return [model.weight.grad, model.bias.grad]


def conv_output_relu_inplace(m):
    x = _rand(m, 1, 1, 5, 5)
    w = _rand(m, 2, 1, 3, 3, requires_grad=True, seed=1)
    y = m.F.relu(m.F.conv2d(x, w), inplace=True)  # conv saves its inputs, not its output
    y.sum().backward()
    return [w.grad]


ACCEPTED = [add_operand_changed, changed_before_forward, unsaved_operand_changed,
            changed_through_data, changed_after_copying_reshape, changed_after_advanced_index,
            cross_entropy_logits_changed, linear_weight_stepped_between_retained_backwards,
            conv_output_relu_inplace]


@pytest.mark.parametrize("program", ACCEPTED, ids=lambda p: p.__name__)
def test_change_torch_accepts_gives_torch_gradients(program):
    npconv.manual_seed(0)
    torch.manual_seed(0)
    (ours, our_grads), (theirs, their_grads) = _both(program)
    assert ours == theirs == "ok", (our_grads, their_grads)
    for g, t in zip(our_grads, their_grads, strict=True):
        np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-6)


# ---- every op: which changed tensor makes backward raise ------------------------------------
OPS = {
    "add": (lambda m, a, b: a + b, [(3,), (3,)]),
    "sub": (lambda m, a, b: a - b, [(3,), (3,)]),
    "mul": (lambda m, a, b: a * b, [(3,), (3,)]),
    "div": (lambda m, a, b: a / b, [(3,), (3,)]),
    "matmul": (lambda m, a, b: a @ b, [(2, 3), (3, 4)]),
    "matmul_1d": (lambda m, a, b: a @ b, [(3,), (3, 4)]),
    "pow": (lambda m, a, b: a ** b, [(3,), (3,)]),
    "pow_scalar": (lambda m, a: a ** 2.0, [(3,)]),
    "sqrt": (lambda m, a: a.sqrt(), [(3,)]),
    "exp": (lambda m, a: a.exp(), [(3,)]),
    "log": (lambda m, a: a.log(), [(3,)]),
    "abs": (lambda m, a: a.abs(), [(3,)]),
    "neg": (lambda m, a: -a, [(3,)]),
    "relu": (lambda m, a: a.relu(), [(3,)]),
    "sigmoid": (lambda m, a: a.sigmoid(), [(3,)]),
    "tanh": (lambda m, a: a.tanh(), [(3,)]),
    "clamp": (lambda m, a: a.clamp(0.7, 1.2), [(3,)]),
    "sum": (lambda m, a: a.sum(), [(3,)]),
    "mean": (lambda m, a: a.mean(), [(3,)]),
    "amax": (lambda m, a: a.amax(), [(3, 2)]),
    "max": (lambda m, a: a.max(), [(3, 2)]),
    "max_dim": (lambda m, a: a.max(0).values, [(3, 2)]),
    "double": (lambda m, a: a.double(), [(3,)]),
    "reshape": (lambda m, a: a.reshape(3, 2), [(2, 3)]),
    "permute": (lambda m, a: a.permute(1, 0), [(2, 3)]),
    "slice": (lambda m, a: a[1:], [(3,)]),
    "cat": (lambda m, a, b: m.T.cat([a, b]), [(3,), (3,)]),
    "stack": (lambda m, a, b: m.T.stack([a, b]), [(3,), (3,)]),
    "where": (lambda m, a, b: m.T.where(a > 1, a, b), [(3,), (3,)]),
    "conv2d": (lambda m, x, w, b: m.F.conv2d(x, w, b), [(1, 2, 4, 4), (3, 2, 2, 2), (3,)]),
    "pad_constant": (lambda m, x: m.F.pad(x, (1, 1, 1, 1)), [(1, 1, 3, 3)]),
    "pad_reflect": (lambda m, x: m.F.pad(x, (1, 1, 1, 1), mode="reflect"), [(1, 1, 3, 3)]),
    "pad_replicate": (lambda m, x: m.F.pad(x, (1, 1, 1, 1), mode="replicate"), [(1, 1, 3, 3)]),
    "pad_circular": (lambda m, x: m.F.pad(x, (1, 1, 1, 1), mode="circular"), [(1, 1, 3, 3)]),
    "max_pool2d": (lambda m, x: m.F.max_pool2d(x, 2), [(1, 1, 4, 4)]),
    "avg_pool2d": (lambda m, x: m.F.avg_pool2d(x, 2), [(1, 1, 4, 4)]),
    "softmax": (lambda m, x: m.F.softmax(x, 1), [(2, 3)]),
    "log_softmax": (lambda m, x: m.F.log_softmax(x, 1), [(2, 3)]),
    "nll_loss": (lambda m, x: m.F.nll_loss(x, m.T.tensor([0, 2])), [(2, 3)]),
    "cross_entropy": (lambda m, x: m.F.cross_entropy(x, m.T.tensor([0, 2])), [(2, 3)]),
    "linear": (lambda m, x, w, b: m.F.linear(x, w, b), [(2, 3), (4, 3), (4,)]),
    "linear_3d": (lambda m, x, w, b: m.F.linear(x, w, b), [(5, 2, 3), (4, 3), (4,)]),
    "leaky_relu": (lambda m, x: m.F.leaky_relu(x, 0.1), [(3,)]),
    "dropout_eval": (lambda m, x: m.F.dropout(x, 0.5, training=False), [(3,)]),
    "mse_loss": (lambda m, a, b: m.F.mse_loss(a, b), [(3,), (3,)]),
}
# Where npconv's op is built differently from torch's, the check follows what npconv's backward
# reads, so its gradient is still that of the values forward saw: (npconv, torch) outcomes.
DIFFERENT = {
    # torch's pow saves its result even when the exponent needs no gradient
    ("pow", "Tf", "out"): ("ok", "raises"),
    # npconv's sqrt is pow(x, 0.5), saving x; torch's saves its result
    ("sqrt", "T", 0): ("raises", "ok"), ("sqrt", "T", "out"): ("ok", "raises"),
    # npconv's mse_loss is (x - y)^2 from sub and mul; torch's saves x and y
    **{("mse_loss", grads, target): ("ok", "raises")
       for grads in ("TT", "Tf", "fT") for target in (0, 1)},
}


def _op_cases():
    for name, (_, shapes) in OPS.items():
        for grads in itertools.product("Tf", repeat=len(shapes)):
            if "T" in grads:
                for target in [*range(len(shapes)), "out"]:
                    yield name, "".join(grads), target


def _op_program(name, grads, target):
    """Forward, change the target (an input position, "out" or None) in place, backward."""
    op, shapes = OPS[name]

    def program(m):
        inputs = [_rand(m, *s, requires_grad=g == "T", seed=i)
                  for i, (s, g) in enumerate(zip(shapes, grads))]
        out = op(m, *inputs)
        loss = (out * _rand(m, *out.shape, seed=9)).sum()
        if target is not None:
            with m.T.no_grad():
                (out if target == "out" else inputs[target]).mul_(2)
        loss.backward()
        return [t.grad for t in inputs if t.requires_grad]
    return program


@pytest.mark.parametrize("name, grads, target", [c for c in _op_cases() if c not in DIFFERENT])
def test_each_op_raises_where_torch_raises(name, grads, target):
    """Inputs needing a gradient (T) or not (f); one input, or the output, is changed in place
    after forward: backward raises for exactly the tensors torch saves, else the gradients
    agree with torch's."""
    (ours, our_result), (theirs, their_result) = _both(_op_program(name, grads, target))
    assert ours == theirs, (our_result, their_result)
    if ours == "raises":
        assert "is at version 1; expected version 0 instead." in our_result
    else:
        for g, t in zip(our_result, their_result, strict=True):
            np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, grads, target", DIFFERENT)
def test_ops_built_differently_from_torch_check_what_they_read(name, grads, target):
    """Where npconv accepts a change torch rejects, its backward never read the changed
    tensor: the gradients equal torch's without the change."""
    (ours, our_result), (theirs, _) = _both(_op_program(name, grads, target))
    assert (ours, theirs) == DIFFERENT[name, grads, target]
    if ours == "ok":
        outcome, expected = _outcome(_op_program(name, grads, None), LIBS[1])
        assert outcome == "ok"
        for g, t in zip(our_result, expected, strict=True):
            np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-6)


# ---- _version: counted and shared as torch counts and shares it -------------------------------
def _versions_of_views_and_copies(m):
    """_version of t, of tensors sharing its storage and of copies, after each in-place op."""
    t = m.T.ones(2, 3)
    shared = [t.detach(), t.view(6), t.reshape(3, 2), t[1:], t[0], t[:, 1:], t.t(),
              t.unsqueeze(0), t.flatten(), t.view(m.T.int32), m.nn.Parameter(t)]
    separate = [t.data, t.clone(), t.t().reshape(6), t[m.T.tensor([0, 1])], t.double(), t * 1]
    trace = []

    def record():
        trace.append([x._version for x in [t, *shared, *separate]])
    for op in (lambda: t.add_(1), lambda: t.sub_(1, alpha=2), lambda: t.mul_(2),
               lambda: t.div_(2), lambda: t.copy_(m.T.zeros(3)), t.zero_, lambda: t.fill_(2),
               t.uniform_, t.normal_, lambda: t.__setitem__((0, 1), 5.),
               lambda: t.__iadd__(1), lambda: t.__isub__(1), lambda: t.__imul__(2),
               lambda: shared[3].mul_(2), lambda: shared[1].__setitem__(0, 1.),
               lambda: separate[0].add_(1), lambda: separate[3].add_(1),
               lambda: m.F.relu(t, inplace=True), lambda: m.F.leaky_relu(t, inplace=True),
               lambda: m.F.dropout(t, 0.5, inplace=True), lambda: m.nn.ReLU(inplace=True)(t)):
        op()
        record()
    row = t[1:]
    row += 1  # one write, through a view
    t[1:] += 1  # two: += on the slice, then the indexed write back
    record()
    return trace


def test_in_place_ops_count_and_views_share_versions_as_torch():
    ours, theirs = _versions_of_views_and_copies(LIBS[0]), _versions_of_views_and_copies(LIBS[1])
    assert ours == theirs


@pytest.mark.parametrize("init", ["uniform_", "normal_", "zeros_", "ones_", "xavier_uniform_",
                                  "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"])
def test_each_init_is_one_write(init):
    versions = []
    for m in LIBS:
        w = m.T.empty(4, 3, requires_grad=True)
        getattr(m.nn.init, init)(w)
        m.nn.init.constant_(w, 0.5)
        versions.append(w._version)
    assert versions[0] == versions[1] == 2


def _training_cycle(m, make_optimizer):
    """zero_grad / forward / backward / step from fixed weights: the parameters, their
    versions after init, after loading weights and after each step."""
    model = m.nn.Sequential(m.nn.Conv2d(1, 2, 3), m.nn.ReLU(inplace=True), m.nn.Flatten(),
                            m.nn.Linear(18, 3))
    versions = [[p._version for p in model.parameters()]]
    model.load_state_dict({k: _rand(m, *v.shape, seed=i) - 1
                           for i, (k, v) in enumerate(model.state_dict().items())})
    versions.append([p._version for p in model.parameters()])
    opt = make_optimizer(m, model.parameters())
    x, target = _rand(m, 4, 1, 5, 5, seed=7), m.T.tensor([0, 2, 1, 0])
    for _ in range(3):
        opt.zero_grad(set_to_none=False)
        m.F.cross_entropy(model(x), target).backward()
        opt.step()
        versions.append([p._version for p in model.parameters()])
    return [p.detach().numpy().copy() for p in model.parameters()], versions


@pytest.mark.parametrize("make_optimizer", [
    lambda m, params: m.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda m, params: m.optim.Adam(params, lr=0.01, amsgrad=True),
], ids=["sgd", "adam"])
def test_training_cycle_steps_as_torch(make_optimizer):
    """Each step writes every parameter once (after backward), so the next forward saves the
    new versions and the usual cycle never trips the check."""
    (ours, our_versions), (theirs, their_versions) = (_training_cycle(m, make_optimizer)
                                                      for m in LIBS)
    assert our_versions == their_versions
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-6)


def test_zero_grad_without_none_writes_the_gradient():
    versions = []
    for m in LIBS:
        p = m.T.ones(3, requires_grad=True)
        (p * 2).sum().backward()
        opt = m.optim.SGD([p], lr=0.1)
        grad = p.grad
        opt.zero_grad(set_to_none=False)
        versions.append((grad._version, p.grad.tolist()))
    assert versions[0] == versions[1]
