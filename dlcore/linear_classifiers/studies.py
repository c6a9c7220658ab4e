"""The lesson's studies on real and random data: templates on the digits, k-NN's cost as the training set
grows, choosing k honestly, the curse of dimensionality, generative vs discriminative, least squares on labels,
and standardization."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from dlcore import data
from dlcore.device import generator
from dlcore.linear_classifiers.errors import check_range
from dlcore.linear_classifiers.gaussian import gaussian_classifier
from dlcore.linear_classifiers.knn import CVResult, accuracy_by_k, cross_validate_k, knn_predict
from dlcore.linear_classifiers.linear import (
    LinearConfig,
    LinearModel,
    least_squares,
    logistic_regression,
    standardize,
    train_linear,
)

MAX_DIM = 1000
MAX_REPEATS = 50


def digits_flat() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The bundled digits as rows of 64 pixels in [0, 1]: x_train (1437, 64), y_train, x_test (360, 64), y_test."""
    x_tr, y_tr = data.digits("train")
    x_te, y_te = data.digits("test")
    return x_tr.reshape(len(x_tr), -1), y_tr, x_te.reshape(len(x_te), -1), y_te


@dataclass(frozen=True)
class Templates:
    model: LinearModel        # W (10, 64): row c is class c's template
    mean_image: Tensor        # (64,) subtracted from every image first (zero-centring)
    train_acc: float
    test_acc: float


def digit_templates(config: LinearConfig) -> Templates:
    """A linear classifier $s = W(x - \\bar x) + b$ on the digits; each row of W reshaped to 8 x 8 is a template
    that the score compares the image with."""
    x_tr, y_tr, x_te, y_te = digits_flat()
    mean = x_tr.mean(0)
    model = train_linear(x_tr - mean, y_tr, config, 10)
    acc = [float((model.predict(x - mean) == y).float().mean()) for x, y in ((x_tr, y_tr), (x_te, y_te))]
    return Templates(model, mean, *acc)


@dataclass(frozen=True)
class Growth:
    sizes: tuple[int, ...]
    knn_acc: Tensor           # (S,) test accuracy of k-NN with the first n training images
    linear_acc: Tensor        # (S,) of the linear classifier trained on them
    knn_ms: Tensor            # (S,) milliseconds to classify the 360 test images
    linear_ms: Tensor         # (S,)


def growth(sizes: Sequence[int], k: int, config: LinearConfig) -> Growth:
    """k-NN against the linear classifier as the training set grows: test accuracy and test time (wall clock,
    best of three). k-NN's test time grows with the training set; the linear classifier's does not."""
    x_tr, y_tr, x_te, y_te = digits_flat()
    mean = x_tr.mean(0)
    rows = []
    for n in sizes:
        check_range("n", n, k, len(x_tr))
        xs, ys = x_tr[:n], y_tr[:n]
        model = train_linear(xs - mean, ys, config, 10)
        knn_t, lin_t = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            pred_knn = knn_predict(xs, ys, x_te, k)
            t1 = time.perf_counter()
            pred_lin = model.predict(x_te - mean)
            lin_t.append(time.perf_counter() - t1)
            knn_t.append(t1 - t0)
        rows.append(((pred_knn == y_te).double().mean(), (pred_lin == y_te).double().mean(),
                     1e3 * min(knn_t), 1e3 * min(lin_t)))
    cols = list(zip(*rows))
    return Growth(tuple(int(n) for n in sizes), torch.stack(cols[0]), torch.stack(cols[1]),
                  torch.tensor(cols[2]), torch.tensor(cols[3]))


@dataclass(frozen=True)
class ChoosingK:
    cv: CVResult
    test_acc_chosen: float    # the test set, touched once: k-NN with the cross-validated k
    test_acc: Tensor          # (K,) the wrong protocol: accuracy on the test set for every k
    train_acc: Tensor         # (K,) the other wrong one: accuracy on the training set itself


def choosing_k(ks: Sequence[int], folds: int, metric: str = "l2", seed: int = 0) -> ChoosingK:
    """Cross-validation on the digits' training images picks k; the test images are used once, for that k.
    For contrast, the two protocols the notes warn against: every k scored on the test set, and on the
    training set (where k = 1 finds each image itself)."""
    x_tr, y_tr, x_te, y_te = digits_flat()
    cv = cross_validate_k(x_tr, y_tr, ks, folds, metric, seed)
    chosen = float((knn_predict(x_tr, y_tr, x_te, cv.best_k, metric) == y_te).double().mean())
    return ChoosingK(cv, chosen, accuracy_by_k(x_tr, y_tr, x_te, y_te, ks, metric),
                     accuracy_by_k(x_tr, y_tr, x_tr, y_tr, ks, metric))


def edge_for_fraction(dims: Tensor, fraction: float = 0.01) -> Tensor:
    r"""Edge of the sub-cube of the unit cube holding ``fraction`` of its volume (so of uniform points):
    $e_d = r^{1/d}$."""
    check_range("fraction", fraction, 0.0, 1.0, lo_open=True)
    return fraction ** (1.0 / dims.double())


def distance_ratio(dims: Sequence[int], n_points: int = 500, n_queries: int = 50, seed: int = 0) -> Tensor:
    """Mean over random queries of (nearest distance) / (farthest distance) to ``n_points`` uniform points in
    the unit cube of each dimension: it climbs towards 1 as the dimension grows (every point is about as far)."""
    out = []
    for d in dims:
        check_range("d", d, 1, MAX_DIM)
        g = generator(seed + int(d))
        pts, q = torch.rand(n_points, int(d), generator=g), torch.rand(n_queries, int(d), generator=g)
        dist = torch.cdist(q, pts)
        out.append((dist.min(1).values / dist.max(1).values).mean())
    return torch.stack(out)


def two_class_data(n: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Two Gaussian classes in 2-D with different covariances (so the shared-covariance model is a little wrong):
    class 0 wide and tilted around (0, 0), class 1 tight around (1.5, 0). Half of each, in random order; float64."""
    g = generator(seed)
    n1 = n // 2
    n0 = n - n1
    tilt = torch.tensor([[1.0, 0.0], [0.6, 0.8]], dtype=torch.float64)          # class 0: Sigma = L L^T
    a = torch.randn(n0, 2, generator=g, dtype=torch.float64) @ tilt.T
    b = 0.3 * torch.randn(n1, 2, generator=g, dtype=torch.float64) + torch.tensor([1.5, 0.0], dtype=torch.float64)
    x = torch.cat([a, b])
    y = torch.cat([torch.zeros(n0, dtype=torch.long), torch.ones(n1, dtype=torch.long)])
    perm = torch.randperm(n, generator=g)
    return x[perm], y[perm]


@dataclass(frozen=True)
class GenVsDisc:
    sizes: tuple[int, ...]
    generative: Tensor      # (S,) mean test accuracy of the shared-covariance Gaussian classifier
    logistic: Tensor        # (S,) of logistic regression (gradient descent)


def gen_vs_disc(sizes: Sequence[int], repeats: int = 40, lam: float = 0.0, seed: int = 0) -> GenVsDisc:
    """Test accuracy (2000 fresh points) of both models trained on ``n`` points, averaged over ``repeats`` draws,
    for each n in ``sizes``. The logistic regressions of one size are trained at once (batched)."""
    check_range("repeats", repeats, 1, MAX_REPEATS)
    x_te, y_te = two_class_data(2000, seed + 10_000)
    gen_acc, log_acc = [], []
    for n in sizes:
        check_range("n", n, 4, 5000)
        draws = [_draw_both_classes(int(n), seed + 97 * r + int(n)) for r in range(repeats)]
        g = [float((gaussian_classifier(x, y, True).predict(x_te) == y_te).double().mean()) for x, y in draws]
        xs, ys = standardize_batch(torch.stack([x for x, _ in draws]), x_te)
        w, b = logistic_regression(xs, torch.stack([y for _, y in draws]), lam=lam, lr=1.0, steps=300)
        pred = ((ys @ w[..., None])[..., 0] + b[:, None] > 0).long()          # (R, 2000)
        gen_acc.append(sum(g) / len(g))
        log_acc.append(float((pred == y_te).double().mean()))
    return GenVsDisc(tuple(int(n) for n in sizes), torch.tensor(gen_acc), torch.tensor(log_acc))


def _draw_both_classes(n: int, seed: int) -> tuple[Tensor, Tensor]:
    """``two_class_data`` redrawn (new seeds) until both classes have at least two points."""
    for attempt in range(100):
        x, y = two_class_data(n, seed + 100_003 * attempt)
        if min(int((y == 0).sum()), int((y == 1).sum())) >= 2:
            return x, y
    raise RuntimeError("could not draw both classes")   # n >= 4 and half of each: never


def standardize_batch(x: Tensor, x_test: Tensor) -> tuple[Tensor, Tensor]:
    """Each of R training sets (R, N, D) standardised with its own statistics; the test set (M, D) with each of
    them, (R, M, D)."""
    mu, sigma = x.mean(1, keepdim=True), x.std(1, unbiased=False, keepdim=True).clamp_min(1e-12)
    return (x - mu) / sigma, (x_test[None] - mu) / sigma


@dataclass(frozen=True)
class GenDiscExample:
    x: Tensor
    y: Tensor
    means: Tensor          # (2, 2): mu_0, mu_1
    cov: Tensor            # (2, 2): shared Sigma
    w_gen: Tensor          # (2,) implied by the Gaussian model
    b_gen: float
    w_log: Tensor          # (2,) logistic regression by gradient descent
    b_log: float


def gen_disc_example(n: int, lam: float = 1e-3, steps: int = 2000, seed: int = 0) -> GenDiscExample:
    """Both models on one draw of ``n`` points (raw coordinates, so both w, b live in the same units)."""
    x, y = _draw_both_classes(n, seed)
    model = gaussian_classifier(x, y, True)
    w_gen, b_gen = model.linear_form()
    w, b = logistic_regression(x[None], y[None], lam=lam, lr=0.5, steps=steps)
    return GenDiscExample(x, y, model.means, model.covs[0], w_gen, float(b_gen), w[0], float(b[0]))


@dataclass(frozen=True)
class LeastSquaresDemo:
    x: Tensor
    y: Tensor
    far: int                 # how many far-away points of class 1 were added (the last rows of x)
    w_ls: Tensor
    b_ls: float
    w_log: Tensor
    b_log: float
    acc_ls: float            # accuracy on the points without the far ones
    acc_log: float


def least_squares_demo(far: int, seed: int = 0) -> LeastSquaresDemo:
    """Two clusters, plus ``far`` points of class 1 far out on its own side. They are classified right by any
    sensible boundary, yet least squares wants them at exactly +1 and tilts its boundary into class 1;
    logistic regression barely moves."""
    check_range("far", far, 0, 200)
    g = generator(seed)
    n = 60
    a = torch.randn(n, 2, generator=g, dtype=torch.float64) * 0.5 + torch.tensor([-1.0, 0.0], dtype=torch.float64)
    b = torch.randn(n, 2, generator=g, dtype=torch.float64) * 0.5 + torch.tensor([1.0, 0.0], dtype=torch.float64)
    extra = torch.randn(int(far), 2, generator=g, dtype=torch.float64) * 0.5 + torch.tensor([7.0, 4.0],
                                                                                          dtype=torch.float64)
    x = torch.cat([a, b, extra])
    y = torch.cat([torch.zeros(n, dtype=torch.long), torch.ones(n + int(far), dtype=torch.long)])
    w_ls, b_ls = least_squares(x, y)
    w, bb = logistic_regression(x[None], y[None], lam=1e-3, lr=0.5, steps=1000)
    core, yc = x[:2 * n], y[:2 * n]
    acc_ls = float((((core @ w_ls + b_ls) > 0).long() == yc).double().mean())
    acc_log = float((((core @ w[0] + bb[0]) > 0).long() == yc).double().mean())
    return LeastSquaresDemo(x, y, int(far), w_ls, float(b_ls), w[0], float(bb[0]), acc_ls, acc_log)


@dataclass(frozen=True)
class Standardization:
    scale: float
    knn_raw: float            # test accuracy of k-NN on the raw features
    knn_std: float            # after standardization
    loss_raw: Tensor          # (steps,) softmax objective during gradient descent on raw features
    loss_std: Tensor          # (steps,) on standardised features, same learning rate


def standardization(scale: float, k: int = 5, lr: float = 0.5, steps: int = 200, seed: int = 0) -> Standardization:
    """The blobs with their second feature measured in a unit ``scale`` times smaller (its numbers ``scale``
    times larger): k-NN's distances are then the second feature alone, and gradient descent with a step that
    suits standardised data diverges or crawls."""
    from dlcore.linear_classifiers.playground import make_dataset

    check_range("scale", scale, 1.0, 1000.0)
    x, y = make_dataset("blobs", 400, 0.3, seed)
    x = x.double() * torch.tensor([1.0, scale], dtype=torch.float64)
    x_tr, y_tr, x_te, y_te = x[:300], y[:300], x[300:], y[300:]
    s_tr, s_te = standardize(x_tr, x_te)
    knn = [float((knn_predict(a, y_tr, b, k) == y_te).double().mean()) for a, b in ((x_tr, x_te), (s_tr, s_te))]
    config = LinearConfig("softmax", lam=0.0, lr=lr, steps=steps, seed=seed)
    raw = train_linear(x_tr.float(), y_tr, config, 3).history
    std = train_linear(s_tr.float(), y_tr, config, 3).history
    return Standardization(float(scale), knn[0], knn[1], raw, std)
