"""Exercises of the activations lesson: each answer is computed by dlcore on the preset it names (the signal through a
deep net from ``dlcore.activations``, the training race from ``dlcore.deep_training``).

dlcore, and the experiment module that imports it, are imported inside the solvers: the course map counts
exercises before torch has loaded."""

from __future__ import annotations

import math

from ui.exercises import Exercise

S = "activations"
FACTORS = {"half": 0.5, "inv_sqrt2": 1 / math.sqrt(2), "one": 1.0, "sqrt2": math.sqrt(2)}   # a choice's values
LEVEL = 10.0   # the backward signal is "level" while it changes by less than this factor (presets.bn_rescue.note)


def _stats(preset: str, seed: int):
    """The layer-by-layer table of the signal tab for ``preset`` and the global seed ``seed``, as the page draws it."""
    from dlcore import activations as act
    from ui.experiments import activations as experiment

    return act.deep_signal_fast(experiment.signal_config(experiment.values(preset), seed), "cpu").stats


def _spread_factor(preset: str, seed: int) -> float:
    """The geometric-mean factor per layer by which the spread of the activations changes, from the standard-normal
    input (spread 1) to the last layer."""
    s = _stats(preset, seed)["act_std"]
    return float(s.iloc[-1]) ** (1 / len(s))


def _per_layer(seed: int) -> float:
    """The collapse preset's factor per layer, to two decimals (what a learner reads off the figure)."""
    return round(_spread_factor("collapse", seed), 2)


def _nearest_factor(seed: int) -> str:
    """Which of ``FACTORS`` the missing_two preset's factor per layer is nearest (on a log scale)."""
    f = _spread_factor("missing_two", seed)
    return min(FACTORS, key=lambda name: abs(math.log(f / FACTORS[name])))


def _backward(preset: str, seed: int) -> str:
    """What the backward pass does to ‖∂L/∂z‖ from the last layer back to the first: the headline ratio."""
    from dlcore import activations as act

    ratio = act.backward_ratio(_stats(preset, seed))
    if not math.isfinite(ratio):
        raise RuntimeError(f"{preset}: backward ratio {ratio}")
    return "vanishes" if ratio < 1 / LEVEL else "explodes" if ratio > LEVEL else "level"


def _dead_relus(seed: int) -> str:
    """What happens to the share of dead ReLUs in the dead_lr race (the ReLU racer)."""
    from dlcore import deep_training as dt
    from ui.experiments import activations as experiment

    v = experiment.values("dead_lr")
    racers = experiment.racers(v)
    runs = dict(zip(racers, dt.race(experiment.race_config(v, seed), racers, "cpu")))
    dead = runs["relu|kaiming_normal"].dead_frac
    start, end = float(dead[0]), float(dead[-1])
    if end > 0.5:
        return "above_half"
    if end == 0:
        return "zero"
    if abs(end - start) < 0.1:
        return "stays"
    raise RuntimeError(f"dead ReLUs {start:.2f} -> {end:.2f}: none of the options")


EXERCISES = (
    Exercise(S, "collapse", "collapse", _per_layer, tolerance=0.02),
    Exercise(S, "missing_two", "missing_two", _nearest_factor, options=tuple(FACTORS)),
    Exercise(S, "saturate", "saturate", lambda seed: _backward("saturate", seed),
             options=("vanishes", "level", "explodes")),
    Exercise(S, "bn_rescue", "bn_rescue", lambda seed: _backward("bn_rescue", seed),
             options=("vanishes", "level", "explodes")),
    Exercise(S, "dead_lr", "dead_lr", _dead_relus, options=("zero", "stays", "above_half")),
)
