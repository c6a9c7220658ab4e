"""Shared look of every figure: layout defaults, colours, animation controls."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

# Colour-blind-safe qualitative palette (Okabe-Ito), in a fixed order so the same
# racer / method / class keeps its colour across figures.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
           "#999999", "#882255", "#44AA99", "#332288", "#661100")
DIVERGING = "RdBu_r"     # signed values (weights, perturbations, gradients): zero is white
SEQUENTIAL = "Viridis"   # magnitudes (attention weights, densities)
MIN_TEXT_PX = 11         # no text in a figure is smaller (tests/pages/test_figure_text.py checks every lesson)
LOG_AXIS = {"type": "log", "exponentformat": "power"}   # 10⁻⁶ on log axes, never Plotly's SI prefixes (1µ, 1n)
CELL_TEXT = {"size": 12}  # numbers written in heatmap cells: with no size, Plotly.js shrinks them to fit the cell


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


# Series (lines, markers) on a white background take their colours in this order: PALETTE's entries without the
# yellow (#F0E442 is unreadable on white: it is kept for filled marks with a dark outline, such as a minimum's star),
# with the two oranges (#E69F00, #D55E00) and the two blues (#0072B2, #56B4E9) five places apart. Colour is never
# the only channel: each series also gets its own dash and marker symbol (``series``), so a colour-blind learner,
# or a black-and-white printout, still tells them apart.
SERIES_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#000000", "#56B4E9", "#D55E00", "#882255",
                 "#332288", "#44AA99", "#999999", "#661100")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star", "cross", "pentagon", "hexagon",
           "triangle-down", "hourglass", "star-square")


@dataclass(frozen=True)
class Series:
    """How series number i is drawn: a colour AND a dash (lines) AND a marker symbol (points)."""

    color: str
    dash: str
    symbol: str

    def line(self, width: float = 2.0) -> dict[str, Any]:
        """Plotly ``line`` properties."""
        return {"color": self.color, "dash": self.dash, "width": width}

    def marker(self, size: float = 9.0, **extra: Any) -> dict[str, Any]:
        """Plotly ``marker`` properties (``extra``: e.g. an outline ``line``)."""
        return {"color": self.color, "symbol": self.symbol, "size": size, **extra}


def series(i: int) -> Series:
    """The style of series ``i`` (a racer, a method, a model): the same i gives the same look in every figure, and
    no two of the first 12 share colour, dash and symbol together; similar hues always differ in dash and symbol."""
    return Series(SERIES_COLORS[i % len(SERIES_COLORS)], DASHES[i % len(DASHES)], SYMBOLS[i % len(SYMBOLS)])


@lru_cache(maxsize=16)
def colorscale(name: str) -> tuple[tuple[float, str], ...]:
    """A named colour scale (Plotly's names, "_r" reversed ones included) as the explicit list Plotly.js reads:
    for figures written as plain JSON (``plain``), where Plotly does not resolve the name."""
    return tuple((float(a), c) for a, c in get_colorscale(name))


def percent(share: float, digits: int = 1) -> str:
    """A share as people read it: 0.5861 -> "58.6%" (every lesson writes accuracies and shares this way)."""
    return f"{100 * float(share):.{digits}f}%"


def grouped(count: float) -> str:
    """A count with its digits grouped: 231211008 -> "231,211,008" (as the receptive-field table writes them)."""
    return f"{float(count):,.0f}"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def scientific(x: float, digits: int = 1) -> str:
    """A very small or large number for prose: 1.734e-10 -> "1.7 × 10⁻¹⁰" (0 stays "0")."""
    if x == 0 or not np.isfinite(x):
        return f"{x:g}"
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def readable(df: Any, *, percents: Sequence[str] = (), counts: Sequence[str] = (), digits: int = 3) -> Any:
    """A table (pandas DataFrame) as ``st.dataframe`` should show it: ``percents`` columns (shares 0-1) as
    ``percent``, ``counts`` columns as ``grouped``, other numbers to ``digits`` significant digits, never "None".
    The numbers underneath stay numbers (sorting and the CSV keep them)."""
    rest = [c for c in df.columns if c not in (*percents, *counts) and df[c].dtype.kind == "f"]
    fmt = {**{c: percent for c in percents}, **{c: grouped for c in counts}, **{c: f"{{:.{digits}g}}" for c in rest}}
    return df.style.format(fmt, na_rep="–")


def legend_at_bottom(fig: go.Figure, margin_b: int = 90) -> go.Figure:
    """The legend along the figure's bottom edge, under the x axis's ticks and title, where it can cover neither
    the title nor a subplot's title (``tests/e2e/test_overlap.py``); ``margin_b`` leaves the room for both."""
    return fig.update_layout(legend={"orientation": "h", "yref": "container", "y": 0.0, "yanchor": "bottom",
                                     "xanchor": "left", "x": 0.0}, margin={"b": margin_b})


def base_layout(fig: go.Figure, title: str, *, x: str | None = None, y: str | None = None,
                height: int = 420) -> go.Figure:
    """Title, axis labels, margins and legend placement shared by all figures."""
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        height=height,
        margin={"l": 50, "r": 20, "t": 60, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1.0},
    )  # no template: st.plotly_chart applies the Streamlit theme, and a template would add ~10 KB per figure
    if x is not None:
        fig.update_xaxes(title_text=x)
    if y is not None:
        fig.update_yaxes(title_text=y)
    return fig


def animation_layout(frame_names: Sequence[str], *, play: str, pause: str, step_label: str,
                     duration_ms: int = 80) -> dict[str, Any]:
    """Layout entries (``updatemenus``, ``sliders``) for play / pause buttons and a scrub slider over the
    frames named ``frame_names``, as plain JSON; ``animation_controls`` applies them to a figure."""
    steps = [{"method": "animate", "label": name,
              "args": [[name], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                "transition": {"duration": 0}}]} for name in frame_names]
    return {
        "updatemenus": [{
            "type": "buttons", "direction": "left", "x": 0.0, "y": -0.12, "xanchor": "left", "yanchor": "top",
            "showactive": False,
            "buttons": [
                {"label": play, "method": "animate",
                 "args": [None, {"frame": {"duration": duration_ms, "redraw": True}, "fromcurrent": True,
                                 "transition": {"duration": 0}}]},
                {"label": pause, "method": "animate",
                 "args": [[None], {"mode": "immediate", "frame": {"duration": 0, "redraw": False},
                                   "transition": {"duration": 0}}]},
            ],
        }],
        "sliders": [{"active": 0, "x": 0.15, "len": 0.85, "y": -0.08, "yanchor": "top",
                     "currentvalue": {"prefix": f"{step_label}: "}, "steps": steps}],
    }


def animation_controls(fig: go.Figure, frame_names: Sequence[str], *, play: str, pause: str,
                       step_label: str, duration_ms: int = 80) -> go.Figure:
    """Play / pause buttons and a scrub slider over ``fig.frames`` (all in the browser, no rerun).

    play / pause / step_label: translated labels from the page.
    """
    fig.update_layout(**animation_layout(frame_names, play=play, pause=pause, step_label=step_label,
                                         duration_ms=duration_ms))
    fig.update_layout(margin={"b": 110})
    return fig


def with_frames(fig: go.Figure, frames: Sequence[dict]) -> go.Figure:
    """``fig`` plus animation ``frames`` given as plain dicts (``{"name", "data", "traces", "layout"}``).

    Plotly validates every property of every frame when frames are added as objects, which
    costs ~1 ms a frame; these frames come from our own code, so they are packed straight
    into the figure's JSON (numpy arrays as base64 typed arrays, as Plotly itself writes them).
    The static part of ``fig`` was validated when it was built.
    """
    spec = freeze(fig)
    spec["frames"] = [pack(f) for f in frames]
    return Prebuilt(spec)


_DTYPES = {np.dtype(name): code for name, code in (("float32", "f4"), ("float64", "f8"), ("int8", "i1"),
                                                     ("uint8", "u1"), ("int16", "i2"), ("uint16", "u2"),
                                                     ("int32", "i4"), ("uint32", "u4"))}   # dtype keys: .name is slow


def pack(obj: Any) -> Any:
    """``obj`` as Plotly's JSON: numpy arrays as base64 typed arrays ({"dtype", "bdata", "shape"})."""
    if isinstance(obj, np.ndarray):
        if obj.dtype == np.int64:
            obj = obj.astype(np.int32)
        code = _DTYPES.get(obj.dtype)
        if code is not None:
            arr = obj if obj.flags.c_contiguous else np.ascontiguousarray(obj)
            out = {"dtype": code, "bdata": base64.b64encode(arr.tobytes()).decode()}
            if arr.ndim > 1:
                out["shape"] = ", ".join(map(str, arr.shape))
            return out
        return obj.tolist()
    if isinstance(obj, dict):
        return {k: pack(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [pack(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


class Prebuilt(go.Figure):
    """A figure whose JSON spec was built (and cached) earlier.

    ``st.plotly_chart`` only checks that it is a Plotly figure and calls ``to_dict()``, so handing it this
    wrapper skips re-creating thousands of validated Plotly objects on every rerun. Not even an empty
    ``go.Figure`` is built (0.5 ms): the wrapper has no ``data`` or ``layout`` objects; build
    ``go.Figure(fig.to_dict())`` to inspect one.
    """

    def __init__(self, spec: dict[str, Any]) -> None:   # noqa: D107 - deliberately skips go.Figure.__init__
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict[str, Any]:
        return self._spec

    def to_plotly_json(self) -> dict[str, Any]:
        return self._spec


def plain(data: Sequence[dict], layout: dict[str, Any], frames: Sequence[dict] | None = None) -> Prebuilt:
    """A figure written as plain JSON (traces, layout, optional animation frames; numpy arrays become typed
    arrays), for figures rebuilt on every slider move: Plotly's validation of each property would cost more
    than the data. Their tests build a ``go.Figure`` from the spec, so Plotly still checks every property."""
    spec = {"data": pack(list(data)), "layout": pack(layout)}
    if frames is not None:
        spec["frames"] = pack(list(frames))
    return Prebuilt(spec)


def freeze(fig: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON data (arrays already base64-packed): cheap to cache and to copy. A ``Prebuilt``
    figure already is: its spec is returned as it is (no JSON round trip)."""
    if isinstance(fig, Prebuilt):
        return fig.to_dict()
    return json.loads(fig.to_json())


def thaw(spec: dict[str, Any]) -> go.Figure:
    """A frozen spec back as something ``st.plotly_chart`` accepts, without rebuilding it."""
    return Prebuilt(spec)


def unpack(obj: Any) -> Any:
    """The inverse of ``pack``: Plotly's typed arrays back as numpy arrays."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
            shape = obj.get("shape")
            if shape:
                arr = arr.reshape([int(n) for n in str(shape).split(",")])
            return arr
        return {k: unpack(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [unpack(v) for v in obj]
    return obj


def _axis_title(layout: dict[str, Any], axis: str) -> str:
    title = (layout.get(axis) or {}).get("title")
    text = title.get("text") if isinstance(title, dict) else title
    return str(text) if text else ""


def figure_table(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every plotted number of a figure spec as rows (trace, x, y, z; a heatmap's cells one row each; animation
    frames with their name): what a learner downloads as the figure's data."""
    rows: list[dict[str, Any]] = []
    layout = spec.get("layout") or {}

    def add(traces: list[dict[str, Any]], frame: str | None) -> None:
        for i, trace in enumerate(traces):
            trace = unpack(trace)
            name = str(trace.get("name") or f"{trace.get('type', 'trace')} {i + 1}")
            base = {"frame": frame} if frame is not None else {}
            x, y, z = (trace.get(k) for k in ("x", "y", "z"))
            if z is not None and np.ndim(z) == 2:
                z = np.asarray(z, dtype=object)
                for r in range(z.shape[0]):
                    for c in range(z.shape[1]):
                        rows.append({**base, "trace": name, "x": x[c] if x is not None and c < len(x) else c,
                                     "y": y[r] if y is not None and r < len(y) else r, "z": z[r, c]})
                continue
            columns = {k: list(np.ravel(v)) if isinstance(v, np.ndarray) else v
                       for k, v in (("x", x), ("y", y), ("z", z)) if isinstance(v, (list, np.ndarray))}
            n = max((len(v) for v in columns.values()), default=0)
            for k in range(n):
                rows.append({**base, "trace": name, **{c: v[k] for c, v in columns.items() if k < len(v)}})

    add(list(spec.get("data") or []), None)
    for frame in spec.get("frames") or []:
        add(list(frame.get("data") or []), str(frame.get("name", "")))
    names = {"x": _axis_title(layout, "xaxis"), "y": _axis_title(layout, "yaxis")}
    for row in rows:
        for axis, title in names.items():
            if title and axis in row:
                row[f"{axis} ({title})"] = row.pop(axis)
    return rows
