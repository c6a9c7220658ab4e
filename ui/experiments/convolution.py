"""The convolution lesson's settings, each declared once, and the experiments behind its presets and defaults
(shared by the page, the claim tests and the exercises).

No torch here: the course map reads the lesson's exercises, and so these settings, before torch loads. The upper
ends of the shape ranges are ``dlcore.conv``'s caps (which ``conv.ConvConfig`` enforces) and the option lists its
kinds, written out; a test keeps them equal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ui.params import Param, defaults

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor

    from dlcore import conv

BLOCK = 6   # the transposed-convolution and matrix views use the top-left BLOCK x BLOCK of the input (small figures)
SHAPE = ("size", "k", "stride", "padding", "dilation", "output_padding")   # the row of number inputs, in order
COST = ("cost_h", "cost_w", "cost_n", "cost_m", "cost_k", "cost_g")        # the cost calculator's inputs, in order

SOURCES = ("random", "ones", "photo", "typed")          # conv.INPUT_KINDS, and the learner's own grid
KERNELS = ("random", "ones", "edge", "sobel_x", "gaussian_blur")                                  # conv.KERNEL_KINDS
FILTERS = ("identity", "box_blur", "gaussian_blur", "sharpen", "edge", "sobel_x", "sobel_y")  # conv.classic_kernels()

SETTINGS: tuple[Param, ...] = (
    Param.int("size", 6, lo=3, hi=16, step=1, widget="number", help=True),                 # conv.MAX_SIZE
    Param.int("k", 3, lo=1, hi=7, step=1, widget="number", help=True),                     # conv.MAX_KERNEL
    Param.int("stride", 1, lo=1, hi=4, step=1, widget="number", help=True),                # conv.MAX_STRIDE
    Param.int("padding", 0, lo=0, hi=4, step=1, widget="number", help=True),               # conv.MAX_PADDING
    Param.int("dilation", 1, lo=1, hi=4, step=1, widget="number", help=True),              # conv.MAX_DILATION
    Param.int("output_padding", 0, lo=0, hi=3, step=1, widget="number", help=True),        # conv.MAX_OUTPUT_PADDING
    Param.choice("source", "random", SOURCES, names="sources"),
    Param.choice("kernel", "random", KERNELS, names="kernels"),
    Param.choice("filter", "sobel_x", FILTERS, names="filters"),
    Param.int("channels", 4, lo=1, hi=8),
    # the cost calculator: one layer with an H x W output, N -> M channels, a K x K kernel, G groups
    Param.int("cost_h", 56, lo=1, hi=512, step=1, widget="number"),
    Param.int("cost_w", 56, lo=1, hi=512, step=1, widget="number"),
    Param.int("cost_n", 64, lo=1, hi=2048, step=1, widget="number"),
    Param.int("cost_m", 128, lo=1, hi=2048, step=1, widget="number"),
    Param.int("cost_k", 3, lo=1, hi=11, step=1, widget="number"),
    Param.int("cost_g", 4, lo=1, hi=64, step=1, widget="number"),
)
DEFAULTS = defaults(SETTINGS)

PRESETS: dict[str, dict[str, object]] = {
    "same": {"size": 7, "k": 3, "stride": 1, "padding": 1, "dilation": 1, "output_padding": 0},
    "halve": {"size": 8, "k": 3, "stride": 2, "padding": 1, "dilation": 1, "output_padding": 0},
    "undo": {"size": 4, "k": 3, "stride": 2, "padding": 1, "dilation": 1, "output_padding": 1},
    "checker": {"k": 3, "stride": 2, "padding": 0, "dilation": 1, "output_padding": 0},   # any input size
    "no_checker": {"k": 4, "stride": 2, "padding": 0, "dilation": 1, "output_padding": 0},
    "dilated": {"size": 9, "k": 3, "stride": 1, "padding": 0, "dilation": 2, "output_padding": 0},
}


def settings(preset: str | None = None) -> dict[str, object]:
    """Every setting of the lesson's default (``preset`` None) or of a preset applied to the default page."""
    return dict(DEFAULTS) | (PRESETS[preset] if preset else {})


def block(config: conv.ConvConfig) -> Tensor:
    """The top-left BLOCK x BLOCK of the config's input: what the transposed and matrix views use (a tensor)."""
    return config.input()[:BLOCK, :BLOCK].contiguous()


def conv_config(values: Mapping[str, object], seed: int, typed: np.ndarray | None = None) -> conv.ConvConfig:
    """The convolution the lab shows for these settings and the sidebar's seed. ``typed``: the learner's grid when
    the source is "typed" and every cell reads as a number (otherwise the random input stands in)."""
    from dlcore import conv

    source = str(values["source"])
    return conv.ConvConfig(*(int(values[name]) for name in SHAPE), source="random" if source == "typed" else source,
                           kernel=str(values["kernel"]), seed=seed,
                           typed=None if typed is None else tuple(tuple(float(v) for v in row) for row in typed))
