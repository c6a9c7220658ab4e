"""Figures of the adversarial-attack lesson: the attacked digit (animated over iterations), the 2D
geometry of PGD (boundary, L-inf square, L2 disc, gradient and projection steps) and the
robustness curves. Data in, go.Figure out."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures.common import (
    DIVERGING,
    MIN_TEXT_PX,
    animation_controls,
    base_layout,
    color,
    legend_under_controls,
    with_frames,
)

INK = "Greys"           # digits: ink (1) black on white paper (0)
BEFORE, AFTER = "#999999", "#D55E00"
# The labels each figure reads (the keys of ``adversarial.fig``, ``adversarial.geo`` and ``adversarial.curve``)
PLAYER_LABELS = ("play", "pause", "iteration")
ATTACK_LABELS = ("original", "perturbation", "adversarial", "probs", "title", "prob_axis", "class_axis", "before",
                 "after", *PLAYER_LABELS)
GEOMETRY_LABELS = ("class0", "class1", "boundary", "linf", "l2", "start", "step", "projection", "iterate", "title",
                   "x", "y")
CURVE_LABELS = ("standard_fgsm", "standard_pgd", "robust_fgsm", "robust_pgd", "title", "y", "current")


def _image(z: np.ndarray, name: str, **kw) -> go.Heatmap:
    return go.Heatmap(z=np.asarray(z, dtype=np.float32), name=name, xgap=1, ygap=1,
                      hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra>" + name + "</extra>", **kw)


def attack_figure(images: np.ndarray, probs: np.ndarray, *, label: int, target: int | None,
                  labels: Mapping[str, str]) -> go.Figure:
    """Original | perturbation | adversarial image over softmax bars before / after, one frame per iterate.

    images: (T+1, 8, 8) iterates, images[0] the clean input; probs: (T+1, 10) softmax of each.
    labels: ATTACK_LABELS (original, perturbation, adversarial, probs: the panel titles). The figure opens on
    the last iterate; the slider scrubs back to the clean image. The perturbation's colour range is
    symmetric and fixed over the frames (the largest |delta| of the run), so small changes show.
    """
    titles = [labels[k] for k in ("original", "perturbation", "adversarial", "probs")]
    before, after = labels["before"], labels["after"]
    n = len(images) - 1
    delta = images - images[0]
    m = max(float(np.abs(delta).max()), 1e-6)
    classes = np.arange(probs.shape[1])
    fig = make_subplots(rows=2, cols=3, specs=[[{}, {}, {}], [{"colspan": 3}, None, None]],
                        row_heights=[0.6, 0.4], vertical_spacing=0.16, horizontal_spacing=0.09,
                        subplot_titles=titles)
    fig.update_annotations(font_size=13)
    fig.add_trace(_image(images[0], titles[0], colorscale=INK, zmin=0, zmax=1, showscale=False), 1, 1)   # 0
    fig.add_trace(_image(delta[n], titles[1], colorscale=DIVERGING, zmid=0, zmin=-m, zmax=m,
                         colorbar={"len": 0.45, "y": 0.73, "x": 0.625, "thickness": 8,
                                   "tickfont": {"size": MIN_TEXT_PX}}), 1, 2)                                      # 1
    fig.add_trace(_image(images[n], titles[2], colorscale=INK, zmin=0, zmax=1, showscale=False), 1, 3)   # 2
    fig.add_trace(go.Bar(x=classes, y=probs[0], name=before, marker_color=BEFORE,
                         hovertemplate="%{x}: %{y:.3f}<extra>" + before + "</extra>"), 2, 1)              # 3
    fig.add_trace(go.Bar(x=classes, y=probs[n], name=after, marker_color=AFTER,
                         hovertemplate="%{x}: %{y:.3f}<extra>" + after + "</extra>"), 2, 1)               # 4
    for c in range(1, 4):
        fig.update_xaxes(showticklabels=False, row=1, col=c, constrain="domain")
        fig.update_yaxes(showticklabels=False, autorange="reversed", scaleanchor=f"x{c if c > 1 else ''}",
                         row=1, col=c, constrain="domain")
    fig.update_xaxes(title_text=labels["class_axis"], tickmode="array", tickvals=classes, row=2, col=1)
    fig.update_yaxes(title_text=labels["prob_axis"], range=[0, 1.05], row=2, col=1)
    marks = [(label, "#0072B2")] + ([] if target is None else [(target, "#009E73")])
    for k, colour in marks:
        fig.add_vrect(x0=k - 0.5, x1=k + 0.5, fillcolor=colour, opacity=0.12, line_width=0, row=2, col=1)
    base_layout(fig, labels["title"], height=640)
    fig.update_layout(barmode="group", bargap=0.25, height=680)
    frames = [{"name": str(t), "traces": [1, 2, 4],
               "data": [{"type": "heatmap", "z": delta[t].astype(np.float32)},
                        {"type": "heatmap", "z": images[t].astype(np.float32)},
                        {"type": "bar", "y": probs[t].astype(np.float32)}]} for t in range(n + 1)]
    _controls(fig, [f["name"] for f in frames], labels, duration_ms=250)
    # the legend under the play controls, clear of the panel's title
    fig.update_layout(**legend_under_controls(fig.layout.height, fig.layout.margin.t, below_px=50))
    return with_frames(fig, frames)


def geometry_figure(xs: np.ndarray, prob: np.ndarray, points: np.ndarray, classes: np.ndarray,
                    point: tuple[float, float], eps: float, norm: str, start: np.ndarray,
                    stepped: np.ndarray, projected: np.ndarray, balls: dict[str, np.ndarray], *,
                    labels: Mapping[str, str]) -> go.Figure:
    r"""The two-moons classifier and a PGD run around ``point``, one frame per iteration.

    xs: (G,) grid coordinates; prob: (G, G) P(class 1); points/classes: training data; balls:
    {"linf": square outline, "l2": circle outline} (the active ``norm`` is drawn solid);
    start: x^(0); stepped / projected: (T, 2) before / after each projection. Each gradient
    step is drawn as a thin arrow and each projection as a dashed red segment.
    labels: GEOMETRY_LABELS (legend names, title and axes) and PLAYER_LABELS.
    """
    fig = go.Figure()
    fig.add_trace(go.Heatmap(x=xs, y=xs, z=prob.astype(np.float32), colorscale=DIVERGING, zmin=0, zmax=1,
                             opacity=0.4, showscale=False, zsmooth="best", hoverinfo="skip"))                     # 0
    fig.add_trace(go.Contour(x=xs, y=xs, z=prob.astype(np.float32), contours={"start": 0.5, "end": 0.5,
                             "size": 1, "coloring": "none"}, line={"width": 3, "color": "#000000"},
                             showscale=False, name=labels["boundary"], showlegend=True, hoverinfo="skip"))  # 1
    for k in (0, 1):
        sel = classes == k
        fig.add_trace(go.Scatter(x=points[sel, 0], y=points[sel, 1], mode="markers", name=labels[f"class{k}"],
                                 marker={"size": 5, "color": "#2166AC" if k == 0 else "#B2182B", "opacity": 0.55},
                                 hoverinfo="skip"))                                                      # 2, 3
    for key in ("linf", "l2"):
        active = key == norm
        fig.add_trace(go.Scatter(x=balls[key][:, 0], y=balls[key][:, 1], mode="lines", name=labels[key],
                                 line={"color": "#6A3D9A", "width": 3 if active else 1.5,
                                       "dash": "solid" if active else "dot"}, hoverinfo="skip"))       # 4, 5
    fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name=labels["start"],
                             marker={"size": 13, "color": "#000000", "symbol": "x"}))                    # 6

    def path(t: int) -> list[dict]:
        """Traces 7-9 after t iterations: gradient steps, projections, iterates."""
        prev = np.vstack([start[None], projected[:t - 1]]) if t else np.zeros((0, 2))
        grad_xy = _segments(prev, stepped[:t])
        proj_xy = _segments(stepped[:t], projected[:t])
        its = np.vstack([start[None], projected[:t]])
        return [{"type": "scatter", "x": grad_xy[:, 0], "y": grad_xy[:, 1]},
                {"type": "scatter", "x": proj_xy[:, 0], "y": proj_xy[:, 1]},
                {"type": "scatter", "x": its[:, 0], "y": its[:, 1]}]

    n = len(projected)
    last = path(n)
    fig.add_trace(go.Scatter(x=last[0]["x"], y=last[0]["y"], mode="lines+markers", name=labels["step"],
                             line={"color": "#444444", "width": 1.5}, connectgaps=False,
                             marker={"size": 6, "symbol": "circle-open", "color": "#444444"}))          # 7
    fig.add_trace(go.Scatter(x=last[1]["x"], y=last[1]["y"], mode="lines", name=labels["projection"],
                             line={"color": "#D55E00", "width": 2.5, "dash": "dash"}, connectgaps=False))  # 8
    fig.add_trace(go.Scatter(x=last[2]["x"], y=last[2]["y"], mode="markers", name=labels["iterate"],
                             marker={"size": 8, "color": "#009E73", "line": {"width": 1, "color": "#000000"}},
                             hovertemplate="(%{x:.3f}, %{y:.3f})<extra></extra>"))                     # 9
    pad = 0.02
    fig.update_xaxes(range=[-pad, 1 + pad], constrain="domain")
    fig.update_yaxes(range=[0.15, 0.85], scaleanchor="x", constrain="domain")
    base_layout(fig, labels["title"], x=labels["x"], y=labels["y"], height=640)
    fig.update_layout(legend={"orientation": "h", "x": 0.0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
                      margin={"t": 140}, title={"y": 0.985, "yanchor": "top"})
    frames = [{"name": str(t), "traces": [7, 8, 9], "data": path(t)} for t in range(n + 1)]
    _controls(fig, [f["name"] for f in frames], labels, duration_ms=400)
    return with_frames(fig, frames)


def _controls(fig: go.Figure, names: list[str], labels: Mapping[str, str], *, duration_ms: int) -> None:
    """The shared play / pause / scrub controls (under the x titles), opened on the last frame."""
    animation_controls(fig, names, play=labels["play"], pause=labels["pause"], step_label=labels["iteration"],
                       duration_ms=duration_ms, below_px=50)
    fig.layout.sliders[0].active = len(names) - 1


def _segments(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Line segments a[i] -> b[i] as one polyline with NaN breaks, (3n, 2)."""
    if len(a) == 0:
        return np.zeros((0, 2), dtype=np.float32)
    gap = np.full_like(a, np.nan)
    return np.stack([a, b, gap], 1).reshape(-1, 2).astype(np.float32)


def curves_figure(eps: np.ndarray, accuracy: dict[str, np.ndarray], current: float, *,
                  labels: Mapping[str, str]) -> go.Figure:
    """Test accuracy vs epsilon: one colour per model, dashed FGSM and solid PGD; a line at the chosen eps.

    accuracy: "<model>/<method>" -> (E,); labels: CURVE_LABELS ("<model>_<method>": legend names) and x, the
    name of the norm's epsilon axis.
    """
    fig = go.Figure()
    for i, model in enumerate(("standard", "robust")):
        for method in ("fgsm", "pgd"):
            name = labels[f"{model}_{method}"]
            fig.add_trace(go.Scatter(x=eps, y=accuracy[f"{model}/{method}"], mode="lines+markers", name=name,
                                     line={"color": color(i), "width": 3 if method == "pgd" else 2,
                                           "dash": "solid" if method == "pgd" else "dash"},
                                     hovertemplate="ε = %{x}: %{y:.1%}<extra>" + name + "</extra>"))
    fig.add_trace(go.Scatter(x=[current, current], y=[0, 1], mode="lines", name=labels["current"],
                             line={"color": "#000000", "width": 1, "dash": "dot"}, hoverinfo="skip"))
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return base_layout(fig, labels["title"], x=labels["x"], y=labels["y"], height=460)
