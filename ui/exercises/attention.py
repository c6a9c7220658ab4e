"""Exercises of the attention lesson: each answer is computed by dlcore on the preset it names (attention by hand
and the saturation curve from ``dlcore.attention.mechanism``, the bundled toy Transformer from
``dlcore.attention.transformer``).

dlcore, and the experiment module that imports it, are imported inside the solvers: the course map counts
exercises before torch has loaded."""

from __future__ import annotations

from pathlib import Path

from ui.exercises import Exercise

S = "attention"
MODELS = Path(__file__).resolve().parents[2] / "assets" / "models" / S
LAYER = 1                    # the toy model's layer 2, where its cross-attention is clearest
SPREAD, PEAKED = 0.35, 0.8   # the average largest weight of a row: below SPREAD "spread", from PEAKED on "one key"


def _hand(preset: str, seed: int):
    from ui.experiments import attention as experiment

    return experiment.hand(experiment.settings(preset), seed)


def _nonzero_weights(seed: int) -> int:
    """How many cells of the weight heatmap are not zero (the masks leave the rest at exactly 0)."""
    return int((_hand("causal", seed).weights > 0).sum())


def _q4_top_weight(seed: int) -> float:
    """The largest weight in the last query's row (q4 of the typed example) at the preset's temperature."""
    return float(_hand("hard", seed).weights[-1].max())


def top_weight(seed: int) -> float:
    """The saturation curve's average largest weight of a row, unscaled, at the preset's d_k."""
    from dlcore.attention import mechanism as att
    from ui.experiments import attention as experiment

    values = experiment.settings("saturate")
    sat = att.saturation_curve(att.D_K_STEPS, int(values["n_tokens"]), seed)
    return float(sat.max_weight[1, att.D_K_STEPS.index(int(values["d_k"]))])


def _saturation(seed: int) -> str:
    top = top_weight(seed)
    return "spread" if top < SPREAD else "one" if top >= PEAKED else "half"


def _shuffle(seed: int) -> str:
    """Whether any word's output changes when the sentence is shuffled (the tab's bars)."""
    from dlcore.attention import mechanism as att
    from ui.experiments import attention as experiment

    values = experiment.settings("order_blind")
    change = att.permutation_demo(experiment.words(values), bool(values["use_pe"]), seed).change
    return "changes" if float(change.max()) > 1e-6 else "same"


def reverse_reading():
    """The bundled reverse model on the preset's digits (the toy tab's reading)."""
    import torch

    from dlcore.attention import transformer as tr
    from ui.experiments import attention as experiment

    values = experiment.settings("reverse")
    model = tr.unpack(torch.load(MODELS / f"{values['task']}.pt", weights_only=True))
    return tr.run_on(model, str(values["task"]), tr.parse_digits(str(values["digits"]))[0])


def _first_answer_looks_at(seed: int) -> str:
    """The source digit that layer 2's cross-attention (averaged over its heads) weighs most while the model
    writes its first answer digit: the first source digit, the last, or one in between."""
    reading = reverse_reading()
    n = len(reading.expected)
    where = int(reading.maps.cross[LAYER].mean(0)[0, :n].argmax())
    return "first" if where == 0 else "last" if where == n - 1 else "middle"


EXERCISES = (
    Exercise(S, "masked", "causal", _nonzero_weights),
    Exercise(S, "hard_tie", "hard", _q4_top_weight, tolerance=0.02),
    Exercise(S, "saturate", "saturate", _saturation, options=("spread", "half", "one")),
    Exercise(S, "shuffle", "order_blind", _shuffle, options=("same", "changes")),
    Exercise(S, "reverse", "reverse", _first_answer_looks_at, options=("first", "middle", "last")),
)
