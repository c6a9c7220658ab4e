"""Exercises of the generalization lesson: each answer is computed by dlcore.generalization on the preset it names.

dlcore is imported inside the solvers (through ui.experiments): the course map counts exercises before torch loads."""

from __future__ import annotations

from ui.exercises import Exercise
from ui.experiments import generalization as experiment


def _best_degree(seed: int) -> int:
    """The degree with the lowest validation error on the preset's data."""
    return int(experiment.fit(experiment.settings("overfit"), seed)["best"])


def _bigger_part(seed: int) -> str:
    """Which is larger at the preset, averaged over x: bias² or variance."""
    r = experiment.bias_variance(experiment.settings("variance"), seed)
    return "bias2" if r["bias2"] > r["variance"] else "variance"


def _lasso_zeros(seed: int) -> int:
    """How many coefficients of the degree-9 lasso fit are exactly zero at the preset's λ."""
    return int(experiment.paths(experiment.settings("lasso"), seed)["zeros_at"])


def _farthest_slope(seed: int) -> str:
    """The loss whose fitted slope lies farthest from the true slope."""
    errors = experiment.slope_errors(experiment.settings("outliers"), seed)
    return max(errors, key=errors.get)


def _underfit_diagnosis(seed: int) -> str:
    """Hung-yi Lee's diagnosis at the preset."""
    return str(experiment.fit(experiment.settings("underfit"), seed)["diagnosis"])


EXERCISES = (
    Exercise("generalization", "diagnose", "underfit", _underfit_diagnosis, options=("high_train", "overfit", "fine")),
    Exercise("generalization", "best_degree", "overfit", _best_degree, tolerance=0.0),
    Exercise("generalization", "bigger_part", "variance", _bigger_part, options=("bias2", "variance")),
    Exercise("generalization", "lasso_zeros", "lasso", _lasso_zeros, tolerance=0.0),
    Exercise("generalization", "outlier_slope", "outliers", _farthest_slope, options=("l2", "l1", "huber")),
)
