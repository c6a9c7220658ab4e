"""The receptive-field lesson's layer table: an editable ``st.data_editor`` bound to the lesson's ``net`` setting.

The editor starts from a *base* table (``<lesson>._base``, as spec text) and keys its widget on it, so its edits
stay while the learner types. What it shows and what the URL holds (``net``) are kept in step through
``<lesson>._synced``, the last table either side has seen:

- a preset, the network box or a shared link changes ``net`` (it no longer equals ``_synced``): the editor is
  rebased on the new table and its old edits are dropped;
- an edit gives a valid table other than ``net``: ``net`` takes it (so the URL follows), ``_synced`` too;
- an edit that moved rows (the ``order`` column): the editor is rebased on the renumbered table at once.

Edits are checked against the table before Streamlit applies them (``ui.grid_input.guard_editor_state``): rows
can be added up to one past ``rf.MAX_LAYERS`` (so the page can name the row over the cap) and cells are short.
"""

from __future__ import annotations

import zlib
from typing import Any

import pandas as pd
import streamlit as st

from dlcore import receptive_field as rf
from ui import lesson
from ui.grid_input import guard_editor_state
from ui.i18n import labels, option_names, t
from ui.state import Bound

NUMBER_COLUMNS = (("kernel", 1, rf.MAX_KERNEL, 3), ("stride", 1, rf.MAX_STRIDE, 1),
                  ("padding", 0, rf.MAX_PADDING, 0), ("dilation", 1, rf.MAX_DILATION, 1),
                  ("channels", 1, rf.MAX_CHANNELS, None), ("groups", 1, rf.MAX_CHANNELS, 1))   # name, lo, hi, default


def header_width(text: str, least: int) -> int:
    """Pixels a column needs to show its whole header ``text`` (an edit icon, then the text: ~14 px a CJK
    character, ~8 px any other), and at least ``least`` for its cells (issue 31: no header cut off)."""
    return max(least, 30 + sum(14 if ord(ch) > 0x2E7F else 8 for ch in text))


def column_config(lesson: str) -> dict[str, Any]:
    """The editor's columns: translated short headers and help, the kinds' names, each number's range."""
    cc, short = st.column_config, labels(f"{lesson}.short", ("name", "kind", "bias", *(c[0] for c in NUMBER_COLUMNS)))
    columns = {"order": cc.NumberColumn("#", help=t(f"{lesson}.help.order"), width=40, format="%g"),
               "name": cc.TextColumn(short["name"], max_chars=rf.MAX_NAME, width=header_width(short["name"], 64)),
               "kind": cc.SelectboxColumn(short["kind"], options=rf.KINDS, default="conv", required=True,
                                          format_func=option_names(f"{lesson}.kinds", rf.KINDS).get,
                                          width=header_width(short["kind"], 96)),
               "bias": cc.CheckboxColumn(short["bias"], default=True, width=header_width(short["bias"], 44))}
    for name, lo, hi, default in NUMBER_COLUMNS:
        columns[name] = cc.NumberColumn(short[name], help=t(f"{lesson}.help.{name}"), min_value=lo, max_value=hi,
                                        step=1, default=default, width=header_width(short[name], 44))
    return columns


@lesson.cached(64)
def base_frame(spec: str) -> pd.DataFrame:
    """The editor's starting table for ``spec`` (one row per layer)."""
    return rf.to_frame(rf.parse_spec(spec))


def layer_editor(bound: Bound, spec: str) -> rf.Parsed:
    """Draw the table of ``spec`` (the ``net`` setting, or the chosen network's table) for editing; return it
    parsed. Keeps ``net`` in step with the edits (see the module docstring)."""
    lesson = bound.lesson
    if st.session_state.get(f"{lesson}._synced") != spec:
        st.session_state[f"{lesson}._base"] = st.session_state[f"{lesson}._synced"] = spec
    base = st.session_state[f"{lesson}._base"]
    frame = base_frame(base)
    key = f"{lesson}.table_{zlib.crc32(base.encode()):08x}"
    guard_editor_state(key, len(frame), list(rf.FRAME_COLUMNS), max_rows=rf.MAX_LAYERS + 1)
    edited = st.data_editor(frame, key=key, num_rows="dynamic", hide_index=True, placeholder="",
                            height=min(36 * (base.count(",") + 3), 420), column_config=column_config(lesson),
                            column_order=rf.FRAME_COLUMNS)
    st.caption(t(f"{lesson}.editor_hint", cap=rf.MAX_LAYERS))
    parsed = rf.parse_frame(edited)
    if parsed.error is None and (new := rf.to_spec(parsed.layers)) != spec:
        st.session_state[bound.key("net")] = st.session_state[f"{lesson}._synced"] = new
        if parsed.reordered:                                    # show the new order, renumbered
            st.session_state[f"{lesson}._base"] = new
            st.rerun()
    return parsed
