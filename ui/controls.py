"""Draw a lesson's declared settings by name: the range, options, label and help come from the declaration.

    bound = bind("gan", experiment.SETTINGS)
    c = st.columns(3)
    control(bound, "loss", c[0])          # select box over the declared options, translated names
    control(bound, "lr_d", c[1])          # select slider over the declared values
    control(bound, "sn", c[2])            # toggle with its help text

Labels are ``<lesson>.<name>``; help, when the declaration says it has one, ``<lesson>.help.<name>``; option
names ``<lesson>.<names>.<option>``. ``**overrides`` pass through to the Streamlit widget (``label_visibility``,
``disabled``, ``horizontal``...).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.i18n import option_names, t
from ui.state import Bound


def _format(p, lesson: str):
    if p.names:
        names = option_names(f"{lesson}.{p.names}", p.options)
        return lambda o: names.get(o, str(o))
    if p.fmt:
        return lambda o: format(o, p.fmt)
    return str


def control(bound: Bound, name: str, where: Any = st, **overrides: Any) -> Any:
    """Draw the setting ``name`` of ``bound`` in ``where`` (``st``, a column, the sidebar); return its value."""
    p = bound.param(name)
    key = bound.key(name)
    kw: dict[str, Any] = {"key": key}
    if p.help:
        kw["help"] = t(f"{bound.lesson}.help.{name}")
    kw.update(overrides)
    label = kw.pop("label", None) or t(f"{bound.lesson}.{name}")
    widget = p.widget
    if widget == "slider":
        return where.slider(label, p.lo, p.hi, step=p.step, **kw)
    if widget == "number":
        return where.number_input(label, min_value=p.lo, max_value=p.hi, step=p.step, **kw)
    if widget in ("toggle", "checkbox"):
        return getattr(where, widget)(label, **kw)
    if widget in ("text", "text_area"):
        fn = where.text_input if widget == "text" else where.text_area
        return fn(label, max_chars=p.max_len, **kw)
    fmt = kw.pop("format_func", None) or _format(p, bound.lesson)
    if widget == "select_slider":
        return where.select_slider(label, p.options, format_func=fmt, **kw)
    if widget == "selectbox":
        return where.selectbox(label, p.options, format_func=fmt, **kw)
    if widget == "radio":
        return where.radio(label, p.options, format_func=fmt, **kw)
    if widget == "segmented":
        return where.segmented_control(label, p.options, format_func=fmt, required=True, **kw)
    if widget == "pills":
        return where.pills(label, p.options, format_func=fmt, selection_mode="multi", **kw)
    if widget == "multiselect":
        return where.multiselect(label, p.options, format_func=fmt, **kw)
    raise ValueError(f"setting {key!r} has no widget to draw ({widget!r}); the page draws it itself")
