"""Shared look of every figure: layout defaults, colours, animation controls."""

from __future__ import annotations

import base64
import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
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


def readable(df: Any, *, percents: Sequence[str] = (), counts: Sequence[str] = (), digits: int = 3,
             formats: Mapping[str, str] | None = None) -> Any:
    """A table (pandas DataFrame) as ``st.dataframe`` should show it: ``percents`` columns (shares 0-1) as
    ``percent``, ``counts`` columns as ``grouped``, ``formats`` columns by their printf format ("%.2e"), other
    numbers to ``digits`` significant digits, never "None". The numbers underneath stay numbers (sorting and the
    CSV keep them)."""
    formats = dict(formats or {})
    rest = [c for c in df.columns if c not in (*percents, *counts, *formats) and df[c].dtype.kind == "f"]
    fmt = {**{c: percent for c in percents}, **{c: grouped for c in counts}, **{c: f"{{:.{digits}g}}" for c in rest},
           **{c: (lambda x, f=f: f % x) for c, f in formats.items()}}
    return df.style.format(fmt, na_rep="–")


def legend_at_bottom(fig: go.Figure, margin_b: int = 90) -> go.Figure:
    """The legend along the figure's bottom edge, under the x axis's ticks and title, where it can cover neither
    the title nor a subplot's title (``tests/e2e/test_overlap.py``); ``margin_b`` leaves the room for both."""
    return fig.update_layout(legend={"orientation": "h", "yref": "container", "y": 0.0, "yanchor": "bottom",
                                     "xanchor": "left", "x": 0.0}, margin={"b": margin_b})


def legend_below(fig: go.Figure, y: float = -0.2, margin_b: int = 90) -> go.Figure:
    """A horizontal legend hung from ``y`` (paper units, under the x axis's ticks and title) with a bottom margin of
    ``margin_b``: where it cannot cover a subplot's title. ``legend_at_bottom`` pins it to the figure's edge."""
    return fig.update_layout(legend={"orientation": "h", "x": 0.0, "xanchor": "left", "y": y, "yanchor": "top"},
                             margin={"b": margin_b})


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


CONTROLS_PX = 125   # under an animated plot, below ``below_px``: the buttons' row (42 px) and the slider (80)
CONTROLS_TEXT = "#31333F"   # Streamlit's text colour: the slider's current value
MAX_STEP_LABELS = 12   # more frames than this: the slider's step labels would pile up on a phone, so they are hidden


def animation_layout(frame_names: Sequence[str], *, play: str, pause: str, step_label: str,
                     duration_ms: int = 80, below_px: int = 45) -> dict[str, Any]:
    """Layout entries (``updatemenus``, ``sliders``) for play / pause buttons and a scrub slider over the
    frames named ``frame_names``, as plain JSON; ``animation_controls`` applies them to a figure.

    The buttons sit on a row of their own ``below_px`` under the plotting area (room for the x tick labels and the
    axis title), and the slider runs full width under them: side by side, the buttons cover the slider's current
    value on a phone (issue 31, item 10). Placed in pixels (the components' padding), so that the rows keep their
    distance at any figure height; the figure needs a bottom margin of ``below_px + CONTROLS_PX``
    (:func:`controls_margin`). With more than ``MAX_STEP_LABELS`` frames the step labels are transparent: the
    current value names the frame."""
    steps = [{"method": "animate", "label": name,
              "args": [[name], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                "transition": {"duration": 0}}]} for name in frame_names]
    slider = {"active": 0, "x": 0.0, "len": 1.0, "xanchor": "left", "y": 0.0, "yanchor": "top",
              "pad": {"t": below_px + 42, "b": 0, "l": 0, "r": 0},
              "currentvalue": {"prefix": f"{step_label}: ", "font": {"size": 13, "color": CONTROLS_TEXT}},
              "steps": steps}
    if len(frame_names) > MAX_STEP_LABELS:
        slider["font"] = {"color": "rgba(0,0,0,0)"}
    return {
        "updatemenus": [{
            "type": "buttons", "direction": "left", "x": 0.0, "y": 0.0, "xanchor": "left", "yanchor": "top",
            "pad": {"t": below_px, "r": 0, "b": 0, "l": 0}, "showactive": False,
            "buttons": [
                {"label": play, "method": "animate",
                 "args": [None, {"frame": {"duration": duration_ms, "redraw": True}, "fromcurrent": True,
                                 "transition": {"duration": 0}}]},
                {"label": pause, "method": "animate",
                 "args": [[None], {"mode": "immediate", "frame": {"duration": 0, "redraw": False},
                                   "transition": {"duration": 0}}]},
            ],
        }],
        "sliders": [slider],
    }


def controls_margin(below_px: int = 45) -> int:
    """The bottom margin an animated figure needs for :func:`animation_layout`'s controls."""
    return below_px + CONTROLS_PX


def legend_under_controls(height: int, top: int, below_px: int = 45, rows_px: int = 45) -> dict[str, Any]:
    """Layout entries for a horizontal legend under an animated figure's controls: the bottom margin (the controls
    and ``rows_px`` for the legend) and the legend's place in paper units (from the figure's ``height`` and top
    margin ``top``), so that it clears the slider at any height."""
    bottom = controls_margin(below_px) + rows_px
    plot_h = height - top - bottom
    return {"margin": {"b": bottom}, "legend": {"orientation": "h", "xanchor": "left", "x": 0.0, "yanchor": "top",
                                                "y": -(controls_margin(below_px) + 5) / plot_h}}


def animation_controls(fig: go.Figure, frame_names: Sequence[str], *, play: str, pause: str,
                       step_label: str, duration_ms: int = 80, below_px: int = 45) -> go.Figure:
    """Play / pause buttons and a scrub slider over ``fig.frames`` (all in the browser, no rerun), under the figure
    (:func:`animation_layout`).

    play / pause / step_label: translated labels from the page.
    """
    fig.update_layout(**animation_layout(frame_names, play=play, pause=pause, step_label=step_label,
                                         duration_ms=duration_ms, below_px=below_px))
    fig.update_layout(margin={"b": controls_margin(below_px)})
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


# --- a phone ------------------------------------------------------------------------------------------------------
# Plotly never wraps a title: on a 390 px phone a long one is cut off at the edge, and a legend above the plot wraps
# into rows that cover the title (tests/e2e/test_overlap.py, at 390 px with a phone's user agent). ``for_phone``
# lays a finished figure out again for a phone, the way every lesson's ``lesson.chart`` draws it there.
_CLOSING = set("，。、；：）」』》！？,.;:)")
PHONE_TITLE_UNITS = 38   # Latin-letter widths of a title line on a phone (a CJK character counts two)
PHONE_PANEL_UNITS = 36   # the same for subplot titles, shared by the panels of one row
PHONE_LINE_PX = 22       # one more line of a title
PHONE_ROW_PX = 24        # one row of a legend
PHONE_TEXT_PX = 330      # width a legend's entries share
_LEGEND_ENTRY_PX = 7.5   # per Latin letter of a legend entry (12 px text), plus the symbol's room below
_LEGEND_SYMBOL_PX = 45


def wrap(text: str, width: int = PHONE_TITLE_UNITS) -> str:
    """``text`` broken into lines of at most ``width`` Latin-letter widths with Plotly's ``<br>`` (removing every
    ``<br>`` gives ``text`` back). Latin text breaks after a space; CJK text between two characters, never before
    closing punctuation. The lines are balanced: as few as ``width`` allows, each as short as that number allows
    (a greedy last line of two characters would leave the others at full width)."""
    greedy = _wrap_greedy(text, width)
    lines = greedy.count("<br>") + 1
    for narrower in range(math.ceil(_units(text) / lines), width):
        balanced = _wrap_greedy(text, narrower)
        if balanced.count("<br>") + 1 <= lines:
            return balanced
    return greedy


def _wrap_greedy(text: str, width: int) -> str:
    lines: list[list[str]] = []
    line: list[str] = []
    for piece in re.findall(r"[\u2E80-\uFFEF]\s*|[^\s\u2E80-\uFFEF]+\s*|\s+", text):
        if line and _units("".join(line + [piece]).rstrip()) > width:
            if piece[0] not in _CLOSING:
                lines.append(line)
                line = []
            elif len(line) > 1:   # closing punctuation never starts a line: the character before it goes down too
                k = len(line) - 1  # (with any closing punctuation between them: "色）" before "，")
                while k > 1 and line[k][0] in _CLOSING:
                    k -= 1
                lines.append(line[:k])
                line = line[k:]
        line.append(piece)
    return "<br>".join("".join(p) for p in [*lines, line])


def _units(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "FW" else 1 for ch in re.sub(r"<[^>]+>", "", text))


def _wrappable(text: Any) -> bool:
    return isinstance(text, str) and bool(text) and "<br>" not in text and not re.search(r"<(?!/?(b|i|sub|sup)>)", text)


def for_phone(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` (a figure as JSON) laid out again for a phone; a new spec, ``spec`` is left as it was.

    - the title (and each animation frame's title) wrapped to ``PHONE_TITLE_UNITS``, anchored by its first line,
      with the top margin and the height grown by the extra lines (the plot keeps its size);
    - the subplot titles of one row wrapped to their share of the width, growing upward into a taller top margin;
    - a horizontal legend above the plot moved to the figure's bottom edge, with the rows it will need there.
    """
    layout = dict(spec.get("layout", {}))
    margin = {"l": 80, "r": 80, "t": 100, "b": 80, **layout.get("margin", {})}
    height = float(layout.get("height") or 450)
    grow_top = grow_bottom = 0.0
    stacked = None if spec.get("frames") else _stack_row(layout, spec.get("data", []), margin, height)
    if stacked:
        data, height, margin = stacked
        spec = {**spec, "data": data}
    unlabelled = _drop_point_labels(spec.get("data", []))
    if unlabelled is not None:
        spec = {**spec, "data": unlabelled}

    title = layout.get("title")
    title = {"text": title} if isinstance(title, str) else dict(title or {})
    frames = [dict(f) for f in spec.get("frames", [])]
    texts = [title.get("text")] + [(f.get("layout") or {}).get("title", {}).get("text") for f in frames]
    title_lines = 1
    if any(_wrappable(t) and _units(t) > PHONE_TITLE_UNITS for t in texts):
        wrapped = [wrap(t) if _wrappable(t) else t for t in texts]
        title_lines = 1 + max(w.count("<br>") for w in wrapped if isinstance(w, str))
        title["text"] = wrapped[0]
        for f, w in zip(frames, wrapped[1:]):
            if isinstance(w, str):
                f["layout"] = {**f["layout"], "title": {**f["layout"]["title"], "text": w}}

    notes = [dict(a) for a in layout.get("annotations", [])]
    panels = [a for a in notes if a.get("xref") == "paper" and a.get("yref") == "paper" and not a.get("showarrow", True)
              and a.get("yanchor") == "bottom" and _wrappable(a.get("text"))]
    rows: dict[float, list[dict]] = {}
    for a in panels:
        rows.setdefault(round(float(a.get("y", 0)), 3), []).append(a)
    panel_lines = 0   # lines of the top row's subplot titles, which sit in the top margin under the title
    gaps: dict[float, float] = {}   # lower rows whose titles now take more lines: the room they need above
    columns = _column_widths(layout)
    for y, row in rows.items():
        lines = 1
        widths = [next((w for centre, w in columns if abs(centre - float(a.get("x", -1))) < 0.01), None) for a in row]
        if None in widths:   # an equal share of the row each
            fits = [PHONE_PANEL_UNITS // len(row)] * len(row)
        else:                # as wide as its column is on a phone
            fits = [int(w * _phone_plot_px(spec, margin) / PHONE_UNIT_PX) for w in widths]
        for a, fit in zip(row, fits):
            units = max(12, fit)
            if _units(a["text"]) > units:
                a["text"] = wrap(a["text"], units)
            lines = max(lines, 1 + a["text"].count("<br>"))
        if y >= max(rows):
            panel_lines = lines
        elif lines > 1:
            gaps[y] = PHONE_LINE_PX * (lines - 1)
    grow_rows = _open_rows(layout, notes, gaps, height - margin["t"] - margin["b"]) if gaps else 0.0
    if title_lines > 1 or panel_lines > 1:   # room for the title's lines, then the top row's titles' lines
        need = 14 + PHONE_LINE_PX * (title_lines + panel_lines) + 6
        grow_top = max(0.0, need - margin["t"], PHONE_LINE_PX * (title_lines - 1 + max(0, panel_lines - 1)))

    legend = dict(layout.get("legend", {}))
    shown = [t for t in spec.get("data", []) if t.get("showlegend", True) is not False and t.get("name")]
    on_top = legend.get("orientation") == "h" and legend.get("yref") != "container" \
        and float(legend.get("y", 1.02)) >= 1.0 and layout.get("showlegend", True) is not False
    if on_top and shown:
        width = sum(_LEGEND_SYMBOL_PX + _LEGEND_ENTRY_PX * _units(str(t["name"])) for t in shown)
        legend_rows = max(1, math.ceil(width / PHONE_TEXT_PX))
        legend = {**legend, "yref": "container", "y": 0.0, "yanchor": "bottom", "x": 0.0, "xanchor": "left"}
        grow_bottom += PHONE_ROW_PX * legend_rows + 10

    if not (grow_top or grow_bottom or grow_rows or stacked or unlabelled is not None):
        return spec
    new_height = height + grow_top + grow_bottom + grow_rows
    margin = {**margin, "t": margin["t"] + grow_top, "b": margin["b"] + grow_bottom}
    if grow_top and title.get("text"):   # the first line near the top; the others below it
        title.update(yref="container", yanchor="bottom", y=1 - (10 + PHONE_LINE_PX) / new_height)
        title.pop("pad", None)
    out_layout = {**layout, "height": new_height, "margin": margin, "title": title, "annotations": notes}
    if on_top and shown:
        out_layout["legend"] = legend
    out = {**spec, "layout": out_layout}
    if frames:
        out["frames"] = frames
    return out


PHONE_WIDTH_PX = 358     # a figure's width on a 390 px phone (the page's padding taken off)
PHONE_UNIT_PX = 8        # one Latin-letter unit of a subplot title (a CJK character is two)
_COLORBAR_PX = 70


def _phone_plot_px(spec: dict[str, Any], margin: dict[str, float]) -> float:
    """The plot area's width on a phone: the figure's, less the side margins and a colour bar if one is shown."""
    bar = any(t.get("type") in ("heatmap", "contour") and t.get("showscale", True) is not False
              or (t.get("marker") or {}).get("showscale") for t in spec.get("data", []))
    return PHONE_WIDTH_PX - margin["l"] - margin["r"] - (_COLORBAR_PX if bar else 0)


PHONE_POINT_LABELS = 16   # a scatter trace with more labelled points than this shows its labels on hover only


def _drop_point_labels(data: list[dict]) -> list[dict] | None:
    """Scatter traces whose many markers carry a text label beside them (left or right: a beam-search tree's
    tokens) as markers only, on a phone, where ~30 px columns make the labels cover each other; the label stays in
    the hover, which every such trace must have (``hovertemplate``, or hover info that is not "skip"). None when
    nothing changes."""
    out, changed = [], False
    for trace in data:
        mode = str(trace.get("mode", ""))
        texts = trace.get("text")
        hover = trace.get("hovertemplate") or trace.get("hoverinfo", "all") not in ("skip", "none")
        beside = str(trace.get("textposition", "")).endswith(("left", "right"))   # not inside the marker
        if (trace.get("type") == "scatter" and {"markers", "text"} <= set(mode.split("+")) and beside
                and isinstance(texts, (list, tuple)) and len(texts) > PHONE_POINT_LABELS and hover):
            kept = "+".join(m for m in mode.split("+") if m != "text") or "markers"
            trace = {**trace, "mode": kept}
            if not trace.get("hovertemplate"):   # the label is what the hover shows first
                trace["hovertemplate"] = "%{text}<extra></extra>"
            changed = True
        out.append(trace)
    return out if changed else None


PHONE_STACK_PANELS = 3   # a row of this many panels or more is stacked on a phone, one panel per row
PHONE_STACK_GAP_PX = 96  # between stacked panels: the upper one's tick labels and axis title, the lower one's title
_CHAR_PX = 7             # one Latin letter of 11-12 px text, for room beside a panel


def _stack_row(layout: dict[str, Any], data: list[dict], margin: dict[str, float],
               height: float) -> tuple[list[dict], float, dict[str, float]] | None:
    """A single row of ``PHONE_STACK_PANELS`` or more panels (heatmaps a phone would squeeze to ~80 px each), or of
    two or more panels with a colour bar each (the left one's bar would cover its neighbour's labels), laid out one
    panel per row, each keeping the plot's height in pixels and the full width. ``layout``'s axes, subplot
    titles and the margin are rewritten in place; returns (data with colour bars beside their own panel, the new
    height, the new margin), or None where the figure is not such a row or places anything else on the paper."""
    xs = {k: v for k, v in layout.items() if re.fullmatch(r"xaxis\d*", k) and isinstance(v, dict) and "domain" in v}
    ys = {k: v for k, v in layout.items() if re.fullmatch(r"yaxis\d*", k) and isinstance(v, dict) and "domain" in v}
    bars = sum(t.get("type") in ("heatmap", "contour") and t.get("showscale", True) is not False for t in data)
    if len(ys) != len(xs) or len(xs) < (2 if bars > 1 else PHONE_STACK_PANELS):   # two colour bars: one each
        return None
    if len({tuple(round(float(d), 3) for d in v["domain"]) for v in ys.values()}) != 1:
        return None
    panels = []   # (x axis key, y axis key), left to right
    for key, axis in sorted(xs.items(), key=lambda kv: float(kv[1]["domain"][0])):
        y_key = "yaxis" + str(axis.get("anchor", "y"))[1:]
        if y_key not in ys or ys[y_key].get("anchor", "x") != "x" + key[5:]:
            return None
        panels.append((key, y_key))
    notes = [dict(a) for a in layout.get("annotations", [])]   # copies: the caller's spec stays as it was
    layout["annotations"] = notes
    centres = [(float(xs[k]["domain"][0]) + float(xs[k]["domain"][1])) / 2 for k, _ in panels]
    titles: dict[int, dict] = {}
    for a in notes:
        if a.get("xref") != "paper" and a.get("yref") != "paper":
            continue
        i = next((i for i, c in enumerate(centres) if abs(c - float(a.get("x", -1))) < 0.01), None)
        if i is None or i in titles or a.get("yref") != "paper" or a.get("yanchor") != "bottom":
            return None   # something else placed on the paper: it would not follow its panel
        titles[i] = a
    if any("paper" in (sh.get("xref"), sh.get("yref")) for sh in layout.get("shapes", [])):
        return None

    panel_px = height - margin["t"] - margin["b"]
    n = len(panels)
    plot_h = n * panel_px + (n - 1) * PHONE_STACK_GAP_PX
    domains = []
    for i, (x_key, y_key) in enumerate(panels):
        top = i * (panel_px + PHONE_STACK_GAP_PX)
        lo, hi = 1 - (top + panel_px) / plot_h, 1 - top / plot_h
        domains.append((lo, hi))
        layout[x_key] = {**xs[x_key], "domain": [0.0, 1.0]}
        layout[y_key] = {**ys[y_key], "domain": [lo, hi]}
        if i in titles:
            titles[i].update(x=0.5, y=hi)
    by_axis = {"y" + y_key[5:]: d for (_, y_key), d in zip(panels, domains)}
    out = []
    for trace in data:
        lo_hi = by_axis.get(str(trace.get("yaxis", "y")))
        if lo_hi and trace.get("type") in ("heatmap", "contour") and trace.get("showscale", True) is not False:
            trace = {**trace, "colorbar": {**trace.get("colorbar", {}), "x": 1.02, "xanchor": "left",
                                           "y": sum(lo_hi) / 2, "yanchor": "middle",
                                           "len": lo_hi[1] - lo_hi[0], "lenmode": "fraction"}}
        out.append(trace)
    right = max([margin["r"]] + [4 + _CHAR_PX * _units(str(a.get("text", ""))) + float(a.get("xshift", 0))
                                 for a in notes if str(a.get("xref", "")).endswith(" domain")
                                 and float(a.get("x", 0)) >= 1 and a.get("xanchor") == "left"])
    return out, height + plot_h - panel_px, {**margin, "r": right}


def _column_widths(layout: dict[str, Any]) -> list[tuple[float, float]]:
    """(centre, width) in paper units of every x axis's domain: where a subplot title (centred on its column) is."""
    out = []
    for key, axis in layout.items():
        if re.fullmatch(r"xaxis\d*", key) and isinstance(axis, dict) and "domain" in axis:
            lo, hi = (float(v) for v in axis["domain"])
            out.append(((lo + hi) / 2, hi - lo))
    return out


def _open_rows(layout: dict[str, Any], notes: list[dict], gaps: dict[float, float], plot_h: float) -> float:
    """Make room above the subplot rows whose tops (paper units) are in ``gaps``: each row keeps its height in
    pixels and moves down by the room opened above it; the plot grows by the sum (returned), and the y axes'
    domains and the paper-placed annotations of ``notes`` are rewritten in place (``layout``'s axes are copied)."""
    axes = {k: dict(v) for k, v in layout.items() if re.fullmatch(r"yaxis\d*", k) and isinstance(v, dict)
            and "domain" in v}
    tops = sorted({round(float(v["domain"][1]), 3) for v in axes.values()}, reverse=True)
    shift = {}   # row top -> pixels it moves down
    moved = 0.0
    for top in tops:
        moved += next((g for y, g in gaps.items() if abs(y - top) < 0.005), 0.0)
        shift[top] = moved
    total = moved
    if not total:
        return 0.0
    new_h = plot_h + total

    def move(y: float, by: float) -> float:
        return 1 - ((1 - y) * plot_h + by) / new_h

    def row_of(y: float) -> float:   # the row a paper y belongs to: the lowest top at or above it
        above = [top for top in tops if top >= y - 0.005]
        return min(above) if above else tops[0]

    for key, axis in axes.items():
        lo, hi = (float(v) for v in axis["domain"])
        by = shift[round(hi, 3)]
        axis["domain"] = [move(lo, by), move(hi, by)]
        layout[key] = axis
    for a in notes:
        if a.get("yref") == "paper" and "y" in a:
            a["y"] = move(float(a["y"]), shift[row_of(float(a["y"]))])
    return total
