"""The experiments behind the LSTM-gates lesson's presets and defaults (shared by the page, the claim tests and,
later, the exercises)."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from dlcore import rnn
from dlcore import seq_tasks as tasks

DEFAULTS: dict[str, object] = {
    # step through a cell
    "kind": "lstm", "hidden": 2, "x": 0.0, "h": "0.5", "c": "1, -1", "weights": "latch", "keep": 3.0,
    # trained gates and live retraining
    "task": "recall", "rt_kind": "lstm", "rt_len": 40,
    # gradient flow
    "flow_len": 100, "flow_hidden": 16, "radius": 1.0, "init": "default", "flow_keep": 3.0, "clip": 1.0,
}
RETRAIN_HIDDEN = 8   # units of a live retraining run: the setting of the RNN-vs-LSTM sweep (bundled recall has 4)

CELL = {"kind": "lstm", "hidden": 2, "weights": "latch", "x": 0.0, "h": "0.5", "c": "1, -1"}
FLOW = {"flow_len": 100, "flow_hidden": 16, "radius": 1.0, "init": "default", "flow_keep": 3.0, "clip": 1.0}
PRESETS: dict[str, dict[str, object]] = {
    "keep": {**CELL, "keep": 3.0},
    "drop": {**CELL, "keep": -3.0},
    "gru": {**CELL, "kind": "gru", "x": 1.0, "keep": 3.0},
    "rnn_fails": {"task": "recall", "rt_kind": "rnn_tanh", "rt_len": 30},
    "explode": {**FLOW, "radius": 2.0, "init": "default"},   # at 1.5 the ReLU RNN's gradient still vanishes for some seeds
    "irnn": {**FLOW, "init": "identity"},
}
TAB = {"keep": "cell", "drop": "cell", "gru": "cell", "rnn_fails": "trained", "explode": "flow", "irnn": "flow"}


def settings(preset: str | None = None) -> dict[str, object]:
    """The lesson's settings: the defaults, with ``preset``'s values merged over them."""
    return {**DEFAULTS, **(PRESETS[preset] if preset else {})}


def cell_config(values: Mapping[str, object], seed: int, h: tuple[float, ...] | None = None,
                c: tuple[float, ...] | None = None) -> rnn.CellConfig:
    """The step-through of ``values``; ``h``, ``c``: the already-parsed state vectors (default: parse the settings)."""
    H, lstm = int(values["hidden"]), values["kind"] == "lstm"
    h = rnn.parse_vector(str(values["h"]), H) if h is None else h
    c = (rnn.parse_vector(str(values["c"]), H) if lstm else (0.0,) * H) if c is None else c
    return rnn.CellConfig(str(values["kind"]), H, float(values["x"]), h, c, str(values["weights"]),
                          float(values["keep"]), seed)


def flow_config(values: Mapping[str, object], seed: int) -> rnn.FlowConfig:
    """The gradient-flow experiment of ``values``."""
    return rnn.FlowConfig(int(values["flow_len"]), int(values["flow_hidden"]), float(values["radius"]),
                          str(values["init"]), float(values["flow_keep"]), float(values["clip"]), seed)


def flows(config: rnn.FlowConfig, device: torch.device | str = "cpu") -> dict[str, rnn.FlowResult]:
    """Every cell kind under one gradient-flow config (the figure's curves and the table's rows)."""
    return {kind: rnn.flow(kind, config, device) for kind in rnn.KINDS}


def retrain_config(task: str, values: Mapping[str, object], seed: int) -> tasks.TrainConfig:
    """A live retraining run on ``task``: the bundled model's schedule with the chosen kind and length."""
    return tasks.TrainConfig.for_task(task, kind=str(values["rt_kind"]), max_len=int(values["rt_len"]),
                                      hidden=RETRAIN_HIDDEN, seed=seed)
