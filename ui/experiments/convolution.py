"""The experiments behind the convolution lesson's presets and defaults (shared by the page, the claim tests and,
later, the exercises)."""

from __future__ import annotations

# setting name -> default
DEFAULTS: dict[str, object] = {
    "size": 6, "k": 3, "stride": 1, "padding": 0, "dilation": 1, "output_padding": 0, "source": "random",
    "kernel": "random", "filter": "sobel_x", "channels": 4,
}

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
