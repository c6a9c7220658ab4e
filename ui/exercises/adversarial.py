"""Exercises of the adversarial lesson: each answer is computed by dlcore.adversarial on the preset it names,
through the lesson's experiment module (``ui.experiments.adversarial.attack`` / ``geometry``, what the attack and
geometry tabs run).

dlcore, and the experiment module that imports it, are imported inside the solvers: the course map counts
exercises before torch has loaded."""

from __future__ import annotations

from ui.exercises import Exercise


def _attack(preset: str, seed: int, **changes: object):
    """The attack tab's result (``dlcore.adversarial.AttackResult``) for ``preset`` with ``changes`` on top."""
    from ui.experiments import adversarial as experiment

    return experiment.attack({**experiment.PRESETS[preset], **changes}, seed)


def _flips(preset: str, seed: int) -> str:
    """Whether the attack of ``preset`` changes the model's prediction of the digit."""
    r = _attack(preset, seed)
    return "yes" if r.pred_adv != r.pred else "no"


def _which_attack_flips(seed: int) -> str:
    """Which of the preset's FGSM and the same-budget PGD changes the prediction of this digit."""
    flips = {method: _attack("fgsm_vs_pgd", seed, method=method).success for method in ("fgsm", "pgd")}
    return {(True, True): "both", (True, False): "fgsm", (False, True): "pgd", (False, False): "neither"}[
        (flips["fgsm"], flips["pgd"])]


def _target_reached(seed: int) -> str:
    """At which budgets the targeted attack makes the digit a 3: the preset's ε, and the untargeted attack's ε."""
    from ui.experiments import adversarial as experiment

    small = float(experiment.DEFAULTS["eps"])   # the untargeted attack's budget, 0.1
    hits = {eps: _attack("make_it_3", seed, eps=eps).success
            for eps in (small, float(experiment.PRESETS["make_it_3"]["eps"]))}
    ok_small, ok_large = hits.values()
    return {(True, True): "both", (False, True): "larger", (True, False): "smaller", (False, False): "neither"}[
        (ok_small, ok_large)]


def _projected_steps(seed: int) -> int:
    """How many steps of the 2D PGD run the projection pulls back onto the ball."""
    from dlcore import classifiers as clf
    from ui.experiments import adversarial as experiment

    _, path = experiment.geometry(clf.load_moons_mlp(), experiment.PRESETS["projection"], seed)
    return int((path.moved > 1e-6).sum())


EXERCISES = (
    Exercise("adversarial", "small_eps", "small_eps", lambda seed: _flips("small_eps", seed), options=("yes", "no")),
    Exercise("adversarial", "fgsm_vs_pgd", "fgsm_vs_pgd", _which_attack_flips,
             options=("fgsm", "pgd", "both", "neither")),
    Exercise("adversarial", "make_it_3", "make_it_3", _target_reached, options=("both", "larger", "neither")),
    Exercise("adversarial", "robust", "robust", lambda seed: _flips("robust", seed), options=("yes", "no")),
    Exercise("adversarial", "projection", "projection", _projected_steps),
)
