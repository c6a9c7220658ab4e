r"""Linear classifiers trained by gradient descent with ``torch.optim``: the multiclass SVM and softmax
classifiers (Stanford CS231n notes §3), logistic regression (Hung-yi Lee, *Machine Learning*, ch. 4), and
least squares on the class labels (the review notes' counterexample).

Scores $s = W x + b$; the objective is the batch mean of the loss plus $\lambda R(W)$ with $R(W) = \sum_{k,l}
W_{k,l}^2$ (the bias is not regularised).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from dlcore.device import generator
from dlcore.linear_classifiers.errors import ClassifierInputError, check_range
from dlcore.linear_classifiers.losses import softmax_loss, svm_loss

LOSSES = ("svm", "softmax")
MAX_STEPS = 2000
MAX_LR = 10.0
MAX_LAMBDA = 1.0
MAX_DELTA = 10.0


@dataclass(frozen=True)
class LinearConfig:
    loss: str = "svm"      # "svm" (hinge, margin delta) or "softmax" (cross-entropy)
    delta: float = 1.0     # Delta: the margin the SVM wants
    lam: float = 1e-3      # lambda: strength of R(W)
    lr: float = 0.5        # full-batch SGD step; stable for standardised 2-D data
    steps: int = 300
    seed: int = 0

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ClassifierInputError("bad_loss", value=str(self.loss)[:20])
        check_range("delta", self.delta, 0.0, MAX_DELTA, lo_open=True)
        check_range("lam", self.lam, 0.0, MAX_LAMBDA)
        check_range("lr", self.lr, 0.0, MAX_LR, lo_open=True)
        if int(self.steps) != self.steps:
            raise ClassifierInputError("bad_range", name="steps", value=self.steps, lo=1, hi=MAX_STEPS)
        check_range("steps", self.steps, 1, MAX_STEPS)


@dataclass(frozen=True)
class LinearModel:
    W: Tensor          # (C, D)
    b: Tensor          # (C,)
    history: Tensor    # (steps,) objective (loss + lambda R(W)) before each step

    def scores(self, x: Tensor) -> Tensor:
        """$s = W x + b$ for each row of x, (M, C)."""
        return x @ self.W.T + self.b

    def predict(self, x: Tensor) -> Tensor:
        return self.scores(x).argmax(1)


def objective(scores: Tensor, y: Tensor, W: Tensor, config: LinearConfig) -> Tensor:
    r"""$\frac1N\sum_i L_i + \lambda \sum W^2$ with the SVM or the softmax $L_i$ (``losses.svm_loss`` and
    ``losses.softmax_loss``, the readable definitions)."""
    data = svm_loss(scores, y, config.delta) if config.loss == "svm" else softmax_loss(scores, y)
    return data + config.lam * (W ** 2).sum()


def fast_objective(scores: Tensor, y: Tensor, W: Tensor, config: LinearConfig) -> Tensor:
    """``objective`` through torch's fused losses (tested equal): the SVM loss is C times
    ``multi_margin_loss``, the softmax loss is ``cross_entropy``. What training runs."""
    if config.loss == "svm":
        data = scores.shape[1] * F.multi_margin_loss(scores, y, margin=config.delta)
    else:
        data = F.cross_entropy(scores, y)
    return data + config.lam * (W ** 2).sum()


def train_linear(x: Tensor, y: Tensor, config: LinearConfig, n_classes: int | None = None) -> LinearModel:
    """Full-batch gradient descent (``torch.optim.SGD``) on ``objective`` (computed by ``fast_objective``) from
    small random weights.
    x: (N, D) float32; y: (N,) int64. Tensors stay on x's device."""
    n_classes = int(y.max()) + 1 if n_classes is None else n_classes
    g = generator(config.seed, x.device)
    W = (0.01 * torch.randn(n_classes, x.shape[1], generator=g, device=x.device)).requires_grad_()
    b = torch.zeros(n_classes, device=x.device, requires_grad=True)
    opt = torch.optim.SGD([W, b], lr=config.lr)
    history = []
    for _ in range(config.steps):
        opt.zero_grad()
        loss = fast_objective(x @ W.T + b, y, W, config)
        loss.backward()
        opt.step()
        history.append(loss.detach())
    return LinearModel(W.detach(), b.detach(), torch.stack(history))


def logistic_regression(x: Tensor, y: Tensor, lam: float = 1e-2, lr: float = 1.0, steps: int = 500) -> \
        tuple[Tensor, Tensor]:
    r"""Logistic regression $P(1 \mid x) = \sigma(w \cdot x + b)$ by full-batch gradient descent on
    $\frac1N\sum_i -\ln P(y_i \mid x_i) + \frac\lambda2 \lVert w\rVert^2$ (the minimum scikit-learn's
    ``LogisticRegression(C=1 / (lambda N))`` finds).

    Batched: x (R, N, D), y (R, N) in {0, 1} fit R independent models at once (the gradient of a sum of
    independent objectives is each one's own). Returns w (R, D), b (R,).
    """
    check_range("lam", lam, 0.0, MAX_LAMBDA)
    check_range("lr", lr, 0.0, MAX_LR, lo_open=True)
    check_range("steps", steps, 1, MAX_STEPS)
    w = torch.zeros(x.shape[0], x.shape[2], dtype=x.dtype, device=x.device, requires_grad=True)
    b = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=lr)
    target = y.to(x.dtype)
    for _ in range(int(steps)):
        opt.zero_grad()
        logits = (x @ w[..., None])[..., 0] + b[:, None]                  # (R, N)
        nll = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none").mean(1)
        (nll + 0.5 * lam * (w ** 2).sum(1)).sum().backward()
        opt.step()
    return w.detach(), b.detach()


def least_squares(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    r"""Regression as classification: $\min_{w,b} \sum_i (w \cdot x_i + b - t_i)^2$ with targets $t_i = +1$
    for class 1 and $-1$ for class 0; predict class 1 where $w \cdot x + b > 0$. Returns (w (D,), b)."""
    if len(torch.unique(y)) < 2:
        raise ClassifierInputError("one_class")
    a = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype, device=x.device)], 1)   # (N, D + 1)
    t = (2 * y - 1).to(x.dtype)[:, None]
    sol = torch.linalg.lstsq(a.cpu().double(), t.cpu().double()).solution[:, 0].to(x.device, x.dtype)
    return sol[:-1], sol[-1]


def standardize(x_train: Tensor, *others: Tensor) -> tuple[Tensor, ...]:
    r"""Zero mean and unit variance per feature, with the training set's $\mu$ and $\sigma$ (population std)
    applied to every set: $(x - \mu) / \sigma$. Returns the transformed ``x_train`` then ``others``."""
    mu, sigma = x_train.mean(0), x_train.std(0, unbiased=False)
    sigma = torch.where(sigma > 0, sigma, torch.ones_like(sigma))   # a constant feature stays 0
    return tuple((t - mu) / sigma for t in (x_train, *others))
