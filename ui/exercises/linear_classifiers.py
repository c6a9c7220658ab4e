"""Exercises of the linear-classifiers lesson: each answer is computed by dlcore.linear_classifiers on the preset
it names.

dlcore is imported inside the solvers: the course map counts exercises before torch has loaded."""

from __future__ import annotations

from ui.exercises import Exercise
from ui.experiments import linear_classifiers as experiment


def _svm_loss(preset: str) -> float:
    from dlcore.linear_classifiers import losses

    v = experiment.settings(preset)
    return losses.point_loss(experiment.scores(v), v["label"], v["delta"]).svm


def _zero_loss(preset: str) -> str:
    """Which of the two losses is exactly zero for the preset's scores."""
    from dlcore.linear_classifiers import losses

    v = experiment.settings(preset)
    p = losses.point_loss(experiment.scores(v), v["label"], v["delta"])
    zero = (p.svm == 0.0, p.softmax == 0.0)
    return {(True, True): "both", (True, False): "svm", (False, True): "softmax"}.get(zero, "neither")


def _worst(preset: str, seed: int) -> str:
    """The classifier (of k-NN, softmax, Gaussian) with the lowest accuracy on the preset's points."""
    _, _, _, r = experiment.playground(experiment.settings(preset), seed)
    return min(("knn", "softmax", "gaussian"), key=lambda name: r.train_acc[name])


def _shared_gaussian(preset: str, seed: int) -> str:
    """The Gaussian classifier's accuracy on the preset's points, as the nearest of 50, 75 and 100 percent."""
    _, _, _, r = experiment.playground(experiment.settings(preset), seed)
    return min(("50", "75", "100"), key=lambda o: abs(float(o) - 100 * r.train_acc["gaussian"]))


def _train_acc_k1(preset: str, seed: int) -> float:
    """Training accuracy (percent) of 1-NN on the digits' training images."""
    from dlcore.linear_classifiers import studies

    v = experiment.settings(preset)
    return 100 * float(studies.choosing_k((1,), v["folds"], v["cv_metric"], seed).train_acc[0])


EXERCISES = (
    Exercise("linear_classifiers", "worked_svm", "worked", lambda seed: _svm_loss("worked"), tolerance=0.01),
    Exercise("linear_classifiers", "confident", "confident", lambda seed: _zero_loss("confident"),
             options=("svm", "softmax", "both", "neither")),
    Exercise("linear_classifiers", "circles", "circles", lambda seed: _worst("circles", seed),
             options=("knn", "softmax", "gaussian")),
    Exercise("linear_classifiers", "shared", "shared", lambda seed: _shared_gaussian("shared", seed),
             options=("50", "75", "100")),
    Exercise("linear_classifiers", "train_k1", "honest_k", lambda seed: _train_acc_k1("honest_k", seed),
             tolerance=0.005),
)
