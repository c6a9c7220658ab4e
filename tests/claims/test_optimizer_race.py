"""Claim tests of the optimizer race lesson: each sentence a learner reads about what the lab shows, run through
dlcore on the exact preset or default behind it (``ui.experiments.optimizer_race``), issue 19.

Texts: assets/i18n/<lang>/optimizer_race.toml (``notice``, ``presets.*.note``, ``reg_notice``, ``sf_notice``,
``kind.*``, ``escape_text``, ``help.kappa``, ``rules.check``) and assets/lessons/<lang>/optimizer_race.md; the English
sentence is quoted in each docstring. The race itself is deterministic (no seed); the batch-noise tab depends on the
sidebar seed, so its claims run over seeds 0-4.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

from dlcore import batch_noise as bn
from dlcore import optim as O
from ui.experiments import optimizer_race as experiment

SEEDS = range(5)   # the sidebar's global seed: 0 by default, any other a learner may pick


@functools.cache
def race(preset: str | None = None, **override: object) -> O.RaceResult:
    """The race the lab runs for ``preset`` (None: the defaults), with ``override`` settings on top."""
    return O.race(experiment.race_config(experiment.settings(preset) | override))


def path(res: O.RaceResult, kind: str) -> np.ndarray:
    """(steps + 1, 2) iterates of racer ``kind`` from the first start."""
    return res.paths[res.kinds.index(kind), :, 0]


def losses(res: O.RaceResult, kind: str) -> np.ndarray:
    return res.losses[res.kinds.index(kind), :, 0]


def reached(res: O.RaceResult, kind: str) -> int:
    """The step at which ``kind`` first came within tol of a minimum; -1 if never."""
    return int(res.reached_at[res.kinds.index(kind), 0])


def across(p: np.ndarray, angle: float) -> np.ndarray:
    """The coordinate across the ravine, v = -x sin(angle) + y cos(angle): the steep direction (eigenvalue 1)."""
    a = math.radians(angle)
    return -math.sin(a) * p[:, 0] + math.cos(a) * p[:, 1]


def along(p: np.ndarray, angle: float) -> np.ndarray:
    """The coordinate along the ravine's floor, u = x cos(angle) + y sin(angle) (eigenvalue 1/kappa)."""
    a = math.radians(angle)
    return math.cos(a) * p[:, 0] + math.sin(a) * p[:, 1]


def crossings(v: np.ndarray) -> int:
    """How often the sequence changes sign (ignoring exact zeros)."""
    v = v[np.abs(v) > 1e-12]
    return int((np.diff(np.sign(v)) != 0).sum())


def gradients(surface: O.Surface, p: np.ndarray) -> np.ndarray:
    """(N, 2) gradients of the surface at the points ``p`` (N, 2)."""
    q = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(surface.fn(q[:, 0], q[:, 1]).sum(), q)
    return g.numpy()


def status(preset: str | None, kind: str) -> tuple[str, int]:
    res = race(preset)
    v = experiment.settings(preset)
    board = O.leaderboard(res, experiment.race_config(v).make_surface())
    return board.status[board.order.index(res.kinds.index(kind))]


# ---- the default race: optimizer_race.notice ------------------------------------------------------------------

def test_sgd_creeps_along_the_floor_of_the_default_ravine():
    """notice: "in the ravine plain SGD creeps along the floor." Within five steps SGD is on the floor (the steep
    coordinate has shrunk a hundredfold), yet it needs more than a hundred steps to reach the minimum."""
    v = experiment.settings()
    p = path(race(), "sgd")
    steep = np.abs(across(p, v["angle"]))
    assert steep[5] < 0.01 * steep[0]
    assert abs(along(p, v["angle"])[5]) > 0.8 * abs(along(p, v["angle"])[0])
    assert reached(race(), "sgd") > 100


def test_momentum_overshoots_the_walls_yet_arrives_well_before_sgd():
    """notice: "Momentum overshoots the walls and still arrives well before SGD". Momentum crosses the floor of the
    ravine within its first steps (SGD never does) and reaches the minimum in under three quarters of SGD's steps."""
    v = experiment.settings()
    assert crossings(across(path(race(), "momentum"), v["angle"])[:10]) >= 1
    assert crossings(across(path(race(), "sgd"), v["angle"])) == 0
    assert 0 < reached(race(), "momentum") < 0.75 * reached(race(), "sgd")


def test_nesterov_damps_the_overshoot_and_is_the_first_gradient_method_to_arrive():
    """notice: "Nesterov, whose look-ahead damps the overshoot, is the first gradient method to arrive." (Issue 19:
    the old text said momentum arrives first; Nesterov does, step 43 against 91.)"""
    v = experiment.settings()
    res = race()
    nesterov, momentum = (crossings(across(path(res, kind), v["angle"])) for kind in ("nesterov", "momentum"))
    assert nesterov < momentum / 5
    first_order = [k for k in res.kinds if k != "newton"]
    steps = {k: reached(res, k) for k in first_order}
    assert steps["nesterov"] > 0
    assert all(steps["nesterov"] < s or s < 0 for k, s in steps.items() if k != "nesterov"), steps


def test_newton_reads_the_curvature_and_lands_in_one_step():
    """notice: "Newton reads the curvature and lands in one step." """
    res = race()
    assert reached(res, "newton") == 1
    assert losses(res, "newton")[1] < 1e-20


def test_adam_first_steps_are_about_eta_long_in_x_and_y_whatever_the_gradient():
    """notice: "Adam divides each coordinate's step by the size of that coordinate's recent gradients, so its first
    steps are about η long in x and in y alike, whatever the gradient." The gradient's components at the start are
    neither η nor equal to each other; Adam's first five steps are within 5% of η in both coordinates."""
    v = experiment.settings()
    eta = v["adam.lr"]
    p = path(race(), "adam")
    g = gradients(experiment.race_config(v).make_surface(), p[:1])[0]
    assert abs(abs(g[0]) - abs(g[1])) > 0.3 and min(abs(g)) > 5 * eta
    steps = np.abs(np.diff(p[:6], axis=0))                      # (5, 2) |dx|, |dy|
    np.testing.assert_allclose(steps, eta, rtol=0.05)


# ---- presets ---------------------------------------------------------------------------------------------------

def test_ravine_preset_sgd_creeps_and_momentum_arrives_long_before_it():
    """presets.ravine.note: "κ = 50: SGD creeps along the floor of the ravine. [...] its velocity builds along the
    floor and it arrives long before SGD." """
    res = race("ravine")
    assert experiment.settings("ravine")["kappa"] == 50.0
    assert 0 < 3 * reached(res, "momentum") < reached(res, "sgd")


def test_ravine_preset_momentum_overshoots_again_and_again_and_nesterov_damps_it_and_arrives_first():
    """presets.ravine.note: "Momentum overshoots across the walls again and again [...] Nesterov's look-ahead damps
    the overshoot within a few steps, and Nesterov arrives first." """
    v = experiment.settings("ravine")
    res = race("ravine")
    mom, nes = (np.abs(across(path(res, k), v["angle"])) for k in ("momentum", "nesterov"))
    assert crossings(across(path(res, "momentum"), v["angle"])) >= 10
    assert mom[10:50].max() > 0.5                  # still swinging from wall to wall
    assert nes[5:].max() < 0.05                    # damped within five steps
    assert 0 < reached(res, "nesterov") < min(reached(res, "momentum"), reached(res, "sgd"))


def _effective_rate(preset: str, kind: str) -> np.ndarray:
    """|step| / |gradient| per coordinate and step, divided by eta: the racer's own learning-rate factor."""
    v = experiment.settings(preset)
    p = path(race(preset), kind)
    g = gradients(experiment.race_config(v).make_surface(), p[:-1])
    return np.abs(np.diff(p, axis=0)) / np.maximum(np.abs(g), 1e-300) / v[f"{kind}.lr"]


def test_adagrad_crawl_preset_gives_all_three_the_same_eta():
    """presets.adagrad_crawl.note: "All three get the same η = 0.05 on Himmelblau's function." """
    v = experiment.settings("adagrad_crawl")
    assert v["surface"] == "himmelblau" and v["adagrad.lr"] == v["rmsprop.lr"] == v["adam.lr"] == 0.05


def test_adagrad_steps_shrink_for_good_and_it_crawls_far_from_a_minimum():
    """presets.adagrad_crawl.note: "AdaGrad divides it by the root of the sum of every squared gradient so far; the
    first gradients here are in the tens, so its steps shrink for good and it crawls, still far from a minimum
    after 500 steps." Also the concept text: "AdaGrad: σ from the sum of all squared gradients, so steps only ever
    shrink." """
    v = experiment.settings("adagrad_crawl")
    p = path(race("adagrad_crawl"), "adagrad")
    g0 = gradients(experiment.race_config(v).make_surface(), p[:1])[0]
    assert 10 <= np.abs(g0).max() < 100
    rate = _effective_rate("adagrad_crawl", "adagrad")
    assert (np.diff(rate, axis=0) <= 1e-12).all()                # eta / sigma never grows
    assert (rate[-1] < rate[0] / 30).all()
    assert reached(race("adagrad_crawl"), "adagrad") == -1 and v["steps"] == 500
    dist = np.linalg.norm(np.asarray(O.HIMMELBLAU_MINIMA) - p[-1], axis=1).min()
    assert dist > 0.3 and losses(race("adagrad_crawl"), "adagrad")[-1] > 1


def test_rmsprop_and_adam_forget_the_early_gradients_and_reach_a_minimum_rmsprop_first():
    """presets.adagrad_crawl.note: "RMSProp and Adam divide by an average of recent squared gradients, which forgets
    the large early ones: both reach a minimum, RMSProp first." (concept: "RMSProp [...] forgets old gradients")"""
    res = race("adagrad_crawl")
    assert 0 < reached(res, "rmsprop") < reached(res, "adam")
    rate = _effective_rate("adagrad_crawl", "rmsprop")[:, 0]        # x: the coordinate whose first gradients are large
    assert rate[-50:].mean() > 3 * rate[5:15].mean()               # eta / sigma grows again once they are forgotten
    assert rate[-1] > 100 * _effective_rate("adagrad_crawl", "adagrad")[-1, 0]


def test_rmsprop_keeps_jittering_around_the_minimum_while_adam_settles():
    """presets.adagrad_crawl.note: "RMSProp then keeps jittering around it, because its steps stay about as long
    however small the gradient gets; Adam's momentum averages the jitter out and it settles." """
    res = race("adagrad_crawl")
    eta = experiment.settings("adagrad_crawl")["rmsprop.lr"]
    rms, adam = (np.linalg.norm(np.diff(path(res, k), axis=0), axis=1) for k in ("rmsprop", "adam"))
    assert rms[-100:].mean() > 0.2 * eta and losses(res, "rmsprop")[-100:].max() > 1e-3
    assert adam[-100:].max() < 1e-3 * eta and losses(res, "adam")[-1] < 1e-12


def test_saddle_sgd_slows_almost_to_a_halt_beside_the_saddle_point_and_leaves_slowly():
    """presets.saddle.note: "the gradient along y, −2y, is tiny. SGD slides down to the saddle point,
    slows almost to a halt beside it and leaves only slowly: y grows by just 2% a step." Also kind.saddle: "Gradient
    descent slows to a halt here". """
    p = path(race("saddle"), "sgd")
    dist = np.linalg.norm(p, axis=1)
    step = np.linalg.norm(np.diff(p, axis=0), axis=1)
    assert dist.min() < 0.1 and (dist < 0.1).sum() >= 50
    assert step[dist[:-1].argmin()] < step[0] / 30
    np.testing.assert_allclose(p[1:, 1] / p[:-1, 1], 1.02, rtol=1e-9)          # y_{t+1} = (1 + 2 eta) y_t
    assert 0.1 < p[-1, 1] < 1 and losses(race("saddle"), "sgd")[-1] < 0      # leaving, still on the map


def test_saddle_momentum_reaches_the_saddle_point_within_20_steps_and_escapes_soon_after():
    """presets.saddle.note: "Momentum also reaches the saddle point within 20 steps, but its velocity builds up
    along y and it escapes soon after." """
    p = path(race("saddle"), "momentum")
    f = losses(race("saddle"), "momentum")
    assert np.linalg.norm(p[:21], axis=1).min() < 0.05
    assert (f < -1).any() and int((f < -1).argmax()) < 100
    assert status("saddle", "momentum")[0] == "left"


def test_saddle_adam_walks_away_without_ever_coming_near_the_saddle_point():
    """presets.saddle.note: "Adam rescales each coordinate: its steps along y are about η long from the start, so it
    walks away without ever coming near the saddle point." (SGD's first step along y is 1e-5 η.)"""
    v = experiment.settings("saddle")
    p = path(race("saddle"), "adam")
    dy = np.abs(np.diff(p[:21, 1]))
    np.testing.assert_allclose(dy, v["adam.lr"], rtol=0.25)
    assert np.nanmin(np.linalg.norm(p, axis=1)) > 1.0
    assert status("saddle", "adam")[0] == "left"


def test_saddle_newton_jumps_onto_the_saddle_point_and_stays_there():
    """presets.saddle.note: "Newton jumps straight onto the saddle point and stays there: it hunts for zero
    gradient, not for low loss." On the leaderboard: status.stalled, "stalled: the gradient vanished (a critical
    point)"."""
    p = path(race("saddle"), "newton")
    assert np.abs(p[1:]).max() < 1e-12
    assert status("saddle", "newton")[0] == "stalled"
    assert losses(race("saddle"), "sgd")[-1] < losses(race("saddle"), "newton")[-1] == 0.0


def test_too_large_preset_gives_all_three_the_same_eta_above_two_over_lambda_max():
    """presets.too_large.note: "All three get η = 2.2. That is more than 2/λ_max = 2" """
    v = experiment.settings("too_large")
    lam = O.inspect_point(experiment.race_config(v).make_surface(), (0.0, 0.0)).eigenvalues
    assert v["sgd.lr"] == v["momentum.lr"] == v["adam.lr"] == 2.2 > 2 / lam.max()
    assert lam.max() == pytest.approx(1.0)


def test_too_large_sgd_zigzag_grows_until_it_diverges():
    """presets.too_large.note: "every SGD step overshoots the steep wall by more than it corrects: the zig-zag grows
    until SGD diverges." Across the ravine v_{t+1} = (1 - η) v_t = -1.2 v_t."""
    v = experiment.settings("too_large")
    steep = across(path(race("too_large"), "sgd"), v["angle"])[:60]
    np.testing.assert_allclose(steep[1:] / steep[:-1], 1 - v["sgd.lr"], rtol=1e-6)
    assert status("too_large", "sgd")[0] == "diverged"


def test_too_large_momentum_survives_the_same_eta_and_is_stable_up_to_3_8():
    """presets.too_large.note: "Momentum (μ = 0.9) survives the same η: heavy-ball momentum stays stable up to
    η = 2(1 + μ)/λ_max = 3.8." """
    v = experiment.settings("too_large")
    assert v["momentum.momentum"] == 0.9
    assert status("too_large", "momentum")[0] == "reached"
    below, above = race("too_large", **{"momentum.lr": 3.7}), race("too_large", **{"momentum.lr": 3.9})
    assert reached(below, "momentum") > 0
    assert reached(above, "momentum") == -1 and not np.isfinite(losses(above, "momentum")[-1])


def test_too_large_adam_steps_are_never_much_longer_than_eta_and_it_converges():
    """presets.too_large.note: "Adam's steps are never much longer than η, whatever the gradient, and they shrink as
    its averaged gradient cancels the zig-zag: it converges too." (Issue 19: the old note said Adam only rattles.)"""
    eta = experiment.settings("too_large")["adam.lr"]
    p = path(race("too_large"), "adam")
    steps = np.abs(np.diff(p, axis=0))
    assert steps.max() <= 1.05 * eta
    assert steps[-50:].max() < 1e-3 * eta
    assert status("too_large", "adam")[0] == "reached"


def test_warmup_preset_constant_rate_first_step_is_eta_long_and_throws_adam_across_the_valley():
    """presets.warmup.note: "Its first step is η long in every coordinate, whatever the gradient: with a constant rate
    that step throws it across the valley" (from below the valley floor y = x² to far above it)."""
    v = experiment.settings("warmup")
    p = path(race("warmup", schedule="constant"), "adam")
    g = gradients(experiment.race_config(v).make_surface(), p[:1])[0]
    assert np.abs(g).min() > 50
    np.testing.assert_allclose(np.abs(p[1] - p[0]), v["adam.lr"], rtol=1e-6)
    above = p[:, 1] - p[:, 0] ** 2
    assert above[0] < 0 < above[1] and above[1] > 1


def test_warmup_preset_constant_rate_is_still_bouncing_at_the_end_at_loss_about_0_1():
    """presets.warmup.note: "it is still bouncing at the end (loss about 0.1)" """
    f = losses(race("warmup", schedule="constant"), "adam")
    assert 0.03 < f[-1] < 0.3
    assert f[-100:].max() > 10 * f[-100:].min()


def test_warmup_keeps_the_first_steps_short_and_the_cosine_decay_settles_at_loss_about_1e_7():
    """presets.warmup.note: "The linear warm-up keeps the first steps short while Adam's second-moment estimate is
    still poor, and the cosine decay lets it settle (loss about 1e-7)." """
    v = experiment.settings("warmup")
    assert v["schedule"] == "warmup"
    p = path(race("warmup"), "adam")
    assert np.abs(p[1] - p[0]).max() < 0.02 * v["adam.lr"]
    f = losses(race("warmup"), "adam")
    assert 1e-8 < f[-1] < 1e-6


# ---- the batch-noise tab (seed-dependent) ----------------------------------------------------------------------

@functools.cache
def sharp_flat(seed: int, preset: str | None = "flat") -> bn.SharpFlatResult:
    return bn.sharp_flat(experiment.sharp_flat_config(experiment.settings(preset), seed))


def _bottoms(res: bn.SharpFlatResult) -> dict[str, int]:
    """Grid index of the bottom of each well of the training loss (left of the barrier: the sharp one)."""
    left = res.w < res.barrier
    return {name: int(np.argmin(np.where(side, res.train, np.inf))) for name, side in (("sharp", left),
                                                                                        ("flat", ~left))}


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_flat_preset_batch_one_ends_in_the_flat_well_and_the_full_batch_only_from_nearby_starts(seed):
    """presets.flat.note: "with batch size 1 almost every run ends in the wide, flat well, with the full batch only
    those that started near it." Full-batch runs end in the well on their own side of the barrier."""
    res = sharp_flat(seed)
    assert res.batch_sizes[0] == 1 and res.batch_sizes[-1] == experiment.sharp_flat_config({"sf_lr": 0.2,
                                                                                             "sf_shift": 0.3}, 0).n
    assert res.flat_share[0] >= 0.95
    np.testing.assert_array_equal(res.final[-1] > res.barrier, res.starts > res.barrier)
    assert res.flat_share[-1] < 0.6


@pytest.mark.parametrize("preset", ["flat", None])
def test_both_wells_fit_the_training_data_equally_well_but_the_sharp_one_loses_far_more_on_shifted_test_data(preset):
    """presets.flat.note: "Both wells fit the training data equally well, but the flat one keeps its low loss when the
    test data shift." sf_notice: "Both wells fit the training data equally well, but when the test data are shifted
    by δ the sharp minimum's loss rises far more." The landscapes do not depend on the seed."""
    res = sharp_flat(0, preset)
    i = _bottoms(res)
    (sharp_train, sharp_test), (flat_train, flat_test) = ((res.train[i[k]], res.test[i[k]]) for k in ("sharp", "flat"))
    assert abs(sharp_train - flat_train) < 0.05
    assert sharp_test - sharp_train > 3 * (flat_test - flat_train) > 0
    assert flat_test < 0.85 * flat_train                           # still most of its depth
    np.testing.assert_allclose(sharp_flat(1, preset).train, sharp_flat(0, preset).train)


def test_the_test_data_are_the_training_data_shifted_by_delta():
    """sf_notice: "when the test data are shifted by δ" (the slider ``sf_shift``): the test loss is the training
    loss moved δ to the right."""
    res = sharp_flat(0)
    delta = experiment.settings("flat")["sf_shift"]
    dw = res.w[1] - res.w[0]
    k = round(delta / dw)
    assert k * dw == pytest.approx(delta)
    np.testing.assert_allclose(res.test[k:], res.train[:-k], atol=1e-12)


def test_sixty_four_runs_per_batch_size_start_evenly_spread_over_minus_three_to_three():
    """sf_notice: "Sixty-four runs per batch size start evenly spread over w ∈ [-3, 3]." """
    res = sharp_flat(0)
    np.testing.assert_allclose(res.starts, np.linspace(-3, 3, 64))
    assert res.final.shape == (len(res.batch_sizes), 64)


def test_a_small_batch_gradient_is_far_noisier_in_the_sharp_well_than_in_the_flat_one():
    """sf_notice: "In the sharp well a small batch's gradient changes wildly from step to step and kicks the run out;
    in the flat well the same noise barely moves it." The spread of one sample's gradient ℓ_i'(w) over the
    samples, at the bottom of each well."""
    config = experiment.sharp_flat_config(experiment.settings("flat"), 0)
    res = sharp_flat(0)
    spread = {}
    for name, i in _bottoms(res).items():
        w = torch.full((config.n,), float(res.w[i]), dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(bn.landscape(w - bn.shifts(config.n, config.shift_std), config).sum(), w)
        spread[name] = float(g.std())                              # g[i] = sample i's gradient at the bottom
    assert spread["sharp"] > 4 * spread["flat"]
    assert spread["sharp"] * config.lr > 0.3                         # one step moves it a good part of the well


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_flat_preset_batch_one_runs_keep_a_lower_test_loss_than_full_batch_runs(seed):
    """presets.flat.note: "the flat one keeps its low loss when the test data shift", read off the table: the mean
    test loss of the batch-1 runs (nearly all in the flat well) is below that of the full-batch runs."""
    res = sharp_flat(seed)
    assert res.test_loss[0] < res.test_loss[-1] - 0.02


@functools.cache
def regression(seed: int) -> bn.RegressionResult:
    return bn.regression_paths(experiment.regression_config(experiment.settings(), seed))


@pytest.mark.parametrize("seed", SEEDS)
def test_the_smaller_the_batch_the_more_the_path_wanders_around_the_least_squares_solution(seed):
    """reg_notice: "Every batch size takes the same number of updates with the same learning rate. The smaller the
    batch, the noisier the gradient and the more the path wanders around the least-squares solution (the star)" """
    res = regression(seed)
    steps = experiment.settings()["bn_steps"]
    assert res.paths.shape[1] == steps + 1
    spread = np.linalg.norm(res.paths[:, steps // 2:] - res.optimum, axis=-1).mean(axis=1)
    assert list(res.batch_sizes) == sorted(res.batch_sizes)
    assert (np.diff(spread) < 0).all(), spread


def test_the_full_batch_follows_the_smooth_steepest_descent_path():
    """reg_notice: "the full batch follows the smooth steepest-descent path." Its path is plain gradient descent on
    the full-data mean squared error, step for step."""
    res = regression(0)
    config = experiment.regression_config(experiment.settings(), 0)
    x, y = bn.regression_data(config)
    theta = torch.tensor(config.start, dtype=torch.float64)
    for t in range(config.steps):
        residual = theta[0] * x + theta[1] - y
        grad = torch.stack([(2 * residual * x).mean(), (2 * residual).mean()])
        theta = theta - config.lr * grad
        if t in (0, config.steps - 1):
            np.testing.assert_allclose(res.paths[-1, t + 1], theta.numpy(), rtol=1e-10, atol=1e-12)


# ---- the inspector and the rules tab -----------------------------------------------------------------------------

def test_a_saddle_point_has_mixed_eigenvalues_and_a_step_along_the_negative_one_lowers_the_loss_as_predicted():
    """kind.saddle: "A saddle point: the Hessian has a positive and a negative eigenvalue. [...] a step along the
    eigenvector of the negative eigenvalue lowers the loss." escape_text: "the second-order prediction
    f + ½ λ₁ · size² is {pred}" (exact on x² − y²). Concept: "u^T H u = λ‖u‖² < 0: stepping along u lowers the
    loss"."""
    v = experiment.settings("saddle")
    info = O.inspect_point("saddle", (v["px"], v["py"]))
    assert info.kind == "saddle" and info.critical
    assert info.eigenvalues[0] < 0 < info.eigenvalues[1]
    esc = O.escape_step("saddle", (v["px"], v["py"]), v["escape"])
    assert (esc.losses < info.value).all()
    np.testing.assert_allclose(esc.losses, esc.predicted, atol=1e-12)


@pytest.mark.parametrize(("surface", "point", "kind"), [
    ("rosenbrock", (1.0, 1.0), "minimum"),
    ("himmelblau", O.HIMMELBLAU_MAXIMUM, "maximum"),
    ("monkey_saddle", (0.0, 0.0), "degenerate"),
])
def test_the_inspector_reads_the_kind_of_a_critical_point_from_the_eigenvalues(surface, point, kind):
    """kind.minimum: "every eigenvalue of the Hessian is positive, so the loss rises in every direction";
    kind.maximum: "every eigenvalue [...] is negative, so the loss falls in every direction"; kind.degenerate: "an
    eigenvalue is zero, so the second-order test cannot tell what kind of point this is (higher-order terms
    decide)." """
    info = O.inspect_point(surface, point)
    assert info.kind == kind and info.critical
    s = O.make_surface(surface)
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    ring = np.asarray(point) + 1e-2 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    f = s.fn(torch.tensor(ring[:, 0]), torch.tensor(ring[:, 1])).numpy()
    if kind == "minimum":
        assert (f > info.value).all()
    elif kind == "maximum":
        assert (f < info.value).all()
    else:
        assert np.abs(info.eigenvalues).max() < 1e-9 and (f > info.value).any() and (f < info.value).any()


def test_himmelblau_has_four_minima():
    """surfaces.himmelblau: "Himmelblau (four minima)" (the AdaGrad preset's surface)."""
    for m in O.HIMMELBLAU_MINIMA:
        info = O.inspect_point("himmelblau", m)
        assert info.kind == "minimum" and info.critical and abs(info.value) < 1e-9
    assert _grid_minima(O.SURFACES["himmelblau"], 201) == 4


def _grid_minima(surface: O.Surface, n: int) -> int:
    """Grid points of the map lower than all eight neighbours."""
    _, _, z = O.surface_grid(surface, n)
    inner = z[1:-1, 1:-1]
    shifts = [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1) if (a, b) != (0, 0)]
    return int(np.stack([inner < np.roll(z, sh, (0, 1))[1:-1, 1:-1] for sh in shifts]).all(0).sum())


def test_many_minima_has_many_local_minima_and_the_plateau_is_flat_far_from_its_minimum():
    """surfaces.many_minima: "Many local minima"; surfaces.plateau: "Plateau" (the gradient nearly vanishes at its
    start, far from the minimum)."""
    assert _grid_minima(O.SURFACES["many_minima"], 241) >= 9
    plateau = O.SURFACES["plateau"]
    info = O.inspect_point(plateau, plateau.start)
    assert np.linalg.norm(info.grad) < 0.01 and info.value > 0.95 and plateau.f_min == 0.0


def test_kappa_is_the_ratio_of_the_largest_to_the_smallest_hessian_eigenvalue():
    """help.kappa: "Ratio of the largest to the smallest eigenvalue of the Hessian: how much steeper the walls of
    the ravine are than its floor." """
    v = experiment.settings()
    lam = O.inspect_point(experiment.race_config(v).make_surface(), (0.3, -0.2)).eigenvalues
    assert lam.max() / lam.min() == pytest.approx(v["kappa"])


def test_the_update_rules_by_hand_match_torch_optim_on_the_default_race():
    """rules.check: "Against torch.optim on this surface from this start: largest difference over {steps} steps =
    {err}." The page runs 100 steps; every hand-written rule agrees to rounding."""
    v = experiment.settings()
    config = experiment.race_config(v)
    checks = O.rule_checks(config.make_surface(), config.starts[0], 100)
    assert max(c.max_error for c in checks.values()) < 1e-10


# ---- the concept text (assets/lessons/<lang>/optimizer_race.md) -------------------------------------------------

def test_gradient_descent_is_stable_only_below_two_over_lambda_max_and_crawls_at_one_minus_eta_lambda_min():
    """optimizer_race.md: "Plain GD is stable only for η < 2/λ_max, and then it crawls along the floor at a rate of
    about 1 − ηλ_min per step." On the default ravine (λ_max = 1, λ_min = 1/κ)."""
    v = experiment.settings()
    assert reached(race(racers=("sgd",), **{"sgd.lr": 1.95}), "sgd") > 0
    f = losses(race(racers=("sgd",), **{"sgd.lr": 2.05}), "sgd")
    assert f[-1] > 1e6 * f[0] and (np.diff(f[-100:]) > 0).all()          # the zig-zag grows without bound
    u = along(path(race(), "sgd"), v["angle"])
    np.testing.assert_allclose(u[1:40] / u[:39], 1 - v["sgd.lr"] / v["kappa"], rtol=1e-9)


def test_momentum_adds_up_consistent_gradients_to_one_over_one_minus_mu_times_the_step():
    """optimizer_race.md: "Consistent gradients along the floor add up (up to 1/(1−λ) times the step)". On a
    constant slope f = x the momentum racer's step tends to η/(1 − μ)."""
    surface = O.make_surface("custom", formula="x", half_width=20.0)
    p = O.run(surface, "sgd", (-19.0, 0.0), 200, lr=0.01, momentum=0.9)
    step = np.abs(np.diff(p[:, 0]))
    assert step[0] == pytest.approx(0.01)
    assert step[-1] == pytest.approx(0.01 / (1 - 0.9), rel=1e-6)


@pytest.mark.parametrize("kappa", [1.0, 25.0, 1000.0])
def test_newton_lands_in_one_step_on_any_quadratic(kappa):
    """optimizer_race.md: "On a quadratic it lands in one step whatever κ is" """
    res = race(kappa=kappa, racers=("newton",))
    assert reached(res, "newton") == 1


def test_newton_is_drawn_to_saddles_and_maxima_as_readily_as_to_minima():
    """optimizer_race.md: "it hunts for g = 0, so it is drawn to saddles and maxima as readily as to minima" """
    near_max = np.asarray(O.HIMMELBLAU_MAXIMUM) + 0.2
    np.testing.assert_allclose(O.nearest_critical_point("himmelblau", near_max), O.HIMMELBLAU_MAXIMUM, atol=1e-5)
    np.testing.assert_allclose(O.nearest_critical_point("saddle", (0.7, -0.4)), (0.0, 0.0), atol=1e-12)


def test_warm_up_starts_small_and_grows_then_decays():
    """optimizer_race.md: "decay (step, exponential, cosine) lets the optimizer settle; warm-up starts small while
    Adam's v̂_t is still a poor estimate, then grows." The warm-up preset's factors η_t / η."""
    v = experiment.settings("warmup")
    f = O.schedule_factors(experiment.race_config(v).schedule, v["steps"])
    w = v["warmup"]
    assert f[0] == pytest.approx(1 / w)
    assert (np.diff(f[: w + 1]) > 0).all() and f[w] == pytest.approx(1.0)
    assert (np.diff(f[w:]) <= 1e-12).all() and f[-1] < 1e-3


def test_every_racer_is_a_real_torch_optimizer_on_a_float64_theta():
    """optimizer_race.md: "In the lab every racer is a real torch.optim optimizer on a float64 θ = (x, y)". The
    default race's Adam equals torch.optim.Adam run by hand in float64."""
    v = experiment.settings()
    surface = experiment.race_config(v).make_surface()
    p = torch.tensor([v["x0"], v["y0"]], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=v["adam.lr"], betas=(v["adam.beta1"], v["adam.beta2"]))
    for _ in range(20):
        opt.zero_grad()
        surface.fn(p[0], p[1]).backward()
        opt.step()
    assert race().paths.dtype == np.float64
    np.testing.assert_allclose(path(race(), "adam")[20], p.detach().numpy(), rtol=1e-12, atol=1e-14)
