"""A small numeric grid the learner types into (st.data_editor), validated cell by cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

MAX_ABS = 1000.0


def parse_grid(df: pd.DataFrame, max_abs: float = MAX_ABS) -> tuple[np.ndarray | None, list[tuple[int, int]]]:
    """Numbers from a table of strings; returns (array, []) or (None, bad cells as (row, col))."""
    values = df.apply(lambda col: pd.to_numeric(col.astype(str).str.strip(), errors="coerce"))
    arr = values.to_numpy(dtype=np.float64)
    bad = np.argwhere(~np.isfinite(arr) | (np.abs(np.nan_to_num(arr)) > max_abs))
    if len(bad):
        return None, [(int(r), int(c)) for r, c in bad]
    return arr.astype(np.float32), []


def grid_editor(key: str, start: np.ndarray) -> tuple[np.ndarray | None, list[tuple[int, int]]]:
    """An editable grid pre-filled with ``start``; the widget key includes the shape so a resize starts fresh."""
    frame = pd.DataFrame(np.vectorize(lambda v: f"{v:g}")(start), columns=[str(i) for i in range(start.shape[1])])
    edited = st.data_editor(frame, key=f"{key}{start.shape[0]}x{start.shape[1]}", hide_index=False,
                            num_rows="fixed", width="content")
    return parse_grid(edited)
