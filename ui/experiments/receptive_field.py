"""The experiments behind the receptive-field lesson's presets and defaults (shared by the page, the claim tests and,
later, the exercises)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dlcore import famous_cnns as zoo
from dlcore import receptive_field as rf

CUSTOM = "c3p1x16@conv1,c3p1x16@conv2,m2s2@pool1,c3p1x32@conv3"   # "your own network" starts here
ERF_POOL_EVERY = 4                                                # the "max pool after every 4" switch

DEFAULTS: dict[str, object] = {
    "model": "notes7", "net": "", "size": 64, "in_ch": 3, "layer": 0, "row": -1, "col": -1, "image": "china",
    "erf_source": "stack", "erf_depth": 10, "erf_pool": False, "erf_relu": True, "erf_seeds": 4,
}
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


def erf_stack(values: Mapping[str, object]) -> tuple[list[rf.Layer], int]:
    """The effective-field tab's stack of 3x3 convolutions and the input it is measured on (its whole field)."""
    stack = rf.stack(int(values["erf_depth"]), pool_every=ERF_POOL_EVERY if values["erf_pool"] else 0)
    return stack, min(int(rf.table(stack, rf.MAX_INPUT, 1).rf.iloc[-1]), rf.MAX_ERF_INPUT)


def erf_config(values: Mapping[str, object], n: int, seed: int) -> rf.ERFConfig:
    return rf.ERFConfig(n, bool(values["erf_relu"]), int(values["erf_seeds"]), seed)


def growth(values: Mapping[str, object], seed: int) -> rf.ERFGrowth:
    """The field width against depth for the stack of ``values``."""
    return rf.erf_growth(int(values["erf_depth"]), pool_every=ERF_POOL_EVERY if values["erf_pool"] else 0,
                         relu=bool(values["erf_relu"]), seeds=int(values["erf_seeds"]), seed=seed)
