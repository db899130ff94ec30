"""3x3 stride-1 2-d convs by Winograd's minimal filtering F(4x4, 3x3) (Lavin & Gray 2016).

The padded input is cut into 6x6 tiles overlapping by 2 (stride 4); each tile d and each 3x3
filter g are transformed, multiplied element by element, and transformed back into a 4x4 tile of
the output:

    Y = A^T [ (G g G^T) * (B^T d B) ] A

The element-wise products, summed over input channels, are 36 independent GEMMs (one per tile
element, batched in one matmul): 36 * O * C multiplies per 16 outputs instead of the 9 * 16 * O * C
of a direct or im2col conv, 2.25x fewer. The transforms are small GEMMs (inner dimension 6) over
the tiles, memory-bound and linear in the input and output sizes.

    forward          y  = winograd(x, w)
    backward_data    gx = winograd(gy padded by 2 - p, w flipped with C and O swapped per group),
                     the full correlation that is the transposed conv at stride 1
    backward_weight  im2col's (kernels.conv_im2col): its GEMM already has the batch as inner
                     dimension, where Winograd's tile transforms would buy less

The batch is processed in chunks whose tiles stay under TILE_BUDGET bytes. float16 computes in
float32 (as torch's CPU conv accumulates), integer dtypes go to im2col (the transforms have
fractions, so the results would not be exact). The rounding error in float32 grows with the
transforms' entries (here up to 8 and 16/15) to several times im2col's;
tests/kernels/test_conv_winograd.py bounds it against float64.
"""
from __future__ import annotations

from npconv._backend import xp
from npconv.kernels import conv_im2col
from npconv.kernels._common import chunks, compute_dtype

TILE = 4          # output tile edge m of F(m x m, 3 x 3)
TILE_IN = TILE + 2  # input tile edge m + r - 1
TILE_BUDGET = 16 * 2**20
SUPPORTED = "2-d convs with a 3x3 kernel, stride 1, dilation 1 and padding <= 2 per side"

# F(4x4, 3x3) transform matrices by the Cook-Toom construction at the interpolation points
# 0, -1, 1, 1/2, -2 and infinity (A^T[i, j] = a_j^i, G[j, k] = a_j^k / prod_l (a_j - a_l), B^T
# solving A^T ((G g) * (B^T d)) = correlation(d, g)). Lavin & Gray's points 0, +-1, +-2 give the
# same exact algorithm with entries up to 8 and 1/24; these points (Barabasz et al. 2018 compare
# point choices) measured a 2.3x smaller worst float32 error over 30 random 256-channel tiles.
B_T = xp.array([[1, -3 / 2, -2, 3 / 2, 1, 0],
                [0, 1, -5 / 2, 1 / 2, 1, 0],
                [0, -1, 1 / 2, 5 / 2, 1, 0],
                [0, -2, -1, 2, 1, 0],
                [0, 1 / 2, -1, -1 / 2, 1, 0],
                [0, 1, -3 / 2, -2, 3 / 2, 1]], dtype=xp.float64)
G = xp.array([[1, 0, 0],
              [-1 / 3, 1 / 3, -1 / 3],
              [1 / 3, 1 / 3, 1 / 3],
              [-16 / 15, -8 / 15, -4 / 15],
              [1 / 15, -2 / 15, 4 / 15],
              [0, 0, 1]], dtype=xp.float64)
A_T = xp.array([[1, 1, 1, 1, 1, 0],
                [0, -1, 1, 1 / 2, -2, 0],
                [0, 1, 1, 1 / 4, 4, 0],
                [0, -1, 1, 1 / 8, -8, 1]], dtype=xp.float64)


def supports(spec) -> bool:
    """See SUPPORTED (a padding beyond 2 would make backward_data's padding negative)."""
    return (spec.ndim == 2 and spec.kernel_size == (3, 3) and spec.stride == (1, 1)
            and spec.dilation == (1, 1) and all(p <= 2 for pair in spec.padding for p in pair))


def forward(x, w, spec):
    """y = conv(x, w) without bias; x (N, C, H, W), w (O, C/g, 3, 3) -> (N, O, H', W')."""
    if x.dtype.kind not in "fc":
        return conv_im2col.forward(x, w, spec)
    return _winograd(x, w, spec.padding, spec.groups)


def backward_data(gy, w, spec, x_shape):
    """gx: the stride-1 transposed conv, a full correlation of gy with the flipped kernel."""
    if gy.dtype.kind not in "fc":
        return conv_im2col.backward_data(gy, w, spec, x_shape)
    g = spec.groups
    o, cg = w.shape[:2]
    flipped = w[:, :, ::-1, ::-1].reshape(g, o // g, cg, 3, 3).swapaxes(1, 2)
    padding = tuple((2 - lo, 2 - hi) for lo, hi in spec.padding)
    return _winograd(gy, flipped.reshape(g * cg, o // g, 3, 3), padding, g)


def backward_weight(gy, x, spec, w_shape):
    """im2col's (see the module docstring)."""
    return conv_im2col.backward_weight(gy, x, spec, w_shape)


def _winograd(x, w, padding, groups):
    """The valid 3x3 correlation of x zero-padded by ((top, bottom), (left, right))."""
    n, c, h, wd = x.shape
    o = w.shape[0]
    ct = compute_dtype(x.dtype)
    (top, bottom), (left, right) = padding
    out_h, out_w = h + top + bottom - 2, wd + left + right - 2
    th, tw = -(-out_h // TILE), -(-out_w // TILE)
    u = _filter_transform(w.astype(ct, copy=False), groups)
    y = xp.empty((n, o, out_h, out_w), dtype=x.dtype)
    per_item = 2 * TILE_IN ** 2 * (c + o) * th * tw * xp.dtype(ct).itemsize
    for sl in chunks(n, per_item, TILE_BUDGET)[1]:
        padded = xp.zeros((sl.stop - sl.start, c, th * TILE + 2, tw * TILE + 2), dtype=ct)
        padded[:, :, top:top + h, left:left + wd] = x[sl]
        v = _input_transform(padded, th, tw, groups)               # (36, g, C/g, P)
        m = xp.matmul(u, v)                                         # (36, g, O/g, P)
        y[sl] = _output_transform(m, o, sl.stop - sl.start, th, tw)[:, :, :out_h, :out_w]
    return y


def _filter_transform(w, groups):
    """U = G w G^T per filter as one GEMM, vec(G w G^T) = (G (x) G) vec(w), laid out
    (36, g, O/g, C/g) for the batched GEMM."""
    o, cg = w.shape[:2]
    u = xp.matmul(_kron(G, w.dtype), w.reshape(o * cg, 9).T)
    return u.reshape(TILE_IN ** 2, groups, o // groups, cg)


def _input_transform(padded, th, tw, groups):
    """V = B^T d B for every 6x6 tile d (stride 4) of every channel, as one GEMM with the
    Kronecker product: vec(B^T d B) = (B^T (x) B^T) vec(d). The tiles are gathered element-major,
    (36, C, P) with P = n * th * tw positions, which is also the layout the batched GEMM reads
    ((36, g, C/g, P): each group's slice an operand)."""
    n, c = padded.shape[:2]
    s = padded.strides
    tiles = xp.lib.stride_tricks.as_strided(
        padded, (TILE_IN, TILE_IN, c, n, th, tw),
        (s[2], s[3], s[1], s[0], TILE * s[2], TILE * s[3]), writeable=False)
    d = xp.ascontiguousarray(tiles).reshape(TILE_IN ** 2, -1)
    v = xp.matmul(_kron(B_T, padded.dtype), d)
    return v.reshape(TILE_IN ** 2, groups, c // groups, n * th * tw)


def _output_transform(m, o, n, th, tw):
    """y tiles A^T M A (one GEMM with A^T (x) A^T), assembled into (n, O, th * 4, tw * 4)."""
    y = xp.matmul(_kron(A_T, m.dtype), m.reshape(TILE_IN ** 2, -1))
    y = y.reshape(TILE, TILE, o, n, th, tw)
    return y.transpose(3, 2, 4, 0, 5, 1).reshape(n, o, th * TILE, tw * TILE)


def _kron(mat, dtype):
    """mat (x) mat in dtype: the 2-d transform X -> mat X mat^T on row-major vec(X)."""
    return xp.kron(mat, mat).astype(dtype)
