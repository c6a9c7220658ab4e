"""A small numeric grid the learner types into (st.data_editor), validated before and after Streamlit applies it.

A data editor's edits arrive from the browser as ``{"edited_rows", "added_rows", "deleted_rows"}`` and Streamlit
applies them to the table *before* the page sees the result, adding rows one at a time (quadratic in their
number) even when the editor has a fixed number of rows. A hand-made message with 10,000 added rows cost 256 s
of server CPU and 11 GB, so ``guard_editor_state`` checks the raw edits against the table's shape first and
drops anything the UI could not have sent; the page then starts from its table again with a translated note.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from ui.i18n import t

MAX_ABS = 1000.0
MAX_CELL_CHARS = 32


def _int(text: object) -> int | None:
    try:
        return int(str(text))
    except ValueError:
        return None


def editor_state_ok(state: object, rows: int, columns: set[str], *, max_rows: int | None = None) -> bool:
    """Whether a data editor's raw edit state fits a table of ``rows`` rows and these column names.

    ``max_rows`` None: a fixed table (no added or deleted rows); else the most rows it may have after the edits.
    Cells are short texts or numbers (``MAX_CELL_CHARS``).
    """
    if state is None:
        return True
    if not isinstance(state, Mapping) or set(state) - {"edited_rows", "added_rows", "deleted_rows"}:
        return False
    edited, added, deleted = (state.get(k) or ({} if k == "edited_rows" else [])
                              for k in ("edited_rows", "added_rows", "deleted_rows"))
    if not isinstance(edited, Mapping) or not isinstance(added, list) or not isinstance(deleted, list):
        return False
    limit = rows if max_rows is None else max_rows
    if (max_rows is None and (added or deleted)) or len(added) > limit or len(deleted) > rows:
        return False
    if rows - len(set(map(str, deleted))) + len(added) > limit:
        return False
    if any(_int(d) is None or not 0 <= _int(d) < rows for d in deleted):
        return False

    def cells_ok(cells: object) -> bool:
        return (isinstance(cells, Mapping) and len(cells) <= len(columns) + 1
                and all(str(c) in columns or c == "_index" for c in cells)
                and all(v is None or (isinstance(v, (int, float, str)) and len(str(v)) <= MAX_CELL_CHARS)
                        for v in cells.values()))

    if len(edited) > rows + len(added) or any(_int(r) is None or not 0 <= _int(r) < rows + len(added)
                                              for r in edited):
        return False
    return all(cells_ok(c) for c in edited.values()) and all(cells_ok(c) for c in added)


def guard_editor_state(key: str, rows: int, columns: list[str], *, max_rows: int | None = None) -> bool:
    """Drop the editor ``key``'s edits if they do not fit its table (before ``st.data_editor`` applies them);
    returns whether they were kept. A dropped edit shows one translated note."""
    state: Any = st.session_state.get(key)
    if editor_state_ok(state, rows, set(columns), max_rows=max_rows):
        return True
    del st.session_state[key]
    st.warning(t("app.grid_reset"), icon=":material/table_rows:")
    return False


def parse_grid(df: pd.DataFrame, max_abs: float = MAX_ABS) -> tuple[np.ndarray | None, list[tuple[int, int]]]:
    """Numbers from a table of strings; returns (array, []) or (None, bad cells as (row, col))."""
    values = df.apply(lambda col: pd.to_numeric(col.astype(str).str.strip(), errors="coerce"))
    arr = values.to_numpy(dtype=np.float64)
    bad = np.argwhere(~np.isfinite(arr) | (np.abs(np.nan_to_num(arr)) > max_abs))
    if len(bad):
        return None, [(int(r), int(c)) for r, c in bad]
    return arr.astype(np.float32), []


def grid_editor(key: str, start: np.ndarray) -> tuple[np.ndarray | None, list[tuple[int, int]]]:
    """An editable grid pre-filled with ``start``; the widget key includes the shape so a resize starts fresh.

    The result always has ``start``'s shape: edits that would change it are dropped before Streamlit applies them.
    """
    columns = [str(i) for i in range(start.shape[1])]
    frame = pd.DataFrame(np.vectorize(lambda v: f"{v:g}")(start), columns=columns)
    widget_key = f"{key}{start.shape[0]}x{start.shape[1]}"
    guard_editor_state(widget_key, start.shape[0], columns)
    edited = st.data_editor(frame, key=widget_key, hide_index=False, num_rows="fixed", width="content")
    if edited.shape != start.shape:   # a last line of defence: never hand the page another shape
        return None, [(r, c) for r in range(start.shape[0]) for c in range(start.shape[1])]
    return parse_grid(edited)
