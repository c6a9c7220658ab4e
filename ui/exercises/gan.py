"""Exercises of the GAN lesson: each answer is computed by dlcore.gan on the preset it names (its run through
``ui.experiments.gan.preset``, played to the end as the live tab plays it). The presets chosen train in a few
seconds on one core (the WGAN-GP preset, several times dearer, has no exercise).

dlcore, and the experiment module that imports it, are imported inside the solvers: the course map counts
exercises before torch has loaded."""

from __future__ import annotations

from ui.exercises import Exercise

ON_THE_BLOB = 0.9   # share of high-quality samples above which the generator has reached the data


def _finished(preset: str, seed: int, **changes: object):
    """The run of ``preset`` (``changes`` on top) played to its last step: a ``dlcore.gan.GANState``."""
    from dlcore import gan
    from ui.experiments import gan as experiment

    state = gan.init_state(experiment.preset(preset, seed, **changes))
    while not state.done:
        gan.advance(state, gan.MAX_STEPS_PER_TICK)
    return state


def _d_on_the_data(seed: int) -> float:
    """The trained D(x) at the end of the 1D run, averaged where the data has mass, to one decimal."""
    from dlcore import gan

    state = _finished("paper1d", seed)
    where = gan.mixture1d_density(state.grid[:, 0]).numpy() > 0.05
    return round(float(state.history[-1].d_grid[where].mean()), 1)


def _bucket(covered: int, few: int, most: int) -> str:
    return "few" if covered <= few else "most" if covered >= most else "some"


def _ring_modes(seed: int) -> str:
    """How many of the ring's eight modes get a fair share at the end of the collapse run."""
    snap = _finished("collapse", seed).history[-1]
    return "all" if snap.modes_covered == snap.n_modes else _bucket(snap.modes_covered, 3, snap.n_modes)


def _loss_that_moves(seed: int) -> str:
    """Which generator loss gets the samples onto the blob: the preset's minimax loss, non-saturating, both, neither."""
    moves = {loss: _finished("saturating", seed, loss=loss).history[-1].hq_fraction > ON_THE_BLOB
             for loss in ("minimax", "nonsat")}
    return {(True, True): "both", (True, False): "minimax", (False, True): "nonsat", (False, False): "neither"}[
        (moves["minimax"], moves["nonsat"])]


def _digit_classes(seed: int) -> str:
    """How many of the ten digit classes get a fair share at the end of the digits run."""
    return _bucket(_finished("digits", seed).history[-1].modes_covered, 3, 7)


EXERCISES = (
    Exercise("gan", "d_half", "paper1d", _d_on_the_data, tolerance=0.1),
    Exercise("gan", "ring_modes", "collapse", _ring_modes, options=("all", "some", "few")),
    Exercise("gan", "saturating", "saturating", _loss_that_moves, options=("minimax", "nonsat", "both", "neither")),
    Exercise("gan", "digit_classes", "digits", _digit_classes, options=("few", "some", "most")),
)
