"""Figures of the generalization lesson: fits over the points, error against capacity, bias–variance measured,
coefficient paths, the diamond-vs-circle picture, dropout's curves and masks, robust line fits and the three
losses. Pure: plain data and translated labels in, figures out; they never call t()."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures.common import PALETTE, base_layout, legend_at_bottom

BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, _, BLACK, GREY = PALETTE[:9]
MAX_FAINT = 60          # faint fits drawn in the bias-variance figure (the mean uses all of them)
FLOOR = 1e-3            # the sweep draws smaller estimates here: below it bias² is lost in the estimate's noise

FIT_LABELS = ("fit_title", "x", "y", "train_pts", "val_pts", "truth", "fit", "degree_n")
CAPACITY_LABELS = ("capacity_title", "degree", "mse", "train_err", "val_err", "noise_floor", "chosen")
BV_LABELS = ("bv_fits_title", "x", "y", "one_fit", "mean_fit", "truth", "decomp_title", "bias2", "variance",
             "noise", "sum", "measured", "error", "sweep_title", "degree", "lambda", "bagging_title", "single",
             "bagged")
PATH_LABELS = ("path_title", "lambda", "coef", "lasso", "ridge", "cv_title", "mse", "fold", "cv_mean", "held_out",
               "cv_best", "one_se")
PICTURE_LABELS = ("picture_title", "w1", "w2", "loss", "lasso", "ridge", "ols", "decay", "diamond", "circle")
DROPOUT_LABELS = ("dropout_title", "step", "mse", "train_err", "val_err", "with", "without", "best", "stop",
                  "masks_title", "x", "y", "one_mask", "mask_mean", "eval_mode", "train_pts", "unscaled", "aug_title",
                  "plain", "augmented", "test_set", "shifted_set", "accuracy")
ROBUST_LABELS = ("robust_title", "x", "y", "points", "outlier", "true_line", "l2", "l1", "huber",
                 "losses_title", "grads_title", "residual", "loss", "grad")
LABELS = {"fit": FIT_LABELS, "cap": CAPACITY_LABELS, "bv": BV_LABELS, "path": PATH_LABELS, "pic": PICTURE_LABELS,
          "drop": DROPOUT_LABELS, "rob": ROBUST_LABELS}   # label sets by figure group (generalization.fig.*)


def _np(a: Any) -> np.ndarray:
    return np.asarray(a.detach().cpu().numpy() if hasattr(a, "detach") else a, dtype=np.float64)


def _clip_range(*arrays: np.ndarray, pad: float = 0.3) -> list[float]:
    lo = min(float(np.min(a)) for a in arrays)
    hi = max(float(np.max(a)) for a in arrays)
    span = max(hi - lo, 1e-3)
    return [lo - pad * span, hi + pad * span]


def fit(data, curve: np.ndarray, degree: int, texts: Mapping[str, str],
        faint: Mapping[int, np.ndarray] | None = None) -> go.Figure:
    """Training and validation points, the target, and the degree-``degree`` fit (others in ``faint``)."""
    grid, f = _np(data.grid), _np(data.f_grid)
    fig = go.Figure()
    fig.add_scatter(x=_np(data.x_val), y=_np(data.y_val), mode="markers", name=texts["val_pts"],
                    marker={"color": GREY, "size": 5, "opacity": 0.45})
    fig.add_scatter(x=grid, y=f, mode="lines", name=texts["truth"], line={"color": BLACK, "dash": "dash"})
    for i, (d, c) in enumerate((faint or {}).items()):
        fig.add_scatter(x=grid, y=_np(c), mode="lines", name=texts["degree_n"].format(d=d),
                        line={"color": (SKY, PURPLE)[i % 2], "width": 1.5}, opacity=0.6)
    fig.add_scatter(x=grid, y=_np(curve), mode="lines", name=f"{texts['fit']} ({texts['degree_n'].format(d=degree)})",
                    line={"color": VERMILION, "width": 3})
    fig.add_scatter(x=_np(data.x), y=_np(data.y), mode="markers", name=texts["train_pts"],
                    marker={"color": BLUE, "size": 9, "line": {"color": "white", "width": 1}})
    base_layout(fig, texts["fit_title"], x=texts["x"], y=texts["y"])
    fig.update_yaxes(range=_clip_range(_np(data.y), f, _np(data.y_val)))
    return fig


def capacity(degrees: Sequence[int], train: Sequence[float], val: Sequence[float], noise: float, degree: int,
             texts: Mapping[str, str]) -> go.Figure:
    """Training and validation MSE against the degree (log scale), the noise floor σ² and the chosen degree."""
    fig = go.Figure()
    tiny = 1e-6
    fig.add_scatter(x=list(degrees), y=np.maximum(train, tiny), mode="lines+markers", name=texts["train_err"],
                    line={"color": BLUE})
    fig.add_scatter(x=list(degrees), y=np.maximum(val, tiny), mode="lines+markers", name=texts["val_err"],
                    line={"color": ORANGE})
    if noise > 0:   # a trace, not a shape: shapes on a log axis need log coordinates
        fig.add_scatter(x=[degrees[0], degrees[-1]], y=[noise ** 2] * 2, mode="lines", name=texts["noise_floor"],
                        line={"color": GREY, "dash": "dot"})
    fig.add_vline(x=degree, line={"color": VERMILION, "width": 2}, annotation_text=texts["chosen"])
    legend_at_bottom(base_layout(fig, texts["capacity_title"], x=texts["degree"], y=texts["mse"], height=400))
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def bv_fits(res: Mapping[str, Any], texts: Mapping[str, str]) -> go.Figure:
    """Every fit faintly (at most ``MAX_FAINT``), their mean in bold, and the target."""
    grid, fits = _np(res["grid"]), _np(res["fits"])
    fig = go.Figure()
    shown = fits[:MAX_FAINT]
    xs = np.concatenate([np.append(grid, np.nan) for _ in shown]) if len(shown) else grid
    ys = np.concatenate([np.append(row, np.nan) for row in shown]) if len(shown) else grid * np.nan
    fig.add_scatter(x=xs, y=ys, mode="lines", name=texts["one_fit"], line={"color": SKY, "width": 1}, opacity=0.35,
                    hoverinfo="skip")
    fig.add_scatter(x=grid, y=_np(res["f_grid"]), mode="lines", name=texts["truth"],
                    line={"color": BLACK, "dash": "dash", "width": 2})
    fig.add_scatter(x=grid, y=_np(res["mean_fit"]), mode="lines", name=texts["mean_fit"],
                    line={"color": VERMILION, "width": 4})
    base_layout(fig, texts["bv_fits_title"], x=texts["x"], y=texts["y"], height=380)
    f = _np(res["f_grid"])
    fig.update_yaxes(range=_clip_range(f, pad=0.6))
    return fig


def bv_decomposition(res: Mapping[str, Any], texts: Mapping[str, str]) -> go.Figure:
    """Bias², variance, noise and their sum at each x, with the separately measured expected error."""
    grid = _np(res["grid"])
    b, v, noise = _np(res["bias2_x"]), _np(res["variance_x"]), float(res["noise"])
    fig = go.Figure()
    for y, name, colour in ((b, texts["bias2"], BLUE), (v, texts["variance"], ORANGE),
                            (np.full_like(grid, noise), texts["noise"], GREY)):
        fig.add_scatter(x=grid, y=y, mode="lines", name=name, line={"color": colour, "width": 2})
    fig.add_scatter(x=grid, y=b + v + noise, mode="lines", name=texts["sum"], line={"color": GREEN, "width": 3})
    fig.add_scatter(x=grid, y=_np(res["expected_x"]), mode="markers", name=texts["measured"],
                    marker={"color": VERMILION, "size": 5, "symbol": "x"})
    base_layout(fig, texts["decomp_title"], x=texts["x"], y=texts["error"], height=380)
    top = float(np.quantile(b + v + noise, 0.9))   # a linear axis: the few points at the edges may run off the top
    fig.update_yaxes(range=[min(0.0, float(b.min())), 1.4 * max(top, noise, 1e-6)])
    return fig


def bv_sweep(rows: Sequence[Mapping[str, float]], by: str, texts: Mapping[str, str], chosen: float) -> go.Figure:
    """Bias², variance, noise, their sum and the measured error along the degree or λ sweep (log error axis)."""
    key = "degree" if by == "degree" else "lam"
    xs = [r[key] for r in rows]
    fig = go.Figure()
    for field, name, colour, width in (("bias2", texts["bias2"], BLUE, 2), ("variance", texts["variance"], ORANGE, 2),
                                       ("noise", texts["noise"], GREY, 1)):
        fig.add_scatter(x=xs, y=[max(r[field], FLOOR) for r in rows], mode="lines+markers", name=name,
                        line={"color": colour, "width": width})
    fig.add_scatter(x=xs, y=[r["bias2"] + r["variance"] + r["noise"] for r in rows], mode="lines", name=texts["sum"],
                    line={"color": GREEN, "width": 3})
    fig.add_scatter(x=xs, y=[r["expected_mse"] for r in rows], mode="markers", name=texts["measured"],
                    marker={"color": VERMILION, "size": 8, "symbol": "x"})
    if chosen > 0:   # a trace, not a shape: shapes on a log axis need log coordinates
        ys = [max(r[f], FLOOR) for r in rows for f in ("bias2", "variance", "expected_mse")]
        fig.add_scatter(x=[chosen, chosen], y=[min(ys), max(ys)], mode="lines", showlegend=False, hoverinfo="skip",
                        line={"color": VERMILION, "dash": "dot"})
    base_layout(fig, texts["sweep_title"], x=texts["degree" if by == "degree" else "lambda"], y=texts["error"],
                height=380)
    fig.update_yaxes(type="log", exponentformat="power")
    if by != "degree":
        fig.update_xaxes(type="log", exponentformat="power")
    return fig


def coefficient_paths(alphas: Any, lasso: Any, ridge: Any, alpha: float, texts: Mapping[str, str]) -> go.Figure:
    """Each coefficient against λ (log axis): lasso on the left, ridge on the right; the chosen λ marked."""
    a, L, R = _np(alphas), _np(lasso), _np(ridge)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(texts["lasso"], texts["ridge"]), shared_yaxes=True,
                        horizontal_spacing=0.05)
    for j in range(L.shape[1]):
        colour = PALETTE[j % len(PALETTE)]
        fig.add_scatter(x=a, y=L[:, j], mode="lines", name=f"w{j}", legendgroup=f"w{j}", line={"color": colour},
                        row=1, col=1)
        fig.add_scatter(x=a, y=R[:, j], mode="lines", name=f"w{j}", legendgroup=f"w{j}", showlegend=False,
                        line={"color": colour}, row=1, col=2)
    lo, hi = float(min(L.min(), R.min())), float(max(L.max(), R.max()))
    for col in (1, 2):   # a trace, not a shape: shapes on a log axis need log coordinates
        fig.add_scatter(x=[alpha, alpha], y=[lo, hi], mode="lines", showlegend=False, hoverinfo="skip",
                        line={"color": BLACK, "dash": "dot"}, row=1, col=col)
    base_layout(fig, texts["path_title"], height=400)
    fig.update_xaxes(type="log", exponentformat="power", title_text=texts["lambda"])
    fig.update_yaxes(title_text=texts["coef"], row=1, col=1)
    fig.update_layout(showlegend=False)
    return fig


def picture(pic: Mapping[str, Any], texts: Mapping[str, str]) -> go.Figure:
    """Loss contours in the (w1, w2) plane; the L1 diamond and L2 circle through the solutions at λ; each
    solution's path as λ grows; weight decay's iterates."""
    w1, w2, loss = _np(pic["w1"]), _np(pic["w2"]), _np(pic["loss"])
    fig = go.Figure()
    fig.add_contour(x=w1, y=w2, z=np.log10(loss), contours={"coloring": "lines"}, colorscale="Greys", showscale=False,
                    ncontours=18, name=texts["loss"], hoverinfo="skip", line={"width": 1})
    lasso, ridge = _np(pic["lasso"]), _np(pic["ridge"])
    r1, r2 = float(np.abs(lasso).sum()), float(np.sqrt((ridge ** 2).sum()))
    fig.add_scatter(x=[r1, 0, -r1, 0, r1], y=[0, r1, 0, -r1, 0], mode="lines", name=texts["diamond"],
                    line={"color": BLUE, "width": 2}, fill="toself", fillcolor="rgba(0,114,178,0.12)")
    th = np.linspace(0, 2 * np.pi, 121)
    fig.add_scatter(x=r2 * np.cos(th), y=r2 * np.sin(th), mode="lines", name=texts["circle"],
                    line={"color": ORANGE, "width": 2}, fill="toself", fillcolor="rgba(230,159,0,0.10)")
    lp, rp = _np(pic["lasso_path"]), _np(pic["ridge_path"])
    fig.add_scatter(x=lp[:, 0], y=lp[:, 1], mode="lines", name=texts["lasso"], line={"color": BLUE, "dash": "dot"})
    fig.add_scatter(x=rp[:, 0], y=rp[:, 1], mode="lines", name=texts["ridge"], line={"color": ORANGE, "dash": "dot"})
    dec = _np(pic["decay"])
    fig.add_scatter(x=dec[:, 0], y=dec[:, 1], mode="markers", name=texts["decay"],
                    marker={"color": GREEN, "size": 4})
    ols = _np(pic["ols"])
    fig.add_scatter(x=[ols[0]], y=[ols[1]], mode="markers", name=texts["ols"],
                    marker={"color": BLACK, "size": 11, "symbol": "star"})
    fig.add_scatter(x=[lasso[0]], y=[lasso[1]], mode="markers", name=texts["lasso"], showlegend=False,
                    marker={"color": BLUE, "size": 13, "symbol": "diamond", "line": {"color": "white", "width": 1}})
    fig.add_scatter(x=[ridge[0]], y=[ridge[1]], mode="markers", name=texts["ridge"], showlegend=False,
                    marker={"color": ORANGE, "size": 13, "symbol": "circle", "line": {"color": "white", "width": 1}})
    base_layout(fig, texts["picture_title"], x=texts["w1"], y=texts["w2"], height=480)
    fig.update_xaxes(range=[float(w1[0]), float(w1[-1])], zeroline=True)
    fig.update_yaxes(range=[float(w2[0]), float(w2[-1])], scaleanchor="x", zeroline=True)
    return fig


def dropout_curves(runs: Mapping[str, Any], marks: Mapping[str, tuple[int, int]], texts: Mapping[str, str]) -> \
        go.Figure:
    """Training and validation MSE per step with and without dropout; the best step and the patience stop of
    each validation curve."""
    fig = go.Figure()
    for name, colour in (("without", GREY), ("with", BLUE)):
        h = runs[name]
        fig.add_scatter(x=h.step, y=h.train_loss, mode="lines", name=f"{texts[name]}: {texts['train_err']}",
                        line={"color": colour, "dash": "dot", "width": 1.5})
        fig.add_scatter(x=h.step, y=h.val_loss, mode="lines", name=f"{texts[name]}: {texts['val_err']}",
                        line={"color": colour if name == "with" else VERMILION, "width": 2.5})
        best, stop = marks[name]
        fig.add_scatter(x=[best], y=[h.val_loss[h.step.index(best)]], mode="markers",
                        name=f"{texts[name]}: {texts['best']}",
                        marker={"color": GREEN, "size": 12, "symbol": "star"})
        fig.add_scatter(x=[stop], y=[h.val_loss[h.step.index(stop)]], mode="markers",
                        name=f"{texts[name]}: {texts['stop']}",
                        marker={"color": BLACK, "size": 10, "symbol": "x"})
    base_layout(fig, texts["dropout_title"], x=texts["step"], y=texts["mse"], height=420)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def masks(m: Mapping[str, Any], data, texts: Mapping[str, str]) -> go.Figure:
    """The dropout net in train mode under several masks (faint), their mean, and eval mode."""
    grid, masked = _np(m["grid"]), _np(m["masked"])[:MAX_FAINT]
    xs = np.concatenate([np.append(grid, np.nan) for _ in masked])
    ys = np.concatenate([np.append(row, np.nan) for row in masked])
    fig = go.Figure()
    fig.add_scatter(x=xs, y=ys, mode="lines", name=texts["one_mask"], line={"color": SKY, "width": 1}, opacity=0.35,
                    hoverinfo="skip")
    fig.add_scatter(x=grid, y=_np(m["mask_mean"]), mode="lines", name=texts["mask_mean"],
                    line={"color": ORANGE, "width": 3})
    fig.add_scatter(x=grid, y=_np(m["unscaled_mean"]), mode="lines", name=texts["unscaled"],
                    line={"color": VERMILION, "width": 2, "dash": "dot"})
    fig.add_scatter(x=grid, y=_np(m["eval"]), mode="lines", name=texts["eval_mode"],
                    line={"color": BLACK, "width": 2, "dash": "dash"})
    fig.add_scatter(x=_np(data.x), y=_np(data.y), mode="markers", name=texts["train_pts"],
                    marker={"color": BLUE, "size": 8})
    base_layout(fig, texts["masks_title"], x=texts["x"], y=texts["y"], height=380)
    fig.update_yaxes(range=_clip_range(_np(data.y), _np(m["eval"])))
    return fig


def robust_fits(line, fits: Mapping[str, Any], texts: Mapping[str, str]) -> go.Figure:
    """The points (outliers marked), the true line and the L2, L1 and Huber fits."""
    x, y, out = _np(line.x), _np(line.y), np.asarray(line.outlier)
    xs = np.array([0.0, 1.0])
    fig = go.Figure()
    fig.add_scatter(x=x[~out], y=y[~out], mode="markers", name=texts["points"], marker={"color": BLUE, "size": 8})
    if out.any():
        fig.add_scatter(x=x[out], y=y[out], mode="markers", name=texts["outlier"],
                        marker={"color": VERMILION, "size": 11, "symbol": "x"})
    b, a = line.true_w
    fig.add_scatter(x=xs, y=b + a * xs, mode="lines", name=texts["true_line"], line={"color": BLACK, "dash": "dash"})
    for loss, colour in (("l2", ORANGE), ("l1", GREEN), ("huber", PURPLE)):
        w = _np(fits[loss])
        fig.add_scatter(x=xs, y=w[0] + w[1] * xs, mode="lines", name=f"{texts[loss]}: {w[1]:.2f}",
                        line={"color": colour, "width": 3})
    base_layout(fig, texts["robust_title"], x=texts["x"], y=texts["y"], height=400)
    return fig


def losses(r: Any, curves: Mapping[str, tuple[Any, Any]], delta: float, texts: Mapping[str, str]) -> go.Figure:
    """The three losses of a residual and their gradients, side by side."""
    rr = _np(r)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(texts["losses_title"], texts["grads_title"]),
                        horizontal_spacing=0.1)
    for loss, colour in (("l2", ORANGE), ("l1", GREEN), ("huber", PURPLE)):
        value, grad = curves[loss]
        fig.add_scatter(x=rr, y=_np(value), mode="lines", name=texts[loss], legendgroup=loss,
                        line={"color": colour, "width": 2.5}, row=1, col=1)
        fig.add_scatter(x=rr, y=_np(grad), mode="lines", name=texts[loss], legendgroup=loss, showlegend=False,
                        line={"color": colour, "width": 2.5}, row=1, col=2)
    for sign in (-1, 1):
        for col in (1, 2):
            fig.add_vline(x=sign * delta, line={"color": GREY, "dash": "dot"}, row=1, col=col)
    base_layout(fig, "", height=360)
    fig.update_layout(margin={"t": 90}, legend={"y": 1.18})   # the legend above the two subplot titles
    fig.update_xaxes(title_text=texts["residual"])
    fig.update_yaxes(title_text=texts["loss"], row=1, col=1)
    fig.update_yaxes(title_text=texts["grad"], row=1, col=2)
    return fig


def bagging_bars(b: Mapping[str, Any], texts: Mapping[str, str]) -> go.Figure:
    """Bias² and variance of one nearest-neighbour model and of the bagged average, side by side."""
    names = [texts["single"], texts["bagged"]]
    fig = go.Figure()
    for field, colour in (("bias2", BLUE), ("variance", ORANGE)):
        vals = [b["single"][field], b["bagged"][field]]
        fig.add_bar(x=names, y=vals, name=texts[field], marker_color=colour, text=[f"{x:.3g}" for x in vals],
                    textposition="outside")
    base_layout(fig, texts["bagging_title"], y=texts["error"], height=340)
    fig.update_layout(barmode="group")
    return fig


def cross_validation(cv, held_out: Sequence[float], texts: Mapping[str, str]) -> go.Figure:
    """Each fold's validation error against λ (faint), their mean with ± one standard error, the best λ and the
    one-standard-error choice; the error on the 200 held-out points for comparison."""
    lams, folds = list(cv.lams), _np(cv.fold_mse)
    mean, se = _np(cv.mean), _np(cv.se)
    fig = go.Figure()
    xs = np.concatenate([np.append(lams, np.nan) for _ in folds])
    fig.add_scatter(x=xs, y=np.concatenate([np.append(row, np.nan) for row in folds]), mode="lines",
                    name=texts["fold"], line={"color": SKY, "width": 1}, opacity=0.6, hoverinfo="skip")
    fig.add_scatter(x=lams, y=mean, mode="lines+markers", name=texts["cv_mean"], line={"color": BLUE, "width": 3},
                    error_y={"type": "data", "array": se, "visible": True, "color": BLUE})
    fig.add_scatter(x=lams, y=list(held_out), mode="lines", name=texts["held_out"],
                    line={"color": BLACK, "dash": "dash"})
    fig.add_scatter(x=[lams[cv.best]], y=[mean[cv.best]], mode="markers", name=texts["cv_best"],
                    marker={"color": GREEN, "size": 14, "symbol": "star"})
    fig.add_scatter(x=[lams[cv.one_se]], y=[mean[cv.one_se]], mode="markers", name=texts["one_se"],
                    marker={"color": VERMILION, "size": 13, "symbol": "diamond"})
    base_layout(fig, texts["cv_title"], x=texts["lambda"], y=texts["mse"], height=400)
    fig.update_xaxes(type="log", exponentformat="power")
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def augmentation(acc: Mapping[str, float], texts: Mapping[str, str]) -> go.Figure:
    """Test accuracy of the linear digit classifier with and without shifted copies, on the test digits as they are
    and shifted by one pixel."""
    sets = [texts["test_set"], texts["shifted_set"]]
    fig = go.Figure()
    for name, colour in (("plain", GREY), ("augmented", GREEN)):
        vals = [acc[f"{name}_test"], acc[f"{name}_shifted"]]
        fig.add_bar(x=sets, y=vals, name=texts[name], marker_color=colour, text=[f"{x:.0%}" for x in vals],
                    textposition="outside")
    base_layout(fig, texts["aug_title"], y=texts["accuracy"], height=340)
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 1.1], tickformat=".0%")
    return fig
