"""2-d conv computed directly, one kernel tap at a time, for depthwise convs (C/g = 1).

There im2col's GEMMs are tiny (per group (O/g, KH*KW) @ (KH*KW, n*P)) and the column copies
dominate. Instead, with k < O/g and c < C/g indexing within each group, every tap (c, i, j) is
a couple of array ops over a whole tile (its groups, items and pixels at once):

    forward          y[:, k] += w[k, c, i, j] * x_pad[:, c, oh*sh + i*dh, ow*sw + j*dw]
    backward_data    gx_pad[:, c, oh*sh + i*dh, ow*sw + j*dw] += w[k, c, i, j] * gy[:, k]
    backward_weight  gw[k, c, i, j] = sum over n, oh, ow of gy[:, k] * x_pad[:, c, ...same...]

Layout (see _Grid): a channel's zero-padded planes, for all items of a tile, are one flat row
per stride phase (phase (a, b) holds x_pad[a::sh, b::sw]), so that a tap's window is a plain
slice of one phase row. numpy then runs each op as one long contiguous loop per channel instead
of one short strided loop per output row (64x64x14 forward, untiled: 2.3 ms vs 5.3 ms with 2-D
strided windows; with stride 2: 1.1 ms with phases, 2.8 ms with strided windows, im2col 1.6).
The ops cover every cell of the phase grid; cells past OH/OW read the next row or plane and are
cropped (forward) or carry zero gradient (backward), so a non-finite x can also turn gw to nan
through them.

The batch and the groups are cut into tiles whose buffers stay under TILE_BUDGET bytes, in
cache (32x32x56 forward: 7.8 ms with 2 MB, 8.1 with 0.5 MB, 10.9 untiled). float16 is computed
in float32. Any C/g and O/g work, but the cost grows with their product: with a channel
multiplier O/g of 4, im2col's GEMM was faster everywhere measured.
"""
from __future__ import annotations

from npconv._backend import xp
from npconv.kernels._common import chunks, compute_dtype

TILE_BUDGET = 2 * 2**20
SUPPORTED = "2-d convs only (its phase grid is laid out for two spatial axes)"


def supports(spec) -> bool:
    """See SUPPORTED."""
    return spec.ndim == 2


def forward(x, w, spec):
    """y = conv2d(x, w) without bias; x (N, C, H, W), w (O, C/g, KH, KW) -> (N, O, OH, OW).
    The first tap multiplies straight into the accumulator, each further one adds a product."""
    grid, ct = _Grid(spec, x.shape, w.shape), compute_dtype(x.dtype)
    weights = grid.tap_weights(w, ct)
    y = xp.empty((x.shape[0], w.shape[0], *grid.out), dtype=x.dtype)
    for items, cin, cout, groups in grid.tiles(ct):
        xg = grid.to_phases(x[items, cin], ct)
        acc = xp.empty((xg.shape[0], grid.m, grid.length(xg)), dtype=ct)
        tmp = xp.empty_like(acc)
        for t, (c, i, j, window) in enumerate(grid.windows(xg)):
            xp.multiply(window[:, None], weights[groups, :, c, i, j, None], out=tmp if t else acc)
            if t:
                acc += tmp
        grid.from_cells(acc, y[items, cout])
    return y


def backward_data(gy, w, spec, x_shape):
    """gx = the adjoint of forward: each tap adds w * gy into its window of the padded gradient,
    which is then cropped to x_shape."""
    grid, ct = _Grid(spec, x_shape, w.shape), compute_dtype(gy.dtype)
    weights = grid.tap_weights(w, ct)
    gx = xp.empty(x_shape, dtype=gy.dtype)
    for items, cin, cout, groups in grid.tiles(ct):
        gyg = grid.to_cells(gy[items, cout], ct)
        gxg = grid.zero_phases(gyg, ct)
        tmp = xp.empty_like(gyg[:, 0])
        for c, i, j, window in grid.windows(gxg):
            for k in range(grid.m):
                xp.multiply(gyg[:, k], weights[groups, k, c, i, j, None], out=tmp)
                window += tmp
        grid.from_phases(gxg, gx[items, cin])
    return gx


def backward_weight(gy, x, spec, w_shape):
    """gw[:, k, c, i, j] = gy[:, k] . window(c, i, j) per group: one batched matrix-vector
    product per tap (faster than einsum or (a*b).sum: 1.5 vs 2.0 vs 3.8 ms on 64x64x14)."""
    grid, ct = _Grid(spec, x.shape, w_shape), compute_dtype(x.dtype)
    gw = xp.zeros((spec.groups, grid.m, *w_shape[1:]), dtype=ct)
    for items, cin, cout, groups in grid.tiles(ct):
        xg = grid.to_phases(x[items, cin], ct)
        gyg = grid.to_cells(gy[items, cout], ct)
        for c, i, j, window in grid.windows(xg):
            gw[groups, :, c, i, j] += xp.matmul(gyg, window[..., None])[..., 0]
    return gw.astype(gy.dtype, copy=False).reshape(w_shape)


class _Grid:
    """Where every pixel of a tile lives.

    Inputs: (g, C/g, sh*sw phases, b*rows*cols + tail). Padded pixel (n, R, S) is at phase
    (R % sh, S % sw), flat index (n*rows + R//sh)*cols + S//sw, with rows = ceil(Hp/sh) and
    cols = ceil(Wp/sw); the tail of zeros lets the last cells' windows run past the last plane.
    Outputs and output gradients: (g, O/g, b*rows*cols), output (n, oh, ow) at the flat index
    (n*rows + oh)*cols + ow. Tap (i, j) then reads, for every cell, the phase
    (i*dh % sh, j*dw % sw) at the cell's index plus (i*dh//sh)*cols + j*dw//sw.
    """

    def __init__(self, spec, x_shape, w_shape):
        self.n, self.size = x_shape[0], tuple(x_shape[2:])
        o, self.cg, *self.kernel = w_shape
        self.g, self.m = spec.groups, o // spec.groups
        self.stride, self.dilation = spec.stride, spec.dilation
        self.out = spec.conv_output_size(self.size)
        (hp, wp), (sh, sw) = spec.padded_size(self.size), self.stride
        self.rows, self.cols = -(-hp // sh), -(-wp // sw)
        self.plane = self.rows * self.cols
        (dh, dw), (kh, kw) = self.dilation, self.kernel
        self.tail = (kh - 1) * dh // sh * self.cols + (kw - 1) * dw // sw
        (top, _), (left, _) = spec.padding
        self.phases = [(a * sw + b, rows, cols)
                       for a, rows in enumerate(_phase_slices(self.size[0], top, sh))
                       for b, cols in enumerate(_phase_slices(self.size[1], left, sw))]

    def tiles(self, ct):
        """(items, in-channel, out-channel, group) slices of each tile: as many items as fit
        TILE_BUDGET with one group, then as many groups (an item-group holds C/g phase planes
        plus O/g + 1 output planes)."""
        planes = self.cg * len(self.phases) + self.m + 1
        per_item_group = planes * self.plane * xp.dtype(ct).itemsize
        step, item_chunks = chunks(self.n, per_item_group, TILE_BUDGET)
        _, group_chunks = chunks(self.g, step * per_item_group, TILE_BUDGET)
        for items in item_chunks:
            for gs in group_chunks:
                cin = slice(gs.start * self.cg, gs.stop * self.cg)
                cout = slice(gs.start * self.m, gs.stop * self.m)
                yield items, cin, cout, gs

    def tap_weights(self, w, ct):
        """(O, C/g, KH, KW) -> (g, O/g, C/g, KH, KW) in dtype ct."""
        return w.astype(ct, copy=False).reshape(self.g, self.m, self.cg, *self.kernel)

    def length(self, phases):
        """Cells per phase row: b*rows*cols."""
        return phases.shape[-1] - self.tail

    def windows(self, phases):
        """(c, i, j, window) per tap, window the (g, b*rows*cols) slice of the phase rows that
        tap (i, j) of in-group channel c reads for every cell."""
        (sh, sw), (dh, dw), (kh, kw) = self.stride, self.dilation, self.kernel
        for c in range(self.cg):
            for i in range(kh):
                for j in range(kw):
                    phase = i * dh % sh * sw + j * dw % sw
                    start = i * dh // sh * self.cols + j * dw // sw
                    yield c, i, j, phases[:, c, phase, start : start + self.length(phases)]

    def zero_phases(self, cells, ct):
        """Zero input phase rows for the items of cells (g, O/g, b*rows*cols)."""
        shape = (cells.shape[0], self.cg, len(self.phases), cells.shape[-1] + self.tail)
        return xp.zeros(shape, dtype=ct)

    def to_phases(self, x, ct):
        """x (b, C, H, W) of one tile -> its zero-padded phase rows."""
        b, c = x.shape[:2]
        phases = xp.zeros((c, len(self.phases), b * self.plane + self.tail), dtype=ct)
        planes = self._planes(phases, b)
        for p, (hs, rs), (ws, cs) in self.phases:
            planes[:, p, :, rs, cs] = x[:, :, hs, ws].transpose(1, 0, 2, 3)
        return phases.reshape(c // self.cg, self.cg, *phases.shape[1:])

    def from_phases(self, phases, out):
        """out (b, C, H, W) = the unpadded pixels of the phase rows (the adjoint of to_phases)."""
        planes = self._planes(phases.reshape(-1, *phases.shape[2:]), out.shape[0])
        for p, (hs, rs), (ws, cs) in self.phases:
            out[:, :, hs, ws] = planes[:, p, :, rs, cs].transpose(1, 0, 2, 3)

    def to_cells(self, gy, ct):
        """gy (b, O, OH, OW) of one tile -> (g, O/g, b*rows*cols), zero on cells past OH/OW."""
        b, o, oh, ow = gy.shape
        cells = xp.zeros((o // self.m, self.m, b * self.plane), dtype=ct)
        cells.reshape(o, b, self.rows, self.cols)[:, :, :oh, :ow] = gy.transpose(1, 0, 2, 3)
        return cells

    def from_cells(self, cells, out):
        """out (b, O, OH, OW) = the output cells of (g, O/g, b*rows*cols)."""
        b, o, oh, ow = out.shape
        out[...] = cells.reshape(o, b, self.rows, self.cols)[:, :, :oh, :ow].transpose(1, 0, 2, 3)

    def _planes(self, phases, b):
        """The (C, phases, b, rows, cols) view of (C, phases, b*rows*cols + tail) rows."""
        planes = phases[..., : b * self.plane]
        return planes.reshape(*phases.shape[:2], b, self.rows, self.cols)


def _phase_slices(size, pad, stride):
    """Per phase a < stride of one axis: (input indices, phase cells). Input index h sits at
    padded index h + pad, i.e. phase (h + pad) % stride, cell (h + pad) // stride."""
    out = []
    for a in range(stride):
        first = (a - pad) % stride
        cell = (first + pad) // stride
        count = len(range(first, size, stride))
        out.append((slice(first, None, stride), slice(cell, cell + count)))
    return out
