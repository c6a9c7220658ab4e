"""The experiments behind the optimizer race lesson's presets and defaults (shared by the page, the claim tests and,
later, the exercises)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dlcore import batch_noise as bn
from dlcore import optim as O

DEFAULT_RACERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton")   # tuples: never mutated

# setting name -> default; the start, the inspected point and the racers' hyperparameters come with the surface
DEFAULTS: dict[str, object] = {
    "surface": "quadratic", "kappa": 25.0, "angle": 30, "formula": O.CUSTOM_FORMULA, "half_width": 3.0,
    "more_starts": "", "steps": 300, "racers": DEFAULT_RACERS, "schedule": "constant", "step_size": 100,
    "gamma": 0.5, "warmup": 30, "view3d": False, "escape": 0.5, "bn_lr": 0.1, "bn_steps": 150, "sf_lr": 0.2,
    "sf_shift": 0.3,
}


def surface_defaults(surface: O.Surface) -> dict[str, object]:
    """What a surface brings along: its start (x0, y0), its inspected point (px, py) and every racer's
    hyperparameters with the learning rate suggested for it (keys "<racer>.<hyper>")."""
    out: dict[str, object] = {"x0": surface.start[0], "y0": surface.start[1], "px": surface.probe[0],
                              "py": surface.probe[1]}
    for kind in O.RACERS:
        out |= {f"{kind}.{name}": value for name, value in O.suggested_hypers(kind, surface).items()}
    return out


def _base(surface: str, start: tuple[float, float], probe: tuple[float, float]) -> dict[str, object]:
    """A preset's surface, start point and inspected point, with a constant learning rate."""
    return {"surface": surface, "x0": start[0], "y0": start[1], "px": probe[0], "py": probe[1], "schedule": "constant"}


RAV = _base("quadratic", (-2.6, 0.4), (0.0, 0.0))
ROS = _base("rosenbrock", (-1.2, 1.0), (1.0, 1.0))
HIM = _base("himmelblau", (0.5, -1.5), O.HIMMELBLAU_MAXIMUM)

PRESETS: dict[str, dict[str, object]] = {
    "ravine": RAV | {"kappa": 50.0, "angle": 30, "racers": ("sgd", "momentum", "nesterov"), "sgd.lr": 0.9,
                     "momentum.lr": 0.9, "nesterov.lr": 0.9, "steps": 300},
    # one eta for all three: only the denominators differ (on Rosenbrock no racer reaches the minimum in 1000 steps)
    "adagrad_crawl": HIM | {"racers": ("adagrad", "rmsprop", "adam"), "adagrad.lr": 0.05, "rmsprop.lr": 0.05,
                            "adam.lr": 0.05, "steps": 500},
    "saddle": RAV | {"surface": "saddle", "racers": ("sgd", "momentum", "adam", "newton"), "sgd.lr": 0.01,
                     "momentum.lr": 0.01, "adam.lr": 0.02, "x0": -1.9, "y0": 0.001, "steps": 300},
    # one eta for all three: 2.2 > 2 / lambda_max = 2 breaks SGD only
    "too_large": RAV | {"kappa": 10.0, "racers": ("sgd", "momentum", "adam"), "sgd.lr": 2.2, "momentum.lr": 2.2,
                        "adam.lr": 2.2},
    "warmup": ROS | {"racers": ("adam",), "adam.lr": 1.0, "schedule": "warmup", "warmup": 100, "steps": 600},
    "flat": {"sf_lr": 0.2, "sf_shift": 0.3},
}


def settings(preset: str | None = None) -> dict[str, object]:
    """Every setting of the lesson's default (``preset`` None) or of a preset applied to the default page."""
    values = dict(DEFAULTS) | (PRESETS[preset] if preset else {})
    surface = O.make_surface(str(values["surface"]), kappa=float(values["kappa"]), angle=float(values["angle"]),
                             formula=str(values["formula"]), half_width=float(values["half_width"]))
    return surface_defaults(surface) | values


def race_config(values: Mapping[str, object], starts: Sequence[tuple[float, float]] | None = None) -> O.RaceConfig:
    """The race the lab runs for these settings; ``starts`` defaults to the one start (x0, y0)."""
    kinds = list(values["racers"]) or ["sgd"]
    return O.RaceConfig(
        surface=str(values["surface"]), kappa=float(values["kappa"]), angle=float(values["angle"]),
        formula=str(values["formula"]), half_width=float(values["half_width"]),
        starts=tuple(starts) if starts is not None else ((float(values["x0"]), float(values["y0"])),),
        steps=int(values["steps"]),
        racers=tuple(O.RacerSpec(k, tuple((h.name, float(values[f"{k}.{h.name}"])) for h in O.RACERS[k].hypers))
                     for k in kinds),
        schedule=O.Schedule(str(values["schedule"]), int(values["step_size"]), float(values["gamma"]),
                            int(values["warmup"])))


def regression_config(values: Mapping[str, object], seed: int) -> bn.RegressionConfig:
    """The line fit of the batch-noise tab."""
    return bn.RegressionConfig(lr=float(values["bn_lr"]), steps=int(values["bn_steps"]), seed=seed)


def sharp_flat_config(values: Mapping[str, object], seed: int) -> bn.SharpFlatConfig:
    """The sharp / flat experiment of the batch-noise tab."""
    return bn.SharpFlatConfig(lr=float(values["sf_lr"]), test_shift=float(values["sf_shift"]), seed=seed)
