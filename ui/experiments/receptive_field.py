"""The experiments behind the receptive-field lesson's presets and defaults (shared by the page, the claim tests and,
later, the exercises)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dlcore import famous_cnns as zoo
from dlcore import receptive_field as rf
from dlcore.data import SAMPLE_IMAGES
from ui.figures import receptive_field as figs
from ui.figures.common import freeze
from ui.params import Param, defaults

CUSTOM = "c3p1x16@conv1,c3p1x16@conv2,m2s2@pool1,c3p1x32@conv3"   # "your own network" starts here
MODELS = ("custom", *zoo.NETWORKS)
SETTINGS: tuple[Param, ...] = (
    Param.choice("model", "notes7", MODELS),                 # names: receptive_field.networks.<model>.label
    Param.text("net", "", max_len=6000, check=rf.is_spec, widget=""),   # the edited table (the page's data editor)
    Param.int("size", 64, lo=1, hi=rf.MAX_INPUT, step=1, widget="number", help=True),
    Param.int("in_ch", 3, lo=1, hi=rf.MAX_IN_CHANNELS, step=1, widget="number"),
    # the unit looked at: layer 0 is the last one, row / col -1 the centre unit (their ranges follow the table)
    Param.int("layer", 0, lo=0, hi=rf.MAX_LAYERS, widget=""),
    Param.int("row", -1, lo=-1, hi=rf.MAX_INPUT, widget=""),
    Param.int("col", -1, lo=-1, hi=rf.MAX_INPUT, widget=""),
    Param.choice("image", "china", SAMPLE_IMAGES, names="images"),
    # the effective receptive field
    Param.choice("erf_source", "stack", ("stack", "table"), names="erf_sources"),
    Param.int("erf_depth", 10, lo=1, hi=rf.MAX_ERF_DEPTH),
    Param.bool("erf_pool", False, help=True),
    Param.bool("erf_relu", True, help=True),
    Param.int("erf_seeds", 4, lo=1, hi=rf.MAX_ERF_SEEDS),
)
DEFAULTS = defaults(SETTINGS)
RESET = {"layer": 0, "row": -1, "col": -1}    # a preset looks at the centre unit of the last layer
PRESETS: dict[str, dict[str, object]] = {
    "notes": {"model": "notes7", "net": "", "size": 64, "in_ch": 3, **RESET},
    "vgg": {"model": "custom", "net": "c3p1x64@conv1,c3p1x64@conv2", "size": 32, "in_ch": 64, **RESET},
    "early_stride": {"model": "custom", "size": 64, "in_ch": 3, **RESET,
                     "net": "c3s2p1x32@conv1,c3p1x32@conv2,c3p1x32@conv3,c3p1x32@conv4"},
    "dilated": {"model": "dilated", "net": "", "size": 128, "in_ch": 3, **RESET},
    "pool_vs_stride": {"model": "custom", "size": 32, "in_ch": 3, **RESET,
                       "net": "c3p1x32@conv1,m2s2@pool,c3p1x32@conv2,c3s2p1x32@conv_s2,c3p1x32@conv3"},
    "erf": {"erf_source": "stack", "erf_depth": 20, "erf_pool": False, "erf_relu": True},
}
TAB = {"erf": "erf"}   # presets that open a tab other than the first


def settings(preset: str | None = None) -> dict[str, object]:
    """The lesson's settings: the defaults, with ``preset``'s values merged over them."""
    return {**DEFAULTS, **(PRESETS[preset] if preset else {})}


def model_spec(name: str) -> str:
    """The table of the network box's choice as text: a famous network walked from torch.nn, or CUSTOM."""
    return CUSTOM if name == "custom" else rf.to_spec(zoo.network_layers(name))


def layers(values: Mapping[str, object]) -> list[rf.Layer]:
    """The table's layers: the edited table (``net``) if any, else the chosen network's."""
    return rf.parse_spec(str(values["net"]) or model_spec(str(values["model"])))


def table(values: Mapping[str, object]) -> pd.DataFrame:
    """The per-layer table the page shows for ``values``."""
    return rf.table(layers(values), int(values["size"]), int(values["in_ch"]))


def pool_every(values: Mapping[str, object]) -> int:
    """The stack's pooling: a 2 x 2 max pool after every ``rf.ERF_POOL_EVERY`` convs, or none (0)."""
    return rf.ERF_POOL_EVERY if values["erf_pool"] else 0


def erf_stack(values: Mapping[str, object]) -> tuple[list[rf.Layer], int]:
    """The effective-field tab's stack of 3x3 convolutions and the input it is measured on (its whole field)."""
    stack = rf.stack(int(values["erf_depth"]), pool_every=pool_every(values))
    return stack, rf.erf_input(stack)


def erf_config(values: Mapping[str, object], n: int, seed: int) -> rf.ERFConfig:
    return rf.ERFConfig(n, bool(values["erf_relu"]), int(values["erf_seeds"]), seed)


def growth(values: Mapping[str, object], seed: int) -> rf.ERFGrowth:
    """The field width against depth for the stack of ``values``."""
    return rf.erf_growth(int(values["erf_depth"]), pool_every=pool_every(values),
                         relu=bool(values["erf_relu"]), seeds=int(values["erf_seeds"]), seed=seed)


def erf_settings(values: Mapping[str, object]) -> dict[str, object]:
    """The settings the effective-field stack and its growth curve depend on (what their cache is keyed on)."""
    return {k: values[k] for k in ("erf_depth", "erf_pool", "erf_relu", "erf_seeds")}


# ---------------------------------------------------------------- the unit looked at, as the table changes
# Pure functions of the settings: each returns the settings to change (short names -> values).

def network_settings(model: str) -> dict[str, object]:
    """The network box / reset button: the network's own table (``net`` empty), its input size and channels,
    the centre unit of the last layer. "custom" starts on 32 x 32 x 3."""
    net = zoo.NETWORKS.get(model, zoo.Network(zoo.notes_example, 32, 3))
    return {"net": "", **RESET, "size": net.input_size, "in_ch": net.in_channels}


def linked_input(query: Mapping[str, str], lesson: str) -> dict[str, object]:
    """A shared link (``query``) that names a network but not its input opens on the network's input size and
    channels."""
    if query.get(f"{lesson}.model") not in zoo.NETWORKS:
        return {}
    net = zoo.NETWORKS[str(query[f"{lesson}.model"])]
    return {k: x for k, x in (("size", net.input_size), ("in_ch", net.in_channels)) if f"{lesson}.{k}" not in query}


def unit_fixes(values: Mapping[str, object], df: pd.DataFrame) -> dict[str, object]:
    """Put the unit back on the table: a layer past its end means the last layer (0), a row or column off the
    chosen layer's map (or -1) its centre."""
    fixes: dict[str, object] = {} if 0 <= int(values["layer"]) <= len(df) else {"layer": 0}
    layer = int(fixes.get("layer", values["layer"])) or len(df)
    out = int(df.out_size.iloc[layer - 1])
    fixes.update({k: out // 2 for k in ("row", "col") if not 0 <= int(values[k]) < out})
    return fixes


def picked(chart: str, selection: object) -> dict[str, object]:
    """A click on a unit's dot (``unit_fig``) selects that unit; a click on a bar (``rf_fig``) that layer.
    ``selection``: the chart's selection state as the client sent it (only its finite numbers are read)."""
    from ui.state import selected_points

    points = selected_points(selection)
    data = points[0].get("customdata") if points else None
    if chart == "unit_fig" and isinstance(data, list) and len(data) >= 2:
        return {"row": int(data[0]), "col": int(data[1])}
    if chart == "rf_fig" and points and "x" in points[0]:
        return {"layer": int(points[0]["x"]), "row": -1, "col": -1}
    return {}


def box_numbers(box: tuple[int, int, int, int] | None) -> dict[str, int]:
    """The placeholders of the autograd note: the measured field's rows, columns and size."""
    if box is None:
        return {}
    return {"r0": box[0], "r1": box[1], "c0": box[2], "c1": box[3], "h": box[1] - box[0] + 1, "w": box[3] - box[2] + 1}


# ---------------------------------------------------------------- the lab's results and figures (frozen specs)
# What the page caches (``lesson.cached``) and draws. ``lab``: ``ui.i18n.labels("receptive_field", figs.LABELS)``,
# the figures' labels in the learner's language, so it also keys the cache by language.

def checked_table(spec: str, n: int, c: int) -> tuple[pd.DataFrame, rf.LayerError | None, rf.TorchCheck | None]:
    """The table of ``spec`` on an n x n x c input up to its first bad layer, that layer's error, and what the
    real torch.nn layers give for the good ones."""
    layers = rf.parse_spec(spec)
    df, err = rf.partial_table(layers, n, c)
    return df, err, rf.torch_check(layers[:len(df)], n, c) if len(df) else None


def unit_figure(spec: str, n: int, c: int, layer: int, unit: tuple[int, int], image: str, lab: Mapping[str, str]
                ) -> tuple[dict, tuple[int, int, int, int] | None, str]:
    """The field of ``unit`` of ``layer`` (1-based) on the grid and the photo; its measured box and how autograd
    and the recurrence agree (dlcore.receptive_field.UnitField.check)."""
    layers = rf.parse_spec(spec)[:layer]
    u = rf.unit_field(layers, n, c, *unit)
    photo = rf.photo(min(n, figs.MAX_DISPLAY), image)
    return freeze(figs.unit_figure(u, photo, rf.table(layers, n, c), layer, unit, lab)), u.measured, u.check


def rf_figure(spec: str, n: int, c: int, layer: int, lab: Mapping[str, str]) -> dict:
    """The receptive field and jump of every layer, ``layer`` highlighted."""
    return freeze(figs.rf_figure(checked_table(spec, n, c)[0], n, layer, lab))


def erf_figure(spec: str, n: int, relu: bool, seeds: int, seed: int, lab: Mapping[str, str]
               ) -> tuple[dict, rf.ERFResult]:
    """The effective field of ``spec`` on n x n pixels and its figure; ``rf.ERFCostError`` when too costly."""
    res = rf.effective_field(rf.parse_spec(spec), rf.ERFConfig(n, relu, seeds, seed))
    return freeze(figs.erf_figure(res, lab)), res


def growth_figure(values: Mapping[str, object], seed: int, lab: Mapping[str, str]) -> dict:
    """Field width against depth for the stack of ``values``."""
    return freeze(figs.growth_figure(growth(values, seed), lab))
