r"""The two losses of a linear classifier, per example and as a batch mean (Stanford CS231n notes §3).

For scores $s = f(x_i; W) = W x_i + b$ and the correct class $y_i$:

* multiclass SVM (hinge loss): $L_i = \sum_{j \ne y_i} \max(0, s_j - s_{y_i} + \Delta)$
* softmax (cross-entropy): $L_i = -s_{y_i} + \log \sum_j e^{s_j}$

The worked example of the notes: scores $[3.2, 5.1, -1.7]$ with "cat" (class 0) correct give an SVM loss of
$\max(0, 5.1 - 3.2 + 1) + \max(0, -1.7 - 3.2 + 1) = 2.9$ and a softmax loss of 2.04.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

WORKED_SCORES = (3.2, 5.1, -1.7)   # CS231n: cat, car, frog
WORKED_CLASS = 0                   # the image is a cat
MAX_SWEEP = 401                    # points on the "correct score grows" curves


def svm_margins(scores: Tensor, y: Tensor, delta: float = 1.0) -> Tensor:
    r"""The SVM loss terms $\max(0, s_j - s_{y_i} + \Delta)$, zero at $j = y_i$.

    scores: $s$, (N, C); y: $y_i$, (N,) int64; delta: $\Delta$. Returns (N, C).
    """
    correct = scores.gather(1, y[:, None])                     # (N, 1): s_{y_i}
    margins = (scores - correct + delta).clamp_min(0)          # (N, C)
    return margins.scatter(1, y[:, None], 0.0)                 # the correct class is not a term


def svm_loss(scores: Tensor, y: Tensor, delta: float = 1.0) -> Tensor:
    r"""Mean over the batch of $L_i = \sum_{j \ne y_i} \max(0, s_j - s_{y_i} + \Delta)$.

    Equals ``C * torch.nn.MultiMarginLoss(margin=delta)(scores, y)``: torch divides each example's sum by the
    number of classes $C$ (its terms are $\max(0, \Delta - s_{y_i} + s_j)$, the same numbers).
    """
    return svm_margins(scores, y, delta).sum(1).mean()


def softmax_probs(scores: Tensor) -> Tensor:
    r"""$p_j = e^{s_j} / \sum_k e^{s_k}$ per row (shifted by the row maximum, so large scores do not overflow)."""
    z = scores - scores.max(1, keepdim=True).values
    e = z.exp()
    return e / e.sum(1, keepdim=True)


def softmax_losses(scores: Tensor, y: Tensor) -> Tensor:
    r"""Per example $L_i = -s_{y_i} + \log \sum_j e^{s_j}$, (N,)."""
    m = scores.max(1, keepdim=True).values                      # log-sum-exp trick
    lse = (scores - m).exp().sum(1).log() + m[:, 0]
    return lse - scores.gather(1, y[:, None])[:, 0]


def softmax_loss(scores: Tensor, y: Tensor) -> Tensor:
    r"""Mean over the batch of $L_i = -s_{y_i} + \log \sum_j e^{s_j}$ (= ``torch.nn.functional.cross_entropy``)."""
    return softmax_losses(scores, y).mean()


@dataclass(frozen=True)
class PointLoss:
    """One example's scores and both losses, term by term."""
    scores: tuple[float, ...]
    label: int
    delta: float
    margins: tuple[float, ...]     # max(0, s_j - s_y + delta), 0 at the label
    svm: float                     # their sum
    probs: tuple[float, ...]       # softmax probabilities
    softmax: float                 # -log p_y


def point_loss(scores: tuple[float, ...] | Tensor, label: int, delta: float = 1.0) -> PointLoss:
    """Both losses of one example with ``scores`` (C,) and correct class ``label``, term by term."""
    s = torch.as_tensor(scores, dtype=torch.float64).reshape(1, -1)
    y = torch.tensor([int(label)])
    margins = svm_margins(s, y, delta)[0]
    probs = softmax_probs(s)[0]
    return PointLoss(tuple(s[0].tolist()), int(label), float(delta), tuple(margins.tolist()),
                     float(margins.sum()), tuple(probs.tolist()), float(softmax_losses(s, y)[0]))


@dataclass(frozen=True)
class ScoreSweep:
    """Both losses of one example as its correct score alone moves."""
    correct: Tensor    # (S,) values of s_y
    svm: Tensor        # (S,)
    softmax: Tensor    # (S,)
    zero_at: float     # the s_y from which the SVM loss is exactly 0: max_{j != y} s_j + delta


def correct_score_sweep(scores: tuple[float, ...], label: int, delta: float = 1.0, lo: float = -4.0,
                        hi: float = 12.0, n: int = 161) -> ScoreSweep:
    """The SVM and softmax losses of ``scores`` with the correct score replaced by each of ``n`` values in
    [lo, hi]: the SVM loss reaches 0 once $s_y \\ge \\max_{j \\ne y} s_j + \\Delta$; the softmax loss only
    approaches 0."""
    n = max(2, min(int(n), MAX_SWEEP))
    base = torch.as_tensor(scores, dtype=torch.float64)
    grid = torch.linspace(lo, hi, n, dtype=torch.float64)
    s = base.repeat(n, 1)
    s[:, label] = grid
    y = torch.full((n,), int(label))
    others = torch.cat([base[:label], base[label + 1:]])
    return ScoreSweep(grid, svm_margins(s, y, delta).sum(1), softmax_losses(s, y),
                      float(others.max()) + float(delta))
