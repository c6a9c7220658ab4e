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
