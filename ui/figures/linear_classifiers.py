"""Figures of the linear-classifiers lesson: pure builders, data and translated labels in, ``go.Figure`` out."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures.common import DIVERGING, base_layout, color, legend_below, plain

if TYPE_CHECKING:
    from dlcore.linear_classifiers.knn import CVResult
    from dlcore.linear_classifiers.losses import PointLoss, ScoreSweep
    from dlcore.linear_classifiers.playground import Regions
    from dlcore.linear_classifiers.studies import GenDiscExample, GenVsDisc, Growth, LeastSquaresDemo

# the labels each builder takes: keys of "linear_classifiers.fig"
REGION_LABELS = ("regions_title", "knn", "svm", "softmax", "gaussian", "class", "svm_loss", "softmax_loss",
                 "failed", "acc", "click", "hood")
LOSS_LABELS = ("scores", "svm_terms", "probs", "loss_title", "class_axis", "sweep_title", "correct_score",
               "svm_curve", "softmax_curve", "margin_reached", "linear_scale", "log_scale")
TEMPLATE_LABELS = ("templates_title", "digit", "growth_title", "train_size", "accuracy", "test_ms", "knn_curve",
                   "linear_curve")
CV_LABELS = ("cv_title", "k_axis", "accuracy", "fold", "cv_mean", "test_curve", "train_curve", "chosen")
DIST_LABELS = ("curse_title", "dimension", "edge", "ratio", "std_title", "step", "objective", "raw", "standardized")
GEN_LABELS = ("gen_title", "train_points", "accuracy", "generative", "logistic", "example_title", "class",
              "ls_title", "least_squares", "far_points")

LIGHT = 0.35    # opacity of the decision regions under the points


def _class_scale(n_classes: int) -> list[list]:
    """A stepped colour scale: value c in [c - 0.5, c + 0.5] gets class c's colour."""
    out = []
    for c in range(n_classes):
        out += [[c / n_classes, color(c)], [(c + 1) / n_classes, color(c)]]
    return out


def _ball(q: tuple[float, float], radius: float, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Outline of the points at distance ``radius`` from q: a circle in L2, a diamond in L1."""
    if metric == "l1":
        return q[0] + radius * np.array([1, 0, -1, 0, 1.0]), q[1] + radius * np.array([0, 1, 0, -1, 0.0])
    t = np.linspace(0, 2 * np.pi, 73)
    return q[0] + radius * np.cos(t), q[1] + radius * np.sin(t)


def regions(r: Regions, x: np.ndarray, y: np.ndarray, labels: Mapping[str, str], *,
            clickable: bool = False, hood: tuple | None = None) -> go.Figure:
    """The decision regions of the four classifiers side by side, the points on top; hovering a point shows its
    SVM or softmax loss in those panels. ``clickable``: an invisible grid of targets on the k-NN panel, so a
    click anywhere reports a position. ``hood``: (q, neighbours (k, 2), radius, metric) drawn on the k-NN panel:
    the clicked point, its k nearest points, and the L2 circle or L1 diamond that holds them.

    Written as plain JSON (``plain``) on ``make_subplots``' layout: it is rebuilt whenever k or the data change,
    and Plotly's validation of the traces would cost more than the classifiers."""
    n_classes = int(max(y.max(), *(v.max() for v in r.labels.values()))) + 1 if r.labels else int(y.max()) + 1
    names = ("knn", "svm", "softmax", "gaussian")
    titles = [f"{labels[n]}" + (f" · {labels['acc']} {r.train_acc[n]:.0%}" if n in r.train_acc else "")
              for n in names]
    layout = _grid_layout(tuple(titles))
    data: list[dict] = []
    for i, name in enumerate(names):
        axes = {"xaxis": "x" if i == 0 else f"x{i + 1}", "yaxis": "y" if i == 0 else f"y{i + 1}"}
        if name in r.labels:
            data.append({"type": "heatmap", "x": r.xs, "y": r.ys, "z": r.labels[name], "zmin": -0.5,
                         "zmax": n_classes - 0.5, "colorscale": _class_scale(n_classes), "opacity": LIGHT,
                         "showscale": False, "hoverinfo": "skip", "name": labels[name], **axes})
        else:
            layout["annotations"].append({"text": labels["failed"], "x": float(np.mean(r.xs)),
                                          "y": float(np.mean(r.ys)), "showarrow": False,
                                          "xref": axes["xaxis"], "yref": axes["yaxis"]})
        loss = {"svm": r.svm_loss, "softmax": r.softmax_loss}.get(name)
        for c in range(int(y.max()) + 1):
            m = y == c
            hover = f"{labels['class']} {c}<br>x = %{{x:.2f}}, y = %{{y:.2f}}"
            if loss is not None:
                hover += f"<br>{labels[name + '_loss']} = %{{customdata:.3f}}"
            data.append({"type": "scatter", "x": x[m, 0], "y": x[m, 1], "mode": "markers",
                         "name": f"{labels['class']} {c}", "legendgroup": str(c), "showlegend": i == 0,
                         **({"customdata": loss[m]} if loss is not None else {}),
                         "marker": {"color": color(c), "size": 6, "line": {"width": 0.6, "color": "white"}},
                         "hovertemplate": hover + "<extra></extra>", **axes})
    first = {"xaxis": "x", "yaxis": "y", "showlegend": False, "name": labels["hood"], "hoverinfo": "skip"}
    if hood is not None:
        q, near, radius, metric = hood
        bx, by = _ball(q, radius, metric)
        data += [{"type": "scatter", "x": bx, "y": by, "mode": "lines", **first,
                  "line": {"color": "#000000", "width": 1.5, "dash": "dot"}},
                 {"type": "scatter", "x": near[:, 0], "y": near[:, 1], "mode": "markers", **first,
                  "marker": {"size": 11, "symbol": "circle-open", "color": "#000000"}},
                 {"type": "scatter", "x": [q[0]], "y": [q[1]], "mode": "markers", **first,
                  "marker": {"size": 12, "symbol": "x", "color": "#000000"}}]
    if clickable:
        gx, gy = np.meshgrid(np.linspace(r.xs[0], r.xs[-1], 36), np.linspace(r.ys[0], r.ys[-1], 36))
        data.append({"type": "scatter", "x": gx.ravel(), "y": gy.ravel(), "mode": "markers", "name": labels["click"],
                     "marker": {"size": 12, "opacity": 0.0, "color": "#999999"}, "showlegend": False,
                     "hovertemplate": labels["click"] + " (%{x:.2f}, %{y:.2f})<extra></extra>", "xaxis": "x",
                     "yaxis": "y"})
    layout.update(title={"text": labels["regions_title"], "x": 0.0, "xanchor": "left"}, height=640,
                  margin={"l": 50, "r": 20, "t": 60, "b": 70}, clickmode="event+select", dragmode=False,
                  legend={"orientation": "h", "yref": "container", "y": 0.0, "yanchor": "bottom", "xanchor": "left",
                          "x": 0.0})   # at the bottom edge: above the plot it covered the first subplot's title
    return plain(data, layout)


@lru_cache(maxsize=64)
def _grid_layout_json(titles: tuple[str, ...]) -> str:
    fig = make_subplots(2, 2, subplot_titles=titles, horizontal_spacing=0.06, vertical_spacing=0.1,
                        shared_xaxes=True, shared_yaxes=True)
    return fig.layout.to_json()


def _grid_layout(titles: tuple[str, ...]) -> dict:
    """The 2 x 2 layout of ``make_subplots`` (axes, shared ranges, the panel titles), made once per titles."""
    return json.loads(_grid_layout_json(titles))


def loss_bars(p: PointLoss, class_names: Sequence[str], labels: Mapping[str, str]) -> go.Figure:
    """One example's scores, its SVM terms max(0, s_j - s_y + delta) and its softmax probabilities, side by
    side; the correct class is outlined. labels: ``LOSS_LABELS`` ("svm_terms", "probs" take {loss})."""
    fig = make_subplots(1, 3, subplot_titles=(labels["scores"], labels["svm_terms"].format(loss=p.svm),
                                              labels["probs"].format(loss=p.softmax)), horizontal_spacing=0.08)
    names = list(class_names)
    line = [3 if j == p.label else 0 for j in range(len(names))]
    for col, values, fmt in ((1, p.scores, ".2f"), (2, p.margins, ".2f"), (3, p.probs, ".3f")):
        fig.add_trace(go.Bar(x=names, y=list(values), text=[format(v, fmt) for v in values], textposition="outside",
                             marker={"color": [color(j) for j in range(len(names))],
                                     "line": {"width": line, "color": "#000000"}}, showlegend=False,
                             hovertemplate="%{x}: %{y:.4f}<extra></extra>"), 1, col)
    fig.update_yaxes(range=[0, 1.15], row=1, col=3)
    base_layout(fig, labels["loss_title"].format(svm=p.svm, softmax=p.softmax), height=380)
    return fig


def loss_sweep(s: ScoreSweep, labels: Mapping[str, str]) -> go.Figure:
    """Both losses of the example as its correct score grows, on a linear scale and on a log scale: the SVM's
    reaches exactly 0 at the margin (and leaves the log axis there); the softmax loss only approaches 0."""
    fig = make_subplots(1, 2, subplot_titles=(labels["linear_scale"], labels["log_scale"]), horizontal_spacing=0.1)
    for col in (1, 2):
        svm = s.svm.numpy() if col == 1 else np.where(s.svm.numpy() > 0, s.svm.numpy(), np.nan)
        fig.add_trace(go.Scatter(x=s.correct.numpy(), y=svm, name=labels["svm_curve"], legendgroup="svm",
                                 showlegend=col == 1, line={"color": color(0), "width": 3}), 1, col)
        fig.add_trace(go.Scatter(x=s.correct.numpy(), y=s.softmax.numpy(), name=labels["softmax_curve"],
                                 legendgroup="softmax", showlegend=col == 1,
                                 line={"color": color(1), "width": 3, "dash": "dash"}), 1, col)
        fig.add_vline(x=s.zero_at, line={"color": "#999999", "dash": "dot"}, row=1, col=col)
    fig.add_annotation(x=s.zero_at, y=1.0, yref="y domain", text=labels["margin_reached"].format(s=s.zero_at),
                       showarrow=False, xanchor="left", row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_xaxes(title_text=labels["correct_score"])
    return legend_below(base_layout(fig, labels["sweep_title"], height=420), y=-0.22)


def templates(W: np.ndarray, test_acc: float, labels: Mapping[str, str]) -> go.Figure:
    """The ten rows of W as 8 x 8 images, one colour scale centred on 0 (red: pixels that raise the score)."""
    fig = make_subplots(2, 5, subplot_titles=[labels["digit"].format(d=d) for d in range(10)],
                        horizontal_spacing=0.02, vertical_spacing=0.12)
    lim = float(np.abs(W).max()) or 1.0
    for d in range(10):
        fig.add_trace(go.Heatmap(z=W[d].reshape(8, 8)[::-1], zmin=-lim, zmax=lim, zmid=0.0, colorscale=DIVERGING,
                                 showscale=d == 0, hovertemplate="w = %{z:.3f}<extra></extra>", name=str(d)),
                      d // 5 + 1, d % 5 + 1)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, scaleanchor="x")
    return base_layout(fig, labels["templates_title"].format(acc=test_acc), height=400)


def growth(g: Growth, labels: Mapping[str, str]) -> go.Figure:
    """Test accuracy and test time of k-NN and the linear classifier as the training set grows."""
    fig = make_subplots(1, 2, subplot_titles=(labels["accuracy"], labels["test_ms"]), horizontal_spacing=0.12)
    for i, (name, acc, ms) in enumerate((("knn_curve", g.knn_acc, g.knn_ms), ("linear_curve", g.linear_acc,
                                                                             g.linear_ms))):
        for col, vals in ((1, acc), (2, ms)):
            fig.add_trace(go.Scatter(x=list(g.sizes), y=vals.numpy(), name=labels[name], legendgroup=name,
                                     showlegend=col == 1, mode="lines+markers", line={"color": color(i)}), 1, col)
    fig.update_xaxes(type="log", title_text=labels["train_size"])
    return legend_below(base_layout(fig, labels["growth_title"], height=400), y=-0.22)


def cross_validation(cv: CVResult, test_acc: np.ndarray, train_acc: np.ndarray, labels: Mapping[str, str]) -> \
        go.Figure:
    """Every fold's validation accuracy for each k (dots), their mean and spread, the chosen k; and the two wrong
    protocols: accuracy on the test set and on the training set for every k."""
    ks = np.asarray(cv.ks)
    acc = cv.fold_acc.numpy()
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=np.repeat(ks, acc.shape[0]), y=acc.T.ravel(), mode="markers", name=labels["fold"],
                             marker={"color": color(0), "size": 7, "opacity": 0.6}))
    fig.add_trace(go.Scatter(x=ks, y=cv.mean.numpy(), name=labels["cv_mean"], mode="lines+markers",
                             line={"color": color(0), "width": 3},
                             error_y={"type": "data", "array": cv.std.numpy(), "visible": True}))
    fig.add_trace(go.Scatter(x=ks, y=test_acc, name=labels["test_curve"], mode="lines",
                             line={"color": color(3), "dash": "dash"}))
    fig.add_trace(go.Scatter(x=ks, y=train_acc, name=labels["train_curve"], mode="lines",
                             line={"color": color(2), "dash": "dot"}))
    fig.add_vline(x=cv.best_k, line={"color": "#999999", "dash": "dot"},
                  annotation_text=labels["chosen"].format(k=cv.best_k))
    fig.update_xaxes(tickvals=ks)
    return base_layout(fig, labels["cv_title"].format(folds=acc.shape[0]), x=labels["k_axis"], y=labels["accuracy"])


def curse(dims: np.ndarray, edge: np.ndarray, ratio: np.ndarray, fraction: float,
          labels: Mapping[str, str]) -> go.Figure:
    """The edge of the sub-cube holding ``fraction`` of the points, and nearest / farthest distance, against the
    dimension."""
    fig = make_subplots(1, 2, subplot_titles=(labels["edge"].format(f=fraction), labels["ratio"]),
                        horizontal_spacing=0.12)
    fig.add_trace(go.Scatter(x=dims, y=edge, mode="lines+markers", line={"color": color(0)},
                             name=labels["edge"].format(f=fraction), showlegend=False), 1, 1)
    fig.add_trace(go.Scatter(x=dims, y=ratio, mode="lines+markers", line={"color": color(1)},
                             name=labels["ratio"], showlegend=False), 1, 2)
    fig.update_xaxes(type="log", title_text=labels["dimension"])
    fig.update_yaxes(range=[0, 1.05])
    return base_layout(fig, labels["curse_title"], height=360)


def standardization(loss_raw: np.ndarray, loss_std: np.ndarray, labels: Mapping[str, str]) -> go.Figure:
    """The softmax objective during gradient descent on raw and on standardised features (log scale; a run that
    diverged stops where its values stop being finite)."""
    fig = go.Figure()
    for i, (name, v) in enumerate((("raw", loss_raw), ("standardized", loss_std))):
        v = np.where(np.isfinite(v), v, np.nan)
        fig.add_trace(go.Scatter(y=v, name=labels[name], line={"color": color(i), "width": 3}))
    fig.update_yaxes(type="log")
    return base_layout(fig, labels["std_title"], x=labels["step"], y=labels["objective"], height=340)


def gen_vs_disc(g: GenVsDisc, labels: Mapping[str, str]) -> go.Figure:
    """Mean test accuracy of the Gaussian generative classifier and of logistic regression by training size."""
    fig = go.Figure()
    for i, (name, acc) in enumerate((("generative", g.generative), ("logistic", g.logistic))):
        fig.add_trace(go.Scatter(x=list(g.sizes), y=acc.numpy(), name=labels[name], mode="lines+markers",
                                 line={"color": color(i), "width": 3}))
    fig.update_xaxes(type="log")
    return base_layout(fig, labels["gen_title"], x=labels["train_points"], y=labels["accuracy"], height=360)


def _boundary(w: np.ndarray, b: float, xs: np.ndarray) -> np.ndarray:
    """y on the line w0 x + w1 y + b = 0 (NaN where it is vertical)."""
    return (-b - w[0] * xs) / w[1] if abs(w[1]) > 1e-12 else np.full_like(xs, np.nan)


def _points_with_lines(x: np.ndarray, y: np.ndarray, lines: Sequence[tuple[str, np.ndarray, float]],
                       title: str, class_label: str) -> go.Figure:
    fig = go.Figure()
    for c in (0, 1):
        m = y == c
        fig.add_trace(go.Scatter(x=x[m, 0], y=x[m, 1], mode="markers", name=f"{class_label} {c}",
                                 marker={"color": color(c), "size": 6}))
    lo, hi = x[:, 0].min() - 0.5, x[:, 0].max() + 0.5
    xs = np.linspace(lo, hi, 50)
    for i, (name, w, b) in enumerate(lines):
        fig.add_trace(go.Scatter(x=xs, y=_boundary(w, b, xs), mode="lines", name=name,
                                 line={"color": color(2 + i), "width": 3, "dash": ("solid", "dash")[i % 2]}))
    fig.update_yaxes(range=[x[:, 1].min() - 0.8, x[:, 1].max() + 0.8])
    return base_layout(fig, title, x="x₁", y="x₂", height=380)


def gen_disc_example(e: GenDiscExample, labels: Mapping[str, str]) -> go.Figure:
    """One draw with both boundaries: the Gaussian model's w, b and logistic regression's."""
    return _points_with_lines(e.x.numpy(), e.y.numpy(), ((labels["generative"], e.w_gen.numpy(), e.b_gen),
                                                       (labels["logistic"], e.w_log.numpy(), e.b_log)),
                              labels["example_title"], labels["class"])


def least_squares(d: LeastSquaresDemo, labels: Mapping[str, str]) -> go.Figure:
    """Least squares on the labels and logistic regression, with the far-away points of class 1."""
    return _points_with_lines(d.x.numpy(), d.y.numpy(), ((labels["least_squares"], d.w_ls.numpy(), d.b_ls),
                                                       (labels["logistic"], d.w_log.numpy(), d.b_log)),
                              labels["ls_title"].format(far=d.far), labels["class"])
