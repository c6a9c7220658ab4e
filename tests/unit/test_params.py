"""The lesson kit's declarations: one rule for URL values, widget values and presets; figure data as a table."""

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from ui.figures.common import figure_table, freeze, plain
from ui.params import InvalidValue, Param, by_name, defaults

SETTINGS = (
    Param.float("lr", 0.1, lo=1e-3, hi=1.0, step=1e-3),
    Param.int("steps", 100, lo=1, hi=500, help=True),
    Param.bool("sn", False),
    Param.choice("loss", "nonsat", ("minimax", "nonsat", "hinge"), names="losses"),
    Param.choice("batch", 64, (16, 64, 256), widget="select_slider"),
    Param.multi("racers", ["sgd"], ("sgd", "adam")),
    Param.text("formula", "x**2", max_len=20),
)


def test_a_declaration_carries_its_range_widget_and_names():
    p = by_name(SETTINGS)
    assert (p["lr"].lo, p["lr"].hi, p["lr"].step, p["lr"].widget) == (1e-3, 1.0, 1e-3, "slider")
    assert p["steps"].help and p["sn"].widget == "toggle" and p["loss"].names == "losses"
    assert p["batch"].options == (16, 64, 256) and p["formula"].max_len == 20
    assert defaults(SETTINGS)["loss"] == "nonsat"


@pytest.mark.parametrize(("name", "value", "want"), [
    ("lr", 0.5, 0.5), ("lr", 1, 1.0), ("steps", 7, 7), ("sn", True, True), ("loss", "hinge", "hinge"),
    ("batch", 256, 256), ("racers", ["adam", "sgd"], ["adam", "sgd"]), ("formula", "sin(x)", "sin(x)"),
])
def test_valid_client_values_pass_in_their_canonical_type(name, value, want):
    got = by_name(SETTINGS)[name].check(value)
    assert got == want and type(got) is type(want)


@pytest.mark.parametrize(("name", "value"), [
    ("lr", math.nan), ("lr", math.inf), ("lr", 2.0), ("lr", "fast"), ("lr", [0.1]), ("lr", None),
    ("steps", 0), ("steps", 10**9), ("steps", "ten"), ("steps", 3.5),
    ("loss", "mse"), ("loss", None), ("loss", ["hinge"]), ("batch", 17), ("racers", ["sgd", "lbfgs"]),
    ("formula", "x" * 21), ("formula", 42), ("sn", "maybe"),
])
def test_hostile_client_values_are_refused_by_the_declaration(name, value):
    with pytest.raises(InvalidValue):
        by_name(SETTINGS)[name].check(value)


def test_two_settings_cannot_share_a_name():
    with pytest.raises(AssertionError):
        by_name((Param.bool("a", True), Param.bool("a", False)))


def test_a_figure_downloads_as_one_row_per_point_and_per_cell():
    fig = go.Figure([go.Scatter(x=[1, 2, 3], y=np.array([4.0, 5.0, 6.0]), name="loss"),
                     go.Heatmap(z=np.arange(6).reshape(2, 3), x=["p", "q", "r"], y=["u", "v"], name="map")])
    fig.update_layout(xaxis_title="step", yaxis_title="value")
    rows = figure_table(freeze(fig))
    assert len(rows) == 3 + 6
    assert rows[1] == {"trace": "loss", "x (step)": 2, "y (value)": 5.0}
    assert {"trace": "map", "x (step)": "r", "y (value)": "v", "z": 5} in rows


def test_an_animation_downloads_every_frame():
    spec = plain([{"type": "scatter", "x": np.arange(3.0), "y": np.zeros(3)}], {},
                 frames=[{"name": f"t{k}", "data": [{"x": np.arange(3.0), "y": np.full(3, k)}]} for k in range(4)])
    rows = figure_table(spec.to_dict())
    assert len(rows) == 3 + 4 * 3
    assert [r["y"] for r in rows if r.get("frame") == "t2"] == [2.0, 2.0, 2.0]
