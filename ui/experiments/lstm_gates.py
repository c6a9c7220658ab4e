"""The experiments behind the LSTM-gates lesson's presets and defaults (shared by the page, the claim tests and,
later, the exercises)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from dlcore.sequences import rnn, tasks
from ui.figures import lstm_gates as figs
from ui.figures.common import freeze
from ui.params import Param, defaults

TEXT_LIMITS = {"n": tasks.MAX_TYPED, "depth": tasks.MAX_DEPTH}   # what the sequence help and messages quote
SEQ = {name: f"seq_{name}" for name in tasks.TASKS}   # the typed sequence of each task (its own URL value)
SETTINGS: tuple[Param, ...] = (
    # step through a cell
    Param.choice("kind", "lstm", ("lstm", "gru"), widget="segmented", names="kinds"),
    Param.int("hidden", 2, lo=1, hi=rnn.MAX_HIDDEN_STEP),
    Param.float("x", 0.0, lo=-rnn.STATE_LIMIT, hi=rnn.STATE_LIMIT, step=0.1, help=True),
    Param.text("h", "0.5", max_len=60, help=True),
    Param.text("c", "1, -1", max_len=60, help=True),
    Param.choice("weights", "latch", rnn.WEIGHT_PRESETS, widget="segmented", names="weight_presets", help=True),
    Param.float("keep", 3.0, lo=-rnn.BIAS_LIMIT, hi=rnn.BIAS_LIMIT, step=0.5, help=True),
    # trained gates and live retraining
    Param.choice("task", "recall", tuple(tasks.TASKS), names="tasks"),
    Param.choice("model", "bundled", ("bundled", "mine"), widget="segmented", names="models"),
    *(Param.text(SEQ[name], task.example, max_len=2 * tasks.MAX_TYPED) for name, task in tasks.TASKS.items()),
    Param.choice("rt_kind", "lstm", tasks.MODEL_KINDS, names="kinds"),
    Param.int("rt_len", 40, lo=10, hi=tasks.MAX_TRAIN_LEN, help=True),
    # gradient flow
    Param.int("flow_len", 100, lo=2, hi=rnn.MAX_FLOW_LEN),
    Param.int("flow_hidden", 16, lo=1, hi=rnn.MAX_FLOW_HIDDEN),
    Param.float("radius", 1.0, lo=0.1, hi=2.0, step=0.05, help=True),
    Param.choice("init", "default", rnn.INITS, widget="segmented", names="inits", help=True),
    Param.float("flow_keep", 3.0, lo=-rnn.BIAS_LIMIT, hi=rnn.BIAS_LIMIT, step=0.5),
    Param.float("clip", 1.0, lo=0.1, hi=10.0, step=0.1, help=True),
)
DEFAULTS = defaults(SETTINGS)
RETRAIN_HIDDEN = 8   # units of a live retraining run: the setting of the RNN-vs-LSTM sweep (bundled recall has 4)

CELL = {"kind": "lstm", "hidden": 2, "weights": "latch", "x": 0.0, "h": "0.5", "c": "1, -1"}
FLOW = {"flow_len": 100, "flow_hidden": 16, "radius": 1.0, "init": "default", "flow_keep": 3.0, "clip": 1.0}
PRESETS: dict[str, dict[str, object]] = {
    "keep": {**CELL, "keep": 3.0},
    "drop": {**CELL, "keep": -3.0},
    "gru": {**CELL, "kind": "gru", "x": 1.0, "keep": 3.0},
    "rnn_fails": {"task": "recall", "rt_kind": "rnn_tanh", "rt_len": 30},
    "explode": {**FLOW, "radius": 2.0, "init": "default"},   # at 1.5 some seeds still vanish (ReLU RNN)
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


def step_figures(cfg: rnn.CellConfig, lab: Mapping[str, str], compact: bool = False) -> tuple[dict, ...]:
    """The step-through's figures (frozen specs: diagram, bars, memory with its closed form for the latch) and its
    equations; ``lab``: ``ui.i18n.labels("lstm_gates", figs.LABELS)``, so it also keys the page's cache by language;
    ``compact``: the diagram for a phone (values listed under it)."""
    res = rnn.step_through(cfg)
    ref = rnn.closed_form_memory(cfg.keep_bias, res.memory[0]) if cfg.weights == "latch" else None
    return (*map(freeze, figs.step_figures(cfg.kind, res.values, res.memory, ref, dict(lab), compact)),
            figs.equations(cfg.kind, res.values))


def state_vectors(values: Mapping[str, object]
                  ) -> tuple[tuple[float, ...], tuple[float, ...], list[tuple[str, str, float]]]:
    """h_{t-1} and C_{t-1} of the step-through as typed (a GRU has no C: zeros), each replaced by a constant
    (h 0.5, C 1.0) when it cannot be read; with (name, why, constant) for every replaced one."""
    H, lstm = int(values["hidden"]), values["kind"] == "lstm"
    out, problems = {}, []
    for name, fallback in (("h", 0.5), ("c", 1.0)):
        if name == "c" and not lstm:
            out[name] = (0.0,) * H
            continue
        try:
            out[name] = rnn.parse_vector(str(values[name]), H)
        except ValueError as err:
            out[name] = (fallback,) * H
            problems.append((name, str(err), fallback))
    return out["h"], out["c"], problems


def trained_notice(task: str, trace: tasks.GateTrace, roles: tasks.UnitRoles, featured: list[int]) -> dict[str, str]:
    """What the trained tab's note says about the last step and the ``featured`` units (its placeholders)."""
    gates = {k: "–" if math.isnan(x) else f"{x:.2f}" for k, x in tasks.gate_summary(trace, featured).items()}
    return {"pred": tasks.answer_text(task, trace.prediction[-1]), "target": tasks.answer_text(task, trace.target[-1]),
            "units": ", ".join(str(k + 1) for k in featured), "score": f"{roles.score[featured].min():.2f}", **gates}


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
