"""Figures of the GAN lesson: the game in 2D / 1D / digits, training curves, and replays with frames.

The live figures are redrawn every few training steps, so they are written as plain Plotly JSON
(``Prebuilt``) instead of validated graph objects: building one costs about a millisecond.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui.figures.common import (
    LOG_AXIS,
    PALETTE,
    Prebuilt,
    animation_controls,
    base_layout,
    freeze,
    legend_under_controls,
    plain,
    series,
    with_frames,
)

REAL, FAKE, MANIFOLD, ARROW, D_LINE, PG = "#000000", PALETTE[1], PALETTE[0], PALETTE[3], PALETTE[0], PALETTE[1]
# Purple where D says "generated", green where it says "real" (as in GAN Lab): the middle of ColorBrewer's
# PRGn, as an explicit list because the figures skip plotly.py's validation that would expand a name.
D_SCALE = [[0.0, "rgb(118,42,131)"], [0.25, "rgb(194,165,207)"], [0.5, "rgb(247,247,247)"],
           [0.75, "rgb(166,219,160)"], [1.0, "rgb(27,120,55)"]]
LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0.0}
LINE_DASH = ("solid", "dash", "dot", "dashdot")   # the curves: D loss, G loss, D gradient, G gradient
MAX_FRAMES = 60
MAX_CURVE_POINTS = 600
# The keys of ``gan.fig`` the figures read (the page adds ``d``, D's axis name, and the titles)
GAME_LABELS = ("real", "fake", "manifold", "arrows", "x1", "x2", "x", "density", "d_star", "p_data", "p_g", "samples",
               "walk", "frame", "play", "pause", "step")
CURVE_LABELS = ("step", "loss", "grad", "metric", "d_loss", "g_loss", "d_grad", "g_grad", "modes", "hq", "distance")
STILL = ("real", "p_data")   # trace roles of the real data: the same in every replay frame


def _layout(title: str, height: int, **extra) -> dict:
    out = {"title": {"text": title, "x": 0.0, "xanchor": "left"}, "height": height,
           "margin": {"l": 50, "r": 20, "t": 60, "b": 50},
           "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1.0}}
    out.update(extra)
    return out


def _heat_range(z: np.ndarray, prob: bool) -> dict:
    if prob:
        return {"zmin": 0.0, "zmax": 1.0}
    lo, hi = float(np.nanmin(z)), float(np.nanmax(z))
    return {"zmid": 0.5 * (lo + hi)} if np.isfinite(lo + hi) else {}


def _manifold_xy(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(L, L, 2) grid image -> one polyline per row and per column, separated by NaN."""
    lines = [m[i] for i in range(m.shape[0])] + [m[:, j] for j in range(m.shape[1])]
    gap = np.full((1, 2), np.nan, dtype=np.float32)
    xy = np.concatenate([np.concatenate([ln, gap]) for ln in lines]).astype(np.float32)
    return xy[:, 0], xy[:, 1]


def _arrow_xy(start: np.ndarray, vec: np.ndarray, span: float) -> tuple[np.ndarray, np.ndarray]:
    """Segments start -> start + vec, the longest scaled to 12% of the plot's ``span``; NaN between them."""
    size = np.linalg.norm(vec, axis=1).max() if len(vec) else 0.0
    end = start + vec * (0.12 * span / size if size > 0 else 0.0)
    gap = np.full_like(start, np.nan)
    seg = np.stack([start, end, gap], axis=1).reshape(-1, 2).astype(np.float32)
    return seg[:, 0], seg[:, 1]


def _traces_2d(snap, real: np.ndarray, bounds: tuple[float, float], prob: bool, labels: dict,
               coarse: bool = False) -> dict[str, dict]:
    """The traces by role, in drawing order. coarse (for replay frames): every other heatmap cell, smoothed, and
    half the samples."""
    z = snap.d_grid[::2, ::2] if coarse else snap.d_grid
    fake = snap.fake[: len(snap.fake) // 2] if coarse else snap.fake
    c = np.linspace(bounds[0], bounds[1], snap.d_grid.shape[0], dtype=np.float32)[:: 2 if coarse else 1]
    mx, my = _manifold_xy(snap.manifold)
    ax, ay = _arrow_xy(snap.fake[: len(snap.arrows)], snap.arrows, bounds[1] - bounds[0])
    return {
        "d": {"type": "heatmap", "x": c, "y": c, "z": z.astype(np.float32), "colorscale": D_SCALE, "opacity": 0.75,
              "name": labels["d"], "colorbar": {"title": {"text": labels["d"]}, "len": 0.8},
              "hovertemplate": "x=%{x:.2f}, y=%{y:.2f}<br>" + labels["d"] + "=%{z:.3f}<extra></extra>",
              **({"zsmooth": "best"} if coarse else {}), **_heat_range(z, prob)},
        "real": {"type": "scatter", "mode": "markers", "x": real[:, 0], "y": real[:, 1], "name": labels["real"],
                 "marker": {"color": REAL, "size": 3, "opacity": 0.45}, "hoverinfo": "skip"},
        "manifold": {"type": "scatter", "mode": "lines", "x": mx, "y": my, "name": labels["manifold"],
                     "line": {"color": MANIFOLD, "width": 1}, "opacity": 0.55, "hoverinfo": "skip"},
        "fake": {"type": "scatter", "mode": "markers", "x": fake[:, 0], "y": fake[:, 1], "name": labels["fake"],
                 "marker": {"color": FAKE, "size": 5, "line": {"color": "#333333", "width": 0.5}}, "hoverinfo": "skip"},
        "arrows": {"type": "scatter", "mode": "lines", "x": ax, "y": ay, "name": labels["arrows"],
                   "line": {"color": ARROW, "width": 1.5}, "hoverinfo": "skip"},
    }


def _square_axes(bounds: tuple[float, float], labels: dict) -> dict:
    pad = 0.02 * (bounds[1] - bounds[0])
    rng = [bounds[0] - pad, bounds[1] + pad]
    return {"xaxis": {"range": rng, "title": {"text": labels["x1"]}, "constrain": "domain"},
            "yaxis": {"range": rng, "title": {"text": labels["x2"]}, "scaleanchor": "x", "constrain": "domain"}}


def game_2d(snap, real: np.ndarray, bounds: tuple[float, float], *, prob: bool, labels: dict) -> Prebuilt:
    """Real vs generated samples over D's heatmap, with G's manifold and the arrows G follows.

    snap: a ``dlcore.gan.Snapshot`` of a 2D run; real: (m, 2) real samples; prob: D is a probability.
    labels: title, d, real, fake, manifold, arrows, x1, x2.
    """
    return plain(list(_traces_2d(snap, real, bounds, prob, labels).values()),
                 _layout(labels["title"], 600, **_square_axes(bounds, labels), legend=LEGEND_BELOW,
                         margin={"l": 50, "r": 20, "t": 50, "b": 90}))


def _traces_1d(snap, xs: np.ndarray, p_data: np.ndarray, labels: dict) -> dict[str, dict]:
    """The traces by role, in drawing order."""
    pg = snap.pg_density
    total = p_data + pg
    d_star = np.where(total > 0.02, p_data / np.maximum(total, 1e-12), np.nan)  # 0/0 where neither has mass
    rug = snap.fake[:150, 0]
    return {
        "p_data": {"type": "scatter", "x": xs, "y": p_data, "name": labels["p_data"],
                   "line": {"color": REAL, "dash": "dash"}},
        "p_g": {"type": "scatter", "x": xs, "y": pg, "name": labels["p_g"], "line": {"color": PG, "width": 3}},
        "d": {"type": "scatter", "x": xs, "y": snap.d_grid, "name": labels["d"], "yaxis": "y2",
              "line": {"color": D_LINE, "dash": "dot", "width": 3}},
        "d_star": {"type": "scatter", "x": xs, "y": d_star.astype(np.float32), "name": labels["d_star"], "yaxis": "y2",
                   "line": {"color": D_LINE, "width": 1}, "opacity": 0.5},
        "samples": {"type": "scatter", "mode": "markers", "x": rug, "y": np.zeros_like(rug), "name": labels["samples"],
                    "marker": {"symbol": "line-ns-open", "size": 7, "color": PG}, "hoverinfo": "skip"},
    }


def _layout_1d(labels: dict, ymax: float, prob: bool) -> dict:
    y2 = {"title": {"text": labels["d"]}, "overlaying": "y", "side": "right", "showgrid": False}
    if prob:
        y2.update(range=[0, 1.02], tickvals=[0, 0.25, 0.5, 0.75, 1])
    return _layout(labels["title"], 460, xaxis={"title": {"text": labels["x"]}},
                   yaxis={"title": {"text": labels["density"]}, "range": [-0.02 * ymax, ymax]}, yaxis2=y2,
                   shapes=[{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y2", "y0": 0.5, "y1": 0.5,
                            "line": {"color": "#888888", "dash": "dashdot", "width": 1}}] if prob else [],
                   margin={"l": 50, "r": 60, "t": 60, "b": 50})


def _density_top(p_data: np.ndarray, pgs: Sequence[np.ndarray]) -> float:
    """Top of the density axis: room for p_data and p_g, but a collapsed (spiky) p_g may leave the chart."""
    peak = max(float(np.nanmax(pg)) for pg in pgs)
    return float(max(1.3 * p_data.max(), min(1.1 * peak, 3 * p_data.max())))


def game_1d(snap, xs: np.ndarray, p_data: np.ndarray, *, prob: bool, labels: dict) -> Prebuilt:
    """The paper's figure: p_data (dashed), p_g (KDE of G's samples), D(x) and the optimal D* on one axis.

    labels: title, x, density, d, d_star, p_data, p_g, samples.
    """
    ymax = _density_top(p_data, [snap.pg_density])
    return plain(list(_traces_1d(snap, xs, p_data, labels).values()), _layout_1d(labels, ymax, prob))


def tile(images: np.ndarray, cols: int) -> np.ndarray:
    """(n, 64) images -> one (rows*9-1, cols*9-1) canvas with NaN gaps; row 0 at the top."""
    n = len(images)
    rows = -(-n // cols)
    canvas = np.full((rows * 9 - 1, cols * 9 - 1), np.nan, dtype=np.float32)
    for i, img in enumerate(images.reshape(n, 8, 8)):
        r, c = divmod(i, cols)
        canvas[r * 9: r * 9 + 8, c * 9: c * 9 + 8] = img
    return canvas


def _digit_heat(z: np.ndarray) -> dict:
    return {"type": "heatmap", "z": z, "colorscale": "Greys", "zmin": 0.0, "zmax": 1.0, "showscale": False,
            "hoverinfo": "skip"}


def _image_axes() -> dict:
    return {"xaxis": {"visible": False, "constrain": "domain"},
            "yaxis": {"visible": False, "autorange": "reversed", "scaleanchor": "x", "constrain": "domain"}}


def digits(snap, walk: np.ndarray | None, *, labels: dict, cols: int = 8) -> Prebuilt:
    """G's digits at the fixed display noise (D's verdict on each in the hover), and a latent walk below.

    labels: title, walk.
    """
    shown = snap.fake[: len(snap.d_grid)]
    z = tile(shown, cols)
    verdict = tile(np.repeat(snap.d_grid.astype(np.float32)[:, None], 64, axis=1), cols)  # D's score on every pixel
    heat = {**_digit_heat(z), "customdata": np.nan_to_num(verdict, nan=-1.0).round(3),
            "hovertemplate": labels["d"] + " = %{customdata:.3f}<extra></extra>", "hoverinfo": None}
    heat = {k: v for k, v in heat.items() if v is not None}
    rows = z.shape[0]
    data = [heat]
    layout = _layout(labels["title"], 420, **_image_axes(), margin={"l": 10, "r": 10, "t": 60, "b": 10})
    if walk is not None:
        wz = tile(walk, len(walk))
        offset = rows + 4
        data.append({**_digit_heat(wz), "y0": offset, "x0": 0, "dx": (z.shape[1] + 1) / (wz.shape[1] + 1)})
        layout["annotations"] = [{"text": labels["walk"], "x": 0, "y": offset - 1.5, "xref": "x", "yref": "y",
                                  "showarrow": False, "xanchor": "left"}]
    return plain(data, layout)


def _window_mean(v: np.ndarray, n: int) -> np.ndarray:
    if len(v) <= n:
        return v.astype(np.float32)
    w = -(-len(v) // n)
    pad = (-len(v)) % w
    padded = np.concatenate([v, np.full(pad, np.nan)]).reshape(-1, w)
    return np.nanmean(padded, axis=1).astype(np.float32)


def curves(curves: dict[str, Sequence[float]], snaps: Sequence, *, labels: dict) -> Prebuilt:
    """Three stacked panels: D and G losses, gradient norms (log scale), and the metrics at each snapshot.

    curves: per-step lists d_loss, g_loss, d_grad, g_grad (window-averaged to <= 600 points);
    labels: title, step, loss, grad, metric, d_loss, g_loss, d_grad, g_grad, modes, hq, distance.
    """
    n = len(curves["d_loss"])
    steps = _window_mean(np.arange(1, n + 1, dtype=np.float64), MAX_CURVE_POINTS)
    data = []
    for j, (name, axis) in enumerate([("d_loss", 1), ("g_loss", 1), ("d_grad", 2), ("g_grad", 2)]):
        data.append({"type": "scatter", "x": steps, "y": _window_mean(np.asarray(curves[name], dtype=np.float64),
                                                                      MAX_CURVE_POINTS),
                     "name": labels[name], "xaxis": f"x{axis if axis > 1 else ''}",
                     "yaxis": f"y{axis if axis > 1 else ''}",
                     "line": {**series(j % 2).line(1.5), "dash": LINE_DASH[j]}})
    s = [x for x in snaps if x.step > 0]
    ms = np.array([x.step for x in s], dtype=np.float32)
    if s and s[-1].n_modes:
        data.append({"type": "scatter", "x": ms, "y": np.array([x.modes_covered / x.n_modes for x in s], np.float32),
                     "name": labels["modes"], "xaxis": "x3", "yaxis": "y3", "line": series(2).line(2)})
    data.append({"type": "scatter", "x": ms, "y": np.array([x.hq_fraction for x in s], np.float32),
                 "name": labels["hq"], "xaxis": "x3", "yaxis": "y3", "line": series(3).line(2)})
    data.append({"type": "scatter", "x": ms, "y": np.array([x.distance for x in s], np.float32),
                 "name": labels["distance"], "xaxis": "x3", "yaxis": "y4",
                 "line": series(4).line(2)})
    x_common = {"matches": "x3", "showticklabels": False}
    layout = _layout(labels["title"], 600,
                     xaxis={**x_common, "anchor": "y"}, xaxis2={**x_common, "anchor": "y2"},
                     xaxis3={"anchor": "y3", "title": {"text": labels["step"]}},
                     yaxis={"domain": [0.72, 1.0], "title": {"text": labels["loss"]}, "nticks": 5},
                     # a log axis over few decades: at most 4 labels, so they never pile up in its 150 px
                     yaxis2={"domain": [0.38, 0.62], "title": {"text": labels["grad"]}, **LOG_AXIS, "nticks": 4},
                     yaxis3={"domain": [0.0, 0.28], "title": {"text": labels["metric"]}, "range": [0, 1.05],
                             "nticks": 5},
                     yaxis4={"overlaying": "y3", "side": "right", "showgrid": False, "rangemode": "tozero",
                             "title": {"text": labels["distance"]}},
                     legend=LEGEND_BELOW, margin={"l": 55, "r": 55, "t": 50, "b": 90})
    return plain(data, layout)


def pick_frames(snaps: Sequence, limit: int = MAX_FRAMES) -> list:
    """At most ``limit`` snapshots, evenly spaced, always keeping the first and the last."""
    if len(snaps) <= limit:
        return list(snaps)
    idx = np.unique(np.linspace(0, len(snaps) - 1, limit).round().astype(int))
    return [snaps[i] for i in idx]


def _frame_title(snap, labels: dict) -> str:
    return labels["frame"].format(step=snap.step, hq=100 * snap.hq_fraction, distance=snap.distance,
                                  modes=f"{snap.modes_covered}/{snap.n_modes}" if snap.n_modes else "–")


def replay(snaps: Sequence, *, kind: str, labels: dict, real: np.ndarray | None = None,
           bounds: tuple[float, float] = (-1.5, 1.5), xs: np.ndarray | None = None,
           p_data: np.ndarray | None = None, prob: bool = True) -> Prebuilt:
    """The recorded snapshots as Plotly frames: play and scrub in the browser, no server rerun.

    kind: "2d", "1d" or "digits". labels: those of the matching live figure, plus frame (a title
    template with {step}, {modes}, {hq}, {distance}), play, pause, step.
    """
    shown = pick_frames(snaps)
    first = shown[0]
    if kind == "2d":
        base = plain(list(_traces_2d(first, real, bounds, prob, labels, coarse=True).values()),
                     _layout(labels["title"], 680, **_square_axes(bounds, labels)))

        def traces(s):
            return _traces_2d(s, real, bounds, prob, labels, coarse=True)
    elif kind == "1d":
        ymax = _density_top(p_data, [s.pg_density for s in shown[len(shown) // 2:]])
        base = plain(list(_traces_1d(first, xs, p_data, labels).values()), _layout_1d(labels, ymax, prob))

        def traces(s):
            return _traces_1d(s, xs, p_data, labels)
    else:
        base = digits(first, None, labels=labels)

        def traces(s):
            return {"samples": _digit_heat(tile(s.fake[: len(s.d_grid)], 8))}
    changing = [i for i, role in enumerate(traces(first)) if role not in STILL]   # what the frames redraw
    names = [str(s.step) for s in shown]
    frames = []
    for s, name in zip(shown, names):
        tr = list(traces(s).values())
        # only what moves: coordinates, and the heatmap's values and colour range
        data = [{k: tr[i][k] for k in ("x", "y", "z", "zmin", "zmax", "zmid") if k in tr[i]
                 and not (tr[i]["type"] == "heatmap" and k in ("x", "y"))} for i in changing]
        frames.append({"name": name, "data": data, "traces": changing,
                       "layout": {"title": {"text": _frame_title(s, labels)}}})
    spec = base.to_dict()
    spec["layout"]["title"]["text"] = _frame_title(first, labels)
    fig = animation_controls(go.Figure(spec), names, play=labels["play"], pause=labels["pause"],
                             step_label=labels["step"], duration_ms=120, below_px=50)   # under the x title
    if kind == "2d":   # the legend under the controls
        fig.update_layout(**legend_under_controls(fig.layout.height, fig.layout.margin.t, below_px=50))
    return with_frames(fig, frames)


def empty(title: str, message: str) -> Prebuilt:
    """A placeholder figure with one line of text (e.g. before a run has recorded anything)."""
    fig = base_layout(go.Figure(), title, height=300)
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    return Prebuilt(freeze(fig))
