"""Figures of the attention lesson: heatmaps of scores and weights, grids of heads, token-to-token lines,
positional encodings. Pure: arrays and translated labels in, ``go.Figure`` out."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures.common import (
    CELL_TEXT,
    DIVERGING,
    LOG_AXIS,
    MIN_TEXT_PX,
    PALETTE,
    SEQUENTIAL,
    base_layout,
    color,
    plain,
)
from ui.figures.common import colorscale as colorscale_of

MASKED = "rgba(150,150,150,0.25)"   # background that shows through masked (NaN) cells
GRID_LABELLED = 20                  # MiniLM's grid names its tokens up to this many (a row of 290 px)


def unique_labels(tokens: Sequence[str]) -> list[str]:
    """Token labels made distinct with zero-width spaces, so Plotly keeps repeated tokens ("the", "the")
    as separate categories while they still read the same."""
    seen: dict[str, int] = {}
    out = []
    for tok in tokens:
        n = seen.get(tok, 0)
        seen[tok] = n + 1
        out.append(tok + "\u200b" * n)
    return out


def _heatmap(z: np.ndarray, x: list[str], y: list[str], *, colorscale: str, zmin: float | None, zmax: float | None,
             text: bool, hover: str, showscale: bool = False, coloraxis: str | None = None,
             zmid: float | None = None) -> go.Heatmap:
    kw: dict = {"coloraxis": coloraxis} if coloraxis else {"colorscale": colorscale, "zmin": zmin, "zmax": zmax,
                                                           "showscale": showscale, "zmid": zmid}
    if text:
        kw["texttemplate"] = "%{z:.2f}"
        kw["textfont"] = CELL_TEXT
    return go.Heatmap(z=z, x=x, y=y, hovertemplate=hover + "<extra></extra>", xgap=1, ygap=1, **kw)


def _heatmap_spec(z: np.ndarray, x: list[str], y: list[str], axes: int, *, colorscale: str, zmin: float, zmax: float,
                  text: bool, hover: str, showscale: bool = False) -> dict:
    """``_heatmap`` as plain JSON on subplot ``axes`` (1, 2, ...)."""
    n = "" if axes == 1 else str(axes)
    spec = {"type": "heatmap", "z": np.asarray(z), "x": x, "y": y, "hovertemplate": hover + "<extra></extra>",
            "xgap": 1, "ygap": 1, "colorscale": colorscale_of(colorscale), "zmin": zmin, "zmax": zmax,
            "showscale": showscale, "xaxis": f"x{n}", "yaxis": f"y{n}"}
    if text:
        spec["texttemplate"] = "%{z:.2f}"
        spec["textfont"] = CELL_TEXT
    return spec


@lru_cache(maxsize=128)
def _maps_layout(titles: tuple[str, ...], title: str, x_titles: tuple[str, ...], query_axis: str, n_q: int,
                 widths: tuple[float, ...] | None, spacing: float, row_height: int) -> str:
    """The layout of a row of category heatmaps (queries down, row 0 at the top), built and validated by Plotly
    once per labels and size (as JSON); ``hand_maps`` and ``compare_maps`` add the data as plain JSON."""
    fig = make_subplots(1, len(titles), subplot_titles=list(titles), horizontal_spacing=spacing,
                        column_widths=list(widths) if widths else None)
    for col, x_title in enumerate(x_titles, start=1):
        fig.update_yaxes(autorange="reversed", type="category", row=1, col=col)
        fig.update_xaxes(type="category", title_text=x_title, row=1, col=col)
    fig.update_yaxes(title_text=query_axis, row=1, col=1)
    fig.update_layout(plot_bgcolor=MASKED)
    return base_layout(fig, title, height=150 + row_height * n_q).layout.to_json()


def hand_maps(scores: np.ndarray, logits: np.ndarray, weights: np.ndarray, output: np.ndarray, q_labels: list[str],
              k_labels: list[str], row_sums: np.ndarray, *, titles: Sequence[str], title: str, key_axis: str,
              query_axis: str, dim_axis: str, sum_label: str) -> go.Figure:
    """Scores QK^T, the softmax weights (masked cells grey, each row's sum written beside it) and the output AV.

    Written as plain JSON on a cached Plotly-built layout (it changes with every input; its test has Plotly
    validate every property)."""
    q, k = unique_labels(q_labels), unique_labels(k_labels)
    masked = np.isneginf(logits)
    s = np.where(masked, np.nan, scores)
    lim = float(np.nanmax(np.abs(s))) if np.isfinite(s).any() else 1.0
    w = np.where(masked, np.nan, weights)
    dims = [f"{dim_axis}{j + 1}" for j in range(output.shape[1])]
    lo = float(np.abs(output).max()) or 1.0
    data = [_heatmap_spec(s, k, q, 1, colorscale=DIVERGING, zmin=-lim, zmax=lim, text=s.size <= 80,
                          hover="%{y} · %{x}: %{z:.3f}"),
            _heatmap_spec(w, k, q, 2, colorscale=SEQUENTIAL, zmin=0, zmax=1, text=w.size <= 144,
                          hover="%{y} → %{x}: %{z:.3f}"),
            _heatmap_spec(output, dims, q, 3, colorscale=DIVERGING, zmin=-lo, zmax=lo, text=output.size <= 48,
                          hover="%{y}, %{x}: %{z:.3f}")]
    layout = json.loads(_maps_layout(tuple(titles), title, (key_axis, key_axis, dim_axis), query_axis, len(q),
                                     (0.36, 0.4, 0.24), 0.11, 34))
    layout["annotations"] += [{"x": 1.0, "xref": "x2 domain", "y": q[r], "yref": "y2",
                               "text": f"{sum_label}{total:.3f}",
                               "showarrow": False, "xanchor": "left", "xshift": 2, "font": {"size": MIN_TEXT_PX}}
                              for r, total in enumerate(row_sums)]
    return plain(data, layout)


def compare_maps(maps: Sequence[np.ndarray], names: Sequence[str], q_labels: list[str], k_labels: list[str], *,
                 title: str, key_axis: str, query_axis: str) -> go.Figure:
    """Weight maps of two scoring functions on the same inputs, side by side (masked cells grey); plain JSON on a
    cached Plotly-built layout, like ``hand_maps``."""
    q, k = unique_labels(q_labels), unique_labels(k_labels)
    data = [_heatmap_spec(w, k, q, i + 1, colorscale=SEQUENTIAL, zmin=0, zmax=1, text=w.size <= 144,
                          hover="%{y} → %{x}: %{z:.3f}", showscale=i == len(maps) - 1) for i, w in enumerate(maps)]
    layout = json.loads(_maps_layout(tuple(names), title, (key_axis,) * len(maps), query_axis, len(q), None, 0.08, 30))
    return plain(data, layout)


@lru_cache(maxsize=64)
def _saturation_layout(titles: tuple[str, ...], title: str, x: str) -> str:
    fig = make_subplots(1, 2, subplot_titles=list(titles), horizontal_spacing=0.1)
    fig.update_xaxes(**LOG_AXIS, title_text=x)
    fig.update_yaxes(range=[0, 1.02], row=1, col=1)
    base_layout(fig, title, height=360)
    # below the axes: at the top right the legend would cover the second panel's title
    return fig.update_layout(legend={"y": -0.3, "yanchor": "top", "x": 0.5, "xanchor": "center"},
                             margin_b=80).layout.to_json()


def saturation(d_k: np.ndarray, max_weight: np.ndarray, entropy: np.ndarray, current: int, *, names: Sequence[str],
               titles: Sequence[str], title: str, x: str, current_name: str) -> go.Figure:
    """Largest weight and row entropy against d_k, scaled vs unscaled (log x axis), the current d_k marked;
    plain JSON on a cached Plotly-built layout."""
    data = []
    for col, series in enumerate((max_weight, entropy), start=1):
        n = "" if col == 1 else str(col)
        data += [{"type": "scatter", "x": np.asarray(d_k), "y": np.asarray(series[j]), "name": name,
                  "mode": "lines+markers", "showlegend": col == 1, "line": {"color": color(j)},
                  "hovertemplate": "d_k=%{x}: %{y:.3f}<extra></extra>", "xaxis": f"x{n}", "yaxis": f"y{n}"}
                 for j, name in enumerate(names)]
    layout = json.loads(_saturation_layout(tuple(titles), title, x))
    layout["shapes"] = [{"type": "line", "x0": current, "x1": current, "xref": f"x{n}", "y0": 0, "y1": 1,
                         "yref": f"y{n} domain", "line": {"dash": "dot", "color": PALETTE[7]}} for n in ("", "2")]
    layout["annotations"].append({"x": float(np.log10(current)), "y": 1, "xref": "x", "yref": "y domain",
                                  "text": current_name, "showarrow": False, "yanchor": "bottom", "xanchor": "left"})
    return plain(data, layout)


def head_grid(maps: np.ndarray, row_titles: Sequence[str], col_titles: Sequence[str], x_labels: list[str],
              y_labels: list[str], *, title: str, percent: bool = False, cell: int = 0, show_ticks: bool = True,
              colorbar: str = "", wrap: int = 0, query_ticks: bool = False) -> go.Figure:
    """A grid of attention maps (rows x cols x T_query x T_key), all on one 0-1 colour scale.

    percent: send weights as whole percents (uint8), which keeps a 6 x 12 grid of 40 x 40 maps small.
    wrap: lay the panels out ``wrap`` to a row, each titled "row title · column title" (wide panels: every token
    label fits upright). query_ticks: label the queries on the left panels even when ``show_ticks`` is off.
    """
    R, C = maps.shape[:2]
    x, y = unique_labels(x_labels), unique_labels(y_labels)
    if wrap:
        panels = [(maps[r, c], f"{row_titles[r]} · {col_titles[c]}") for r in range(R) for c in range(C)]
        rows, cols = -(-len(panels) // wrap), wrap
        fig = make_subplots(rows, cols, subplot_titles=[name for _, name in panels], horizontal_spacing=0.12 / cols,
                            vertical_spacing=0.35 / rows)
    else:
        panels, rows, cols = [(maps[r, c], None) for r in range(R) for c in range(C)], R, C
        fig = make_subplots(R, C, column_titles=list(col_titles), row_titles=list(row_titles),
                            horizontal_spacing=0.1 / C if not show_ticks else 0.25 / C,
                            vertical_spacing=0.12 / R if not show_ticks else 0.3 / R)
    z = np.round(maps * 100).astype(np.uint8) if percent else maps
    hover = "%{y} → %{x}: %{z}%" if percent else "%{y} → %{x}: %{z:.3f}"
    for i in range(len(panels)):
        fig.add_trace(go.Heatmap(z=z[i // C, i % C], x=x, y=y, coloraxis="coloraxis",
                                 hovertemplate=hover + "<extra></extra>"), i // cols + 1, i % cols + 1)
    tick_font = {"size": CELL_TEXT["size"] if wrap else MIN_TEXT_PX}
    fig.update_yaxes(autorange="reversed", type="category", showticklabels=show_ticks, tickfont=tick_font)
    fig.update_xaxes(type="category", showticklabels=show_ticks, tickfont=tick_font, tickangle=0 if wrap else None)
    for c in range(2, cols + 1):   # every panel shares the query tokens: label them once, on the left
        fig.update_yaxes(showticklabels=False, col=c)
    if not show_ticks:   # no tick marks either (they would poke into the neighbouring panel)
        fig.update_yaxes(ticks="")
        fig.update_xaxes(ticks="")
    if query_ticks:
        fig.update_yaxes(showticklabels=True, dtick=1, col=1)   # every token, none skipped
    fig.update_layout(coloraxis={"colorscale": SEQUENTIAL, "cmin": 0, "cmax": 100 if percent else 1,
                                 "colorbar": {"title": {"text": colorbar}, "thickness": 12}})
    fig.update_annotations(font={"size": 11 if not wrap else CELL_TEXT["size"]})
    height = cell * rows + 120 if cell else max(300, 120 + rows * (60 + (20 if wrap else 16) * len(y)))
    return base_layout(fig, title, height=height)


def one_head(weights: np.ndarray, tokens: list[str], *, title: str, key_axis: str, query_axis: str) -> go.Figure:
    """One attention map, large, with every token on both axes."""
    lab = unique_labels(tokens)
    fig = go.Figure(_heatmap(weights, lab, lab, colorscale=SEQUENTIAL, zmin=0, zmax=1, text=len(tokens) <= 16,
                             hover="%{y} → %{x}: %{z:.3f}", showscale=True))
    fig.update_yaxes(autorange="reversed", type="category", title_text=query_axis)
    fig.update_xaxes(type="category", title_text=key_axis, tickangle=-60)
    return base_layout(fig, title, height=max(420, 160 + 18 * len(tokens)))


def token_lines(weights: np.ndarray, tokens: list[str], chosen: int, *, title: str, left: str, right: str) -> go.Figure:
    """BertViz-style lines from every token on the left to the tokens it attends to on the right; the chosen
    token's lines in colour (width and opacity follow the weight), the others faint."""
    T = len(tokens)
    fig = go.Figure()
    shapes = []
    for i in range(T):
        for j in range(T):
            w = float(weights[i, j])
            if i == chosen:
                shapes.append({"type": "line", "x0": 0, "x1": 1, "y0": i, "y1": j, "layer": "below",
                               "line": {"color": PALETTE[0], "width": 0.5 + 7 * w},
                               "opacity": float(min(1.0, 0.08 + w * 1.5))})
            elif w > 0.15:
                shapes.append({"type": "line", "x0": 0, "x1": 1, "y0": i, "y1": j, "layer": "below",
                               "line": {"color": PALETTE[8], "width": 0.5 + 2 * w}, "opacity": 0.25})
    fig.update_layout(shapes=shapes)
    row = weights[chosen]
    left_colors = [PALETTE[0] if i == chosen else PALETTE[7] for i in range(T)]
    fig.add_trace(go.Scatter(x=[0] * T, y=list(range(T)), mode="text", text=list(tokens), textposition="middle left",
                             textfont={"color": left_colors, "size": 13}, hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=[1] * T, y=list(range(T)), mode="text",
                             text=[f"{tok}  {100 * w:.0f}%" for tok, w in zip(tokens, row)],
                             textposition="middle right",
                             textfont={"size": 13, "color": [PALETTE[0] if w >= 0.1 else PALETTE[8] for w in row]},
                             hoverinfo="skip", showlegend=False))
    fig.update_xaxes(range=[-0.6, 1.6], visible=False, tickvals=[0, 1])
    fig.update_yaxes(range=[T - 0.5, -0.5], visible=False)
    fig.add_annotation(x=0, y=-1, text=f"<b>{left}</b>", showarrow=False, xanchor="right")
    fig.add_annotation(x=1, y=-1, text=f"<b>{right}</b>", showarrow=False, xanchor="left")
    fig.update_layout(plot_bgcolor="rgba(0,0,0,0)")
    return base_layout(fig, title, height=max(380, 110 + 22 * T))


def layer_head_maps(panels: Sequence[tuple[str, np.ndarray, float]], *, title: str, x: str, y: str,
                    marks: Sequence[tuple[int, int]] = ()) -> go.Figure:
    """Small (layers x heads) heatmaps of per-head statistics (entropy, role scores); ``marks`` ring the best head
    of each panel. panels: (name, values, zmax)."""
    n = len(panels)
    cols = min(3, n)
    rows = -(-n // cols)
    fig = make_subplots(rows, cols, subplot_titles=[p[0] for p in panels], horizontal_spacing=0.07,
                        vertical_spacing=0.18)
    for i, (_, z, zmax) in enumerate(panels):
        r, c = i // cols + 1, i % cols + 1
        L, H = z.shape
        fig.add_trace(go.Heatmap(z=z, x=list(range(1, H + 1)), y=list(range(1, L + 1)), colorscale=SEQUENTIAL, zmin=0,
                                 zmax=zmax, showscale=False,   # 6 x 12 cells: too dense for numbers, on hover
                                 hovertemplate=f"{y} %{{y}}, {x} %{{x}}: %{{z:.3f}}<extra></extra>"), r, c)
        if i < len(marks):
            layer, head = marks[i]
            fig.add_shape(type="rect", x0=head + 0.5, x1=head + 1.5, y0=layer + 0.5, y1=layer + 1.5,
                          line={"color": PALETTE[3], "width": 3}, row=r, col=c)
        fig.update_yaxes(autorange="reversed", dtick=1, title_text=y if c == 1 else None, row=r, col=c)
        fig.update_xaxes(dtick=1, title_text=x, row=r, col=c)
    return base_layout(fig, title, height=110 + 250 * rows)


def positional(pe: np.ndarray, similarity: np.ndarray, *, titles: Sequence[str], title: str, pos: str,
               dim: str) -> go.Figure:
    """The sinusoidal matrix (positions x dimensions) and the dot products of position vectors. Each colour bar
    sits just right of its own map, clear of the next map's labels (issue 31)."""
    fig = make_subplots(1, 2, subplot_titles=list(titles), horizontal_spacing=0.2, column_widths=[0.55, 0.45])
    right = fig.layout.xaxis.domain[1]
    fig.add_trace(go.Heatmap(z=pe, colorscale=DIVERGING, zmin=-1, zmax=1,
                             colorbar={"x": right + 0.01, "xanchor": "left", "thickness": 10, "len": 0.9},
                             hovertemplate=f"{pos} %{{y}}, {dim} %{{x}}: %{{z:.3f}}<extra></extra>"), 1, 1)
    fig.add_trace(go.Heatmap(z=similarity, colorscale=SEQUENTIAL, colorbar={"thickness": 10, "len": 0.9},
                             hovertemplate=f"{pos} %{{y}} · {pos} %{{x}}: %{{z:.2f}}<extra></extra>"), 1, 2)
    fig.update_yaxes(autorange="reversed", title_text=pos)
    fig.update_xaxes(title_text=dim, row=1, col=1)
    fig.update_xaxes(title_text=pos, row=1, col=2)
    return base_layout(fig, title, height=430)


def permutation(weights: np.ndarray, tokens: list[str], order: list[int], change: np.ndarray, *,
                titles: Sequence[str], title: str, change_axis: str) -> go.Figure:
    """Self-attention weights of a sequence and of its shuffle, and how much each token's output moved."""
    orig = unique_labels(tokens)
    shuffled = [orig[i] for i in order]
    fig = make_subplots(1, 3, subplot_titles=list(titles), horizontal_spacing=0.09, column_widths=[0.36, 0.36, 0.28])
    for col, (w, lab) in enumerate(((weights[0], orig), (weights[1], shuffled)), start=1):
        fig.add_trace(_heatmap(w, lab, lab, colorscale=SEQUENTIAL, zmin=0, zmax=1, text=len(lab) <= 8,
                               hover="%{y} → %{x}: %{z:.3f}"), 1, col)
        fig.update_yaxes(autorange="reversed", type="category", row=1, col=col)
        fig.update_xaxes(type="category", row=1, col=col)
    fig.add_trace(go.Bar(x=change, y=orig, orientation="h", marker_color=PALETTE[3], showlegend=False,
                         hovertemplate="%{y}: %{x:.4f}<extra></extra>"), 1, 3)
    fig.update_yaxes(autorange="reversed", type="category", row=1, col=3)
    fig.update_xaxes(title_text=change_axis, range=[0, max(0.1, 1.1 * float(np.max(change)))], row=1, col=3)
    return base_layout(fig, title, height=160 + 32 * len(tokens))


def training_curve(history: Sequence[tuple[int, float, float]], *, names: Sequence[str], title: str, x: str
                   ) -> go.Figure:
    """Loss (log scale, left) and token accuracy (right) of a training run."""
    h = np.asarray(history, dtype=float).reshape(-1, 3)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=h[:, 0], y=h[:, 1], name=names[0], line={"color": color(0)}), secondary_y=False)
    fig.add_trace(go.Scatter(x=h[:, 0], y=h[:, 2], name=names[1], line={"color": color(2)}), secondary_y=True)
    fig.update_yaxes(**LOG_AXIS, title_text=names[0], secondary_y=False)
    fig.update_yaxes(range=[0, 1.02], title_text=names[1], secondary_y=True)
    return base_layout(fig, title, x=x, height=320)


def matrices(panels: Sequence[tuple[str, np.ndarray]], row_labels: list[str], *, title: str, col_axis: str,
             split_every: int = 0) -> go.Figure:
    """Signed matrices side by side (one shared colour scale around zero); ``split_every`` draws a line
    every that many columns (the head boundaries of a concatenation)."""
    lab = unique_labels(row_labels)
    fig = make_subplots(1, len(panels), subplot_titles=[p[0] for p in panels], horizontal_spacing=0.06)
    lim = max(float(np.abs(m).max()) for _, m in panels) or 1.0
    for i, (_, m) in enumerate(panels):
        fig.add_trace(_heatmap(m, list(range(m.shape[1])), lab, colorscale=DIVERGING, zmin=-lim, zmax=lim, text=False,
                               hover="%{y}, %{x}: %{z:.3f}", showscale=i == len(panels) - 1), 1, i + 1)
        fig.update_yaxes(autorange="reversed", type="category", showticklabels=i == 0, row=1, col=i + 1)
        fig.update_xaxes(title_text=col_axis, row=1, col=i + 1)
        if split_every and i == 0:
            for c in range(split_every, m.shape[1], split_every):
                fig.add_vline(x=c - 0.5, line={"color": PALETTE[7], "width": 2}, row=1, col=1)
    return base_layout(fig, title, height=140 + 28 * len(lab))


# ---------------------------------------------------------------- the lesson's figures with their labels
# Each takes ``lab``: ``ui.i18n.labels("attention", LABELS)``, the translated texts by key; templates are filled here.

Labels = Mapping[str, str]   # label key after "attention." -> translated text (a template where it has {fields})
LABELS = (*(f"fig.{k}" for k in (
    "additive", "after_wo", "averaged", "change", "compare_title", "concat", "concat_title", "dim", "dot", "entropy",
    "from", "grid_title", "hand_title", "head", "head_axis", "heads_title", "key", "layer", "layer_axis", "lines",
    "loss", "max_weight", "mean", "now", "one_head", "original", "output", "pe", "pe_sim", "pe_title", "perm_title",
    "position", "query", "roles_title", "saturation_title", "scaled", "scores", "shuffled", "step", "to", "token_acc",
    "training", "unscaled", "weights", "toy_encoder", "toy_decoder", "toy_cross")),
    *(f"roles.{k}" for k in ("entropy", "previous", "next", "self", "cls", "sep")),
    *(f"tasks.{k}" for k in ("copy", "reverse", "sort")))


def _qk_labels(r: dict) -> tuple[list[str], list[str]]:
    L, S = r["weights"].shape
    return [f"q{i + 1}" for i in range(L)], [f"k{j + 1}" for j in range(S)]


def hand_figure(r: dict, scale: float, tau: float, lab: Labels) -> go.Figure:
    """Scores, weights and output of the "by hand" lab (r: the arrays of dlcore.attention.mechanism.HandResult)."""
    ql, kl = _qk_labels(r)
    return hand_maps(r["scores"], r["logits"], r["weights"], r["output"], ql, kl, r["row_sums"], sum_label="Σ=",
                     titles=[lab["fig.scores"], lab["fig.weights"], lab["fig.output"]],
                     title=lab["fig.hand_title"].format(scale=scale, tau=tau), key_axis=lab["fig.key"],
                     query_axis=lab["fig.query"], dim_axis=lab["fig.dim"])


def compare_figure(r: dict, lab: Labels) -> go.Figure:
    ql, kl = _qk_labels(r)
    masked = np.isneginf(r["logits"])
    return compare_maps([np.where(masked, np.nan, r["weights"]), np.where(masked, np.nan, r["additive_weights"])],
                        [lab["fig.dot"], lab["fig.additive"]], ql, kl, title=lab["fig.compare_title"],
                        key_axis=lab["fig.key"], query_axis=lab["fig.query"])


def saturation_figure(d_k: np.ndarray, max_weight: np.ndarray, entropy: np.ndarray, current: int,
                      lab: Labels) -> go.Figure:
    return saturation(d_k, max_weight, entropy, current, names=[lab["fig.scaled"], lab["fig.unscaled"]],
                      titles=[lab["fig.max_weight"], lab["fig.entropy"]],
                      title=lab["fig.saturation_title"], x="d_k", current_name=lab["fig.now"])


def heads_figure(weights: np.ndarray, tokens: list[str], d_head: int, lab: Labels) -> go.Figure:
    """Each head's map and their mean in one row. weights: (h, L, L)."""
    h = weights.shape[0]
    cols = [lab["fig.head"].format(i=i + 1) for i in range(h)] + [lab["fig.mean"]]
    return head_grid(np.concatenate([weights, weights.mean(0, keepdims=True)])[None], [""], cols, tokens, tokens,
                     title=lab["fig.heads_title"].format(d=d_head))


def concat_figure(concat: np.ndarray, output: np.ndarray, tokens: list[str], d_head: int, lab: Labels) -> go.Figure:
    return matrices([(lab["fig.concat"], concat), (lab["fig.after_wo"], output)], tokens,
                    title=lab["fig.concat_title"], col_axis=lab["fig.dim"], split_every=d_head)


def positions_figure(pe: np.ndarray, similarity: np.ndarray, lab: Labels) -> go.Figure:
    return positional(pe, similarity, titles=[lab["fig.pe"], lab["fig.pe_sim"]],
                      title=lab["fig.pe_title"].format(d=pe.shape[1]), pos=lab["fig.position"],
                      dim=lab["fig.dim"])


def permutation_figure(weights: np.ndarray, words: list[str], order: list[int], change: np.ndarray, lab: Labels
                       ) -> go.Figure:
    return permutation(weights, words, order, change, change_axis="‖Δy‖", title=lab["fig.perm_title"],
                       titles=[lab["fig.original"], lab["fig.shuffled"], lab["fig.change"]])


def toy_figure(maps: np.ndarray, kind: str, task: str, x: list[str], y: list[str], lab: Labels) -> go.Figure:
    """Layers x heads of one kind of attention of the toy Transformer. maps: (layers, heads, T_q, T_k)."""
    return head_grid(maps, [lab["fig.layer"].format(i=i + 1) for i in range(maps.shape[0])],
                     [lab["fig.head"].format(i=i + 1) for i in range(maps.shape[1])], x, y,
                     title=lab[f"fig.toy_{kind}"].format(task=lab[f"tasks.{task}"]), wrap=2)   # tokens upright


def training_figure(history: Sequence[tuple[int, float, float]], task: str, seconds: float, lab: Labels) -> go.Figure:
    step = int(history[-1][0]) if history else 0
    return training_curve(history, names=[lab["fig.loss"], lab["fig.token_acc"]], x=lab["fig.step"],
                          title=lab["fig.training"].format(task=lab[f"tasks.{task}"], step=step, s=seconds))


def bert_grid_figure(weights: np.ndarray, tokens: list[str], lab: Labels) -> go.Figure:
    """All layers x heads of MiniLM as small maps (percent). Up to GRID_LABELLED tokens, the query tokens label the
    left of each layer's row (each row tall enough for them, 13 px a token); keys, and longer sentences, on hover.
    weights: (L, H, T, T)."""
    L, H, T = weights.shape[:3]
    labelled = T <= GRID_LABELLED
    return head_grid(weights, [f"L{i + 1}" for i in range(L)], [f"H{j + 1}" for j in range(H)], tokens, tokens,
                     title=lab["fig.grid_title"], percent=True, cell=max(110, 13 * T + 30) if labelled else 110,
                     show_ticks=False, colorbar="%", query_ticks=labelled)


def bert_head_figures(weights: np.ndarray, tokens: list[str], layer: int, head: int, chosen: int, lab: Labels
                      ) -> tuple[go.Figure, go.Figure]:
    """One head large (1-based layer, head) and the token-to-token lines of token ``chosen``."""
    big = one_head(weights, tokens, title=lab["fig.one_head"].format(l=layer, h=head), key_axis=lab["fig.key"],
                   query_axis=lab["fig.query"])
    lines = token_lines(weights, tokens, chosen, title=lab["fig.lines"].format(tok=tokens[chosen]),
                        left=lab["fig.from"], right=lab["fig.to"])
    return big, lines


def roles_figure(panels: dict[str, tuple[np.ndarray, float, tuple[int, int]]], lab: Labels) -> go.Figure:
    """Per-head statistics (entropy and roles; see dlcore.attention.bert.head_panels), standout heads boxed."""
    return layer_head_maps([(lab[f"roles.{k}"], z, top) for k, (z, top, _) in panels.items()],
                           title=lab["fig.roles_title"], x=lab["fig.head_axis"],
                           y=lab["fig.layer_axis"], marks=[p[2] for p in panels.values()])


def averaged_figure(averaged: np.ndarray, tokens: list[str], lab: Labels) -> go.Figure:
    """Head-averaged attention of each layer. averaged: (L, T, T)."""
    return head_grid(averaged[None], [""], [f"L{i + 1}" for i in range(averaged.shape[0])], tokens, tokens,
                     title=lab["fig.averaged"], cell=260, show_ticks=len(tokens) <= 24)


# ---------------------------------------------------------------- each tab's figures from dlcore's results

def hand_figures(r, scale: float, tau: float, lab: Labels) -> tuple[go.Figure, go.Figure]:
    """The by-hand tab from a dlcore.attention.mechanism.HandResult: scores, weights and output; then dot-product
    against additive weights. scale: 1/sqrt(d_k) or 1 (the title shows it apart from ``tau``)."""
    arrays = {f: getattr(r, f).numpy() for f in ("scores", "logits", "weights", "output", "additive_weights",
                                                 "row_sums")}
    return hand_figure(arrays, scale, tau, lab), compare_figure(arrays, lab)


def heads_figures(demo, lab: Labels) -> tuple[go.Figure, go.Figure]:
    """The heads tab from a dlcore.attention.mechanism.HeadsDemo: each head's map, then the heads concatenated and
    after W_o."""
    weights, concat, output = (m[0].numpy() for m in (demo.result.weights, demo.result.concat, demo.result.output))
    tokens, d_head = [f"x{i + 1}" for i in range(weights.shape[-1])], concat.shape[-1] // weights.shape[0]
    return heads_figure(weights, tokens, d_head, lab), concat_figure(concat, output, tokens, d_head, lab)


def sentence_figures(ba, panels: dict, lab: Labels) -> tuple[go.Figure, go.Figure, go.Figure]:
    """The MiniLM tab from a dlcore.attention.bert.BertAttention and its head panels: every head, the heads'
    roles, each layer's mean."""
    return (bert_grid_figure(ba.weights, ba.tokens, lab), roles_figure(panels, lab),
            averaged_figure(ba.averaged, ba.tokens, lab))
