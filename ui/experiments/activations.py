"""The experiments behind the activations lesson's presets and defaults (shared by the page, the claim tests and,
later, the exercises): a signal sent through a deep net, and the training race."""

from __future__ import annotations

from collections.abc import Mapping

from dlcore import activations as act
from dlcore import curve_pieces as cp
from dlcore import deep_training as dt

# setting name -> the page's default value (the widgets' keys are "activations.<name>")
DEFAULTS: dict[str, object] = {
    "show": ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu"], "slope": 0.01, "span": 6.0,
    # signal through a deep net: sigmoid with Xavier shows the vanishing gradient
    "depth": 20, "width": 256, "batch": 256, "activation": "sigmoid", "init": "xavier_normal", "scale": 0.05,
    "bn": False,
    # train and compare
    "racers": list(dt.RACERS[:4]), "t_depth": 8, "t_width": 32, "optimizer": "sgd", "lr": 0.1, "steps": 200,
    "dataset": "moons", "t_bn": False,
    # any curve from pieces
    "target": "wave", "formula": "sin(3*x) * exp(-x**2 / 4)", "kind": "sigmoid", "pieces": 12,
}

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
                "optimizer": "adam", "lr": 0.1, "t_depth": 8, "t_width": 32, "t_bn": False},
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
