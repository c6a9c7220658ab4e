"""Exercises of the convolution lesson: each answer is computed by dlcore.conv on the preset it names.

dlcore is imported inside the solvers: the course map counts exercises before torch has loaded."""

from __future__ import annotations

from ui.exercises import Exercise
from ui.experiments import convolution as experiment


def _output_side(preset: str) -> int:
    from dlcore import conv

    v = experiment.settings(preset)
    return conv.conv_output_size(v["size"], v["k"], v["stride"], v["padding"], v["dilation"])


def _transposed_side(preset: str) -> int:
    from dlcore import conv

    v = experiment.settings(preset)
    return conv.conv_transpose_output_size(v["size"], v["k"], v["stride"], v["padding"], v["dilation"],
                                           v["output_padding"])


def _even_kernel() -> str:
    """Which of the two presets' kernels writes every output cell equally often (no checkerboard)."""
    from dlcore import conv

    for preset in ("checker", "no_checker"):
        v = experiment.settings(preset)
        counts = conv.overlap_counts(8, 8, v["k"], v["stride"])
        inner = counts[v["k"]:-v["k"], v["k"]:-v["k"]]   # away from the borders
        if int(inner.max()) == int(inner.min()):
            return str(v["k"])
    raise RuntimeError("neither kernel overlaps evenly")


EXERCISES = (
    Exercise("convolution", "same_size", "same", lambda seed: _output_side("same")),
    Exercise("convolution", "halve", "halve", lambda seed: _output_side("halve")),
    Exercise("convolution", "dilated", "dilated", lambda seed: _output_side("dilated")),
    Exercise("convolution", "undo", "undo", lambda seed: _transposed_side("undo")),
    Exercise("convolution", "even_kernel", "no_checker", lambda seed: _even_kernel(), options=("3", "4")),
)
