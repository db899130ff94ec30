"""npconv.analysis: output sizes against torch's real output shapes, refusals against torch's
errors, solve_padding and same_padding checked by running torch's convs with the answer, and
the explain texts' numbers against torch, and the CLI."""
import math
import os
import re
import subprocess
import sys
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npconv import analysis

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _outcome(run):
    """(result, None) or (None, exception); warnings (torch's even-kernel 'same' note) are not
    what these tests compare."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return run(), None
        except Exception as e:  # noqa: BLE001 - the type and wording are what is compared
            return None, e


def _same_outcome(ours, theirs):
    """Both give the same size, or both refuse with torch's type and the first line of torch's
    message starting ours."""
    (size, our_error), (shape, their_error) = ours, theirs
    if their_error is None:
        assert our_error is None, f"npconv refused what torch runs: {our_error!r}"
        assert size == shape
    else:
        assert our_error is not None, f"npconv gave {size}, torch raised {their_error!r}"
        assert type(our_error) is type(their_error), (our_error, their_error)
        assert str(our_error).startswith(str(their_error).split("\n")[0]), (our_error,
                                                                             their_error)


def _form(draw, values, n):
    """An int, or one value per axis (a tuple), drawn."""
    return values[0] if n == 1 and draw(st.booleans()) else tuple(values)


@st.composite
def conv_cases(draw, transposed=False):
    n = draw(st.integers(1, 3))
    axis = st.integers
    size = [draw(axis(1, 12)) for _ in range(n)]
    kernel = [draw(axis(1, 5)) for _ in range(n)]
    stride = draw(axis(1, 3))
    dilation = draw(axis(1, 3))
    if not transposed and draw(st.booleans()):
        padding = draw(st.sampled_from(["same", "valid"]))
    else:
        padding = _form(draw, [draw(axis(0, 3)) for _ in range(n)], n)
    return (n, _form(draw, size, n), _form(draw, kernel, n), stride, padding, dilation)


def _scalar_or(shape, *args):
    """torch's output shape (spatial part) in the form of the arguments: an int if all are."""
    return tuple(shape) if any(isinstance(a, tuple) for a in args) else shape[0]


@settings(max_examples=150)
@given(conv_cases())
def test_conv_output_size_matches_torch(case):
    n, size, kernel, stride, padding, dilation = case
    conv = getattr(F, f"conv{n}d")
    sizes, kernels = (size,) * n if isinstance(size, int) else size, \
        (kernel,) * n if isinstance(kernel, int) else kernel
    theirs = _outcome(lambda: _scalar_or(conv(
        torch.zeros(1, 1, *sizes), torch.zeros(1, 1, *kernels), stride=stride, padding=padding,
        dilation=dilation).shape[2:], size, kernel, padding))
    ours = _outcome(lambda: analysis.conv_output_size(size, kernel, stride, padding,
                                                            dilation))
    _same_outcome(ours, theirs)


@settings(max_examples=150)
@given(conv_cases(transposed=True), st.integers(0, 2))
def test_conv_transpose_output_size_matches_torch(case, output_padding):
    n, size, kernel, stride, padding, dilation = case
    conv = getattr(F, f"conv_transpose{n}d")
    sizes, kernels = (size,) * n if isinstance(size, int) else size, \
        (kernel,) * n if isinstance(kernel, int) else kernel
    f64 = torch.float64  # float32 runs oneDNN, which gives empty outputs or its own errors
    theirs = _outcome(lambda: _scalar_or(conv(
        torch.zeros(1, 1, *sizes, dtype=f64), torch.zeros(1, 1, *kernels, dtype=f64),
        stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation).shape[2:], size, kernel, padding))
    ours = _outcome(lambda: analysis.conv_transpose_output_size(
        size, kernel, stride, padding, output_padding, dilation))
    _same_outcome(ours, theirs)


@settings(max_examples=150)
@given(conv_cases(transposed=True), st.booleans(), st.booleans())
def test_pool_output_size_matches_torch(case, ceil_mode, default_stride):
    n, size, kernel, stride, padding, dilation = case
    stride = None if default_stride else stride
    sizes = (size,) * n if isinstance(size, int) else size
    pool = getattr(torch.nn, f"MaxPool{n}d")(kernel, stride, padding, dilation,
                                               ceil_mode=ceil_mode)
    theirs = _outcome(lambda: _scalar_or(pool(torch.zeros(1, 1, *sizes)).shape[2:],
                                                size, kernel, padding))
    ours = _outcome(lambda: analysis.pool_output_size(size, kernel, stride, padding,
                                                            dilation, ceil_mode))
    _same_outcome(ours, theirs)


def test_sizes_must_be_positive_and_one_per_axis():
    with pytest.raises(ValueError, match=r"size must be a positive int or a tuple of 2"):
        analysis.conv_output_size((8, 0), 3)
    with pytest.raises(ValueError, match=r"kernel_size must be an int or a tuple of 2 ints"):
        analysis.conv_output_size((8, 8), (3,))
    with pytest.raises(ValueError, match=r"kernel_size must be an int or a tuple of 2 ints"):
        analysis.conv_transpose_output_size(8, (3,), stride=(1, 1))
    with pytest.raises(ValueError, match=r"kernel_size must be an int or a tuple of 3 ints"):
        analysis.solve_padding((8, 8, 8), 8, (3, 3))
    with pytest.raises(ValueError, match=r"1, 2 or 3 spatial axes"):
        analysis.pool_output_size((8, 8, 8, 8), 2)


def test_output_size_forms():
    """An int in gives an int; a tuple anywhere gives a tuple with one entry per axis."""
    assert analysis.conv_output_size(28, 5, 2, 2) == 14
    assert analysis.conv_output_size(28, (5, 3), 2, 2) == (14, 15)
    assert analysis.pool_output_size((28, 28, 28), 2) == (14, 14, 14)


REFUSALS = {  # (our call, torch's call) that torch refuses
    "kernel larger than padded input": (
        lambda: analysis.conv_output_size((3, 8), 5),
        lambda: F.conv2d(torch.zeros(1, 1, 3, 8), torch.zeros(1, 1, 5, 5))),
    "'same' at stride 2": (
        lambda: analysis.conv_output_size(8, 3, 2, "same"),
        lambda: F.conv1d(torch.zeros(1, 1, 8), torch.zeros(1, 1, 3), stride=2, padding="same")),
    "zero stride": (
        lambda: analysis.conv_output_size(8, 3, 0),
        lambda: F.conv1d(torch.zeros(1, 1, 8), torch.zeros(1, 1, 3), stride=0)),
    "zero dilation": (
        lambda: analysis.conv_output_size((8, 8), 3, dilation=0),
        # torch words this per backend; npconv's conv has oneDNN's words (float32, 4 channels)
        lambda: F.conv2d(torch.zeros(2, 4, 8, 8), torch.zeros(6, 4, 3, 3), dilation=0)),
    "zero kernel size": (
        lambda: analysis.conv_output_size((8, 8), (0, 3)),
        lambda: F.conv2d(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 0, 3))),
    "pool pad above half the window": (
        lambda: analysis.pool_output_size((8, 8), 3, padding=2),
        lambda: torch.nn.MaxPool2d(3, padding=2)(torch.zeros(1, 1, 8, 8))),
    "pool output below 1": (
        lambda: analysis.pool_output_size((2, 8), 3),
        lambda: torch.nn.MaxPool2d(3)(torch.zeros(1, 1, 2, 8))),
    "transpose output below 1": (
        lambda: analysis.conv_transpose_output_size((1, 1), 1, padding=1),
        lambda: F.conv_transpose2d(torch.zeros(1, 1, 1, 1, dtype=torch.float64),
                                   torch.zeros(1, 1, 1, 1, dtype=torch.float64), padding=1)),
    "output_padding not below stride": (
        lambda: analysis.conv_transpose_output_size(4, 3, 2, output_padding=2),
        lambda: F.conv_transpose1d(torch.zeros(1, 1, 4), torch.zeros(1, 1, 3), stride=2,
                                   output_padding=2)),
    "channels not divisible by groups": (
        lambda: analysis.explain_conv(8, 3, in_channels=3, out_channels=4, groups=2),
        lambda: torch.nn.Conv1d(3, 4, 3, groups=2)),
    "stride a float": (
        lambda: analysis.conv_output_size(8, 3, 1.5),
        lambda: F.conv1d(torch.zeros(1, 1, 8), torch.zeros(1, 1, 3), stride=1.5)),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refusals_are_torchs(name):
    ours, theirs = REFUSALS[name]
    _, their_error = _outcome(theirs)
    _, our_error = _outcome(ours)
    assert their_error is not None and our_error is not None, (our_error, their_error)
    assert type(our_error) is type(their_error), (our_error, their_error)
    start = re.split(r"[\d\[\(']", str(their_error).split("\n")[0], maxsplit=1)[0]
    assert str(our_error).startswith(start), (our_error, their_error)
    assert len(str(our_error)) > len(str(their_error).split("\n")[0]) or \
        isinstance(our_error, TypeError), "no hint after torch's wording"


def _torch_size(size, kernel, stride, dilation, pads):
    """torch's conv output size after F.pad by (lo, hi) per axis, None when torch refuses."""
    widths = tuple(p for pair in reversed(pads) for p in pair)
    try:
        return tuple(getattr(F, f"conv{len(size)}d")(
            F.pad(torch.zeros(1, 1, *size), widths), torch.zeros(1, 1, *kernel), stride=stride,
            dilation=dilation).shape[2:])
    except RuntimeError:
        return None


def _conv_with(solution, size, kernel, stride, dilation):
    """torch's output size with the solution applied as the user would: conv padding= when
    symmetric, else the literal widths of solution.pad_call, then a conv with padding=0."""
    if solution.padding is not None:
        return tuple(getattr(F, f"conv{len(size)}d")(
            torch.zeros(1, 1, *size), torch.zeros(1, 1, *kernel), stride=stride,
            padding=solution.padding, dilation=dilation).shape[2:])
    call = re.fullmatch(r"F\.pad\(x, \(([\d, ]+)\)\)", solution.pad_call)
    widths = [int(v) for v in call.group(1).split(",")]
    pads = [widths[j:j + 2] for j in range(0, len(widths), 2)][::-1]
    return _torch_size(size, kernel, stride, dilation, pads)


def _sizes_strategy(low_out=1):
    return st.integers(1, 3).flatmap(lambda n: st.tuples(*[st.tuples(
        st.integers(1, 16), st.integers(low_out, 10), st.integers(1, 5), st.integers(1, 3),
        st.integers(1, 3))] * n))


@settings(max_examples=150)
@given(_sizes_strategy())
def test_solve_padding_gives_the_output_in_torch(axes_):
    size, out, kernel, stride, dilation = (tuple(v) for v in zip(*axes_))
    try:
        solution = analysis.solve_padding(size, out, kernel, stride, dilation)
    except ValueError as e:
        # on some axis torch's conv with no padding already gives a larger output
        assert str(e).startswith("no padding gives output size")
        assert any(_torch_size((i,), (k,), s, d, [(0, 0)]) > (o,)
                   for i, o, k, s, d in axes_ if i >= d * (k - 1) + 1)
        return
    assert _conv_with(solution, size, kernel, stride, dilation) == out
    assert (solution.padding is None) == (solution.pad_call is not None)
    for a, (lo, hi) in enumerate(solution.pads):
        assert hi - lo in (0, 1)
        # smaller totals on this axis fail in torch: all of them if the answer is asymmetric,
        # the symmetric (even) ones if it is symmetric; an asymmetric answer has no symmetric
        # one a cell larger
        fewer = range(lo + hi) if hi > lo else range(0, lo + hi, 2)
        for total in [*fewer, *([lo + hi + 1] if hi > lo else [])]:
            pads = [list(p) for p in solution.pads]
            pads[a] = [total // 2, total - total // 2]
            got = _torch_size(size, kernel, stride, dilation, pads)
            assert got is None or got[a] != out[a], (a, total, solution)


@settings(max_examples=150)
@given(_sizes_strategy())
def test_same_padding_is_tensorflows_same_upper(axes_):
    size, _, kernel, stride, dilation = (tuple(v) for v in zip(*axes_))
    solution = analysis.same_padding(size, kernel, stride, dilation)
    want = tuple(math.ceil(i / s) for i, s in zip(size, stride))
    assert solution.output_size == want
    assert _torch_size(size, kernel, stride, dilation, solution.pads) == want
    for (lo, hi), i, k, s, d, o in zip(solution.pads, size, kernel, stride, dilation, want):
        total = max(0, (o - 1) * s + d * (k - 1) + 1 - i)
        assert (lo, hi) == (total // 2, total - total // 2)


def test_solve_padding_forms_and_text():
    """The seed's 28 -> 14 at kernel 3, stride 2: padding=1 (the symmetric choice, though
    (0, 1) is one cell less); an even kernel needs F.pad."""
    sol = analysis.solve_padding(28, 14, 3, 2)
    assert (sol.padding, sol.pads, sol.pad_call) == (1, ((1, 1),), None)
    assert "padding=1" in str(sol) and "0 + 1 would also do" in str(sol)
    sol = analysis.solve_padding((28, 9), (28, 9), (4, 3))
    assert sol.padding is None and sol.pads == ((1, 2), (1, 1))
    assert sol.pad_call == "F.pad(x, (1, 1, 1, 2))" and sol.pad_call in str(sol)
    assert analysis.same_padding(28, 3, 2).pad_call == "F.pad(x, (0, 1))"


def test_solve_padding_unreachable_explains():
    with pytest.raises(ValueError, match=r"no padding gives output size 5 on positions.*"
                                         r"already 13.*reachable sizes are 13 and up"):
        analysis.solve_padding(28, 5, 3, 2)
    with pytest.raises(ValueError, match="out_size must be a positive int"):
        analysis.solve_padding(28, 0, 3)


def test_explain_conv_seed_case_numbers_are_torchs():
    """The seed's 'kernel 5, stride 2, padding 2' on 28 x 28: every number in the text is
    torch's (output shape, parameter count) or follows from torch's output shape (MACs)."""
    layer = torch.nn.Conv2d(1, 8, 5, stride=2, padding=2)
    out = layer(torch.zeros(1, 1, 28, 28)).shape
    text = analysis.explain_conv((28, 28), 5, 2, 2, in_channels=1, out_channels=8)
    o = out[2]
    assert f"rows: floor((28 + 2 + 2 - 1*(5-1) - 1) / 2) + 1 = floor(27 / 2) + 1 = {o}" in text
    assert f"output: 8 x {out[2]} x {out[3]}" in text
    params = sum(p.numel() for p in layer.parameters())
    assert f"= 8 * (1/1) * 25 + 8 = {params}" in text
    assert f"= 8 * {out[2] * out[3]} * 1 * 25 = {8 * out[2] * out[3] * 25}" in text
    assert "bias additions not counted" in text


def test_explain_conv_grouped_no_bias_parameters_are_torchs():
    layer = torch.nn.Conv2d(4, 8, (3, 2), groups=2, bias=False)
    text = analysis.explain_conv((9, 7), (3, 2), in_channels=4, out_channels=8, groups=2,
                                 bias=False)
    assert f"= 8 * (4/2) * 6 + 0 = {sum(p.numel() for p in layer.parameters())}" in text


def _never_read(text, name):
    """The input cells the text says no window reads, as a set."""
    line = next(line for line in text.splitlines() if f"input {name} " in line and
                ("never read" in line or line.strip().startswith("all")))
    if line.strip().startswith("all"):
        return set()
    runs = line.split(f"input {name} ")[1].split(" (of")[0]
    return {v for run in runs.split(", ") for v in range(*(lambda a, b: (a, b + 1))(
        *map(int, run.split(".."))))}


def _zero_gradient_cells(layer, size):
    """The input cells whose gradient is zero under an all-ones layer: the cells it never reads."""
    x = torch.zeros(1, 1, *size, requires_grad=True)
    layer(x).sum().backward()
    g = x.grad[0, 0].abs()
    return [set(torch.nonzero(g.sum(dim=tuple(j for j in range(len(size)) if j != a)) == 0)
                .flatten().tolist()) for a in range(len(size))]


@pytest.mark.parametrize("size, kernel, stride, padding, dilation", [
    ((28, 28), 3, 2, 0, 1),   # the last row and column
    ((28, 27), 5, 2, 2, 1),   # only padding is left over
    ((13, 10), (2, 1), 3, (1, 0), 1),  # stride > kernel: gaps between windows
    ((17, 12), 3, (4, 3), 1, (2, 3)),  # dilation and stride together
])
def test_explain_conv_never_read_cells_are_those_without_gradient(size, kernel, stride,
                                                                   padding, dilation):
    layer = torch.nn.Conv2d(1, 1, kernel, stride, padding, dilation, bias=False)
    torch.nn.init.ones_(layer.weight)
    text = analysis.explain_conv(size, kernel, stride, padding, dilation)
    rows, columns = _zero_gradient_cells(layer, size)
    assert _never_read(text, "rows") == rows
    assert _never_read(text, "columns") == columns


def test_explain_conv_names_the_unread_rows():
    text = analysis.explain_conv((28, 28), 3, 2)
    assert "input rows 27..27 (of 0..27) are never read" in text
    assert "(28 + 0 + 0 - 1*(3-1) - 1) mod 2 = 1" in text


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_explain_pool_numbers_and_unread_cells_are_torchs(ceil_mode):
    size = (10, 9)
    pool = torch.nn.MaxPool2d(3, 4, 1, ceil_mode=ceil_mode)
    out = pool(torch.zeros(1, 1, *size)).shape[2:]
    text = analysis.explain_pool(size, 3, 4, 1, ceil_mode=ceil_mode)
    assert f"output: {out[0]} x {out[1]} per channel" in text
    assert ("ceil(" if ceil_mode else "floor(") in text
    avg = torch.nn.AvgPool2d(3, 4, 1, ceil_mode=ceil_mode)  # its windows are max pooling's
    rows, columns = _zero_gradient_cells(avg, size)
    assert (_never_read(text, "rows"), _never_read(text, "columns")) == (rows, columns)


def test_explain_pool_ceil_mode_drop_is_stated():
    """ceil_mode's last window would start in the right padding: torch drops it."""
    out = torch.nn.MaxPool1d(2, 2, 1, ceil_mode=True)(torch.zeros(1, 1, 5)).shape[-1]
    text = analysis.explain_pool(5, 2, 2, 1, ceil_mode=True)
    assert f"minus 1 = {out}" in text


def test_explain_transpose_reachable_sizes_are_torchs():
    i, k, s, p = 7, 3, 3, 1
    layer = torch.nn.ConvTranspose1d(2, 6, k, s, p, groups=2)
    text = analysis.explain_transpose(i, k, s, p, in_channels=2, out_channels=6, groups=2)
    sizes = [F.conv_transpose1d(torch.zeros(1, 1, i), torch.zeros(1, 1, k), stride=s, padding=p,
                                output_padding=op).shape[-1] for op in range(s)]
    back = {F.conv1d(torch.zeros(1, 1, o), torch.zeros(1, 1, k), stride=s, padding=p).shape[-1]
            for o in sizes}
    assert back == {i}
    assert f"reachable: {min(sizes)}..{max(sizes)} with output_padding 0..{s - 1}" in text
    assert f"= {sum(q.numel() for q in layer.parameters())}" in text.split("parameters")[1]
    assert f"= 2 * {i} * 3 * {k} = {2 * i * 3 * k}" in text


def _cli(*args):
    """`python -m npconv ...` on this checkout's sources."""
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    path = os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "npconv", *args], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, PYTHONPATH=path))


def test_cli_explain_conv_prints_the_explanation():
    args = ("--input", "28,28", "--kernel", "5", "--stride", "2", "--padding", "2")
    proc = _cli("explain", "conv", *args, "--out-channels", "8")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == analysis.explain_conv((28, 28), 5, 2, 2, out_channels=8)


def test_cli_explain_pool_and_transpose_and_solve_padding():
    proc = _cli("explain", "pool", "--input", "5", "--kernel", "2", "--padding", "1",
                "--ceil-mode")
    assert proc.returncode == 0 and proc.stdout.strip() == analysis.explain_pool(
        5, 2, padding=1, ceil_mode=True), proc.stderr
    proc = _cli("explain", "transpose", "--input", "14,7", "--kernel", "3", "--stride", "2",
                "--padding", "1", "--output-padding", "1", "--no-bias")
    assert proc.returncode == 0 and proc.stdout.strip() == analysis.explain_transpose(
        (14, 7), 3, 2, 1, 1, bias=False), proc.stderr
    proc = _cli("solve-padding", "--input", "28", "--output", "14", "--kernel", "3",
                "--stride", "2")
    assert proc.returncode == 0 and "padding=1" in proc.stdout, proc.stderr
    proc = _cli("solve-padding", "--input", "28,28", "--output", "same", "--kernel", "3",
                "--stride", "2")
    assert proc.returncode == 0 and "F.pad(x, (0, 1, 0, 1))" in proc.stdout, proc.stderr


def test_cli_errors_are_argparse_errors():
    """torch's refusal (and npconv's own) print as the subcommand's usage error, exit 2."""
    proc = _cli("explain", "conv", "--input", "3", "--kernel", "5")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "npconv explain conv: error: Calculated padded input size per channel: (3)." in \
        proc.stderr
    proc = _cli("solve-padding", "--input", "28", "--output", "5", "--kernel", "3", "--stride",
                "2")
    assert proc.returncode == 2 and "error: no padding gives output size 5" in proc.stderr
    proc = _cli("explain", "pool", "--input", "2x", "--kernel", "2")
    assert proc.returncode == 2 and "argument --input: must be an int" in proc.stderr
