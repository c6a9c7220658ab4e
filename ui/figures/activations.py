"""Figures of the activations lesson: function and derivative grids, a signal through a deep net,
training races, and curves built from pieces. Pure: plain data and translated labels in, figures out."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlcore.activations import backward_ratio, parse_init
from ui.figures.common import animation_controls, base_layout, color, plain, series, with_frames

if TYPE_CHECKING:
    import pandas as pd

    from dlcore.deep_training import TrainHistory

# the labels each builder reads (the page passes ui.i18n.labels(<prefix>, these)); titles with numbers in them
# ("stats_title", "bound", a panel's peak) are formatted by the page
GRID_LABELS = ("title", "f", "df", "saturated", "x")                                    # activations.fig
STATS_LABELS = ("std", "mean", "saturated_frac", "dead_frac", "delta", "grad", "zero", "nonfinite",
                "spread_title", "frac_title", "grad_title", "layer")                    # activations.fig
RIDGE_LABELS = ("layer_n", "hover")                                                     # activations.fig
RACE_LABELS = ("title", "loss", "accuracy", "dead", "step")                            # activations.train
PIECES_LABELS = ("title", "target", "pieces", "sum", "y", "play", "pause", "n")        # activations.pfig
ERROR_LABELS = ("title", "n", "error")                                                  # activations.efig
TABLE_COLUMNS = ("name", "formula", "range", "mean", "var", "zero_centred", "monotonic", "saturates",
                 "zero_gradient", "max_derivative", "at")                               # activations.table
SIDES = ("none", "left", "right", "both")                                               # activations.sides
SHADE = "rgba(213,94,0,0.13)"     # saturated regions (vermillion, light)
BAD = "#D55E00"
LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.2, "xanchor": "left", "x": 0.0}


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) index pairs of the True runs in a boolean array."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1))


def function_grid(panels: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
                  labels: Mapping[str, str], cols: int = 3) -> go.Figure:
    """One small panel per activation: f (solid), f' (dashed), saturated regions shaded.

    panels: (title, x, f(x), f'(x), saturated mask). labels: title, f, df, saturated, x.
    """
    rows = max(1, -(-len(panels) // cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[p[0] for p in panels], horizontal_spacing=0.06,
                        vertical_spacing=0.14 if rows > 1 else 0.1)
    for i, (_, x, y, dy, sat) in enumerate(panels):
        r, c = i // cols + 1, i % cols + 1
        first = i == 0
        fig.add_trace(go.Scatter(x=x, y=y, name=labels["f"], line={"color": color(0), "width": 2.5},
                                 legendgroup="f", showlegend=first), row=r, col=c)
        fig.add_trace(go.Scatter(x=x, y=dy, name=labels["df"], line={"color": color(1), "width": 2, "dash": "dash"},
                                 legendgroup="df", showlegend=first), row=r, col=c)
        for a, b in _runs(sat):
            fig.add_vrect(x0=float(x[a]), x1=float(x[b]), fillcolor=SHADE, line_width=0, layer="below", row=r, col=c)
        ylo, yhi = float(np.min([y.min(), dy.min()])), float(np.max([y.max(), dy.max()]))
        pad = 0.08 * max(yhi - ylo, 1e-6)
        fig.update_yaxes(range=[max(ylo, -6.5) - pad, min(yhi, 6.5) + pad], row=r, col=c)
    # a legend entry for the shading (shapes have none)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=labels["saturated"],
                             marker={"symbol": "square", "size": 12, "color": SHADE}), row=1, col=1)
    base_layout(fig, labels["title"], height=260 * rows + 130)
    fig.update_layout(legend=LEGEND_BELOW, margin={"b": 100})
    fig.update_xaxes(title_text=labels["x"], row=rows)
    return fig


def _log_parts(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split values for a log axis: (y with zero / non-finite entries as NaN, zero mask, non-finite mask)."""
    y = np.asarray(y, dtype=np.float64)
    bad = ~np.isfinite(y)
    zero = np.isfinite(y) & (y <= 0)
    return np.where(bad | zero, np.nan, y), zero, bad


def _axes(col: int) -> dict[str, str]:
    return {"xaxis": "x" if col == 1 else f"x{col}", "yaxis": "y" if col == 1 else f"y{col}"}


def _log_markers(traces: list[dict], layer: np.ndarray, series: Sequence[np.ndarray], labels: Mapping[str, str],
                 col: int, show: dict[str, bool]) -> None:
    """Markers for zeros (drawn below the lowest positive value) and inf / NaN (above the highest)."""
    finite = np.concatenate([s[np.isfinite(s) & (s > 0)] for s in series]) if series else np.array([])
    low = float(finite.min()) / 10 if finite.size else 1e-3
    high = float(finite.max()) * 10 if finite.size else 1e3
    zero = np.zeros(len(layer), bool)
    bad = np.zeros(len(layer), bool)
    for s in series:
        _, z, b = _log_parts(s)
        zero |= z
        bad |= b
    for mask, y, key, symbol in ((zero, low, "zero", "triangle-down"), (bad, high, "nonfinite", "x")):
        if mask.any():
            traces.append({"type": "scatter", "x": layer[mask], "y": np.full(int(mask.sum()), y), "mode": "markers",
                           "name": labels[key], "legendgroup": key, "showlegend": not show.get(key, False),
                           "marker": {"symbol": symbol, "size": 9, "color": BAD}, **_axes(col)})
            show[key] = True


@lru_cache(maxsize=64)
def _stats_layout(titles: tuple[str, str, str], title: str, layer: str) -> str:
    """``layer_stats``' layout without data, built and validated by Plotly once per labels (as JSON)."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=list(titles), horizontal_spacing=0.08)
    base_layout(fig, title, height=450)
    fig.update_layout(legend=LEGEND_BELOW, margin={"b": 120})
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=1)
    fig.update_yaxes(range=[-0.03, 1.03], row=1, col=2)
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=3)
    fig.update_xaxes(title_text=layer)
    return fig.layout.to_json()


def layer_stats(stats: Mapping[str, np.ndarray], bound: np.ndarray, labels: Mapping[str, str]) -> go.Figure:
    """Three panels over the layers: spread of the activations (log), saturated / dead shares, and the gradients
    (log): the backward signal ||dL/dz_l|| (solid) and the weight gradient ||dL/dW_l|| (dotted).

    stats: the columns of ``deep_signal``'s table (layer, act_std, act_mean, saturated_frac, dead_frac, grad_norm,
    delta_norm). bound: (max|f'|)^(L-l) scaled to the last layer's ||dL/dz||, drawn dashed.
    Zeros and inf / NaN cannot sit on a log axis: they are drawn as red markers below / above the data.
    The figure changes with every slider move, so it is written as plain JSON (typed arrays) on a layout
    Plotly built and validated once per language; ``tests/unit/test_activation_figures.py`` has Plotly
    validate the whole spec.
    """
    layer, act_std, act_mean = np.asarray(stats["layer"]), stats["act_std"], stats["act_mean"]
    saturated, dead = stats["saturated_frac"], stats["dead_frac"]
    grad, delta = np.asarray(stats["grad_norm"], float), np.asarray(stats["delta_norm"], float)
    show: dict[str, bool] = {}
    std, _, _ = _log_parts(act_std)
    mean_abs, _, _ = _log_parts(np.abs(act_mean))
    g, _, _ = _log_parts(grad)
    d, _, _ = _log_parts(delta)
    b, _, _ = _log_parts(bound)
    line = {"type": "scatter", "mode": "lines+markers", "marker": {"size": 5}}
    traces: list[dict] = [
        {**line, "x": layer, "y": std, "name": labels["std"], "line": {"color": color(0)}, **_axes(1)},
        {"type": "scatter", "x": layer, "y": mean_abs, "name": labels["mean"], "mode": "lines",
         "customdata": np.asarray(act_mean, dtype=np.float64), "hovertemplate": "%{customdata:.3g}",
         "line": {"color": color(4), "dash": "dot"}, **_axes(1)}]
    _log_markers(traces, layer, [np.asarray(act_std, float)], labels, 1, show)
    traces += [{**line, "x": layer, "y": np.asarray(saturated, dtype=np.float64), "name": labels["saturated_frac"],
                "line": {"color": color(1)}, **_axes(2)},
               {**line, "x": layer, "y": np.asarray(dead, dtype=np.float64), "name": labels["dead_frac"],
                "line": {"color": color(3)}, **_axes(2)},
               {**line, "x": layer, "y": d, "name": labels["delta"], "line": {"color": color(2)}, **_axes(3)},
               {**line, "x": layer, "y": g, "name": labels["grad"], "line": {"color": color(5), "dash": "dot"},
                **_axes(3)},
               {"type": "scatter", "x": layer, "y": b, "name": labels["bound"], "mode": "lines",
                "line": {"color": "#666666", "dash": "dash"}, **_axes(3)}]
    _log_markers(traces, layer, [delta, grad], labels, 3, show)
    layout = json.loads(_stats_layout((labels["spread_title"], labels["frac_title"], labels["grad_title"]),
                                      labels["title"], labels["layer"]))
    return plain(traces, layout)


@lru_cache(maxsize=64)
def _ridge_layout(title: str, x: str) -> str:
    return base_layout(go.Figure(), title, x=x).layout.to_json()


def ridgeline(layers: np.ndarray, edges: np.ndarray, hist: np.ndarray, outside: np.ndarray,
              labels: Mapping[str, str]) -> go.Figure:
    """Histograms of a_l for a few layers, stacked bottom (first layer) to top (last), on one x axis.

    Plain JSON on a cached Plotly-built layout, like ``layer_stats``."""
    centres = 0.5 * (edges[:-1] + edges[1:])
    peak = float(np.max(hist)) if hist.size and np.max(hist) > 0 else 1.0
    traces = []
    step = 1.0
    xs = np.concatenate([[centres[0]], centres, [centres[-1]]])
    for i, (layer, h, out) in enumerate(zip(layers, hist, outside)):
        base = i * step
        ys = np.concatenate([[base], base + 1.6 * step * h / peak, [base]])
        traces.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "fill": "toself", "showlegend": False,
                       "line": {"color": color(0), "width": 1.2}, "fillcolor": "rgba(0,114,178,0.25)",
                       "name": labels["layer_n"].format(n=int(layer)),
                       "hovertemplate": labels["hover"].format(n=int(layer), out=100 * out) + "<extra></extra>"})
    layout = json.loads(_ridge_layout(labels["title"], labels["x"]))
    layout["yaxis"] = {**layout.get("yaxis", {}), "tickvals": [i * step for i in range(len(layers))],
                       "ticktext": [labels["layer_n"].format(n=int(n)) for n in layers], "showgrid": False}
    layout["height"] = max(360, 40 * len(layers) + 160)
    return plain(traces, layout)


def race(runs: Sequence[TrainHistory], names: Sequence[str], labels: Mapping[str, str]) -> go.Figure:
    """Training curves of several runs: loss (log), accuracy, dead share of hidden units; one colour per run."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=[labels["loss"], labels["accuracy"], labels["dead"]],
                        horizontal_spacing=0.07)
    for i, (run, name) in enumerate(zip(runs, names)):
        s, lo, ac, de = run.step, run.loss, run.accuracy, run.dead_frac
        style = series(i).line(2)   # colour and dash: tanh and ReLU never share a near-identical orange
        loss, _, _ = _log_parts(lo)
        fig.add_trace(go.Scatter(x=s, y=loss, name=name, legendgroup=name, line=style), row=1, col=1)
        fig.add_trace(go.Scatter(x=s, y=ac, name=name, legendgroup=name, showlegend=False, line=style), row=1, col=2)
        fig.add_trace(go.Scatter(x=s, y=de, name=name, legendgroup=name, showlegend=False, line=style), row=1, col=3)
    base_layout(fig, labels["title"], height=450)
    fig.update_layout(legend=LEGEND_BELOW, margin={"b": 120})
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=1)
    fig.update_yaxes(range=[0.3, 1.02], row=1, col=2)
    fig.update_yaxes(range=[-0.02, 1.02], row=1, col=3)
    fig.update_xaxes(title_text=labels["step"])
    return fig


def _piece_lines(x: np.ndarray, pieces: np.ndarray, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Every piece as one polyline (lifted by the offset), joined into one trace with NaN gaps.

    Every second grid point only: the pieces are thin background lines, and this halves the frames' JSON.
    """
    x, pieces = x[::2], pieces[:, ::2]
    n, p = pieces.shape
    xs = np.concatenate([np.tile(x, (n, 1)), np.full((n, 1), np.nan)], axis=1).ravel()
    ys = np.concatenate([pieces + offset, np.full((n, 1), np.nan)], axis=1).ravel()
    return xs.astype(np.float32), ys.astype(np.float32)


def pieces_animation(x: np.ndarray, target: np.ndarray,
                     builds: Sequence[tuple[int, np.ndarray, float, np.ndarray, float]],
                     labels: Mapping[str, str], n: int | None = None) -> go.Figure:
    """Target, the pieces and their sum, one animation frame per number of pieces N.

    builds: (N, pieces (N, P), offset, total (P,), max error) in increasing N; the figure opens on N = ``n`` (the
    last by default), and its slider is the one control of N.
    """
    def traces(n: int, pieces: np.ndarray, offset: float, total: np.ndarray, err: float) -> list[dict]:
        px, py = _piece_lines(x, pieces, offset)
        return [{"type": "scatter", "x": px, "y": py, "mode": "lines", "name": labels["pieces"],
                 "line": {"color": "rgba(0,158,115,0.55)", "width": 1}},
                {"type": "scatter", "x": x.astype(np.float32), "y": total.astype(np.float32), "mode": "lines",
                 "name": labels["sum"].format(n=n, err=err), "line": {"color": color(0), "width": 3}}]

    at = next((i for i, b in enumerate(builds) if b[0] == n), len(builds) - 1)
    last = builds[at]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=target, name=labels["target"],
                             line={"color": "#000000", "width": 2, "dash": "dot"}))
    for tr in traces(*last):
        fig.add_trace(go.Scatter(**{k: v for k, v in tr.items() if k != "type"}))
    # the y range follows the target and the sums; ReLU pieces (ramps that never stop) may run off the top
    lo = float(np.nanmin([target.min()] + [b[3].min() for b in builds]))
    hi = float(np.nanmax([target.max()] + [b[3].max() for b in builds]))
    pad = 0.3 * max(hi - lo, 1e-6)
    base_layout(fig, labels["title"], y=labels["y"], height=500)   # no x title: the animation controls sit there
    fig.update_yaxes(range=[lo - pad, hi + pad])
    names = [str(b[0]) for b in builds]
    animation_controls(fig, names, play=labels["play"], pause=labels["pause"], step_label=labels["n"],
                       duration_ms=350)
    fig.layout.sliders[0].active = at
    # the figure opens on N = n; Play always starts again from one piece
    fig.layout.updatemenus[0].buttons[0].args = [names, {"frame": {"duration": 350, "redraw": True},
                                                         "fromcurrent": False, "transition": {"duration": 0},
                                                         "mode": "immediate"}]
    frames = [{"name": str(b[0]), "data": traces(*b), "traces": [1, 2]} for b in builds]
    return with_frames(fig, frames)


def error_vs_pieces(ns: np.ndarray, errors: Mapping[str, np.ndarray], labels: Mapping[str, str]) -> go.Figure:
    """Largest error against the number of pieces, one line per kind of piece (log-log)."""
    fig = go.Figure()
    for i, (name, err) in enumerate(errors.items()):
        e, _, _ = _log_parts(err)
        # hard sigmoids and ReLUs give the same curve: different dashes keep both visible
        fig.add_trace(go.Scatter(x=ns, y=e, name=name, mode="lines+markers",
                                 line={"color": color(i), "width": 4 - i, "dash": ("solid", "dash", "dot")[i % 3]}))
    base_layout(fig, labels["title"], x=labels["n"], y=labels["error"], height=380)
    ticks = [n for n in (1, 2, 5, 10, 20, 50) if n <= max(ns)]
    fig.update_xaxes(type="log", tickvals=ticks, ticktext=[str(n) for n in ticks])
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def property_frame(table: pd.DataFrame, names: Mapping[str, str], sides: Mapping[str, str], yes_no: Mapping[str, str],
                   columns: Mapping[str, str]) -> pd.DataFrame:
    """``dlcore.activations.property_table`` as the lesson shows it: translated names, ranges written as intervals
    ("(-∞, ∞)", "[0, 1]"), yes / no, rounded numbers; ``columns`` gives each of TABLE_COLUMNS its heading."""
    import pandas as pd

    yn = {True: yes_no["yes"], False: yes_no["no"]}
    ranges = [f"{'(' if lo < 0 and np.isinf(lo) else '['}{lo:.3g}, {hi:.3g}{')' if np.isinf(hi) else ']'}"
              .replace("inf", "∞") for lo, hi in zip(table["lower"], table["upper"])]
    shown = {"name": table["name"].map(names), "formula": table["formula"], "range": ranges,
             "mean": table["mean_normal"].round(3), "var": table["var_normal"].round(3),
             "zero_centred": table["zero_centred"].map(yn), "monotonic": table["monotonic"].map(yn),
             "saturates": table["saturates"].map(sides), "zero_gradient": table["zero_gradient"].map(yn),
             "max_derivative": table["max_derivative"].round(4), "at": table["argmax_derivative"].round(2)}
    return pd.DataFrame({columns[k]: shown[k] for k in TABLE_COLUMNS})


def racer_names(racers: Sequence[str], activations: Mapping[str, str], inits: Mapping[str, str],
                template: str) -> dict[str, str]:
    """The name of each racer ``"<activation>|<init>"`` in the legend: ``template`` ("{act} + {init}") filled with
    the translated activation and initialization, with its scale ("Normal N(0, σ²) 0.01")."""
    out = {}
    for racer in racers:
        name, _, init = racer.partition("|")
        kind, scale = parse_init(init)
        init_name = inits[kind] + ("" if np.isnan(scale) else f" {scale:g}")
        out[racer] = template.format(act=activations[name], init=init_name)
    return out


def headline(stats: pd.DataFrame) -> dict[str, str]:
    """The signal's four headline numbers, formatted: the last layer's spread, the backward ratio (``–`` where it
    is undefined), the saturated share over all layers and the dead share of the last layer."""
    ratio = backward_ratio(stats)
    return {"std": f"{stats['act_std'].iloc[-1]:.3g}", "ratio": "–" if np.isnan(ratio) else f"{ratio:.3g}",
            "saturated": f"{100 * stats['saturated_frac'].mean():.0f}%",
            "dead": f"{100 * stats['dead_frac'].iloc[-1]:.0f}%"}
