"""Claim tests of the generalization lesson: each sentence a learner reads about what the lab shows, run through
dlcore on the exact preset or default behind it (``ui.experiments.generalization``), over the sidebar seeds 0-4.

Texts: assets/i18n/<lang>/generalization.toml (``presets.*.note``, ``notice.*``, ``interpolates``, ``diagnosis.*``)
and assets/lessons/<lang>/generalization.md; the English sentence is quoted in each docstring.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from dlcore import generalization as gen
from ui.experiments import generalization as experiment

SEEDS = range(5)   # the sidebar's global seed: 0 by default, any other a learner may pick


def floor(preset: str | None) -> float:
    return experiment.settings(preset)["noise"] ** 2


@functools.cache
def trained(config: gen.DropoutConfig) -> gen.TrainHistory:
    return gen.train_mlp(config)


# ---- fit and overfit ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_a_straight_line_underfits_the_sine(seed):
    """presets.underfit.note: "A straight line cannot follow the sine: the training error itself stays far above
    the noise floor. High training loss means model bias." (and diagnosis.high_train)"""
    r = experiment.fit(experiment.settings("underfit"), seed)
    assert r["train"] > 2 * floor("underfit") and r["diagnosis"] == "high_train"


@pytest.mark.parametrize("seed", SEEDS)
def test_degree_twelve_on_fifteen_points_overfits(seed):
    """presets.overfit.note: "Twelve degrees for 15 points: the training error drops below the noise floor while the
    validation error explodes, because the curve swings between the points." (and diagnosis.overfit)"""
    r = experiment.fit(experiment.settings("overfit"), seed)
    assert r["train"] < floor("overfit") and r["val"] > 10 * floor("overfit") and r["diagnosis"] == "overfit"
    curve = r["sweep"].curves[12]
    assert float(curve.max() - curve.min()) > 2 * 2.0    # swings far beyond the sine's range [-1, 1]


@pytest.mark.parametrize("seed", SEEDS)
def test_more_data_tames_the_same_degree(seed):
    """presets.more_data.note: "Degree 12 again, with 100 points: the validation error comes back close to the noise
    floor. More data tames the same capacity." """
    r = experiment.fit(experiment.settings("more_data"), seed)
    assert r["val"] < 1.5 * floor("more_data")
    assert r["val"] < experiment.fit(experiment.settings("overfit"), seed)["val"] / 10


@pytest.mark.parametrize("seed", SEEDS)
def test_the_default_page_shows_the_u_shape(seed):
    """The fit tab at its defaults: the validation error is U-shaped in the degree (the default page shows the point
    of the lesson: "The training error never rises" while validation falls then climbs), and the default degree is
    neither underfitting nor overfitting (diagnosis.fine)."""
    r = experiment.fit(experiment.settings(), seed)
    val, train = r["sweep"].val_mse, r["sweep"].train_mse
    assert val[0] > 2 * min(val) and val[-1] > 10 * min(val) and 0 < r["best"] < 15
    assert all(a >= b - 1e-12 for a, b in zip(train, train[1:]))
    assert r["diagnosis"] == "fine"


def test_fewer_points_than_coefficients_interpolates():
    """interpolates: "Only {n} points for {p} coefficients: many polynomials pass through every point, and the lab
    draws the one with the smallest coefficients. The fit interpolates, so its training error is 0." """
    r = experiment.fit(experiment.settings() | {"n": 6, "degree": 9}, 0)
    assert r["interpolates"] and r["train"] < 1e-20


# ---- bias-variance ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_variance_dominates_at_degree_nine(seed):
    """presets.variance.note: "At degree 9 with 15 points, the fits scatter widely but their mean follows the target:
    variance is far larger than bias²." """
    r = experiment.bias_variance(experiment.settings("variance"), seed)
    assert r["variance"] > 20 * r["bias2"]
    assert float(((r["mean_fit"] - r["f_grid"]) ** 2).mean()) < 0.05    # the mean follows the target


def test_the_residual_shrinks_as_the_number_of_data_sets_grows():
    """notice.bv: "The expected test error, measured on its own with fresh noisy labels, is {expected_mse}: residual
    {residual}, which shrinks as the number of data sets grows." (typical size over seeds 0-9)"""
    def typical(sets: int) -> float:
        v = experiment.settings() | {"n_sets": sets}
        return float(np.mean([abs(experiment.bias_variance(v, s)["residual"]) for s in range(10)]))
    assert typical(200) < typical(10) / 2


@pytest.mark.parametrize("seed", SEEDS)
def test_the_degree_sweep_is_u_shaped_with_bias_falling_and_variance_rising(seed):
    """notice.sweep_degree: "Bias² falls as the degree grows, variance rises; their sum plus the noise is U-shaped,
    and the crosses (the measured error) lie on it." Also the concept text ("As capacity grows, bias falls and variance
    rises, so the total is U-shaped")."""
    rows = experiment.bv_sweep(experiment.settings(), seed)
    bias, var = [r["bias2"] for r in rows], [r["variance"] for r in rows]
    total = [r["bias2"] + r["variance"] + r["noise"] for r in rows]
    assert bias[0] > 10 * max(bias[4:9]) and var[-1] > 100 * var[1]
    best = int(np.argmin(total))
    assert 0 < best < len(rows) - 1 and total[0] > 2 * total[best] and total[-1] > 2 * total[best]
    for r, t in zip(rows, total):
        assert abs(r["expected_mse"] - t) < 0.15 * t


@pytest.mark.parametrize("seed", SEEDS)
def test_the_lambda_sweep_is_u_shaped_with_variance_falling_and_bias_rising(seed):
    """notice.sweep_lambda: "A larger λ shrinks the coefficients: variance falls and bias² rises, so the total is again
    U-shaped." Checked at the variance preset's degree 9, where λ matters."""
    rows = experiment.bv_sweep(experiment.settings("variance") | {"sweep": "lambda"}, seed)
    var, bias = [r["variance"] for r in rows], [r["bias2"] for r in rows]
    total = [r["bias2"] + r["variance"] + r["noise"] for r in rows]
    assert var[0] > 10 * var[-1] and bias[-1] > 10 * max(bias[0], 1e-6)
    best = int(np.argmin(total))
    assert 0 < best < len(rows) - 1


@pytest.mark.parametrize("seed", SEEDS)
def test_the_lambda_sweep_u_is_deeper_at_higher_degree(seed):
    """notice.sweep_lambda: "...so the total is again U-shaped; the higher the degree, the deeper the U." """
    depth = []
    for degree in (3, 9, 12):
        rows = experiment.bv_sweep(experiment.settings() | {"sweep": "lambda", "degree": degree}, seed)
        total = [r["bias2"] + r["variance"] + r["noise"] for r in rows]
        assert 0 < int(np.argmin(total)) < len(rows) - 1
        depth.append(total[0] / min(total))
    assert depth[0] < depth[1] < depth[2]


# ---- L1 vs L2 -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_lasso_zeros_coefficients_and_ridge_zeros_none(seed):
    """notice.paths: "At λ = {alpha} the lasso has set {zeros} of the {p} coefficients exactly to zero; ridge shrinks
    all of them but sets none to zero." Also the concept text ("L1 gives sparse weights and L2 shrinks all of them
    smoothly"): along the path, the lasso's number of zeros grows with λ."""
    p = experiment.paths(experiment.settings(), seed)
    assert p["zeros_at"] >= 1 and bool((p["ridge"] != 0).all())
    zeros = (p["lasso"] == 0).sum(1)
    assert zeros[0] < zeros[-1] and int(zeros[-1]) == p["p"]
    norms = p["ridge"].norm(dim=1)
    assert bool((norms[1:] < norms[:-1]).all())          # ridge shrinks smoothly, all coefficients together


@pytest.mark.parametrize("seed", range(3))
def test_at_lambda_half_the_lasso_sits_on_a_corner_and_ridge_keeps_both(seed):
    """presets.lasso.note: "At λ = 0.5 the lasso solution sits on a corner of the diamond, with w₂ exactly 0, while
    ridge keeps both weights." (seeds 0-2; at seed 3 the data put the corner at a larger λ)"""
    pic = experiment.picture(experiment.settings("lasso"), seed)
    assert float(pic["lasso"][1]) == 0.0 and float(pic["lasso"][0]) != 0.0
    assert bool((pic["ridge"].abs() > 0.1).all())


@pytest.mark.parametrize("seed", SEEDS)
def test_weight_decay_steps_end_on_the_ridge_solution(seed):
    """notice.picture: "The green dots are gradient descent with weight decay λ, and they end on the ridge
    solution." """
    pic = experiment.picture(experiment.settings(), seed)
    torch.testing.assert_close(pic["decay"][-1], pic["ridge"], rtol=1e-6, atol=1e-6)


# ---- dropout ------------------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_dropout_narrows_the_gap_between_training_and_validation_error(seed):
    """notice.dropout: "Without dropout the validation error ends at {val_without}, {gap_without} above the training
    error; with dropout it ends at {val_with}, only {gap_with} above." """
    v = experiment.settings()
    runs = {name: trained(experiment.dropout_config(v, seed, name == "with")) for name in ("without", "with")}
    marks = {name: gen.early_stop(h.val_loss, v["patience"], h.step) for name, h in runs.items()}
    note = experiment.dropout_note(runs, marks)
    assert note["gap_with"] < note["gap_without"]
    assert runs["with"].train_loss[-1] > runs["without"].train_loss[-1]
    assert note["best_without"] <= note["stop_without"] <= v["steps"]


@pytest.mark.slow
def test_averaging_masks_comes_closer_to_eval_mode_than_one_mask():
    """notice.masks: "the predictions scatter by {spread} on average. Their mean is an ensemble of thinned nets; it
    differs from the single eval-mode curve by {diff}" (the mean lies far closer to eval mode than one mask does)."""
    v = experiment.settings()
    c = experiment.dropout_config(v, 0, True)
    m = gen.mask_predictions(c, v["n_masks"], state=trained(c).state)
    note = experiment.mask_note(m)
    assert note["diff"] < note["spread"]


# ---- robust losses ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_outliers_drag_the_l2_slope_but_not_l1_or_huber(seed):
    """presets.outliers.note: "Six points far below the line drag the L2 fit's slope far from 1; L1 and Huber stay
    much closer." Also notice.losses ("one far outlier pulls the line hard")."""
    err = experiment.slope_errors(experiment.settings("outliers"), seed)
    assert err["l2"] > 1.5 and err["l2"] > 3 * max(err["l1"], err["huber"])


@pytest.mark.parametrize("seed", SEEDS)
def test_at_the_default_delta_huber_sits_near_l1_and_a_large_delta_moves_it_toward_l2(seed):
    """notice.losses: "Huber's is L2's inside ±δ and L1's beyond": with δ far beyond every residual Huber is L2."""
    v = experiment.settings()
    err = experiment.slope_errors(v, seed)
    assert err["huber"] < err["l2"] / 3
    big = experiment.slope_errors(v | {"delta": 3.0}, seed)
    assert big["huber"] > 0.5 * big["l2"]


# ---- bagging and cross-validation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_bagging_cuts_the_variance_and_keeps_the_bias_small(seed):
    """notice.bagging: "Bias² stays small ... Averaging many unstable models cuts the variance without adding much
    bias." Also the concept text ("bagging trains separate models on bootstrap samples")."""
    b = experiment.bagging(experiment.settings(), seed)
    assert b["bagged"]["variance"] < 0.7 * b["single"]["variance"]
    gain = b["single"]["variance"] - b["bagged"]["variance"]
    assert b["bagged"]["bias2"] - b["single"]["bias2"] < gain / 3


@pytest.mark.parametrize("seed", SEEDS)
def test_the_one_se_choice_is_the_same_or_a_larger_lambda_within_one_se(seed):
    """notice.cv: "the one-standard-error rule picks λ = {one_se} (the same or larger), the simplest model whose mean
    error is within one standard error of the lowest." """
    cv, held = experiment.cross_validation(experiment.settings(), seed)
    assert cv.one_se >= cv.best
    assert float(cv.mean[cv.one_se]) <= float(cv.mean[cv.best] + cv.se[cv.best]) + 1e-12
    assert len(held) == len(cv.lams) == cv.fold_mse.shape[1] and cv.fold_mse.shape[0] == 5


@pytest.mark.slow
def test_masks_without_scaling_average_away_from_eval_mode():
    """notice.masks: "masks that drop units without that scaling (dotted) average to a curve {unscaled} away from eval
    mode" (farther than the scaled masks' mean) and the concept text ("so the expected activation is unchanged")."""
    v = experiment.settings()
    c = experiment.dropout_config(v, 0, True)
    note = experiment.mask_note(gen.mask_predictions(c, v["n_masks"], state=trained(c).state))
    assert note["unscaled"] > 2 * note["diff"]


# ---- augmentation -------------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n", [50, 100, 400])
def test_shifted_copies_help_on_shifted_digits_but_not_on_centred_ones(seed, n):
    """notice.augment: "is right on {plain_shifted} of the test digits once they are shifted by one pixel; trained on
    the same images plus four shifted copies of each, it is right on {augmented_shifted}. On the centred test digits
    the copies do little for this linear model" """
    acc = gen.augmentation(n, seed)
    assert acc["augmented_shifted"] > acc["plain_shifted"] + 0.15
    assert abs(acc["augmented_test"] - acc["plain_test"]) < 0.08
