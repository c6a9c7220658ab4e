"""Figures of the optimizer race: the animated race map with loss and learning-rate panels, the 3D
surface, the critical-point inspector, the batch-noise views and the lab's tables. Pure: plain data and
translated labels in, figures (or tables) out; they never call t()."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlcore.optim import RACERS
from ui.figures.common import (
    LOG_AXIS,
    Series,
    animation_layout,
    base_layout,
    controls_margin,
    plain,
    readable,
    series,
)

if TYPE_CHECKING:
    import pandas as pd

    from dlcore.batch_noise import RegressionResult, SharpFlatResult
    from dlcore.optim import Escape, Leaderboard, PointInfo, RaceResult, Surface

# the labels each builder reads (the page passes ui.i18n.labels(<prefix>, these))
RACE_LABELS = ("title", "x", "y", "loss_title", "loss_axis", "loss_raw", "lr_title", "lr_axis", "step", "play",
               "pause", "start", "minimum", "colorbar", "off_chart")                    # optimizer_race.fig
INSPECT_LABELS = ("inspect_title", "x", "y", "eig", "neg_grad", "escape", "point")     # optimizer_race.fig
BATCH_LABELS = ("reg_title", "reg_loss", "full_loss", "step", "lsq", "sf_title", "train", "test", "loss_raw",
                "ends")                                                                 # optimizer_race.fig
BOARD_COLS = ("racer", "status", "reached", "final", "distance", "grad", "starts")     # optimizer_race.board
SF_COLS = ("batch", "flat", "train", "test")                                            # optimizer_race.sf
POINT_BUDGET = 20_000   # animated (x, y) points over all frames: keeps the race figure well under 1 MB
PATH_POINTS = 300       # points per drawn path (ghost paths and loss curves are thinned to this)
TRAIL = 24              # points per animated trail
NEG, POS = "#D55E00", "#0072B2"
EIG_COLORS = {True: (NEG, "#E69F00"), False: (POS, "#56B4E9")}   # (λ < 0?) -> eigenvector 1, 2: orange / blue family
EIG_DASHES = ("solid", "dash")                                   # ... and a second channel: eigenvector 2 is dashed
Grid = tuple[np.ndarray, np.ndarray, np.ndarray]   # x (n,), y (m,), z (m, n) as dlcore's surface grids give them


# Each racer's place in the series order: the default seven first, so they get seven different hues
RACER_ORDER = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "adadelta", "adamw", "adamax",
               "nadam", "radam")


def racer_styles(kinds: Sequence[str]) -> list[Series]:
    """Each racer's colour, dash and marker (``common.series``): fixed by its place in ``RACER_ORDER``, so it keeps
    them in every race."""
    order = [*RACER_ORDER, *(k for k in RACERS if k not in RACER_ORDER)]
    return [series(order.index(k)) for k in kinds]


def racer_colors(kinds: Sequence[str]) -> list[str]:
    """Each racer's colour (``racer_styles``)."""
    return [s.color for s in racer_styles(kinds)]


def display_z(z: np.ndarray, f_min: float | None) -> np.ndarray:
    """What the contour colours: log10(f - f_min + 1e-3 * range) where the minimum is known, else f
    clipped to its 2nd-98th percentiles; non-finite values become gaps."""
    z = np.where(np.isfinite(z), z, np.nan)
    if not np.isfinite(z).any():
        return z
    if f_min is not None:
        span = float(np.nanmax(z) - f_min) or 1.0
        return np.log10(np.maximum(z - f_min, 0) + 1e-3 * span)
    lo, hi = np.nanpercentile(z, [2, 98])
    return np.clip(z, lo, hi)


def _clip(p: np.ndarray, bounds: Sequence[float]) -> np.ndarray:
    """Iterates far off the map are drawn at its margin (NaN stays NaN: a gap)."""
    x0, x1, y0, y1 = bounds
    w, h = x1 - x0, y1 - y0
    out = p.copy()
    out[..., 0] = np.clip(out[..., 0], x0 - w, x1 + w)
    out[..., 1] = np.clip(out[..., 1], y0 - h, y1 + h)
    return out


def _joined(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, S, 2) paths of several starts as one line with NaN breaks between them."""
    T, S = p.shape[:2]
    parts = np.concatenate([p.transpose(1, 0, 2), np.full((S, 1, 2), np.nan)], axis=1).reshape(-1, 2)
    return parts[:, 0].astype(np.float32), parts[:, 1].astype(np.float32)


@lru_cache(maxsize=32)
def _race_layout(texts: tuple[tuple[str, str], ...], log_loss: bool, compact: bool = False) -> str:
    """The race figure's layout without data, built and validated by Plotly once per labels (as JSON).

    texts: the race's labels as sorted (key, text) pairs (hashable). Subplots: the map (1, 1) on axes x / y, the
    loss (1, 2) on x2 / y2, the schedule (2, 2) on x3 / y3; ``compact`` (a phone): the map full width on top, the
    loss (2, 1) and the schedule (3, 1) under it, the legend above the map.
    """
    labels = dict(texts)
    loss_title, loss_axis = (labels["loss_title"], labels["loss_axis"]) if log_loss else (labels["loss_raw"],) * 2
    if compact:
        fig = make_subplots(rows=3, cols=1, row_heights=[0.56, 0.22, 0.22], vertical_spacing=0.14,
                            subplot_titles=("", loss_title, labels["lr_title"]))
        at = {"loss": {"row": 2, "col": 1}, "lr": {"row": 3, "col": 1}}
    else:
        fig = make_subplots(rows=2, cols=2, column_widths=[0.62, 0.38], row_heights=[0.6, 0.4],
                            specs=[[{"rowspan": 2}, {}], [None, {}]], horizontal_spacing=0.09, vertical_spacing=0.16,
                            subplot_titles=("", loss_title, labels["lr_title"]))
        at = {"loss": {"row": 1, "col": 2}, "lr": {"row": 2, "col": 2}}
    if log_loss:
        fig.update_yaxes(**LOG_AXIS, **at["loss"])
    fig.update_xaxes(row=1, col=1, title_text=labels["x"], constrain="domain")
    fig.update_yaxes(row=1, col=1, title_text=labels["y"], scaleanchor="x", scaleratio=1)
    fig.update_xaxes(title_text=labels["step"], **at["lr"])
    fig.update_yaxes(title_text=loss_axis, **at["loss"])
    fig.update_yaxes(title_text=labels["lr_axis"], rangemode="tozero", **at["lr"])
    base_layout(fig, labels["title"], height=1080 if compact else 660)
    fig.update_layout(legend={"orientation": "h", "y": 1.02 if compact else 1.09, "yanchor": "bottom", "x": 0.0,
                              "xanchor": "left"},
                      hovermode="closest", clickmode="event+select", dragmode="pan",
                      title={"y": 0.995 if compact else 0.985, "yanchor": "top"})
    return fig.layout.to_json()


MAP, LOSS, LR = {"xaxis": "x", "yaxis": "y"}, {"xaxis": "x2", "yaxis": "y2"}, {"xaxis": "x3", "yaxis": "y3"}


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _thinned(T: int) -> np.ndarray:
    """The steps drawn of a path of T iterates: every k-th step and the last."""
    return np.unique(np.r_[np.arange(0, T, max(1, T // PATH_POINTS)), T - 1])


def _map_traces(grid: Grid, surface: Surface, starts: np.ndarray, clipped: np.ndarray, names: Sequence[str],
                styles: Sequence[Series], labels: Mapping[str, str], click_grid: int) -> list[dict]:
    """The map's traces: contour (0), invisible click grid (1), minima (2), start points (3), ghost paths (4 ..),
    empty trails and the racers' heads (in the legend); the trails and heads move in the frames.
    starts: (S, 2); clipped: the paths (R, T, S, 2) drawn at the map's margin when far off it."""
    x, y, z = grid
    bounds, R = surface.bounds, clipped.shape[0]
    colorbar = labels["colorbar"] if surface.f_min is not None else labels["loss_raw"]
    data: list[dict] = [
        {"type": "contour", "x": _f32(x), "y": _f32(y), "z": _f32(display_z(z, surface.f_min)), "colorscale": "Greys",
         "reversescale": True, "ncontours": 30, "opacity": 0.55, "contours": {"coloring": "fill", "showlines": True},
         "line": {"width": 0.6}, "showscale": False, "hoverinfo": "skip", "name": colorbar, **MAP},
    ]
    gx, gy = np.meshgrid(np.linspace(bounds[0], bounds[1], click_grid), np.linspace(bounds[2], bounds[3], click_grid))
    data.append({"type": "scatter", "x": _f32(gx.ravel()), "y": _f32(gy.ravel()), "mode": "markers",
                 "marker": {"size": 9, "opacity": 0.0, "color": "#000"}, "showlegend": False,
                 "hovertemplate": "(%{x:.2f}, %{y:.2f})<extra></extra>", "name": "click", **MAP})
    m = _f32(surface.minima).reshape(-1, 2)
    data.append({"type": "scatter", "x": m[:, 0], "y": m[:, 1], "mode": "markers", "name": labels["minimum"],
                 "marker": {"symbol": "star", "size": 15, "color": "#F0E442", "line": {"width": 1, "color": "#000"}},
                 "hoverinfo": "skip", **MAP})
    data.append({"type": "scatter", "x": _f32(starts[:, 0]), "y": _f32(starts[:, 1]), "mode": "markers",
                 "name": labels["start"], "marker": {"symbol": "circle-open", "size": 14, "color": "#000",
                                                     "line": {"width": 2}}, "hoverinfo": "skip", **MAP})
    thin = _thinned(clipped.shape[1])
    for r in range(R):                                                                 # ghost paths
        gxr, gyr = _joined(clipped[r, thin])
        data.append({"type": "scatter", "x": gxr, "y": gyr, "mode": "lines",
                     "line": styles[r].line(1.2), "opacity": 0.3, "legendgroup": names[r],
                     "showlegend": False, "hoverinfo": "skip", **MAP})
    for r in range(R):                                                                 # trails
        data.append({"type": "scatter", "x": [], "y": [], "mode": "lines", "line": styles[r].line(3),
                     "legendgroup": names[r], "showlegend": False, "hoverinfo": "skip", **MAP})
    for r in range(R):                                                                 # heads (in the legend)
        data.append({"type": "scatter", "x": _f32(clipped[r, 0, :, 0]), "y": _f32(clipped[r, 0, :, 1]),
                     "mode": "markers", "name": names[r], "legendgroup": names[r],
                     "marker": styles[r].marker(11, line={"width": 1, "color": "#fff"}),
                     "hovertemplate": names[r] + " (%{x:.3f}, %{y:.3f})<extra></extra>", **MAP})
    return data


def on_chart(losses: np.ndarray, z: np.ndarray, margin: float = 10.0) -> np.ndarray:
    """The losses (R, T, S) a chart should show: NaN from the first step a racer's loss leaves the band
    [min z - margin * span, max z + margin * span] of the map's values z (span = max z - min z) or stops being
    finite. A diverged racer (1e20 after a saddle) then ends where it leaves, and the axis keeps the others' scale."""
    finite = z[np.isfinite(z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-np.inf, np.inf)
    span = max(hi - lo, 1e-12)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(losses) & (losses >= lo - margin * span) & (losses <= hi + margin * span)
    left = np.cumsum(~ok, axis=1) > 0   # once off the chart, off for good
    return np.where(left, np.nan, losses)


def _cursor_range(losses: np.ndarray, f_min: float | None) -> list[float]:
    """The loss cursor spans the plotted range of the first start's losses (R, T, S): paper-free, so it
    animates like any trace."""
    finite = losses[..., 0][np.isfinite(losses[..., 0])]
    if f_min is not None:
        gaps = np.maximum(finite - f_min, 1e-16)
        return [max(float(gaps.min()), 1e-16), max(float(gaps.max()), 1e-15)] if finite.size else [1e-16, 1.0]
    return [float(finite.min()), float(finite.max())] if finite.size else [0.0, 1.0]


def _panel_traces(result: RaceResult, losses: np.ndarray, f_min: float | None, names: Sequence[str],
                  styles: Sequence[Series], cursor_y: list[float], off_chart: str) -> list[dict]:
    """The right-hand panels: each racer's loss (gap) curve from the first start (``losses``: ``on_chart``'s, a
    diverged racer's curve ends with a cross where it left the chart), the schedule's factor, and the two step
    cursors (loss, learning rate) that the frames move."""
    lr_factor = result.lr_factor
    thin = _thinned(losses.shape[1])
    steps_axis = _f32(thin)
    data = []
    for r in range(losses.shape[0]):                                                   # loss curves (start 1)
        loss = losses[r, thin, 0]
        gap = np.maximum(loss - f_min, 1e-16) if f_min is not None else loss
        data.append({"type": "scatter", "x": steps_axis, "y": _f32(np.where(np.isfinite(gap), gap, np.nan)),
                     "mode": "lines", "line": styles[r].line(2), "legendgroup": names[r],
                     "showlegend": False, "name": names[r], "hovertemplate": names[r] + ": %{y:.3g}<extra></extra>",
                     **LOSS})
        last = np.flatnonzero(np.isfinite(losses[r, :, 0]))
        if len(last) < losses.shape[1]:   # left the chart: a cross at the last step it was on it
            k = int(last[-1]) if len(last) else 0
            end = losses[r, k, 0] if len(last) else np.nan
            end = max(end - f_min, 1e-16) if f_min is not None else end
            data.append({"type": "scatter", "x": [k], "y": [float(end)], "mode": "markers", "legendgroup": names[r],
                         "marker": {"symbol": "x", "size": 11, "color": styles[r].color}, "showlegend": False,
                         "name": names[r], "hovertemplate": f"{names[r]}: {off_chart}<extra></extra>", **LOSS})
    lr_thin = thin[thin < len(lr_factor)]
    data.append({"type": "scatter", "x": _f32(lr_thin), "y": _f32(lr_factor[lr_thin]), "mode": "lines",
                 "line": {"color": "#444", "width": 2}, "showlegend": False,
                 "hovertemplate": "%{y:.3g}<extra></extra>", **LR})
    data.append({"type": "scatter", "x": [0, 0], "y": cursor_y, "mode": "lines",
                 "line": {"color": "#888", "dash": "dot"}, "showlegend": False, "hoverinfo": "skip", **LOSS})
    data.append({"type": "scatter", "x": [0], "y": [float(lr_factor[0]) if len(lr_factor) else 1.0],
                 "mode": "markers", "marker": {"size": 10, "color": "#444"}, "showlegend": False, "hoverinfo": "skip",
                 **LR})
    return data


def _race_frames(clipped: np.ndarray, lr_factor: np.ndarray, cursor_y: list[float], title: str, first_trail: int,
                 cursor_loss: int) -> list[dict]:
    """One frame per shown step: every racer's trail (the last ~6 frames) and head, and the two cursors.
    first_trail: index of the first trail trace (heads follow the R trails); cursor_loss: the loss cursor's
    index (the learning-rate cursor is the next one)."""
    R, T, S, _ = clipped.shape
    steps = T - 1
    n_frames = int(min(steps, 120, max(10, POINT_BUDGET // max(1, R * S * (TRAIL + 2)))))
    frame_steps = np.unique(np.linspace(0, steps, n_frames + 1).round().astype(int))
    tail = max(2, int(np.ceil(steps / max(1, len(frame_steps) - 1))) * 6)   # a trail of ~6 frames
    stride = max(1, tail // TRAIL)
    frames = []
    for k in frame_steps:
        fdata, idx = [{"type": "contour"}], [0]   # named in every frame, or plotly.js drops the contour while animating
        for r in range(R):
            seg = clipped[r, np.unique(np.r_[np.arange(max(0, k - tail), k + 1, stride), k])]
            sx, sy = _joined(seg)
            fdata.append({"type": "scatter", "x": sx, "y": sy})
            idx.append(first_trail + r)
        for r in range(R):
            head = clipped[r, k]
            fdata.append({"type": "scatter", "x": _f32(head[:, 0]), "y": _f32(head[:, 1])})
            idx.append(first_trail + R + r)
        fdata.append({"type": "scatter", "x": [int(k), int(k)], "y": cursor_y})
        idx.append(cursor_loss)
        fk = float(lr_factor[min(k, steps - 1)]) if len(lr_factor) else 1.0
        fdata.append({"type": "scatter", "x": [int(k)], "y": [fk]})
        idx.append(cursor_loss + 1)
        frames.append({"name": str(int(k)), "data": fdata, "traces": idx,
                       "layout": {"title": {"text": title}}})   # plotly.js drops the title while animating otherwise
    return frames


def race(result: RaceResult, surface: Surface, grid: Grid, names: Mapping[str, str], labels: Mapping[str, str], *,
         click_grid: int = 41, compact: bool = False) -> go.Figure:
    """The race: contour map with ghost paths, animated trails and heads (left); loss gap and the
    schedule's learning-rate factor against step with a moving cursor (right).

    result: the race (paths (R, T, S, 2), losses (R, T, S), lr_factor (T - 1,)); grid: the surface on its map;
    names: each racer kind's translated name; labels: ``RACE_LABELS``. The invisible click grid (trace 1) lets a
    click on the map choose the start point.
    Note: the layout comes from ``_race_layout`` (Plotly-built, cached per labels); the traces and
    frames are written as plain JSON (Plotly's validation of ~25 traces cost ~90 ms a rerun). Their
    validity is tested by building a ``go.Figure`` from the spec. ``compact``: the phone's layout (panels under
    the map).
    """
    racers, styles = [names[k] for k in result.kinds], racer_styles(result.kinds)
    clipped = _clip(result.paths, surface.bounds)
    shown = on_chart(result.losses, grid[2])
    cursor_y = _cursor_range(shown, surface.f_min)
    data = _map_traces(grid, surface, result.paths[0, 0], clipped, racers, styles, labels, click_grid)
    first_trail = len(data) - 2 * len(racers)
    data += _panel_traces(result, shown, surface.f_min, racers, styles, cursor_y, labels["off_chart"])
    frames = _race_frames(clipped, result.lr_factor, cursor_y, labels["title"], first_trail, len(data) - 2)
    layout = json.loads(_race_layout(tuple(sorted((k, labels[k]) for k in RACE_LABELS)), surface.f_min is not None,
                                     compact))
    x0, x1, y0, y1 = surface.bounds
    layout["xaxis"]["range"], layout["yaxis"]["range"] = [x0, x1], [y0, y1]
    layout.update(animation_layout([f["name"] for f in frames], play=labels["play"], pause=labels["pause"],
                                   step_label=labels["step"], duration_ms=60, below_px=50))   # under the x titles
    layout["margin"] = {**layout["margin"], "l": 60, "t": 190 if compact else 120, "b": controls_margin(50)}
    return plain(data, layout, frames)


def surface3d(grid: Grid, result: RaceResult, names: Mapping[str, str], labels: Mapping[str, str]) -> go.Figure:
    """The loss as a 3D surface with each racer's first path lifted onto it (z clipped to the surface's range).
    labels: ``RACE_LABELS`` (the title and the x, y and loss axes)."""
    x, y, z = grid
    zs = np.where(np.isfinite(z), z, np.nan)
    lo, hi = (np.nanpercentile(zs, [1, 97]) if np.isfinite(zs).any() else (0.0, 1.0))
    zs = np.clip(zs, lo, hi)
    fig = go.Figure(go.Surface(x=x.astype(np.float32), y=y.astype(np.float32), z=zs.astype(np.float32),
                               colorscale="Viridis", opacity=0.85, showscale=False, name="f"))
    x0, x1, y0, y1 = float(x[0]), float(x[-1]), float(y[0]), float(y[-1])
    for r, (kind, style) in enumerate(zip(result.kinds, racer_styles(result.kinds))):
        p, f = result.paths[r, :, 0], result.losses[r, :, 0]
        keep = np.isfinite(f) & (p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1)
        fig.add_trace(go.Scatter3d(x=np.where(keep, p[:, 0], np.nan).astype(np.float32),
                                   y=np.where(keep, p[:, 1], np.nan).astype(np.float32),
                                   z=np.clip(np.where(keep, f, np.nan), lo, hi).astype(np.float32) + 0.01 * (hi - lo),
                                   mode="lines", line=style.line(5), name=names[kind]))
    base_layout(fig, labels["title"], height=560)
    fig.update_layout(scene={"xaxis_title": labels["x"], "yaxis_title": labels["y"], "zaxis_title": labels["loss_raw"],
                             "aspectmode": "cube"})
    return fig


def close_up(surface: Surface, point: Sequence[float], escape: float) -> tuple[float, float, float, float]:
    """The inspector's window around ``point``: 12% of the map's width plus the escape step on every side."""
    r = 0.12 * (surface.bounds[1] - surface.bounds[0]) + escape
    return point[0] - r, point[0] + r, point[1] - r, point[1] + r


def inspector(grid: Grid, info: PointInfo, escape: Escape | None, labels: Mapping[str, str]) -> go.Figure:
    """A close-up of the map around the inspected point: eigenvectors of the Hessian as arrows (orange for a
    negative eigenvalue, blue for a positive one; eigenvector 2 lighter and dashed), the gradient, and the escape
    steps with their losses.
    labels: ``INSPECT_LABELS`` ("eig" is a format string with {i} and {lam})."""
    x, y, z = grid
    point = info.point
    radius = 0.5 * (float(x[-1]) - float(x[0]))
    fig = go.Figure(go.Contour(x=x.astype(np.float32), y=y.astype(np.float32), z=display_z(z, None).astype(np.float32),
                               colorscale="RdBu_r", ncontours=24, opacity=0.7, showscale=True,
                               colorbar={"thickness": 10}, hovertemplate="f=%{z:.4g}<extra></extra>", name="f"))
    arrow = 0.6 * radius
    for i, lam in enumerate(info.eigenvalues):
        v = info.eigenvectors[:, i] * arrow
        c, dash = EIG_COLORS[bool(lam < 0)][i % 2], EIG_DASHES[i % 2]
        for sign in (1, -1):
            fig.add_annotation(x=point[0] + sign * v[0], y=point[1] + sign * v[1], ax=point[0] + sign * 0.85 * v[0],
                               ay=point[1] + sign * 0.85 * v[1], xref="x", yref="y", axref="x", ayref="y",
                               showarrow=True, arrowhead=2, arrowwidth=3, arrowcolor=c, text="")
        fig.add_trace(go.Scatter(x=[point[0] - v[0], point[0] + v[0]], y=[point[1] - v[1], point[1] + v[1]],
                                 mode="lines", line={"color": c, "width": 3, "dash": dash}, hoverinfo="skip",
                                 name=labels["eig"].format(i=i + 1, lam=f"{lam:.3g}")))
    gnorm = float(np.linalg.norm(info.grad))
    if gnorm > 1e-12:
        g = -info.grad / gnorm * arrow * 0.8
        fig.add_annotation(x=point[0] + g[0], y=point[1] + g[1], ax=point[0], ay=point[1], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=3, arrowwidth=2, arrowcolor="#000", text="")
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line={"color": "#000", "width": 2},
                                 name=labels["neg_grad"]))
    fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name=labels["point"],
                             marker={"size": 12, "color": "#000", "symbol": "x"}))
    if escape is not None:
        fig.add_trace(go.Scatter(x=escape.points[:, 0], y=escape.points[:, 1], mode="markers+text",
                                 name=labels["escape"], text=[f"f={v:.3g}" for v in escape.losses],
                                 textposition="top center", marker={"size": 12, "color": NEG, "symbol": "diamond"}))
    base_layout(fig, labels["inspect_title"], x=labels["x"], y=labels["y"], height=500)
    fig.update_layout(legend={"orientation": "h", "y": -0.2, "yanchor": "top", "x": 0.0, "xanchor": "left"},
                      margin={"b": 120})   # the legend under the x-axis title
    fig.update_xaxes(range=[float(x[0]), float(x[-1])])
    fig.update_yaxes(range=[float(y[0]), float(y[-1])], scaleanchor="x", scaleratio=1)
    return fig


def hessian_latex(info: PointInfo) -> str:
    """The gradient, the Hessian and its eigenvalues at the inspected point, as one LaTeX line."""
    g, h, lam = info.grad, info.hessian, info.eigenvalues
    return (rf"g=\begin{{pmatrix}}{g[0]:.4g}\\{g[1]:.4g}\end{{pmatrix}},\quad H=\begin{{pmatrix}}"
            rf"{h[0, 0]:.4g}&{h[0, 1]:.4g}\\{h[1, 0]:.4g}&{h[1, 1]:.4g}\end{{pmatrix}},\quad \lambda_1={lam[0]:.4g},"
            rf"\ \lambda_2={lam[1]:.4g}")


def leaderboard(board: Leaderboard, racers: Sequence[str], columns: Mapping[str, str],
                status: Mapping[str, str]) -> pd.io.formats.style.Styler:
    """The race's ranking as a table, styled for ``st.dataframe`` (``.data``: the numbers). racers: the racers'
    names in race order; columns: ``BOARD_COLS``;
    status: each status's text, a format string with {step}."""
    import pandas as pd

    cols = {"racer": [racers[i] for i in board.order], "status": [status[c].format(step=n) for c, n in board.status],
            "reached": board.reached, "final": board.final_loss, "distance": board.distance, "grad": board.grad,
            "starts": board.starts_reached}
    # steps grouped, the rest to 3 significant digits, and "–" where a racer never reached a minimum (st.dataframe
    # shows a bare NaN as "None")
    return readable(pd.DataFrame({columns[k]: c for k, c in cols.items()}), counts=[columns["reached"]])


def regression(grid: Grid, result: RegressionResult, names: Sequence[str], labels: Mapping[str, str]) -> go.Figure:
    """SGD paths of each batch size on the full-data loss of (w, b) (left) and that loss along each path (right).
    grid: w (n,), b (m,) and the loss (m, n); names: one per batch size; labels: ``BATCH_LABELS``."""
    wg, bg, z = grid
    fig = make_subplots(rows=1, cols=2, column_widths=[0.58, 0.42], subplot_titles=("", labels["reg_loss"]),
                        horizontal_spacing=0.1)
    fig.add_trace(go.Contour(x=wg.astype(np.float32), y=bg.astype(np.float32), z=np.log10(z).astype(np.float32),
                             colorscale="Greys", reversescale=True, opacity=0.5, ncontours=25, showscale=False,
                             hoverinfo="skip"), 1, 1)
    paths, full_loss = result.paths, result.full_loss
    for k, name in enumerate(names):
        fig.add_trace(go.Scatter(x=paths[k, :, 0].astype(np.float32), y=paths[k, :, 1].astype(np.float32),
                                 mode="lines", name=name, legendgroup=name, line=series(k).line(1.8),
                                 hovertemplate=name + " w=%{x:.3f} b=%{y:.3f}<extra></extra>"), 1, 1)
        fig.add_trace(go.Scatter(x=np.arange(full_loss.shape[1]), y=full_loss[k].astype(np.float32), mode="lines",
                                 legendgroup=name, showlegend=False, line=series(k).line(1.8),
                                 hovertemplate=name + ": %{y:.4g}<extra></extra>"), 1, 2)
    fig.add_trace(go.Scatter(x=[result.optimum[0]], y=[result.optimum[1]], mode="markers", name=labels["lsq"],
                             marker={"symbol": "star", "size": 15, "color": "#F0E442",
                                     "line": {"width": 1, "color": "#000"}}), 1, 1)
    base_layout(fig, labels["reg_title"], height=480)
    fig.update_layout(legend={"orientation": "h", "y": -0.14, "yanchor": "top", "x": 0.0, "xanchor": "left"},
                      margin={"b": 90})
    fig.update_xaxes(title_text="w", range=[float(wg[0]), float(wg[-1])], row=1, col=1)
    fig.update_yaxes(title_text="b", range=[float(bg[0]), float(bg[-1])], row=1, col=1)
    fig.update_xaxes(title_text=labels["step"], row=1, col=2)
    fig.update_yaxes(title_text=labels["full_loss"], **LOG_AXIS, row=1, col=2)
    return fig


def sharp_flat(result: SharpFlatResult, names: Sequence[str], labels: Mapping[str, str], *,
               seed: int = 0) -> go.Figure:
    """Training and shifted test loss over the single parameter (top) and where every run ended,
    one row per batch size (bottom, jittered vertically). names: one per batch size; labels: ``BATCH_LABELS``."""
    w, final = result.w, result.final
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.06)
    fig.add_trace(go.Scatter(x=w.astype(np.float32), y=result.train.astype(np.float32), name=labels["train"],
                             line={"color": "#000", "width": 2.5}), 1, 1)
    fig.add_trace(go.Scatter(x=w.astype(np.float32), y=result.test.astype(np.float32), name=labels["test"],
                             line={"color": NEG, "width": 2, "dash": "dash"}), 1, 1)
    rng = np.random.default_rng(seed)
    for k, name in enumerate(names):
        jitter = k + rng.uniform(-0.25, 0.25, final.shape[1])
        fig.add_trace(go.Scatter(x=final[k].astype(np.float32), y=jitter.astype(np.float32), mode="markers",
                                 name=name, marker=series(k).marker(7, opacity=0.75),
                                 hovertemplate=name + ": w=%{x:.3f}<extra></extra>"), 2, 1)
    fig.add_vline(x=result.barrier, line={"color": "#888", "dash": "dot"})
    base_layout(fig, labels["sf_title"], height=540)
    fig.update_layout(legend={"orientation": "h", "y": -0.14, "yanchor": "top", "x": 0.0, "xanchor": "left"},
                      margin={"b": 90})
    fig.update_yaxes(title_text=labels["loss_raw"], row=1, col=1)
    fig.update_yaxes(title_text=labels["ends"], row=2, col=1, tickvals=list(range(len(names))), ticktext=list(names))
    fig.update_xaxes(title_text="w", row=2, col=1, range=[float(w[0]), float(w[-1])])
    return fig


def sharp_flat_table(result: SharpFlatResult, names: Sequence[str],
                     columns: Mapping[str, str]) -> pd.io.formats.style.Styler:
    """Per batch size: the share of runs that ended in the flat well (as a percentage) and the mean training and
    test loss at the end, styled for ``st.dataframe`` (``.data``: the numbers). columns: ``SF_COLS``."""
    import pandas as pd

    cols = {"batch": list(names), "flat": result.flat_share, "train": result.train_loss, "test": result.test_loss}
    return readable(pd.DataFrame({columns[k]: c for k, c in cols.items()}), percents=[columns["flat"]])
