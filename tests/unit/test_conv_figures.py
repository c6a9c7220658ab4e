"""The sliding-window animation is rebuilt on every slider move, so it is written as plain JSON on a cached
Plotly-built layout: Plotly must still accept every property, and the frames must carry what F.conv2d computes."""

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F
from plotly.colors import get_colorscale

from dlcore import conv
from tests.support import _decode
from ui.figures import convolution as figs

SUM = "S={y} at {r},{c}"
LABELS = {"padded_input": "input", "kernel": "kernel", "products": "products", "output": "output",
          "slide_title": "title", "sum": SUM, "hover": "r %{y} c %{x}: %{z}", "play": "Play", "pause": "Pause",
          "position": "Step"}
T = {name: i for i, name in enumerate(figs.SLIDE_TRACES)}


def _figure(n: int, k: int, stride: int, padding: int, dilation: int = 1):
    x, w = conv.make_input("random", n, 0), conv.make_kernel("random", k, 0)
    tr = conv.conv2d_trace(x, w, stride=stride, padding=padding, dilation=dilation)
    fig = figs.sliding_window(tr, padding, LABELS)
    return x, w, tr, _decode(fig.to_dict())


@pytest.mark.parametrize(("n", "k", "stride", "padding", "dilation"),
                         [(6, 3, 1, 0, 1), (7, 3, 2, 2, 1), (8, 3, 1, 2, 2)])
def test_plotly_accepts_every_property_and_the_frames_follow_the_convolution(n, k, stride, padding, dilation):
    x, w, tr, spec = _figure(n, k, stride, padding, dilation)
    fig = go.Figure(spec)                          # raises ValueError on any invalid property or value
    assert len(fig.data) == len(figs.SLIDE_TRACES) and len(fig.frames) == len(spec["frames"])
    reference = F.conv2d(x[None, None], w[None, None], stride=stride, padding=padding, dilation=dilation)[0, 0]
    ho, wo = reference.shape
    data = spec["data"]
    np.testing.assert_allclose(data[T["output"]]["z"], reference.numpy(), rtol=1e-6, atol=1e-6)  # the output panel
    np.testing.assert_array_equal(data[T["input"]]["z"], F.pad(x, (padding,) * 4).numpy())       # the padded input
    np.testing.assert_array_equal(data[T["kernel"]]["z"], w.numpy())                            # the kernel's weights
    assert data[T["padding"]]["z"].sum() == (n + 2 * padding) ** 2 - n * n                        # the zero border
    axes = {"input": "y", "padding": "y", "taps": "y", "window": "y", "kernel": "y2", "products": "y3",
            "products_frame": "y3", "output": "y4", "curtain": "y4", "cell": "y4"}
    assert {name: data[i]["yaxis"] for name, i in T.items()} == axes
    assert data[T["output"]]["colorscale"] == [list(s) for s in get_colorscale("RdBu_r")]        # "_r" resolved here
    frames = spec["frames"]
    assert [f["name"] for f in frames] == [f"{r},{c}" for r in range(ho) for c in range(wo)]
    moved = [T[name] for name in ("taps", "window", "products", "curtain", "cell")]
    # every window of the padded input the kernel reads, as F.unfold cuts them: (k*k, Ho*Wo)
    windows = F.unfold(x[None, None], k, dilation=dilation, padding=padding, stride=stride)[0]
    for f in (frames[0], frames[len(frames) // 2], frames[-1]):
        r, c = map(int, f["name"].split(","))
        assert f["traces"] == moved
        taps, window, products, curtain, cell = f["data"]
        # the kernel's taps sit where the output cell reads the padded input: r*s + i*d, c*s + j*d
        rows = (r * stride + dilation * np.arange(k))[:, None].repeat(k, 1)
        cols = (c * stride + dilation * np.arange(k))[None, :].repeat(k, 0)
        np.testing.assert_array_equal(taps["y"], rows.ravel())
        np.testing.assert_array_equal(taps["x"], cols.ravel())
        span = dilation * (k - 1) + 1
        assert (min(window["x"]), max(window["x"])) == (c * stride - 0.5, c * stride + span - 0.5)
        assert (min(window["y"]), max(window["y"])) == (r * stride - 0.5, r * stride + span - 0.5)
        # the products at this position are the window times the kernel, element by element; they sum to y[r, c]
        window_values = windows[:, r * wo + c].reshape(k, k)
        np.testing.assert_allclose(products["z"], (window_values * w).numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(products["z"].sum(), reference[r, c].item(), rtol=1e-5, atol=1e-5)
        assert f["layout"]["xaxis3"]["title"]["text"] == SUM.format(y=figs._fmt(reference[r, c]), r=r, c=c)
        assert curtain["z"].sum() == r * wo + c + 1                                # cells revealed so far
        assert cell["x"].tolist() == [c - 0.5, c + 0.5, c + 0.5, c - 0.5, c - 0.5]
    lay = spec["layout"]
    assert lay["title"]["text"].replace("<br>", "") == "title"
    assert [a["text"] for a in lay["annotations"]] == ["input", "kernel", "products", "output"]
    assert lay["xaxis3"]["title"]["text"] == SUM.format(y=figs._fmt(reference[0, 0]), r=0, c=0)
    assert [s["label"] for s in lay["sliders"][0]["steps"]] == [f["name"] for f in frames]
    assert [b["label"] for b in lay["updatemenus"][0]["buttons"]] == ["Play", "Pause"]


@pytest.mark.parametrize(("n", "k", "padding"), [(6, 3, 0), (9, 3, 2), (16, 7, 4)])
def test_every_axis_ends_at_its_grid_and_every_cell_is_square(n, k, padding):
    """Issue 31: the y axes ran past the grid (room was left under the input for an equation)."""
    *_, spec = _figure(n, k, 1, padding)
    lay = spec["layout"]
    hp, o, = n + 2 * padding, n + 2 * padding - k + 1
    for i, (h, w) in enumerate([(hp, hp), (k, k), (k, k), (o, o)], start=1):
        suffix = "" if i == 1 else str(i)
        x, y = lay[f"xaxis{suffix}"], lay[f"yaxis{suffix}"]
        assert x["range"] == [-0.5, w - 0.5] and y["range"] == [h - 0.5, -0.5], i   # row 0 on top, nothing more
        assert x["autorange"] is False and y["autorange"] is False
        assert y["scaleanchor"] == f"x{suffix}" and y["constrain"] == x["constrain"] == "domain"
    domains = sorted(tuple(lay[f"xaxis{s}"]["domain"]) for s in ("", "2", "4"))
    assert all(a[1] < b[0] for a, b in zip(domains, domains[1:]))            # three columns, apart
    assert lay["yaxis2"]["domain"][0] > lay["yaxis3"]["domain"][1]             # the kernel above the products


def test_not_yet_computed_output_cells_are_blank_grey_not_faint_numbers():
    """Issue 31: cells not yet computed showed white numbers on pale pink through a translucent curtain."""
    *_, spec = _figure(6, 3, 1, 0)
    curtain = spec["data"][T["curtain"]]
    scale = dict((v, colour) for v, colour in curtain["colorscale"])
    assert scale[0.0] == figs.NOT_YET and figs.NOT_YET.startswith("#")          # opaque: the numbers are hidden
    assert scale[1.0].endswith(",0)") and (curtain["zmin"], curtain["zmax"]) == (0, 1)
    assert T["curtain"] > T["output"] and T["cell"] > T["curtain"]             # drawn over the output, under the box
    first = spec["frames"][0]["data"][3]["z"]
    assert first.sum() == 1 and first[0, 0] == 1                                # only y[0,0] is shown at first


def test_the_controls_sit_on_rows_of_their_own():
    """Issue 31, 390 px: Play / Pause overlapped the slider's label. Buttons on one row, the slider under them, placed
    by the kit's animation_layout in pixels under the grids, inside the bottom margin."""
    from ui.figures.common import controls_margin

    *_, spec = _figure(6, 3, 1, 0)
    menu, slider = spec["layout"]["updatemenus"][0], spec["layout"]["sliders"][0]
    assert menu["yanchor"] == slider["yanchor"] == "top" and menu["y"] == slider["y"] == 0
    assert slider["pad"]["t"] - menu["pad"]["t"] >= 36                          # a button's height, and some
    assert spec["layout"]["margin"]["b"] >= controls_margin(menu["pad"]["t"])   # both inside the figure
    assert slider["x"] == 0 and slider["len"] == 1
    assert slider["currentvalue"]["font"]["size"] >= 11


def test_dense_grids_show_their_numbers_on_hover_only():
    *_, spec = _figure(16, 3, 1, 2)                # a 20 x 20 padded input: cells of a few pixels on a phone
    data = spec["data"]
    assert data[T["input"]]["texttemplate"] == "" and data[T["output"]]["texttemplate"] == ""
    assert data[T["kernel"]]["texttemplate"] == data[T["products"]]["texttemplate"] == "%{text}"
    assert "%{z}" in data[T["input"]]["hovertemplate"]


@pytest.mark.parametrize("text", [
    "Each output cell sums the kernel times one window of the input",
    "每个输出格子都是卷积核与输入中一个窗口的乘加",
    "直接视角：把输入拉开、把卷积核翻转，再以步幅 1、空洞率 d 滑动——结果与 PyTorch 相同",
    "Direct view: spread the input, flip the kernel, slide it with stride 1 and dilation d — same result as PyTorch",
    "short"])
@pytest.mark.parametrize("width", [figs.TITLE_UNITS, figs.PANEL_UNITS, 8])
def test_wrap_breaks_titles_into_lines_that_fit_and_loses_nothing(text, width):
    import unicodedata

    wrapped = figs.wrap(text, width)
    assert wrapped.replace("<br>", "") == text
    for line in wrapped.split("<br>"):
        wide = [unicodedata.east_asian_width(ch) in "FW" for ch in line.rstrip()]
        units = sum(2 if w else 1 for w in wide)
        one_word = len(line.split()) == 1 and not any(wide)
        assert units <= width + 2 or one_word, (line, units)   # a closing mark may end a full line; a long word stays
        assert not line.startswith(("，", "。", "、", "）"))             # no line opens with closing punctuation


def test_a_cached_layout_is_never_shared_between_figures():
    *_, a = _figure(6, 3, 1, 0)
    a["layout"]["title"]["text"] = "changed"
    *_, b = _figure(6, 3, 1, 0)
    assert b["layout"]["title"]["text"] == "title"
    np.testing.assert_array_equal(a["data"][T["output"]]["z"], b["data"][T["output"]]["z"])


def test_each_builder_reads_only_its_declared_labels():
    """The page passes ui.i18n.labels(prefix, <the builder's tuple>): a builder reading any other key would fail."""
    def only(keys):
        templates = {"channel": "channel {i}", "overlaps": "k={k} s={s}", "matrix_title": "C {r} x {c}"}
        return {k: templates.get(k, k) for k in keys}

    cfg = conv.ConvConfig(size=4, k=3, stride=2, padding=1, output_padding=1)
    views = conv.conv_transpose2d_views(cfg.input(), cfg.weight(), stride=2, padding=1, output_padding=1)
    figs.transposed_stamping(views, 1, only(figs.TRANSPOSED_LABELS))
    figs.direct_view(views, conv.direct_output(views).numpy(), only(figs.TRANSPOSED_LABELS))
    mv = conv.matrix_view(cfg.input(), cfg.weight(), stride=2, padding=1)
    mfig = figs.matrix(mv.matrix.numpy(), only(figs.MATRIX_LABELS))
    assert mfig.layout.title.text == "C 4 x 16"
    assert mfig.data[0].hovertemplate == "matrix_hover<extra></extra>"   # translated, not a hard-coded English line
    figs.check_table(mv, only(figs.CHECK_LABELS))
    overlap = figs.overlaps(conv.overlap_counts(6, 6, 3, 2).numpy(), 3, 2, only(figs.CHECKER_LABELS))
    assert overlap.layout.annotations[0].text == "k=3 s=2"
    figs.upsampling(conv.upsample_x2(torch.ones(8, 8)), only(figs.CHECKER_LABELS))
    maps = figs.feature_maps(np.ones((5, 5)), np.zeros((5, 5)), "edge", [np.ones((5, 5))] * 2, only(figs.MAPS_LABELS))
    assert [a.text for a in maps.layout.annotations] == ["grey", "edge", "channel 1", "channel 2"]
    figs.cost_table(conv.cost_rows(8, 8, 4, 4, 3, 2), only(figs.COST_LABELS))


def test_the_formula_line_fills_in_both_sizes_or_says_why_torch_refuses():
    texts = {"formula_conv": "o={o}", "formula_same": "same {inputs}", "too_big": "big {span}>{padded}",
             "formula_transposed": "t={o}", "bad_transposed": "no: {why}"}
    halve = conv.ConvConfig(size=8, k=3, stride=2, padding=1)
    assert figs.formula_text(conv.sizes(8, 3, 2, 1), halve, texts) == "o=4 same 7, 8\n\nt=15"
    big = conv.ConvConfig(size=3, k=7)
    assert figs.formula_text(conv.sizes(3, 7), big, texts).startswith("big 7>3\n\nt=9")
    bad = conv.ConvConfig(size=6, output_padding=2)
    assert figs.formula_text(conv.sizes(6, 3, 1, 0, 1, 2), bad, texts).startswith("o=4\n\nno: output_padding (2)")
