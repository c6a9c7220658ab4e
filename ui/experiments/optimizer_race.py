"""The optimizer race lesson's settings, each declared once, and the experiments behind its presets and defaults
(shared by the page, the claim tests and, later, the exercises)."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace

from dlcore import batch_noise as bn
from dlcore import optim as O
from dlcore.expr import ExpressionError
from ui.params import InvalidValue, Param, defaults

SLUG = "optimizer_race"
SURFACE_NAMES = (*O.SURFACES, "custom")
KAPPAS = (1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0)
DEFAULT_RACERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton")   # tuples: never mutated
W = O.MAX_HALF_WIDTH


def surface_defaults(surface: O.Surface) -> dict[str, object]:
    """What a surface brings along: its start (x0, y0), its inspected point (px, py) and every racer's
    hyperparameters with the learning rate suggested for it (keys "<racer>.<hyper>")."""
    out: dict[str, object] = {"x0": surface.start[0], "y0": surface.start[1], "px": surface.probe[0],
                              "py": surface.probe[1]}
    for kind in O.RACERS:
        out |= {f"{kind}.{name}": value for name, value in O.suggested_hypers(kind, surface).items()}
    return out


_BRINGS = surface_defaults(O.make_surface("quadratic"))   # the defaults below that come with the default surface

SETTINGS: tuple[Param, ...] = (
    Param.choice("surface", "quadratic", SURFACE_NAMES, names="surfaces"),
    Param.choice("kappa", 25.0, KAPPAS, widget="select_slider", help=True),
    Param.int("angle", 30, lo=-90, hi=90, step=15),
    Param.text("formula", O.CUSTOM_FORMULA, help=True),
    Param.float("half_width", 3.0, lo=0.5, hi=W, step=0.5, widget="number"),
    Param.float("x0", _BRINGS["x0"], lo=-W, hi=W, step=0.1, widget="number"),
    Param.float("y0", _BRINGS["y0"], lo=-W, hi=W, step=0.1, widget="number"),
    Param.text("more_starts", "", max_len=120, help=True),
    Param.int("steps", 300, lo=10, hi=O.MAX_STEPS, step=10),
    Param.multi("racers", DEFAULT_RACERS, list(O.RACERS), names="racer"),
    Param.choice("schedule", "constant", O.SCHEDULES, names="schedules"),
    Param.int("step_size", 100, lo=1, hi=O.MAX_STEPS),
    Param.float("gamma", 0.5, lo=0.01, hi=1.0),
    Param.int("warmup", 30, lo=1, hi=O.MAX_STEPS),
    Param.bool("view3d", False),
    Param.float("px", _BRINGS["px"], lo=-W, hi=W, step=0.1, widget="number"),
    Param.float("py", _BRINGS["py"], lo=-W, hi=W, step=0.1, widget="number"),
    Param.float("escape", 0.5, lo=0.05, hi=2.0),
    Param.float("bn_lr", 0.1, lo=0.01, hi=1.0),
    Param.int("bn_steps", 150, lo=10, hi=500, step=10),
    Param.float("sf_lr", 0.2, lo=0.01, hi=0.5),
    Param.float("sf_shift", 0.3, lo=0.0, hi=bn.MAX_TEST_SHIFT),
    # every racer's hyperparameters, "<racer>.<hyper>", in the ranges dlcore.optim.RACERS allows
    *(Param.float(f"{kind}.{h.name}", _BRINGS[f"{kind}.{h.name}"], lo=h.lo, hi=h.hi,
                  step=h.lo if h.lo > 0 else 0.01, widget="number")
      for kind, racer in O.RACERS.items() for h in racer.hypers),
)
DEFAULTS = defaults(SETTINGS)


def declared(surface: object = None) -> tuple[Param, ...]:
    """``SETTINGS`` with the defaults that ``surface`` brings (its start, inspected point and the racers'
    hyperparameters): the surface now shown, from the session or the URL; anything else counts as the default."""
    try:
        name = next(p for p in SETTINGS if p.name == "surface").check(surface)
    except InvalidValue:
        name = DEFAULTS["surface"]
    brings = surface_defaults(O.make_surface(name))
    return tuple(replace(p, default=brings[p.name]) if p.name in brings else p for p in SETTINGS)


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
PRESET_TABS = {"flat": "batch"}   # a preset whose experiment sits on a tab opens that tab


SURFACE_SETTINGS = ("surface", "kappa", "angle", "formula", "half_width")   # what defines the loss surface


def surface(values: Mapping[str, object]) -> O.Surface:
    """The loss surface these settings describe (``ExpressionError`` for a typed formula that cannot be used)."""
    return O.make_surface(str(values["surface"]), kappa=float(values["kappa"]), angle=float(values["angle"]),
                          formula=str(values["formula"]), half_width=float(values["half_width"]))


# how these settings are drawn, beyond their declarations
DRAWN = {"x0": {"format": "%.3f"}, "y0": {"format": "%.3f"}, "px": {"format": "%.4f"}, "py": {"format": "%.4f"},
         "more_starts": {"placeholder": "1, 1; -0.5, 2"}}
# settings that matter only for one surface or one schedule: the lab shows them only then
SHOWN_WITH = {"quadratic": ("kappa", "angle"), "custom": ("formula", "half_width"),
              "step": ("step_size", "gamma"), "exponential": ("step_size", "gamma"), "warmup": ("warmup",)}


@dataclass(frozen=True)
class Lab:
    """What the lab runs for a page's settings, and what it has to tell the learner about them."""
    surface: O.Surface | None                  # None when the typed formula does not compile
    formula_error: ExpressionError | None      # the formula does not compile, or is not finite on its map
    points_error: str | None                   # why the extra start points were ignored (optimizer_race.points.*)
    starts: tuple[tuple[float, float], ...]    # (x0, y0) and the extra starts, moved onto the map
    moved: bool                                # a start lay off the map


def read(values: Mapping[str, object]) -> Lab:
    """The surface and the start points of these settings, with the problems a learner's typing can cause."""
    extra, points_error = [], None
    try:
        extra = O.parse_points(str(values["more_starts"]))
    except ValueError as e:
        points_error = str(e)
    surf, formula_error = None, None
    try:
        surf = surface(values)
        O.check_surface(surf)
    except ExpressionError as e:
        formula_error = e
    if surf is None or formula_error is not None:
        return Lab(surf, formula_error, points_error, (), False)
    starts, moved = O.onto_map(surf, [(float(values["x0"]), float(values["y0"])), *extra])
    return Lab(surf, None, points_error, starts, moved)


def settings(preset: str | None = None) -> dict[str, object]:
    """Every setting of the lesson's default (``preset`` None) or of a preset applied to the default page; the
    start, inspected point and hyperparameters the preset leaves alone are those its surface brings."""
    chosen = PRESETS[preset] if preset else {}
    values = DEFAULTS | chosen
    return values | surface_defaults(surface(values)) | chosen


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


# widget callbacks: each takes the session state (``st.session_state``, keys "optimizer_race.<setting>") and writes
# the settings an event changes, so they run and test without Streamlit

def on_surface_change(state: MutableMapping[str, object]) -> None:
    """A new surface brings its own start, inspected point and suggested learning rates."""
    declared = {p.name: p for p in SETTINGS}
    try:   # the values as the client sent them: the kit re-checks them after this callback, so check them here
        name, half = (declared[k].check(state.get(f"{SLUG}.{k}")) for k in ("surface", "half_width"))
    except InvalidValue:
        return
    s = O.make_surface(name, half_width=float(half))
    state.update({f"{SLUG}.{k}": v for k, v in surface_defaults(s).items()})


def on_map_click(state: MutableMapping[str, object]) -> None:
    """A click on the race map (a point of its invisible grid, chart key "optimizer_race.map") becomes the start."""
    from ui.state import selected_points

    points = [p for p in selected_points(state.get(f"{SLUG}.map")) if "x" in p and "y" in p]
    if points:
        state.update({f"{SLUG}.x0": float(points[0]["x"]), f"{SLUG}.y0": float(points[0]["y"])})


def on_snap(state: MutableMapping[str, object], surface: O.Surface) -> None:
    """Move the inspected point to where Newton's steps from it settle (a critical point of any kind); remember
    in "optimizer_race._snap_failed" whether they diverged instead."""
    found = O.nearest_critical_point(surface, (float(state[f"{SLUG}.px"]), float(state[f"{SLUG}.py"])))
    state[f"{SLUG}._snap_failed"] = found is None
    if found is not None:
        state.update({f"{SLUG}.px": float(found[0]), f"{SLUG}.py": float(found[1])})
