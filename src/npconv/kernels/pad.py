"""torch.nn.functional.pad on arrays, and its adjoint.

pads is in torch's order, last dimension first: (left, right, top, bottom, front, back, ...),
and pads the last len(pads)//2 dimensions. Preconditions (the caller raises torch's errors):
len(pads) is even and at most 2*x.ndim; mode is one of constant, reflect, replicate, circular;
for reflect every pad is < that dimension's size, for circular <= the size left after that
dimension's negative pads crop it, for replicate the dimension is not empty; a negative pad
crops (any mode) and must not crop more than the size.

constant writes x into a value-filled array. The other modes are index maps: output position
q of a padded axis reads one input position (_source_index), applied one axis at a time with
take(); the adjoint adds each output cell back onto the cell it was read from.
"""
from __future__ import annotations

from npconv._backend import xp


def pad(x, pads, mode="constant", value=0.0):
    """y = F.pad(x, pads, mode, value); negative pads crop."""
    if mode == "constant":
        out = xp.full(padded_shape(x.shape, pads), value, dtype=x.dtype)
        inner, outer = _overlap(x.shape, pads)
        out[outer] = x[inner]
        return out
    for axis, lo, hi in _axes(x.ndim, pads):
        x = xp.take(x, _source_index(x.shape[axis], lo, hi, mode), axis=axis)
    return x


def pad_backward(gy, pads, mode, x_shape):
    """gx = adjoint of pad: the cells of gy read from x (constant) or summed onto the x cell
    each was copied from (reflect/replicate/circular), undoing the axes in reverse order."""
    if mode == "constant":
        gx = xp.zeros(x_shape, dtype=gy.dtype)
        inner, outer = _overlap(x_shape, pads)
        gx[inner] = gy[outer]
        return gx
    for axis, lo, hi in reversed(_axes(len(x_shape), pads)):
        gy = _fold_axis(gy, axis, x_shape[axis], lo, hi, mode)
    return gy


def padded_shape(shape, pads):
    """Shape after padding: n + lo + hi on each padded axis."""
    out = list(shape)
    for axis, lo, hi in _axes(len(shape), pads):
        out[axis] += lo + hi
    return tuple(out)


def _axes(ndim, pads):
    """(axis, lo, hi) per padded axis, pads being last-axis-first pairs."""
    return [(ndim - 1 - i, pads[2 * i], pads[2 * i + 1]) for i in range(len(pads) // 2)]


def _overlap(x_shape, pads):
    """(x index, padded index) of the cells constant padding keeps: on each axis x[max(0, -lo) :
    n - max(0, -hi)] sits at max(0, lo) of the output (a negative pad crops)."""
    inner, outer = [slice(None)] * len(x_shape), [slice(None)] * len(x_shape)
    for axis, lo, hi in _axes(len(x_shape), pads):
        start, stop = max(0, -lo), x_shape[axis] - max(0, -hi)
        length = max(0, stop - start)
        inner[axis] = slice(start, start + length)
        outer[axis] = slice(max(0, lo), max(0, lo) + length)
    return tuple(inner), tuple(outer)


def _source_index(n, lo, hi, mode):
    """Input position read by each output position q of one axis, p = q - lo:
    reflect mirrors at 0 and n-1 without repeating the edge, |(n-1) - |p - (n-1)||;
    replicate clamps p to [0, n-1]; circular wraps modulo the kept length m, as torch crops
    the negative pads first and then wraps what is left: c0 + (q - max(lo, 0)) mod m."""
    q = xp.arange(n + lo + hi)
    if mode == "circular":
        c0 = max(0, -lo)
        return c0 + (q - max(lo, 0)) % (n - c0 - max(0, -hi))
    if mode == "reflect":
        return xp.abs((n - 1) - xp.abs(q - lo - (n - 1)))
    return xp.clip(q - lo, 0, n - 1)


def _fold_axis(g, axis, n, lo, hi, mode):
    """Adjoint of padding one axis of size n: out[source(q)] += g[q]. The output positions
    q in [max(0, lo), min(len, lo + n)) copy x one-to-one (one slice assignment); only the pad
    cells, whose sources repeat, go through the unbuffered (slower) add.at."""
    index = _source_index(n, lo, hi, mode)
    out = xp.zeros(g.shape[:axis] + (n,) + g.shape[axis + 1 :], dtype=g.dtype)
    lead = (slice(None),) * axis
    q0, q1 = max(0, lo), min(len(index), lo + n)
    out[lead + (slice(q0 - lo, q1 - lo),)] = g[lead + (slice(q0, q1),)]
    rest = xp.concatenate([xp.arange(q0), xp.arange(q1, len(index))])
    if rest.size:
        xp.add.at(out, lead + (index[rest],), xp.take(g, rest, axis=axis))
    return out
