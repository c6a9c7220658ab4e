"""Figures of the receptive-field lesson: a unit's field on the input grid and on a photo (with the
stride grid, clickable), the field size per layer, and effective vs theoretical fields. Data in, go.Figure out."""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from dlcore.receptive_field import ERFGrowth, ERFResult
from ui.figures.common import PALETTE, SEQUENTIAL, base_layout, colorscale, plain

MAX_DISPLAY = 160       # pixels per side drawn for an input map (bigger inputs are block-reduced)
MAX_DOTS = 40           # stride-grid dots per side (every m-th unit beyond that)
FIELD = "#D55E00"
DOT = "#0072B2"


def display_factor(n: int) -> int:
    """Block size that brings an n x n input map to at most MAX_DISPLAY per side."""
    return max(1, math.ceil(n / MAX_DISPLAY))


def _block_max(z: np.ndarray, f: int) -> np.ndarray:
    if f == 1:
        return z.astype(np.float32)
    n = z.shape[0]
    m = math.ceil(n / f)
    pad = np.zeros((m * f, m * f), dtype=np.float32)
    pad[:n, :n] = z
    return pad.reshape(m, f, m, f).max(axis=(1, 3))


def _png(rgb: np.ndarray) -> str:
    return _png_of(rgb.tobytes(), rgb.shape)


@lru_cache(maxsize=16)
def _png_of(pixels: bytes, shape: tuple[int, ...]) -> str:
    """A photo as a PNG data URL, cached by its pixels: a lesson shows the same photo for every unit and layer,
    and an optimised PNG takes ~25 ms to encode at 160 x 160."""
    buf = io.BytesIO()
    Image.fromarray(np.frombuffer(pixels, dtype=np.uint8).reshape(shape)).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _rect(x0: float, x1: float, y0: float, y1: float, **kw) -> dict:
    return {"type": "rect", "x0": x0, "x1": x1, "y0": y0, "y1": y1, **kw}


def unit_picture(paths: np.ndarray, rgb: np.ndarray, box: tuple[float, float, float, float],
                 centres: np.ndarray, selected: tuple[int, int], *, titles: tuple[str, str], title: str,
                 hover_unit: str, hover_pixel: str) -> go.Figure:
    """Left: the input grid shaded by how many paths reach the unit (autograd); right: the photo,
    dimmed outside the unit's field. Both show the field square and the stride grid of unit centres.

    paths: (n, n) gradient of the selected unit w.r.t. the input; rgb: (m, m, 3) uint8 photo covering
    the n x n input; box: (top, bottom, left, right) field in input pixels (may pass the border);
    centres: (R,) centre coordinate of each unit row/col (the same along both axes);
    selected: (row, col) of the unit. Dots carry customdata [row, col] for click selection.
    Written as plain JSON on a cached Plotly-built layout (every unit and layer draws it anew; its test has
    Plotly validate every property).
    """
    n = paths.shape[0]
    f = display_factor(n)
    z = _block_max(paths / paths.max() if paths.max() > 0 else paths, f)
    top, bottom, left, right = box
    lo = min(-0.5, left - 0.5, top - 0.5) - 0.5
    hi = max(n - 0.5, right + 0.5, bottom + 0.5) + 0.5
    data = [{"type": "heatmap", "z": z, "x0": (f - 1) / 2, "dx": f, "y0": (f - 1) / 2, "dy": f,
             "colorscale": colorscale("Blues"), "zmin": 0, "zmax": 1, "showscale": False,
             "xgap": 1 if n <= 48 else 0, "ygap": 1 if n <= 48 else 0,
             "hovertemplate": hover_pixel + "<extra></extra>", "xaxis": "x", "yaxis": "y"},
            {"type": "image", "source": _png(rgb), "x0": (n / rgb.shape[1] - 1) / 2, "dx": n / rgb.shape[1],
             "y0": (n / rgb.shape[0] - 1) / 2, "dy": n / rgb.shape[0], "hoverinfo": "skip", "xaxis": "x2",
             "yaxis": "y2"}]
    R = len(centres)
    step = max(1, math.ceil(R / MAX_DOTS))
    idx = np.arange(0, R, step)
    rr, cc = np.meshgrid(idx, idx, indexing="ij")
    cd = np.stack([rr.ravel(), cc.ravel()], axis=1).tolist()   # plain lists (a typed 2D array reaches a click
    #                                                            as {"0": r, "1": c})
    for ref in ("", "2"):
        data.append({"type": "scatter", "x": centres[cc.ravel()], "y": centres[rr.ravel()], "customdata": cd,
                     "mode": "markers", "marker": {"size": 7 if R <= 20 else 5, "color": DOT, "opacity": 0.8,
                                                   "line": {"width": 1, "color": "white"}},
                     "hovertemplate": hover_unit + "<extra></extra>", "showlegend": False,
                     "xaxis": f"x{ref}", "yaxis": f"y{ref}"})
        data.append({"type": "scatter", "x": [centres[selected[1]]], "y": [centres[selected[0]]],
                     "customdata": [list(selected)], "mode": "markers",
                     "marker": {"size": 14, "symbol": "star", "color": FIELD, "line": {"width": 1, "color": "white"}},
                     "hovertemplate": hover_unit + "<extra></extra>", "showlegend": False,
                     "xaxis": f"x{ref}", "yaxis": f"y{ref}"})
    shapes = []
    for ref in ("", "2"):
        xr, yr = f"x{ref}", f"y{ref}"
        shapes.append(_rect(-0.5, n - 0.5, -0.5, n - 0.5, xref=xr, yref=yr, line={"color": "#444", "width": 1}))
        shapes.append(_rect(left - 0.5, right + 0.5, top - 0.5, bottom + 0.5, xref=xr, yref=yr,
                            line={"color": FIELD, "width": 3}))
    # dim the photo outside the field (clipped to the image): the image minus the field, even-odd filled
    t, b = max(top - 0.5, -0.5), min(bottom + 0.5, n - 0.5)
    le, ri = max(left - 0.5, -0.5), min(right + 0.5, n - 0.5)
    e = n - 0.5
    shapes.append({"type": "path", "xref": "x2", "yref": "y2", "fillrule": "evenodd", "layer": "above",
                   "path": f"M-0.5,-0.5H{e}V{e}H-0.5Z M{le},{t}H{ri}V{b}H{le}Z",
                   "fillcolor": "rgba(0,0,0,0.55)", "line": {"width": 0}})
    layout = json.loads(_unit_layout(tuple(titles), title, float(lo), float(hi)))
    layout["shapes"] = shapes
    return plain(data, layout)


@lru_cache(maxsize=128)
def _unit_layout(titles: tuple[str, str], title: str, lo: float, hi: float) -> str:
    """``unit_picture``'s layout without data or shapes, built and validated by Plotly once per labels and range."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.06)
    fig.update_layout(plot_bgcolor="#e9e9e9", dragmode="pan", clickmode="event+select")
    for i in (1, 2):
        fig.update_xaxes(range=[lo, hi], showgrid=False, zeroline=False, constrain="domain", row=1, col=i)
        fig.update_yaxes(range=[hi, lo], showgrid=False, zeroline=False, scaleanchor="x" if i == 1 else "x2",
                         constrain="domain", row=1, col=i)
    base_layout(fig, title, height=500)
    fig.update_layout(margin={"t": 90})
    fig.update_annotations(yshift=6)
    return fig.layout.to_json()


def rf_per_layer(df: pd.DataFrame, input_size: int, selected: int, *, title: str, x: str, y: str, y2: str,
                 rf_name: str, jump_name: str, input_name: str) -> go.Figure:
    """Bars: receptive field of each layer of a :func:`dlcore.receptive_field.table` frame (the selected
    one highlighted); line: jump (right axis, log); dashed: the input size. Bar x = layer number (1-based)."""
    names, rf, jump = list(df.name), df.rf.to_numpy(), df.jump.to_numpy()
    L = len(rf)
    xs = np.arange(1, L + 1)
    colors = [FIELD if i + 1 == selected else PALETTE[0] for i in range(L)]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=xs, y=rf, name=rf_name, marker_color=colors, customdata=[[int(x)] for x in xs],
                         text=list(names), hovertemplate="%{x}. %{text}: r = %{y}<extra></extra>",
                         textposition="none"))
    fig.add_trace(go.Scatter(x=xs, y=jump, name=jump_name, mode="lines+markers", yaxis="y2",
                             line={"color": PALETTE[1]}, hovertemplate="%{x}: j = %{y}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[0.5, L + 0.5], y=[input_size, input_size], name=input_name, mode="lines",
                             line={"color": "#666", "dash": "dash"}, hoverinfo="skip"))
    ticks = [2**i for i in range(int(np.log2(max(int(jump.max()), 1))) + 1)]
    fig.update_xaxes(range=[0.4, L + 0.6], dtick=1 if L <= 30 else 5)
    base_layout(fig, title, x=x, y=y, height=360)
    fig.update_layout(yaxis2={"title": {"text": y2}, "overlaying": "y", "side": "right", "type": "log",
                              "showgrid": False, "tickvals": ticks, "range": [-0.1, np.log10(max(ticks)) + 0.1]},
                      bargap=0.15, clickmode="event+select")
    return fig


def _outline(box: tuple[float, float, float, float], color: str, dash: str, xref: str, yref: str) -> dict:
    top, bottom, left, right = box
    return _rect(left - 0.5, right + 0.5, top - 0.5, bottom + 0.5, xref=xref, yref=yref,
                 line={"color": color, "width": 2, "dash": dash})


def _mass_box(box: tuple[float, float, float, float], side: int) -> tuple[float, float, float, float]:
    cy, cx = round((box[0] + box[1]) / 2), round((box[2] + box[3]) / 2)
    h = (side - 1) / 2
    return cy - h, cy + h, cx - h, cx + h


def effective_vs_theoretical(res: ERFResult, *, titles: tuple[str, str, str], title: str, profile_x: str,
                             profile_y: str, names: tuple[str, str, str, str], hover: str) -> go.Figure:
    """Two |gradient| maps (random weights; all-ones weights) inside the theoretical square (dashed)
    with the square holding 95 % of the gradient (solid), and their column profiles with Gaussian fits.

    names: legend entries (random, uniform, Gaussian fit, theoretical field edge).
    """
    random, uniform, box = res.random, res.uniform, res.box
    erf_random, erf_uniform = res.erf_random, res.erf_uniform
    sigma_random, sigma_uniform = res.sigma_random, res.sigma_uniform
    n = random.shape[0]
    fig = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.07,
                        column_widths=[0.32, 0.32, 0.36])
    for col, z in ((1, random), (2, uniform)):
        fig.add_trace(go.Heatmap(z=z.astype(np.float32), colorscale=SEQUENTIAL, zmin=0, zmax=1, showscale=False,
                                 hovertemplate=hover + "<extra></extra>"), 1, col)
    shapes = []
    for ref, side in (("", erf_random), ("2", erf_uniform)):
        shapes.append(_outline(box, "white", "dash", f"x{ref}", f"y{ref}"))
        shapes.append(_outline(_mass_box(box, side), FIELD, "solid", f"x{ref}", f"y{ref}"))
    xs = np.arange(n)
    cx = (box[2] + box[3]) / 2
    for i, (z, sigma, color) in enumerate(((random, sigma_random, PALETTE[0]), (uniform, sigma_uniform, PALETTE[2]))):
        p = z.sum(0)
        p = p / p.max() if p.max() > 0 else p
        fig.add_trace(go.Scatter(x=xs, y=p, mode="lines+markers", name=names[i], line={"color": color},
                                 marker={"size": 4}), 1, 3)
        if sigma > 0:
            g = np.exp(-0.5 * ((xs - cx) / sigma) ** 2)
            fig.add_trace(go.Scatter(x=xs, y=g, mode="lines", name=names[2], showlegend=i == 0,
                                     line={"color": color, "dash": "dot", "width": 1.5}, hoverinfo="skip"), 1, 3)
    for edge in (box[2] - 0.5, box[3] + 0.5):
        fig.add_trace(go.Scatter(x=[edge, edge], y=[0, 1.05], mode="lines", name=names[3], showlegend=bool(edge < cx),
                                 line={"color": "#666", "dash": "dash", "width": 1}, hoverinfo="skip"), 1, 3)
    fig.update_layout(shapes=shapes)
    for col in (1, 2):
        fig.update_xaxes(range=[-0.5, n - 0.5], showgrid=False, constrain="domain", row=1, col=col)
        fig.update_yaxes(range=[n - 0.5, -0.5], showgrid=False, scaleanchor="x" if col == 1 else "x2",
                         constrain="domain", row=1, col=col)
    fig.update_xaxes(title_text=profile_x, row=1, col=3)
    fig.update_yaxes(title_text=profile_y, range=[0, 1.08], row=1, col=3)
    base_layout(fig, title, height=460)
    fig.update_layout(margin={"t": 90, "b": 90}, legend={"orientation": "h", "x": 1.0, "xanchor": "right",
                                                         "y": -0.18, "yanchor": "top"})
    fig.update_annotations(yshift=6)
    return fig


def growth(gr: ERFGrowth, *, title: str, x: str, y: str, names: tuple[str, str, str, str]) -> go.Figure:
    """Theoretical field side (grows like L) against effective sides (grow like sqrt L) per depth."""
    depth, rf, erf_random, erf_uniform, sqrt_fit = gr.depth, gr.rf, gr.erf_random, gr.erf_uniform, gr.sqrt_fit
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=depth, y=rf, name=names[0], mode="lines+markers",
                             line={"color": "#666", "dash": "dash"}))
    fig.add_trace(go.Scatter(x=depth, y=erf_random, name=names[1], mode="lines+markers", line={"color": PALETTE[0]}))
    fig.add_trace(go.Scatter(x=depth, y=erf_uniform, name=names[2], mode="lines+markers", line={"color": PALETTE[2]}))
    fine = np.linspace(1, max(float(depth.max()), 1.0), 60)
    fig.add_trace(go.Scatter(x=fine, y=sqrt_fit * np.sqrt(fine), name=names[3], mode="lines",
                             line={"color": PALETTE[0], "dash": "dot"}, hoverinfo="skip"))
    return base_layout(fig, title, x=x, y=y, height=360)


def _num(v: float) -> str:
    return f"{int(v)}" if float(v).is_integer() else f"{v:g}"


def recurrence_latex(df: pd.DataFrame, layer: int, most_terms: int = 7) -> str:
    """The recurrence of ``layer`` (1-based) of a :func:`dlcore.receptive_field.table` frame with its
    numbers filled in, and the closed form of r_l as a sum over the layers up to it."""
    cur = df.iloc[layer - 1]
    if layer > 1:
        prev = df.iloc[layer - 2]
        r0, j0, st0 = prev.rf, prev.jump, prev.start
    else:
        r0, j0, st0 = 1, 1, 0.0
    k, s, p, d, ke, n0 = cur.kernel, cur.stride, cur.padding, cur.dilation, cur.k_eff, cur.in_size
    lines = [
        rf"k'_{{{layer}}} &= d(k-1)+1 = {d}\,({k}-1)+1 = {ke}",
        rf"n_{{{layer}}} &= \lfloor ({n0} + 2\cdot{p} - {ke}) / {s} \rfloor + 1 = {cur.out_size}",
        rf"r_{{{layer}}} &= r_{{{layer - 1}}} + (k'-1)\,j_{{{layer - 1}}} = {_num(r0)} + {ke - 1}\cdot{_num(j0)}"
        rf" = {cur.rf}",
        rf"j_{{{layer}}} &= j_{{{layer - 1}}}\, s_{{{layer}}} = {_num(j0)}\cdot{s} = {cur.jump}",
        rf"\mathrm{{start}}_{{{layer}}} &= \mathrm{{start}}_{{{layer - 1}}} + (\tfrac{{k'-1}}{{2}} - p)\,"
        rf"j_{{{layer - 1}}}",
        rf"&= {_num(st0)} + ({_num((ke - 1) / 2)} - {p})\cdot{_num(j0)} = {_num(cur.start)}",
    ]
    terms, jump = [], 1
    for i in range(layer):
        row = df.iloc[i]
        terms.append(f"{row.k_eff - 1}\\cdot{jump}")
        jump *= int(row.stride)
    shown = terms if len(terms) <= most_terms else terms[:most_terms // 2] + [r"\cdots"] + terms[-most_terms // 2:]
    lines.append(rf"r_{{{layer}}} &= 1 + \textstyle\sum_i (k'_i - 1)\prod_{{m<i}} s_m")
    chunks = [" + ".join(shown[i:i + 4]) for i in range(0, len(shown), 4)]
    lines.append("&= 1 + " + r" \\ &\quad + ".join(chunks) + f" = {cur.rf}")
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def layer_table(df: pd.DataFrame, *, headers: dict[str, str], kinds: dict[str, str], selected: int, total: str):
    """The per-layer results as a pandas Styler: rows that drop input pixels tinted, the
    selected layer bold, a totals row (parameters, multiply-adds) at the bottom."""
    show = pd.DataFrame({
        headers["index"]: range(1, len(df) + 1),
        headers["name"]: df.name, headers["kind"]: [kinds[k] for k in df.kind],
        headers["out"]: [f"{c} × {n} × {n}" for c, n in zip(df.c_out, df.out_size)],
        headers["dropped"]: df.dropped.astype("float64"), headers["k_eff"]: df.k_eff.astype("float64"),
        headers["rf"]: df.rf.astype("float64"), headers["jump"]: df.jump.astype("float64"),
        headers["start"]: df.start.astype("float64"),
        headers["params"]: df.params.astype("float64"), headers["macs"]: df.macs.astype("float64"),
    })
    totals = {c: np.nan for c in show.columns}
    totals.update({headers["index"]: np.nan, headers["name"]: total, headers["kind"]: "", headers["out"]: "",
                   headers["params"]: float(df.params.sum()), headers["macs"]: float(df.macs.sum())})
    show = pd.concat([show, pd.DataFrame([totals])], ignore_index=True)
    dropped = list(df.dropped) + [0]

    def paint(row: pd.Series) -> list[str]:
        i = row.name
        css = ""
        if i < len(df) and dropped[i] > 0:
            css = "background-color: rgba(230,159,0,0.22)"
        if i == selected - 1:
            css = "background-color: rgba(213,94,0,0.20); font-weight: bold"
        if i == len(df):
            css = "font-weight: bold; border-top: 2px solid #888"
        return [css] * len(row)

    fmt = {c: "{:,.0f}" for c in (headers["index"], headers["dropped"], headers["k_eff"], headers["rf"],
                                   headers["jump"], headers["params"], headers["macs"])}
    fmt[headers["start"]] = "{:g}"
    return show.style.apply(paint, axis=1).format(fmt, na_rep="")


# ---------------------------------------------------------------- the lesson's figures with their labels
# ``lab`` maps the keys of LABELS (after "receptive_field.") to translated text: the page passes
# ``ui.i18n.labels("receptive_field", LABELS)``; templates ("{r}", "{layer}") are filled in here.

TABLE_COLUMNS = ("index", "name", "kind", "out", "dropped", "k_eff", "rf", "jump", "start", "params", "macs")
LABELS = ("total", *(f"cols.{k}" for k in TABLE_COLUMNS), *(f"kinds.{k}" for k in ("conv", "max_pool", "avg_pool")),
          *(f"fig.{k}" for k in ("grid_title", "photo_title", "unit_title", "hover_unit", "hover_pixel", "rf_title",
                                 "layer_axis", "rf_axis", "jump_axis", "input_size", "erf_random", "erf_uniform",
                                 "erf_profile", "erf_title", "column_axis", "profile_axis", "random", "uniform",
                                 "gauss", "edge", "growth_title", "depth_axis", "side_axis", "theoretical",
                                 "sqrt_fit")))


def unit_figure(u, photo: np.ndarray, df: pd.DataFrame, layer: int, unit: tuple[int, int],
                lab: Mapping[str, str]) -> go.Figure:
    """The field of ``unit`` (row, col) of ``layer`` (1-based) of the table ``df``, from a
    dlcore.receptive_field.UnitField ``u``, on the grid and on ``photo``."""
    rec = df.iloc[layer - 1]
    return unit_picture(u.grad, photo, u.box, u.centres, unit, titles=(lab["fig.grid_title"], lab["fig.photo_title"]),
                        title=lab["fig.unit_title"].format(layer=layer, row=unit[0], col=unit[1], r=int(rec.rf),
                                                           j=int(rec.jump)),
                        hover_unit=lab["fig.hover_unit"], hover_pixel=lab["fig.hover_pixel"])


def rf_figure(df: pd.DataFrame, input_size: int, layer: int, lab: Mapping[str, str]) -> go.Figure:
    """The receptive field and jump of every layer of ``df``, ``layer`` highlighted."""
    return rf_per_layer(df, input_size, layer, title=lab["fig.rf_title"], x=lab["fig.layer_axis"], y=lab["fig.rf_axis"],
                        y2=lab["fig.jump_axis"], rf_name=lab["cols.rf"], jump_name=lab["cols.jump"],
                        input_name=lab["fig.input_size"])


def erf_figure(res: ERFResult, lab: Mapping[str, str]) -> go.Figure:
    """An effective field against the theoretical one (``res``: dlcore.receptive_field.effective_field's result)."""
    n = res.random.shape[0]
    return effective_vs_theoretical(
        res, titles=(lab["fig.erf_random"], lab["fig.erf_uniform"], lab["fig.erf_profile"]),
        title=lab["fig.erf_title"].format(r=res.rf, e=res.erf_random, u=res.erf_uniform, n=n),
        profile_x=lab["fig.column_axis"], profile_y=lab["fig.profile_axis"],
        names=(lab["fig.random"], lab["fig.uniform"], lab["fig.gauss"], lab["fig.edge"]), hover=lab["fig.hover_pixel"])


def growth_figure(gr: ERFGrowth, lab: Mapping[str, str]) -> go.Figure:
    """Field width against depth, with the fitted a·√L (its slope in the legend)."""
    return growth(gr, title=lab["fig.growth_title"], x=lab["fig.depth_axis"], y=lab["fig.side_axis"],
                  names=(lab["fig.theoretical"], lab["fig.random"], lab["fig.uniform"],
                         lab["fig.sqrt_fit"].format(a=f"{gr.sqrt_fit:.1f}")))


def layer_styler(df: pd.DataFrame, layer: int, lab: Mapping[str, str]):
    """:func:`layer_table` with the lesson's headers, kinds' names and totals label."""
    return layer_table(df, headers={k: lab[f"cols.{k}"] for k in TABLE_COLUMNS},
                       kinds={k: lab[f"kinds.{k}"] for k in ("conv", "max_pool", "avg_pool")}, selected=layer,
                       total=lab["total"])
