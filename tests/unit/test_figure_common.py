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


def _hue(hex_colour: str) -> tuple[float, float]:
    import colorsys

    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    h, _, s = colorsys.rgb_to_hls(r, g, b)
    return 360 * h, s


def test_series_styles_are_distinct_and_similar_hues_differ_in_dash_and_symbol():
    from ui.figures.common import PALETTE, series

    styles = [series(i) for i in range(12)]
    assert len({(s.color, s.dash, s.symbol) for s in styles}) == 12
    assert len({s.symbol for s in styles}) == 12
    assert all(s.color in PALETTE for s in styles)      # one palette
    for a in range(12):
        for b in range(a + 1, 12):
            (ha, sa), (hb, sb) = _hue(styles[a].color), _hue(styles[b].color)
            close = min(abs(ha - hb), 360 - abs(ha - hb)) < 25 and sa > 0.2 and sb > 0.2
            if close or styles[a].color == styles[b].color:
                assert styles[a].dash != styles[b].dash and styles[a].symbol != styles[b].symbol, (a, b)


def test_no_series_is_yellow_on_white():
    from ui.figures.common import series

    for i in range(24):
        r, g, b = (int(series(i).color[k:k + 2], 16) for k in (1, 3, 5))
        luminance = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
        assert luminance < 0.7, series(i).color          # readable on the white page


def test_series_gives_plotly_line_and_marker_properties():
    from ui.figures.common import series

    s = series(1)
    go.Scatter(line=s.line(3), marker=s.marker(10, line={"width": 1, "color": "#fff"}))
    assert s.line(3) == {"color": s.color, "dash": s.dash, "width": 3}


def test_legend_at_bottom_sits_on_the_figures_bottom_edge_with_room_for_the_x_axis():
    import plotly.graph_objects as go

    from ui.figures.common import base_layout, legend_at_bottom

    fig = legend_at_bottom(base_layout(go.Figure(go.Scatter(x=[0, 1], y=[0, 1], name="a")), "t", x="x"), 80)
    legend = fig.layout.legend
    assert (legend.yref, legend.y, legend.yanchor, legend.orientation) == ("container", 0.0, "bottom", "h")
    assert fig.layout.margin.b == 80 and fig.layout.title.text == "t"   # the rest of base_layout is kept
