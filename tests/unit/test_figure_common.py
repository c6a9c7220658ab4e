"""ui.figures.common: figures written as plain JSON reach Streamlit exactly as Plotly would write them."""

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import plotly.tools
import pytest

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


def test_animation_controls_stack_under_the_figure_in_pixels_at_any_height():
    """Play / Pause on their own row, the slider full width under them (side by side, the buttons covered the
    slider's label on a phone); both placed by padding in pixels under the plotting area, so the rows keep their
    distance whatever the figure's height, and the bottom margin holds them."""
    from ui.figures.common import CONTROLS_PX, animation_controls, controls_margin

    names = [str(k) for k in range(5)]
    for height in (300, 900):
        fig = animation_controls(go.Figure(layout={"height": height}), names, play="Play", pause="Pause",
                                 step_label="Step", below_px=50)
        menu, slider = fig.layout.updatemenus[0], fig.layout.sliders[0]
        assert (menu.y, menu.yanchor, slider.y, slider.yanchor) == (0, "top", 0, "top")   # the plot's bottom edge
        assert menu.pad.t == 50 and slider.pad.t > menu.pad.t + 30                          # buttons, then slider
        assert (slider.x, slider.len, slider.xanchor) == (0, 1, "left")                   # full width
        assert fig.layout.margin.b == controls_margin(50) == 50 + CONTROLS_PX
        assert slider.currentvalue.prefix == "Step: " and [s.label for s in slider.steps] == names
        assert slider.font.color is None                                                   # few frames: labelled


def test_a_long_animation_hides_its_step_labels_and_keeps_the_current_value():
    from ui.figures.common import MAX_STEP_LABELS, animation_layout

    layout = animation_layout([str(k) for k in range(MAX_STEP_LABELS + 1)], play="P", pause="S", step_label="n")
    slider = layout["sliders"][0]
    assert slider["font"]["color"] == "rgba(0,0,0,0)" and slider["currentvalue"]["font"]["size"] >= 11
    go.Figure(layout=layout)   # valid Plotly


def test_a_legend_under_the_controls_starts_below_the_slider():
    from ui.figures.common import controls_margin, legend_under_controls

    entries = legend_under_controls(680, 60, below_px=50)
    plot_h = 680 - 60 - entries["margin"]["b"]
    assert -entries["legend"]["y"] * plot_h > controls_margin(50)          # in pixels under the plot: past the slider
    assert entries["margin"]["b"] >= controls_margin(50) + 40              # and a row for itself


def test_for_phone_wraps_a_long_title_and_grows_the_top_margin_not_the_plot():
    from plotly.subplots import make_subplots

    from ui.figures.common import PHONE_TITLE_UNITS, for_phone

    fig = make_subplots(rows=1, cols=2, subplot_titles=["Input U with the sampling grid", "Output V (bilinear)"])
    fig.add_scatter(x=[0, 1], y=[0, 1], name="a")
    fig.update_layout(title={"text": "Grid generator and sampler: the grid θ moves every output pixel's sample"},
                      height=400, margin={"t": 60, "b": 50, "l": 50, "r": 20},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"})
    spec = fig.to_dict()
    before = json.dumps(spec, sort_keys=True)
    out = for_phone(spec)
    assert json.dumps(spec, sort_keys=True) == before                                      # the input is untouched
    title = out["layout"]["title"]["text"]
    assert title.replace("<br>", "") == spec["layout"]["title"]["text"]                    # only line breaks added
    assert all(len(line.strip()) <= PHONE_TITLE_UNITS for line in title.split("<br>")) and "<br>" in title
    plot_h = lambda s: s["layout"]["height"] - s["layout"]["margin"]["t"] - s["layout"]["margin"]["b"]
    assert plot_h(out) == plot_h(spec)                                                     # the plot keeps its size
    assert out["layout"]["margin"]["t"] > spec["layout"]["margin"]["t"]
    panels = [a["text"] for a in out["layout"]["annotations"]]
    assert panels == ["Input U with the <br>sampling grid", "Output V <br>(bilinear)"]   # 18 units each
    legend = out["layout"]["legend"]                                                       # under the plot
    assert (legend["yref"], legend["y"], legend["yanchor"]) == ("container", 0.0, "bottom")
    assert out["layout"]["margin"]["b"] > spec["layout"]["margin"]["b"]
    go.Figure(out)                                                                         # valid Plotly


def test_for_phone_counts_chinese_characters_double_and_leaves_short_figures_alone():
    from ui.figures.common import for_phone, wrap

    lines = wrap("每个激活函数和它的导数，由自动求导得到", 16).split("<br>")
    assert lines == ["每个激活函数和", "它的导数，由自", "动求导得到"]   # three lines as greedy, but balanced
    assert wrap("能到达该单元的输入像素（颜色：路径数）", 18).split("<br>") == \
        ["能到达该单元的", "输入像素（颜", "色：路径数）"]
    # a closing bracket never starts a line, and takes the character before it down rather than overflow the width
    from ui.figures.common import _wrap_greedy
    assert _wrap_greedy("颜色：路径", 4).split("<br>") == ["颜", "色：", "路径"]
    title = "计算图：前向算值（绿色），反向算梯度（红色）"   # two closing marks in a row: neither starts a line
    for width in range(8, 40):
        assert not any(line[:1] in "，。、；：）" for line in wrap(title, width).split("<br>")), width
    short = {"data": [], "layout": {"title": {"text": "Loss"}, "height": 300}}
    assert for_phone(short) is short
    frames = {"data": [], "layout": {"title": {"text": "Step 0"}, "height": 300},
              "frames": [{"name": "1", "layout": {"title": {"text": "Step 500: 8 of 8 modes covered, 97% look real, "
                                                                     "energy distance 0.0123"}}}]}
    out = for_phone(frames)   # a frame's long title counts too
    assert "<br>" in out["frames"][0]["layout"]["title"]["text"] and out["layout"]["height"] > 300


def test_for_phone_opens_room_above_a_lower_row_whose_titles_wrap():
    from plotly.subplots import make_subplots

    from ui.figures.common import for_phone

    names = ["Sigmoid · largest f′ = 0.25", "tanh · largest f′ = 1", "ReLU · largest f′ = 1",
             "Leaky ReLU · largest f′ = 1", "ELU · largest f′ = 1", "GELU · largest f′ = 1.13"]
    fig = make_subplots(rows=2, cols=3, subplot_titles=names, vertical_spacing=0.15)
    fig.update_layout(height=600, margin={"t": 60, "b": 50, "l": 50, "r": 20})
    spec = fig.to_dict()
    out = for_phone(spec)
    lay, old = out["layout"], spec["layout"]

    def rows_px(layout):   # each row's (top, bottom) in pixels from the plot's top
        plot_h = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
        return sorted({(round((1 - d[1]) * plot_h, 3), round((1 - d[0]) * plot_h, 3))
                       for d in (layout[k]["domain"] for k in layout if k.startswith("yaxis"))})

    (t1, b1), (t2, b2) = rows_px(old)
    (n1, m1), (n2, m2) = rows_px(lay)
    assert (m1 - n1, m2 - n2) == pytest.approx((b1 - t1, b2 - t2))   # every row keeps its height
    lines = max(a["text"].count("<br>") for a in lay["annotations"][3:]) + 1
    assert lines > 1 and n2 - m1 == pytest.approx(t2 - b1 + 22 * (lines - 1))   # the gap grew by the extra lines
    plot_h = lay["height"] - lay["margin"]["t"] - lay["margin"]["b"]
    for a in lay["annotations"][3:]:                                               # the titles moved with their row
        assert (1 - a["y"]) * plot_h == pytest.approx(n2)
    go.Figure(out)


def test_for_phone_stacks_a_row_of_three_panels_and_puts_each_colour_bar_beside_its_panel():
    from plotly.subplots import make_subplots

    from ui.figures.common import PHONE_STACK_GAP_PX, for_phone

    fig = make_subplots(rows=1, cols=3, subplot_titles=["Scores", "Weights", "Output"], column_widths=[0.36, 0.4, 0.24])
    for col in (1, 2, 3):
        fig.add_heatmap(z=[[1, 2], [3, 4]], showscale=col == 3, row=1, col=col)
    fig.add_annotation(x=1.0, xref="x2 domain", y=0, yref="y2", text="Σ=1.000", xanchor="left", showarrow=False)
    fig.update_layout(height=300, margin={"t": 50, "b": 50, "l": 40, "r": 20})
    spec = fig.to_dict()
    before = json.dumps(spec, sort_keys=True, default=str)
    out = for_phone(spec)
    assert json.dumps(spec, sort_keys=True, default=str) == before                     # the input is untouched
    lay = out["layout"]
    plot_h = lay["height"] - lay["margin"]["t"] - lay["margin"]["b"]
    doms = [lay[k]["domain"] for k in ("yaxis", "yaxis2", "yaxis3")]
    assert all(lay[k]["domain"] == [0.0, 1.0] for k in ("xaxis", "xaxis2", "xaxis3"))  # full width each
    heights = [(hi - lo) * plot_h for lo, hi in doms]
    assert heights == pytest.approx([200] * 3)                                         # each keeps the plot's 200 px
    assert doms[0][0] > doms[1][1] > doms[1][0] > doms[2][1]                          # top to bottom, left to right
    assert (doms[0][0] - doms[1][1]) * plot_h == pytest.approx(PHONE_STACK_GAP_PX)
    titles = {a["text"]: a for a in lay["annotations"] if a["xref"] == "paper"}
    assert [titles[n]["y"] for n in ("Scores", "Weights", "Output")] == pytest.approx([d[1] for d in doms])
    assert all(a["x"] == 0.5 for a in titles.values())
    bar = out["data"][2]["colorbar"]
    assert bar["y"] == pytest.approx(sum(doms[2]) / 2) and bar["len"] == pytest.approx(doms[2][1] - doms[2][0])
    assert lay["margin"]["r"] >= 40                                                    # room for Σ beside the map
    go.Figure(out)


def test_for_phone_stacks_two_panels_only_when_each_has_a_colour_bar():
    from plotly.subplots import make_subplots

    from ui.figures.common import for_phone

    def two(bars: bool) -> dict:
        fig = make_subplots(rows=1, cols=2, subplot_titles=["mean", "std"])
        for col in (1, 2):
            fig.add_heatmap(z=[[1, 2]], showscale=bars, colorbar={"x": 0.42 if col == 1 else 1.0},
                            row=1, col=col)
        return for_phone(fig.update_layout(height=300).to_dict())

    stacked, side_by_side = two(True)["layout"], two(False)["layout"]
    assert stacked["yaxis"]["domain"][0] > stacked["yaxis2"]["domain"][1]
    assert side_by_side["yaxis"]["domain"] == side_by_side["yaxis2"]["domain"]
    assert all(t["colorbar"]["x"] == 1.02 for t in two(True)["data"])                 # beside its own panel


def test_for_phone_shows_many_point_labels_on_hover_only_and_keeps_a_few():
    from ui.figures.common import PHONE_POINT_LABELS, for_phone

    n = PHONE_POINT_LABELS + 1
    many = {"type": "scatter", "x": list(range(n)), "y": [0] * n, "mode": "markers+text",
            "textposition": "middle right", "text": [f"token {i}" for i in range(n)], "customdata": list(range(n)),
            "hovertemplate": "%{customdata}<extra></extra>"}
    plain_hover = {**many, "hovertemplate": None, "name": "p"}
    few = {**many, "x": [0, 1], "y": [0, 0], "text": ["a", "b"], "customdata": [0, 1]}
    silent = {**many, "hovertemplate": None, "hoverinfo": "skip"}   # nothing would show the labels: they stay
    inside = {**many, "textposition": "middle center"}               # a graph's node names, drawn in the marker
    words = {**many, "mode": "text"}                                  # a column of tokens: the text is the figure
    spec = {"data": [many, plain_hover, few, silent, inside, words],
            "layout": {"title": {"text": "Loss"}, "height": 300}}
    out = for_phone(spec)["data"]
    assert [t["mode"] for t in out] == ["markers", "markers"] + ["markers+text"] * 3 + ["text"]
    assert out[0]["hovertemplate"] == many["hovertemplate"] and out[1]["hovertemplate"].startswith("%{text}")
    assert [t["mode"] for t in spec["data"][:5]] == ["markers+text"] * 5                  # the input is untouched
    go.Figure({**spec, "data": out})
