"""dlcore.linear_classifiers against independent references: torch.nn losses, scikit-learn's k-NN, LDA / QDA,
logistic and linear regression, scipy's Gaussian density, the CS231n worked example, hand-derived values."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.stats import multivariate_normal
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from dlcore.linear_classifiers import (
    ClassifierInputError,
    gaussian,
    gaussian_classifier,
    knn,
    knn_predict,
    linear,
    losses,
    playground,
    softmax_loss,
    studies,
    svm_loss,
)
from dlcore.linear_classifiers.linear import LinearConfig, train_linear
from ui.experiments import linear_classifiers as experiment

CAT = torch.tensor([[3.2, 5.1, -1.7]])


def _scores(n=64, c=5, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, c, generator=g, dtype=torch.float64), torch.randint(0, c, (n,), generator=g)


# -- losses ---------------------------------------------------------------------------------------------------

def test_the_cs231n_worked_example_gives_svm_2_9_and_softmax_2_04():
    assert float(svm_loss(CAT, torch.tensor([0]))) == pytest.approx(2.9, abs=1e-6)
    assert float(softmax_loss(CAT, torch.tensor([0]))) == pytest.approx(2.04, abs=5e-3)
    p = losses.point_loss((3.2, 5.1, -1.7), 0)
    assert p.margins == pytest.approx((0.0, 2.9, 0.0)) and p.svm == pytest.approx(2.9)
    assert sum(p.probs) == pytest.approx(1.0) and p.softmax == pytest.approx(-math.log(p.probs[0]))


@pytest.mark.parametrize("delta", [0.5, 1.0, 3.0])
def test_svm_loss_is_num_classes_times_torch_multi_margin_loss(delta):
    s, y = _scores()
    ref = s.shape[1] * torch.nn.MultiMarginLoss(margin=delta)(s, y)   # torch divides each example's sum by C
    torch.testing.assert_close(svm_loss(s, y, delta), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scale", [1.0, 30.0, 1000.0])
def test_softmax_loss_matches_torch_cross_entropy_even_for_huge_scores(scale):
    s, y = _scores(scale=scale)
    torch.testing.assert_close(softmax_loss(s, y), F.cross_entropy(s, y), rtol=1e-12, atol=1e-9)
    torch.testing.assert_close(losses.softmax_probs(s), torch.softmax(s, 1), rtol=1e-12, atol=1e-12)


def test_svm_margins_leave_out_the_correct_class_and_sum_to_the_loss():
    s, y = _scores(n=8, c=4)
    m = losses.svm_margins(s, y, 1.0)
    assert torch.all(m.gather(1, y[:, None]) == 0) and torch.all(m >= 0)
    torch.testing.assert_close(m.sum(1).mean(), svm_loss(s, y, 1.0))


def test_svm_is_satisfied_at_the_margin_and_softmax_never_is():
    sweep = losses.correct_score_sweep((3.2, 5.1, -1.7), 0, 1.0, lo=-4, hi=12, n=161)
    assert sweep.zero_at == pytest.approx(6.1)
    after = sweep.correct >= sweep.zero_at
    assert torch.all(sweep.svm[after] == 0) and torch.all(sweep.svm[~after] > 0)
    assert torch.all(sweep.softmax > 0) and torch.all(sweep.softmax[1:] < sweep.softmax[:-1])


# -- k-NN -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("metric", "sk"), [("l2", "euclidean"), ("l1", "manhattan")])
@pytest.mark.parametrize("k", [1, 4, 7])
def test_knn_predict_matches_scikit_learn(metric, sk, k):
    x, y = playground.make_dataset("spirals", 300, 0.3, seed=1)
    q = torch.rand(400, 2, generator=torch.Generator().manual_seed(2)) * 3 - 1.5
    ref = KNeighborsClassifier(n_neighbors=k, metric=sk).fit(x.numpy(), y.numpy()).predict(q.numpy())
    np.testing.assert_array_equal(knn_predict(x, y, q, k, metric).numpy(), ref)


def test_a_tied_vote_goes_to_the_smallest_class_like_scikit_learn():
    x = torch.tensor([[0.0, 1.0], [0.0, -1.0], [5.0, 5.0]])
    y = torch.tensor([1, 0, 1])
    q = torch.tensor([[0.0, 0.0]])
    ref = KNeighborsClassifier(n_neighbors=2).fit(x.numpy(), y.numpy()).predict(q.numpy())
    assert int(knn_predict(x, y, q, 2)[0]) == int(ref[0]) == 0


def test_cross_validation_accuracy_per_fold_matches_scikit_learn():
    x_tr, y_tr, _, _ = studies.digits_flat()
    x, y = x_tr[:600], y_tr[:600]
    cv = knn.cross_validate_k(x, y, (1, 5, 9), folds=4, seed=3)
    parts = knn.fold_indices(len(x), 4, 3)
    splits = [(torch.cat([p for j, p in enumerate(parts) if j != i]).numpy(), val.numpy())
              for i, val in enumerate(parts)]
    for col, k in enumerate((1, 5, 9)):
        ref = cross_val_score(KNeighborsClassifier(n_neighbors=k), x.numpy(), y.numpy(), cv=splits)
        np.testing.assert_allclose(cv.fold_acc[:, col].numpy(), ref, atol=1.5 / 150)   # a distance tie at most
    assert cv.best_k == cv.ks[int(cv.mean.argmax())]
    assert sorted(torch.cat(parts).tolist()) == list(range(600))


def test_knn_refuses_k_larger_than_the_training_set_and_bad_metrics():
    x, y = torch.rand(5, 2), torch.tensor([0, 1, 0, 1, 0])
    with pytest.raises(ClassifierInputError) as err:
        knn_predict(x, y, x, 6)
    assert err.value.code == "k_too_big" and err.value.detail == {"k": 6, "n": 5}
    for bad_k in (0, -1, 2.5):
        with pytest.raises(ValueError):
            knn_predict(x, y, x, bad_k)
    with pytest.raises(ClassifierInputError, match="bad_metric"):
        knn_predict(x, y, x, 1, metric="cosine")


def test_one_nearest_neighbour_is_perfect_on_its_own_training_set():
    x_tr, y_tr, _, _ = studies.digits_flat()
    acc = knn.accuracy_by_k(x_tr, y_tr, x_tr, y_tr, (1, 3))
    assert float(acc[0]) == 1.0 and float(acc[1]) < 1.0


# -- Gaussian generative classifier ---------------------------------------------------------------------------

def _two_gaussians(n=400, seed=0):
    return studies.two_class_data(n, seed)


def test_shared_covariance_gives_lda_predictions_and_its_linear_form():
    x, y = _two_gaussians()
    model = gaussian_classifier(x, y, shared_cov=True)
    lda = LinearDiscriminantAnalysis(solver="lsqr").fit(x.numpy(), y.numpy())
    q = torch.randn(2000, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 2
    np.testing.assert_array_equal(model.predict(q).numpy(), lda.predict(q.numpy()))
    w, b = model.linear_form()
    np.testing.assert_allclose(w.numpy(), lda.coef_[0], rtol=1e-8)
    np.testing.assert_allclose(float(b), lda.intercept_[0], rtol=1e-8)
    p1 = torch.sigmoid(q @ w + b)
    torch.testing.assert_close(p1, model.posterior(q)[:, 1], rtol=1e-9, atol=1e-12)


def test_separate_covariances_give_the_bayes_posterior_of_scipy_gaussians_and_qda_predictions():
    x, y = playground.make_dataset("circles", 300, 0.3, seed=0)
    x = x.double()
    model = gaussian_classifier(x, y, shared_cov=False)
    q = torch.rand(500, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 3 - 1.5
    joint = []
    for c in (0, 1):
        xc = x[y == c].numpy()
        cov = np.cov(xc.T, bias=True)   # maximum likelihood
        joint.append(multivariate_normal(xc.mean(0), cov).pdf(q.numpy()) * len(xc) / len(x))
    joint = np.stack(joint, 1)
    np.testing.assert_allclose(model.posterior(q).numpy(), joint / joint.sum(1, keepdims=True), rtol=1e-8,
                               atol=1e-12)
    qda = QuadraticDiscriminantAnalysis().fit(x.numpy(), y.numpy()).predict(q.numpy())   # unbiased covariances
    assert (model.predict(q).numpy() == qda).mean() > 0.99
    assert not model.regularised


def test_a_singular_covariance_is_regularised_and_says_so():
    x = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [0.0, 4.0], [1.0, 5.0], [2.0, 6.0]])   # each class on a line
    y = torch.tensor([0, 0, 0, 1, 1, 1])
    for shared in (False, True):
        model = gaussian_classifier(x, y, shared)
        assert model.regularised
        assert torch.all(model.predict(x) == y)
    with pytest.raises(ClassifierInputError, match="one_class"):
        gaussian_classifier(x, torch.zeros(6, dtype=torch.long), True)


# -- linear classifiers trained by gradient descent ------------------------------------------------------------

@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_training_follows_the_objective_the_torch_losses_define(loss):
    x, y = playground.make_dataset("blobs", 200, 0.1, 0)
    config = LinearConfig(loss, delta=1.0, lam=1e-2, lr=0.3, steps=150)
    model = train_linear(x, y, config)
    assert float(model.history[-1]) < 0.5 * float(model.history[0])
    scores = model.scores(x)
    data = F.cross_entropy(scores, y) if loss == "softmax" else 3 * torch.nn.MultiMarginLoss()(scores, y)
    final = data + 1e-2 * (model.W ** 2).sum()
    assert float(final) <= float(model.history[-1]) + 1e-6   # one more step still goes down
    assert float((model.predict(x) == y).float().mean()) > 0.95


def test_logistic_regression_by_gradient_descent_finds_scikit_learns_minimum():
    x, y = _two_gaussians(200, 1)
    x = (x - x.mean(0)) / x.std(0)
    lam = 1e-2
    w, b = linear.logistic_regression(x[None], y[None], lam=lam, lr=1.0, steps=2000)
    ref = LogisticRegression(C=1 / (lam * len(x)), tol=1e-10, max_iter=10_000).fit(x.numpy(), y.numpy())
    np.testing.assert_allclose(w[0].numpy(), ref.coef_[0], atol=2e-3)
    np.testing.assert_allclose(float(b[0]), ref.intercept_[0], atol=2e-3)


def test_least_squares_on_labels_matches_linear_regression():
    d = studies.least_squares_demo(20, 0)
    ref = LinearRegression().fit(d.x.numpy(), (2 * d.y - 1).numpy())
    np.testing.assert_allclose(d.w_ls.numpy(), ref.coef_, rtol=1e-8)
    assert d.b_ls == pytest.approx(ref.intercept_, rel=1e-8)


def test_standardize_matches_scikit_learns_standard_scaler():
    x = torch.randn(50, 3, dtype=torch.float64) * torch.tensor([1.0, 100.0, 0.01], dtype=torch.float64) + 7
    other = torch.randn(10, 3, dtype=torch.float64)
    sc = StandardScaler().fit(x.numpy())
    a, b = linear.standardize(x, other)
    np.testing.assert_allclose(a.numpy(), sc.transform(x.numpy()), atol=1e-10)
    np.testing.assert_allclose(b.numpy(), sc.transform(other.numpy()), atol=1e-8)


@pytest.mark.parametrize(("field", "value"), [("lr", 0.0), ("lr", 11.0), ("lr", float("nan")), ("lam", -0.1),
                                              ("lam", 2.0), ("delta", 0.0), ("steps", 0), ("steps", 5000),
                                              ("loss", "hinge")])
def test_out_of_range_training_settings_raise_value_errors(field, value):
    with pytest.raises(ValueError):
        LinearConfig(**{field: value})


# -- the playground --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", playground.DATASETS[:-1])
def test_every_data_set_is_seeded_and_has_its_classes(name):
    x, y = playground.make_dataset(name, 120, 0.2, seed=4)
    x2, y2 = playground.make_dataset(name, 120, 0.2, seed=4)
    assert x.shape == (120, 2) and torch.equal(x, x2) and torch.equal(y, y2)
    assert set(y.tolist()) == set(range(3 if name in ("blobs", "spirals") else 2))
    assert float(x.abs().max()) < 3


def test_decision_regions_are_each_classifier_on_the_grid_cells():
    x, y = playground.make_dataset("blobs", 150, 0.3, 0)
    models = playground.fit_models(x, y, LinearConfig("svm", steps=50), LinearConfig("softmax", steps=50), False)
    r = playground.decision_regions(x, y, models, 3, "l1", 40)
    xs, ys, cells = playground.grid(x, 40)
    np.testing.assert_array_equal(r.labels["knn"].ravel(), knn_predict(x, y, cells, 3, "l1").numpy())
    np.testing.assert_array_equal(r.labels["softmax"].ravel(), models.softmax.predict(cells).numpy())
    np.testing.assert_array_equal(r.labels["gaussian"].ravel(), models.gaussian.predict(cells.double()).numpy())
    np.testing.assert_allclose(r.svm_loss.mean(), float(svm_loss(models.svm.scores(x), y)), rtol=1e-5)
    np.testing.assert_allclose(r.softmax_loss.mean(), float(F.cross_entropy(models.softmax.scores(x), y)), rtol=1e-5)
    r = playground.decision_regions(x, y, models, 151, "l2", 20)
    assert "knn" not in r.labels and r.errors["knn"][0] == "k_too_big"


@pytest.mark.parametrize(("text", "code"), [
    ("1, 2", "format"), ("a, b, 0", "format"), ("0, 0, 0\n1, 1, 0\n2, 2, 0\n3, 3, 0", "one_class"),
    ("0, 0, 0\n1, 1, 1", "too_few"), ("0, 0, 0\n1, 1, 1\n0, 0, 1\n2, 2, 0", "duplicate"),
    ("9, 0, 0", "bad_range"), ("0, 0, 7", "bad_class"), ("nan, 0, 0", "bad_range"),
    ("\n".join(f"{i / 50:.2f}, 0, {i % 2}" for i in range(101)), "too_many")])
def test_bad_points_get_a_coded_error(text, code):
    with pytest.raises(ClassifierInputError) as err:
        playground.parse_points(text)
    assert err.value.code == code


def test_points_parse_renumber_classes_and_round_trip():
    x, y = playground.parse_points("# mine\n0, 0, 1\n1, 0, 3\n\n0, 1, 1\n1, 1; 3")
    assert y.tolist() == [0, 1, 0, 1] and x.shape == (4, 2)
    x2, y2 = playground.parse_points(playground.points_text(x, y))
    assert torch.equal(x, x2) and torch.equal(y, y2)


def test_a_click_removes_the_nearest_point_or_adds_one():
    text = "0.00, 0.00, 0\n1.00, 1.00, 1"
    assert playground.toggle_point(text, 0.03, -0.02, 2) == "1.00, 1.00, 1"
    assert playground.toggle_point(text, 0.5, 0.5, 2).splitlines()[-1] == "0.50, 0.50, 2"
    assert playground.toggle_point(text, 9.0, 0.0, 1).splitlines()[-1] == "3.00, 0.00, 1"   # clamped into range
    full = "\n".join(f"{i / 10:.2f}, 0, 0" for i in range(playground.MAX_OWN))
    assert playground.toggle_point(full, 2.9, 2.9, 0) == full


def test_the_neighbourhood_radius_is_the_kth_distance_in_each_metric():
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0], [0.6, 0.6]])
    l2 = playground.neighbourhood(x, (0.0, 0.0), 2, "l2")   # |(0.6, 0.6)|_2 = 0.85 < 1 < 1.2 = |(0.6, 0.6)|_1
    l1 = playground.neighbourhood(x, (0.0, 0.0), 2, "l1")
    assert l2.index.tolist() == [3, 0] and l2.radius == pytest.approx(1.0)
    assert l1.index.tolist() == [0, 3] and l1.radius == pytest.approx(1.2)


# -- studies ---------------------------------------------------------------------------------------------------

def test_edge_for_one_percent_is_the_d_th_root():
    e = studies.edge_for_fraction(torch.tensor([1, 2, 10]), 0.01)
    torch.testing.assert_close(e, torch.tensor([0.01, 0.1, 0.01 ** 0.1], dtype=torch.float64))


def test_nearest_to_farthest_ratio_climbs_towards_one_with_dimension():
    r = studies.distance_ratio((2, 10, 100, 1000), n_points=200, n_queries=20)
    assert torch.all(r[1:] > r[:-1]) and float(r[0]) < 0.1 and float(r[-1]) > 0.8


def test_the_caps_written_in_the_experiments_module_are_dlcores():
    assert experiment.DATASETS == playground.DATASETS and experiment.CLASSIFIERS == playground.CLASSIFIERS
    assert experiment.METRICS == knn.METRICS and experiment.LOSSES == linear.LOSSES
    assert experiment.MAX_POINTS == playground.MAX_POINTS and experiment.MAX_OWN == playground.MAX_OWN
    assert experiment.MAX_STEPS == linear.MAX_STEPS and max(experiment.RESOLUTIONS) == playground.MAX_RESOLUTION
    assert max(experiment.LRS) <= linear.MAX_LR and max(experiment.LAMBDAS) <= linear.MAX_LAMBDA
    assert max(experiment.DIMS) == studies.MAX_DIM and len(experiment.KS) <= knn.MAX_KS
    assert gaussian.RIDGE > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA")
def test_losses_and_knn_run_on_cuda():
    s, y = _scores()
    torch.testing.assert_close(svm_loss(s.cuda(), y.cuda()).cpu(), svm_loss(s, y))
    x, yy = playground.make_dataset("moons", 100, 0.2, 0)
    assert torch.equal(knn_predict(x.cuda(), yy.cuda(), x.cuda(), 3).cpu(), knn_predict(x, yy, x, 3))


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_the_fast_training_objective_equals_the_readable_one(loss):
    s, y = _scores(n=40, c=4)
    W = torch.randn(4, 3, dtype=torch.float64)
    config = LinearConfig(loss, delta=1.5, lam=0.01)
    torch.testing.assert_close(linear.fast_objective(s, y, W, config), linear.objective(s, y, W, config),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("metric", ["l2", "l1"])
@pytest.mark.parametrize(("name", "res", "k"), [("spirals", 200, 5), ("moons", 73, 1), ("blobs", 100, 50),
                                                ("xor", 30, 12)])
def test_the_tiled_grid_knn_equals_knn_predict_on_every_cell(metric, name, res, k):
    x, y = playground.make_dataset(name, 500, 0.3, 0)
    xs, ys, cells = playground.grid(x, res)
    fast = knn.knn_grid(x, y, xs, ys, k, metric).reshape(-1)
    slow = knn_predict(x, y, cells, k, metric)
    differ = torch.nonzero(fast != slow)[:, 0]
    for i in differ:   # only where two training points are exactly as far (a tie either answer may break)
        d = knn.distances(cells[i:i + 1], x, metric)[0].sort().values
        assert torch.isclose(d[k - 1], d[k])
    assert len(differ) <= 2
