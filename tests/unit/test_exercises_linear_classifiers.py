"""The linear-classifiers exercises: answers computed by dlcore equal independent references."""

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from dlcore.linear_classifiers import playground, studies
from ui.exercises import for_lesson
from ui.experiments import linear_classifiers as experiment

ANSWERS = {ex.name: ex for ex in for_lesson("linear_classifiers")}


def test_worked_svm_answer_is_torch_multi_margin_loss_times_classes():
    v = experiment.settings("worked")
    s = torch.tensor([experiment.scores(v)])
    ref = 3 * torch.nn.MultiMarginLoss(margin=v["delta"])(s, torch.tensor([v["label"]]))
    assert ANSWERS["worked_svm"].answer() == "2.9" and abs(float(ref) - 2.9) < 1e-6


def test_confident_answer_by_hand():
    v = experiment.settings("confident")
    assert v["s0"] - max(v["s1"], v["s2"]) > v["delta"]        # every hinge term is 0
    assert ANSWERS["confident"].answer() == "svm"


def test_circles_answer_agrees_with_scikit_learn():
    v = experiment.settings("circles")
    x, y = playground.make_dataset(v["dataset"], v["n"], v["noise"], 0)
    lin = LogisticRegression().fit(x.numpy(), y.numpy()).score(x.numpy(), y.numpy())
    knn = KNeighborsClassifier(v["k"]).fit(x.numpy(), y.numpy()).score(x.numpy(), y.numpy())
    assert lin < 0.7 < 0.95 < knn
    assert ANSWERS["circles"].answer() == "softmax"


def test_train_k1_answer_is_scikit_learns_training_accuracy():
    x_tr, y_tr, _, _ = studies.digits_flat()
    ref = KNeighborsClassifier(1).fit(x_tr.numpy(), y_tr.numpy()).score(x_tr.numpy(), y_tr.numpy())
    assert np.isclose(100 * ref, float(ANSWERS["train_k1"].answer())) and ANSWERS["train_k1"].answer() == "100"


def test_shared_answer_agrees_with_scikit_learns_lda():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    v = experiment.settings("shared")
    x, y = playground.make_dataset(v["dataset"], v["n"], v["noise"], 0)
    acc = LinearDiscriminantAnalysis().fit(x.numpy(), y.numpy()).score(x.numpy(), y.numpy())
    assert abs(acc - 0.5) < 0.1 and ANSWERS["shared"].answer() == "50"
