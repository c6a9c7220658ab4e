"""The 2-D playground: toy data sets, the learner's own points, and the decision regions of four classifiers
on a grid (k-NN, a linear SVM, a softmax classifier, the Gaussian generative classifier)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from dlcore import data
from dlcore.device import generator
from dlcore.linear_classifiers.errors import ClassifierInputError, check_range
from dlcore.linear_classifiers.gaussian import GaussianClassifier, gaussian_classifier
from dlcore.linear_classifiers.knn import check_k, distances, knn_grid, knn_predict, nearest
from dlcore.linear_classifiers.linear import LinearConfig, LinearModel, train_linear
from dlcore.linear_classifiers.losses import softmax_losses, svm_margins

DATASETS = ("blobs", "moons", "circles", "spirals", "xor", "own")
MAX_POINTS = 500         # points of a generated data set
MAX_OWN = 100            # points the learner may type or click in
MIN_OWN = 4
MAX_CLASSES = 4
MAX_COORD = 3.0          # the learner's points live in [-3, 3]^2
MAX_TEXT = 4000          # characters of the points text
MAX_RESOLUTION = 200     # grid cells per side
MAX_NOISE = 1.0
CLASSIFIERS = ("knn", "svm", "softmax", "gaussian")


def make_dataset(name: str, n: int, noise: float = 0.1, seed: int = 0) -> tuple[Tensor, Tensor]:
    """One of the toy sets as (x (n, 2) float32, y (n,) int64), roughly centred in [-1.5, 1.5]^2.

    blobs: three Gaussian clusters; moons: ``data.two_moons``; circles: ``data.circles``; spirals: three
    interleaved arms; xor: the four quadrants, opposite ones sharing a class."""
    if name not in DATASETS[:-1]:
        raise ClassifierInputError("bad_dataset", value=str(name)[:20])
    check_range("n", n, 10, MAX_POINTS)
    check_range("noise", noise, 0.0, MAX_NOISE)
    n, g = int(n), generator(seed)
    if name == "moons":
        x, y = data.two_moons(n, noise=noise * 0.5, seed=seed)
        return (x - torch.tensor([0.5, 0.25])) * 1.2, y
    if name == "circles":
        x, y = data.circles(n, factor=0.5, noise=noise * 0.3, seed=seed)
        return x * 1.3, y
    y = torch.arange(n) % (3 if name in ("blobs", "spirals") else 2)
    if name == "blobs":
        angle = 2 * math.pi * y.float() / 3 + math.pi / 2
        centres = torch.stack([torch.cos(angle), torch.sin(angle)], 1)
        x = centres + (0.25 + noise) * torch.randn(n, 2, generator=g)
    elif name == "spirals":
        t = 0.15 + 0.85 * torch.rand(n, generator=g)               # radius along the arm
        angle = 4.0 * t + 2 * math.pi * y.float() / 3
        x = 1.4 * t[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], 1)
        x = x + 0.3 * noise * torch.randn(n, 2, generator=g)
    else:   # xor
        x = 2.4 * torch.rand(n, 2, generator=g) - 1.2
        y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long()
        x = x + 0.3 * noise * torch.randn(n, 2, generator=g)
    perm = torch.randperm(n, generator=g)
    return x[perm].float(), y[perm]


def parse_points(text: str) -> tuple[Tensor, Tensor]:
    """The learner's points, one ``x, y, class`` a line (class 0-3, coordinates in [-3, 3]); blank lines and
    lines starting with # are skipped. Raises ``ClassifierInputError`` naming the line and what is wrong:
    format, bad_range, bad_class, too_many, too_few, one_class, duplicate."""
    if len(text) > MAX_TEXT:
        raise ClassifierInputError("too_many", n=len(text), most=MAX_OWN)
    rows: list[tuple[float, float, int]] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.replace(";", ",").split(",")]
        try:
            if len(parts) != 3:
                raise ValueError(line)
            a, b, c = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise ClassifierInputError("format", line=number) from None
        if not (math.isfinite(a) and math.isfinite(b)) or max(abs(a), abs(b)) > MAX_COORD:
            raise ClassifierInputError("bad_range", name=f"#{number}", value=max(abs(a), abs(b)), lo=-MAX_COORD,
                                       hi=MAX_COORD)
        if not 0 <= c < MAX_CLASSES:
            raise ClassifierInputError("bad_class", line=number, classes=MAX_CLASSES)
        rows.append((a, b, c))
        if len(rows) > MAX_OWN:
            raise ClassifierInputError("too_many", n=len(rows), most=MAX_OWN)
    return check_points(torch.tensor([r[:2] for r in rows], dtype=torch.float32).reshape(-1, 2),
                        torch.tensor([r[2] for r in rows], dtype=torch.long))


def check_points(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """(x, y) with classes renumbered 0..C-1 if the set is usable: at least ``MIN_OWN`` points, two classes,
    no point given twice; ``ClassifierInputError`` otherwise."""
    if len(x) < MIN_OWN:
        raise ClassifierInputError("too_few", n=len(x), need=MIN_OWN)
    classes = torch.unique(y)
    if len(classes) < 2:
        raise ClassifierInputError("one_class")
    if len(torch.unique(x, dim=0)) < len(x):
        dup = int(torch.nonzero(distances(x, x).add(torch.eye(len(x))).min(1).values == 0)[0, 0]) + 1
        raise ClassifierInputError("duplicate", point=dup)
    return x, torch.searchsorted(classes, y)


def points_text(x: Tensor, y: Tensor) -> str:
    """The inverse of ``parse_points``: one ``x, y, class`` a line, two decimals."""
    return "\n".join(f"{a:.2f}, {b:.2f}, {int(c)}" for (a, b), c in zip(x.tolist(), y.tolist()))


def toggle_point(text: str, px: float, py: float, label: int, radius: float = 0.08) -> str:
    """The points text after a click at (px, py): the nearest point within ``radius`` is removed, or else a
    point of class ``label`` is added (up to ``MAX_OWN``). Lines that do not parse are kept as they are."""
    lines = [line for line in text.splitlines() if line.strip()]
    best, best_d = None, radius
    for i, line in enumerate(lines):
        parts = line.replace(";", ",").split(",")
        try:
            d = math.hypot(float(parts[0]) - px, float(parts[1]) - py)
        except (ValueError, IndexError):
            continue
        if d <= best_d:
            best, best_d = i, d
    if best is not None:
        return "\n".join(lines[:best] + lines[best + 1:])
    if len(lines) >= MAX_OWN:
        return text
    px, py = (max(-MAX_COORD, min(MAX_COORD, v)) for v in (px, py))
    return "\n".join([*lines, f"{px:.2f}, {py:.2f}, {int(label)}"])


@dataclass(frozen=True)
class Models:
    svm: LinearModel
    softmax: LinearModel
    gaussian: GaussianClassifier


def fit_models(x: Tensor, y: Tensor, svm: LinearConfig, softmax: LinearConfig, shared_cov: bool) -> Models:
    """The three classifiers that learn something before they predict (k-NN only stores the data)."""
    n_classes = int(y.max()) + 1
    return Models(train_linear(x, y, svm, n_classes), train_linear(x, y, softmax, n_classes),
                  gaussian_classifier(x, y, shared_cov))


def grid(x: Tensor, resolution: int, margin: float = 0.3) -> tuple[Tensor, Tensor, Tensor]:
    """A ``resolution`` x ``resolution`` grid over the data's bounding box plus ``margin``: the axes (G,), (G,)
    and the points (G*G, 2), row by row (y outer, x inner, as a heatmap's z reads)."""
    check_range("resolution", resolution, 10, MAX_RESOLUTION)
    lo, hi = x.min(0).values - margin, x.max(0).values + margin
    xs = torch.linspace(float(lo[0]), float(hi[0]), int(resolution))
    ys = torch.linspace(float(lo[1]), float(hi[1]), int(resolution))
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return xs, ys, torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)


@dataclass(frozen=True)
class Regions:
    xs: np.ndarray                      # (G,) grid x
    ys: np.ndarray                      # (G,) grid y
    labels: dict[str, np.ndarray]       # classifier -> (G, G) int8 class of each cell; absent if it failed
    errors: dict[str, tuple[str, dict]]  # classifier -> (error code, its detail): k larger than the data
    train_acc: dict[str, float]         # classifier -> accuracy on the points shown
    svm_loss: np.ndarray                # (N,) each point's SVM loss (delta of the SVM config)
    softmax_loss: np.ndarray            # (N,) each point's softmax loss
    regularised: bool                   # the Gaussian covariance needed a ridge


def decision_regions(x: Tensor, y: Tensor, models: Models, k: int, metric: str, resolution: int,
                     delta: float = 1.0) -> Regions:
    """Every classifier's class on every grid cell, each point's SVM and softmax losses, training accuracy."""
    xs, ys, cells = grid(x, resolution)
    side = (len(ys), len(xs))
    labels, errors, acc = {}, {}, {}
    try:
        check_k(k, len(x))
        labels["knn"] = knn_grid(x, y, xs, ys, k, metric).reshape(-1)   # = knn_predict(x, y, cells, k, metric)
        acc["knn"] = float((knn_predict(x, y, x, k, metric) == y).float().mean())
    except ClassifierInputError as e:
        errors["knn"] = (e.code, e.detail)
    for name, model in (("svm", models.svm), ("softmax", models.softmax), ("gaussian", models.gaussian)):
        labels[name] = model.predict(cells.to(torch.float64) if name == "gaussian" else cells)
        acc[name] = float((model.predict(x.double() if name == "gaussian" else x) == y).float().mean())
    svm_scores, soft_scores = models.svm.scores(x), models.softmax.scores(x)
    return Regions(xs.numpy(), ys.numpy(), {n: v.reshape(side).to(torch.int8).numpy() for n, v in labels.items()},
                   errors, acc, svm_margins(svm_scores, y, delta).sum(1).numpy(),
                   softmax_losses(soft_scores, y).numpy(), models.gaussian.regularised)


@dataclass(frozen=True)
class Neighbourhood:
    index: Tensor     # (k,) the nearest training points, nearest first
    radius: float     # distance to the k-th: the ball that holds them (a circle in L2, a diamond in L1)


def neighbourhood(x_train: Tensor, q: tuple[float, float], k: int, metric: str) -> Neighbourhood:
    """The ``k`` nearest points of ``q`` and the radius of the ball (in ``metric``) around q that holds them."""
    query = torch.tensor([q], dtype=x_train.dtype)
    idx = nearest(x_train, query, k, metric)[0]
    return Neighbourhood(idx, float(distances(query, x_train[idx[-1:]], metric)[0, 0]))
