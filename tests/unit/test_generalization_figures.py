"""The generalization lesson's figures draw the numbers they are given: the diamond and the circle pass through the
lasso and ridge solutions, the sweep floors tiny estimates, log axes use powers of ten, figures stay small."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore import generalization as gen
from ui.experiments import generalization as experiment
from ui.figures import generalization as figs

TEXTS = {k: k for keys in figs.LABELS.values() for k in keys} | {"degree_n": "d={d}"}


def _trace(fig, name):
    return next(d for d in fig.data if d.name == name)


def test_the_diamond_and_the_circle_pass_through_the_lasso_and_ridge_solutions():
    pic = experiment.picture(experiment.settings("lasso"), 0)
    fig = figs.picture(pic, TEXTS)
    diamond, circle = _trace(fig, "diamond"), _trace(fig, "circle")
    l1 = float(pic["lasso"].abs().sum())
    assert max(diamond.x) == pytest.approx(l1) and max(diamond.y) == pytest.approx(l1)
    r = np.hypot(np.asarray(circle.x), np.asarray(circle.y))
    np.testing.assert_allclose(r, float(pic["ridge"].norm()), rtol=1e-9)


def test_the_sweep_draws_tiny_or_negative_bias_estimates_at_the_floor_and_uses_powers_of_ten():
    rows = [{"degree": d, "lam": 0.0, "bias2": b, "variance": 0.1 * d + 0.01, "noise": 0.0625,
             "expected_mse": 0.2, "residual": 0.0} for d, b in enumerate([0.5, 1e-5, -0.2])]
    fig = figs.bv_sweep(rows, "degree", TEXTS, 1)
    assert list(_trace(fig, "bias2").y) == [0.5, figs.FLOOR, figs.FLOOR]
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.exponentformat == "power"


def test_the_capacity_figure_draws_the_sweep_and_the_noise_floor():
    sweep = gen.capacity_sweep(gen.make_data(gen.DEFAULT_TARGET, 12, 0.3, 0))
    fig = figs.capacity(sweep.degrees, sweep.train_mse, sweep.val_mse, 0.3, 4, TEXTS)
    np.testing.assert_allclose(_trace(fig, "val_err").y, sweep.val_mse)
    assert list(_trace(fig, "noise_floor").y) == [0.09, 0.09]
    assert list(_trace(fig, "train_err").y)[-1] == 1e-6      # zero training error drawn at the bottom of the log axis


def test_the_bias_variance_figures_stay_small_at_the_caps():
    r = gen.bias_variance(15, 20, 0.25, gen.MAX_SETS, 0)
    for fig in (figs.bv_fits(r, TEXTS), figs.bv_decomposition(r, TEXTS)):
        assert len(fig.to_json()) < 1_000_000
    faint = _trace(figs.bv_fits(r, TEXTS), "one_fit")
    assert np.isnan(np.asarray(faint.y, dtype=float)).sum() == figs.MAX_FAINT   # one gap after each drawn fit


def test_the_augmentation_bars_show_the_accuracies():
    acc = {"plain_test": 0.9, "plain_shifted": 0.4, "augmented_test": 0.88, "augmented_shifted": 0.7}
    fig = figs.augmentation(acc, TEXTS)
    assert list(_trace(fig, "augmented").y) == [0.88, 0.7] and list(_trace(fig, "plain").text) == ["90%", "40%"]
