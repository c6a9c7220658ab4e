"""The activations lesson's exercises: every answer dlcore computes, checked against the hand-derived factor and a deep
net built here from torch.nn (its own random draws, so the answer must not hinge on dlcore's), and the training
answer against the claim test's measurement; each answer is the same for the sidebar seeds 0-4."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore import deep_training as dt
from ui.exercises import for_lesson
from ui.exercises.activations import FACTORS
from ui.experiments import activations as experiment

S = "activations"
SEEDS = range(5)
EXERCISES = {ex.name: ex for ex in for_lesson(S)}
ACTIVATIONS = {"tanh": torch.tanh, "relu": F.relu}


def torch_net(preset: str, seed: int) -> tuple[float, float]:
    """The preset's deep net in plain torch: (the spread's factor per layer from the standard-normal input,
    ‖∂L/∂z_1‖ ÷ ‖∂L/∂z_L‖ for L = mean over the batch of u_b · a_L)."""
    v = experiment.values(preset)
    n, depth, batch = v["width"], v["depth"], v["batch"]
    torch.manual_seed(1000 + seed)
    a = torch.randn(batch, n, requires_grad=True)   # so that every z_l is in the graph
    zs = []
    for _ in range(depth):
        w = torch.empty(n, n)
        if v["init"] == "normal":
            torch.nn.init.normal_(w, 0.0, v["scale"])
        elif v["init"] == "xavier_normal":
            torch.nn.init.xavier_normal_(w)
        else:
            raise AssertionError(v["init"])
        z = a @ w.T
        if v["bn"]:
            z = F.batch_norm(z, None, None, training=True)           # batch statistics, no affine
        z.retain_grad()
        zs.append(z)
        a = ACTIVATIONS[v["activation"]](z)
    (a * torch.randn(batch, n)).sum(dim=1).mean().backward()
    spread = float(a.detach().double().std()) ** (1 / depth)
    return spread, float(zs[0].grad.norm() / zs[-1].grad.norm())


@pytest.mark.parametrize("seed", SEEDS)
def test_collapse_factor_is_sqrt_n_times_sigma_and_what_torch_measures(seed):
    v = experiment.values("collapse")
    hand = math.sqrt(v["width"]) * v["scale"]                          # √256 · 0.01 = 0.16
    ex = EXERCISES["collapse"]
    assert float(ex.answer(seed)) == pytest.approx(hand) == pytest.approx(0.16)
    spread, _ = torch_net("collapse", seed)
    assert spread == pytest.approx(hand, abs=0.005)
    assert ex.grade(f"{spread:.3f}", seed).correct and not ex.grade("0.5", seed).correct


@pytest.mark.parametrize("seed", SEEDS)
def test_missing_two_factor_is_one_over_root_two_as_torch_measures(seed):
    ex = EXERCISES["missing_two"]
    assert ex.options == tuple(FACTORS) and FACTORS[ex.answer(seed)] == pytest.approx(1 / math.sqrt(2))
    spread, _ = torch_net("missing_two", seed)
    assert spread == pytest.approx(1 / math.sqrt(2), abs=0.02)       # ReLU halves E[a²]; Xavier keeps n Var(w) = 1
    assert min(FACTORS, key=lambda k: abs(math.log(spread / FACTORS[k]))) == ex.answer(seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("preset", "answer"), [("saturate", "explodes"), ("bn_rescue", "level")])
def test_backward_gradient_class_is_what_torch_measures(preset, answer, seed):
    """‖∂L/∂z‖ from the last layer to the first: above 10 (exploding: N(0, 1) weights, √256 times too large, win over
    saturation) or within a factor of 10 (BatchNorm)."""
    _, ratio = torch_net(preset, seed)
    measured = "explodes" if ratio > 10 else "vanishes" if ratio < 0.1 else "level"
    assert EXERCISES[preset].answer(seed) == measured == answer
    if preset == "saturate":
        assert ratio > 1e6


@pytest.mark.parametrize("seed", SEEDS)
def test_dead_lr_share_climbs_above_half_as_the_claim_test_measures(seed):
    """The claim test's measurement (presets.dead_lr.note): the ReLU racer's dead share starts at 5-25% and ends
    between 50% and 75%, and at learning rate 0.001 it stays near its start."""
    v = experiment.values("dead_lr")
    racers = experiment.racers(v)
    relu = dict(zip(racers, dt.race(experiment.race_config(v, seed), racers, "cpu")))["relu|kaiming_normal"]
    assert 0.05 < relu.dead_frac[0] < 0.25 and 0.5 < relu.dead_frac[-1] < 0.75
    assert EXERCISES["dead_lr"].answer(seed) == "above_half"


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_every_answer_is_the_same_for_seeds_0_to_4(name):
    ex = EXERCISES[name]
    assert {ex.answer(seed) for seed in SEEDS} == {ex.answer(0)}


def test_wrong_answers_are_wrong():
    for ex in EXERCISES.values():
        for wrong in [o for o in ex.options if o != ex.answer()] if ex.options else ["0.5", "1", "0"]:
            assert not ex.grade(wrong).correct
    assert np.isclose(float(EXERCISES["collapse"].answer()), 0.16)
