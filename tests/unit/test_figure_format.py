"""One way to write numbers for people (issue 31, "numbers formatted for a machine"): shares as percentages,
counts with grouped digits, tables without "None"; and the lesson tables that use it."""

import numpy as np
import pandas as pd

from dlcore import conv
from ui.figures import convolution as conv_figs
from ui.figures.common import grouped, percent, readable


def test_shares_read_as_percentages_and_counts_with_grouped_digits():
    assert percent(0.5861) == "58.6%"
    assert percent(1.0, 0) == "100%"
    assert grouped(231211008) == "231,211,008"
    assert grouped(84) == "84"


def test_a_readable_table_formats_its_cells_but_keeps_the_numbers():
    df = pd.DataFrame({"acc": [0.5861, np.nan], "params": [231211008, 7], "ratio": [0.123456, 1.0]})
    styled = readable(df, percents=["acc"], counts=["params"])
    html = styled.to_html()
    assert "58.6%" in html and "231,211,008" in html and "0.123" in html
    assert "None" not in html and "–" in html                       # a missing value shows as a dash
    assert styled.data["params"].tolist() == [231211008, 7]          # the numbers underneath are unchanged


def test_the_convolution_cost_table_groups_its_counts():
    labels = {k: k for k in conv_figs.COST_LABELS}
    rows = conv.cost_rows(224, 224, 256, 512, 3, 1)
    html = conv_figs.cost_table(rows, labels).to_html()
    assert f"{rows[0].mult_adds:,}" in html and str(rows[0].mult_adds) not in html


def test_tiny_numbers_in_prose_read_as_powers_of_ten():
    from ui.figures.common import scientific

    assert scientific(1.734e-10) == "1.7 × 10⁻¹⁰"
    assert scientific(1.2e-07) == "1.2 × 10⁻⁷"
    assert scientific(3.0e20, 2) == "3.00 × 10²⁰"
    assert scientific(0.0) == "0"
