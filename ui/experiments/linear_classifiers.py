"""The linear-classifiers lesson's settings (each declared once), presets, and the config builders the page, the
claim tests and the exercises share.

No torch here: the course map reads the lesson's exercises, and so these settings, before torch loads. The caps
are ``dlcore.linear_classifiers``' own, written out (a unit test keeps them equal)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ui.params import Param, defaults

if TYPE_CHECKING:
    from dlcore.linear_classifiers.linear import LinearConfig

DATASETS = ("blobs", "moons", "circles", "spirals", "xor", "own")          # playground.DATASETS
CLASSIFIERS = ("knn", "svm", "softmax", "gaussian")                        # playground.CLASSIFIERS
METRICS = ("l2", "l1")                                                      # knn.METRICS
LOSSES = ("svm", "softmax")                                                 # linear.LOSSES
LAMBDAS = (0.0, 1e-4, 1e-3, 1e-2, 0.1, 1.0)                                 # within [0, linear.MAX_LAMBDA]
LRS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)                                # within (0, linear.MAX_LR]
RESOLUTIONS = (50, 100, 150, 200)                                           # up to playground.MAX_RESOLUTION
KS = (1, 3, 5, 7, 9, 11, 13, 15, 17, 19)                                    # the k the cross-validation tries
GROWTH = (25, 100, 400, 1437)                                               # training images, up to all of them
DIMS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)                        # up to studies.MAX_DIM
GEN_SIZES = (4, 6, 8, 12, 16, 32, 64, 256)                                  # training points per draw
SCALES = (1.0, 10.0, 100.0, 1000.0)
MAX_POINTS, MAX_OWN, MAX_STEPS = 500, 100, 2000

OWN_POINTS = "\n".join((   # a default for "your own points": two classes a line cannot quite separate
    "-1.0, 0.5, 0", "-0.6, 1.0, 0", "-0.2, 0.2, 0", "0.4, 1.2, 0", "1.0, 0.8, 0",
    "-0.8, -0.6, 1", "0.0, -0.8, 1", "0.6, -0.2, 1", "1.2, -0.9, 1", "0.1, 0.7, 1"))

SETTINGS: tuple[Param, ...] = (
    # the loss, point by point (CS231n's worked example by default)
    Param.float("s0", 3.2, lo=-10.0, hi=15.0, step=0.1),
    Param.float("s1", 5.1, lo=-10.0, hi=15.0, step=0.1),
    Param.float("s2", -1.7, lo=-10.0, hi=15.0, step=0.1),
    Param.choice("label", 0, (0, 1, 2), widget="segmented", names="classes"),
    Param.float("delta", 1.0, lo=0.1, hi=5.0, step=0.1, help=True),
    # the 2-D playground
    Param.choice("dataset", "moons", DATASETS, names="datasets"),
    Param.int("n", 200, lo=20, hi=MAX_POINTS, step=10),
    Param.float("noise", 0.3, lo=0.0, hi=1.0, step=0.05),
    Param.int("k", 5, lo=1, hi=50, help=True),
    Param.choice("metric", "l2", METRICS, widget="segmented", names="metrics"),
    Param.choice("lam", 1e-3, LAMBDAS, widget="select_slider", fmt="g", help=True),
    Param.choice("lr", 0.3, LRS, widget="select_slider", fmt="g"),
    Param.int("steps", 200, lo=10, hi=1000, step=10),
    Param.bool("shared_cov", False, help=True),
    Param.choice("resolution", 100, RESOLUTIONS, widget="select_slider"),
    Param.text("points", OWN_POINTS, max_len=4000, widget="text_area", help=True),
    Param.choice("click_class", 0, (0, 1, 2, 3), widget="segmented"),
    Param.floats("query", (0.0, 0.0), lo=-3.0, hi=3.0),       # the k-NN panel's clicked point (drawn by a click)
    # templates and k-NN's cost
    Param.choice("t_loss", "softmax", LOSSES, widget="segmented", names="losses"),
    Param.choice("t_lam", 1e-3, LAMBDAS, widget="select_slider", fmt="g"),
    Param.int("t_steps", 300, lo=20, hi=1000, step=20),
    Param.int("g_k", 1, lo=1, hi=15),
    # choosing k
    Param.int("folds", 5, lo=2, hi=10),
    Param.choice("cv_metric", "l2", METRICS, widget="segmented", names="metrics"),
    # distances: the curse of dimensionality and standardization
    Param.choice("fraction", 0.01, (0.001, 0.01, 0.1), widget="segmented", fmt=".1%"),
    Param.choice("scale", 100.0, SCALES, widget="select_slider", fmt="g", help=True),
    # generative vs discriminative, least squares
    Param.int("gd_n", 100, lo=10, hi=500, step=10),
    Param.int("far", 20, lo=0, hi=100, step=5, help=True),
)
DEFAULTS = defaults(SETTINGS)

TABS = ("playground", "loss", "templates", "choose_k", "distances", "gen_disc")
PRESETS: dict[str, dict[str, object]] = {
    "worked": {"s0": 3.2, "s1": 5.1, "s2": -1.7, "label": 0, "delta": 1.0},
    "confident": {"s0": 8.0, "s1": 5.1, "s2": -1.7, "label": 0, "delta": 1.0},
    "circles": {"dataset": "circles", "n": 300, "noise": 0.3, "k": 5, "shared_cov": False},
    "shared": {"dataset": "circles", "n": 300, "noise": 0.3, "k": 5, "shared_cov": True},
    "honest_k": {"folds": 5, "cv_metric": "l2"},
    "standardize": {"scale": 1000.0},
}
TAB: dict[str, str] = {"worked": "loss", "confident": "loss", "circles": "playground", "shared": "playground",
                       "honest_k": "choose_k", "standardize": "distances"}


def settings(preset: str | None = None) -> dict[str, object]:
    """Every setting of the default page (``preset`` None) or of a preset applied to it."""
    return dict(DEFAULTS) | (PRESETS[preset] if preset else {})


def scores(v: Mapping[str, Any]) -> tuple[float, float, float]:
    """The three class scores of the loss tab (cat, car, frog)."""
    return float(v["s0"]), float(v["s1"]), float(v["s2"])


def linear_configs(v: Mapping[str, Any], seed: int) -> tuple[LinearConfig, LinearConfig]:
    """The playground's SVM and softmax training settings."""
    from dlcore.linear_classifiers.linear import LinearConfig

    common = {"lam": float(v["lam"]), "lr": float(v["lr"]), "steps": int(v["steps"]), "seed": int(seed)}
    return LinearConfig("svm", delta=float(v["delta"]), **common), LinearConfig("softmax", **common)


def template_config(v: Mapping[str, Any], seed: int) -> LinearConfig:
    """The digits classifier: softmax at step 1.0 or SVM at 0.1 (each stable on zero-centred pixels)."""
    from dlcore.linear_classifiers.linear import LinearConfig

    loss = str(v["t_loss"])
    return LinearConfig(loss, delta=1.0, lam=float(v["t_lam"]), lr=1.0 if loss == "softmax" else 0.1,
                        steps=int(v["t_steps"]), seed=int(seed))


def playground_data(v: Mapping[str, Any], seed: int):
    """The playground's points (x, y) for these settings; ``ClassifierInputError`` for unusable own points."""
    from dlcore.linear_classifiers import playground

    if v["dataset"] == "own":
        return playground.parse_points(str(v["points"]))
    return playground.make_dataset(str(v["dataset"]), int(v["n"]), float(v["noise"]), int(seed))


def playground(v: Mapping[str, Any], seed: int):
    """Data, fitted models and decision regions of the playground (what its figure shows)."""
    from dlcore.linear_classifiers import playground as pg

    x, y = playground_data(v, seed)
    svm, soft = linear_configs(v, seed)
    models = pg.fit_models(x, y, svm, soft, bool(v["shared_cov"]))
    return x, y, models, pg.decision_regions(x, y, models, int(v["k"]), str(v["metric"]), int(v["resolution"]),
                                             float(v["delta"]))


def neighbourhood(v: Mapping[str, Any], x) -> tuple | None:
    """The clicked point, its k nearest points and the radius of the ball (in the chosen distance) that holds
    them, for the k-NN panel; None when k is larger than the data."""
    from dlcore.linear_classifiers import playground as pg

    if int(v["k"]) > len(x):
        return None
    q = tuple(float(a) for a in v["query"])
    hood = pg.neighbourhood(x, q, int(v["k"]), str(v["metric"]))
    return q, x[hood.index].numpy(), hood.radius, str(v["metric"])


def picked_point(selection: Mapping[str, Any]) -> tuple[float, float] | None:
    """The (x, y) a click on the playground picked (the chart's selection state), None for none."""
    points = (selection or {}).get("selection", {}).get("points") or []
    if points and "x" in points[0] and "y" in points[0]:
        try:
            return float(points[0]["x"]), float(points[0]["y"])
        except (TypeError, ValueError):
            return None
    return None


PLAYGROUND = ("dataset", "n", "noise", "k", "metric", "delta", "lam", "lr", "steps", "resolution", "shared_cov")
TABLE = ("quantity", "generative", "logistic")   # keys of "linear_classifiers.table"


def diverged(models) -> bool:
    """Whether the SVM's or the softmax classifier's training objective stopped being finite."""
    import torch

    return not all(bool(torch.isfinite(m.history).all()) for m in (models.svm, models.softmax))


def playground_note(acc: Mapping[str, float]) -> dict[str, str]:
    """notice.playground: each classifier's accuracy on the points shown ("–" where it could not run)."""
    return {name: f"{acc[name]:.0%}" if name in acc else "–" for name in CLASSIFIERS}


def clicked(bound, selection: Mapping[str, Any] | None, v: Mapping[str, Any]) -> dict[str, str]:
    """Session-state update after a click on the playground. With the learner's own points the nearest point within
    reach is removed, or else one of the chosen class is added there; with a generated data set the click becomes
    the point whose k nearest neighbours the k-NN panel shows ({} when the click picked nothing)."""
    from dlcore.linear_classifiers import playground

    point = picked_point(selection or {})
    if point is None:
        return {}
    if v["dataset"] != "own":   # elsewhere a click picks the point whose neighbourhood the k-NN panel draws
        return {bound.key("query"): tuple(round(max(-3.0, min(3.0, a)), 2) for a in point)}
    return {bound.key("points"): playground.toggle_point(str(v["points"]), *point, int(v["click_class"]))}


def growth_note(g) -> dict[str, object]:
    """notice.growth: k-NN's and the linear classifier's test time and accuracy with the fewest and all images."""
    return {"n0": g.sizes[0], "n1": g.sizes[-1], "knn0": float(g.knn_ms[0]), "knn1": float(g.knn_ms[-1]),
            "lin0": float(g.linear_ms[0]), "lin1": float(g.linear_ms[-1]), "acc_knn": float(g.knn_acc[-1]),
            "acc_lin": float(g.linear_acc[-1])}


def cv_note(r) -> dict[str, object]:
    """notice.choose_k: the chosen k, its mean validation accuracy, the test accuracy used once, and what the two
    wrong protocols would report."""
    best_test = int(r.test_acc.argmax())
    return {"k": r.cv.best_k, "cv": float(r.cv.mean.max()), "test": r.test_acc_chosen, "train1": float(r.train_acc[0]),
            "k_test": r.cv.ks[best_test], "test_best": float(r.test_acc[best_test])}


def gen_table(e, names: Mapping[str, str]):
    """The Gaussian model's mu_0, mu_1, Sigma and implied w, b next to logistic regression's w, b (a table)."""
    import pandas as pd

    def vec(t) -> str:
        return "(" + ", ".join(f"{float(a):.3f}" for a in t) + ")"

    rows = [("μ₀", vec(e.means[0]), "–"), ("μ₁", vec(e.means[1]), "–"),
            ("Σ", vec(e.cov[0]) + " " + vec(e.cov[1]), "–"),
            ("w", vec(e.w_gen), vec(e.w_log)), ("b", f"{e.b_gen:.3f}", f"{e.b_log:.3f}")]
    return pd.DataFrame(rows, columns=[names[k] for k in TABLE])
