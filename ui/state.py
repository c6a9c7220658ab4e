"""Lesson widgets bound to ``st.query_params`` so a copied URL reopens the same experiment.

A page declares its URL-able widgets once::

    params = bind("gan", [
        Param.float("lr_d", 2e-4, lo=1e-5, hi=1e-1),
        Param.choice("loss", "nonsat", ["minimax", "nonsat", "hinge"]),
    ])

``bind`` seeds ``st.session_state["gan.lr_d"]`` (the widget's key) from the URL
when the value there is valid, else from the default, and shows one translated
note naming every URL value it had to drop. Widgets then use ``key=`` only (no
``value=``). At the end of the page, ``sync_url(params)`` writes the values that
differ from the defaults back to the URL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from ui.i18n import t
from ui.params import FRAME_PARAMS, MAX_TEXT, InvalidValue, Param  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class Bound:
    lesson: str
    params: tuple[Param, ...]

    def key(self, name: str) -> str:
        return f"{self.lesson}.{name}"

    def param(self, name: str) -> Param:
        """The declaration of the setting ``name``."""
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.lesson} declares no setting {name!r}")

    def values(self) -> dict[str, Any]:
        """Current values by short name (what the page passes to its config)."""
        return {p.name: st.session_state[self.key(p.name)] for p in self.params}


def _checked(p: Param, value: Any) -> Any:
    """``value`` if the declaration accepts it (``Param.check``: the URL rule), in its canonical type ("64" for
    64); otherwise the default. Typed text passes unchanged: the page shows its own message for text it cannot
    use, and the learner keeps what they typed. Anything a client sends that the UI never would (None for a
    required choice, NaN, a list for a number, a label from a table that has changed since) falls back to the
    default, so the page never sees it."""
    if p.free_text and isinstance(value, str):
        return value
    try:
        canonical = p.check(value)
    except (InvalidValue, ValueError, TypeError, KeyError, OverflowError):
        return p.default
    return canonical if type(canonical) is not type(value) else value


def bind(lesson: str, params: Sequence[Param]) -> Bound:
    """Seed each widget's session-state value from the URL or its default; note bad URL values."""
    bound = Bound(lesson, tuple(params))
    problems: list[str] = []
    for p in bound.params:
        key = bound.key(p.name)
        if key in st.session_state:
            # Re-assign so Streamlit keeps the value while its widget sits on a tab this run does not draw
            # (it drops the state of widgets it did not render, and lessons render only the open tab).
            # It is also checked: a stale or foreign widget value (the label of a select box option from a
            # table that has changed since, say) falls back to the default rather than reaching the page.
            st.session_state[key] = _checked(p, st.session_state[key])
            continue
        raw = st.query_params.get(key)
        value = p.default
        if raw is not None:
            try:
                value = p.parse(str(raw))
            except InvalidValue as e:
                problems.append(t("app.url.item", name=key, value=str(raw)[:40], why=t(str(e))))
        st.session_state[key] = value
    if problems:
        st.warning(t("app.url.note") + "\n\n" + "\n".join(f"- {x}" for x in problems), icon=":material/link_off:")
    return bound


def sync_url(bound: Bound) -> None:
    """Write the values that differ from their defaults into the URL; drop the rest."""
    for p in bound.params:
        key = bound.key(p.name)
        value = st.session_state.get(key, p.default)
        if value == p.default or (isinstance(value, (list, tuple)) and list(value) == list(p.default)):
            if key in st.query_params:
                del st.query_params[key]
        else:
            st.query_params[key] = p.dump(value)


def reset_lesson(bound: Bound) -> None:
    """Put every bound widget back to its default (a button callback)."""
    for p in bound.params:
        st.session_state[bound.key(p.name)] = p.default


@dataclass(frozen=True)
class Preset:
    """One "try this" experiment: widget values by short name, and its i18n keys.

    Label: ``<lesson>.presets.<name>.label``; what to notice: ``<lesson>.presets.<name>.note``.
    ``extra`` sets session-state keys that are not URL-bound (full keys).
    """
    name: str
    values: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def apply_preset(bound: Bound, preset: Preset) -> None:
    """Set the lesson's settings to ``preset`` (a preset button, an exercise's experiment)."""
    for name, value in preset.values.items():
        st.session_state[bound.key(name)] = value
    for key, value in preset.extra.items():
        st.session_state[key] = value
    st.session_state[f"{bound.lesson}._preset"] = preset.name


def global_seed() -> int:
    """The sidebar's random seed (0 until the sidebar has run)."""
    return int(st.session_state.get("app.seed", 0))


def device_preference() -> str:
    """The sidebar's device choice, "cpu" or "cuda" (dlcore.device.pick validates it)."""
    return str(st.session_state.get("app.device", "cpu"))


MAX_SELECTED = 64   # points of one chart selection a callback looks at


def selected_points(selection: object, *, limit: int = MAX_SELECTED) -> list[dict[str, object]]:
    """The points of a chart selection (``st.session_state[chart_key]``) as plain dicts, with only finite numbers.

    The selection arrives from the client, which may send anything (issue 30: strings for coordinates, ``None``,
    huge indices, nested objects, no "points" at all). A callback reads this instead: each point keeps its numeric
    ``x``, ``y``, ``z``, ``point_index``, ``point_number``, ``curve_number`` and a ``customdata`` of at most 16
    finite numbers; anything else is left out, and a malformed selection gives ``[]``.
    """
    def get(obj: object, key: str) -> object:   # Streamlit's selection state reads either way
        return obj[key] if isinstance(obj, Mapping) else getattr(obj, key)

    try:
        points = get(get(selection, "selection"), "points")
    except (KeyError, TypeError, IndexError, AttributeError):
        return []
    if not isinstance(points, (list, tuple)):
        return []

    def number(v: object) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) < 1e9

    out = []
    for p in points[:limit]:
        if not isinstance(p, Mapping):
            continue
        clean: dict[str, object] = {k: p[k] for k in ("x", "y", "z", "point_index", "point_number", "curve_number")
                                    if k in p and number(p[k])}
        data = p.get("customdata")
        if isinstance(data, Mapping):   # an array's entries may arrive keyed "0", "1", ...
            data = list(data.values())
        if isinstance(data, (list, tuple)) and 0 < len(data) <= 16 and all(number(v) for v in data):
            clean["customdata"] = list(data)
        elif number(data):
            clean["customdata"] = data
        out.append(clean)
    return out
