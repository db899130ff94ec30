"""Output sizes of conv, transposed conv and pooling layers, and texts that explain them.

The sizes are the layers' own (kernels.geometry's ConvSpec and PoolSpec); the refusals are
the nn.functional checks, so each error has torch's type and wording, then a hint.
"""
from __future__ import annotations

import math

from npconv.analysis._args import AXIS_NAMES, axes, by, check_length, form, sizes
from npconv.kernels.geometry import dilated_kernel
from npconv.nn.functional.conv import check_fits, check_window, conv_spec, transpose_geometry
from npconv.nn.functional.pooling import check_output_size, pool_spec
from npconv.nn.modules.conv import check_channels


def _conv(size, kernel_size, stride, padding, dilation, groups=1):
    """(ConvSpec, input sizes, scalar) of a conv, refused as F.conv*d refuses it."""
    n, scalar = axes(size, kernel_size, stride, padding, dilation)
    check_length("kernel_size", kernel_size, n)
    spec = conv_spec(n, kernel_size, stride, padding, dilation, groups)
    size = sizes("size", size, n)
    check_fits(spec, size)
    check_window(n, spec)
    return spec, size, scalar


def _transpose(size, kernel_size, stride, padding, output_padding, dilation, groups=1):
    n, scalar = axes(size, kernel_size, stride, padding, output_padding, dilation)
    check_length("kernel_size", kernel_size, n)
    size = sizes("size", size, n)
    spec = transpose_geometry(n, size, kernel_size, stride, padding, output_padding, dilation,
                              groups)
    return spec, size, scalar


def _pool(size, kernel_size, stride, padding, dilation, ceil_mode):
    """(PoolSpec, input sizes, scalar) of max pooling (nn.MaxPool*d), refused as torch's."""
    n, scalar = axes(size, kernel_size, stride, padding, dilation)
    fn = f"max_pool{n}d"
    spec = pool_spec(fn, kernel_size, stride, padding, dilation, ceil_mode)
    size = sizes("size", size, n)
    check_output_size(fn, spec, size)
    return spec, size, scalar


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """The spatial output size of nn.Conv*d (padding an int, a tuple, 'same' or 'valid'):
    o = floor((i + p_lo + p_hi - d(k - 1) - 1) / s) + 1 per axis. An int in gives an int."""
    spec, size, scalar = _conv(size, kernel_size, stride, padding, dilation)
    return form(spec.conv_output_size(size), scalar)


def conv_transpose_output_size(size, kernel_size, stride=1, padding=0, output_padding=0,
                               dilation=1):
    """The spatial output size of nn.ConvTranspose*d:
    o = (i - 1) s - 2p + d(k - 1) + 1 + output_padding per axis."""
    spec, size, scalar = _transpose(size, kernel_size, stride, padding, output_padding, dilation)
    return form(spec.transposed_output_size(size), scalar)


def pool_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The spatial output size of nn.MaxPool*d (nn.AvgPool*d's too, which has dilation 1):
    o = floor or ceil((i + 2p - d(k - 1) - 1) / s) + 1, in ceil_mode minus one when the last
    window would start in the right padding. stride defaults to kernel_size."""
    spec, size, scalar = _pool(size, kernel_size, stride, padding, dilation, ceil_mode)
    return form(spec.output_size(size), scalar)


def _ranges(values) -> str:
    """[0, 1, 2, 5] -> '0..2, 5..5'."""
    runs, i = [], 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        runs.append(f"{values[i]}..{values[j]}")
        i = j + 1
    return ", ".join(runs)


def _unread(size, out, spec, tail=True) -> list[str]:
    """Per axis, the input cells no window reads: (with tail) the last
    ((i + p_lo + p_hi - k') mod s) cells of the padded axis, after the last window, and any
    cells a stride larger than the dilation steps over between taps."""
    lines = []
    for name, i, o, k, s, (lo, hi), d in zip(AXIS_NAMES[spec.ndim], size, out,
                                            spec.kernel_size, spec.stride, spec.padding,
                                            spec.dilation):
        padded, kd = i + lo + hi, dilated_kernel(k, d)
        if tail:
            rest = (padded - kd) % s
            line = (f"  {name}: (i + p_lo + p_hi - d(k-1) - 1) mod s = ({i} + {lo} + {hi} - "
                    f"{d}*({k}-1) - 1) mod {s} = {rest} padded {name} after the last window")
            if rest:
                first, last = max(padded - rest - lo, 0), min(padded - 1 - lo, i - 1)
                line += f" (padded {name} {padded - rest}..{padded - 1}" + (
                    f" = input {name} {first}..{last})" if first <= last else ", padding only)")
            lines.append(line)
        read = {j * s + t * d - lo for j in range(o) for t in range(k)}
        never = [r for r in range(i) if r not in read]
        lines.append(f"  input {name} {_ranges(never)} (of 0..{i - 1}) are never read" if never
                     else f"  all input {name} 0..{i - 1} are read")
    return lines


def _header(kind, size, spec, extra=""):
    pads = " x ".join(f"({lo}, {hi})" for lo, hi in spec.padding)
    return (f"{kind} on input {by(size)}: kernel {by(spec.kernel_size)}, stride "
            f"{by(spec.stride)}, padding (lo, hi) {pads}, dilation {by(spec.dilation)}{extra}")


def explain_conv(size, kernel_size, stride=1, padding=0, dilation=1, in_channels=1,
                 out_channels=1, groups=1, bias=True) -> str:
    """A text that puts the numbers into each formula of nn.Conv*d: output size per axis,
    parameters, MACs per image, and the input cells no window reads."""
    check_channels(in_channels, out_channels, groups)
    spec, size, _ = _conv(size, kernel_size, stride, padding, dilation, groups)
    out, names = spec.conv_output_size(size), AXIS_NAMES[spec.ndim]
    lines = [_header(f"Conv{spec.ndim}d({in_channels}, {out_channels}, groups={groups}, "
                     f"bias={bool(bias)})", size, spec),
             "output size per axis: o = floor((i + p_lo + p_hi - d(k-1) - 1) / s) + 1"]
    for name, i, o, k, s, (lo, hi), d in zip(names, size, out, spec.kernel_size, spec.stride,
                                            spec.padding, spec.dilation):
        num = i + lo + hi - dilated_kernel(k, d)
        lines.append(f"  {name}: floor(({i} + {lo} + {hi} - {d}*({k}-1) - 1) / {s}) + 1 = "
                     f"floor({num} / {s}) + 1 = {o}")
    lines.append(f"output: {out_channels} x {by(out)}")
    per_group, taps = in_channels // groups, math.prod(spec.kernel_size)
    params = out_channels * per_group * taps + (out_channels if bias else 0)
    lines.append(f"parameters = out * (in/groups) * prod(k) + bias = {out_channels} * "
                 f"({in_channels}/{groups}) * {taps} + {out_channels if bias else 0} = {params}")
    cells = math.prod(out)
    lines.append(f"MACs per image = out * prod(out spatial) * (in/groups) * prod(k) = "
                 f"{out_channels} * {cells} * {per_group} * {taps} = "
                 f"{out_channels * cells * per_group * taps} (bias additions not counted; "
                 "FLOPs = 2 x MACs)")
    lines.append("never read:")
    return "\n".join(lines + _unread(size, out, spec))


def explain_pool(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> str:
    """A text that puts the numbers into nn.MaxPool*d's output-size formula (with ceil_mode)
    and names the input cells no window reads."""
    spec, size, _ = _pool(size, kernel_size, stride, padding, dilation, ceil_mode)
    out, names = spec.output_size(size), AXIS_NAMES[spec.ndim]
    rule = ("ceil((i + 2p - d(k-1) - 1) / s) + 1, minus 1 if (o - 1) s >= i + p (the last "
            "window must start inside the input or the left padding)" if ceil_mode else
            "floor((i + 2p - d(k-1) - 1) / s) + 1")
    lines = [_header(f"MaxPool{spec.ndim}d", size, spec, f", ceil_mode={ceil_mode}"),
             f"output size per axis: o = {rule}"]
    for name, i, o, k, s, (p, _), d in zip(names, size, out, spec.kernel_size, spec.stride,
                                          spec.padding, spec.dilation):
        num = i + 2 * p - dilated_kernel(k, d)
        if ceil_mode:
            first = -(-num // s) + 1
            drop = f"; ({first} - 1)*{s} = {(first - 1) * s} >= {i} + {p}: minus 1 = {o}" \
                if first != o else ""
            lines.append(f"  {name}: ceil(({i} + 2*{p} - {d}*({k}-1) - 1) / {s}) + 1 = "
                         f"ceil({num} / {s}) + 1 = {first}{drop}")
        else:
            lines.append(f"  {name}: floor(({i} + 2*{p} - {d}*({k}-1) - 1) / {s}) + 1 = "
                         f"floor({num} / {s}) + 1 = {o}")
    lines += [f"output: {by(out)} per channel (no parameters)", "never read:"]
    return "\n".join(lines + _unread(size, out, spec, tail=not ceil_mode))


def explain_transpose(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1,
                      in_channels=1, out_channels=1, groups=1, bias=True) -> str:
    """A text that puts the numbers into nn.ConvTranspose*d's formulas: output size per axis
    and the sizes output_padding can reach, parameters, and MACs per image (counted on the
    input's spatial size: every input cell scatters one kernel)."""
    check_channels(in_channels, out_channels, groups)
    spec, size, _ = _transpose(size, kernel_size, stride, padding, output_padding, dilation,
                               groups)
    out, names = spec.transposed_output_size(size), AXIS_NAMES[spec.ndim]
    lines = [_header(f"ConvTranspose{spec.ndim}d({in_channels}, {out_channels}, groups={groups}"
                     f", bias={bool(bias)})", size, spec,
                     f", output_padding {by(spec.output_padding)}"),
             "output size per axis: o = (i - 1) s - p_lo - p_hi + d(k-1) + 1 + output_padding"]
    for name, i, o, k, s, (lo, hi), d, op in zip(names, size, out, spec.kernel_size,
                                                spec.stride, spec.padding, spec.dilation,
                                                spec.output_padding):
        base = o - op
        reach = max(s, d)
        lines.append(f"  {name}: ({i} - 1)*{s} - {lo} - {hi} + {d}*({k}-1) + 1 + {op} = {o}; "
                     f"reachable: {base}..{base + reach - 1} with output_padding "
                     f"0..{reach - 1} (it must be smaller than stride or dilation); "
                     f"{base}..{base + s - 1} are the sizes the conv with these arguments maps "
                     f"back to {i}")
    lines.append(f"output: {out_channels} x {by(out)}")
    per_group, taps = out_channels // groups, math.prod(spec.kernel_size)
    params = in_channels * per_group * taps + (out_channels if bias else 0)
    lines.append(f"parameters = in * (out/groups) * prod(k) + bias = {in_channels} * "
                 f"({out_channels}/{groups}) * {taps} + {out_channels if bias else 0} = {params}")
    cells = math.prod(size)
    lines.append(f"MACs per image = in * prod(in spatial) * (out/groups) * prod(k) = "
                 f"{in_channels} * {cells} * {per_group} * {taps} = "
                 f"{in_channels * cells * per_group * taps} (counted on the input's spatial "
                 "size; bias additions not counted; FLOPs = 2 x MACs)")
    return "\n".join(lines)
