"""npconv.viz: the conv pictures (their frame model against torch's layers, and the pixels
read back with Pillow), filters, feature maps, receptive fields, the optional-dependency
error."""
import sys

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import npconv
from npconv import viz
from npconv.viz import conv as pictures
from npconv.viz.diagram import INPUT, OUTPUT_PADDING, PADDING, ZERO

Image = pytest.importorskip("PIL.Image")
ImageDraw = pytest.importorskip("PIL.ImageDraw")
rgb = pictures.COLORS


def _frames(path):
    """Every frame of a GIF as an RGB image."""
    with Image.open(path) as gif:
        frames = []
        for k in range(gif.n_frames):
            gif.seek(k)
            frames.append(gif.convert("RGB"))
        return frames


def _torch_layer(n, transposed, **args):
    cls = {(1, False): torch.nn.Conv1d, (2, False): torch.nn.Conv2d,
           (1, True): torch.nn.ConvTranspose1d, (2, True): torch.nn.ConvTranspose2d}[n, transposed]
    return cls(1, 1, bias=False, **args)


@st.composite
def conv_args(draw, transposed=False):
    """Arguments of a small 1-d or 2-d conv (or transposed conv) that fit."""
    n = draw(st.sampled_from([1, 2, 2]))
    axis = st.integers(1, 3)
    kernel = tuple(draw(axis) for _ in range(n))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(n))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(n))
    if transposed:
        padding = tuple(draw(st.integers(0, 2)) for _ in range(n))
        output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                               for s, d in zip(stride, dilation))
        size = tuple(draw(st.integers(1, 4)) for _ in range(n))
        assume(all((i - 1) * s - 2 * p + d * (k - 1) + 1 + op >= 1 for i, s, p, d, k, op
                   in zip(size, stride, padding, dilation, kernel, output_padding)))
        return dict(input_size=size, kernel_size=kernel, stride=stride, padding=padding,
                    dilation=dilation, transposed=True, output_padding=output_padding)
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(n))
    if draw(st.booleans()) and all(s == 1 for s in stride):
        padding = draw(st.sampled_from(["same", "valid"]))
    size = tuple(draw(st.integers(max(3, (d * (k - 1) + 1)), 6)) for k, d in zip(kernel, dilation))
    return dict(input_size=size, kernel_size=kernel, stride=stride, padding=padding,
                dilation=dilation, padding_mode=mode)


def _oracle(args, x, w):
    """torch's output for the diagram's arguments and values (x, w)."""
    n = len(args["input_size"])
    layer_args = {k: v for k, v in args.items() if k not in ("input_size", "transposed")}
    layer = _torch_layer(n, args.get("transposed", False), **layer_args).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w).reshape(layer.weight.shape))
        return layer(torch.from_numpy(x)[None, None]).numpy()[0, 0]


# ---- the frame model ------------------------------------------------------------------------
@settings(max_examples=40)
@given(args=st.one_of(conv_args(), conv_args(transposed=True)), seed=st.integers(0, 2**31 - 1))
def test_every_output_is_the_product_sum_of_the_cells_its_window_reads(args, seed, count_config):
    """Read the picture's cells and kernel taps: their product-sums are torch's outputs, so
    the grid (padding, sources, inserted zeros, output_padding), the windows and the flipped
    kernel are all the layer's."""
    x, w = viz.random_values(args["input_size"], args["kernel_size"], seed)
    d = viz.conv_diagram(**args, values=(x, w))
    expected = _oracle(args, x, w)
    assert tuple(d.output_size) == expected.shape
    got = np.array([d.product_sum(p)[1] for p in d.positions()]).reshape(expected.shape)
    np.testing.assert_allclose(got, expected, atol=1e-9)
    count_config("viz product-sums")


@settings(max_examples=25)
@given(conv_args())
def test_padded_cells_name_the_input_cell_torch_copies(args):
    """Each padding cell's source is what F.pad of an index array puts there, in every mode."""
    d = viz.conv_diagram(**args)
    size = args["input_size"]
    index = torch.arange(float(np.prod(size))).reshape(1, 1, *size)
    spec = d.layer.geometry
    mode = {"zeros": "constant"}.get(args["padding_mode"], args["padding_mode"])
    padded = torch.nn.functional.pad(index, spec.pad_widths, mode=mode,
                                     **({"value": -1.0} if mode == "constant" else {}))
    padded = padded.reshape(d.grid_shape).numpy()
    for cell in np.ndindex(d.grid_shape):
        src = d.sources[cell]
        flat = -1 if (src < 0).any() else np.ravel_multi_index(src[2 - len(size):], size)
        assert flat == padded[cell]
        if d.kinds[cell] == PADDING and mode != "constant":
            assert d.label(cell) == "(" + ",".join(map(str, src[2 - len(size):])) + ")"


def test_reflect_padding_labels_name_their_source():
    d = viz.conv_diagram(5, 3, padding=1, padding_mode="reflect")
    assert d.label((0, 0)) == "(1,1)"          # the corner copies input (1, 1)
    assert d.label((0, 2)) == "(1,1)" and d.label((2, 0)) == "(1,1)"
    assert d.label((0, 1)) == "(1,0)" and d.label((6, 6)) == "(3,3)"
    assert d.label((3, 3)) == ""                # an input cell, no values: blank
    circular = viz.conv_diagram((4,), 3, padding=1, padding_mode="circular")
    assert [circular.label((0, c)) for c in (0, 5)] == ["(3)", "(0)"]


def test_transposed_grid_has_stride_minus_one_zeros_between_inputs_and_output_padding():
    d = viz.conv_diagram(3, 3, stride=3, padding=1, transposed=True, output_padding=2)
    q = 1 * (3 - 1) - 1                          # zeros around: d(k-1) - p
    kinds = d.kinds
    assert kinds.shape == (q + 7 + q + 2,) * 2    # stretched (3-1)*3+1 = 7
    row = kinds[q]
    assert list(row[q:q + 7]) == [INPUT, ZERO, ZERO, INPUT, ZERO, ZERO, INPUT]
    assert list(row[:q]) == [PADDING] * q and list(row[q + 7:q + 7 + q]) == [PADDING] * q
    assert set(kinds[-2:].ravel()) == set(kinds[:, -2:].ravel()) == {OUTPUT_PADDING}
    assert d.output_size == (9, 9)                # (3-1)*3 - 2 + 2 + 1 + 2


def test_same_padding_of_an_even_kernel_puts_the_extra_cell_at_the_bottom_right():
    d = viz.conv_diagram((4, 5), (2, 4), padding="same")
    assert d.layer.geometry.padding == ((0, 1), (1, 2))
    assert list(d.kinds[:, 0]) == [PADDING] * 5 and list(d.kinds[0, 1:6]) == [INPUT] * 5
    assert list(d.kinds[-1]) == [PADDING] * 8 and d.output_size == (4, 5)


def test_caption_puts_the_numbers_into_the_formula():
    d = viz.conv_diagram(5, 3, stride=2, padding=1)
    assert "out = floor((5 + 2*1 - 1*(3-1) - 1)/2) + 1 = 3" in d.caption
    rows_cols = viz.conv_diagram((5, 8), 3, stride=(1, 2))
    assert "rows: out = floor((5 + 2*0 - 1*(3-1) - 1)/1) + 1 = 3" in rows_cols.caption
    assert "cols: out = floor((8 + 2*0 - 1*(3-1) - 1)/2) + 1 = 3" in rows_cols.caption
    t = viz.conv_diagram(3, 3, stride=2, padding=1, transposed=True, output_padding=1)
    assert "out = (3 - 1)*2 - 2*1 + 1*(3-1) + 1 + 1 = 6" in t.caption


@pytest.mark.parametrize("args", [
    dict(input_size=3, kernel_size=5),                                    # kernel too large
    dict(input_size=5, kernel_size=3, stride=2, padding="same"),          # strided same
    dict(input_size=5, kernel_size=3, padding=5, padding_mode="reflect"),  # reflect >= size
    dict(input_size=5, kernel_size=3, padding=-1),
    dict(input_size=5, kernel_size=3, padding_mode="mirror"),
    dict(input_size=5, kernel_size=3, stride=0),
    dict(input_size=5, kernel_size=3, padding="full"),
    dict(input_size=5, kernel_size=3, stride=2, transposed=True, output_padding=2),
    dict(input_size=5, kernel_size=3, transposed=True, padding_mode="reflect"),
    dict(input_size=2, kernel_size=1, padding=2, transposed=True),        # empty output
    dict(input_size=(5, 5), kernel_size=(3, 3, 3)),
])
def test_impossible_settings_raise_what_the_layer_raises(args, raised):
    n = len(args["input_size"]) if isinstance(args["input_size"], tuple) else 2
    layer_args = {k: v for k, v in args.items() if k not in ("input_size", "transposed")}

    def run_torch():
        _torch_layer(n, args.get("transposed", False), **layer_args)(
            torch.zeros(1, 1, *np.broadcast_to(args["input_size"], (n,))))
    expected = raised(run_torch)
    assert expected is not None
    got = raised(lambda: viz.conv_diagram(**args))
    assert type(got) is type(expected), (got, expected)


def test_pictures_leave_the_random_stream_alone():
    npconv.manual_seed(3)
    expected = npconv.rand(4).tolist()
    npconv.manual_seed(3)
    viz.conv_diagram(5, 3)
    assert npconv.rand(4).tolist() == expected


def test_bad_values_and_positions_say_what_was_expected():
    with pytest.raises(ValueError, match=r"kernel must have shape \(3, 3\)"):
        viz.conv_diagram(5, 3, values=(np.zeros((5, 5)), np.zeros((2, 2))))
    with pytest.raises(ValueError, match=r"output_padding=1 is an argument of transposed"):
        viz.conv_diagram(5, 3, output_padding=1)
    with pytest.raises(ValueError, match="1-d and 2-d"):
        viz.conv_diagram((5, 5, 5), 3)
    with pytest.raises(IndexError, match=r"not a cell of the 3x3 output"):
        viz.conv_diagram(5, 3).position((3, 0))
    assert viz.conv_diagram((5,), 3).position(2) == (0, 2)


# ---- the pictures, read back ----------------------------------------------------------------
@settings(max_examples=8)
@given(args=st.one_of(conv_args(), conv_args(transposed=True)))
def test_gif_has_one_frame_per_output_position_and_the_layout_size(args, tmp_path_factory):
    path = tmp_path_factory.mktemp("gif") / "conv.gif"
    viz.animate_conv(**args, path=path, fps=4)
    d = viz.conv_diagram(**args)
    with Image.open(path) as gif:
        assert gif.n_frames == int(np.prod(d.output_size))
        assert gif.size == pictures.layout(d).size
        assert gif.info["duration"] == 250 and gif.info["loop"] == 0


def test_canvas_size_follows_the_grids():
    """Panels wider than every text line: width and height are sums of cells, gaps, margins."""
    c, g, m, line = pictures.CELL, pictures.GAP, pictures.MARGIN, pictures.LINE
    for rows, cols in ((7, 7), (7, 9), (8, 7)):
        d = viz.conv_diagram((rows, cols), 3, padding=1)
        width = 2 * m + c * ((cols + 2) + 3 + cols) + 2 * g
        legend, below_title, frame_text = line, line * (len(d.caption) - 1), line
        height = m + 2 * line + c * (rows + 2) + g // 2 + legend + below_title + frame_text + m
        assert pictures.layout(d).size == (width, height)


def _pixel(image, point):
    return image.getpixel(point)[:3]


def test_padding_kernel_and_output_cells_have_their_colours_at_a_known_frame(tmp_path):
    path = viz.animate_conv(5, 3, stride=2, padding=1, path=tmp_path / "conv.gif")
    d = viz.conv_diagram(5, 3, stride=2, padding=1)
    lay = pictures.layout(d)
    frame = _frames(path)[4]                        # output (1, 1): window rows 2..4, cols 2..4
    at = lambda panel, cell: _pixel(frame, lay.fill_point(panel, cell))
    assert at("input", (0, 0)) == rgb[PADDING]
    assert at("input", (1, 1)) == rgb[INPUT]
    for cell in [(r, c) for r in (2, 3, 4) for c in (2, 3, 4)]:
        assert at("input", cell) == rgb["tap on input"]
    assert at("input", (2, 5)) == rgb[INPUT] and at("input", (1, 3)) == rgb[INPUT]
    assert at("kernel", (1, 1)) == rgb["kernel"]
    assert [at("output", (0, c)) for c in range(3)] == [rgb["output done"]] * 3
    assert at("output", (1, 0)) == rgb["output done"]
    assert at("output", (1, 1)) == rgb["output now"]
    assert at("output", (2, 2)) == rgb["output pending"]
    corner = _frames(path)[0]                       # output (0, 0) reads the top-left padding
    assert _pixel(corner, lay.fill_point("input", (0, 0))) == rgb["tap on padding"]
    assert _pixel(corner, lay.fill_point("input", (1, 1))) == rgb["tap on input"]
    assert _pixel(corner, lay.fill_point("input", (3, 3))) == rgb[INPUT]


def test_dilated_kernel_taps_skip_the_cells_between(tmp_path):
    path = viz.draw_conv(7, 3, dilation=2, position=(0, 0), path=tmp_path / "conv.png")
    lay = pictures.layout(viz.conv_diagram(7, 3, dilation=2))
    with Image.open(path) as png:
        frame = png.convert("RGB")
    for r in range(5):
        for c in range(5):
            tap = r % 2 == 0 and c % 2 == 0
            assert _pixel(frame, lay.fill_point("input", (r, c))) == \
                rgb["tap on input" if tap else INPUT]


def test_transposed_picture_shows_inserted_zeros_and_output_padding(tmp_path):
    args = dict(input_size=3, kernel_size=3, stride=2, padding=1, transposed=True,
                output_padding=1)
    path = viz.draw_conv(**args, position=(5, 5), path=tmp_path / "t.png")
    d = viz.conv_diagram(**args)
    lay = pictures.layout(d)
    with Image.open(path) as png:
        frame = png.convert("RGB")
    at = lambda cell: _pixel(frame, lay.fill_point("input", cell))
    assert at((1, 1)) == rgb[INPUT] and at((1, 2)) == rgb[ZERO] and at((2, 2)) == rgb[ZERO]
    assert at((1, 3)) == rgb[INPUT] and at((0, 0)) == rgb[PADDING]
    assert at((7, 0)) == rgb[OUTPUT_PADDING] and at((0, 7)) == rgb[OUTPUT_PADDING]
    assert at((7, 7)) == rgb["tap on " + OUTPUT_PADDING]   # output (5, 5) reads rows 5..7
    assert at((5, 5)) == rgb["tap on " + INPUT] and at((6, 6)) == rgb["tap on " + PADDING]


def _cell_crop(image, lay, cell):
    x0, y0, x1, y1 = lay.cell_box("input", cell)
    return image.crop((x0 + 1, y0 + 1, x1, y1))


def test_reflect_picture_writes_each_padded_cell_s_source_into_it(tmp_path):
    """The pixels of a padded cell are its source label drawn, not another label."""
    args = dict(input_size=(4, 5), kernel_size=3, padding=2, padding_mode="reflect")
    path = viz.draw_conv(**args, position=(3, 4), path=tmp_path / "r.png")
    d = viz.conv_diagram(**args)
    lay = pictures.layout(d)
    with Image.open(path) as png:
        frame = png.convert("RGB")

    def drawn(label):
        """The cell as drawn with this label: fill, grid outline and centred text."""
        x0, y0, x1, y1 = lay.cell_box("input", (0, 0))
        ref = Image.new("RGB", (x1 - x0 + 1, y1 - y0 + 1))
        draw = ImageDraw.Draw(ref)
        draw.fontmode = "1"
        draw.rectangle((0, 0, x1 - x0, y1 - y0), fill=rgb[PADDING], outline=rgb["grid"])
        draw.text(((x1 - x0) // 2, (y1 - y0) // 2), label, fill=rgb["text"],
                  font=pictures.font(), anchor="mm")
        return ref.crop((1, 1, ref.width - 1, ref.height - 1))

    for cell, source in (((0, 0), "(2,2)"), ((1, 0), "(1,2)"), ((0, 3), "(2,1)"),
                         ((7, 8), "(1,2)")):
        assert d.label(cell) == source
        crop = _cell_crop(frame, lay, cell)
        assert crop.tobytes() == drawn(source).tobytes()
        assert crop.tobytes() != drawn("(0,0)").tobytes()


def test_draw_conv_is_the_animation_s_frame(tmp_path):
    args = dict(input_size=(4, 6), kernel_size=(2, 3), stride=(1, 2), padding=1,
                values=viz.random_values((4, 6), (2, 3), seed=1))
    gif = _frames(viz.animate_conv(**args, path=tmp_path / "a.gif"))
    d = viz.conv_diagram(**args)
    for k in (0, 5, len(gif) - 1):
        png = viz.draw_conv(**args, position=d.positions()[k], path=tmp_path / f"{k}.png")
        with Image.open(png) as image:
            assert image.convert("RGB").tobytes() == gif[k].tobytes()


def test_missing_pillow_names_the_extra(monkeypatch, tmp_path):
    for mod in ("PIL", "PIL.Image", "PIL.ImageDraw", "PIL.ImageFont"):
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(ImportError, match=r'pip install "npconv\[plot\]".*Pillow'):
        viz.animate_conv(5, 3, path=tmp_path / "a.gif")
    assert viz.conv_diagram(5, 3).output_size == (3, 3)   # the model needs no Pillow


# ---- filters and feature maps ----------------------------------------------------------------
def _tile(mosaic, k):
    (r, c), _ = mosaic.tiles[k]
    h, w = mosaic.tile_shape
    return mosaic.image[r:r + h, c:c + w]


@settings(max_examples=10)
@given(out_channels=st.integers(1, 9), in_channels=st.integers(1, 4), k=st.integers(1, 4))
def test_filter_mosaic_holds_every_filter_on_one_scale(out_channels, in_channels, k):
    w = np.random.default_rng(out_channels * 31 + in_channels).normal(
        size=(out_channels, in_channels, k, k + 1))
    shared = viz.filter_mosaic(w, ncols=4)
    assert shared.scale == (w.min(), w.max())
    flat = w.reshape(-1, k, k + 1)
    assert len(shared.tiles) == len(flat)
    for n, tile in enumerate(flat):
        np.testing.assert_array_equal(_tile(shared, n), tile)
    assert np.isnan(shared.image).sum() == shared.image.size - w.size   # gaps only
    own = viz.filter_mosaic(w, ncols=4, shared_scale=False)
    assert own.scale is None
    for o in range(out_channels):
        tiles = np.stack([_tile(own, o * in_channels + i) for i in range(in_channels)])
        if np.ptp(w[o]) > 0:
            assert tiles.min() == 0 and tiles.max() == 1
            np.testing.assert_allclose(tiles, (w[o] - w[o].min()) / np.ptp(w[o]))


def test_rgb_filters_show_three_input_channels_as_colours():
    conv = npconv.nn.Conv2d(3, 5, 3)
    mosaic = viz.filter_mosaic(conv, rgb=True)
    w = conv.weight.detach().numpy().astype(np.float64)
    assert mosaic.image.shape[-1] == 3 and len(mosaic.tiles) == 5
    np.testing.assert_allclose(_tile(mosaic, 2), ((w - w.min()) / np.ptp(w))[2].transpose(1, 2, 0))
    with pytest.raises(ValueError, match="rgb=True shows three input channels"):
        viz.filter_mosaic(npconv.nn.Conv2d(2, 5, 3), rgb=True)


def test_plot_filters_and_feature_maps_write_pictures(tmp_path):
    pytest.importorskip("matplotlib")
    from npconv.models import SimpleCNN
    model = SimpleCNN()
    for name, what in (("f1.png", model.conv1), ("f2.png", model.conv2.weight)):
        viz.plot_filters(what, tmp_path / name)
        with Image.open(tmp_path / name) as png:
            assert png.width > 300 and len(set(png.convert("RGB").getdata())) > 50
    viz.plot_feature_maps(model, npconv.randn(1, 1, 28, 28), "conv1", tmp_path / "maps.png")
    with Image.open(tmp_path / "maps.png") as png:
        assert png.width > 300


def test_feature_maps_are_the_layer_s_output_and_the_hook_is_removed():
    from npconv.models import SimpleCNN
    model = SimpleCNN()
    x = npconv.randn(2, 1, 28, 28)
    maps = viz.feature_maps(model, x, "pool")
    with npconv.no_grad():
        expected = model.pool(npconv.nn.functional.relu(model.conv1(x))).numpy()[0]
    np.testing.assert_array_equal(maps, expected)
    assert not model.pool._forward_hooks
    with pytest.raises(KeyError, match=r"no layer named 'conv3' in SimpleCNN; .*'conv1', "
                                       r"'conv2', 'fc1'"):
        viz.feature_maps(model, x, "conv3")
    with pytest.raises(ValueError, match=r"outputs shape \(2, 128\), not"):
        viz.feature_maps(model, x, "fc1")


# ---- npconv animate / npconv draw ------------------------------------------------------------
def test_cli_animate_and_draw(tmp_path, capsys):
    from npconv import cli
    gif = tmp_path / "c.gif"
    assert cli.main(["animate", "--input", "5", "--kernel", "3", "--stride", "2", "--padding",
                     "1", "--fps", "5", "--out", str(gif)]) == 0
    with Image.open(gif) as image:
        assert image.n_frames == 9 and image.info["duration"] == 200
    assert f"wrote {gif}" in capsys.readouterr().out
    args = ["--input", "4,6", "--kernel", "3", "--transposed", "--stride", "2",
            "--output-padding", "1", "--random-values", "--seed", "3"]
    png = tmp_path / "c.png"
    assert cli.main(["draw", *args, "--position", "2,5", "--out", str(png)]) == 0
    values = viz.random_values((4, 6), 3, seed=3)
    expected = viz.draw_conv((4, 6), 3, stride=2, transposed=True, output_padding=1,
                             position=(2, 5), values=values, path=tmp_path / "api.png")
    with Image.open(png) as a, Image.open(expected) as b:
        assert a.convert("RGB").tobytes() == b.convert("RGB").tobytes()
    assert cli.main(["draw", "--input", "7,", "--kernel", "3", "--position", "4",
                     "--padding-mode", "circular", "--padding", "1",
                     "--out", str(tmp_path / "1d.png")]) == 0


@pytest.mark.parametrize("argv, message", [
    (["animate", "--input", "5", "--kernel", "7"], "Kernel size can't be greater than actual"),
    (["draw", "--input", "5", "--kernel", "3", "--position", "3,0"], "not a cell of the 3x3"),
    (["animate", "--input", "5", "--kernel", "3", "--padding-mode", "mirror"],
     "padding_mode must be one of"),
])
def test_cli_refuses_what_the_layer_refuses(argv, message, capsys, tmp_path):
    from npconv import cli
    with pytest.raises(SystemExit) as exit:
        cli.main([*argv, "--out", str(tmp_path / "x")])
    assert exit.value.code == 2 and message in capsys.readouterr().err
