r"""k-nearest neighbours: L1 / L2 distance, majority vote, and choosing $k$ by $N$-fold cross-validation
(Stanford CS231n notes §2).

$d_1(a, b) = \sum_p |a_p - b_p|$, $d_2(a, b) = \sqrt{\sum_p (a_p - b_p)^2}$. A test point takes the class most
common among its $k$ nearest training points (a tie goes to the smallest class index, as in scikit-learn).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from dlcore.device import generator
from dlcore.linear_classifiers.errors import ClassifierInputError

METRICS = ("l2", "l1")
CHUNK = 8192          # query rows per distance block (8192 x 500 floats: 16 MB)
MAX_FOLDS = 10
MAX_KS = 20
FAR = 1e6             # where knn_grid parks the padding of a tile's candidate list (points live in [-3, 3]^2)


def distances(a: Tensor, b: Tensor, metric: str = "l2") -> Tensor:
    r"""All distances between rows of ``a`` (M, D) and ``b`` (N, D): $d_1$ or $d_2$, (M, N)."""
    if metric not in METRICS:
        raise ClassifierInputError("bad_metric", value=str(metric)[:20])
    return torch.cdist(a, b, p=1.0 if metric == "l1" else 2.0)


def check_k(k: int, n_train: int) -> int:
    """``k`` if 1 <= k <= the number of training points, else ``ClassifierInputError``."""
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ClassifierInputError("bad_k", k=k)
    if k > n_train:
        raise ClassifierInputError("k_too_big", k=int(k), n=int(n_train))
    return int(k)


def nearest(x_train: Tensor, x: Tensor, k: int, metric: str = "l2") -> Tensor:
    """Indices of the ``k`` nearest training points of each row of ``x``, nearest first, (M, k)."""
    k = check_k(k, len(x_train))
    out = [distances(block, x_train, metric).topk(k, dim=1, largest=False).indices for block in x.split(CHUNK)]
    return torch.cat(out) if out else torch.empty(0, k, dtype=torch.long, device=x.device)


def vote(neighbour_labels: Tensor, n_classes: int) -> Tensor:
    """Majority vote over each row of labels (M, k) -> (M,); a tie goes to the smallest class index."""
    counts = torch.nn.functional.one_hot(neighbour_labels, n_classes).sum(1)   # (M, C)
    return counts.argmax(1)   # argmax returns the first maximum


def knn_predict(x_train: Tensor, y_train: Tensor, x: Tensor, k: int, metric: str = "l2") -> Tensor:
    r"""Class of each row of ``x`` (M, D): majority vote among its ``k`` nearest rows of ``x_train`` (N, D)
    by $d_1$ (``metric="l1"``) or $d_2$ (``"l2"``); ``y_train`` (N,) int64. Returns (M,) int64."""
    if len(x_train) == 0:
        raise ClassifierInputError("too_few", n=0, need=1)
    idx = nearest(x_train, x, k, metric)
    return vote(y_train[idx], int(y_train.max()) + 1)


def accuracy_by_k(x_train: Tensor, y_train: Tensor, x: Tensor, y: Tensor, ks: Sequence[int],
                  metric: str = "l2") -> Tensor:
    """Accuracy on (x, y) of the k-NN classifier of (x_train, y_train) for each k in ``ks``, one neighbour
    search for all of them; (K,) float64."""
    for k in ks:
        check_k(k, len(x_train))
    idx = nearest(x_train, x, max(ks), metric)
    labels, n_classes = y_train[idx], int(max(y_train.max(), y.max())) + 1
    return torch.stack([(vote(labels[:, :k], n_classes) == y).double().mean() for k in ks])


def fold_indices(n: int, folds: int, seed: int = 0) -> list[Tensor]:
    """A seeded shuffle of range(n) cut into ``folds`` near-equal parts (as ``np.array_split`` cuts)."""
    if not 2 <= folds <= MAX_FOLDS:
        raise ClassifierInputError("bad_range", name="folds", value=folds, lo=2, hi=MAX_FOLDS)
    if n < folds:
        raise ClassifierInputError("too_few", n=n, need=folds)
    perm = torch.randperm(n, generator=generator(seed))
    return list(torch.tensor_split(perm, folds))


@dataclass(frozen=True)
class CVResult:
    ks: tuple[int, ...]
    fold_acc: Tensor      # (folds, K): validation accuracy of each fold for each k
    mean: Tensor          # (K,)
    std: Tensor           # (K,)
    best_k: int           # the k of the highest mean (the smallest such k on a tie)


def cross_validate_k(x: Tensor, y: Tensor, ks: Sequence[int], folds: int = 5, metric: str = "l2",
                     seed: int = 0) -> CVResult:
    """$N$-fold cross-validation of k-NN on (x, y): each fold in turn is the validation set of a classifier of
    the other folds; returns every fold's accuracy for every k and the k with the best mean."""
    ks = tuple(int(k) for k in ks)
    if not ks or len(ks) > MAX_KS:
        raise ClassifierInputError("bad_range", name="ks", value=len(ks), lo=1, hi=MAX_KS)
    parts = fold_indices(len(x), folds, seed)
    rows = []
    for i, val in enumerate(parts):
        train = torch.cat([p for j, p in enumerate(parts) if j != i])
        rows.append(accuracy_by_k(x[train], y[train], x[val], y[val], ks, metric))
    acc = torch.stack(rows)
    mean = acc.mean(0)
    best = int(torch.nonzero(mean == mean.max())[0, 0])
    return CVResult(ks, acc, mean, acc.std(0, unbiased=False), ks[best])


def knn_grid(x_train: Tensor, y_train: Tensor, xs: Tensor, ys: Tensor, k: int, metric: str = "l2",
             block: int = 8) -> Tensor:
    """``knn_predict`` on every cell of the grid ``xs`` x ``ys`` (rows y, columns x), (len(ys), len(xs)): the fast
    path of the decision-region figure, tested equal to ``knn_predict``.

    The grid is cut into ``block`` x ``block`` tiles. For a tile with centre c and radius r (the farthest cell
    from c), a training point p can be among the k nearest of a cell q only if d(c, p) <= d_k(c) + 2r (triangle
    inequality, in L1 and in L2): only those candidates are compared with the tile's cells."""
    k = check_k(k, len(x_train))
    n_classes = int(y_train.max()) + 1
    gy, gx = -(-len(ys) // block) * block, -(-len(xs) // block) * block          # padded to whole tiles

    def extend(axis: Tensor, size: int) -> Tensor:   # the same spacing continued past the end
        step = axis[1] - axis[0] if len(axis) > 1 else torch.ones((), dtype=axis.dtype)
        return axis[0] + step * torch.arange(size, dtype=axis.dtype, device=axis.device)

    yy, xx = torch.meshgrid(extend(ys, gy), extend(xs, gx), indexing="ij")
    cells = torch.stack([xx, yy], -1).reshape(gy // block, block, gx // block, block, 2)
    cells = cells.permute(0, 2, 1, 3, 4).reshape(-1, block * block, 2)          # (tiles, cells, 2)
    centre = cells.mean(1)                                                       # (tiles, 2)
    radius = _tile_radius(cells, centre, metric)                                 # (tiles,)
    dc = distances(centre, x_train, metric)                                      # (tiles, N)
    dk = dc.topk(k, dim=1, largest=False).values[:, -1]
    cand = dc <= (dk + 2 * radius)[:, None]                                      # (tiles, N)
    m = int(cand.sum(1).max())
    order = dc.masked_fill(~cand, float("inf")).topk(m, dim=1, largest=False).indices   # (tiles, m)
    pts = x_train[order].masked_fill(~cand.gather(1, order)[..., None], FAR)   # padding moved out of reach
    d = torch.cdist(cells, pts, p=1.0 if metric == "l1" else 2.0)               # (tiles, cells, m)
    near = d.topk(k, dim=2, largest=False).indices                               # (tiles, cells, k)
    labels = y_train[order.gather(1, near.reshape(len(order), -1))].reshape(-1, k)
    pred = vote(labels, n_classes).reshape(gy // block, gx // block, block, block)
    return pred.permute(0, 2, 1, 3).reshape(gy, gx)[:len(ys), :len(xs)]


def _tile_radius(cells: Tensor, centre: Tensor, metric: str) -> Tensor:
    """Distance from each tile's centre to its farthest cell, (tiles,)."""
    diff = (cells - centre[:, None, :]).abs()
    per_cell = diff.sum(-1) if metric == "l1" else diff.pow(2).sum(-1).sqrt()
    return per_cell.max(1).values * (1 + 1e-6) + 1e-9   # a hair wider: rounding never drops a candidate
