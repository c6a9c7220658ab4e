"""Exercises of the normalization lesson: each answer is computed by dlcore on the preset it names, through the
lesson's experiment module (``ui.experiments.normalization``: its settings and config builders).

dlcore, and the experiment module that imports it, are imported inside the solvers: the course map counts
exercises before torch has loaded."""

from __future__ import annotations

from ui.exercises import Exercise

SETTLED = 0.1   # eval mode "agrees" with train mode once the mismatch (RMS) is below this (the page's drift note)
SOON = 20       # steps after the layer stops: "soon"


def _shared_with_group_one(seed: int) -> int:
    """How many values of the cube share the picked cell's mean and variance, GroupNorm with one group."""
    from ui.experiments import normalization as experiment

    return int(experiment.set_note(experiment.values("group_as_layer"))["m"])


def _moves_with_padding(seed: int) -> str:
    """The one normalization whose output on a real token changes as the batch carries more padding."""
    from dlcore.normalization import lab
    from ui.experiments import normalization as experiment

    sq = lab.sequences(experiment.sequence_config(experiment.values("padded_ln"), seed))
    moved = [kind for kind, out in sq.sweep.items() if float(out.max() - out.min()) > 1e-4]
    if len(moved) != 1:
        raise RuntimeError(f"expected one normalization to move with the padding, got {moved}")
    return moved[0]


def _final_accuracies(preset: str, seed: int, batch: int | None = None) -> dict[tuple[str, int], float]:
    """Final test accuracy of each run of the preset's training grid (only the runs of ``batch`` if given)."""
    from dlcore.normalization import training
    from ui.experiments import normalization as experiment

    return {(c.method, c.batch): float(training.train(c).test_acc[-1])
            for c in experiment.train_configs(experiment.values(preset), seed) if batch in (None, c.batch)}


def _worst_at_batch_two(seed: int) -> str:
    """The method with the lowest final test accuracy at batch size 2 in the batch-of-two grid."""
    acc = _final_accuracies("batch_of_two", seed, batch=2)
    return min((a, method) for (method, _), a in acc.items())[1]


def _learns_at_high_lr(seed: int) -> str:
    """Which network learns (final test accuracy above the page's "stalled" line) at every batch size of the grid."""
    from ui.experiments import normalization as experiment

    acc = _final_accuracies("high_lr", seed)
    learns = {m: all(a >= experiment.STALLED for (method, _), a in acc.items() if method == m)
              for m in ("none", "batch")}
    return {(True, True): "both", (True, False): "plain", (False, True): "batch", (False, False): "neither"}[
        (learns["none"], learns["batch"])]


def _eval_agrees(seed: int) -> str:
    """How soon after the layer stops moving eval mode's output matches train mode's (mismatch below SETTLED)."""
    from dlcore.normalization import lab
    from ui.experiments import normalization as experiment

    v = experiment.values("eval_too_early")
    d = lab.train_eval_drift(experiment.drift_config(v, seed))
    stop = int(v["drift_until"])
    after = d.mismatch[stop - 1:] < SETTLED            # from the step at which the layer stops (1-based: stop)
    if not after.any():
        return "never"
    return "soon" if int(after.argmax()) <= SOON else "later"


EXERCISES = (
    Exercise("normalization", "group_one", "group_as_layer", _shared_with_group_one),
    Exercise("normalization", "padding", "padded_ln", _moves_with_padding, options=("bn", "masked_bn", "ln")),
    Exercise("normalization", "batch_of_two", "batch_of_two", _worst_at_batch_two, options=("batch", "layer", "group")),
    Exercise("normalization", "high_lr", "high_lr", _learns_at_high_lr, options=("plain", "batch", "both", "neither")),
    Exercise("normalization", "eval_early", "eval_too_early", _eval_agrees, options=("soon", "later", "never")),
)
