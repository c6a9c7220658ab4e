"""Figures of the CNN-architectures lesson: the spatial transformer's sampling grid and output, training curves,
accuracy against a shift, feature maps moving with the digit, a trained CNN's maps / filters / saliency, and the
plain-vs-residual gradient norms. Data in, go.Figure out (labels come translated from the page)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlcore.cnn_architectures import Equivariance, Inside, SEView, STNView, TrainResult
from ui.figures.common import DIVERGING, SEQUENTIAL, base_layout, color, legend_below

INK = "Greys"          # the digits: white paper, black ink
GRID = "#D55E00"       # the sampling grid drawn on the input
LABELS = ("input", "output", "stn_title", "step", "test_acc", "loss", "curves_title", "shift_title", "shift_axis",
          "accuracy", "eq_title", "digit", "moved", "feature_map", "pooled", "channel", "maps_title", "filters_title",
          "explain_title", "saliency", "occlusion", "layer", "grad_title", "grad_norm", "conv_layer", "plain",
          "residual", "corners", "ft_title", "shots_axis", "se_title", "squeeze", "excitation",
          "before", "after", "upright", "stn_input", "stn_output", "applied_angle", "left_angle", "stn_view_title",
          "train_acc", "distorted_acc", "gap_title", "grad_steps_title", "log_norm", "aug_title",
          "test_digits", "nothing_undone")
TABLE = ("model", "params", "macs", "rf", "acc", "ms_step")   # the zoo / why tables' headings


def _image_axes(fig: go.Figure, rows: int, cols: int) -> None:
    """Square pixels, row 0 at the top, no tick labels (the pixels speak)."""
    for r in range(1, rows + 1):
        for c in range(1, cols + 1):
            fig.update_yaxes(autorange="reversed", scaleanchor=None, showticklabels=False, row=r, col=c)
            fig.update_xaxes(showticklabels=False, row=r, col=c)


def stn(image: np.ndarray, grid_px: np.ndarray, output: np.ndarray, theta: np.ndarray,
        labels: Mapping[str, str]) -> go.Figure:
    """Left: the input digit with the grid generator's sampling points (orange, in input pixel coordinates) and
    the outline of the sampled region; right: the bilinearly sampled output. grid_px: (H, W, 2) of (col, row)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["input"], labels["output"]), horizontal_spacing=0.06)
    fig.add_trace(go.Heatmap(z=image, colorscale=INK, zmin=0, zmax=1, showscale=False, name=labels["input"],
                             hovertemplate="(%{y}, %{x}): %{z:.2f}<extra></extra>"), 1, 1)
    H, W = grid_px.shape[:2]
    xs, ys = [], []
    for r in range(H):                          # the grid's rows, then its columns, as polylines
        xs += [*grid_px[r, :, 0], None]
        ys += [*grid_px[r, :, 1], None]
    for c in range(W):
        xs += [*grid_px[:, c, 0], None]
        ys += [*grid_px[:, c, 1], None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": GRID, "width": 1}, opacity=0.45,
                             hoverinfo="skip", showlegend=False), 1, 1)
    corners = grid_px[[0, 0, -1, -1, 0], [0, -1, -1, 0, 0]]
    fig.add_trace(go.Scatter(x=corners[:, 0], y=corners[:, 1], mode="lines+markers", name=labels["corners"],
                             line={"color": GRID, "width": 3}, marker={"size": 7}), 1, 1)
    fig.add_trace(go.Scatter(x=[grid_px[0, 0, 0]], y=[grid_px[0, 0, 1]], mode="markers", showlegend=False,
                             marker={"size": 12, "color": color(0), "symbol": "square"}, hoverinfo="skip"), 1, 1)
    fig.add_trace(go.Heatmap(z=output, colorscale=INK, zmin=0, zmax=1, showscale=False, name=labels["output"],
                             hovertemplate="(%{y}, %{x}): %{z:.2f}<extra></extra>"), 1, 2)
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers", showlegend=False, hoverinfo="skip",
                             marker={"size": 12, "color": color(0), "symbol": "square-open"}), 1, 2)
    n = image.shape[0]   # the input view leaves half an image of room around it: the grid may reach outside
    fig.update_xaxes(range=[-0.5 - n / 2, n - 0.5 + n / 2], showticklabels=False, showgrid=False, zeroline=False,
                     constrain="domain", row=1, col=1)
    fig.update_yaxes(range=[n - 0.5 + n / 2, -0.5 - n / 2], showticklabels=False, showgrid=False, zeroline=False,
                     scaleanchor="x", constrain="domain", row=1, col=1)
    fig.update_xaxes(range=[-0.5, n - 0.5], showticklabels=False, showgrid=False, zeroline=False, constrain="domain",
                     row=1, col=2)
    fig.update_yaxes(range=[n - 0.5, -0.5], showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x2",
                     constrain="domain", row=1, col=2)
    th = np.round(theta, 2)
    title = f"{labels['stn_title']}   θ = [[{th[0, 0]:g}, {th[0, 1]:g}, {th[0, 2]:g}], [{th[1, 0]:g}, {th[1, 1]:g}, " \
            f"{th[1, 2]:g}]]"
    return legend_below(base_layout(fig, title, height=420), y=-0.05)


def curves(names: Sequence[str], steps: Sequence[np.ndarray], loss: Sequence[np.ndarray],
           acc: Sequence[np.ndarray], labels: Mapping[str, str], title: str) -> go.Figure:
    """Training loss (left) and test accuracy (right) against the step, one colour per model. A run that diverged
    stops where it stopped (no NaN is drawn)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["loss"], labels["test_acc"]), horizontal_spacing=0.1)
    for i, (name, s, lo, ac) in enumerate(zip(names, steps, loss, acc)):
        style = {"color": color(i), "width": 2}
        fig.add_trace(go.Scatter(x=s, y=lo, mode="lines", name=name, legendgroup=name, line=style), 1, 1)
        fig.add_trace(go.Scatter(x=s, y=ac, mode="lines", name=name, legendgroup=name, line=style,
                                 showlegend=False), 1, 2)
    fig.update_xaxes(title_text=labels["step"])
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=2)
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    return legend_below(base_layout(fig, title, height=380))


def training(runs: Sequence[TrainResult], names: Mapping[str, str], labels: Mapping[str, str],
             title: str) -> go.Figure:
    """:func:`curves` of training runs, named after their model ("plain32" -> names["plain"])."""
    return curves([names[r.config.model.rstrip("0123456789")] for r in runs], [r.step for r in runs],
                  [r.loss for r in runs], [r.test_acc for r in runs], labels, title)


def fine_tune(shots: Sequence[int], acc: Mapping[str, Sequence[float]], names: Mapping[str, str],
              labels: Mapping[str, str], marked: int) -> go.Figure:
    """Test accuracy on digits 5-9 against the labelled examples per class, one line per method (log x axis); the
    chosen number of examples dashed."""
    fig = go.Figure()
    for i, (method, a) in enumerate(acc.items()):
        fig.add_trace(go.Scatter(x=list(shots), y=list(a), mode="lines+markers", name=names[method],
                                 line={"color": color(i)}))
    if marked:
        fig.add_vline(x=marked, line={"dash": "dash", "color": "#999999"})   # data units, also on a log axis
    fig.update_xaxes(type="log", tickvals=list(shots))
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return legend_below(base_layout(fig, labels["ft_title"], x=labels["shots_axis"], y=labels["accuracy"],
                                     height=360))


def shift_curves(names: Sequence[str], shifts: np.ndarray, accs: Sequence[np.ndarray],
                 labels: Mapping[str, str], marked: int) -> go.Figure:
    """Test accuracy of each model when every test digit moves ``k`` pixels (the chosen ``marked`` k dashed)."""
    fig = go.Figure()
    for i, (name, acc) in enumerate(zip(names, accs)):
        fig.add_trace(go.Scatter(x=shifts, y=acc, mode="lines+markers", name=name, line={"color": color(i)}))
    fig.add_vline(x=marked, line={"dash": "dash", "color": "#999999"})
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    fig.update_xaxes(dtick=1)
    return legend_below(base_layout(fig, labels["shift_title"], x=labels["shift_axis"], y=labels["accuracy"],
                                     height=360))


def equivariance(eq: Equivariance, labels: Mapping[str, str], k: int) -> go.Figure:
    """Top: the digit, its first feature map (channel 0) and the pooled features; bottom: the same for the digit moved
    ``k`` pixels. The map moves with the digit; the pooled bars barely change."""
    image, moved, fmap, moved_map = eq.image, eq.moved, eq.maps[0], eq.moved_maps[0]
    pooled, moved_pooled = eq.pooled, eq.moved_pooled
    fig = make_subplots(rows=2, cols=3, column_widths=[0.3, 0.3, 0.4], horizontal_spacing=0.06,
                        vertical_spacing=0.12,
                        subplot_titles=(labels["digit"], labels["feature_map"], labels["pooled"],
                                        f"{labels['moved']} (k = {k})", labels["feature_map"], labels["pooled"]))
    top = max(float(fmap.max()), float(moved_map.max()), 1e-6)
    for row, (img, fm, pool) in enumerate(((image, fmap, pooled), (moved, moved_map, moved_pooled)), 1):
        fig.add_trace(go.Heatmap(z=img, colorscale=INK, zmin=0, zmax=1, showscale=False), row, 1)
        fig.add_trace(go.Heatmap(z=fm, colorscale=SEQUENTIAL, zmin=0, zmax=top, showscale=False), row, 2)
        fig.add_trace(go.Bar(x=np.arange(len(pool)), y=pool, marker_color=color(row - 1), showlegend=False,
                             name=labels["pooled"]), row, 3)
    for row in (1, 2):
        for col in (1, 2):
            fig.update_yaxes(autorange="reversed", showticklabels=False, row=row, col=col)
            fig.update_xaxes(showticklabels=False, row=row, col=col)
        fig.update_yaxes(range=[0, 1.05 * max(float(pooled.max()), float(moved_pooled.max()), 1e-6)], row=row, col=3)
        fig.update_xaxes(title_text=labels["channel"], row=row, col=3)
    return base_layout(fig, labels["eq_title"], height=470)


def feature_maps(maps: Sequence[tuple[str, np.ndarray]], labels: Mapping[str, str], channels: int = 8) -> go.Figure:
    """One row per layer (after each ReLU and pool), its first ``channels`` maps side by side."""
    rows = len(maps)
    fig = make_subplots(rows=rows, cols=channels, horizontal_spacing=0.012, vertical_spacing=0.04,
                        row_titles=[name for name, _ in maps])
    for r, (_, m) in enumerate(maps, 1):
        top = max(float(m.max()), 1e-6)
        for c in range(min(channels, m.shape[0])):
            fig.add_trace(go.Heatmap(z=m[c], colorscale=SEQUENTIAL, zmin=0, zmax=top, showscale=False,
                                     hovertemplate=f"ch {c}: %{{z:.2f}}<extra></extra>"), r, c + 1)
    _image_axes(fig, rows, channels)
    fig.update_annotations(font_size=11)
    return base_layout(fig, labels["maps_title"], height=110 * rows + 80)


def filters(weights: np.ndarray, labels: Mapping[str, str]) -> go.Figure:
    """The first layer's 3x3 kernels (blue negative, red positive), one per output channel."""
    n = weights.shape[0]
    fig = make_subplots(rows=1, cols=n, horizontal_spacing=0.02)
    top = float(np.abs(weights).max()) or 1.0
    for c in range(n):
        fig.add_trace(go.Heatmap(z=weights[c], colorscale=DIVERGING, zmin=-top, zmax=top, showscale=c == n - 1,
                                 hovertemplate=f"ch {c}: %{{z:.2f}}<extra></extra>"), 1, c + 1)
    _image_axes(fig, 1, n)
    return base_layout(fig, labels["filters_title"], height=200)


def explain(ins: Inside, labels: Mapping[str, str], title: str) -> go.Figure:
    """The digit, the gradient of the class score (saliency) and the occlusion map (drop of the class probability
    when a patch is blanked; drawn at each patch's top-left pixel)."""
    image, sal, occ = ins.image, ins.saliency, ins.occlusion
    fig = make_subplots(rows=1, cols=3, subplot_titles=(labels["digit"], labels["saliency"], labels["occlusion"]),
                        horizontal_spacing=0.05)
    fig.add_trace(go.Heatmap(z=image, colorscale=INK, zmin=0, zmax=1, showscale=False), 1, 1)
    fig.add_trace(go.Heatmap(z=sal, colorscale=SEQUENTIAL, showscale=False,
                             hovertemplate="%{z:.3f}<extra></extra>"), 1, 2)
    top = max(float(np.abs(occ).max()), 1e-6)
    fig.add_trace(go.Heatmap(z=occ, colorscale=DIVERGING, zmin=-top, zmax=top, showscale=False,
                             hovertemplate="%{z:.3f}<extra></extra>"), 1, 3)
    _image_axes(fig, 1, 3)
    return base_layout(fig, title, height=330)


def grad_norms(plain: np.ndarray, residual: np.ndarray, labels: Mapping[str, str]) -> go.Figure:
    """||dL/dW|| of each conv layer at initialisation (log scale), plain and residual."""
    fig = go.Figure()
    for i, (name, g) in enumerate(((labels["plain"], plain), (labels["residual"], residual))):
        fig.add_trace(go.Scatter(x=np.arange(1, len(g) + 1), y=g, mode="lines+markers", name=name,
                                 line={"color": color(i)}))
    fig.update_yaxes(type="log")
    return legend_below(base_layout(fig, labels["grad_title"], x=labels["conv_layer"], y=labels["grad_norm"],
                                     height=360))


def table(rows: Sequence[Mapping[str, object]], headings: Mapping[str, str]) -> pd.DataFrame:
    """The zoo / why table: one row per model with its translated column headings."""
    return pd.DataFrame([{headings[k]: r[k] for k in TABLE if k in r} for r in rows])


def se(view: SEView, labels: Mapping[str, str], channels: int = 8) -> go.Figure:
    """The SE block on one digit: the squeeze (each channel's mean) and the excitation (its weight in (0, 1)) as bars,
    then the first ``channels`` maps before and after the scaling (one colour scale for both rows)."""
    C = len(view.weights)
    half = channels // 2
    specs = [[{"colspan": half}, *[None] * (half - 1), {"colspan": half}, *[None] * (half - 1)],
             [{} for _ in range(channels)], [{} for _ in range(channels)]]
    fig = make_subplots(rows=3, cols=channels, specs=specs, row_heights=[0.4, 0.3, 0.3], vertical_spacing=0.08,
                        horizontal_spacing=0.012,
                        subplot_titles=(labels["squeeze"], labels["excitation"], labels["before"],
                                        *[""] * (channels - 1), labels["after"], *[""] * (channels - 1)))
    fig.add_trace(go.Bar(x=np.arange(C), y=view.squeeze, marker_color=color(0), name=labels["squeeze"],
                         showlegend=False), 1, 1)
    fig.add_trace(go.Bar(x=np.arange(C), y=view.weights, marker_color=color(1), name=labels["excitation"],
                         showlegend=False), 1, half + 1)
    fig.update_yaxes(range=[0, 1], row=1, col=half + 1)
    top = max(float(view.maps[:channels].max()), 1e-6)
    for row, maps in ((2, view.maps), (3, view.scaled)):
        for c in range(min(channels, C)):
            fig.add_trace(go.Heatmap(z=maps[c], colorscale=SEQUENTIAL, zmin=0, zmax=top, showscale=False,
                                     hovertemplate=f"ch {c}: %{{z:.2f}}<extra></extra>"), row, c + 1)
            fig.update_yaxes(autorange="reversed", showticklabels=False, row=row, col=c + 1)
            fig.update_xaxes(showticklabels=False, row=row, col=c + 1)
    fig.update_annotations(font_size=12)
    return base_layout(fig, labels["se_title"], height=520)


def stn_trained(view: STNView, labels: Mapping[str, str]) -> go.Figure:
    """Top: a few test digits upright, distorted (the input U) and after the trained transformer (V), each column
    titled "label → prediction"; bottom: every test digit's applied rotation against the rotation left in V (a flat
    cloud: the transformer undid the turns; on the diagonal: it did nothing)."""
    K = len(view.labels)
    specs = [[{} for _ in range(K)] for _ in range(3)] + [[{"colspan": K}] + [None] * (K - 1)]
    titles = [f"{int(y)} → {int(p)}" for y, p in zip(view.labels, view.predicted)] + [""] * (2 * K) + [
        labels["left_angle"]]
    fig = make_subplots(rows=4, cols=K, specs=specs, horizontal_spacing=0.015, vertical_spacing=0.04,
                        row_heights=[0.16, 0.16, 0.16, 0.52], subplot_titles=titles)
    for row, (name, images) in enumerate(((labels["upright"], view.upright), (labels["stn_input"], view.inputs),
                                          (labels["stn_output"], view.outputs)), 1):
        for c in range(K):
            fig.add_trace(go.Heatmap(z=images[c], colorscale=INK, zmin=0, zmax=1, showscale=False, name=name,
                                     hovertemplate="%{z:.2f}<extra></extra>"), row, c + 1)
            fig.update_yaxes(autorange="reversed", showticklabels=False, ticks="", showgrid=False, zeroline=False,
                             title_text=name if c == 0 else None, title_font_size=11, row=row, col=c + 1)
            fig.update_xaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False, row=row, col=c + 1)
    lim = float(max(np.abs(view.alpha).max(), 1.0))
    fig.add_trace(go.Scatter(x=view.alpha, y=view.residual, mode="markers", name=labels["test_digits"],
                             marker={"size": 5, "color": color(0), "opacity": 0.6}), 4, 1)
    fig.add_trace(go.Scatter(x=[-lim, lim], y=[-lim, lim], mode="lines", name=labels["nothing_undone"],
                             line={"dash": "dash", "color": "#999999"}), 4, 1)
    fig.update_xaxes(title_text=labels["applied_angle"], range=[-lim, lim], row=4, col=1)
    fig.update_yaxes(range=[-lim, lim], row=4, col=1)
    fig.update_annotations(font_size=11)
    return legend_below(base_layout(fig, labels["stn_view_title"], height=640), y=-0.1)


def augmentation(runs: Sequence[TrainResult], names: Sequence[str], labels: Mapping[str, str]) -> go.Figure:
    """Left: accuracy on the training digits (undistorted) and on the distorted test digits, one group per run (the
    difference is the generalization gap); right: the distorted-test accuracy during training."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], horizontal_spacing=0.12,
                        subplot_titles=(labels["gap_title"], labels["distorted_acc"]))
    for i, (name, values) in enumerate(((labels["train_acc"], [r.train_acc for r in runs]),
                                        (labels["distorted_acc"], [r.final_acc for r in runs]))):
        fig.add_trace(go.Bar(x=list(names), y=values, name=name, marker_color=color(i),
                             text=[f"{100 * a:.0f}%" for a in values], textposition="outside"), 1, 1)
    for i, (name, run) in enumerate(zip(names, runs)):
        fig.add_trace(go.Scatter(x=run.step, y=run.test_acc, mode="lines", name=name,
                                 line={"color": color(i + 2), "width": 2}), 1, 2)
    fig.update_yaxes(range=[0, 1.12], tickformat=".0%")
    fig.update_xaxes(title_text=labels["step"], row=1, col=2)
    return legend_below(base_layout(fig, labels["aug_title"], height=380))


def grad_history(plain: np.ndarray, residual: np.ndarray, labels: Mapping[str, str]) -> go.Figure:
    """log10 ||dL/dW_l|| of every conv layer (rows, 1 = nearest the input) at every training step (columns), the
    plain net left and the residual net right, one colour scale for both. plain, residual: (steps, layers)."""
    logs = [np.log10(np.maximum(g, 1e-12)) for g in (plain, residual)]
    lo, hi = min(float(g.min()) for g in logs), max(float(g.max()) for g in logs)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["plain"], labels["residual"]), horizontal_spacing=0.08)
    for c, g in enumerate(logs, 1):
        fig.add_trace(go.Heatmap(z=g.T, x=np.arange(1, len(g) + 1), y=np.arange(1, g.shape[1] + 1),
                                 colorscale=SEQUENTIAL, zmin=lo, zmax=hi, showscale=c == 2,
                                 colorbar={"title": {"text": labels["log_norm"]}},
                                 hovertemplate="step %{x}, layer %{y}: 10^%{z:.2f}<extra></extra>"), 1, c)
        fig.update_xaxes(title_text=labels["step"], row=1, col=c)
    fig.update_yaxes(title_text=labels["conv_layer"], row=1, col=1)
    return base_layout(fig, labels["grad_steps_title"], height=380)
