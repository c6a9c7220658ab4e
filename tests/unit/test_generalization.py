"""dlcore.generalization against torch.nn.functional / torch.optim, scikit-learn, numpy and scipy, hand-derived
cases and invariants: Huber loss, dropout, least squares and ridge, the bias-variance decomposition, the lasso path,
weight decay, early stopping and robust line fits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore import generalization as gen
from dlcore.expr import ExpressionError

D = torch.float64


# ------------------------------------------------------------------------------------------------ Huber loss

@pytest.mark.parametrize("delta", [0.1, 0.5, 1.0, 3.0])
def test_huber_loss_matches_torch_for_small_and_huge_residuals(delta):
    g = torch.Generator().manual_seed(0)
    pred = torch.randn(500, generator=g, dtype=D) * 5
    target = torch.randn(500, generator=g, dtype=D)
    pred[:3] += torch.tensor([1e4, -1e4, 0.0], dtype=D)
    torch.testing.assert_close(gen.huber_loss(pred, target, delta), F.huber_loss(pred, target, delta=delta),
                               rtol=1e-12, atol=1e-12)


def test_huber_loss_default_delta_and_batch_shapes_match_torch():
    g = torch.Generator().manual_seed(1)
    pred, target = torch.randn(4, 7, generator=g), torch.randn(4, 7, generator=g)
    torch.testing.assert_close(gen.huber_loss(pred, target), F.huber_loss(pred, target), rtol=1e-6, atol=1e-7)


def test_huber_loss_refuses_a_non_positive_delta():
    with pytest.raises(ValueError):
        gen.huber_loss(torch.zeros(2), torch.zeros(2), 0.0)


def test_loss_curves_gradients_are_r_sign_and_clamp():
    r = torch.linspace(-3, 3, 61, dtype=D)
    curves = gen.loss_curves(r, 0.7)
    torch.testing.assert_close(curves["l2"][0], F.mse_loss(r, torch.zeros_like(r), reduction="none") / 2)
    torch.testing.assert_close(curves["l1"][0], F.l1_loss(r, torch.zeros_like(r), reduction="none"))
    torch.testing.assert_close(curves["huber"][0], F.huber_loss(r, torch.zeros_like(r), reduction="none", delta=0.7))
    torch.testing.assert_close(curves["l2"][1], r)
    torch.testing.assert_close(curves["l1"][1], torch.sign(r))
    torch.testing.assert_close(curves["huber"][1], r.clamp(-0.7, 0.7))


# ------------------------------------------------------------------------------------------------ dropout

@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_zeros_a_fraction_p_and_scales_survivors_like_torch(p):
    x = torch.rand(200_000, dtype=D) + 0.5          # no zeros of its own
    g = torch.Generator().manual_seed(0)
    ours = gen.dropout(x, p, True, g)
    ref = F.dropout(x, p, training=True)
    for y in (ours, ref):
        assert abs(float((y == 0).double().mean()) - p) < 0.005
        kept = y != 0
        torch.testing.assert_close(y[kept], x[kept] / (1 - p), rtol=1e-12, atol=0)
        assert abs(float(y.mean()) / float(x.mean()) - 1) < 0.02    # the expectation is unchanged
    assert abs(float(ours.std()) - float(ref.std())) / float(ref.std()) < 0.02


def test_dropout_is_the_identity_in_eval_mode_and_at_p_zero_and_zero_at_p_one():
    x = torch.randn(5, 6)
    for p in (0.0, 0.3, 1.0):
        assert torch.equal(gen.dropout(x, p, False), x) and torch.equal(F.dropout(x, p, training=False), x)
    assert torch.equal(gen.dropout(x, 0.0, True), x)
    assert torch.equal(gen.dropout(x, 1.0, True), torch.zeros_like(x)) and torch.equal(
        F.dropout(x, 1.0, training=True), torch.zeros_like(x))


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_refuses_a_probability_outside_0_1(p):
    with pytest.raises(ValueError):
        gen.dropout(torch.ones(3), p, True)


def test_the_mlp_in_eval_mode_equals_the_same_torch_sequential():
    model = gen.MLP(16, 0.5)
    ref = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(16, 16),
                              torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(16, 1))
    for ours, theirs in zip(model.layers, [ref[0], ref[3], ref[6]]):
        theirs.load_state_dict(ours.state_dict())
    model.eval()
    ref.eval()
    x = torch.linspace(0, 1, 33)[:, None]
    torch.testing.assert_close(model(x), ref(x))


# ------------------------------------------------------------------------------------------------ least squares

def test_legendre_features_match_numpy_legvander():
    x = torch.rand(40, dtype=D)
    ours = gen.legendre_features(x, 15)
    ref = np.polynomial.legendre.legvander(2 * x.numpy() - 1, 15)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("lam", [1e-6, 1e-3, 0.1, 2.0])
def test_ridge_matches_sklearn_with_alpha_n_lambda(lam):
    from sklearn.linear_model import Ridge

    g = torch.Generator().manual_seed(3)
    X, y = torch.randn(30, 6, generator=g, dtype=D), torch.randn(30, generator=g, dtype=D)
    ref = Ridge(alpha=30 * lam, fit_intercept=False, solver="cholesky").fit(X.numpy(), y.numpy()).coef_
    np.testing.assert_allclose(gen.ridge(X, y, lam).numpy(), ref, rtol=1e-8, atol=1e-10)


def test_ridge_at_lambda_zero_is_least_squares_and_refuses_a_singular_design():
    g = torch.Generator().manual_seed(4)
    X, y = torch.randn(20, 4, generator=g, dtype=D), torch.randn(20, generator=g, dtype=D)
    np.testing.assert_allclose(gen.ridge(X, y, 0.0).numpy(), np.linalg.lstsq(X.numpy(), y.numpy(), rcond=None)[0],
                               rtol=1e-10)
    X[:, 3] = X[:, 0] * 2                               # rank 3 of 4
    with pytest.raises(gen.GeneralizationError) as err:
        gen.ridge(X, y, 0.0)
    assert err.value.code == "singular" and err.value.values == {"rank": 3, "p": 4}
    assert torch.isfinite(gen.ridge(X, y, 1e-3)).all()  # any λ > 0 makes it solvable
    with pytest.raises(ValueError):
        gen.ridge(X, y, -1.0)


def test_fewer_points_than_coefficients_gives_the_minimum_norm_interpolant():
    x = torch.tensor([0.1, 0.4, 0.5, 0.9], dtype=D)
    y = torch.tensor([1.0, -1.0, 0.5, 2.0], dtype=D)
    w = gen.fit_polynomial(x, y, 7)
    torch.testing.assert_close(gen.predict(w, x), y, rtol=0, atol=1e-9)     # it interpolates
    ref = np.linalg.pinv(np.polynomial.legendre.legvander(2 * x.numpy() - 1, 7)) @ y.numpy()
    np.testing.assert_allclose(w.numpy(), ref, rtol=1e-8, atol=1e-10)


def test_training_error_never_rises_with_the_degree_and_vanishes_when_it_interpolates():
    data = gen.make_data(gen.DEFAULT_TARGET, 12, 0.3, 0)
    sweep = gen.capacity_sweep(data)
    assert all(a >= b - 1e-10 for a, b in zip(sweep.train_mse, sweep.train_mse[1:]))   # nested models
    assert all(sweep.train_mse[d] < 1e-12 for d in range(11, 16))                      # n = 12 <= d + 1
    assert sweep.interpolates == [d >= 12 for d in range(16)]


def test_a_noise_free_cubic_is_fitted_exactly_from_degree_three():
    data = gen.make_data(gen.TARGETS["cubic"], 20, 0.0, 0)
    sweep = gen.capacity_sweep(data, 5)
    assert sweep.train_mse[2] > 1e-3 and all(sweep.val_mse[d] < 1e-20 for d in (3, 4, 5))


def test_stratified_inputs_put_one_point_in_each_slice():
    x = gen.training_x((3, 10), torch.Generator().manual_seed(0))
    assert torch.equal(torch.floor(x * 10), torch.arange(10, dtype=D).expand(3, 10))


def test_diagnose_follows_the_checklist():
    assert gen.diagnose(0.5, 0.6, 0.25) == "high_train"
    assert gen.diagnose(0.01, 5.0, 0.25) == "overfit"
    assert gen.diagnose(0.05, 0.09, 0.25) == "fine"


# ------------------------------------------------------------------------------------------------ bias-variance

@pytest.mark.parametrize("degree", [0, 3, 9])
def test_bias_variance_sum_matches_the_independently_measured_error(degree):
    r = gen.bias_variance(degree, 20, 0.3, 200, 0)
    total = r["bias2"] + r["variance"] + r["noise"]
    assert set(r) >= {"bias2", "variance", "noise", "expected_mse"}
    assert r["noise"] == pytest.approx(0.09)
    assert abs(r["expected_mse"] - total) < 0.05 * total          # sampling error of the fresh labels only
    assert r["residual"] == pytest.approx(r["expected_mse"] - total)


def test_bias2_plus_variance_is_exactly_the_mean_squared_distance_of_the_fits():
    r = gen.bias_variance(5, 15, 0.2, 37, 1)
    direct = ((r["fits"] - r["f_grid"]) ** 2).mean(0)
    torch.testing.assert_close(r["bias2_x"] + r["variance_x"], direct, rtol=1e-9, atol=1e-12)
    var_ref = np.var(r["fits"].numpy(), axis=0, ddof=1)
    np.testing.assert_allclose(r["variance_x"].numpy(), var_ref, rtol=1e-9)


def test_degree_zero_bias_and_variance_match_the_hand_derivation():
    """Degree 0 fits the sample mean. Its expectation is the integral of sin(2 pi x) over [0, 1], 0, so the bias^2 at
    x is sin^2(2 pi x); its variance is sigma^2/n plus, with one point per slice, (1/n^2) sum_i Var f((i + u)/n)."""
    n, sigma = 10, 0.3
    r = gen.bias_variance(0, n, sigma, 200, 0)
    grid = np.linspace(0, 1, gen.GRID)
    assert r["bias2"] == pytest.approx(np.mean(np.sin(2 * np.pi * grid) ** 2), abs=0.01)
    u = (np.arange(n)[:, None] + np.linspace(0, 1, 20001)[None, :]) / n
    within = np.var(np.sin(2 * np.pi * u), axis=1).sum() / n ** 2
    assert r["variance"] == pytest.approx(sigma ** 2 / n + within, rel=0.25)


def test_without_noise_a_representable_target_has_no_bias_and_no_variance():
    r = gen.bias_variance(3, 12, 0.0, 20, 0, formula=gen.TARGETS["cubic"])
    assert r["bias2"] < 1e-20 and r["variance"] < 1e-20 and r["expected_mse"] < 1e-20


def test_ridge_lowers_variance_and_raises_bias():
    a, b = (gen.bias_variance(9, 15, 0.25, 100, 0, lam=lam) for lam in (1e-6, 1e-1))
    assert b["variance"] < a["variance"] / 5 and b["bias2"] > a["bias2"]


def test_bias_variance_refuses_lambda_zero_with_fewer_points_than_coefficients_and_too_many_sets():
    with pytest.raises(gen.GeneralizationError) as err:
        gen.bias_variance(9, 5, 0.2, 10, 0)
    assert err.value.code == "singular"
    with pytest.raises(gen.GeneralizationError) as err:
        gen.bias_variance(3, 10, 0.2, gen.MAX_SETS + 1, 0)
    assert err.value.code == "too_many_sets"


def test_bias_variance_is_deterministic_in_its_seed():
    a, b, c = gen.bias_variance(4, 10, 0.2, 20, 7), gen.bias_variance(4, 10, 0.2, 20, 7), gen.bias_variance(4, 10, 0.2,
                                                                                                              20, 8)
    assert a["expected_mse"] == b["expected_mse"] != c["expected_mse"]


# ------------------------------------------------------------------------------------------------ lasso and ridge

def _sklearn_path(X, y, alphas):
    from sklearn.linear_model import lasso_path

    a, coefs, _ = lasso_path(X.numpy(), y.numpy(), alphas=np.asarray(alphas), tol=1e-14, max_iter=1_000_000)
    order = np.argsort(-np.asarray(alphas))        # scikit-learn returns the path from the largest alpha down
    out = np.empty_like(coefs.T)
    out[order] = coefs.T
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lasso_path_matches_sklearn(seed):
    data = gen.make_data(gen.DEFAULT_TARGET, 50, 0.25, seed)
    X = gen.legendre_features(data.x, 9)
    alphas = np.logspace(-4, 0, 30)
    np.testing.assert_allclose(gen.lasso_path(X, data.y, alphas).numpy(), _sklearn_path(X, data.y, alphas),
                               rtol=1e-6, atol=1e-8)


def test_lasso_path_matches_sklearn_on_a_random_design_with_more_features_than_points():
    g = torch.Generator().manual_seed(5)
    X, y = torch.randn(8, 12, generator=g, dtype=D), torch.randn(8, generator=g, dtype=D)
    alphas = [0.5, 0.2, 0.1, 0.05]
    np.testing.assert_allclose(gen.lasso_path(X, y, alphas).numpy(), _sklearn_path(X, y, alphas), atol=1e-6)


def test_lasso_is_all_zero_from_alpha_max_and_satisfies_its_optimality_conditions():
    g = torch.Generator().manual_seed(6)
    X, y = torch.randn(40, 5, generator=g, dtype=D), torch.randn(40, generator=g, dtype=D)
    alpha_max = float((X.T @ y).abs().max()) / 40                  # hand-derived: |c_j| <= alpha for every j
    W = gen.lasso_path(X, y, [alpha_max * 1.0001, alpha_max * 0.9, 0.05])
    assert torch.equal(W[0], torch.zeros(5)) and (W[1] != 0).sum() == 1
    for w, alpha in zip(W, [alpha_max * 1.0001, alpha_max * 0.9, 0.05]):
        grad = X.T @ (y - X @ w) / 40
        on = w != 0
        torch.testing.assert_close(grad[on], alpha * torch.sign(w[on]), rtol=0, atol=1e-9)
        assert bool((grad[~on].abs() <= alpha + 1e-9).all())


def test_lasso_path_refuses_negative_alphas_and_too_many():
    X, y = torch.randn(5, 2, dtype=D), torch.randn(5, dtype=D)
    with pytest.raises(ValueError):
        gen.lasso_path(X, y, [-0.1])
    with pytest.raises(ValueError):
        gen.lasso_path(X, y, np.ones(gen.MAX_ALPHAS + 1))


def test_soft_threshold_is_the_prox_of_the_absolute_value():
    z = torch.tensor([-2.0, -0.5, 0.0, 0.3, 1.5])
    torch.testing.assert_close(gen.soft_threshold(z, 0.5), torch.tensor([-1.5, 0.0, 0.0, 0.0, 1.0]))


# ------------------------------------------------------------------------------------------------ weight decay

@pytest.mark.parametrize("weight_decay", [0.0, 0.01, 0.3])
def test_weight_decay_step_equals_torch_sgd_over_several_steps(weight_decay):
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(20, 3, generator=g, dtype=D), torch.randn(20, generator=g, dtype=D)
    w_ref = torch.zeros(3, dtype=D, requires_grad=True)
    opt = torch.optim.SGD([w_ref], lr=0.1, weight_decay=weight_decay)
    w = torch.zeros(3, dtype=D)
    for _ in range(25):
        opt.zero_grad()
        (((X @ w_ref - y) ** 2).mean() / 2).backward()
        opt.step()
        w = gen.weight_decay_step(w, X.T @ (X @ w - y) / 20, lr=0.1, weight_decay=weight_decay)
    torch.testing.assert_close(w, w_ref.detach(), rtol=1e-12, atol=1e-12)


def test_adamw_differs_from_adam_with_the_same_decay():
    """The note in the lesson: under Adam, an L2 gradient term and decoupled decay are different updates."""
    out = {}
    for name, cls in (("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW)):
        w = torch.ones(3, requires_grad=True)
        opt = cls([w], lr=0.1, weight_decay=0.5)
        for _ in range(5):
            opt.zero_grad()
            (w * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
            opt.step()
        out[name] = w.detach()
    assert not torch.allclose(out["adam"], out["adamw"], atol=1e-3)


def test_weight_decay_descent_ends_at_the_ridge_solution():
    X, y = gen.two_feature_problem(0)
    path = gen.weight_decay_path(X, y, 0.2, lr=0.5, steps=200)
    torch.testing.assert_close(path[-1], gen.ridge(X, y, 0.2), rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError):
        gen.weight_decay_path(X, y, 0.2, steps=gen.MAX_STEPS + 1)


def test_the_loss_grid_matches_the_mean_squared_error_at_a_point():
    X, y = gen.two_feature_problem(1)
    w1, w2 = torch.tensor([0.3, 1.2], dtype=D), torch.tensor([-0.4, 0.9, 2.0], dtype=D)
    grid = gen.quadratic_loss_grid(X, y, w1, w2)
    assert grid.shape == (3, 2)
    w = torch.tensor([1.2, 0.9], dtype=D)
    torch.testing.assert_close(grid[1, 1], F.mse_loss(X @ w, y) / 2)


# ------------------------------------------------------------------------------------------------ training, stopping

def test_early_stop_patience_rule_on_a_hand_made_curve():
    val = [5, 4, 3, 3.5, 3.2, 3.1, 3.3, 2.9, 3.0, 3.1, 3.2]
    assert gen.early_stop(val, 3) == (3, 6)      # best at step 3; steps 4, 5, 6 bring nothing better
    assert gen.early_stop(val, 5) == (8, 11)     # patient enough to reach 2.9 at step 8; the run ends at 11
    assert gen.early_stop([3, 2, 1], 1) == (3, 3)
    assert gen.early_stop(val, 15, steps=[5 * (i + 1) for i in range(len(val))]) == (15, 30)   # every 5 steps
    with pytest.raises(ValueError):
        gen.early_stop(val, 0)


def test_train_mlp_is_deterministic_and_learns():
    c = gen.DropoutConfig(steps=60, width=32, p=0.3, seed=2)
    a, b = gen.train_mlp(c), gen.train_mlp(c)
    assert a.val_loss == b.val_loss and a.step == list(range(gen.EVAL_EVERY, 61, gen.EVAL_EVERY))
    assert a.train_loss[-1] < a.train_loss[0]


def test_train_mlp_refuses_settings_past_the_caps():
    for bad in (gen.DropoutConfig(steps=gen.MAX_STEPS + 1), gen.DropoutConfig(width=gen.MAX_WIDTH + 1),
                gen.DropoutConfig(p=0.95)):
        with pytest.raises(ValueError):
            gen.train_mlp(bad)


def test_mask_predictions_average_toward_eval_mode():
    c = gen.DropoutConfig(steps=80, width=32, p=0.5, seed=0)
    h = gen.train_mlp(c)
    m = gen.mask_predictions(c, 200, state=h.state)
    torch.testing.assert_close(m["eval"], h.grid_pred, rtol=1e-5, atol=1e-6)
    single = (m["masked"] - m["eval"]).abs().mean()
    assert float((m["mask_mean"] - m["eval"]).abs().mean()) < 0.5 * float(single)


# ------------------------------------------------------------------------------------------------ robust lines

def test_fit_line_l2_matches_numpy_polyfit_and_l1_matches_sklearn_median_regression():
    from sklearn.linear_model import QuantileRegressor

    line = gen.line_with_outliers(30, 5, 0)
    b, a = gen.fit_line(line.x, line.y, "l2").numpy()
    np.testing.assert_allclose([a, b], np.polyfit(line.x.numpy(), line.y.numpy(), 1), rtol=1e-10)
    ref = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(line.x.numpy()[:, None], line.y.numpy())
    w = gen.fit_line(line.x, line.y, "l1")
    np.testing.assert_allclose(w.numpy(), [ref.intercept_, ref.coef_[0]], atol=2e-3)


@pytest.mark.parametrize("delta", [0.1, 0.5, 2.0])
def test_fit_line_huber_minimises_torch_huber_loss(delta):
    from scipy.optimize import minimize

    line = gen.line_with_outliers(30, 4, 1)
    X = np.stack([np.ones(30), line.x.numpy()], 1)

    def objective(w):
        return float(F.huber_loss(torch.tensor(X @ w), line.y, delta=delta, reduction="sum"))

    ref = minimize(objective, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14,
                                                                          "maxiter": 20000}).x
    np.testing.assert_allclose(gen.fit_line(line.x, line.y, "huber", delta).numpy(), ref, atol=1e-5)


def test_line_with_outliers_marks_the_outliers_below_the_line():
    line = gen.line_with_outliers(30, 4, 0)
    assert int(line.outlier.sum()) == 4
    resid = line.y - (0.5 + line.x)
    assert bool((resid[line.outlier] < -2.5).all()) and bool((resid[~line.outlier].abs() < 0.5).all())
    with pytest.raises(ValueError):
        gen.line_with_outliers(30, gen.MAX_OUTLIERS + 1, 0)
    with pytest.raises(ValueError):
        gen.fit_line(line.x, line.y, "l3")


# ------------------------------------------------------------------------------------------------ targets, caps

@pytest.mark.parametrize("text,code", [("sin(", "syntax"), ("log(x)", "not_finite"), ("exp(1000*x)", "not_finite"),
                                       ("x.real", "node"), ("foo(x)", "function"), ("", "empty"),
                                       ("1/(x - 0.5)", "not_finite"), ("x" * 100, "too_long")])
def test_a_target_that_cannot_be_used_raises_an_expression_error(text, code):
    with pytest.raises(ExpressionError) as err:
        gen.parse_target(text)
    assert err.value.code == code


def test_every_named_target_parses_and_the_default_is_the_sine():
    for formula in gen.TARGETS.values():
        gen.parse_target(formula)
    x = torch.linspace(0, 1, 9, dtype=D)
    torch.testing.assert_close(gen.parse_target(gen.DEFAULT_TARGET)(x), torch.sin(2 * math.pi * x))


def test_make_data_refuses_sizes_past_the_caps():
    for n, noise in ((gen.MAX_N + 1, 0.1), (1, 0.1), (10, gen.MAX_NOISE + 0.1), (10, -0.1)):
        with pytest.raises(ValueError):
            gen.make_data(gen.DEFAULT_TARGET, n, noise, 0)


def test_the_widget_ranges_stay_inside_the_caps():
    from ui.experiments import generalization as experiment

    p = {x.name: x for x in experiment.SETTINGS}
    assert p["degree"].hi == gen.MAX_DEGREE and p["n_sets"].hi == gen.MAX_SETS
    assert p["n"].hi <= gen.MAX_N and p["n"].lo >= gen.MIN_N and p["noise"].hi <= gen.MAX_NOISE
    assert p["outliers"].hi == gen.MAX_OUTLIERS and max(experiment.WIDTHS) <= gen.MAX_WIDTH
    assert max(experiment.STEPS) <= gen.MAX_STEPS and p["formula"].max_len == gen.MAX_FORMULA
    assert p["path_degree"].hi <= gen.MAX_DEGREE and max(experiment.P_DROP) <= 0.9
    assert set(experiment.TARGETS) == set(gen.TARGETS) | {"typed"}


# ------------------------------------------------------------------------------------------------ bagging, CV

def test_nearest_neighbour_matches_sklearn_one_neighbour_regression():
    from sklearn.neighbors import KNeighborsRegressor

    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(3, 12, generator=g, dtype=D), torch.randn(3, 12, generator=g, dtype=D)
    q = torch.linspace(0, 1, 57, dtype=D)
    ours = gen.nearest_neighbour(x, y, q)
    for s in range(3):
        ref = KNeighborsRegressor(n_neighbors=1).fit(x[s, :, None].numpy(), y[s].numpy()).predict(q[:, None].numpy())
        np.testing.assert_allclose(ours[s].numpy(), ref)


def test_bagging_halves_the_variance_of_nearest_neighbours_and_keeps_bias_small():
    b = gen.bagging(15, 0.25, 100, 25, 0)
    assert b["bagged"]["variance"] < 0.7 * b["single"]["variance"]
    assert b["bagged"]["bias2"] < 0.2 * b["single"]["variance"]
    assert b["single"]["fits"].shape == b["bagged"]["fits"].shape == (100, gen.GRID)
    with pytest.raises(ValueError):
        gen.bagging(15, 0.25, 100, gen.MAX_BOOT + 1, 0)


def test_with_two_points_every_model_predicts_one_of_the_two_labels():
    """Hand-derived: with n = 2 points a nearest-neighbour model copies one of the two labels, so the single model
    takes only those two values and each bagged curve stays between them."""
    b = gen.bagging(2, 0.5, 5, 7, 3)
    lo, hi = b["y"].min(1).values[:, None], b["y"].max(1).values[:, None]
    assert bool(((b["bagged"]["fits"] >= lo - 1e-12) & (b["bagged"]["fits"] <= hi + 1e-12)).all())
    for row, labels in zip(b["single"]["fits"], b["y"]):
        assert set(row.tolist()) <= set(labels.tolist())


def test_cross_validate_matches_sklearn_cross_val_score_on_the_same_folds():
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import PredefinedSplit, cross_val_score

    data = gen.make_data(gen.DEFAULT_TARGET, 20, 0.3, 0)
    lams = [1e-6, 1e-3, 1e-1]
    cv = gen.cross_validate(data.x, data.y, 7, lams, 4, 5)
    order = torch.randperm(20, generator=torch.Generator().manual_seed(5))
    fold_of = np.empty(20, dtype=int)
    fold_of[order.numpy()] = np.arange(20) % 4
    X = np.polynomial.legendre.legvander(2 * data.x.numpy() - 1, 7)
    for j, lam in enumerate(lams):
        n_train = 15   # every fold holds out 5 of the 20 points
        scores = -cross_val_score(Ridge(alpha=n_train * lam, fit_intercept=False, solver="cholesky"), X,
                                  data.y.numpy(), cv=PredefinedSplit(fold_of), scoring="neg_mean_squared_error")
        np.testing.assert_allclose(cv.fold_mse[:, j].numpy(), scores, rtol=1e-6)
    np.testing.assert_allclose(cv.se.numpy(), cv.fold_mse.numpy().std(0, ddof=1) / 2, rtol=1e-10)


def test_the_one_standard_error_rule_picks_the_largest_lambda_within_one_se_of_the_best():
    data = gen.make_data(gen.DEFAULT_TARGET, 15, 0.25, 0)
    cv = gen.cross_validate(data.x, data.y, 9, [10.0 ** k for k in range(-8, 1)], 5, 0)
    assert cv.one_se >= cv.best and float(cv.mean[cv.one_se]) <= float(cv.mean[cv.best] + cv.se[cv.best]) + 1e-12
    assert all(float(cv.mean[j]) > float(cv.mean[cv.best] + cv.se[cv.best]) for j in range(cv.one_se + 1, 9))


def test_cross_validate_refuses_bad_folds_and_lambdas():
    data = gen.make_data(gen.DEFAULT_TARGET, 8, 0.25, 0)
    for folds, lams in ((1, [0.1]), (9, [0.1]), (gen.MAX_FOLDS + 1, [0.1]), (4, [0.0]), (4, [])):
        with pytest.raises(ValueError):
            gen.cross_validate(data.x, data.y, 3, lams, folds, 0)


def test_dropout_without_scaling_shrinks_the_mean_by_one_minus_p():
    x = torch.rand(200_000, dtype=D) + 0.5
    y = gen.dropout_without_scaling(x, 0.4, True, torch.Generator().manual_seed(1))
    assert abs(float(y.mean()) / float(x.mean()) - 0.6) < 0.01
    assert torch.equal(gen.dropout_without_scaling(x, 0.4, False), x)


def test_unscaled_masks_average_far_from_eval_mode():
    c = gen.DropoutConfig(steps=80, width=32, p=0.5, seed=0)
    m = gen.mask_predictions(c, 100, state=gen.train_mlp(c).state)
    assert float((m["unscaled_mean"] - m["eval"]).abs().mean()) > 2 * float((m["mask_mean"] - m["eval"]).abs().mean())


# ------------------------------------------------------------------------------------------------ augmentation

@pytest.mark.parametrize("dx,dy", gen.SHIFTS)
def test_shift_images_matches_scipy_shift_with_zero_fill(dx, dy):
    from scipy.ndimage import shift

    x = torch.rand(3, 1, 8, 8)
    ref = np.stack([shift(img[0].numpy(), (dy, dx), order=0, mode="constant", cval=0.0) for img in x])[:, None]
    np.testing.assert_array_equal(gen.shift_images(x, dx, dy).numpy(), ref)


@pytest.mark.slow
def test_softmax_regression_agrees_with_sklearn_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    from dlcore import data

    x, y = data.digits("train")
    x, y = x[:300], y[:300]
    xt, yt = data.digits("test")
    lam = 1e-2
    W, b = gen.softmax_regression(x, y, steps=1000, lr=0.05, weight_decay=lam)
    # sklearn minimises sum CE + ||W||^2 / (2C); ours mean CE + lam/2 ||W||^2: the same optimum for C = 1/(n lam)
    ref = LogisticRegression(C=1 / (300 * lam), max_iter=5000, tol=1e-8).fit(x.reshape(300, -1).numpy(), y.numpy())
    ours = (xt.reshape(len(xt), -1) @ W + b).argmax(1).numpy()
    assert np.mean(ours == ref.predict(xt.reshape(len(xt), -1).numpy())) > 0.97
    assert abs(gen.accuracy(W, b, xt, yt) - ref.score(xt.reshape(len(xt), -1).numpy(), yt.numpy())) < 0.02


def test_augmentation_refuses_sizes_outside_its_list():
    with pytest.raises(ValueError):
        gen.augmentation(77, 0)
