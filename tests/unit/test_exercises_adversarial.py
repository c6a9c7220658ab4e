"""The adversarial lesson's exercises: each answer, computed by dlcore on its preset, checked against attacks
written here with torch autograd (FGSM, PGD without a random start, the 2D L2 PGD) on the lesson's models, or the
measurement the lesson's claim test makes; and the same for every sidebar seed 0-4."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dlcore import classifiers as clf
from dlcore.data import digits
from ui.exercises import by_id, for_lesson
from ui.experiments import adversarial as experiment

SEEDS = range(5)


def _grad(model: torch.nn.Module, x: torch.Tensor, loss) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss(model(x)), x)
    return g


def _predict(model: torch.nn.Module, x: torch.Tensor) -> int:
    with torch.no_grad():
        return int(model(x).argmax(1))


def _fgsm(model, x0, label, eps) -> int:
    g = _grad(model, x0, lambda z: F.cross_entropy(z, torch.tensor([label])))
    return _predict(model, (x0 + eps * g.sign()).clamp(0, 1))


def _pgd(model, x0, label, eps, alpha, steps, target=None) -> int:
    """L∞ PGD from x0 itself: ascend e(f(x), y) (minus e(f(x), target) for a targeted attack), clip to the ball and
    to [0, 1]."""
    y = torch.tensor([label])
    loss = (lambda z: F.cross_entropy(z, y)) if target is None else (
        lambda z: F.cross_entropy(z, y) - F.cross_entropy(z, torch.tensor([target])))
    x = x0.clone()
    for _ in range(steps):
        x = (x0 + (x + alpha * _grad(model, x, loss).sign() - x0).clamp(-eps, eps)).clamp(0, 1)
    return _predict(model, x)


def _digit(preset: str) -> tuple[torch.Tensor, int, dict]:
    v = {**experiment.DEFAULTS, **experiment.PRESETS[preset]}
    x, y = digits("test")
    return x[v["index"]:v["index"] + 1], int(y[v["index"]]), v


def test_the_guided_path_runs_from_one_step_to_the_geometry():
    assert [ex.name for ex in for_lesson("adversarial")] == ["small_eps", "fgsm_vs_pgd", "make_it_3", "robust",
                                                            "projection"]


def test_small_eps_one_fgsm_step_turns_this_4_into_a_9():
    x, label, v = _digit("small_eps")
    assert v["method"] == "fgsm" and (label, _fgsm(clf.load_digits_cnn(False), x, label, v["eps"])) == (4, 9)
    assert {by_id("adversarial.small_eps").answer(seed) for seed in SEEDS} == {"yes"}


@pytest.mark.parametrize("seed", SEEDS)
def test_fgsm_vs_pgd_only_pgd_flips_this_1(seed):
    """Here: FGSM leaves the 1 a 1, PGD from the digit itself makes it an 8. The claim test's measurement (with
    the lab's random start, test_fgsm_leaves_this_1_a_1_and_pgd_turns_it_into_an_8) at every seed."""
    x, label, v = _digit("fgsm_vs_pgd")
    model = clf.load_digits_cnn(False)
    assert label == 1 and _fgsm(model, x, label, v["eps"]) == 1
    assert _pgd(model, x, label, v["eps"], v["alpha"], v["steps"]) == 8
    fgsm = experiment.attack(experiment.PRESETS["fgsm_vs_pgd"], seed)
    pgd = experiment.attack({**experiment.PRESETS["fgsm_vs_pgd"], "method": "pgd"}, seed)
    assert (fgsm.pred_adv, pgd.pred_adv) == (1, 8)
    assert by_id("adversarial.fgsm_vs_pgd").answer(seed) == "pgd"


@pytest.mark.parametrize("seed", SEEDS)
def test_make_it_3_needs_the_larger_budget(seed):
    """Here: the targeted PGD makes the 1 a 3 at ε = 0.15, not at 0.1. The claim test's measurement
    (test_make_it_3_succeeds_at_0_15_where_eps_0_1_only_flips_it_to_another_class) at every seed."""
    x, label, v = _digit("make_it_3")
    model = clf.load_digits_cnn(False)
    assert v["targeted"] and v["eps"] == 0.15 and experiment.DEFAULTS["eps"] == 0.1
    assert _pgd(model, x, label, 0.15, v["alpha"], v["steps"], target=v["target"]) == 3
    assert _pgd(model, x, label, 0.1, v["alpha"], v["steps"], target=v["target"]) != 3
    assert experiment.attack(experiment.PRESETS["make_it_3"], seed).pred_adv == 3
    assert not experiment.attack({**experiment.PRESETS["make_it_3"], "eps": 0.1}, seed).success
    assert by_id("adversarial.make_it_3").answer(seed) == "larger"


@pytest.mark.parametrize("seed", SEEDS)
def test_robust_the_adversarially_trained_model_keeps_this_1(seed):
    """Here: PGD from the digit itself leaves the robust model's 1 a 1; the lab's attack (random start) too, using
    the whole budget (the claim test's measurement)."""
    x, label, v = _digit("robust")
    assert _pgd(clf.load_digits_cnn(True), x, label, v["eps"], v["alpha"], v["steps"]) == label == 1
    r = experiment.attack(experiment.PRESETS["robust"], seed)
    assert r.pred_adv == 1 and abs(r.linf - v["eps"]) < 1e-6
    assert by_id("adversarial.robust").answer(seed) == "no"


def test_projection_every_step_after_the_first_is_pulled_back():
    """2D L2 PGD written here: a step of α along the gradient, then back onto the disc if it left it."""
    v = {**experiment.DEFAULTS, **experiment.PRESETS["projection"]}
    assert v["geo_norm"] == "l2" and not v["geo_random"]
    model = clf.load_moons_mlp()
    centre, eps, alpha = torch.tensor([[v["geo_x"], v["geo_y"]]]), v["geo_eps"], v["geo_alpha"]
    label = torch.tensor([_predict(model, centre)])
    x, pulled = centre.clone(), 0
    for _ in range(v["geo_steps"]):
        g = _grad(model, x, lambda z: F.cross_entropy(z, label))
        stepped = x + alpha * g / g.norm()
        out = stepped - centre
        pulled += int(out.norm() > eps)
        x = centre + out * min(1.0, eps / float(out.norm()))
    assert pulled == v["geo_steps"] - 1 == 9
    assert {by_id("adversarial.projection").answer(seed) for seed in SEEDS} == {str(pulled)}


def test_the_answers_are_the_same_for_every_seed():
    for ex in for_lesson("adversarial"):
        assert len({ex.answer(seed) for seed in SEEDS}) == 1, ex.id
