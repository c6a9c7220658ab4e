"""Claim tests of the convolution lesson: each sentence a learner reads about what the lab shows, run through dlcore
on the exact preset or default behind it (``ui.experiments.convolution``), issue 19.

Texts: assets/i18n/<lang>/convolution.toml (``presets.*.note``, ``notice.*``, ``help.*``, figure titles, messages)
and assets/lessons/<lang>/convolution.md; the English sentence is quoted in each docstring. Where the lab's input
depends on the sidebar seed, the claim runs over seeds 0-4.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore import conv
from tests.support import _decode
from ui.experiments import convolution as experiment
from ui.figures import convolution as figs
from ui.figures.common import PALETTE

SEEDS = range(5)   # the sidebar's global seed: 0 by default, any other a learner may pick
SMALL = 6          # the transposed-convolution tab uses the top-left 6 x 6 block of the input


def shape(preset: str | None) -> tuple[int, int, int, int, int, int]:
    """(size, k, stride, padding, dilation, output_padding) of ``preset`` (None: the defaults)."""
    v = experiment.settings(preset)
    return tuple(int(v[n]) for n in ("size", "k", "stride", "padding", "dilation", "output_padding"))


def lesson_input(preset: str | None, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The input grid and kernel the page builds for ``preset`` at the sidebar ``seed``."""
    v = experiment.settings(preset)
    return (conv.make_input(str(v["source"]), int(v["size"]), seed),
            conv.make_kernel(str(v["kernel"]), int(v["k"]), seed))


def flipped_dilated_direct(x: torch.Tensor, w: torch.Tensor, s: int, p: int, d: int, op: int) -> torch.Tensor:
    """The concept text's direct recipe, written out here independently of dlcore: s - 1 zeros between the input
    cells, d(k - 1) - p zeros around (output_padding more at the bottom and right), then a stride-1 convolution
    with the kernel rotated by 180 degrees and dilation d."""
    k = w.shape[0]
    h, wd = x.shape
    spread = torch.zeros((h - 1) * s + 1, (wd - 1) * s + 1, dtype=x.dtype)
    spread[::s, ::s] = x
    b = d * (k - 1) - p
    padded = F.pad(spread, (b, b + op, b, b + op))                  # a negative b crops
    return F.conv2d(padded[None, None], torch.flip(w, (0, 1))[None, None], stride=1, dilation=d)[0, 0]


# ---- the concept text: convolution -----------------------------------------------------------------------------

def test_pytorch_computes_a_cross_correlation_without_flipping_the_kernel():
    """convolution.md: "PyTorch [...] actually computes a cross-correlation, without flipping the kernel:
    y[r,c] = Σ w[i,j] x_p[rs + id, cs + jd]". Written out by hand for an asymmetric kernel, with stride, padding
    and dilation; the flipped kernel gives other numbers."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(9, 9, generator=g, dtype=torch.float64)
    w = torch.randn(3, 3, generator=g, dtype=torch.float64)
    s, p, d = 2, 1, 2
    xp = F.pad(x, (p, p, p, p))
    o = conv.conv_output_size(9, 3, s, p, d)
    by_hand = torch.tensor([[sum(w[i, j] * xp[r * s + i * d, c * s + j * d] for i in range(3) for j in range(3))
                             for c in range(o)] for r in range(o)], dtype=torch.float64)
    ref = F.conv2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d)[0, 0]
    torch.testing.assert_close(by_hand, ref)
    flipped = F.conv2d(x[None, None], torch.flip(w, (0, 1))[None, None], stride=s, padding=p, dilation=d)[0, 0]
    assert (flipped - ref).abs().max() > 0.1


@pytest.mark.parametrize(("i", "k", "s", "p", "d"), [c for c in itertools.product([5, 8, 11], [1, 3, 4], [1, 2, 3],
                                                                                    [0, 1, 2], [1, 2, 4])
                                                      if c[4] * (c[1] - 1) + 1 <= c[0] + 2 * c[3]])
def test_output_side_follows_the_floor_formula(i, k, s, p, d):
    """convolution.md: "The output side is o = ⌊(i + 2p − d(k−1) − 1)/s⌋ + 1"; formula_conv shows the same."""
    y = F.conv2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d)
    assert y.shape[-1] == (i + 2 * p - d * (k - 1) - 1) // s + 1 == conv.conv_output_size(i, k, s, p, d)


def test_dilated_preset_spreads_nine_weights_over_a_five_by_five_window_with_holes():
    """presets.dilated.note: "The kernel still has 9 weights but they are spread over a 5×5 window: d(k − 1) + 1 =
    5. Watch the holes in the animation." convolution.md: "A dilated kernel covers d(k−1)+1 cells with only k²
    weights"; help.dilation: "Spacing between kernel taps: d − 1 holes between them." """
    size, k, s, p, d, _ = shape("dilated")
    x, w = lesson_input("dilated", 0)
    tr = conv.conv2d_trace(x, w, stride=s, padding=p, dilation=d)
    rows, cols = tr.rows[0, 0], tr.cols[0, 0]
    assert w.numel() == 9 and (k, d) == (3, 2)
    assert int(rows.max() - rows.min()) + 1 == int(cols.max() - cols.min()) + 1 == d * (k - 1) + 1 == 5
    assert set(torch.diff(rows[:, 0]).tolist()) == {d}                     # d - 1 = 1 hole between taps
    assert tr.output.shape == (size - 4, size - 4)


def test_same_padding_keeps_a_seven_by_seven_input_at_seven_by_seven():
    """presets.same.note: "k = 3 with p = 1 keeps a 7×7 input at 7×7: p = (k − 1)/2 pads exactly what the kernel
    eats." """
    size, k, s, p, d, _ = shape("same")
    x, w = lesson_input("same", 0)
    assert (size, k, p) == (7, 3, (k - 1) // 2)
    assert conv.conv2d_trace(x, w, stride=s, padding=p, dilation=d).output.shape == (7, 7)


def test_stride_two_halves_eight_to_four_and_seven_gives_four_as_well():
    """presets.halve.note: "s = 2 skips every other position: 8 → 4. Look at the formula line: 7 would give 4 as
    well." formula_same: "Input sizes {inputs} all give output {o}: the floor drops the remainder, so the way back
    is ambiguous." convolution.md: "with s>1 several input sizes give the same output". """
    size, k, s, p, d, _ = shape("halve")
    x, w = lesson_input("halve", 0)
    assert conv.conv2d_trace(x, w, stride=s, padding=p, dilation=d).output.shape == (4, 4)
    assert conv.inputs_with_same_output(4, k, s, p, d) == [7, 8]
    assert F.conv2d(torch.zeros(1, 1, 7, 7), w[None, None], stride=s, padding=p).shape[-1] == 4


# ---- the concept text and tab: transposed convolution ----------------------------------------------------------

CASES = [(n, k, s, p, d, op) for n, k, s, p, d in itertools.product([3, 5], [1, 2, 3, 4], [1, 2, 3], [0, 1, 2],
                                                                       [1, 2, 3])
         for op in range(max(s, d)) if (n - 1) * s - 2 * p + d * (k - 1) + op + 1 >= 1]


@pytest.mark.parametrize(("n", "k", "s", "p", "d", "op"), CASES)
def test_transposed_convolution_is_a_flipped_kernel_dilated_stride_one_conv_of_the_spread_padded_input(
        n, k, s, p, d, op):
    """convolution.md, *direct*: "insert s−1 zeros between input cells and d(k−1)−p zeros around the border (plus
    output_padding more at the bottom and right [...]), flip the kernel by 180°, and run a stride-1 convolution with
    the same dilation d". fig.direct_title: "slide it with stride 1 and dilation d — same result as PyTorch".
    Issue 19: the old text said "an ordinary stride-1 convolution", which is wrong for d > 1."""
    g = torch.Generator().manual_seed(n + 10 * k + 100 * s + 1000 * p + 10000 * d)
    x = torch.randn(n, n, generator=g, dtype=torch.float64)
    w = torch.randn(k, k, generator=g, dtype=torch.float64)
    ref = F.conv_transpose2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d, output_padding=op)[0, 0]
    torch.testing.assert_close(flipped_dilated_direct(x, w, s, p, d, op), ref)
    views = conv.conv_transpose2d_views(x, w, stride=s, padding=p, dilation=d, output_padding=op)
    torch.testing.assert_close(conv.direct_output(views, d), ref)          # what the tab shows
    torch.testing.assert_close(conv.scatter_output(views, p), ref)         # the scatter picture


@pytest.mark.parametrize("d", [2, 3])
def test_for_dilation_above_one_an_ordinary_convolution_would_be_wrong(d):
    """convolution.md: "Only for d=1 is that an ordinary convolution." With d > 1 the undilated stride-1
    convolution of the same spread input gives another shape (and numbers)."""
    g = torch.Generator().manual_seed(d)
    x = torch.randn(4, 4, generator=g, dtype=torch.float64)
    w = torch.randn(3, 3, generator=g, dtype=torch.float64)
    views = conv.conv_transpose2d_views(x, w, stride=2, padding=0, dilation=d)
    ordinary = F.conv2d(views.dilated[None, None], views.flipped[None, None])[0, 0]
    assert ordinary.shape != views.output.shape


def test_scatter_view_stamps_value_times_kernel_s_apart_and_crops_p():
    """convolution.md, *scatter*: "every input value stamps a scaled copy of the kernel onto the output, stamps s
    cells apart; where stamps overlap, they add; finally p rows and columns are cropped from each side"."""
    _, k, s, p, d, op = shape("undo")
    x, w = lesson_input("undo", 0)
    views = conv.conv_transpose2d_views(x, w, stride=s, padding=p, dilation=d, output_padding=op)
    a, b = 1, 2
    stamp = views.stamps[a, b]
    torch.testing.assert_close(stamp[a * s: a * s + k, b * s: b * s + k], x[a, b] * w)
    assert float(stamp.abs().sum()) == pytest.approx(float((x[a, b] * w).abs().sum()))
    torch.testing.assert_close(views.stamps.sum((0, 1)), views.canvas)
    torch.testing.assert_close(views.canvas[p: views.canvas.shape[0] - p, p: views.canvas.shape[1] - p],
                               views.output)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("preset", [None, *experiment.PRESETS])
def test_both_transposed_views_give_exactly_the_numbers_of_conv_transpose2d(preset, seed):
    """notice.transposed: "Both ways give exactly the numbers of F.conv_transpose2d: {same}. (These views use the
    top-left {n}×{n} block of the input.)" The page prints "yes" for every preset and the defaults."""
    _, k, s, p, d, op = shape(preset)
    x, w = lesson_input(preset, seed)
    xs = x[:SMALL, :SMALL].contiguous()
    views = conv.conv_transpose2d_views(xs, w, stride=s, padding=p, dilation=d, output_padding=op)
    assert np.allclose(conv.scatter_output(views, p).numpy(), views.output.numpy())
    assert np.allclose(conv.direct_output(views, d).numpy(), views.output.numpy())


@pytest.mark.parametrize(("i", "k", "s", "p", "d", "op"), CASES)
def test_transposed_output_side_formula_and_the_notes_form_for_unit_dilation(i, k, s, p, d, op):
    """convolution.md: "Its output side is o = (i−1)s − 2p + d(k−1) + output_padding + 1, which for d=1 is the
    notes' (W−1)s−2p+k"; formula_transposed shows the same."""
    y = F.conv_transpose2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d,
                           output_padding=op)
    assert y.shape[-1] == (i - 1) * s - 2 * p + d * (k - 1) + op + 1 == conv.conv_transpose_output_size(
        i, k, s, p, d, op)
    if d == 1 and op == 0:
        assert y.shape[-1] == (i - 1) * s - 2 * p + k


@pytest.mark.parametrize(("k", "s", "p", "d"), [(3, 2, 1, 1), (4, 2, 1, 1), (3, 3, 0, 1), (5, 4, 2, 1), (3, 2, 1, 2),
                                                (2, 3, 1, 2)])
def test_output_padding_adds_rows_at_the_bottom_right_and_picks_among_the_ambiguous_sizes(k, s, p, d):
    """convolution.md: "output_padding (PyTorch accepts values smaller than s or than d) adds rows and columns at the
    bottom and right; with values 0, …, s−1 it picks which of the ambiguous sizes to produce." help.output_padding:
    "extra rows and columns at the bottom/right, to pick one of the input sizes that a strided convolution maps to
    the same output." """
    o = 4
    produced = [conv.conv_transpose_output_size(o, k, s, p, d, op) for op in range(s)]
    assert produced == conv.inputs_with_same_output(o, k, s, p, d)
    g = torch.Generator().manual_seed(k + s)
    x = torch.randn(1, 1, o, o, generator=g, dtype=torch.float64)
    w = torch.randn(1, 1, k, k, generator=g, dtype=torch.float64)
    base = F.conv_transpose2d(x, w, stride=s, padding=p, dilation=d)[0, 0]
    more = F.conv_transpose2d(x, w, stride=s, padding=p, dilation=d, output_padding=s - 1)[0, 0]
    torch.testing.assert_close(more[: base.shape[0], : base.shape[1]], base)


@pytest.mark.parametrize(("s", "d"), [(2, 1), (1, 3), (2, 3), (3, 2)])
def test_pytorch_accepts_output_padding_only_below_the_stride_or_the_dilation(s, d):
    """bad_transposed: "PyTorch refuses this transposed convolution ({why}). Output padding must be smaller than the
    stride ({s}) or the dilation ({d})" """
    x, w = torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 3, 3)
    F.conv_transpose2d(x, w, stride=s, dilation=d, output_padding=max(s, d) - 1)
    with pytest.raises(RuntimeError):
        F.conv_transpose2d(x, w, stride=s, dilation=d, output_padding=max(s, d))
    with pytest.raises(ValueError):
        conv.conv_transpose_output_size(4, 3, s, 0, d, max(s, d))


def test_undo_preset_turns_four_by_four_into_eight_by_eight_the_shape_not_the_values():
    """presets.undo.note: "with k = 3, s = 2, p = 1 and output padding 1, a 4×4 input becomes 8×8 — the shape a
    stride-2 conv started from, but not its values." convolution.md: "It restores the shape, not the values." """
    size, k, s, p, d, op = shape("undo")
    assert (size, k, s, p, op) == (4, 3, 2, 1, 1)
    x, w = lesson_input("undo", 0)
    up = conv.conv_transpose2d_views(x, w, stride=s, padding=p, dilation=d, output_padding=op).output
    assert up.shape == (8, 8)
    big = conv.make_input("random", 8, 0)
    down = F.conv2d(big[None, None], w[None, None], stride=s, padding=p)[0, 0]
    assert down.shape == (4, 4)
    back = F.conv_transpose2d(down[None, None], w[None, None], stride=s, padding=p, output_padding=op)[0, 0]
    assert back.shape == big.shape and (back - big).abs().max() > 1


@pytest.mark.parametrize("preset", [None, "same", "halve", "dilated"])
def test_a_convolution_is_a_matrix_whose_transpose_is_the_transposed_convolution_and_the_input_gradient(preset):
    """convolution.md: "vec(y) = C vec(x) [...] The transposed convolution is multiplication by C^T — and because
    ∂⟨g, Cx⟩/∂x = C^T g, it is exactly what backpropagation computes for the gradient of a convolution with respect
    to its input." check.c0-c2 (the matrix tab's three checks, at machine precision)."""
    _, k, s, p, d, _ = shape(preset)
    x, w = (t.double() for t in lesson_input(preset, 0))
    x = x[:SMALL, :SMALL]
    c = conv.conv_matrix(*x.shape, w, stride=s, padding=p, dilation=d)
    y = F.conv2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d)[0, 0]
    torch.testing.assert_close(c @ x.flatten(), y.flatten())
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    grad = conv.input_gradient(x, w, g, stride=s, padding=p, dilation=d)
    torch.testing.assert_close(grad.flatten(), c.T @ g.flatten())
    extra = x.shape[0] - conv.conv_transpose_output_size(y.shape[0], k, s, p, d)
    ct = F.conv_transpose2d(g[None, None], w[None, None], stride=s, padding=p, dilation=d, output_padding=extra)[0, 0]
    torch.testing.assert_close(ct.flatten(), c.T @ g.flatten())


# ---- checkerboards -----------------------------------------------------------------------------------------------

def test_k3_s2_stamps_overlap_unevenly_one_two_one_two():
    """convolution.md: "When k is not a multiple of s, the stamps overlap unevenly (for k=3, s=2: 1, 2, 1, 2, …
    contributions per row)". presets.checker.note: "the overlap counts alternate". notice.checker: "With k = 3 and
    s = 2 the stamps overlap unevenly (1, 2, 1, 2, …)". The overlap figure of the checker preset."""
    v = experiment.settings("checker")
    assert (int(v["k"]), int(v["stride"])) == (3, 2)
    row = conv.overlap_counts(6, 6, 3, 2)[0].tolist()                   # the first row: one input row contributes
    assert row[1:-1] == [1 + j % 2 for j in range(len(row) - 2)]         # 1, 2, 1, 2, ...


def test_k_divisible_by_s_covers_every_interior_cell_equally():
    """presets.no_checker.note: "k divisible by s: every interior output cell is written by the same number of
    input cells." notice.checker: "With k = 4 every interior cell is covered equally" """
    v = experiment.settings("no_checker")
    k, s = int(v["k"]), int(v["stride"])
    assert k % s == 0
    counts = conv.overlap_counts(6, 6, k, s)
    assert counts[k - s: -(k - s), k - s: -(k - s)].unique().tolist() == [float((k // s) ** 2)]


def _period_two(z: torch.Tensor) -> float:
    """Mean |second difference| along rows and columns, away from the border: large for a 1, 2, 1, 2 pattern,
    small for a smooth image."""
    z = z[2:-2, 2:-2]
    return float((z[:-2] - 2 * z[1:-1] + z[2:]).abs().mean() + (z[:, :-2] - 2 * z[:, 1:-1] + z[:, 2:]).abs().mean())


def test_a_smooth_image_upsampled_with_k3_s2_gets_a_checkerboard_and_k4_or_resize_then_conv_do_not():
    """notice.checker: "the upsampled image gets a checkerboard even though the input is smooth. With k = 4 every
    interior cell is covered equally, and resize-then-convolve avoids uneven overlap altogether".
    presets.checker.note: "and so does the brightness of the upsampled image". convolution.md: "even a smooth image
    comes out striped. Choosing k divisible by s, or resizing first and then convolving, avoids it"."""
    up = conv.upsample_x2(conv.smooth_image())
    k3, k4, resize = (_period_two(z) for z in (up.transposed_k3, up.transposed_k4, up.resize_conv))
    assert k3 > 5 * k4 and k3 > 5 * resize
    inner = up.transposed_k3[2:-2, 2:-2]
    odd_even = inner[1::2].mean() - inner[::2].mean()                       # whole rows alternate in brightness
    assert abs(float(odd_even)) > 0.2 * float(inner.mean())


# ---- channels and cost ---------------------------------------------------------------------------------------------

def test_the_grey_image_is_a_1x1_convolution_with_the_luma_weights():
    """notice.channels: "The grey image is itself a 1×1 convolution: weights {luma} mix R, G and B at each pixel
    without looking at neighbours." fig.grey: "Grey image (a 1×1 conv of RGB)" """
    rgb = conv.rgb_photo(96)
    by_hand = sum(c * rgb[i] for i, c in enumerate(conv.LUMA))
    torch.testing.assert_close(conv.to_grey(rgb), by_hand)
    moved = rgb.clone()
    moved[:, 10, 10] += 1.0                                                 # one pixel changes: only its grey does
    diff = (conv.to_grey(moved) - conv.to_grey(rgb)).abs()
    assert int((diff > 1e-6).sum()) == 1


@pytest.mark.parametrize("seed", SEEDS)
def test_the_random_layer_has_three_input_channels_so_each_kernel_is_3x3x3(seed):
    """notice.channels: "The random layer has 3 input channels, so each of its kernels is 3×3×3." """
    channels = int(experiment.settings()["channels"])
    weight = conv.random_layer(3, channels, 3, seed)
    assert weight.shape == (channels, 3, 3, 3)
    assert conv.feature_maps(conv.rgb_photo(96), weight).shape[0] == channels


@pytest.mark.parametrize(("h", "w", "n", "m", "k", "g"), [(56, 56, 64, 128, 3, 4), (7, 9, 32, 32, 5, 8),
                                                          (14, 14, 16, 48, 1, 16)])
def test_cost_formulas_match_the_weights_of_the_same_nn_conv2d(h, w, n, m, k, g):
    """convolution.md: "a standard convolution costs HWNK²M multiply-adds. Grouped convolution splits channels into G
    groups (÷G); a depthwise convolution filters each channel on its own (HWK²N); a pointwise 1×1 convolution only
    mixes channels (HWNM)." The cost table's labels (cost.standard, grouped, depthwise, pointwise)."""
    layers = {"standard": torch.nn.Conv2d(n, m, k, bias=False),
              "grouped": torch.nn.Conv2d(n, m, k, groups=g, bias=False),
              "depthwise": torch.nn.Conv2d(n, n, k, groups=n, bias=False),
              "pointwise": torch.nn.Conv2d(n, m, 1, bias=False)}
    expected = {"standard": h * w * n * k * k * m, "grouped": h * w * n * k * k * m // g,
                "depthwise": h * w * k * k * n, "pointwise": h * w * n * m}
    for kind, layer in layers.items():
        cost = conv.conv_cost(h, w, n, m, k, kind, g)
        assert cost.params == layer.weight.numel()
        assert cost.mult_adds == expected[kind]
        y = layer(torch.zeros(1, n, h + k - 1, w + k - 1) if kind != "pointwise" else torch.zeros(1, n, h, w))
        assert y.shape[-2:] == (h, w) and cost.mult_adds == layer.weight.numel() * h * w


@pytest.mark.parametrize(("m", "k"), [(128, 3), (64, 5), (1024, 3), (32, 1)])
def test_depthwise_separable_costs_one_over_m_plus_one_over_k_squared_of_a_standard_convolution(m, k):
    """notice.cost: "Depthwise-separable costs 1/M + 1/K² = {ratio:.3f} of a standard convolution"; convolution.md:
    "Depthwise followed by pointwise [...] costs 1/M + 1/K² of a standard one." """
    n, h, w = 64, 28, 28
    sep = conv.conv_cost(h, w, n, m, k, "separable")
    std = conv.conv_cost(h, w, n, m, k, "standard")
    parts = conv.conv_cost(h, w, n, m, k, "depthwise").mult_adds + conv.conv_cost(h, w, n, m, k, "pointwise").mult_adds
    assert sep.mult_adds == parts
    assert sep.mult_adds / std.mult_adds == pytest.approx(1 / m + 1 / k**2, rel=1e-12)


# ---- the slide animation, help texts and messages --------------------------------------------------------------------

COLOUR_WORDS = {"en": {"red": "red", "orange": "orange", "yellow": "yellow", "green": "green", "blue": "blue",
                        "purple": "purple", "grey": "grey", "gray": "grey", "black": "black"},
                 "zh": {"红": "red", "橙": "orange", "黄": "yellow", "绿": "green", "蓝": "blue", "紫": "purple",
                        "灰": "grey", "黑": "black"}}


def _slide_spec(preset: str | None) -> tuple[conv.ConvTrace, dict]:
    _, k, s, p, d, _ = shape(preset)
    x, w = lesson_input(preset, 0)
    tr = conv.conv2d_trace(x, w, stride=s, padding=p, dilation=d)
    labels = {name: name for name in figs.SLIDE_LABELS} | {"sum": "{y} {r} {c}"}
    return tr, _decode(figs.sliding_window(tr, p, labels).to_dict())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_slide_caption_names_the_colours_the_figure_draws(lang):
    """notice.slide: "the orange squares are the input cells the kernel reads ... the dotted orange box is its window
    ... the grey border is the zero padding ... framed in orange ... the output cell outlined in orange ... Grey
    output cells are not computed yet." Issue 31: it said "orange squares" while the squares were drawn red (an open
    marker takes ``marker.color``, which was unset, and the Streamlit theme coloured it)."""
    from tests.support import colour_name
    from ui.i18n import strings

    caption = strings(lang)["convolution.notice.slide"]
    named = {colour for word, colour in COLOUR_WORDS[lang].items() if word in caption}
    assert named == {"orange", "grey"}
    _, spec = _slide_spec(None)
    data = dict(zip(figs.SLIDE_TRACES, spec["data"]))
    taps = data["taps"]["marker"]
    assert taps["symbol"] == "square-open"
    assert colour_name(taps["color"]) == colour_name(taps["line"]["color"]) == "orange"   # what an open marker draws
    for outline in ("window", "products_frame", "cell"):
        assert colour_name(data[outline]["line"]["color"]) == "orange", outline
    assert data["window"]["line"]["dash"] == "dot"
    assert colour_name(dict(data["padding"]["colorscale"])[1]) == "grey"                  # the zero border
    assert colour_name(dict(data["curtain"]["colorscale"])[0]) == "grey"                  # not computed yet
    assert figs.ACCENT in PALETTE                                                          # colour-blind safe


@pytest.mark.parametrize("preset", [None, "dilated", "halve"])
def test_the_animation_shows_the_window_the_products_and_their_sum_as_the_outlined_output_cell(preset):
    """notice.slide: "the orange squares are the input cells the kernel reads at this position (... with dilation it
    has holes ...). In the middle are the kernel's weights w and, framed in orange under them, the products x · w at
    this position: their sum Σ is the output cell outlined in orange on the right. Grey output cells are not computed
    yet. Scrubbing runs in your browser: no server work." """
    _, k, s, p, d, _ = shape(preset)
    x, w = lesson_input(preset, 0)
    tr, spec = _slide_spec(preset)
    data = dict(zip(figs.SLIDE_TRACES, spec["data"]))
    torch.testing.assert_close(torch.tensor(np.array(data["kernel"]["z"])), w)     # the kernel's weights w
    reference = F.conv2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d)[0, 0]
    windows = F.unfold(x[None, None], k, dilation=d, padding=p, stride=s)[0]               # (k*k, Ho*Wo)
    ho, wo = reference.shape
    assert len(spec["frames"]) == ho * wo                                      # every position, in the browser
    moved = list(spec["frames"][0]["traces"])
    for i, frame in enumerate(spec["frames"]):
        r, c = divmod(i, wo)
        f = dict(zip([figs.SLIDE_TRACES[j] for j in moved], frame["data"]))
        taps_x = np.unique(np.asarray(f["taps"]["x"]))
        assert set(np.diff(taps_x).tolist()) <= {d}                                         # d - 1 holes between taps
        products = torch.tensor(np.array(f["products"]["z"]))
        torch.testing.assert_close(products, windows[:, i].reshape(k, k) * w)              # x · w at this position
        torch.testing.assert_close(products.sum(), reference[r, c], rtol=1e-5, atol=1e-4)  # Σ = the output cell
        assert frame["layout"]["xaxis3"]["title"]["text"] == f"{figs._fmt(reference[r, c])} {r} {c}"
        assert f["cell"]["x"][0] == c - 0.5 and f["cell"]["y"][0] == r - 0.5              # outlined on the right
        shown = np.asarray(f["curtain"]["z"]).ravel()
        assert shown[:i + 1].all() and not shown[i + 1:].any()                               # later cells: grey


def test_the_input_size_help_range_is_three_to_sixteen():
    """help.size: "Side of the square input grid (3-16; the animation shows every position)." """
    assert conv.MAX_SIZE == 16
    conv.make_input("random", 16, 0)
    with pytest.raises(ValueError):
        conv.make_input("random", 17, 0)


def test_classic_filters_are_3x3_and_another_kernel_size_uses_ones():
    """classic_needs_3: "The classic filters are 3×3; with another kernel size the kernel is all ones." """
    assert all(kern.shape == (3, 3) for kern in conv.classic_kernels().values())
    for kind in ("edge", "sobel_x", "gaussian_blur"):
        torch.testing.assert_close(conv.make_kernel(kind, 5, 0), torch.ones(5, 5))
        torch.testing.assert_close(conv.make_kernel(kind, 3, 0), conv.classic_kernels()[kind])


@pytest.mark.parametrize(("i", "k", "p", "d"), [(6, 7, 0, 1), (6, 3, 0, 4), (3, 5, 0, 1), (3, 4, 1, 2)])
def test_a_dilated_kernel_larger_than_the_padded_input_gives_no_output(i, k, p, d):
    """too_big: "The dilated kernel spans {span} cells but the padded input has only {padded}: the output would be
    empty." """
    assert d * (k - 1) + 1 > i + 2 * p
    with pytest.raises(RuntimeError):
        F.conv2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), padding=p, dilation=d)
    with pytest.raises(ValueError):
        conv.conv_output_size(i, k, 1, p, d)
