"""Exercises of the receptive-field lesson: each answer is computed by dlcore on the preset it names (the layer table
from ``dlcore.receptive_field.table``, the effective field from ``dlcore.receptive_field.effective_field``).

dlcore, and the experiment module that imports it, are imported inside the solvers: the course map counts
exercises before torch has loaded."""

from __future__ import annotations

from ui.exercises import Exercise

S = "receptive_field"


def _table(preset: str):
    from ui.experiments import receptive_field as experiment

    return experiment.table(experiment.settings(preset))


def _last_field(preset: str) -> int:
    """The receptive field r of the table's last layer, in input pixels."""
    return int(_table(preset).rf.iloc[-1])


def _widens_more() -> str:
    """Which of the preset's two downsampling layers, the 2x2 max pool or the stride-2 conv, adds more pixels to the
    receptive field than the layer before it had."""
    df = _table("pool_vs_stride")
    added = {}
    for name, short in (("pool", "pool"), ("conv_s2", "conv")):
        i = list(df.name).index(name)
        added[short] = int(df.rf.iloc[i] - df.rf.iloc[i - 1])
    return "same" if added["pool"] == added["conv"] else max(added, key=added.get)


def effective_field(seed: int):
    """The effective-field tab's measurement of the preset's stack (``rf.ERFResult``)."""
    from dlcore import receptive_field as rf
    from ui.experiments import receptive_field as experiment

    values = experiment.settings("erf")
    layers, n = experiment.erf_stack(values)
    return rf.effective_field(layers, experiment.erf_config(values, n, seed))


EXERCISES = (
    Exercise(S, "two_3x3", "vgg", lambda seed: _last_field("vgg")),
    Exercise(S, "early_stride", "early_stride", lambda seed: _last_field("early_stride")),
    Exercise(S, "pool_or_stride", "pool_vs_stride", lambda seed: _widens_more(), options=("pool", "conv", "same")),
    Exercise(S, "dilated", "dilated", lambda seed: _last_field("dilated")),
    Exercise(S, "effective", "erf", lambda seed: effective_field(seed).erf_random, tolerance=0.25),
)
