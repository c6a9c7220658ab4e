"""Claim tests of the linear-classifiers lesson: every sentence a learner reads about what the lab shows, run
through dlcore on the preset or default it describes."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from dlcore.linear_classifiers import losses, playground, studies
from ui.experiments import linear_classifiers as experiment


def _point(preset):
    v = experiment.settings(preset)
    return losses.point_loss(experiment.scores(v), v["label"], v["delta"])


def _play(preset, **changes):
    return experiment.playground(experiment.settings(preset) | changes, 0)


def test_worked_example_note():
    """presets.worked: "Scores 3.2, 5.1, −1.7 with cat correct: the SVM loss is 2.9 (only the car's score is within
    the margin) and the softmax loss 2.04." """
    p = _point("worked")
    assert p.scores == (3.2, 5.1, -1.7) and p.label == 0
    assert p.svm == pytest.approx(2.9) and round(p.softmax, 2) == 2.04
    assert [m > 0 for m in p.margins] == [False, True, False]


def test_confident_note():
    """presets.confident: "With the cat's score at 8 the margin is met: the SVM loss is exactly 0, while the softmax
    loss is small but not 0." """
    p = _point("confident")
    assert p.scores[0] == 8.0 and p.svm == 0.0 and 0 < p.softmax < 0.1


def test_loss_notice_svm_satisfied_softmax_never():
    """notice.loss: "As the correct score grows, the SVM loss reaches exactly 0 at {zero} (the best other score
    plus Δ) and stays there; the softmax loss keeps shrinking but is still {tail} at a correct score of {top}: it
    is never satisfied." """
    v = experiment.settings()
    s = losses.correct_score_sweep(experiment.scores(v), v["label"], v["delta"])
    assert s.zero_at == pytest.approx(max(v["s1"], v["s2"]) + v["delta"])
    assert torch.all(s.svm[s.correct >= s.zero_at] == 0) and torch.all(s.svm[s.correct < s.zero_at] > 0)
    assert torch.all(torch.diff(s.softmax) < 0) and float(s.softmax[-1]) > 0


def test_circles_note():
    """presets.circles: "On the circles k-NN and the Gaussian classifier with separate covariances are almost always
    right, while the SVM and softmax classifiers stay near chance: no straight line separates a ring from its
    centre." """
    _, _, _, r = _play("circles")
    assert r.train_acc["knn"] > 0.97 and r.train_acc["gaussian"] > 0.97
    assert r.train_acc["svm"] < 0.65 and r.train_acc["softmax"] < 0.65


def test_shared_covariance_note_and_the_playground_notice():
    """presets.shared: "With one shared covariance the Gaussian classifier's boundary becomes a straight line and it
    falls to chance on the circles, like the SVM and softmax classifiers."
    notice.playground: "the Gaussian classifier draws a straight line with a shared covariance and a curve
    without one." """
    x, y, models, r = _play("shared")
    assert r.train_acc["gaussian"] < 0.6
    w, b = models.gaussian.linear_form()
    _, _, cells = playground.grid(x, experiment.settings("shared")["resolution"])
    line = ((cells.double() @ w + b) > 0).numpy().astype(np.int8)
    np.testing.assert_array_equal(r.labels["gaussian"].ravel(), line)
    _, _, _, r_sep = _play("circles")   # separate covariances: the inner class is a closed region
    inner = r_sep.labels["gaussian"]
    assert inner[inner.shape[0] // 2, inner.shape[1] // 2] == 1
    assert not np.any(np.concatenate([inner[0], inner[-1], inner[:, 0], inner[:, -1]]) == 1)


def test_playground_notice_linear_models_draw_straight_lines():
    """notice.playground: "the SVM and softmax classifiers can only draw straight lines between classes" (on the
    default moons, each one's regions are exactly a half-plane: a logistic fit of the grid labels is perfect)."""
    x, y, models, r = _play(None)
    _, _, cells = playground.grid(x, experiment.settings()["resolution"])
    for name in ("svm", "softmax"):
        lab = r.labels[name].ravel()
        fit = LogisticRegression(C=1e6, max_iter=5000).fit(cells.numpy(), lab)
        assert (fit.predict(cells.numpy()) == lab).mean() > 0.998
    assert r.train_acc["knn"] > r.train_acc["svm"] + 0.1


def test_honest_k_note_and_choose_k_notice():
    """presets.honest_k: "Five folds pick k; the test set is used once. The training-set curve is perfect at
    k = 1, which says nothing about new images."
    notice.choose_k: "training accuracy with k = 1 is {train1} because each image finds itself; tuning on the test
    set would pick k = {k_test}" """
    v = experiment.settings("honest_k")
    r = studies.choosing_k(experiment.KS, v["folds"], v["cv_metric"], 0)
    assert r.cv.fold_acc.shape == (5, 10) and float(r.train_acc[0]) == 1.0
    assert r.cv.best_k == experiment.KS[int(r.cv.mean.argmax())]        # chosen without the test set
    note = experiment.cv_note(r)
    assert note["k_test"] == experiment.KS[int(r.test_acc.argmax())] and note["train1"] == 1.0
    assert float(r.test_acc_chosen) < 1.0


def test_standardize_note_and_notice():
    """presets.standardize: "With the second feature's numbers 1000 times larger, k-NN on raw features drops far
    below its accuracy after standardization."
    notice.standardize: "Gradient descent at the same learning rate crawls or diverges on the raw features and
    converges on the standardized ones." """
    for preset in ("standardize", None):
        sd = studies.standardization(experiment.settings(preset)["scale"], seed=0)
        assert sd.knn_raw < sd.knn_std - 0.2
        assert not torch.isfinite(sd.loss_raw).all() or float(sd.loss_raw[-1]) > float(sd.loss_raw[0])
        assert float(sd.loss_std[-1]) < 0.5 * float(sd.loss_std[0])


def test_templates_notice_each_row_of_w_looks_like_its_digit():
    """notice.templates: "Each picture is one row of W: red pixels raise that digit's score, blue ones lower it, so
    every class keeps one template" (each template correlates with its digit's mean image, minus the overall
    mean, more than with any other digit's)."""
    tpl = studies.digit_templates(experiment.template_config(experiment.settings(), 0))
    x_tr, y_tr, _, _ = studies.digits_flat()
    centred = torch.stack([x_tr[y_tr == c].mean(0) for c in range(10)]) - x_tr.mean(0)
    corr = np.corrcoef(tpl.model.W.numpy(), centred.numpy())[:10, 10:]
    assert np.all(corr.argmax(1) == np.arange(10))
    assert 0.9 < tpl.test_acc < 1.0


def test_growth_notice_knn_test_time_grows_with_the_training_set():
    """notice.growth: "k-NN stores every training image and compares each test image with all of them ... The
    linear classifier takes one matrix product whatever the training size." """
    g = studies.growth((25, 1437), 1, experiment.template_config(experiment.settings(), 0))
    assert float(g.knn_ms[1]) > 3 * float(g.knn_ms[0])
    assert float(g.knn_acc[1]) > float(g.knn_acc[0])
    assert float(g.linear_ms[1]) < float(g.knn_ms[1])


def test_curse_notice():
    """notice.curse: "a cube-shaped neighbourhood needs an edge of {e10} of the whole range in 10 dimensions and
    {e100} in 100: it is no longer local. The nearest of 500 random points is {r2} times as far as the farthest
    in 2 dimensions and {r1000} times in 1000" """
    e = studies.edge_for_fraction(torch.tensor([10, 100]), experiment.settings()["fraction"])
    assert float(e[0]) > 0.6 and float(e[1]) > 0.95
    r = studies.distance_ratio(experiment.DIMS)
    assert float(r[1]) < 0.05 and float(r[-1]) > 0.85 and float(r[-1]) > float(r[1])


@pytest.mark.slow
def test_gen_disc_notice():
    """notice.gen_disc: "With 16 points or fewer the Gaussian model ... stays within about a point of logistic
    regression (ahead at some sizes); from 32 points on, logistic regression ... is ahead at every size." """
    g = studies.gen_vs_disc(experiment.GEN_SIZES, seed=0)
    few = torch.tensor(g.sizes) <= 16
    gap = g.generative - g.logistic
    assert torch.all(gap[few].abs() <= 0.015) and torch.any(gap[few] > 0)
    assert torch.all(gap[~few] < 0)


def test_least_squares_notice():
    """notice.least_squares: "With {far} far-away points of class 1, least squares classifies {ls} of the two
    clusters right and logistic regression {log}. ... points far on the right side pull its line into class 1" """
    far = studies.least_squares_demo(experiment.settings()["far"], 0)
    none = studies.least_squares_demo(0, 0)
    assert far.acc_ls < none.acc_ls - 0.02 and far.acc_log >= none.acc_log - 0.01
    assert far.acc_ls < far.acc_log


def test_regularised_notice_for_points_on_a_line():
    """notice.regularised: "A covariance was singular (too few points, or points on one line): the Gaussian
    classifier added {ridge} × its mean variance to the diagonal" """
    text = "0, 0, 0\n1, 1, 0\n2, 2, 0\n0, 1, 1\n1, 2, 1\n2, 3, 1"
    _, _, _, r = experiment.playground(experiment.settings() | {"dataset": "own", "points": text}, 0)
    assert r.regularised
    _, _, _, r = experiment.playground(experiment.settings() | {"dataset": "own"}, 0)
    assert not r.regularised


def test_diverged_notice():
    """notice.diverged: "Gradient descent diverged at learning rate {lr}: the loss grew without bound." (λ = 1 and
    learning rate 10: the weight decay step 1 − 2·lr·λ = −19 flips and grows the weights every step)."""
    _, _, models, _ = _play(None, lam=1.0, lr=10.0)
    assert experiment.diverged(models)
    _, _, models, _ = _play(None)
    assert not experiment.diverged(models)
