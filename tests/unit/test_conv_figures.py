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

EQUATION = "y[{r},{c}] = {terms} = {y}"
LABELS = {"padded_input": "input", "output": "output", "slide_title": "title", "equation": EQUATION, "play": "Play",
          "pause": "Pause", "position": "Step"}


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
    assert len(fig.data) == 7 and len(fig.frames) == len(spec["frames"])
    reference = F.conv2d(x[None, None], w[None, None], stride=stride, padding=padding, dilation=dilation)[0, 0]
    ho, wo = reference.shape
    data = spec["data"]
    np.testing.assert_allclose(data[3]["z"], reference.numpy(), rtol=1e-6, atol=1e-6)      # the output panel
    np.testing.assert_array_equal(data[0]["z"], F.pad(x, (padding,) * 4).numpy())          # the padded input
    assert data[1]["z"].sum() == (n + 2 * padding) ** 2 - n * n                               # the zero border
    assert [(d["xaxis"], d["yaxis"]) for d in data] == [("x", "y")] * 3 + [("x2", "y2")] * 3 + [("x", "y")]
    assert data[3]["colorscale"] == [list(s) for s in get_colorscale("RdBu_r")]             # "_r" resolved here
    frames = spec["frames"]
    assert [f["name"] for f in frames] == [f"{r},{c}" for r in range(ho) for c in range(wo)]
    for f in (frames[0], frames[len(frames) // 2], frames[-1]):
        r, c = map(int, f["name"].split(","))
        taps, curtain, cell, text = f["data"]
        # the kernel's taps sit where the output cell reads the padded input: r*s + i*d, c*s + j*d
        rows = (r * stride + dilation * np.arange(k))[:, None].repeat(k, 1)
        cols = (c * stride + dilation * np.arange(k))[None, :].repeat(k, 0)
        np.testing.assert_array_equal(taps["y"], rows.ravel())
        np.testing.assert_array_equal(taps["x"], cols.ravel())
        assert curtain["z"].sum() == r * wo + c + 1                                # cells revealed so far
        assert cell["x"] == [c - 0.5, c + 0.5, c + 0.5, c - 0.5, c - 0.5]
        assert text["text"][0].startswith(f"y[{r},{c}] = ") and text["text"][0].endswith(figs._fmt(tr.output[r, c]))
    lay = spec["layout"]
    assert lay["title"]["text"] == "title" and [a["text"] for a in lay["annotations"]] == ["input", "output"]
    assert lay["yaxis"]["range"] == [n + 2 * padding + 1.5, -0.5] and lay["yaxis2"]["autorange"] == "reversed"
    assert lay["yaxis2"]["scaleanchor"] == "x2"                                   # square output cells
    assert [s["label"] for s in lay["sliders"][0]["steps"]] == [f["name"] for f in frames]
    assert [b["label"] for b in lay["updatemenus"][0]["buttons"]] == ["Play", "Pause"]


def test_a_cached_layout_is_never_shared_between_figures():
    *_, a = _figure(6, 3, 1, 0)
    a["layout"]["title"]["text"] = "changed"
    *_, b = _figure(6, 3, 1, 0)
    assert b["layout"]["title"]["text"] == "title"
    np.testing.assert_array_equal(a["data"][3]["z"], b["data"][3]["z"])


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
    assert figs.matrix(mv.matrix.numpy(), only(figs.MATRIX_LABELS)).layout.title.text == "C 4 x 16"
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
