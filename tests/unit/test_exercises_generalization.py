"""The generalization lesson's exercises: each answer, computed by dlcore on its preset, checked against an
independent computation here (numpy least squares, scikit-learn's lasso and median regression), for the sidebar
seeds 0-4."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore import generalization as gen
from ui.exercises import by_id, for_lesson
from ui.experiments import generalization as experiment

SEEDS = range(5)


def test_the_guided_path_runs_from_diagnosis_to_robust_losses():
    assert [ex.name for ex in for_lesson("generalization")] == ["diagnose", "best_degree", "bigger_part",
                                                                "lasso_zeros", "outlier_slope"]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_best_degree_is_the_argmin_of_numpy_least_squares_on_the_same_points(seed):
    v = experiment.settings("overfit")
    d = experiment.data(v, seed)
    x, y, xv, yv = (t.numpy() for t in (d.x, d.y, d.x_val, d.y_val))
    val = []
    for k in range(16):
        A = np.polynomial.legendre.legvander(2 * x - 1, k)
        w = np.linalg.lstsq(A, y, rcond=None)[0] if len(x) >= k + 1 else np.linalg.pinv(A) @ y
        val.append(np.mean((np.polynomial.legendre.legvander(2 * xv - 1, k) @ w - yv) ** 2))
    assert by_id("generalization.best_degree").answer(seed) == str(int(np.argmin(val)))


@pytest.mark.parametrize("seed", SEEDS)
def test_the_underfit_diagnosis_is_high_training_loss(seed):
    v = experiment.settings("underfit")
    d = experiment.data(v, seed)
    x, y = d.x.numpy(), d.y.numpy()
    train = np.mean((np.polyval(np.polyfit(x, y, 1), x) - y) ** 2)     # a straight line, by numpy
    assert train > 2 * v["noise"] ** 2
    assert by_id("generalization.diagnose").answer(seed) == "high_train"


@pytest.mark.parametrize("seed", SEEDS)
def test_variance_is_the_bigger_part_at_degree_nine_measured_from_the_fits(seed):
    r = experiment.bias_variance(experiment.settings("variance"), seed)
    fits, f = r["fits"].numpy(), r["f_grid"].numpy()
    variance = np.var(fits, axis=0, ddof=1).mean()
    bias2 = ((fits.mean(0) - f) ** 2).mean()              # the plain estimate: even it is far smaller
    assert variance > 10 * bias2
    assert by_id("generalization.bigger_part").answer(seed) == "variance"


@pytest.mark.parametrize("seed", SEEDS)
def test_the_number_of_lasso_zeros_matches_sklearn(seed):
    import torch
    from sklearn.linear_model import Lasso

    v = experiment.settings("lasso")
    d = gen.make_data(experiment.formula(v), experiment.PATH_N, v["noise"], seed)
    k = torch.arange(v["path_degree"] + 1, dtype=torch.float64)
    X = (gen.legendre_features(d.x, v["path_degree"]) * torch.sqrt(2 * k + 1)).numpy()
    coef = Lasso(alpha=v["alpha"], fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, d.y.numpy()).coef_
    assert by_id("generalization.lasso_zeros").answer(seed) == str(int(np.sum(np.abs(coef) < 1e-10)))


@pytest.mark.parametrize("seed", SEEDS)
def test_the_l2_slope_is_farthest_from_one_compared_with_median_regression(seed):
    from sklearn.linear_model import QuantileRegressor

    v = experiment.settings("outliers")
    line = gen.line_with_outliers(experiment.ROBUST_N, v["outliers"], seed)
    x, y = line.x.numpy(), line.y.numpy()
    l2 = np.polyfit(x, y, 1)[0]
    l1 = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(x[:, None], y).coef_[0]
    assert abs(l2 - 1) > 3 * abs(l1 - 1)
    assert by_id("generalization.outlier_slope").answer(seed) == "l2"
