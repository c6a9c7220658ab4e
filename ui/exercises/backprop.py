"""Exercises of the backpropagation lesson: each answer is computed by dlcore.backprop on the preset it names.

dlcore is imported inside the solvers: the course map counts exercises before torch has loaded."""

from __future__ import annotations

import math

from ui.exercises import Exercise
from ui.experiments import backprop as experiment


def _grad(preset: str, name: str) -> float:
    return experiment.trace_of(preset).grads[name]


def _routed(preset: str) -> str:
    """Which input of the max gate receives the upstream gradient (the other gets exactly 0)."""
    grads = experiment.trace_of(preset).grads
    winners = [n for n in ("x", "y") if grads[n] != 0.0]
    if len(winners) != 1:
        raise RuntimeError(f"the max gate of {preset} does not route to one input: {grads}")
    return winners[0]


def _relu_slope(preset: str) -> str:
    """The slope PyTorch gives ReLU at exactly 0, read off the backpropagated gradient of z (upstream is 1)."""
    return format(_grad(preset, "z"), "g")


def _best_h(preset: str) -> float:
    """The order of magnitude (log10) of the step h with the smallest relative error of the gradient check."""
    from dlcore import backprop

    expression, given, _ = experiment.inputs(experiment.settings(preset))
    return round(math.log10(backprop.best_step(backprop.gradient_check(expression, given))))


def _dw1_shape(preset: str, seed: int) -> str:
    """The shape of dW1 in the matrix tab's two-layer network, as "rows x cols"."""
    from dlcore import backprop

    r, c = backprop.two_layer_gradients(experiment.net_config(experiment.settings(preset), seed)).manual["dW1"].shape
    return f"{r}x{c}"


EXERCISES = (
    Exercise("backprop", "chain_dx", "chain", lambda seed: _grad("chain", "x"), tolerance=0.01),
    Exercise("backprop", "twice_dx", "twice", lambda seed: _grad("twice", "x"), tolerance=0.01),
    Exercise("backprop", "max_route", "max_relu", lambda seed: _routed("max_relu"), options=("x", "y")),
    Exercise("backprop", "relu_zero", "max_relu", lambda seed: _relu_slope("max_relu"), options=("0", "0.5", "1")),
    Exercise("backprop", "best_h", "staged", lambda seed: _best_h("staged"), tolerance=0.2),
    Exercise("backprop", "dw1_shape", "neuron", lambda seed: _dw1_shape("neuron", seed),
             options=("3x5", "5x3", "4x5", "4x3")),
)
