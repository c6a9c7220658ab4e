"""The activations lesson's settings (each declared once), presets and experiments (shared by the page, the claim
tests and, later, the exercises): a signal sent through a deep net, the training race, and curves from pieces."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from dlcore import activations as act
from dlcore import curve_pieces as cp
from dlcore import deep_training as dt
from ui.params import Param, defaults

NAMES = tuple(act.ACTIVATIONS)
WIDTHS, BATCHES = (16, 32, 64, 128, 256, 512), (32, 64, 128, 256)
SCALES = (0.001, 0.01, 0.03, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
TRAIN_WIDTHS, LRS = (8, 16, 32, 64, 128), (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
STEPS = (50, 100, 200, 300, 500, 1000)
TARGETS = (*cp.TARGETS, "custom")

# every setting of the lesson, once (the widgets' keys and URL parameters are "activations.<name>")
SETTINGS: tuple[Param, ...] = (
    Param.multi("show", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu"], NAMES, names="names"),
    Param.float("slope", 0.01, lo=0.0, hi=0.5, step=0.01, help=True),
    Param.float("span", 6.0, lo=2.0, hi=10.0, step=0.5),
    # signal through a deep net: sigmoid with Xavier shows the vanishing gradient
    Param.int("depth", 20, lo=1, hi=act.MAX_DEPTH),
    Param.choice("width", 256, WIDTHS, widget="select_slider"),
    Param.choice("batch", 256, BATCHES, widget="select_slider"),
    Param.choice("activation", "sigmoid", NAMES, names="names"),
    Param.choice("init", "xavier_normal", act.INITS, names="inits"),
    Param.choice("scale", 0.05, SCALES, widget="select_slider", help=True),
    Param.bool("bn", False, help=True),
    # train and compare (depth, width and BatchNorm of the trained net carry the signal's labels)
    Param.multi("racers", list(dt.RACERS[:4]), dt.RACERS),
    Param.int("t_depth", 8, lo=1, hi=dt.MAX_DEPTH),
    Param.choice("t_width", 32, TRAIN_WIDTHS, widget="select_slider"),
    Param.choice("optimizer", "sgd", dt.OPTIMIZERS, names="optimizers"),
    Param.choice("lr", 0.1, LRS, widget="select_slider", fmt="g"),
    Param.choice("steps", 200, STEPS, widget="select_slider"),
    Param.choice("dataset", "moons", dt.DATASETS, names="datasets"),
    Param.bool("t_bn", False),
    # any curve from pieces
    Param.choice("target", "wave", TARGETS, names="targets"),
    Param.text("formula", "sin(3*x) * exp(-x**2 / 4)", max_len=cp.MAX_FORMULA, help=True),
    Param.choice("kind", "sigmoid", cp.KINDS, names="kinds"),
    Param.int("pieces", 12, lo=1, hi=cp.MAX_PIECES),
)
DEFAULTS = defaults(SETTINGS)   # setting name -> default value

FRAMES = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50)   # piece counts of the pieces view's animation

# preset name -> the settings it changes; TAB says which tab it opens
PRESETS: dict[str, dict[str, object]] = {
    "collapse": {"activation": "tanh", "init": "normal", "scale": 0.01, "depth": 20, "width": 256, "bn": False},
    "saturate": {"activation": "tanh", "init": "normal", "scale": 1.0, "depth": 20, "width": 256, "bn": False},
    "kaiming": {"activation": "relu", "init": "kaiming_normal", "scale": 0.05, "depth": 50, "width": 512, "bn": False},
    "missing_two": {"activation": "relu", "init": "xavier_normal", "scale": 0.05, "depth": 50, "width": 512,
                    "bn": False},
    "bn_rescue": {"activation": "tanh", "init": "normal", "scale": 0.01, "depth": 20, "width": 256, "bn": True},
    "dead_lr": {"racers": ["relu|kaiming_normal", "leaky_relu|kaiming_normal", "tanh|xavier_normal"],
                "optimizer": "adam", "lr": 0.1, "t_depth": 8, "t_width": 32, "t_bn": False,
                "steps": 100},   # 100 steps: the ReLUs die within ten; the race takes seconds, not a minute
}
TAB: dict[str, str] = {name: "train" if name == "dead_lr" else "signal" for name in PRESETS}


def values(preset: str | None = None) -> dict[str, object]:
    """The settings of ``preset`` merged over the defaults (the defaults alone for None)."""
    return DEFAULTS | (PRESETS[preset] if preset else {})


def init_name(v: Mapping[str, object]) -> str:
    """The dlcore init name: ``"normal_0.01"`` for the scaled initializations, else the init itself."""
    return f"{v['init']}_{v['scale']:g}" if v["init"] in act.SCALED_INITS else str(v["init"])


def signal_config(v: Mapping[str, object], seed: int) -> act.SignalConfig:
    """The deep-signal experiment of the settings ``v`` (the slope only where the activation reads it)."""
    return act.SignalConfig(depth=int(v["depth"]), width=int(v["width"]), activation=str(v["activation"]),
                            init=init_name(v), batch=int(v["batch"]), batchnorm=bool(v["bn"]),
                            slope=act.relevant_slope([str(v["activation"])], float(v["slope"])), seed=seed)


def racers(v: Mapping[str, object]) -> tuple[str, ...]:
    """The racers of ``v`` ("<activation>|<init>"), the first one if none is picked."""
    return tuple(v["racers"]) or dt.RACERS[:1]


def race_config(v: Mapping[str, object], seed: int) -> dt.TrainConfig:
    """The training race of the settings ``v``: about 50 records per run."""
    slope = act.relevant_slope([r.partition("|")[0] for r in racers(v)], float(v["slope"]))
    steps = int(v["steps"])
    return dt.TrainConfig(depth=int(v["t_depth"]), width=int(v["t_width"]), optimizer=str(v["optimizer"]),
                          lr=float(v["lr"]), steps=steps, dataset=str(v["dataset"]), batchnorm=bool(v["t_bn"]),
                          slope=slope, record_every=max(1, steps // 50), seed=seed)


def formula(v: Mapping[str, object]) -> str:
    """The curve the pieces tab fits: a named target's formula, or the typed one."""
    return cp.TARGETS.get(str(v["target"]), str(v["formula"]))


def pieces(formula: str, kind: str, n: int) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    """The pieces tab's animation: the target on its grid, and (N, pieces, offset, sum, largest error) for every
    frame's N and for ``n`` (where the figure opens; its slider is the tab's one control of N). Raises
    ``dlcore.expr.ExpressionError`` for a formula it cannot draw."""
    ns = tuple(sorted({*FRAMES, n}))
    built = [cp.build_from_pieces(formula, k, kind) for k in ns]
    return built[0].x, built[0].target, [(k, b.pieces, b.offset, b.total, b.max_error) for k, b in zip(ns, built)]


def piece_errors(formula: str) -> dict[str, np.ndarray]:
    """The largest error of every kind of piece at every frame's N (the error-against-N figure)."""
    return {kind: cp.error_curve(formula, kind, FRAMES) for kind in cp.KINDS}
