"""The generalization lesson's settings (each declared once), presets and the experiments behind them (shared by
the page, the claim tests and the exercises): fit and overfit, bias–variance measured, L1 vs L2, dropout with early
stopping, and robust losses.

No torch at module level: the course map reads the exercises, and so these settings, before torch loads. The
upper ends of the ranges are ``dlcore.generalization``'s caps, written out; a unit test keeps them equal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ui.params import Param, defaults

if TYPE_CHECKING:
    from dlcore import generalization as gen

TARGETS = ("sine", "cubic", "step", "bump", "typed")            # gen.TARGETS and the learner's own formula
SWEEPS = ("degree", "lambda")
LAMS = (0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)          # ridge λ of the bias-variance fits
ALPHAS_2D = (0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2)           # λ of the diamond-vs-circle picture
P_DROP = (0.1, 0.2, 0.3, 0.5, 0.7)
WIDTHS = (32, 64, 128)                                            # gen.MAX_WIDTH
STEPS = (100, 200, 300, 500, 1000)                                # gen.MAX_STEPS
PATH_N = 50            # points of the coefficient-path data set (a well-conditioned design)
PATH_ALPHAS = 50       # λ values along the paths, log-spaced over [1e-3, 1]
ROBUST_N = 30          # points of the line with outliers
SWEEP_LAMS = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)
SWEEP_SETS = 100       # data sets per point of the bias-variance sweep (the sweep stays under ~0.1 s)
SWEEP_TOP = 12         # highest degree of the sweep: past it the variance is so large that bias² is lost in its noise
BAG_SETS, BAG_BOOT = 100, 25   # bagging: training sets measured, bootstrap models averaged on each
CV_LAMS = tuple(10.0 ** (k / 2) for k in range(-16, 1))   # 1e-8 .. 1, the λ grid of cross-validation
RUNS = ("without", "with")   # the dropout tab trains the MLP without, then with dropout
FIT_LOW = 1            # the fit figure also draws this degree, and a high one, faintly

SETTINGS: tuple[Param, ...] = (
    # the data and the capacity knob (every tab's data)
    Param.choice("target", "sine", TARGETS, names="targets", help=True),
    Param.text("formula", "sin(2*pi*x) + x", max_len=80, help=True),                  # gen.MAX_FORMULA
    Param.int("n", 15, lo=2, hi=100, help=True),
    Param.float("noise", 0.25, lo=0.0, hi=1.0, step=0.05, help=True),
    Param.int("degree", 3, lo=0, hi=15, help=True),                                  # gen.MAX_DEGREE
    # bias-variance
    Param.int("n_sets", 100, lo=1, hi=200, step=1, help=True),                         # gen.MAX_SETS
    Param.choice("lam", 0.0, LAMS, widget="select_slider", fmt="g", help=True),
    Param.choice("sweep", "degree", SWEEPS, widget="segmented", names="sweeps"),
    # L1 vs L2
    Param.int("path_degree", 9, lo=2, hi=12, help=True),
    Param.choice("alpha", 0.1, ALPHAS_2D, widget="select_slider", fmt="g", help=True),
    Param.int("folds", 5, lo=2, hi=10, help=True),                                   # gen.MAX_FOLDS
    # dropout and early stopping
    Param.choice("p", 0.5, P_DROP, widget="select_slider", fmt="g", help=True),
    Param.choice("width", 128, WIDTHS, widget="select_slider"),
    Param.choice("steps", 500, STEPS, widget="select_slider"),
    Param.int("patience", 100, lo=10, hi=500, step=10, help=True),
    Param.int("n_masks", 50, lo=1, hi=200, help=True),
    Param.choice("n_images", 100, (50, 100, 200, 400), widget="select_slider", help=True),   # gen.AUG_SIZES
    # robust losses
    Param.int("outliers", 4, lo=0, hi=10, help=True),                                # gen.MAX_OUTLIERS
    Param.float("delta", 0.2, lo=0.05, hi=3.0, step=0.05, help=True),
)
DEFAULTS = defaults(SETTINGS)

PRESETS: dict[str, dict[str, object]] = {
    "underfit": {"target": "sine", "degree": 1, "n": 15, "noise": 0.25},
    "overfit": {"target": "sine", "degree": 12, "n": 15, "noise": 0.25},
    "more_data": {"target": "sine", "degree": 12, "n": 100, "noise": 0.25},
    "variance": {"target": "sine", "degree": 9, "n": 15, "noise": 0.25, "lam": 0.0, "n_sets": 100},
    "lasso": {"target": "sine", "noise": 0.25, "path_degree": 9, "alpha": 0.5},
    "outliers": {"outliers": 6, "delta": 0.1},
}
TABS = ("fit", "bias_variance", "l1_l2", "dropout", "robust")
TAB: dict[str, str] = {"underfit": "fit", "overfit": "fit", "more_data": "fit", "variance": "bias_variance",
                       "lasso": "l1_l2", "outliers": "robust"}


def settings(preset: str | None = None) -> dict[str, Any]:
    """Every setting of the default page (``preset`` None) or of a preset applied to it."""
    return dict(DEFAULTS) | (PRESETS[preset] if preset else {})


def formula(v: Mapping[str, object]) -> str:
    """The target formula of ``v``: a named target's, or the typed one."""
    from dlcore import generalization as gen

    return gen.target_formula(str(v["target"]), str(v["formula"]))


def data(v: Mapping[str, object], seed: int) -> gen.Data:
    """The training and validation points of ``v`` (raises ``ExpressionError`` for a typed target it cannot use)."""
    from dlcore import generalization as gen

    return gen.make_data(formula(v), int(v["n"]), float(v["noise"]), seed)


def fit(v: Mapping[str, object], seed: int) -> dict[str, Any]:
    """The capacity sweep on the data of ``v`` and what it says at the chosen degree: errors, diagnosis, and
    whether the fit interpolates (fewer points than coefficients)."""
    from dlcore import generalization as gen

    d = data(v, seed)
    sweep = gen.capacity_sweep(d)
    k = int(v["degree"])
    train, val = sweep.train_mse[k], sweep.val_mse[k]
    best = min(sweep.degrees, key=lambda i: sweep.val_mse[i])
    return {"data": d, "sweep": sweep, "train": train, "val": val, "best": best,
            "diagnosis": gen.diagnose(train, val, float(v["noise"])), "interpolates": int(v["n"]) < k + 1}


def bias_variance(v: Mapping[str, object], seed: int) -> dict[str, Any]:
    """The bias-variance decomposition at the degree and λ of ``v``, over ``n_sets`` training sets of size n."""
    from dlcore import generalization as gen

    return gen.bias_variance(int(v["degree"]), int(v["n"]), float(v["noise"]), int(v["n_sets"]), seed,
                             lam=float(v["lam"]), formula=formula(v))


def sweep_points(v: Mapping[str, object]) -> list:
    """The x-axis of the bias-variance sweep: degrees 0..min(12, n-3) (each fit has a unique least-squares
    solution, with a few points to spare), or the λ grid at the chosen degree."""
    if v["sweep"] == "degree":
        return list(range(max(0, min(SWEEP_TOP, int(v["n"]) - 3)) + 1))
    return list(SWEEP_LAMS)


def bv_sweep(v: Mapping[str, object], seed: int) -> list[dict]:
    """The bias-variance sweep of ``v`` over degree or λ (``SWEEP_SETS`` data sets per point)."""
    from dlcore import generalization as gen

    sets = min(int(v["n_sets"]), SWEEP_SETS)
    if v["sweep"] == "degree":
        return gen.bias_variance_sweep(int(v["n"]), float(v["noise"]), sets, seed, degrees=sweep_points(v),
                                       formula=formula(v))
    return gen.bias_variance_sweep(int(v["n"]), float(v["noise"]), sets, seed, lams=sweep_points(v),
                                   degree=int(v["degree"]), formula=formula(v))


def paths(v: Mapping[str, object], seed: int) -> dict[str, Any]:
    """Lasso and ridge coefficient paths of a degree-``path_degree`` polynomial on ``PATH_N`` points of the target
    (Legendre features scaled to mean square 1, so that no coefficient is penalised more for its feature's scale),
    over ``PATH_ALPHAS`` log-spaced λ in [1e-4, 1]; and how many coefficients are exactly zero at ``alpha``."""
    import torch

    from dlcore import generalization as gen

    d = gen.make_data(formula(v), PATH_N, float(v["noise"]), seed)
    k = torch.arange(int(v["path_degree"]) + 1, dtype=torch.float64)
    X = gen.legendre_features(d.x, int(v["path_degree"])) * torch.sqrt(2 * k + 1)   # columns of mean square ~1
    alphas = torch.logspace(-4, 0, PATH_ALPHAS, dtype=torch.float64)
    lasso, ridge = gen.lasso_path(X, d.y, alphas), gen.ridge_path(X, d.y, alphas)
    at = gen.lasso_path(X, d.y, [float(v["alpha"])])[0]
    return {"alphas": alphas, "lasso": lasso, "ridge": ridge, "zeros_at": int((at == 0).sum()),
            "p": X.shape[1], "alpha": float(v["alpha"])}


def picture(v: Mapping[str, object], seed: int) -> dict[str, Any]:
    """The diamond-vs-circle picture: the 2-D problem's loss on a grid, the lasso and ridge solutions along λ and
    at ``alpha``, and weight decay's gradient-descent iterates (which end at the ridge solution)."""
    import torch

    from dlcore import generalization as gen

    X, y = gen.two_feature_problem(seed)
    w1, w2 = torch.linspace(-0.5, 2.5, 61, dtype=torch.float64), torch.linspace(-1.0, 2.0, 61, dtype=torch.float64)
    lams = torch.logspace(-3, 0.5, 40, dtype=torch.float64)
    alpha = float(v["alpha"])
    return {"w1": w1, "w2": w2, "loss": gen.quadratic_loss_grid(X, y, w1, w2), "ols": gen.ridge(X, y, 0.0),
            "lasso_path": gen.lasso_path(X, y, lams), "ridge_path": gen.ridge_path(X, y, lams),
            "lasso": gen.lasso_path(X, y, [alpha])[0], "ridge": gen.ridge(X, y, alpha),
            "decay": gen.weight_decay_path(X, y, alpha, lr=0.5, steps=100), "alpha": alpha}


def bagging(v: Mapping[str, object], seed: int) -> dict[str, Any]:
    """One nearest-neighbour model vs the average of ``BAG_BOOT`` trained on bootstrap samples, over ``BAG_SETS``
    training sets of the lesson's data."""
    from dlcore import generalization as gen

    return gen.bagging(int(v["n"]), float(v["noise"]), BAG_SETS, BAG_BOOT, seed, formula=formula(v))


def cross_validation(v: Mapping[str, object], seed: int) -> tuple[gen.CrossValidation, list[float]]:
    """``folds``-fold cross-validation of ridge at degree ``path_degree`` on the lesson's n training points over
    ``CV_LAMS``; and, for comparison, each λ's error on the 200 held-out validation points."""
    from dlcore import generalization as gen

    d, k = data(v, seed), int(v["path_degree"])
    cv = gen.cross_validate(d.x, d.y, k, CV_LAMS, min(int(v["folds"]), int(v["n"])), seed)
    X = gen.legendre_features(d.x, k)
    held = [gen.mse(gen.predict(gen.ridge(X, d.y, lam), d.x_val), d.y_val) for lam in CV_LAMS]
    return cv, held


def dropout_config(v: Mapping[str, object], seed: int, with_dropout: bool) -> gen.DropoutConfig:
    """The MLP of the dropout tab, on the lesson's data, with dropout ``p`` or none."""
    from dlcore import generalization as gen

    return gen.DropoutConfig(formula=formula(v), n=int(v["n"]), noise=float(v["noise"]),
                             p=float(v["p"]) if with_dropout else 0.0, width=int(v["width"]), steps=int(v["steps"]),
                             seed=seed)


def robust(v: Mapping[str, object], seed: int) -> dict[str, Any]:
    """A line with ``outliers`` outliers fitted under L2, L1 and Huber(δ); the three losses and their gradients on
    residuals in [-3, 3]."""
    import torch

    from dlcore import generalization as gen

    line = gen.line_with_outliers(ROBUST_N, int(v["outliers"]), seed)
    fits = {loss: gen.fit_line(line.x, line.y, loss, float(v["delta"])) for loss in ("l2", "l1", "huber")}
    residual = torch.linspace(-3, 3, 241, dtype=torch.float64)
    return {"line": line, "fits": fits, "residual": residual, "curves": gen.loss_curves(residual, float(v["delta"]))}


def slope_errors(v: Mapping[str, object], seed: int) -> dict[str, float]:
    """|fitted slope - true slope| for each loss."""
    r = robust(v, seed)
    return {loss: abs(float(w[1]) - r["line"].true_w[1]) for loss, w in r["fits"].items()}


def dropout_note(runs: Mapping[str, Any], marks: Mapping[str, tuple[int, int]]) -> dict[str, float]:
    """The numbers the dropout caption quotes: each run's final train/validation gap, final and best validation
    error, and its early-stopping steps."""
    out: dict[str, float] = {}
    for name, h in runs.items():
        out[f"gap_{name}"] = h.val_loss[-1] - h.train_loss[-1]
        out[f"val_{name}"] = h.val_loss[-1]
        out[f"best_val_{name}"] = min(h.val_loss)
        out[f"best_{name}"], out[f"stop_{name}"] = marks[name]
    return out


def mask_note(m: Mapping[str, Any]) -> dict[str, float]:
    """How much single masks scatter (mean std over x) and how far their mean lies from eval mode."""
    return {"spread": float(m["masked"].std(0).mean()), "diff": float((m["mask_mean"] - m["eval"]).abs().mean()),
            "unscaled": float((m["unscaled_mean"] - m["eval"]).abs().mean())}


def fit_note(r: Mapping[str, Any], v: Mapping[str, object]) -> dict[str, Any]:
    """The numbers the fit tab's diagnosis quotes."""
    return {key: r[key] for key in ("train", "val", "best", "diagnosis", "interpolates")} | {
        "floor": float(v["noise"]) ** 2, "degree": int(v["degree"])}


def bv_note(r: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, float]:
    """The numbers the bias-variance and bagging captions quote."""
    out = {key: r[key] for key in ("bias2", "variance", "noise", "expected_mse", "residual")}
    out["sum"] = r["bias2"] + r["variance"] + r["noise"]
    out |= {"v1": b["single"]["variance"], "v2": b["bagged"]["variance"], "b1": b["single"]["bias2"],
            "b2": b["bagged"]["bias2"], "boot": BAG_BOOT, "bag_sets": BAG_SETS}
    return out


def reg_note(p: Mapping[str, Any], pic: Mapping[str, Any], cv: gen.CrossValidation) -> dict[str, Any]:
    """The numbers the L1-vs-L2 captions quote."""
    return {"zeros": p["zeros_at"], "p": p["p"], "alpha": p["alpha"], "l1": [round(float(w), 3) for w in pic["lasso"]],
            "l2": [round(float(w), 3) for w in pic["ridge"]], "best": cv.lams[cv.best], "one_se": cv.lams[cv.one_se]}


def error_values(err: gen.GeneralizationError, v: Mapping[str, object]) -> dict[str, object]:
    """The placeholders of the message ``generalization.errors.<code>``: the data's n and the number of coefficients
    p, and the error's own values."""
    return {"n": v["n"], "p": int(v["degree"]) + 1} | dict(err.values)


def code(tab: str) -> list:
    """The dlcore functions the tab ``tab`` runs (the page's "code that ran")."""
    from dlcore import generalization as gen

    return {"fit": [gen.legendre_features, gen.ridge, gen.min_norm_fit, gen.capacity_sweep, gen.diagnose],
            "bias_variance": [gen.training_x, gen.bias_variance, gen.nearest_neighbour, gen.bagging],
            "l1_l2": [gen.lasso_path, gen.soft_threshold, gen.ridge, gen.weight_decay_step, gen.cross_validate],
            "dropout": [gen.dropout, gen.dropout_without_scaling, gen.MLP, gen.train_mlp, gen.mask_predictions,
                        gen.early_stop, gen.shift_images, gen.softmax_regression, gen.augmentation],
            "robust": [gen.huber_loss, gen.loss_curves, gen.fit_line]}[tab]
