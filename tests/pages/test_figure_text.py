"""AppTest: no text in any figure of any lesson is drawn smaller than 11 px (issue 31, "text too small to read").

Every lesson in ``ui.catalog.available()`` is opened in both languages at its defaults, and then each of its tabs
in turn; every Plotly figure spec on the page (its frames included) is read back and every font it can draw with
is resolved the way Plotly.js resolves it: a font with no ``size`` inherits ``layout.font.size``, itself 12 when
unset. Heatmap numbers (``texttemplate``) with no ``textfont.size`` are sized by Plotly.js to fit the cell, however
small that is, so they must state a size: where a grid is too dense for readable numbers, the numbers belong in
the hover text instead. The same sweep checks that log axes over tiny or huge numbers are labelled in powers of
ten, not with SI prefixes ("1µ", "1n").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.support import LANGS, figures, open_page
from ui import catalog

MIN_PX = 11
PLOTLY_DEFAULT_PX = 12
LESSONS = [lesson.slug for lesson in catalog.available()]
# Fonts Plotly.js sizes itself from the layout font when the spec gives none (hover labels are drawn at 13 px).
_INHERITING = ("font", "tickfont", "textfont", "insidetextfont", "outsidetextfont")
_CSS_SIZE = re.compile(r"font-size\s*:\s*([0-9.]+)\s*px", re.IGNORECASE)


def _sizes(value: Any) -> list[float]:
    if value is None or isinstance(value, str):
        return []
    return [float(v) for v in np.ravel(np.asarray(value, dtype=float))]


def _fonts(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every (path, size) of a font-like dict under ``node`` (size None when the spec leaves it unset)."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if isinstance(value, dict) and (key in _INHERITING or key.endswith("font")):
                yield here, value.get("size")
            if isinstance(value, str):
                for px in _CSS_SIZE.findall(value):
                    yield f"{here} (inline style)", float(px)
            yield from _fonts(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _fonts(value, f"{path}[{i}]")


def _shows_text(trace: dict) -> bool:
    """A heatmap draws text in its cells only through ``texttemplate`` (its ``text`` alone is hover text)."""
    template = trace.get("texttemplate")
    if template is None or isinstance(template, str):
        return bool(template)
    return any(bool(t) for t in np.ravel(np.asarray(template, dtype=object)))


def small_text(spec: dict) -> list[str]:
    """Where a figure spec draws text under ``MIN_PX`` px, as readable paths ("layout.xaxis.tickfont: 9")."""
    layout = spec.get("layout") or {}
    base = (layout.get("font") or {}).get("size") or PLOTLY_DEFAULT_PX
    found = []
    if base < MIN_PX:
        found.append(f"layout.font.size: {base} (inherited by every text without a size)")
    parts = [("layout", layout)] + [(f"data[{i}]", tr) for i, tr in enumerate(spec.get("data") or [])]
    for f, frame in enumerate(spec.get("frames") or []):
        parts += [(f"frames[{f}].layout", frame.get("layout") or {})]
        parts += [(f"frames[{f}].data[{i}]", tr) for i, tr in enumerate(frame.get("data") or [])]
    for where, node in parts:
        for path, size in _fonts(node, where):
            small = [s for s in _sizes(size) if s < MIN_PX]
            if small:
                found.append(f"{path}.size: {min(small):g}")
        if where.rsplit(".", 1)[-1].startswith("data[") and node.get("type") == "heatmap" and _shows_text(node):
            if (node.get("textfont") or {}).get("size") is None:
                found.append(f"{where}.textfont.size: unset on a heatmap showing numbers (Plotly shrinks it to "
                             "fit the cell)")
    return found


def _other_tabs(at, slug: str) -> list[tuple[str, str]]:
    """(session-state key, label) of every tab of the lesson's tab bar (``<slug>.tab``) but the open one."""
    keys = [k for k in at.session_state if str(k).startswith(f"{slug}.") and str(k).endswith(".tab")]
    return [(key, tab.label) for key in keys for tab in at.tabs if tab.label != at.session_state[key]]


def _check(specs: list[dict], view: str, check) -> list[str]:
    """One line per figure and kind of problem: axis numbers and frame numbers folded ("xaxis*", "frames[*]")."""
    out = []
    for n, spec in enumerate(specs):
        title = (spec.get("layout") or {}).get("title")
        name = (title.get("text") if isinstance(title, dict) else title) or f"figure {n}"
        kinds: dict[str, int] = {}
        for problem in check(spec):
            kind = re.sub(r"(axis)\d+", r"\1*", re.sub(r"(frames|annotations)\[\d+\]", r"\1[*]", problem))
            kinds[kind] = kinds.get(kind, 0) + 1
        out += [f"{view} / {name[:70]!r}: {kind}" + (f" (x{c})" if c > 1 else "") for kind, c in kinds.items()]
    return out


def test_the_check_sees_inherited_explicit_and_auto_sized_text():
    """The checker itself: a 9 px annotation, a 10 px layout font inherited by the ticks, and a heatmap whose
    numbers Plotly would shrink to the cell are all reported; a figure at Plotly's defaults passes."""
    assert small_text({"data": [{"type": "scatter", "y": [1, 2]}], "layout": {}}) == []
    assert small_text({"data": [], "layout": {"annotations": [{"text": "a", "font": {"size": 9}}]}})
    assert small_text({"data": [], "layout": {"font": {"size": 10}}})
    assert small_text({"data": [{"type": "heatmap", "z": [[1]], "texttemplate": "%{z}"}], "layout": {}})
    assert not small_text({"data": [{"type": "heatmap", "z": [[1]], "text": [["hover only"]]}], "layout": {}})
    assert not small_text({"data": [{"type": "heatmap", "z": [[1]], "texttemplate": "%{z}",
                                     "textfont": {"size": 12}}], "layout": {}})
    assert small_text({"data": [{"type": "bar", "y": [1], "textfont": {"size": np.array([12.0, 8.0])}}],
                       "layout": {}})
    assert small_text({"data": [], "layout": {"title": {"text": "<span style='font-size:9px'>x</span>"}}})
    assert small_text({"data": [], "layout": {}, "frames": [{"layout": {"xaxis": {"tickfont": {"size": 8}}}}]})


_VIEWS: dict[tuple[str, str], list[tuple[str, list[dict]]]] = {}


def lesson_views(slug: str, lang: str) -> list[tuple[str, list[dict]]]:
    """(view, figure specs) of the lesson at its defaults and then on each of its tabs; opened once per module."""
    if (slug, lang) in _VIEWS:
        return _VIEWS[(slug, lang)]
    at = open_page(f"pages/{slug}.py", lang)
    assert not at.exception, f"{slug} ({lang}) raised: {at.exception}"
    views = [("defaults", figures(at))]
    for key, label in _other_tabs(at, slug):
        at.session_state[key] = label
        at.run()
        assert not at.exception, f"{slug} ({lang}) tab {label!r} raised: {at.exception}"
        views.append((f"tab {label!r}", figures(at)))
    assert any(specs for _, specs in views), f"{slug} ({lang}) drew no figure to check"
    _VIEWS[(slug, lang)] = views
    return views


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("slug", LESSONS)
def test_no_figure_text_under_11_px(slug, lang):
    problems = [p for view, specs in lesson_views(slug, lang) for p in _check(specs, view, small_text)]
    assert not problems, f"{slug} ({lang}) draws text under {MIN_PX} px:\n" + "\n".join(problems)


def _axis_values(spec: dict, axis: str) -> np.ndarray:
    """Every finite positive number that traces (and frames) plot on ``axis`` ("xaxis2" -> traces with xaxis "x2")."""
    letter, ref = axis[0], axis[0] + axis[5:]
    traces = list(spec.get("data") or [])
    base = [tr.get(f"{letter}axis", letter) for tr in traces]
    values = []
    for i, tr in enumerate(traces):
        if base[i] == ref:
            values.append(tr.get(letter))
    for frame in spec.get("frames") or []:
        fdata = frame.get("data") or []
        for k, tr in zip(frame.get("traces") or range(len(fdata)), fdata):   # frame traces name their index
            if k < len(base) and base[k] == ref:
                values.append(tr.get(letter))
    out = []
    for v in values:
        try:
            a = np.asarray(v, dtype=float).ravel()
        except (TypeError, ValueError):
            continue
        out.append(a[np.isfinite(a) & (a > 0)])
    return np.concatenate(out) if out else np.array([])


def si_prefixed_log_axes(spec: dict) -> list[str]:
    """Log axes left at Plotly's default ``exponentformat`` ("B") over numbers it writes with SI prefixes: below
    1e-3 ("1µ", "1n", "1p", "1f") or from 1e6 ("1M", "1B"). Counts in the thousands ("2k") are left alone."""
    found = []
    for name, axis in (spec.get("layout") or {}).items():
        if re.fullmatch(r"[xy]axis\d*", name) and isinstance(axis, dict) and axis.get("type") == "log":
            fmt = axis.get("exponentformat", "B")
            if fmt in ("B", "SI") and axis.get("tickvals") is None:
                v = _axis_values(spec, name)
                if v.size and (v.min() < 1e-3 or v.max() >= 1e6):
                    found.append(f"layout.{name}.exponentformat: {fmt!r} (SI prefixes over "
                                 f"{v.min():.0e}..{v.max():.0e})")
    return found


def test_the_log_axis_check_wants_powers_of_ten():
    tiny = [{"type": "scatter", "y": [1.0, 1e-9], "yaxis": "y2"}]
    assert si_prefixed_log_axes({"data": tiny, "layout": {"yaxis2": {"type": "log"}}})
    assert not si_prefixed_log_axes({"data": tiny, "layout": {"yaxis2": {"type": "log", "exponentformat": "power"}}})
    assert not si_prefixed_log_axes({"data": [{"x": [10, 5000]}], "layout": {"xaxis": {"type": "log"}}})
    assert not si_prefixed_log_axes({"data": tiny, "layout": {"yaxis2": {"type": "log", "tickvals": [1, 1e-9]}}})


@pytest.mark.parametrize("lang", LANGS[:1])
@pytest.mark.parametrize("slug", LESSONS)
def test_log_axes_are_labelled_in_powers_of_ten(slug, lang):
    """Issue 31: "SI prefixes (1µ, 1n, 1p, 1f) label the log loss axis; use 1e-6 or powers of ten"."""
    problems = [p for view, specs in lesson_views(slug, lang) for p in _check(specs, view, si_prefixed_log_axes)]
    assert not problems, f"{slug} ({lang}) labels log axes with SI prefixes:\n" + "\n".join(problems)
