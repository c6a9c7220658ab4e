"""The optimizer race lesson's exercises: every answer dlcore computes, checked against torch.optim run here on the
surfaces written out by hand (or Newton's step by hand), and the batch-noise answer against the claim test's
measurement; each answer is the same for the sidebar seeds 0-4."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlcore import batch_noise as bn
from dlcore import optim as O
from ui.exercises import for_lesson
from ui.experiments import optimizer_race as experiment

S = "optimizer_race"
SEEDS = range(5)
TOL = 1e-2   # "reached the minimum": within this distance of it (the leaderboard's tolerance)
EXERCISES = {ex.name: ex for ex in for_lesson(S)}


def ravine(kappa: float, angle: float):
    """f = ½(u²/κ + v²), u along the floor, v across it: Hessian eigenvalues 1/κ and 1 (λ_max = 1)."""
    a = math.radians(angle)

    def f(x, y):
        u, v = x * math.cos(a) + y * math.sin(a), -x * math.sin(a) + y * math.cos(a)
        return 0.5 * (u**2 / kappa + v**2)
    return f


def himmelblau(x, y):
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def saddle(x, y):
    return x**2 - y**2


def optimizer(kind: str, params, v: dict):
    """torch.optim's optimizer for racer ``kind`` with the experiment's hyperparameters."""
    lr = v[f"{kind}.lr"]
    if kind in ("sgd", "momentum", "nesterov"):
        mu = v.get(f"{kind}.momentum", 0.0)
        return torch.optim.SGD(params, lr=lr, momentum=mu, nesterov=kind == "nesterov")
    if kind == "adagrad":
        return torch.optim.Adagrad(params, lr=lr)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=v["rmsprop.alpha"])
    assert kind == "adam"
    return torch.optim.Adam(params, lr=lr, betas=(v["adam.beta1"], v["adam.beta2"]))


def run(f, kind: str, v: dict) -> np.ndarray:
    """(steps + 1, 2) iterates of racer ``kind`` from the experiment's start; NaN once past 1e12."""
    theta = torch.tensor([v["x0"], v["y0"]], dtype=torch.float64, requires_grad=True)
    opt = optimizer(kind, [theta], v)
    path = np.full((v["steps"] + 1, 2), np.nan)
    path[0] = theta.detach().numpy()
    for t in range(v["steps"]):
        opt.zero_grad()
        f(theta[0], theta[1]).backward()
        opt.step()
        if not torch.isfinite(theta).all() or theta.abs().max() > 1e12:
            break
        path[t + 1] = theta.detach().numpy()
    return path


def reached(path: np.ndarray, minima) -> int:
    """The first step within TOL of one of ``minima``; -1 if never."""
    dist = np.linalg.norm(path[:, None, :] - np.asarray(minima, dtype=float), axis=-1).min(axis=1)
    close = np.nan_to_num(dist, nan=np.inf) < TOL
    return int(close.argmax()) if close.any() else -1


def surface(v: dict):
    """The hand-written f of the experiment's surface."""
    return {"quadratic": ravine(v["kappa"], v["angle"]), "himmelblau": himmelblau, "saddle": saddle}[v["surface"]]


@pytest.mark.parametrize("preset", ["ravine", "too_large", "adagrad_crawl", "saddle"])
def test_the_hand_written_surfaces_are_the_experiments(preset):
    v = experiment.settings(preset)
    p = torch.tensor([[0.3, -1.7], [2.0, 0.5], [-1.1, 1.3]], dtype=torch.float64)
    torch.testing.assert_close(experiment.race_config(v).make_surface().fn(p[:, 0], p[:, 1]),
                               surface(v)(p[:, 0], p[:, 1]))


def test_ravine_first_is_the_racer_torch_optim_brings_within_tol_first():
    v = experiment.settings("ravine")
    steps = {kind: reached(run(surface(v), kind, v), [(0.0, 0.0)]) for kind in v["racers"]}
    assert all(s > 0 for s in steps.values()), steps
    assert EXERCISES["ravine_first"].answer() == min(steps, key=steps.get) == "nesterov"


def test_too_large_only_sgd_diverges_above_two_over_lambda_max():
    v = experiment.settings("too_large")
    assert v["sgd.lr"] > 2 / 1.0                                     # λ_max = 1 by construction of the ravine
    paths = {kind: run(surface(v), kind, v) for kind in v["racers"]}
    diverged = [kind for kind, p in paths.items() if not np.isfinite(p[-1]).all()]
    assert diverged == ["sgd"]
    assert all(reached(paths[k], [(0.0, 0.0)]) > 0 for k in v["racers"] if k != "sgd")
    assert EXERCISES["too_large"].answer() == "sgd"


def test_adagrad_crawl_only_adagrad_misses_every_minimum_of_himmelblau():
    v = experiment.settings("adagrad_crawl")
    steps = {kind: reached(run(himmelblau, kind, v), O.HIMMELBLAU_MINIMA) for kind in v["racers"]}
    for m in O.HIMMELBLAU_MINIMA:                                    # the four minima are minima of the hand f
        assert himmelblau(*m) < 1e-9
    assert steps["adagrad"] == -1 and steps["rmsprop"] > 0 and steps["adam"] > 0, steps
    assert EXERCISES["adagrad_crawl"].answer() == "adagrad"


def test_saddle_only_newton_ends_on_the_saddle_point():
    """Newton by hand: θ - lr H⁻¹ g with H = diag(2, -2) lands on (0, 0) and stays (g = 0 there); torch.optim's SGD,
    momentum and Adam end well away from it."""
    v = experiment.settings("saddle")
    assert v["newton.lr"] == 1.0 and v["newton.damping"] == 0.0
    theta = np.array([v["x0"], v["y0"]])
    for _ in range(v["steps"]):
        g = np.array([2 * theta[0], -2 * theta[1]])
        theta = theta - v["newton.lr"] * np.linalg.solve(np.diag([2.0, -2.0]), g)
    assert np.abs(theta).max() < 1e-12
    for kind in ("sgd", "momentum", "adam"):
        end = run(saddle, kind, v)
        dist = np.nan_to_num(np.linalg.norm(end, axis=1), nan=np.inf)[-1]
        assert dist > 0.05, kind
    assert EXERCISES["saddle"].answer() == "newton"


@pytest.mark.parametrize("seed", SEEDS)
def test_flat_batch_is_batch_size_one_as_the_claim_test_measures(seed):
    """The claim test's measurement (presets.flat.note): with batch size 1 at least 95% of the runs end in the flat
    well, with the full batch under 60%; the options are the experiment's batch sizes."""
    ex = EXERCISES["flat_batch"]
    res = bn.sharp_flat(experiment.sharp_flat_config(experiment.settings("flat"), seed))
    assert tuple(map(str, res.batch_sizes)) == ex.options
    assert res.flat_share[0] >= 0.95 > res.flat_share[-1] + 0.35
    assert res.flat_share[0] > max(res.flat_share[1:])
    assert ex.answer(seed) == "1"


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_every_answer_is_the_same_for_seeds_0_to_4(name):
    ex = EXERCISES[name]
    assert {ex.answer(seed) for seed in SEEDS} == {ex.answer(0)}


def test_the_wrong_options_are_wrong():
    for ex in EXERCISES.values():
        wrong = [o for o in ex.options if o != ex.answer()]
        assert len(wrong) == len(ex.options) - 1 and not any(ex.grade(o).correct for o in wrong)
