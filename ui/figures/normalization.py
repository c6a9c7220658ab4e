"""Figures of the normalization lesson: the (N, C, H*W) cube of the Group Normalization paper (3D and a
clickable unfolded grid), per-plane statistics, batch-size noise, running statistics, padded sequences,
training curves and the gamma / beta distributions. Data in, go.Figure out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlcore.normalization.lab import AffineView, BatchNoise, CheckRow, Drift, SequenceResult
from dlcore.normalization.training import TrainConfig, TrainHistory
from ui.figures.common import (
    CELL_TEXT,
    DIVERGING,
    PALETTE,
    base_layout,
    color,
    legend_at_bottom,
    legend_below,
    readable,
    series,
)

if TYPE_CHECKING:
    import pandas as pd

SHARED = "#0072B2"     # cells that share the clicked cell's statistics
PICKED = "#D55E00"     # the clicked cell
OTHER = "#E6E6E6"
PAD = "#BBBBBB"

# the labels the builders read: ui.i18n.labels("normalization.fig", LABELS); the titles with the method or the
# learning rate in them ("cube_title", "moments_title", "train_title") are formatted by the page
LABELS = ("accuracy", "affine_title", "band", "batch", "batch_mean", "bn", "cell_hover", "cells_title", "channel",
          "column", "count", "dev_axis", "dev_title", "diverged", "drift_title", "extra_pad", "ln", "loss", "mean",
          "mean_axis", "mismatch", "mismatch_title", "noise_title", "pad", "picked", "position", "raw", "refused",
          "relu", "running_mean", "running_std", "sample", "sample_axis", "sentence", "seq_bn", "seq_input", "seq_ln",
          "seq_masked", "seq_title", "shared", "spread_title", "stats_title", "std", "step", "sweep_title", "sweep_y",
          "token", "true_mean", "true_std", "value", "xhat", "y")
CHECK_COLUMNS = ("kind", "mode", "torch_name", "max_abs_diff", "max_mean", "std_lo", "std_hi", "sets")
CHECK_LABELS = (*CHECK_COLUMNS, "train", "eval")   # normalization.check: the headings and the two modes
CHECK_FORMATS = {"max_abs_diff": "%.2e", "max_mean": "%.1e", "std_lo": "%.5f", "std_hi": "%.5f"}   # printf


# ---------------------------------------------------------------- the cube

def _box(lo: tuple[float, float, float], hi: tuple[float, float, float], **kw) -> go.Mesh3d:
    """An axis-aligned box as a 12-triangle mesh."""
    x0, y0, z0 = lo
    x1, y1, z1 = hi
    x = [x0, x1, x1, x0, x0, x1, x1, x0]
    y = [y0, y0, y1, y1, y0, y0, y1, y1]
    z = [z0, z0, z0, z0, z1, z1, z1, z1]
    i = [0, 0, 4, 4, 0, 0, 3, 3, 0, 0, 1, 1]
    j = [1, 2, 5, 6, 1, 5, 2, 6, 3, 7, 2, 6]
    k = [2, 3, 6, 7, 5, 4, 6, 7, 7, 4, 6, 5]
    return go.Mesh3d(x=x, y=y, z=z, i=i, j=j, k=k, flatshading=True, hoverinfo="skip", **kw)


def _grid_lines(shape: tuple[int, int, int]) -> go.Scatter3d:
    """Cell borders on the three visible faces of the cube (x = C, y = N, z = H*W)."""
    N, C, S = shape
    xs, ys, zs = [], [], []

    def seg(a, b):
        xs.extend([a[0], b[0], None])
        ys.extend([a[1], b[1], None])
        zs.extend([a[2], b[2], None])

    for c in range(C + 1):                  # front face y = 0 and top face z = S
        seg((c, 0, 0), (c, 0, S))
        seg((c, 0, S), (c, N, S))
    for s in range(S + 1):
        seg((0, 0, s), (C, 0, s))
        seg((C, 0, s), (C, N, s))
    for n in range(N + 1):
        seg((0, n, S), (C, n, S))
        seg((C, n, 0), (C, n, S))
    return go.Scatter3d(x=xs, y=ys, z=zs, mode="lines", line={"color": "#666666", "width": 1.5},
                        hoverinfo="skip", showlegend=False)


def cube(mask: np.ndarray, index: tuple[int, int, int], *, title: str, labels: dict[str, str]) -> go.Figure:
    """The Group Normalization paper's cube: C across, N in depth, H*W up; the shared set in blue.

    mask: (N, C, S) bool, the cells sharing statistics with ``index`` (for all four methods a box);
    index: the clicked cell (n, c, s). labels: shared, picked.
    """
    axes, set_name, cell_name = ("N", "C", "H × W"), labels["shared"], labels["picked"]
    shape = mask.shape
    N, C, S = shape
    n, c, s = index
    where = np.nonzero(mask)
    lo = tuple(int(w.min()) for w in where)
    hi = tuple(int(w.max()) + 1 for w in where)
    fig = go.Figure([
        _box((0, 0, 0), (C, N, S), color="#DDDDDD", opacity=0.25, name=""),
        _box((lo[1], lo[0], lo[2]), (hi[1], hi[0], hi[2]), color=SHARED, opacity=0.55, name=set_name,
             showlegend=True),
        _box((c, n, s), (c + 1, n + 1, s + 1), color=PICKED, opacity=1.0, name=cell_name, showlegend=True),
        _grid_lines(shape),
    ])
    ax = {"showbackground": False, "showspikes": False}
    fig.update_layout(scene={
        "xaxis": {**ax, "title": axes[1], "range": [-0.2, C + 0.2], "tickvals": list(np.arange(C) + 0.5),
                  "ticktext": [str(i) for i in range(C)]},
        "yaxis": {**ax, "title": axes[0], "range": [-0.2, N + 0.2], "tickvals": list(np.arange(N) + 0.5),
                  "ticktext": [str(i) for i in range(N)]},
        "zaxis": {**ax, "title": axes[2], "range": [-0.2, S + 0.2], "tickvals": [], "ticktext": []},
        "aspectmode": "manual", "aspectratio": {"x": 1.0, "y": 0.8 * N / C + 0.2, "z": 0.9 * S / C + 0.1},
        "camera": {"eye": {"x": 1.6, "y": -1.5, "z": 0.9}},
    })
    return legend_at_bottom(base_layout(fig, title, height=460), 50)   # above the cube it met the title


def cells(mask: np.ndarray, index: tuple[int, int, int], *, labels: dict[str, str]) -> go.Figure:
    """The cube unfolded: one C x (H*W) panel per sample, side by side. Click a square to pick it.

    mask: (N, C, S) bool, True where the cell shares the picked cell's statistics; every square carries
    customdata [n, c, s]. labels: cells_title, sample ({n}), position, channel, cell_hover ({n} {c} {s}).
    """
    sample, hover = labels["sample"], labels["cell_hover"]
    N, C, S = mask.shape
    n_, c_, s_ = np.meshgrid(np.arange(N), np.arange(C), np.arange(S), indexing="ij")
    xs = (n_ * (S + 1) + s_).ravel()
    colors = np.where(mask.ravel(), SHARED, OTHER).astype(object)
    flat = np.ravel_multi_index(index, mask.shape)
    colors[flat] = PICKED
    size = int(np.clip(640 / (N * (S + 1)), 6, 22))
    fig = go.Figure(go.Scatter(
        x=xs, y=c_.ravel(), mode="markers", customdata=np.stack([n_.ravel(), c_.ravel(), s_.ravel()], 1).tolist(),
        marker={"symbol": "square", "size": size, "color": list(colors), "line": {"width": 0}},
        hovertemplate=hover.format(n="%{customdata[0]}", c="%{customdata[1]}", s="%{customdata[2]}")
        + "<extra></extra>", showlegend=False))
    fig.update_xaxes(tickvals=[k * (S + 1) + (S - 1) / 2 for k in range(N)],
                     ticktext=[sample.format(n=k) for k in range(N)], showgrid=False, zeroline=False)
    fig.update_yaxes(range=[C - 0.5, -0.5], showgrid=False, zeroline=False, dtick=1)
    fig.update_layout(clickmode="event+select", dragmode=False)
    return base_layout(fig, labels["cells_title"], x=labels["position"], y=labels["channel"],
                       height=130 + C * (size + 8))


def moments_maps(mean: np.ndarray, std: np.ndarray, *, title: str, labels: dict[str, str]) -> go.Figure:
    """Two (N, C) heatmaps: the mean and sqrt(var + eps) each (sample, channel) plane is normalized with."""
    x, y = labels["channel"], labels["sample_axis"]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["mean"], labels["std"]), horizontal_spacing=0.2)
    for col, z, scale in ((1, mean, DIVERGING), (2, std, "Viridis")):
        zmax = float(np.abs(z).max()) if col == 1 else None
        fig.add_trace(go.Heatmap(z=z, colorscale=scale, zmid=0 if col == 1 else None,
                                 zmin=-zmax if zmax else None, zmax=zmax, xgap=1, ygap=1,
                                 colorbar={"x": 0.42 if col == 1 else 1.0, "len": 0.9, "thickness": 12},
                                 texttemplate="%{z:.2f}" if z.size <= 96 else None, textfont=CELL_TEXT,
                                 hovertemplate="n=%{y}, c=%{x}: %{z:.4f}<extra></extra>"), 1, col)
        fig.update_xaxes(title_text=x, dtick=1 if z.shape[1] <= 12 else 2, row=1, col=col)
        # one y title, on the left map (beside the right map it met the left map's colour bar); every other
        # sample numbered when the rows are too close for a 12 px label each
        fig.update_yaxes(title_text=y if col == 1 else None, dtick=1 if z.shape[0] <= 10 else 2,
                         autorange="reversed", row=1, col=col)
    return base_layout(fig, title, height=340)


# ---------------------------------------------------------------- batch size

def batch_noise(res: BatchNoise, *, labels: dict[str, str]) -> go.Figure:
    """Left: BN's batch mean in every random batch, per batch size, with the expected +-2 sigma band.
    Right: how far one fixed image's output moves with its batch-mates (BN) and does not (LN)."""
    sizes, batch_means, mean, predicted = res.batch_sizes, res.batch_means, res.population_mean, res.predicted_spread
    bn_dev, ln_dev = res.bn_deviation, res.ln_deviation
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["spread_title"], labels["dev_title"]),
                        horizontal_spacing=0.1)
    pos = np.log2(sizes)
    R = batch_means.shape[1]
    jitter = (np.random.default_rng(0).random(R) - 0.5) * 0.35
    fig.add_trace(go.Scatter(x=(pos[:, None] + jitter[None]).ravel(), y=batch_means.ravel(), mode="markers",
                             marker={"size": 4, "color": color(0), "opacity": 0.45}, name=labels["batch_mean"],
                             hovertemplate="%{y:.3f}<extra></extra>"), 1, 1)
    fig.add_trace(go.Scatter(x=pos, y=mean + 2 * predicted, mode="lines", line={"color": color(1), "dash": "dot"},
                             name=labels["band"]), 1, 1)
    fig.add_trace(go.Scatter(x=pos, y=mean - 2 * predicted, mode="lines", line={"color": color(1), "dash": "dot"},
                             showlegend=False), 1, 1)
    fig.add_hline(y=mean, line={"color": "#333333", "width": 1}, row=1, col=1)
    fig.add_trace(go.Scatter(x=pos, y=bn_dev, mode="lines+markers", line={"color": color(0)},
                             name=labels["bn"]), 1, 2)
    fig.add_trace(go.Scatter(x=pos, y=ln_dev, mode="lines+markers", line={"color": color(2)},
                             name=labels["ln"]), 1, 2)
    refused = pos[np.isnan(bn_dev)]
    if len(refused):
        fig.add_trace(go.Scatter(x=refused, y=np.zeros(len(refused)), mode="markers+text", text=[labels["refused"]],
                                 textposition="top center", marker={"symbol": "x", "size": 12, "color": PICKED},
                                 showlegend=False, hoverinfo="skip"), 1, 2)
    for col in (1, 2):
        fig.update_xaxes(tickvals=pos, ticktext=[str(b) for b in sizes], title_text=labels["batch"], row=1, col=col)
    fig.update_yaxes(title_text=labels["mean_axis"], row=1, col=1)
    fig.update_yaxes(title_text=labels["dev_axis"], rangemode="tozero", row=1, col=2)
    return legend_below(base_layout(fig, labels["noise_title"], height=460), y=-0.2, margin_b=110)


def drift(d: Drift, drift_until: int, *, labels: dict[str, str]) -> go.Figure:
    """Top: batch means, the running mean chasing the layer's true mean (and the variance). Bottom: how much
    eval mode would change the outputs if you switched to it at that step."""
    step, batch_mean, running_mean, true_mean = d.step, d.batch_mean, d.running_mean, d.true_mean
    running_var, true_var, mismatch = d.running_var, d.true_var, d.mismatch
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[0.6, 0.4],
                        subplot_titles=(labels["stats_title"], labels["mismatch_title"]))
    fig.add_trace(go.Scatter(x=step, y=batch_mean, mode="markers",
                             marker={"size": 4, "color": color(0), "opacity": 0.5},
                             name=labels["batch_mean"]), 1, 1)
    fig.add_trace(go.Scatter(x=step, y=true_mean, mode="lines", line={"color": "#333333", "dash": "dash"},
                             name=labels["true_mean"]), 1, 1)
    fig.add_trace(go.Scatter(x=step, y=running_mean, mode="lines", line={"color": color(3), "width": 3},
                             name=labels["running_mean"]), 1, 1)
    fig.add_trace(go.Scatter(x=step, y=np.sqrt(true_var), mode="lines", line={"color": "#777777", "dash": "dot"},
                             name=labels["true_std"]), 1, 1)
    fig.add_trace(go.Scatter(x=step, y=np.sqrt(running_var), mode="lines", line={"color": color(4), "width": 2},
                             name=labels["running_std"]), 1, 1)
    fig.add_trace(go.Scatter(x=step, y=mismatch, mode="lines", line={"color": color(3)}, fill="tozeroy",
                             name=labels["mismatch"], showlegend=False), 2, 1)
    if 0 < drift_until < step[-1]:
        fig.add_vline(x=drift_until, line={"color": "#999999", "dash": "dot"})
    fig.update_yaxes(title_text=labels["value"], row=1, col=1)
    fig.update_yaxes(title_text=labels["mismatch"], rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text=labels["step"], row=2, col=1)
    return legend_below(base_layout(fig, labels["drift_title"], height=600), y=-0.12, margin_b=110)


# ---------------------------------------------------------------- sequences

def sequences(sq: SequenceResult, feature: int, *, labels: dict[str, str]) -> go.Figure:
    """One feature of a padded batch, before and after each normalization: rows sentences, columns tokens.

    Padding cells are grey squares (their value in the hover).
    """
    mask, f = sq.mask, feature
    token, sentence, pad = labels["token"], labels["sentence"], labels["pad"]
    panels = [(labels["seq_input"], sq.x[..., f]), (labels["seq_bn"], sq.bn[..., f]),
              (labels["seq_masked"], sq.masked_bn[..., f]), (labels["seq_ln"], sq.ln[..., f])]
    B, T = mask.shape
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p[0] for p in panels], horizontal_spacing=0.04)
    for col, (_, z) in enumerate(panels, start=1):
        zz = np.where(mask, z, np.nan)
        zmax = float(np.nanmax(np.abs(zz))) or 1.0
        fig.add_trace(go.Heatmap(z=zz, colorscale=DIVERGING, zmid=0, zmin=-zmax, zmax=zmax, xgap=1, ygap=1,
                                 showscale=False, texttemplate="%{z:.1f}" if B * T <= 64 else None, textfont=CELL_TEXT,
                                 hovertemplate="%{z:.3f}<extra></extra>"), 1, col)
        pb, pt = np.nonzero(~mask)
        fig.add_trace(go.Scatter(x=pt, y=pb, mode="markers", marker={"symbol": "square", "size": 14, "color": PAD},
                                 name=pad, showlegend=col == 1, customdata=z[pb, pt],
                                 hovertemplate=pad + ": %{customdata:.2f}<extra></extra>"), 1, col)
        fig.update_xaxes(title_text=token, dtick=2, row=1, col=col)
        fig.update_yaxes(autorange="reversed", dtick=1, showticklabels=col == 1, row=1, col=col)
    fig.update_yaxes(title_text=sentence, row=1, col=1)
    return legend_below(base_layout(fig, labels["seq_title"].format(d=f), height=190 + 36 * B), y=-0.3, margin_b=110)


def padding_sweep(sq: SequenceResult, feature: int, current: int, *, labels: dict[str, str]) -> go.Figure:
    """The output of one real token as the batch carries more padding, one line per method."""
    fig = go.Figure([go.Scatter(x=sq.pads, y=sq.sweep[k], mode="lines+markers", name=labels[name],
                                line={"color": color(i + 1)})
                     for i, (k, name) in enumerate((("bn", "seq_bn"), ("masked_bn", "seq_masked"), ("ln", "seq_ln")))])
    fig.add_vline(x=current, line={"color": "#999999", "dash": "dot"})
    return base_layout(fig, labels["sweep_title"].format(d=feature), x=labels["extra_pad"], y=labels["sweep_y"],
                       height=360)


# ---------------------------------------------------------------- training

def training(runs: list[TrainHistory], batches: list[int], methods: list[str], *, title: str,
             names: dict[str, str], labels: dict[str, str]) -> go.Figure:
    """Loss (top) and test accuracy (bottom), one column per batch size, one colour per method (names)."""
    cols = len(batches)
    fig = make_subplots(rows=2, cols=cols, shared_xaxes=True, vertical_spacing=0.08, horizontal_spacing=0.05,
                        subplot_titles=[labels["column"].format(b=b) for b in batches] + [""] * cols)
    for run in runs:
        method = run.config.method
        i = list(names).index(method)   # a method keeps its colour, dash and symbol whatever else is picked
        col = batches.index(run.config.batch) + 1
        for row, values in ((1, run.loss), (2, run.test_acc)):
            fig.add_trace(go.Scatter(x=run.step, y=values, mode="lines+markers", line=series(i).line(2),
                                     marker=series(i).marker(7, maxdisplayed=12),
                                     name=names[method], legendgroup=method, showlegend=row == 1 and col == 1),
                          row, col)
        if run.diverged_at is not None:
            fig.add_trace(go.Scatter(x=[run.diverged_at], y=[0], mode="markers+text", text=[labels["diverged"]],
                                     textposition="top center", marker={"symbol": "x", "size": 12,
                                                                         "color": series(i).color},
                                     showlegend=False, hoverinfo="skip"), 2, col)
    for col in range(1, cols + 1):
        fig.update_yaxes(rangemode="tozero", row=1, col=col, showticklabels=col == 1, matches="y")
        fig.update_yaxes(range=[0, 1.02], row=2, col=col, showticklabels=col == 1)
        fig.update_xaxes(title_text=labels["step"], row=2, col=col)
    fig.update_yaxes(title_text=labels["loss"], row=1, col=1)
    fig.update_yaxes(title_text=labels["accuracy"], row=2, col=1)
    return legend_below(base_layout(fig, title, height=600), y=-0.12, margin_b=110)


# ---------------------------------------------------------------- gamma and beta

def affine(a: AffineView, channel: int, *, labels: dict[str, str]) -> go.Figure:
    """Histograms of one channel: the raw activations, after normalization, after gamma and beta."""
    x, x_hat, y = a.x, a.x_hat, a.y
    names = (labels["raw"], labels["xhat"], labels["y"])
    lo = float(min(x.min(), x_hat.min(), y.min()))
    hi = float(max(x.max(), x_hat.max(), y.max()))
    bins = {"start": lo, "end": hi, "size": (hi - lo) / 60 or 1.0}
    fig = go.Figure([go.Histogram(x=v.astype(np.float32), xbins=bins, name=n, opacity=0.55,
                                  marker={"color": c}) for v, n, c in ((x, names[0], PALETTE[8]),
                                                                       (x_hat, names[1], PALETTE[0]),
                                                                       (y, names[2], PALETTE[3]))])
    fig.update_layout(barmode="overlay")
    fig.add_vline(x=0, line={"color": "#333333", "dash": "dot"}, annotation_text=labels["relu"],
                  annotation_position="top right")
    return base_layout(fig, labels["affine_title"].format(c=channel), x=labels["value"], y=labels["count"], height=380)


# ---------------------------------------------------------------- tables

def check_table(rows: Sequence[CheckRow], names: Mapping[str, str],
                labels: Mapping[str, str]) -> pd.io.formats.style.Styler:
    """The checks against torch as the lesson shows them: translated methods (``names``) and modes, headed by the
    CHECK_LABELS of ``labels``; styled for ``st.dataframe`` (``CHECK_FORMATS``, and "–" where a statistic does not
    apply, e.g. the sets' moments in eval mode: a bare NaN shows as "None"); ``.data`` holds the numbers."""
    import pandas as pd

    modes = {m: labels[m] for m in ("train", "eval")}
    df = pd.DataFrame([asdict(r) for r in rows]).replace({"kind": names, "mode": modes})
    df = df.rename(columns={c: labels[c] for c in CHECK_COLUMNS})
    return readable(df, formats={labels[c]: f for c, f in CHECK_FORMATS.items()})


def run_label(config: TrainConfig, names: Mapping[str, str]) -> dict[str, object]:
    """What the texts about one run fill in: its method's translated name and its batch size."""
    return {"method": names[config.method], "b": config.batch}


def run_names(runs: Sequence[TrainHistory], names: Mapping[str, str], template: str) -> str:
    """The runs as the warnings list them: ``template`` ("{method} (batch size {b})") for each, comma-separated."""
    return ", ".join(template.format(**run_label(r.config, names)) for r in runs)


def accuracy_table(runs: Sequence[TrainHistory], methods: Sequence[str], batches: Sequence[int], *,
                   names: Mapping[str, str], column: str, index: str) -> pd.io.formats.style.Styler:
    """Final test accuracy, one row per method and one column per batch size (``runs`` in the grid's order:
    batch sizes, then methods); ``column`` is the heading template ("batch size {b}"), ``index`` the axis name."""
    import pandas as pd

    acc = [[r.test_acc[-1] for r in runs[i::len(methods)]] for i in range(len(methods))]
    df = pd.DataFrame(acc, index=[names[m] for m in methods],
                      columns=[column.format(b=b) for b in batches]).rename_axis(index)
    return readable(df, percents=list(df.columns))   # 58.6%, not 0.5861
