"""Exercises of the LSTM-gates lesson: each answer is computed by dlcore on the preset it names (the step-through
from ``dlcore.sequences.rnn.step_through``, the live recall run from ``dlcore.sequences.tasks``, the gradient flow from
``dlcore.sequences.rnn.flow``).

dlcore, and the experiment module that imports it, are imported inside the solvers: the course map counts
exercises before torch has loaded."""

from __future__ import annotations

from ui.exercises import Exercise

S = "lstm_gates"
LOW, HIGH = 0.4, 0.9   # the options' bounds on recall accuracy (chance: 25%, one of four symbols)


def _step(preset: str, seed: int):
    from dlcore.sequences import rnn
    from ui.experiments import lstm_gates as experiment

    return rnn.step_through(experiment.cell_config(experiment.settings(preset), seed))


def _memory_left(seed: int) -> float:
    """The share of the cell state left after the step-through's MEMORY_STEPS steps of zero input (the memory
    curve's last point over its first)."""
    memory = _step("keep", seed).memory
    return float(memory[-1, 0] / memory[0, 0])


def _gru_follows(seed: int) -> str:
    """Whether the GRU's new hidden state lies nearer the candidate h̃ or the old state h_{t-1} (every unit)."""
    v = _step("gru", seed).values
    near = abs(v["h"] - v["n"]) < abs(v["h"] - v["h_prev"])
    if near.all():
        return "candidate"
    if not near.any():
        return "old"
    raise RuntimeError("the GRU's units disagree")


def recall_accuracy(seed: int) -> float:
    """A live retraining run on recall, as the page's "Retrain live" starts it with the preset's model; its
    accuracy on the evaluation set."""
    from dlcore.sequences import tasks
    from ui.experiments import lstm_gates as experiment

    state = tasks.init_training(experiment.retrain_config("recall", experiment.settings("rnn_fails"), seed))
    while not state.done:
        tasks.train_steps(state, 200)
    return state.accuracy


def _recall(seed: int) -> str:
    accuracy = recall_accuracy(seed)
    return "low" if accuracy < LOW else "high" if accuracy > HIGH else "middle"


def _flows(seed: int):
    from ui.experiments import lstm_gates as experiment

    return experiment.flows(experiment.flow_config(experiment.settings("explode"), seed))


def _largest_first_step_gradient(seed: int) -> str:
    """The cell whose gradient reaching the first step, ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖, is largest (the table's first
    column)."""
    res = _flows(seed)
    return max(res, key=lambda kind: float(res[kind].norms[0] / res[kind].norms[-1]))


def _clipped_norm(seed: int) -> float:
    """The ReLU RNN's parameter-gradient norm after clipping (the table's last column)."""
    return _flows(seed)["rnn_relu"].clipped_norm


EXERCISES = (
    Exercise(S, "memory_left", "keep", _memory_left, tolerance=0.05),
    Exercise(S, "gru_update", "gru", _gru_follows, options=("old", "candidate")),
    Exercise(S, "rnn_recall", "rnn_fails", _recall, options=("low", "middle", "high")),
    Exercise(S, "explode", "explode", _largest_first_step_gradient, options=("rnn_tanh", "rnn_relu", "gru", "lstm")),
    Exercise(S, "clip", "explode", _clipped_norm, tolerance=0.05),
)
