"""Bad conv/pad arguments raise what torch raises, starting with torch's own wording."""
import re

import numpy as np
import pytest

import npconv
import npconv.nn as nn
import npconv.nn.functional as F

torch = pytest.importorskip("torch")


def _both(build):
    """Run build(lib, nn, F) with npconv and torch; return (our exception, torch's exception)."""
    out = []
    for lib, lnn, lf in ((npconv, nn, F), (torch, torch.nn, torch.nn.functional)):
        try:
            build(lib, lnn, lf)
        except Exception as e:  # noqa: BLE001 - the type is what is compared
            out.append(e)
        else:
            out.append(None)
    return out


def x_(lib, *shape, dtype=None):
    return lib.ones(*shape, dtype=dtype or lib.float32)


CASES = {
    "non-positive stride": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8), x_(t, 6, 2, 3, 3),
                                                    groups=2, stride=(1, 0)),
    "negative padding": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8), x_(t, 6, 4, 3, 3), padding=-1),
    "non-positive dilation": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8), x_(t, 6, 4, 3, 3),
                                                      dilation=0),
    "non-positive groups": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8), x_(t, 6, 4, 3, 3),
                                                    groups=0),
    "channel mismatch": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8), x_(t, 6, 2, 3, 3)),
    "channels-last input": lambda t, n, f: f.conv2d(x_(t, 2, 8, 8, 3), x_(t, 4, 3, 3, 3)),
    "weight not divisible by groups": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8),
                                                               x_(t, 6, 1, 3, 3), groups=4),
    "weight smaller than groups": lambda t, n, f: f.conv2d(x_(t, 2, 8, 8, 8),
                                                           x_(t, 4, 1, 3, 3), groups=8),
    "bias size": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8), x_(t, 6, 4, 3, 3), x_(t, 5)),
    "bias 2-D": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8), x_(t, 6, 4, 3, 3), x_(t, 6, 1)),
    "kernel larger than input": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8), x_(t, 6, 4, 3, 3),
                                                         dilation=4),
    "kernel larger than zero-size input": lambda t, n, f: f.conv2d(
        x_(t, 2, 4, 0, 8), x_(t, 6, 4, 3, 3)),
    "5-D input": lambda t, n, f: f.conv2d(x_(t, 1, 1, 4, 8, 8), x_(t, 6, 1, 3, 3)),
    "2-D input": lambda t, n, f: f.conv2d(x_(t, 8, 8), x_(t, 6, 1, 3, 3)),
    "input/weight dtype": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8, dtype=t.float64),
                                                   x_(t, 6, 4, 3, 3)),
    "float input, double weight": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8),
                                                           x_(t, 6, 4, 3, 3, dtype=t.float64)),
    "input/bias dtype": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8, dtype=t.float64),
                                                 x_(t, 6, 4, 3, 3), x_(t, 6)),
    "integer input to a float layer": lambda t, n, f: n.Conv2d(4, 6, 3)(
        x_(t, 2, 4, 8, 8, dtype=t.int64)),
    "same with stride": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8), x_(t, 6, 4, 3, 3),
                                                 padding="same", stride=2),
    "unknown padding string": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8), x_(t, 6, 4, 3, 3),
                                                       padding="SAME"),
    "stride of 3 values": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8), x_(t, 6, 4, 3, 3),
                                                   stride=(1, 1, 1)),
    "float stride": lambda t, n, f: f.conv2d(x_(t, 2, 4, 8, 8), x_(t, 6, 4, 3, 3), stride=1.5),
    "module groups 0": lambda t, n, f: n.Conv2d(4, 6, 3, groups=0),
    "module in_channels % groups": lambda t, n, f: n.Conv2d(3, 6, 3, groups=2),
    "module out_channels % groups": lambda t, n, f: n.Conv2d(4, 6, 3, groups=4),
    "module padding string": lambda t, n, f: n.Conv2d(4, 6, 3, padding="foo"),
    "module same with stride": lambda t, n, f: n.Conv2d(4, 6, 3, padding="same", stride=2),
    "module padding_mode": lambda t, n, f: n.Conv2d(4, 6, 3, padding_mode="zero"),
    "module channel mismatch": lambda t, n, f: n.Conv2d(3, 6, 3)(x_(t, 2, 4, 8, 8)),
    "module stride 0": lambda t, n, f: n.Conv2d(4, 6, 3, stride=0)(x_(t, 2, 4, 8, 8)),
    "module negative padding": lambda t, n, f: n.Conv2d(4, 6, 3, padding=-1)(x_(t, 2, 4, 8, 8)),
    "reflect padding too large": lambda t, n, f: n.Conv2d(4, 6, 3, padding=8,
                                                          padding_mode="reflect")(
        x_(t, 2, 4, 8, 8)),
    "circular padding too large": lambda t, n, f: n.Conv2d(4, 6, 3, padding=9,
                                                           padding_mode="circular")(
        x_(t, 2, 4, 8, 8)),
    "pad odd length": lambda t, n, f: f.pad(x_(t, 2, 4, 8, 8), (1, 1, 1)),
    "pad too long": lambda t, n, f: f.pad(x_(t, 2, 4), (1,) * 6),
    "pad unknown mode": lambda t, n, f: f.pad(x_(t, 2, 4, 8, 8), (1, 1), mode="foo"),
    "pad reflect on too many dims": lambda t, n, f: f.pad(x_(t, 8, 8), (2, 2, 2, 2),
                                                          mode="reflect"),
    "pad reflect value": lambda t, n, f: f.pad(x_(t, 2, 4, 8, 8), (2, 2), mode="reflect",
                                               value=1.0),
    "pad reflect too large": lambda t, n, f: f.pad(x_(t, 2, 4, 8, 8), (1, 1, 8, 8),
                                                   mode="reflect"),
    "pad circular too large": lambda t, n, f: f.pad(x_(t, 2, 4, 8, 8), (9, 9, 1, 1),
                                                    mode="circular"),
}


def xs(lib, nd, n=2, c=4, size=8, dtype=None):
    """An (n, c, size, ..., size) input of nd spatial axes."""
    return x_(lib, n, c, *(size,) * nd, dtype=dtype)


def ws(lib, nd, o=6, c=4, k=3, dtype=None):
    """An (o, c, k, ..., k) weight of nd spatial axes."""
    return x_(lib, o, c, *(k,) * nd, dtype=dtype)


def fconv(f, nd):
    return getattr(f, f"conv{nd}d")


def mconv(n, nd):
    return getattr(n, f"Conv{nd}d")


# every case runs for conv1d, conv2d and conv3d (F.conv*d, nn.Conv*d): (t, n, f, nd) -> run
ND_CASES = {
    "non-positive stride": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), stride=0),
    "negative stride": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), stride=-1),
    "negative padding": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), padding=-1),
    "zero dilation": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), dilation=0),
    "negative dilation": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), dilation=-1),
    "zero dilation on the last axis": lambda t, n, f, nd: fconv(f, nd)(
        xs(t, nd), ws(t, nd), dilation=(1,) * (nd - 1) + (0,)),
    "non-positive groups": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), groups=0),
    "groups before stride": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), groups=0,
                                                             stride=0),
    "padding before stride": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), padding=-1,
                                                              stride=0),
    "channel mismatch": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd, c=2)),
    "unbatched channel mismatch": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd)[0, :3], ws(t, nd)),
    "channels-last input": lambda t, n, f, nd: fconv(f, nd)(
        x_(t, 2, *(8,) * nd, 3), ws(t, nd, o=4, c=3)),
    "weight not divisible by groups": lambda t, n, f, nd: fconv(f, nd)(
        xs(t, nd), ws(t, nd, c=1), groups=4),
    "weight smaller than groups": lambda t, n, f, nd: fconv(f, nd)(
        xs(t, nd, c=8), ws(t, nd, o=4, c=1), groups=8),
    "no output channels": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd, o=0)),
    "bias size": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), x_(t, 5)),
    "bias 2-D": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), x_(t, 6, 1)),
    "bias 0-D": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), t.ones(())),
    "kernel larger than input": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd),
                                                                 dilation=4),
    "kernel larger than unbatched input": lambda t, n, f, nd: fconv(f, nd)(
        xs(t, nd)[0], ws(t, nd), dilation=5),
    "kernel larger than zero-size input": lambda t, n, f, nd: fconv(f, nd)(
        xs(t, nd, size=0), ws(t, nd)),
    "kernel larger than empty batch": lambda t, n, f, nd: fconv(f, nd)(
        xs(t, nd, n=0), ws(t, nd), dilation=5),
    "zero-size kernel": lambda t, n, f, nd: fconv(f, nd)(
        xs(t, nd, dtype=t.float64), ws(t, nd, k=0, dtype=t.float64)),
    "zero-size kernel on one axis": lambda t, n, f, nd: fconv(f, nd)(
        xs(t, nd, dtype=t.float64), x_(t, 6, 4, *(3,) * (nd - 1), 0, dtype=t.float64)),
    "zero-size kernel, float32": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd, k=0)),
    "input of too many dims": lambda t, n, f, nd: fconv(f, nd)(x_(t, 1, 1, 4, *(8,) * nd),
                                                               ws(t, nd, c=1)),
    "input of too few dims": lambda t, n, f, nd: fconv(f, nd)(x_(t, *(8,) * nd), ws(t, nd)),
    "weight of 2 dims": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), x_(t, 6, 4)),
    "weight of one more dim": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd + 1)),
    "weight of one more dim, same": lambda t, n, f, nd: fconv(f, nd)(
        xs(t, nd), ws(t, nd + 1), padding="same"),
    "input/weight dtype": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd, dtype=t.float64),
                                                           ws(t, nd)),
    "float input, double weight": lambda t, n, f, nd: fconv(f, nd)(
        xs(t, nd), ws(t, nd, dtype=t.float64)),
    "input/bias dtype": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd, dtype=t.float64),
                                                         ws(t, nd, dtype=t.float64), x_(t, 6)),
    "bool input": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd, dtype=t.bool),
                                                   ws(t, nd, dtype=t.bool)),
    "same with stride": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), padding="same",
                                                         stride=2),
    "same with a stride of too many values": lambda t, n, f, nd: fconv(f, nd)(
        xs(t, nd), ws(t, nd), padding="same", stride=(1,) * (nd + 1)),
    "unknown padding string": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd),
                                                               padding="SAME"),
    "stride of too many values": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd),
                                                                  stride=(1,) * (nd + 1)),
    "empty stride": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), stride=()),
    "padding of too many values": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd),
                                                                   padding=(1,) * (nd + 1)),
    "dilation of too many values": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd),
                                                                    dilation=(1,) * (nd + 1)),
    "float stride": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), stride=1.5),
    "bool stride": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), stride=True),
    "bool in a stride tuple": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd),
                                                               stride=(True,) * nd),
    "numpy bool stride": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd),
                                                          stride=np.bool_(True)),
    "float padding": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), padding=1.5),
    "bool padding": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), padding=True),
    "array padding": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd),
                                                      padding=np.ones(nd, int)),
    "float groups": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), groups=1.0),
    "bool groups": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), groups=True),
    "None stride": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), stride=None),
    "array input": lambda t, n, f, nd: fconv(f, nd)(np.ones((2, 4, *(8,) * nd)), ws(t, nd)),
    "list bias": lambda t, n, f, nd: fconv(f, nd)(xs(t, nd), ws(t, nd), [1.0] * 6),
}
# layers of every ndim: name -> (build(t, n, nd) -> layer, input(t, nd) or None: build only)
MODULE_CASES = {
    "groups 0": (lambda t, n, nd: mconv(n, nd)(4, 6, 3, groups=0), None),
    "negative groups": (lambda t, n, nd: mconv(n, nd)(4, 6, 3, groups=-2), None),
    "in_channels % groups": (lambda t, n, nd: mconv(n, nd)(3, 6, 3, groups=2), None),
    "out_channels % groups": (lambda t, n, nd: mconv(n, nd)(4, 6, 3, groups=4), None),
    "padding string": (lambda t, n, nd: mconv(n, nd)(4, 6, 3, padding="foo"), None),
    "same with stride": (lambda t, n, nd: mconv(n, nd)(4, 6, 3, padding="same", stride=2), None),
    "padding_mode": (lambda t, n, nd: mconv(n, nd)(4, 6, 3, padding_mode="zero"), None),
    "float groups": (lambda t, n, nd: mconv(n, nd)(4, 4, 3, groups=2.0), None),
    "float kernel_size": (lambda t, n, nd: mconv(n, nd)(4, 4, 2.5), None),
    "string kernel_size": (lambda t, n, nd: mconv(n, nd)(4, 4, "3"), None),
    "negative kernel_size": (lambda t, n, nd: mconv(n, nd)(4, 4, -1), None),
    "negative kernel_size on one axis": (
        lambda t, n, nd: mconv(n, nd)(4, 4, (3,) * (nd - 1) + (-2,)), None),
    "negative in_channels": (lambda t, n, nd: mconv(n, nd)(-1, 4, 3), None),
    "channel mismatch": (lambda t, n, nd: mconv(n, nd)(3, 6, 3), xs),
    "stride 0": (lambda t, n, nd: mconv(n, nd)(4, 6, 3, stride=0), xs),
    "negative stride": (lambda t, n, nd: mconv(n, nd)(4, 6, 3, stride=-1), xs),
    "negative padding": (lambda t, n, nd: mconv(n, nd)(4, 6, 3, padding=-1), xs),
    "dilation 0": (lambda t, n, nd: mconv(n, nd)(4, 6, 3, dilation=0), xs),
    "zero kernel_size": (lambda t, n, nd: mconv(n, nd)(4, 6, 0, dtype=t.float64),
                         lambda t, nd: xs(t, nd, dtype=t.float64)),
    "zero kernel_size on one axis": (
        lambda t, n, nd: mconv(n, nd)(4, 6, (0,) + (3,) * (nd - 1), dtype=t.float64),
        lambda t, nd: xs(t, nd, dtype=t.float64)),
    "zero kernel_size, float32": (lambda t, n, nd: mconv(n, nd)(4, 6, 0), xs),
    "no output channels": (lambda t, n, nd: mconv(n, nd)(4, 0, 3), xs),
    "kernel_size of too many values": (lambda t, n, nd: mconv(n, nd)(4, 6, (3,) * (nd + 1)), xs),
    "bool stride": (lambda t, n, nd: mconv(n, nd)(4, 6, 3, stride=True), xs),
    "bool padding": (lambda t, n, nd: mconv(n, nd)(4, 6, 3, padding=True), xs),
    "reflect padding too large": (
        lambda t, n, nd: mconv(n, nd)(4, 6, 3, padding=8, padding_mode="reflect"), xs),
}
# cases whose messages differ from torch's on purpose: torch's float32 path names a oneDNN
# primitive ("could not create a primitive descriptor..."); npconv gives float64's wording
OWN_WORDING = {"zero-size kernel, float32", "zero kernel_size, float32"}


def _message_start(text: str) -> str:
    """The wording before the numbers torch fills in: our message must begin the same way."""
    first = text.split("\n")[0]
    return re.split(r"[\d\[\(']", first, maxsplit=1)[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_exception_as_torch(name):
    ours, theirs = _both(CASES[name])
    assert theirs is not None, f"torch accepts {name}"
    assert ours is not None, f"npconv accepted {name}; torch raised {theirs!r}"
    assert type(ours) is type(theirs), f"{name}: {type(ours).__name__} vs {theirs!r}"
    if not isinstance(theirs, TypeError):  # torch's TypeErrors come from its arg parser
        assert str(ours).startswith(_message_start(str(theirs))), (str(ours), str(theirs))


def _same_error(ours, theirs, name):
    assert theirs is not None, f"torch accepts {name}"
    assert ours is not None, f"npconv accepted {name}; torch raised {theirs!r}"
    assert type(ours) is type(theirs), f"{name}: {type(ours).__name__} vs {theirs!r}"
    if not isinstance(theirs, TypeError) and name not in OWN_WORDING:
        # torch's TypeErrors come from its argument parser; ours start with its first words
        assert str(ours).startswith(_message_start(str(theirs))), (str(ours), str(theirs))


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("name", sorted(ND_CASES))
def test_same_exception_as_torch_for_every_ndim(name, nd):
    ours, theirs = _both(lambda t, n, f: ND_CASES[name](t, n, f, nd))
    _same_error(ours, theirs, name)
    if isinstance(theirs, TypeError):
        assert str(ours).startswith(f"conv{nd}d() received an invalid combination of "
                                    "arguments - got "), str(ours)


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op")
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("name", sorted(MODULE_CASES))
def test_module_errors_as_torch_at_construction_or_forward(name, nd):
    """A layer raises at construction what torch refuses there (groups, channels % groups, the
    padding string and mode, sizes no tensor can have), the rest when it runs, as torch: a
    zero-size kernel (issue 12 item 5: npconv's Conv2d(3, 4, 0) gave an output larger than its
    input), a non-positive stride or dilation, a negative padding."""
    build, make_input = MODULE_CASES[name]
    at_construction = _both(lambda t, n, f: build(t, n, nd))
    if make_input is None:
        _same_error(*at_construction, name)
    else:
        assert at_construction == [None, None], f"{name}: construction raised {at_construction}"
        _same_error(*_both(lambda t, n, f: build(t, n, nd)(make_input(t, nd))), name)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_torch_accepts_numpy_integers_and_true_and_so_do_we(nd, close):
    """Issue 12 item 5: numpy integers as kernel_size, stride, padding, dilation and groups, in
    the functional and the module (kept as given, as torch's repr shows), and True as a
    kernel size (1), which torch's module takes; the same outputs as torch."""
    i = np.int64
    x = np.random.default_rng(0).standard_normal((2, 4, *(9,) * nd)).astype(np.float32)
    for kw in (dict(kernel_size=i(3), stride=i(2), padding=i(1), dilation=i(2), groups=i(2)),
               dict(kernel_size=(i(3),) * nd, stride=(i(2),) * nd, padding=[i(1)] * nd),
               dict(kernel_size=True), dict(kernel_size=(True,) * nd, stride=np.int32(2))):
        ours, ref = mconv(nn, nd)(4, 6, **kw), mconv(torch.nn, nd)(4, 6, **kw)
        assert repr(ours) == repr(ref)
        ours.weight = nn.Parameter(npconv.tensor(ref.weight.detach().numpy()))
        ours.bias = nn.Parameter(npconv.tensor(ref.bias.detach().numpy()))
        close(ours(npconv.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(),
              "float32", str(kw))
        args = {k: v for k, v in kw.items() if k != "kernel_size"}
        ty = fconv(torch.nn.functional, nd)(torch.tensor(x), ref.weight, ref.bias, **args)
        y = fconv(F, nd)(npconv.tensor(x), ours.weight, ours.bias, **args)
        close(y.detach().numpy(), ty.detach().numpy(), "float32", f"F {kw}")


def test_module_negative_padding_in_a_padding_mode_crops_as_torch():
    """padding_mode other than zeros pads with F.pad first, where a negative value crops, so
    torch accepts it there (only zeros refuses it)."""
    x = np.random.default_rng(0).standard_normal((2, 4, 8, 8)).astype(np.float32)
    ours = nn.Conv2d(4, 3, 3, padding=(-1, 1), padding_mode="reflect")
    ref = torch.nn.Conv2d(4, 3, 3, padding=(-1, 1), padding_mode="reflect")
    ours.load_state_dict({k: npconv.tensor(v.detach().numpy()) for k, v in
                          ref.state_dict().items()})
    np.testing.assert_allclose(ours(npconv.tensor(x)).detach().numpy(),
                               ref(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_channel_mismatch_message_names_the_numbers_and_hints():
    with pytest.raises(RuntimeError) as info:
        F.conv2d(npconv.ones(2, 8, 8, 3), npconv.ones(4, 3, 3, 3))
    text = str(info.value)
    assert text.startswith("Given groups=1, weight of size [4, 3, 3, 3], expected "
                           "input[2, 8, 8, 3] to have 3 channels, but got 8 channels instead")
    assert "permute(0, 3, 1, 2)" in text


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_nd_messages_equal_torch_where_torch_names_the_numbers(nd):
    for name in ("channel mismatch", "unbatched channel mismatch", "bias size", "bias 0-D",
                 "kernel larger than input", "input of too many dims", "weight of one more dim",
                 "weight of one more dim, same", "weight not divisible by groups",
                 "no output channels", "zero-size kernel", "stride of too many values"):
        ours, theirs = _both(lambda t, n, f: ND_CASES[name](t, n, f, nd))
        assert str(ours).startswith(str(theirs).split("\n")[0]), (str(ours), str(theirs))


def test_messages_equal_torch_where_torch_names_the_numbers():
    for name in ("channel mismatch", "bias size", "kernel larger than input", "5-D input",
                 "weight not divisible by groups"):
        ours, theirs = _both(CASES[name])
        assert str(ours).startswith(str(theirs).split("\n")[0]), (str(ours), str(theirs))


def test_valid_accepts_what_torch_accepts():
    """Things that look odd but that torch allows: padding=(1,) and lists, 'valid' with stride."""
    x, w = npconv.ones(2, 4, 8, 8), npconv.ones(6, 4, 3, 3)
    assert F.conv2d(x, w, padding=(1,)).shape == (2, 6, 8, 8)
    assert F.conv2d(x, w, padding=[1, 2]).shape == (2, 6, 8, 10)
    assert F.conv2d(x, w, padding="valid", stride=2).shape == (2, 6, 3, 3)
    assert np.isfinite(F.pad(x, (-1, -1, 1, 1), mode="circular").numpy()).all()
