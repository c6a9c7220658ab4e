"""The LSTM cell diagram for a phone: the same values as the full diagram, listed under it, only names on wires."""

from __future__ import annotations

import numpy as np
import pytest

from ui.figures.lstm_gates import cell_diagram


def _values(kind: str, hidden: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    names = ("x", "h_prev", "c_prev", "i", "f", "g", "o", "c", "h") if kind == "lstm" else \
        ("x", "h_prev", "r", "z", "n", "h")
    return {k: rng.uniform(-1, 1, 1 if k == "x" else hidden) for k in names}


@pytest.mark.parametrize("hidden", [1, 2, 4])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_compact_diagram_lists_every_value_of_the_full_one_under_the_cell(kind, hidden):
    v = _values(kind, hidden)
    full = cell_diagram(kind, v, title="t").to_dict()["layout"]
    compact = cell_diagram(kind, v, title="t", compact=True).to_dict()["layout"]
    valued = [a["text"] for a in full["annotations"] if "</b> = " in a["text"]]   # "<b>name</b> = values"
    listed = [a for a in compact["annotations"] if "</b> = " in a["text"]]
    assert sorted(a["text"] for a in listed) == sorted(valued) and len(valued) >= 7   # the same values, all of them
    low = compact["yaxis"]["range"][0]
    assert all(low < a["y"] < 0 for a in listed)                                       # under the cell (y < 0)
    names = {t.split("</b> = ")[0] + "</b>" for t in valued}                        # the wires keep their names
    on_wires = [a["text"] for a in compact["annotations"] if a["y"] >= 0]
    assert names <= set(on_wires) and not any("</b> = " in t for t in on_wires)
    assert compact["height"] > full["height"]                                         # the list adds rows
    one_column = hidden > 2
    assert len({a["x"] for a in listed}) == (1 if one_column else 2)                  # four units' vectors: one column
