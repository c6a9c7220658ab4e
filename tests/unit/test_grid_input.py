import numpy as np
import pandas as pd

from ui.grid_input import parse_grid


def test_parse_grid_reads_numbers_and_spaces():
    arr, bad = parse_grid(pd.DataFrame([[" 1", "2.5"], ["-3", "0"]]))
    assert bad == [] and np.array_equal(arr, np.array([[1, 2.5], [-3, 0]], dtype=np.float32))


def test_parse_grid_flags_non_numbers_infinities_and_huge_values():
    arr, bad = parse_grid(pd.DataFrame([["x", "1"], ["inf", "1e9"], ["", "nan"]]))
    assert arr is None
    assert sorted(bad) == [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1)]


def test_an_edit_the_ui_could_send_fits_the_table():
    from ui.grid_input import editor_state_ok

    cols = {"0", "1", "2"}
    assert editor_state_ok(None, 3, cols)
    assert editor_state_ok({"edited_rows": {"1": {"2": "4.5"}}, "added_rows": [], "deleted_rows": []}, 3, cols)
    assert editor_state_ok({"edited_rows": {}, "added_rows": [{"0": "c3p1"}], "deleted_rows": [0]}, 3, cols,
                           max_rows=4)


def test_hostile_edits_are_refused_before_streamlit_applies_them():
    from ui.grid_input import editor_state_ok

    cols = {"0", "1", "2"}
    hostile = [
        {"edited_rows": {}, "added_rows": [{"0": "1"}] * 10_000, "deleted_rows": []},   # the 256 s message
        {"edited_rows": {}, "added_rows": [{"0": "1"}], "deleted_rows": []},            # any row on a fixed table
        {"edited_rows": {str(r): {"0": "1"} for r in range(20_000)}, "added_rows": [], "deleted_rows": []},
        {"edited_rows": {"7": {"0": "1"}}},                                            # a row that does not exist
        {"edited_rows": {"0": {"99": "1"}}},                                           # a column that does not exist
        {"edited_rows": {"0": {"0": "9" * 5000}}},                                     # a huge cell
        {"edited_rows": {"0": {"0": [1, 2]}}},                                         # not a cell value
        {"edited_rows": {"x": {"0": "1"}}},                                            # not a row number
        {"deleted_rows": [0]},                                                          # deleting from a fixed table
        {"surprise": 1},
        "edited_rows",
        [1, 2, 3],
    ]
    for state in hostile:
        assert not editor_state_ok(state, 3, cols), state
    assert not editor_state_ok({"added_rows": [{"0": "c1"}] * 30, "deleted_rows": []}, 3, cols, max_rows=20)
