"""Figures of the convolution lesson: the sliding-window animation, transposed convolution
two ways, the matrix view, checkerboard overlaps and feature maps, and the lab's tables. Pure: plain data and
translated labels in, figures (or tables) out; they never call t()."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures.common import (
    CELL_TEXT,
    DIVERGING,
    animation_layout,
    base_layout,
    color,
    controls_margin,
    plain,
    readable,
    with_frames,
)
from ui.figures.common import colorscale as colorscale_of
from ui.figures.common import wrap as common_wrap

if TYPE_CHECKING:
    import pandas as pd

    from dlcore.conv import ConvConfig, ConvCost, ConvTrace, MatrixView, Sizes, TransposedViews, Upsampled

# the labels each builder reads (the page passes ui.i18n.labels(<prefix>, these)); "sum", "matrix_title",
# "overlaps" and "channel" are format strings the builders fill in; "hover" is a Plotly hover template
SLIDE_LABELS = ("padded_input", "kernel", "products", "output", "slide_title", "sum", "hover", "play", "pause",
                "position")                                                                       # convolution.fig
TRANSPOSED_LABELS = ("scatter_title", "play", "pause", "input_cell", "direct_title", "spread_input",
                     "flipped_kernel", "direct_result", "torch_result", "hover")                  # convolution.fig
MATRIX_LABELS = ("matrix_title", "matrix_x", "matrix_y", "matrix_hover")                       # convolution.fig
CHECKER_LABELS = ("overlap_title", "overlaps", "upsample_title", "up_k3", "up_k4", "up_resize",
                  "hover")                                                                        # convolution.fig
MAPS_LABELS = ("maps_title", "grey", "channel")                                                   # convolution.fig
FORMULA_LABELS = ("formula_conv", "formula_same", "too_big", "formula_transposed", "bad_transposed")  # convolution
CHECK_LABELS = ("what", "error", "c0", "c1", "c2")                                                # convolution.check
COST_LABELS = ("kind", "params", "madds", "ratio", "standard", "grouped", "depthwise", "pointwise",
               "separable")                                                                       # convolution.cost

# The sliding view's colours; the caption (notice.slide) names them and a claim test compares the names.
ACCENT = color(1)                          # orange: the window, its products and the output cell they sum to
PADDING = "rgba(120,120,120,0.35)"        # grey: the zero border
NOT_YET = "#E6E6E6"                       # grey, opaque: output cells not computed yet (their numbers hidden)
CURTAIN = [[0.0, NOT_YET], [1.0, "rgba(0,0,0,0)"]]   # over the output: 0 = not yet, 1 = revealed
# trace order of ``sliding_window`` (frames update taps, window, products, curtain and cell, and the sum: the
# products' x-axis title)
SLIDE_TRACES = ("input", "padding", "taps", "window", "kernel", "products", "products_frame", "output", "curtain",
                "cell")

# Plotly never wraps a title: longer than the screen, it is cut off at the edge. Titles are broken into lines of
# at most TITLE_UNITS Latin-letter widths (a CJK character counts two), which fit a 390 px phone.
TITLE_UNITS = 38
PANEL_UNITS = 22        # a panel's title in a two-panel row (13 px text)
TITLE_LINE_PX = 24      # one line of a figure title
PANEL_FONT = {"size": 13}


def _fmt(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"


def _cell_text(a: np.ndarray, most: int = 900) -> np.ndarray:
    """``_fmt`` of every value of ``a`` (each distinct value formatted once: grids repeat a few values); blank past
    ``most`` values."""
    if a.size > most:
        return np.full(a.shape, "")
    values, where = np.unique(np.asarray(a, dtype=np.float32), return_inverse=True)
    return np.array([_fmt(v) for v in values], dtype=object)[where].reshape(a.shape)


def wrap(text: str, width: int = TITLE_UNITS) -> str:
    """``text`` in lines of at most ``width`` Latin-letter widths (``ui.figures.common.wrap``)."""
    return common_wrap(text, width)


def _title(text: str, band: int, height: float) -> tuple[dict, int]:
    """A wrapped figure title at the top left of a figure ``height`` px high, ``band`` px above the plotting area
    (room for the panels' titles), and the top margin it needs. Plotly places a title's first line at its anchor and
    draws the extra lines below it (or, anchored by the top, shifts them up and cuts the first one off), so the
    anchor is the first line's bottom."""
    text = wrap(text)
    lines = text.count("<br>") + 1
    top = 10 + lines * TITLE_LINE_PX + band
    return ({"text": text, "x": 0.0, "xanchor": "left", "y": 1 - (10 + TITLE_LINE_PX) / height, "yref": "container",
             "yanchor": "bottom"}, top)


def _heatmap(z: np.ndarray, *, text: bool = True, colorscale: str = DIVERGING, zmid: float | None = 0.0,
             showscale: bool = False, name: str = "", hover: str = "%{z}<extra></extra>") -> go.Heatmap:
    z = np.asarray(z, dtype=np.float32)
    kw = {"zmid": zmid} if zmid is not None else {}
    return go.Heatmap(z=z, text=_cell_text(z) if text else None, texttemplate="%{text}" if text else None,
                      textfont=CELL_TEXT, colorscale=colorscale, showscale=showscale, xgap=1, ygap=1, name=name,
                      hovertemplate=hover, **kw)


def _square(r: float, c: float, h: float, w: float) -> tuple[list[float], list[float]]:
    """Outline of cells [r, r+h) x [c, c+w) in heatmap coordinates (cell centres at integers)."""
    y0, y1, x0, x1 = r - 0.5, r + h - 0.5, c - 0.5, c + w - 0.5
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def _ticks(n: int) -> dict:
    """Integer ticks on an axis of ``n`` cells, spaced so their labels never touch on a phone."""
    return {"tickmode": "linear", "tick0": 0, "dtick": 1 if n <= 8 else 2 if n <= 16 else 4}


def _grid_axes(layout: dict, i: int, shape: tuple[int, int], x: list[float], y: list[float], *,
               ticks: bool = True, side: str = "left") -> None:
    """Subplot ``i`` (1-based) as a grid of ``shape`` square cells in the domain ``x`` by ``y``: row 0 at the top,
    the axes ending exactly at the grid's edges, the grid drawn at the top of its domain (under its title)."""
    h, w = shape
    suffix = "" if i == 1 else str(i)
    common = {"showgrid": False, "zeroline": False, "constrain": "domain", "autorange": False,
              "showticklabels": ticks, "ticks": "", "fixedrange": True}
    layout[f"xaxis{suffix}"] = {**common, "domain": x, "range": [-0.5, w - 0.5], "anchor": f"y{suffix}",
                                **_ticks(w)}
    layout[f"yaxis{suffix}"] = {**common, "domain": y, "range": [h - 0.5, -0.5], "anchor": f"x{suffix}",
                                "scaleanchor": f"x{suffix}", "constraintoward": "top", "side": side, **_ticks(h)}


def _panel_title(text: str, x: list[float], top: float) -> dict:
    """A panel's title centred over the domain ``x`` and lifted clear of the first row's tick label (taller than
    the row when the cells are small)."""
    return {"text": text, "x": (x[0] + x[1]) / 2, "y": top, "xref": "paper", "yref": "paper", "xanchor": "center",
            "yanchor": "bottom", "yshift": 8, "showarrow": False, "font": PANEL_FONT}


DENSE = 12          # widest grid whose cells hold their numbers (at 390 px a cell is then ~17 px)
CONTROLS_BELOW = 28                       # the play buttons' distance under the grids (the products' sum above)
CONTROLS_PX = controls_margin(CONTROLS_BELOW)   # bottom margin under an animated figure: the buttons, the slider


@lru_cache(maxsize=64)
def _slide_layout(padded: tuple[int, int], k: int, out: tuple[int, int], titles: tuple[str, str, str, str],
                  title: str) -> str:
    """``sliding_window``'s layout without animation controls, validated by Plotly once per shape and labels (as
    JSON). Columns: the padded input | the kernel above the products at one position | the output."""
    height = 540
    weights = (padded[1], max(k, 0.3 * padded[1], 2.5), max(out[1], 2.5))
    gap = 0.06
    xs, x0 = [], 0.0
    for wgt in weights:
        xs.append([x0, x0 + (1 - 2 * gap) * wgt / sum(weights)])
        x0 = xs[-1][1] + gap
    xs[-1][1] = 1.0
    # each panel's title wrapped to its column on a phone (~46 letters of 13 px text across the figure)
    names = [wrap(text, max(8, int(46 * (x[1] - x[0])))) for text, x in zip(titles, (xs[0], xs[1], xs[1], xs[2]))]
    band = 17 * max(name.count("<br>") + 1 for name in names) + 16
    head, top = _title(title, band, height)
    kernel_y, products_y = [0.6, 1.0], [0.15, 0.5]      # under the products: their sum, the x axis' title
    layout: dict = {"title": head, "height": height, "showlegend": False,
                    "margin": {"l": 30, "r": 30, "t": top, "b": CONTROLS_PX}}
    _grid_axes(layout, 1, padded, xs[0], [0.0, 1.0])
    _grid_axes(layout, 2, (k, k), xs[1], kernel_y, ticks=False)
    _grid_axes(layout, 3, (k, k), xs[1], products_y, ticks=False)
    _grid_axes(layout, 4, out, xs[2], [0.0, 1.0], side="right")
    layout["annotations"] = [_panel_title(names[0], xs[0], 1.0), _panel_title(names[1], xs[1], kernel_y[1]),
                             _panel_title(names[2], xs[1], products_y[1]), _panel_title(names[3], xs[2], 1.0)]
    return go.Layout(layout).to_json()


def _heatmap_spec(z: np.ndarray, axes: tuple[str, str], *, colorscale: str, zmid: float | None = None,
                  lim: float | None = None, hover: str = "%{z}<extra></extra>") -> dict:
    """``_heatmap`` as plain JSON on the subplot ``axes`` (("x", "y"), ("x2", "y2"), ...); ``lim``: a colour range
    of [-lim, lim] (kept in every frame). Numbers are written in the cells of a grid up to ``DENSE`` cells a side;
    a denser one shows them on hover only (its cells are a few pixels on a phone)."""
    z = np.asarray(z, dtype=np.float32)
    spec = {"type": "heatmap", "z": z, "text": _cell_text(z), "texttemplate": "%{text}", "textfont": CELL_TEXT,
            "colorscale": colorscale_of(colorscale), "showscale": False, "xgap": 1, "ygap": 1, "name": "",
            "hovertemplate": hover, "xaxis": axes[0], "yaxis": axes[1]}
    if max(z.shape) > DENSE:
        spec["texttemplate"] = ""
    if zmid is not None:
        spec["zmid"] = zmid
    if lim is not None:
        spec.update(zmin=-lim, zmax=lim)
    return spec


def sliding_window(trace: ConvTrace, pad: int, labels: Mapping[str, str]) -> go.Figure:
    """The padded input (zero border shaded) with the window the kernel reads at one position, the kernel's weights,
    the products of the window and the kernel there, and the output being written cell by cell: the products' sum
    is the outlined output cell (as CNN Explainer shows it).

    trace: ``dlcore.conv.conv2d_trace`` (padded input, kernel, output, and the (Ho, Wo, k, k) rows, cols and
    products of every tap); one frame per output cell, in reading order. labels: ``SLIDE_LABELS``; "sum" is a
    format string with {r}, {c}, {y}; "hover" a hover template. Traces in the order of ``SLIDE_TRACES``.
    Written as plain JSON on a cached Plotly-built layout (rebuilt on every slider move; its test has
    Plotly validate every property).
    """
    padded, kernel, output = trace.padded.numpy(), trace.kernel.numpy(), trace.output.numpy()
    rows, cols, products = trace.rows.numpy(), trace.cols.numpy(), trace.products.numpy().astype(np.float32)
    ho, wo, k, _ = rows.shape
    hp, wp = padded.shape
    span = int(rows[0, 0, -1, 0] - rows[0, 0, 0, 0]) + 1          # d(k - 1) + 1: the window's side
    hover = labels["hover"] + "<extra></extra>"
    off = {"hoverinfo": "skip", "showlegend": False}
    border = np.zeros_like(padded, dtype=np.uint8)
    if pad:
        border[:pad, :] = border[-pad:, :] = border[:, :pad] = border[:, -pad:] = 1
    weights = (wp, max(k, 0.3 * wp, 2.5), max(wo, 2.5))
    marker = float(np.clip(0.8 * 280 / sum(weights), 6, 24))   # px: inside a cell at 390 px wide
    lim_w = float(np.abs(kernel).max()) or 1.0
    lim_p = float(np.abs(products).max()) or 1.0

    texts = _cell_text(products, most=products.size)              # (Ho, Wo, k, k), formatted once
    n = ho * wo
    revealed = (np.arange(n)[None, :] <= np.arange(n)[:, None]).astype(np.uint8).reshape(n, ho, wo)
    tap_x, tap_y = cols.reshape(n, k * k).astype(np.uint8), rows.reshape(n, k * k).astype(np.uint8)

    def moving(r: int, c: int) -> list[dict]:
        """What changes from one output cell to the next: taps, window, products, revealed cells, cell."""
        i = r * wo + c
        wx, wy = _square(rows[r, c, 0, 0], cols[r, c, 0, 0], span, span)
        sx, sy = _square(r, c, 1, 1)
        return [{"type": "scatter", "x": tap_x[i], "y": tap_y[i]},   # arrays: packed in one piece each
                {"type": "scatter", "x": np.float32(wx), "y": np.float32(wy)},
                {"type": "heatmap", "z": products[r, c], "text": texts[r, c]},
                {"type": "heatmap", "z": revealed[i]},
                {"type": "scatter", "x": np.float32(sx), "y": np.float32(sy)}]

    def total(r: int, c: int) -> str:
        """The products' sum, written under them as the title of their x axis (frames update it)."""
        return labels["sum"].format(r=r, c=c, y=_fmt(output[r, c]))

    taps, window, prods, curtain, cell = moving(0, 0)
    fx, fy = _square(0, 0, k, k)
    data = [
        _heatmap_spec(padded, ("x", "y"), colorscale="Blues", hover=hover),                               # input
        {"type": "heatmap", "z": border, "colorscale": [[0, "rgba(0,0,0,0)"], [1, PADDING]], "zmin": 0, "zmax": 1,
         "showscale": False, "xaxis": "x", "yaxis": "y", **off},                                          # padding
        {**taps, "mode": "markers", "marker": {"symbol": "square-open", "size": marker, "color": ACCENT,
                                               "line": {"width": 3, "color": ACCENT}},
         "xaxis": "x", "yaxis": "y", **off},                                                              # taps
        {**window, "mode": "lines", "line": {"color": ACCENT, "width": 2, "dash": "dot"}, "xaxis": "x",
         "yaxis": "y", **off},                                                                            # window
        _heatmap_spec(kernel, ("x2", "y2"), colorscale=DIVERGING, lim=lim_w,
                      hover="w[%{y},%{x}] = %{z}<extra></extra>"),                                         # kernel
        {**_heatmap_spec(products[0, 0], ("x3", "y3"), colorscale=DIVERGING, lim=lim_p,
                         hover="x · w = %{z}<extra></extra>"), **prods},                                   # products
        {"type": "scatter", "x": fx, "y": fy, "mode": "lines", "line": {"color": ACCENT, "width": 4},
         "xaxis": "x3", "yaxis": "y3", **off},                                                            # their frame
        _heatmap_spec(output, ("x4", "y4"), colorscale=DIVERGING, zmid=0.0, hover=hover),                 # output
        {**curtain, "colorscale": CURTAIN, "zmin": 0, "zmax": 1, "showscale": False,
         "xaxis": "x4", "yaxis": "y4", **off},                                                            # not yet
        {**cell, "mode": "lines", "line": {"color": ACCENT, "width": 4}, "xaxis": "x4", "yaxis": "y4", **off},
    ]
    moved = [SLIDE_TRACES.index(name) for name in ("taps", "window", "products", "curtain", "cell")]
    names = [f"{r},{c}" for r in range(ho) for c in range(wo)]
    frames = [{"name": f"{r},{c}", "traces": moved, "data": moving(r, c),
               "layout": {"xaxis3": {"title": {"text": total(r, c)}}}} for r in range(ho) for c in range(wo)]
    titles = (labels["padded_input"], labels["kernel"], labels["products"], labels["output"])
    layout = json.loads(_slide_layout((hp, wp), k, (ho, wo), titles, labels["slide_title"]))
    layout["xaxis3"]["title"] = {"text": total(0, 0), "font": {"size": 14}, "standoff": 4}
    layout.update(animation_layout(names, play=labels["play"], pause=labels["pause"], step_label=labels["position"],
                                   duration_ms=350, below_px=CONTROLS_BELOW))
    return plain(data, layout, frames)


def transposed_stamping(views: TransposedViews, pad: int, labels: Mapping[str, str]) -> go.Figure:
    """Scatter view: the canvas accumulating input cell (a, b)'s stamp x[a, b] * w, frame by frame;
    the dashed box is what remains after cropping ``pad`` from each side. labels: ``TRANSPOSED_LABELS``."""
    stamps, canvas = views.stamps.numpy(), views.canvas.numpy()
    h, w = stamps.shape[:2]
    n_h, n_w = canvas.shape
    zmax = float(np.abs(canvas).max()) or 1.0
    fig = go.Figure(_heatmap(np.zeros_like(canvas), hover=labels["hover"] + "<extra></extra>"))
    fig.data[0].update(zmin=-zmax, zmax=zmax, zmid=None)
    bx, by = _square(pad, pad, n_h - 2 * pad, n_w - 2 * pad)
    fig.add_trace(go.Scatter(x=bx, y=by, mode="lines", line={"dash": "dash", "color": "#000"}, hoverinfo="skip",
                             showlegend=False))
    frames, names, acc = [], [], np.zeros_like(canvas)
    for a in range(h):
        for b in range(w):
            acc = acc + stamps[a, b]
            names.append(f"{a},{b}")
            frames.append({"name": names[-1], "traces": [0],
                           "data": [{"type": "heatmap", "z": acc.astype(np.float32), "text": _cell_text(acc)}]})
    height = 520
    head, top = _title(labels["scatter_title"], 8, height)
    layout: dict = {"title": head, "height": height, "showlegend": False,
                    "margin": {"l": 30, "r": 10, "t": top, "b": CONTROLS_PX}}
    _grid_axes(layout, 1, (n_h, n_w), [0.0, 1.0], [0.0, 1.0])
    layout["yaxis"]["constraintoward"] = "middle"
    layout.update(animation_layout(names, play=labels["play"], pause=labels["pause"], step_label=labels["input_cell"],
                                   duration_ms=500, below_px=CONTROLS_BELOW))
    fig.update_layout(layout)
    return with_frames(fig, frames)


def direct_view(views: TransposedViews, direct: np.ndarray, labels: Mapping[str, str]) -> go.Figure:
    """Direct view of the transposed convolution: the spread input and the flipped kernel, then their stride-1
    convolution ``direct`` and PyTorch's answer, two by two. labels: ``TRANSPOSED_LABELS``."""
    return grids([(labels["spread_input"], views.dilated.numpy()), (labels["flipped_kernel"], views.flipped.numpy()),
                  (labels["direct_result"], direct), (labels["torch_result"], views.output.numpy())],
                 title=labels["direct_title"], cols=2, hover=labels["hover"])


def grids(panels: list[tuple[str, np.ndarray]], *, title: str, text: bool = True, colorscale: str = DIVERGING,
          zmid: float | None = 0.0, cols: int | None = None, row_px: int = 240, hover: str = "%{z}") -> go.Figure:
    """Heatmaps with their own titles, ``cols`` to a row (all in one row by default): square cells, row 0 at the
    top, every title wrapped to its panel's width on a phone and given room above its panel."""
    cols = cols or len(panels)
    n_rows = -(-len(panels) // cols)
    units = TITLE_UNITS if cols == 1 else PANEL_UNITS * 2 // cols
    names = [wrap(name, units) for name, _ in panels]
    bands = [17 * max(names[i].count("<br>") + 1 for i in range(r * cols, min(len(panels), (r + 1) * cols))) + 16
             for r in range(n_rows)]
    ticks = 26                                             # x tick labels under a row
    plot_h = n_rows * row_px + sum(ticks + band for band in bands[1:])
    _, top = _title(title, bands[0], 1.0)
    height = top + plot_h + 40
    head, _ = _title(title, bands[0], height)
    gap = 0.08
    width = (1 - gap * (cols - 1)) / cols
    layout: dict = {"title": head, "height": height, "showlegend": False,
                    "margin": {"l": 30, "r": 10, "t": top, "b": 40}, "annotations": []}
    fig = go.Figure()
    y_top = 1.0
    for r in range(n_rows):
        if r:
            y_top -= (ticks + bands[r]) / plot_h
        y = [max(0.0, y_top - row_px / plot_h), y_top]
        for c in range(cols):
            i = r * cols + c
            if i >= len(panels):
                break
            x = [c * (width + gap), c * (width + gap) + width]
            z = np.asarray(panels[i][1])
            _grid_axes(layout, i + 1, z.shape, x, y)
            layout["annotations"].append(_panel_title(names[i], x, y_top))
            suffix = "" if i == 0 else str(i + 1)
            fig.add_trace(_heatmap(z, text=text, colorscale=colorscale, zmid=zmid, hover=hover + "<extra></extra>")
                          .update(xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
        y_top = y[0]
    fig.update_layout(layout)
    return fig


def matrix(c: np.ndarray, labels: Mapping[str, str]) -> go.Figure:
    """The convolution matrix C (rows: output cells, columns: input cells); zeros left blank.
    labels: ``MATRIX_LABELS`` ("matrix_title" with {r}, {c}: C's shape; "matrix_hover" a Plotly hover template)."""
    title, x, y = labels["matrix_title"].format(r=c.shape[0], c=c.shape[1]), labels["matrix_x"], labels["matrix_y"]
    z = np.where(c == 0, np.nan, c).astype(np.float32)
    fig = go.Figure(go.Heatmap(z=z, colorscale=DIVERGING, zmid=0, xgap=0.5, ygap=0.5,
                               hovertemplate=labels["matrix_hover"] + "<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return base_layout(fig, title, x=x, y=y, height=460)


def images(panels: list[tuple[str, np.ndarray]], *, title: str, cols: int = 4, height_per_row: int = 220,
           colorscale: str = "gray", symmetric: bool = False) -> go.Figure:
    """A grid of greyscale images (feature maps); ``symmetric`` centres the colour scale on 0."""
    n = len(panels)
    rows = (n + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=min(cols, n), subplot_titles=[p[0] for p in panels],
                        horizontal_spacing=0.02, vertical_spacing=0.08)
    for i, (_, z) in enumerate(panels):
        z = np.asarray(z, dtype=np.float32)
        lim = float(np.abs(z).max()) or 1.0
        kw = {"zmin": -lim, "zmax": lim} if symmetric else {}
        fig.add_trace(go.Heatmap(z=z, colorscale=DIVERGING if symmetric else colorscale, showscale=False,
                                 hoverinfo="skip", **kw), i // cols + 1, i % cols + 1)
    _square_cells(fig, n)
    fig.update_yaxes(showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    return base_layout(fig, title, height=max(300, rows * height_per_row + 80))


def overlaps(counts: np.ndarray, k: int, stride: int, labels: Mapping[str, str]) -> go.Figure:
    """How many input cells write to each output cell of a transposed convolution (k, stride): uneven counts are
    the checkerboard. labels: ``CHECKER_LABELS`` ("overlaps" with {k}, {s})."""
    return grids([(labels["overlaps"].format(k=k, s=stride), counts)], title=labels["overlap_title"],
                 colorscale="Blues", zmid=None, hover=labels["hover"])


def upsampling(up: Upsampled, labels: Mapping[str, str]) -> go.Figure:
    """A smooth image upsampled x2 three ways, side by side. labels: ``CHECKER_LABELS``."""
    return images([(labels["up_k3"], up.transposed_k3.numpy()), (labels["up_k4"], up.transposed_k4.numpy()),
                   (labels["up_resize"], up.resize_conv.numpy())], title=labels["upsample_title"], cols=3,
                  height_per_row=320)


def feature_maps(grey: np.ndarray, filtered: np.ndarray, filter_name: str, maps: Sequence[np.ndarray],
                 labels: Mapping[str, str]) -> go.Figure:
    """The grey photo, one hand-designed filter's response (named ``filter_name``) and a random layer's channels.
    labels: ``MAPS_LABELS`` ("channel" with {i})."""
    return images([(labels["grey"], grey), (filter_name, filtered)]
                  + [(labels["channel"].format(i=i + 1), m) for i, m in enumerate(maps)], title=labels["maps_title"],
                  cols=5)


def formula_text(sizes: Sizes, config: ConvConfig, labels: Mapping[str, str]) -> str:
    """The formula line: both output sizes filled in with this setting's numbers (``sizes`` of ``config``), or why
    torch refuses one. labels: ``FORMULA_LABELS`` (Markdown format strings)."""
    i, k, s, p, d, op = config.size, config.k, config.stride, config.padding, config.dilation, config.output_padding
    if sizes.output is None:
        text = labels["too_big"].format(span=sizes.span, padded=sizes.padded)
    else:
        text = labels["formula_conv"].format(i=i, k=k, s=s, p=p, d=d, span=sizes.span, o=sizes.output)
        if len(sizes.same_inputs) > 1:
            text += " " + labels["formula_same"].format(inputs=", ".join(map(str, sizes.same_inputs)), o=sizes.output)
    if sizes.transposed is None:
        return text + "\n\n" + labels["bad_transposed"].format(s=s, d=d, op=op, why=sizes.transposed_error)
    return text + "\n\n" + labels["formula_transposed"].format(i=i, k=k, s=s, p=p, d=d, op=op, o=sizes.transposed)


def check_table(view: MatrixView, labels: Mapping[str, str]) -> pd.DataFrame:
    """The matrix view's three checks and their largest differences. labels: ``CHECK_LABELS``."""
    import pandas as pd

    return pd.DataFrame({labels["what"]: [labels[f"c{i}"] for i in range(3)], labels["error"]: list(view.errors)})


def cost_table(rows: Sequence[ConvCost], labels: Mapping[str, str]) -> pd.io.formats.style.Styler:
    """Weights and multiply-adds of each kind of layer, and their ratio to the standard one (the first row).
    labels: ``COST_LABELS``."""
    import pandas as pd

    df = pd.DataFrame({labels["kind"]: [labels[r.kind] for r in rows], labels["params"]: [r.params for r in rows],
                       labels["madds"]: [r.mult_adds for r in rows],
                       labels["ratio"]: [r.mult_adds / rows[0].mult_adds for r in rows]})
    return readable(df, counts=(labels["params"], labels["madds"]))


def _square_cells(fig: go.Figure, n: int) -> None:
    """Square pixels, row 0 at the top, in each of the first ``n`` subplots."""
    for i in range(1, n + 1):
        suffix = "" if i == 1 else str(i)
        fig.layout[f"yaxis{suffix}"].update(autorange="reversed", scaleanchor=f"x{suffix}", showgrid=False,
                                            zeroline=False, constrain="domain")
        fig.layout[f"xaxis{suffix}"].update(showgrid=False, zeroline=False, constrain="domain")
