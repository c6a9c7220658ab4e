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
    animation_controls,
    animation_layout,
    base_layout,
    plain,
    readable,
    with_frames,
)
from ui.figures.common import colorscale as colorscale_of

if TYPE_CHECKING:
    import pandas as pd

    from dlcore.conv import ConvConfig, ConvCost, ConvTrace, MatrixView, Sizes, TransposedViews, Upsampled

# the labels each builder reads (the page passes ui.i18n.labels(<prefix>, these)); "equation", "matrix_title",
# "overlaps" and "channel" are format strings the builders fill in
SLIDE_LABELS = ("padded_input", "output", "slide_title", "equation", "play", "pause", "position")   # convolution.fig
TRANSPOSED_LABELS = ("scatter_title", "play", "pause", "input_cell", "direct_title", "spread_input",
                     "flipped_kernel", "direct_result", "torch_result")                           # convolution.fig
MATRIX_LABELS = ("matrix_title", "matrix_x", "matrix_y")                                          # convolution.fig
CHECKER_LABELS = ("overlap_title", "overlaps", "upsample_title", "up_k3", "up_k4", "up_resize")  # convolution.fig
MAPS_LABELS = ("maps_title", "grey", "channel")                                                   # convolution.fig
FORMULA_LABELS = ("formula_conv", "formula_same", "too_big", "formula_transposed", "bad_transposed")  # convolution
CHECK_LABELS = ("what", "error", "c0", "c1", "c2")                                                # convolution.check
COST_LABELS = ("kind", "params", "madds", "ratio", "standard", "grouped", "depthwise", "pointwise",
               "separable")                                                                       # convolution.cost

CURTAIN = [[0.0, "rgba(250,250,250,0.92)"], [1.0, "rgba(250,250,250,0.0)"]]


def _fmt(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"


def _cell_text(a: np.ndarray) -> np.ndarray:
    return np.vectorize(_fmt)(a) if a.size <= 900 else np.full(a.shape, "")


def _heatmap(z: np.ndarray, *, text: bool = True, colorscale: str = DIVERGING, zmid: float | None = 0.0,
             showscale: bool = False, name: str = "") -> go.Heatmap:
    z = np.asarray(z, dtype=np.float32)
    kw = {"zmid": zmid} if zmid is not None else {}
    return go.Heatmap(z=z, text=_cell_text(z) if text else None, texttemplate="%{text}" if text else None,
                      textfont=CELL_TEXT, colorscale=colorscale, showscale=showscale, xgap=1, ygap=1, name=name,
                      hovertemplate="row %{y}, col %{x}: %{z}<extra></extra>", **kw)


def _square(r: float, c: float, h: float, w: float) -> tuple[list[float], list[float]]:
    """Outline of cells [r, r+h) x [c, c+w) in heatmap coordinates (cell centres at integers)."""
    y0, y1, x0, x1 = r - 0.5, r + h - 0.5, c - 0.5, c + w - 0.5
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


@lru_cache(maxsize=64)
def _slide_layout(hp: int, wo: int, titles: tuple[str, str], title: str) -> str:
    """``sliding_window``'s layout without data or animation controls, built and validated by Plotly once per
    size and labels (as JSON): input panel ``hp`` rows high, output ``wo`` columns wide."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.08,
                        column_widths=[hp / (hp + wo), wo / (hp + wo)] if hp + wo else None)
    _square_cells(fig, 2)
    fig.layout.yaxis.update(autorange=False, range=[hp + 1.5, -0.5])  # room for the equation below the input
    base_layout(fig, title, height=560)
    fig.update_layout(margin={"b": 110})                               # room for the animation controls
    return fig.layout.to_json()


def _heatmap_spec(z: np.ndarray, axes: tuple[str, str], *, colorscale: str, zmid: float | None) -> dict:
    """``_heatmap`` as plain JSON, on the subplot ``axes`` ("x", "y") or ("x2", "y2")."""
    z = np.asarray(z, dtype=np.float32)
    spec = {"type": "heatmap", "z": z, "text": _cell_text(z), "texttemplate": "%{text}", "textfont": CELL_TEXT,
            "colorscale": colorscale_of(colorscale), "showscale": False, "xgap": 1, "ygap": 1, "name": "",
            "hovertemplate": "row %{y}, col %{x}: %{z}<extra></extra>", "xaxis": axes[0], "yaxis": axes[1]}
    if zmid is not None:
        spec["zmid"] = zmid
    return spec


def sliding_window(trace: ConvTrace, pad: int, labels: Mapping[str, str]) -> go.Figure:
    """Input (zero border shaded) with the kernel's taps, output being written cell by cell.

    trace: ``dlcore.conv.conv2d_trace`` (padded input, output, and the (Ho, Wo, k, k) rows, cols and products of
    every tap); one frame per output cell, in reading order. labels: ``SLIDE_LABELS``; "equation" is a format
    string with {r}, {c}, {terms}, {y}.
    Written as plain JSON on a cached Plotly-built layout (rebuilt on every slider move; its test has
    Plotly validate every property).
    """
    padded, output = trace.padded.numpy(), trace.output.numpy()
    rows, cols, products = trace.rows.numpy(), trace.cols.numpy(), trace.products.numpy()
    equation = labels["equation"]
    ho, wo, k, _ = rows.shape
    hp, wp = padded.shape
    left, right = ("x", "y"), ("x2", "y2")
    border = np.zeros_like(padded, dtype=np.uint8)
    if pad:
        border[:pad, :] = border[-pad:, :] = border[:, :pad] = border[:, -pad:] = 1
    sx, sy = _square(0, 0, 1, 1)
    first = equation.format(r=0, c=0, terms=_terms(products[0, 0]), y=_fmt(output[0, 0]))
    off = {"hoverinfo": "skip", "showlegend": False}
    data = [
        _heatmap_spec(padded, left, colorscale="Blues", zmid=None),                                   # 0 input
        {"type": "heatmap", "z": border, "colorscale": [[0, "rgba(0,0,0,0)"], [1, "rgba(120,120,120,0.25)"]],
         "showscale": False, "hoverinfo": "skip", "xaxis": "x", "yaxis": "y"},                          # 1 zero border
        {"type": "scatter", "x": cols[0, 0].ravel(), "y": rows[0, 0].ravel(), "mode": "markers",
         "marker": {"symbol": "square-open", "size": 22, "line": {"width": 3, "color": "#E69F00"}},
         "xaxis": "x", "yaxis": "y", **off},                                                            # 2 taps
        _heatmap_spec(output, right, colorscale=DIVERGING, zmid=0.0),                                 # 3 output
        {"type": "heatmap", "z": np.zeros_like(output, dtype=np.uint8), "colorscale": CURTAIN, "zmin": 0,
         "zmax": 1, "showscale": False, "hoverinfo": "skip", "xaxis": "x2", "yaxis": "y2"},              # 4 curtain
        {"type": "scatter", "x": sx, "y": sy, "mode": "lines", "line": {"color": "#E69F00", "width": 4},
         "xaxis": "x2", "yaxis": "y2", **off},                                                          # 5 current cell
        {"type": "scatter", "x": [-0.5], "y": [hp - 0.3], "mode": "text", "text": [first],
         "textposition": "bottom right", "textfont": {"family": "monospace", "size": 13}, "cliponaxis": False,
         "xaxis": "x", "yaxis": "y", **off},                                                            # 6 equation
    ]
    frames, names = [], []
    revealed = np.zeros((ho, wo), dtype=np.uint8)
    for r in range(ho):
        for c in range(wo):
            revealed[r, c] = 1
            sx, sy = _square(r, c, 1, 1)
            name = f"{r},{c}"
            names.append(name)
            text = equation.format(r=r, c=c, terms=_terms(products[r, c]), y=_fmt(output[r, c]))
            frames.append({
                "name": name, "traces": [2, 4, 5, 6],
                "data": [{"type": "scatter", "x": cols[r, c].ravel(), "y": rows[r, c].ravel()},
                         {"type": "heatmap", "z": revealed.copy()},
                         {"type": "scatter", "x": sx, "y": sy},
                         {"type": "scatter", "text": [text]}]})
    layout = json.loads(_slide_layout(hp, wo, (labels["padded_input"], labels["output"]), labels["slide_title"]))
    layout.update(animation_layout(names, play=labels["play"], pause=labels["pause"], step_label=labels["position"],
                                   duration_ms=350))
    return plain(data, layout, frames)


def _terms(products: np.ndarray, most: int = 12) -> str:
    """'a + b + c …' for the multiply-add terms at one output position."""
    terms = products.ravel()
    shown = [_fmt(t) if t >= 0 else f"({_fmt(t)})" for t in terms[:most]]
    return " + ".join(shown) + (" + …" if terms.size > most else "")


def transposed_stamping(views: TransposedViews, pad: int, labels: Mapping[str, str]) -> go.Figure:
    """Scatter view: the canvas accumulating input cell (a, b)'s stamp x[a, b] * w, frame by frame;
    the dashed box is what remains after cropping ``pad`` from each side. labels: ``TRANSPOSED_LABELS``."""
    stamps, canvas = views.stamps.numpy(), views.canvas.numpy()
    h, w = stamps.shape[:2]
    n_h, n_w = canvas.shape
    zmax = float(np.abs(canvas).max()) or 1.0
    fig = go.Figure(_heatmap(np.zeros_like(canvas)))
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
    _square_cells(fig, 1)
    base_layout(fig, labels["scatter_title"], height=480)
    fig = animation_controls(fig, names, play=labels["play"], pause=labels["pause"], step_label=labels["input_cell"],
                             duration_ms=500)
    return with_frames(fig, frames)


def direct_view(views: TransposedViews, direct: np.ndarray, labels: Mapping[str, str]) -> go.Figure:
    """Direct view of the transposed convolution: the spread input, the flipped kernel, their stride-1
    convolution ``direct``, and PyTorch's answer, side by side. labels: ``TRANSPOSED_LABELS``."""
    return grids([(labels["spread_input"], views.dilated.numpy()), (labels["flipped_kernel"], views.flipped.numpy()),
                  (labels["direct_result"], direct), (labels["torch_result"], views.output.numpy())],
                 title=labels["direct_title"])


def grids(panels: list[tuple[str, np.ndarray]], *, title: str, text: bool = True, colorscale: str = DIVERGING,
          zmid: float | None = 0.0, height: int = 360) -> go.Figure:
    """Side-by-side heatmaps with their own titles (e.g. scatter view | direct view | torch)."""
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p[0] for p in panels], horizontal_spacing=0.05)
    for i, (_, z) in enumerate(panels, start=1):
        fig.add_trace(_heatmap(z, text=text, colorscale=colorscale, zmid=zmid), 1, i)
    _square_cells(fig, len(panels))
    return base_layout(fig, title, height=height)


def matrix(c: np.ndarray, labels: Mapping[str, str]) -> go.Figure:
    """The convolution matrix C (rows: output cells, columns: input cells); zeros left blank.
    labels: ``MATRIX_LABELS`` ("matrix_title" with {r}, {c}: C's shape)."""
    title, x, y = labels["matrix_title"].format(r=c.shape[0], c=c.shape[1]), labels["matrix_x"], labels["matrix_y"]
    z = np.where(c == 0, np.nan, c).astype(np.float32)
    fig = go.Figure(go.Heatmap(z=z, colorscale=DIVERGING, zmid=0, xgap=0.5, ygap=0.5,
                               hovertemplate="out %{y}, in %{x}: %{z}<extra></extra>"))
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
                 colorscale="Blues", zmid=None)


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
