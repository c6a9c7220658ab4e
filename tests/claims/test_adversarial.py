"""Claim tests of the adversarial lesson: every sentence a learner reads about what the lab shows, run through dlcore.

Texts: assets/lessons/<lang>/adversarial.md (the concept) and assets/i18n/<lang>/adversarial.toml (preset notes
``presets.*.note``, notices ``notice.*``, help texts, figure captions). Each test runs the exact preset or default
from ``ui.experiments.adversarial``; attacks with a random start are checked at several global seeds.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore import adversarial as adv
from dlcore import classifiers as clf
from dlcore.data import digits
from tests.support import colour_name
from ui.experiments import adversarial as experiment
from ui.figures import adversarial as figs

ROOT = Path(__file__).resolve().parents[2]
SEEDS = range(5)   # the sidebar's global seed: the default 0 and four more


@functools.cache
def _attack(preset: str | None, seed: int, **changes: object) -> adv.AttackResult:
    """The attack tab's result for preset ``preset`` (None: the defaults) with ``changes`` on top."""
    return experiment.attack({**(experiment.PRESETS[preset] if preset else {}), **changes}, seed)


@functools.cache
def _curves(norm: str) -> adv.RobustnessCurves:
    """The robustness-curves tab (the page calls the same function with the same models and data)."""
    x, y = digits("test")
    models = {"standard": clf.load_digits_cnn(False), "robust": clf.load_digits_cnn(True)}
    return adv.robustness_curves(models, x, y, norm)


def _acc(norm: str, key: str, eps: float) -> float:
    c = _curves(norm)
    return float(c.accuracy[key][int(np.flatnonzero(np.isclose(c.eps, eps))[0])])


# ---------------------------------------------------------------------------------------------
# Concept text (assets/lessons/<lang>/adversarial.md)

def test_targeted_loss_is_the_true_logit_minus_the_target_logit():
    """adversarial.md: "−e(y,ŷ) + e(y, y^target) = z_ŷ − z_target: the true class's logit minus the target's"."""
    g = torch.Generator().manual_seed(0)
    z = 5 * torch.randn(64, 10, generator=g, dtype=torch.float64)
    y_hat = torch.randint(0, 10, (64,), generator=g)
    target = (y_hat + 1 + torch.randint(0, 9, (64,), generator=g)) % 10
    e = lambda k: F.cross_entropy(z, k, reduction="none")   # noqa: E731  (the lecture's e(y, k))
    lecture = -e(y_hat) + e(target)
    torch.testing.assert_close(lecture, z.gather(1, y_hat[:, None])[:, 0] - z.gather(1, target[:, None])[:, 0])
    # the attack maximises attack_loss, i.e. minimises the lecture's L(x)
    torch.testing.assert_close(adv.attack_loss(z, y_hat, target), -lecture.sum())


def test_minimising_the_targeted_loss_lowers_the_true_logit_and_raises_the_target_one_however_confident():
    """adversarial.md: "Minimising it pushes the true logit down and the target logit up. The log-sum-exp parts
    cancel, so the gradient never vanishes however confident the model is." """
    for confidence in (1.0, 30.0):   # the true class's logit ahead of the rest by this much
        z = torch.zeros(1, 10, dtype=torch.float64)
        z[0, 1] = confidence
        z.requires_grad_(True)
        lecture = -F.cross_entropy(z, torch.tensor([1])) + F.cross_entropy(z, torch.tensor([3]))
        (grad,) = torch.autograd.grad(lecture, z)
        step = -grad[0]                                      # gradient descent on the lecture's L
        assert step[1] < 0 < step[3] and step.abs().sum() == pytest.approx(2.0)


def test_a_targeted_attack_can_end_in_a_third_class():
    """adversarial.md: "it compares only the true class and the target, so the image can end up as a third class"."""
    x, y = digits("test")
    keep = y != 3
    model = clf.load_digits_cnn(False)
    cfg = experiment.attack_config(experiment.PRESETS["make_it_3"], 0)
    x_adv = adv.pgd(model, x[keep], y[keep], cfg.eps, cfg.alpha, cfg.steps, cfg.norm, True,
                    torch.full((int(keep.sum()),), 3), seed=0)
    with torch.inference_mode():
        pred = model(x_adv).argmax(1)
    assert int(((pred != 3) & (pred != y[keep])).sum()) > 0


def test_an_attack_with_eps_zero_returns_the_original_images_and_the_clean_accuracy():
    """adversarial.md: "With ε = 0 an attack must return the original images and the accuracy must be the clean
    accuracy"."""
    x, y = digits("test")
    model = clf.load_digits_cnn(False)
    for norm in adv.NORMS:
        assert torch.equal(adv.fgsm(model, x, y, 0.0, norm=norm), x)
        assert torch.equal(adv.pgd(model, x, y, 0.0, 0.01, 5, norm, random_start=True, seed=0), x)
    with torch.inference_mode():
        clean = float((model(x).argmax(1) == y).float().mean())
    assert all(adv.adversarial_accuracy(model, x, y, m, 0.0) == clean for m in ("fgsm", "pgd"))


def test_l2_cannot_tell_many_small_changes_from_one_large_one_but_linf_can():
    """adversarial.md: "Changing every pixel a little and changing one pixel a lot can have the same L2 length ...;
    L∞ tells them apart"."""
    spread = torch.full((1, 1, 8, 8), 1 / 8)         # every pixel by 0.125
    one = torch.zeros(1, 1, 8, 8)
    one[0, 0, 3, 3] = 1.0                             # one pixel from paper to ink
    (linf_a, l2_a), (linf_b, l2_b) = adv.perturbation_norms(spread), adv.perturbation_norms(one)
    assert float(l2_a) == pytest.approx(float(l2_b)) and float(linf_a) == 0.125 and float(linf_b) == 1.0


def test_fgsm_moves_every_pixel_by_eps_along_the_gradient_sign():
    """help.method: "FGSM: one step of size ε along the gradient sign"; adversarial.md: the FGSM formula."""
    x, y = digits("test")
    model = clf.load_digits_cnn(False)
    x_adv = adv.fgsm(model, x[:32], y[:32], 0.05)
    sign = adv.input_gradient(model, x[:32], y[:32]).sign()
    torch.testing.assert_close(x_adv, (x[:32] + 0.05 * sign).clamp(0, 1))
    inside = (x[:32] > 0.05) & (x[:32] < 0.95) & (sign != 0)
    torch.testing.assert_close((x_adv - x[:32]).abs()[inside], torch.full((int(inside.sum()),), 0.05))


def test_the_linf_ball_is_a_square_and_the_l2_ball_a_disc():
    """adversarial.md: "In 2D the L∞ ball is a square and the L2 ball a disc"; geo.linf "L∞ ball (square)",
    geo.l2 "L2 ball (disc)"."""
    c, eps = np.array([0.5, 0.5]), 0.1
    square, disc = adv.ball_outline(tuple(c), eps, "linf"), adv.ball_outline(tuple(c), eps, "l2")
    np.testing.assert_allclose(np.abs(square - c).max(1), eps)
    assert len(square) == 5                                      # four corners, closed
    np.testing.assert_allclose(np.linalg.norm(disc - c, axis=1), eps)


def test_the_robust_twin_was_adversarially_trained_with_pgd_at_eps_0_2():
    """adversarial.md: "The robust twin here was trained that way at ε = 0.2"; help.model: "Robust: trained on PGD
    adversarial examples (ε = 0.2, L∞)"."""
    record = json.loads((ROOT / "assets/models/adversarial/training.json").read_text())
    assert record["robust"]["config"]["adv_eps"] == 0.2 and record["standard"]["config"]["adv_eps"] == 0.0


@pytest.mark.slow
def test_the_robust_model_resists_far_better_and_pays_a_little_clean_accuracy():
    """adversarial.md: "It resists attacks far better, and pays with a little clean accuracy: the robustness curves
    show both"; notice.curves: "robustness costs a little clean test accuracy"; notice.overall: "training on them
    makes the model much harder to fool"."""
    s0, r0 = _acc("linf", "standard/pgd", 0.0), _acc("linf", "robust/pgd", 0.0)
    assert 0 < s0 - r0 < 0.05
    for eps in (0.1, 0.15, 0.2):
        assert _acc("linf", "robust/pgd", eps) > _acc("linf", "standard/pgd", eps) + 0.25


@pytest.mark.slow
@pytest.mark.parametrize("norm", adv.NORMS)
def test_pgd_is_never_above_fgsm_and_finds_flips_that_fgsm_misses(norm):
    """presets.fgsm_vs_pgd.note: "The robustness curves show PGD never above FGSM, at any ε"; adversarial.md: FGSM
    "assumes the loss is linear inside the ball. It is not, so one step often misses"; notice.overall: "Iterating
    (PGD) finds such changes where one step (FGSM) misses"."""
    c = _curves(norm)
    for model in ("standard", "robust"):
        pgd, fgsm = c.accuracy[f"{model}/pgd"], c.accuracy[f"{model}/fgsm"]
        assert (pgd <= fgsm).all()
        assert (fgsm - pgd).max() > 0.05


# ---------------------------------------------------------------------------------------------
# Help texts, captions and labels (assets/i18n/<lang>/adversarial.toml)

def test_there_are_360_test_digits_and_the_curves_use_10_budgets_and_pgd_20():
    """help.index: "One of the 360 test digits"; curves_spinner: "Attacking all 360 test digits at 10 budgets with
    FGSM and PGD-20"; curve labels "PGD-20"."""
    x, _ = digits("test")
    assert len(x) == experiment.N_TEST == 360
    assert all(len(grid) == 10 for grid in adv.CURVE_EPS.values()) and adv.CURVE_STEPS == 20


def test_every_preset_takes_enough_steps_to_reach_the_edge_of_the_ball():
    """help.alpha: "α × steps should exceed ε so the attack can reach the edge of the ball" (the presets follow it)."""
    for name, values in {"default": {}, **experiment.PRESETS}.items():
        if name in experiment.GEOMETRY_PRESETS:
            continue
        cfg = experiment.attack_config(values, 0)
        assert cfg.method == "fgsm" or cfg.alpha * cfg.steps > cfg.eps, name


@pytest.mark.parametrize("norm", adv.NORMS)
def test_the_perturbation_stays_inside_the_budget(norm):
    """help.linf: "The largest change of a single pixel: at most ε for an L∞ attack"; help.l2: "at most ε for an L2
    attack"; help.eps: "How far the adversarial image may be from the original, measured in the chosen norm"."""
    for seed in SEEDS:
        r = _attack("l2_ball" if norm == "l2" else None, seed)
        size, eps = (r.l2, experiment.PRESETS["l2_ball"]["eps_l2"]) if norm == "l2" else (r.linf, 0.1)
        assert size <= eps + 1e-5 and ((r.x_adv >= 0) & (r.x_adv <= 1)).all()


def test_probability_caption_names_the_colours_the_figure_draws():
    """fig.probs: "Class probabilities (blue band: true class, green band: target)"; presets.make_it_3.note: "watch the
    orange bar of class 3, in the green band, grow"."""
    r = _attack("make_it_3", 0)
    spec = figs.attack_figure(r.path_images, r.path_probs, label=r.label, target=3,
                              labels={k: k for k in figs.ATTACK_LABELS}).to_dict()
    bands = {round((s["x0"] + s["x1"]) / 2): colour_name(s["fillcolor"]) for s in spec["layout"]["shapes"]}
    assert bands == {r.label: "blue", 3: "green"}
    bars = {tr["name"]: colour_name(tr["marker"]["color"]) for tr in spec["data"] if tr["type"] == "bar"}
    assert bars == {"before": "grey", "after": "orange"}


def test_projection_segments_are_orange_and_the_moons_sit_as_named():
    """notice.geometry and presets.projection.note: "the dashed orange segments"; geo.class0 "Class 0 (upper moon)",
    geo.class1 "Class 1 (lower moon)"."""
    model = clf.load_moons_mlp()
    _, path = experiment.geometry(model, experiment.PRESETS["projection"], 0)
    grid = adv.decision_grid(model, 11)
    pts, lab = clf.moons_unit(240, noise=0.1, seed=0)
    names = {k: k for k in (*figs.GEOMETRY_LABELS, *figs.PLAYER_LABELS)}
    balls = {n: adv.ball_outline((0.62, 0.5), 0.1, n) for n in adv.NORMS}
    spec = figs.geometry_figure(grid.xs, grid.prob, pts.numpy(), lab.numpy(), (0.62, 0.5), 0.1, "l2", path.start,
                                path.stepped, path.projected, balls, labels=names).to_dict()
    proj = next(tr for tr in spec["data"] if tr.get("name") == "projection")
    assert proj["line"]["dash"] == "dash" and colour_name(proj["line"]["color"]) == "orange"
    assert float(pts[lab == 0, 1].mean()) > float(pts[lab == 1, 1].mean())


# ---------------------------------------------------------------------------------------------
# The presets (presets.*.note) and the default

@pytest.mark.parametrize("seed", SEEDS)
def test_default_pgd_flips_the_digit_with_a_small_change(seed):
    """notice.attack: "Compare the perturbation's size with the pixel range 0–1: the change is small, the effect is
    not" (the default: PGD, L∞, ε = 0.1, test digit 33)."""
    r = _attack(None, seed)
    assert r.pred == r.label == 1 and r.success and r.linf <= 0.1 + 1e-6


@pytest.mark.slow
def test_small_eps_preset_turns_this_4_into_a_9_and_flips_one_digit_in_ten():
    """presets.small_eps.note: "FGSM with ε = 0.05 changes no pixel by more than 5 % of its range, yet this 4 becomes
    a 9. On the whole test set it flips about one digit in ten ...; at ε = 0.1 PGD flips four in ten";
    notice.overall: "a change of a few percent per pixel can carry the image across the decision boundary"."""
    r = _attack("small_eps", 0)                      # FGSM: no randomness
    assert (r.label, r.pred, r.pred_adv) == (4, 4, 9) and r.linf <= 0.05 + 1e-6
    clean = _acc("linf", "standard/fgsm", 0.0)
    assert 0.07 < clean - _acc("linf", "standard/fgsm", 0.05) < 0.13
    assert 0.35 < clean - _acc("linf", "standard/pgd", 0.1) < 0.45


@pytest.mark.parametrize("seed", SEEDS)
def test_fgsm_leaves_this_1_a_1_and_pgd_turns_it_into_an_8(seed):
    """presets.fgsm_vs_pgd.note: "One FGSM step of ε = 0.1 leaves this 1 a 1. Switch the attack to PGD with the same
    ε: twenty small steps, each projected back into the ball, turn it into an 8"."""
    fgsm, pgd = _attack("fgsm_vs_pgd", seed), _attack("fgsm_vs_pgd", seed, method="pgd")
    assert (fgsm.label, fgsm.pred_adv) == (1, 1)
    assert pgd.pred_adv == 8 and len(pgd.path_images) == 21


@pytest.mark.parametrize("seed", SEEDS)
def test_make_it_3_succeeds_at_0_15_where_eps_0_1_only_flips_it_to_another_class(seed):
    """presets.make_it_3.note: "watch the orange bar of class 3 ... grow. It needs a larger ε than the untargeted
    attack: at ε = 0.1, which is enough to turn this 1 into an 8, it cannot make it a 3"."""
    r = _attack("make_it_3", seed)
    assert r.success and r.pred_adv == 3
    assert r.path_probs[0, 3] < 0.01 < 0.9 < r.path_probs[-1, 3]
    assert not _attack("make_it_3", seed, eps=0.1).success
    assert _attack("make_it_3", seed, eps=0.1, targeted=False).pred_adv == 8


@pytest.mark.parametrize("seed", SEEDS)
def test_robust_model_keeps_this_1_while_the_perturbation_uses_the_whole_budget(seed):
    """presets.robust.note: "the perturbation uses the whole budget, yet the 1 stays a 1"."""
    r = _attack("robust", seed)
    assert r.pred_adv == r.label == 1 and r.linf == pytest.approx(0.1, abs=1e-6)


@pytest.mark.slow
def test_robust_model_loses_more_and_more_digits_as_eps_grows_towards_0_2():
    """presets.robust.note: "Raise ε towards 0.2, the radius it was trained at, and more and more digits fall"."""
    acc = [_acc("linf", "robust/pgd", e) for e in (0.1, 0.125, 0.15, 0.2)]
    assert all(a > b for a, b in zip(acc, acc[1:])) and acc[0] - acc[-1] > 0.2


@pytest.mark.parametrize("seed", SEEDS)
def test_l2_budget_concentrates_the_change_and_fools_the_robust_model_too(seed):
    """presets.l2_ball.note: "An L2 budget of 1.5 can change two pixels completely or all 64 pixels by about 0.19
    each. Compare ‖δ‖∞ with the L∞ attack's 0.1: here the largest pixel change is five times that or more, and half
    of the change (in squared length) sits on at most eight pixels, most of them on or beside the stroke. Switch to
    the adversarially trained model: trained against L∞ attacks, it is fooled by this L2 attack too." """
    eps = experiment.PRESETS["l2_ball"]["eps_l2"]
    assert math.sqrt(2) <= eps < math.sqrt(3) and round(eps / 8, 2) == 0.19
    r, linf_attack = _attack("l2_ball", seed), _attack(None, seed)
    assert r.success and linf_attack.linf == pytest.approx(0.1, abs=1e-6)
    assert r.linf >= 5 * linf_attack.linf
    share = np.sort(r.delta.ravel() ** 2)[::-1].cumsum() / (r.delta**2).sum()
    half = int(np.searchsorted(share, 0.5)) + 1            # the fewest pixels that carry half of ‖δ‖₂²
    assert half <= 8
    ink = np.pad(r.x > 0.5, 1)
    near_stroke = np.array([[ink[i:i + 3, j:j + 3].any() for j in range(8)] for i in range(8)])   # on it or beside it
    top = np.argsort(r.delta.ravel() ** 2)[::-1][:half]
    assert near_stroke.ravel()[top].mean() > 0.5
    assert _attack("l2_ball", seed, model="robust").success


def test_projection_preset_overshoots_after_the_first_step_and_pulls_back_to_the_centre():
    """presets.projection.note: "With a step α almost as large as ε, every step after the first overshoots the disc
    and the projection pulls it back onto the circle: the dashed orange segments point to the centre"."""
    values = experiment.PRESETS["projection"]
    _, path = experiment.geometry(clf.load_moons_mlp(), values, 0)   # no random start: the seed plays no part
    centre, eps = np.array([values["geo_x"], values["geo_y"]]), values["geo_eps"]
    assert 0.75 * eps < values["geo_alpha"] < eps
    assert path.moved[0] < 1e-6 and (path.moved[1:] > 1e-3).all()
    np.testing.assert_allclose(np.linalg.norm(path.projected[1:] - centre, axis=1), eps, rtol=1e-4)
    out, back = path.stepped[1:] - centre, path.projected[1:] - path.stepped[1:]
    cos = (out * back).sum(1) / np.linalg.norm(out, axis=1) / np.linalg.norm(back, axis=1)
    np.testing.assert_allclose(cos, -1.0, atol=1e-4)
