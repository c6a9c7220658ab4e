"""ui.figures.common: figures written as plain JSON reach Streamlit exactly as Plotly would write them."""

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import plotly.tools

from ui.figures.common import Prebuilt, colorscale, freeze, plain, thaw


def _figure() -> Prebuilt:
    return plain([{"type": "heatmap", "z": np.arange(6, dtype=np.float32).reshape(2, 3), "x": ("a", "b", "c"),
                   "zmin": np.float64(0.5), "colorscale": colorscale("RdBu_r")},
                  {"type": "scatter", "x": np.arange(3), "y": [np.int64(1), 2, 3]}],
                 {"title": {"text": "t"}, "height": np.int32(300)})


def test_a_plain_figure_is_already_json_data_and_freezes_without_a_round_trip():
    fig = _figure()
    frozen = freeze(fig)
    assert frozen == json.loads(pio.to_json(fig, validate=False))   # what Streamlit would send
    assert frozen["data"][1]["y"] == [1, 2, 3] and frozen["layout"]["height"] == 300
    assert frozen["data"][0]["z"]["dtype"] == "f4" and frozen["data"][0]["z"]["shape"] == "2, 3"
    go.Figure(frozen)                                    # and Plotly accepts every property
    assert freeze(thaw(frozen)) == frozen


def test_streamlit_gets_the_spec_of_a_prebuilt_figure_unchanged():
    fig = _figure()
    assert isinstance(fig, go.Figure)                    # st.plotly_chart's type check
    assert plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True) is fig.to_dict()


def test_freezing_a_plotly_figure_packs_its_arrays():
    fig = go.Figure(go.Scatter(x=np.arange(4), y=np.linspace(0, 1, 4)))
    frozen = freeze(fig)
    assert frozen == json.loads(fig.to_json()) and frozen["data"][0]["y"]["dtype"] == "f8"
