"""The GAN lesson's exercises: each answer, computed by dlcore on its preset, checked against torch run here, a
hand-derived value, or the measurement the lesson's claim test makes; and the same for every sidebar seed 0-4.

A preset's run takes 2-4 s on one core: the runs are made once (the exercises' own runs, cached for this module)
and shared by the answer and its check."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore import gan
from ui import exercises
from ui.exercises import by_id, for_lesson
from ui.exercises import gan as gan_exercises
from ui.experiments import gan as experiment

SEEDS = range(5)


@functools.cache
def _finished(preset: str, seed: int, **changes: object) -> gan.GANState:
    return _play(preset, seed, **changes)


_play = gan_exercises._finished


@pytest.fixture(scope="module", autouse=True)
def _shared_runs():
    """The exercises and these checks share each finished run."""
    exercises._answer.cache_clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(gan_exercises, "_finished", _finished)
        yield
    exercises._answer.cache_clear()


def test_the_guided_path_runs_from_the_equilibrium_to_digits():
    assert [ex.name for ex in for_lesson("gan")] == ["d_half", "ring_modes", "saturating", "digit_classes"]
    assert by_id("gan.d_half").options is None and by_id("gan.d_half").tolerance == 0.1


def _coverage(samples: np.ndarray, centres: torch.Tensor, radius: float) -> int:
    """Modes covered, counted here: at least n / (4K) samples nearest to a centre and within the radius of it."""
    x = torch.from_numpy(samples).double()
    dist = ((x[:, None, :] - centres.double()[None]) ** 2).sum(-1).sqrt()
    nearest = dist.argmin(1)
    good = dist.gather(1, nearest[:, None])[:, 0] <= radius
    counts = np.array([int(((nearest == k) & good).sum()) for k in range(len(centres))])
    return int((counts >= len(x) / (4 * len(centres))).sum())


def test_at_equilibrium_the_best_discriminator_outputs_one_half():
    """Hand-derived: D* = p_data / (p_data + p_g) = 1/2 where p_g = p_data; and torch: a logit trained with
    F.binary_cross_entropy_with_logits on the same points labelled real and generated settles at sigmoid = 1/2."""
    raw = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([raw], lr=0.5)
    for _ in range(300):
        opt.zero_grad()
        (F.binary_cross_entropy_with_logits(raw, torch.ones(1)) + F.binary_cross_entropy_with_logits(
            raw, torch.zeros(1))).backward()
        opt.step()
    assert abs(float(torch.sigmoid(raw.detach())) - 0.5) < 1e-3
    p = gan.mixture1d_density(torch.linspace(-4, 4, 9)).numpy()
    np.testing.assert_allclose(p / (p + p), 0.5)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_d_half_the_trained_d_is_one_half_on_the_data(seed):
    """The claim test's measurement (test_paper1d_preset_grows_two_bumps_and_d_flattens_at_one_half): where the
    data has mass, D(x) is within 0.1 of 1/2; p_g covers both bumps."""
    state = _finished("paper1d", seed)
    last = state.history[-1]
    where = gan.mixture1d_density(state.grid[:, 0]).numpy() > 0.05
    assert np.abs(last.d_grid[where] - 0.5).max() < 0.1 and (last.modes_covered, last.n_modes) == (2, 2)
    ex = by_id("gan.d_half")
    assert ex.answer(seed) == "0.5" and ex.grade("0.5", seed).correct and not ex.grade("0.7", seed).correct


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_ring_modes_a_fast_discriminator_leaves_three_modes_or_fewer(seed):
    """Modes counted here from the run's samples (VEEGAN's criterion), and the claim test's measurement
    (test_collapse_preset_puts_most_samples_on_a_few_modes_and_is_flagged)."""
    state = _finished("collapse", seed)
    last = state.history[-1]
    covered = _coverage(last.fake, state.target.centres, state.target.radius)
    assert covered == last.modes_covered <= 3 and last.n_modes == 8 and last.hq_fraction > 0.5
    assert by_id("gan.ring_modes").answer(seed) == "few"


def test_minimax_is_flat_and_non_saturating_steep_where_d_rejects_the_fakes():
    """torch autograd: with D(G(z)) ≈ 0 (logit −8), log(1 − D) has a gradient of about 3e-4, −log D one of about 1."""
    logit = torch.tensor([-8.0], requires_grad=True)
    (flat,) = torch.autograd.grad(F.logsigmoid(-logit).sum(), logit)       # log(1 − sigmoid(l)), minimised by G
    (steep,) = torch.autograd.grad(-F.logsigmoid(logit).sum(), logit)      # −log sigmoid(l)
    assert abs(float(flat)) < 1e-3 and abs(float(steep)) > 0.99


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_saturating_only_the_non_saturating_loss_reaches_the_blob(seed):
    """The claim test's measurement (test_saturating_preset_stalls_with_minimax_and_learns_with_non_saturating)."""
    stuck, learns = _finished("saturating", seed, loss="minimax"), _finished("saturating", seed, loss="nonsat")
    assert stuck.config.loss == "minimax" and stuck.config == experiment.preset("saturating", seed)
    moved = np.linalg.norm(stuck.history[-1].fake - stuck.history[0].fake, axis=1).mean()
    assert moved < 0.05 and stuck.history[-1].hq_fraction == 0.0
    assert learns.history[-1].hq_fraction > 0.9 and np.median(learns.curves["g_grad"][50:]) > 1000 * np.median(
        stuck.curves["g_grad"][50:])
    assert by_id("gan.saturating").answer(seed) == "nonsat"


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_digit_classes_most_classes_get_a_fair_share_at_the_end(seed):
    """Classes counted here from the run's samples (nearest class mean, within the radius), and the claim test's
    measurement (test_digits_start_as_one_grey_blur_then_split_into_the_ten_classes): three or fewer early."""
    state = _finished("digits", seed)
    last = state.history[-1]
    state.G.eval()                                  # as a snapshot samples it (the snapshot keeps 32 of them)
    with torch.no_grad():
        fake = state.G(state.z_show).numpy()
    state.G.train()
    covered = _coverage(fake, state.target.centres, state.target.radius)
    assert covered == last.modes_covered >= 7 and last.n_modes == 10
    assert max(s.modes_covered for s in state.history[:3]) <= 3
    assert by_id("gan.digit_classes").answer(seed) == "most"


@pytest.mark.slow
def test_the_answers_are_the_same_for_every_seed():
    for ex in for_lesson("gan"):
        assert len({ex.answer(seed) for seed in SEEDS}) == 1, ex.id
