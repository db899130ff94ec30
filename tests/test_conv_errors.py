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


def test_channel_mismatch_message_names_the_numbers_and_hints():
    with pytest.raises(RuntimeError) as info:
        F.conv2d(npconv.ones(2, 8, 8, 3), npconv.ones(4, 3, 3, 3))
    text = str(info.value)
    assert text.startswith("Given groups=1, weight of size [4, 3, 3, 3], expected "
                           "input[2, 8, 8, 3] to have 3 channels, but got 8 channels instead")
    assert "permute(0, 3, 1, 2)" in text


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
