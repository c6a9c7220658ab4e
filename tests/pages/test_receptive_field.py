"""AppTest of the receptive-field lesson: figure values, the table editor, networks, presets,
the effective-field tab, URL state and bad input, in both languages."""

import json

import numpy as np
import pytest

from dlcore import receptive_field as rf
from tests.support import all_text, figures, open_page
from ui.i18n import strings

PAGE = "pages/receptive_field.py"


def _unit(at) -> dict:
    return next(f for f in figures(at) if len(f["data"]) == 6)          # heatmap, photo, 2 x (dots, star)


def _bars(at) -> dict:
    return next(f for f in figures(at) if f["data"][0]["type"] == "bar")


def _edit(at, **change):
    """Apply a data_editor delta (edited_rows / added_rows / deleted_rows) as the browser would."""
    key = at.dataframe[0].key
    at.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **change}
    return at.run()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_shows_the_notes_example_field_of_30_on_grid_photo_and_bars(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    s = strings(lang)
    unit = _unit(at)
    title = s["receptive_field.fig.unit_title"].format(layer=7, row=2, col=2, r=30, j=8)
    assert title in unit["layout"]["title"]["text"]
    field = unit["layout"]["shapes"][1]                                   # the field square on the grid
    assert (field["x0"], field["x1"], field["y0"], field["y1"]) == (15.5, 45.5, 15.5, 45.5)
    z = np.asarray(unit["data"][0]["z"])
    rows, cols = np.nonzero(z)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (16, 45, 16, 45)   # autograd: 30 x 30
    dots = np.unique(np.asarray(unit["data"][2]["x"]))
    np.testing.assert_allclose(dots, 14.5 + 8 * np.arange(5))              # the stride grid: start + i * jump
    assert unit["data"][1]["source"].startswith("data:image/png;base64,")
    bars = _bars(at)
    assert list(np.asarray(bars["data"][0]["y"])) == [3, 4, 8, 10, 18, 26, 30]
    assert list(np.asarray(bars["data"][1]["y"])) == [1, 2, 2, 4, 4, 4, 8]
    assert bars["layout"]["yaxis"]["title"]["text"] == s["receptive_field.fig.rf_axis"]
    assert bars["layout"]["yaxis2"]["title"]["text"] == s["receptive_field.fig.jump_axis"]
    table = at.dataframe[1].value
    assert list(table.iloc[:7, 6]) == [3, 4, 8, 10, 18, 26, 30]           # the results table's rf column
    assert table.iloc[7, 9] == 336                                         # total parameters: 4 x (3*3*3*3 + 3)
    text = all_text(at)
    assert "26 + 1\\cdot4 = 30" in text                                    # the recurrence, numbers filled in
    assert s["receptive_field.autograd.square"].format(r0=16, r1=45, c0=16, c1=45, h=30, w=30) in text
    assert s["receptive_field.unseen"].format(n=2) in text


def test_choosing_a_layer_and_unit_moves_the_field_and_the_formula():
    at = open_page(PAGE, "en")
    at.selectbox(key="receptive_field.layer").set_value(3).run()          # conv2: 29 x 29, r = 8, j = 2
    at.number_input(key="receptive_field.row").set_value(0).run()
    at.number_input(key="receptive_field.col").set_value(28).run()
    assert not at.exception and not at.error
    unit = _unit(at)
    df = rf.table(rf.parse_spec("c3,m2s2,c3"), 64, 3)
    top, bottom, left, right = rf.field_box(df, 3, 0, 28)
    field = unit["layout"]["shapes"][1]
    assert (field["y0"], field["y1"], field["x0"], field["x1"]) == (top - 0.5, bottom + 0.5, left - 0.5, right + 0.5)
    assert (top, left) == (0.0, 56.0)
    assert "r_{3} &= r_{2} + (k'-1)\\,j_{2} = 4 + 2\\cdot2 = 8" in all_text(at)
    bars = _bars(at)
    assert bars["data"][0]["marker"]["color"][2] != bars["data"][0]["marker"]["color"][0]   # layer 3 highlighted
    assert at.query_params.get("receptive_field.layer") == "3"


@pytest.mark.parametrize("model, size, r", [("resnet50", 224, 427), ("alexnet", 224, 195), ("mobilenet_v1", 224, 315),
                                            ("digits_cnn", 8, 6)])
def test_networks_walked_from_torch_modules_load_with_their_input(model, size, r):
    at = open_page(PAGE, "en")
    at.selectbox(key="receptive_field.model").set_value(model).run()
    assert not at.exception and not at.error
    assert at.session_state["receptive_field.size"] == size
    assert list(np.asarray(_bars(at)["data"][0]["y"]))[-1] == r
    assert "Checked with PyTorch" in all_text(at)


def test_resnet_note_says_which_path_is_measured_in_chinese():
    at = open_page(PAGE, "zh", query={"receptive_field.model": "resnet18"})
    assert not at.exception and not at.error
    assert at.session_state["receptive_field.size"] == 224                # a shared link uses the network's input
    assert "只计主路径" in all_text(at) and "捷径" in all_text(at)
    assert list(np.asarray(_bars(at)["data"][0]["y"]))[-1] == 435


def test_editing_adding_deleting_and_reordering_rows_recompute_and_reach_the_url():
    at = _edit(open_page(PAGE, "en"), edited_rows={0: {"kernel": 5}})
    assert not at.exception and not at.error
    assert list(np.asarray(_bars(at)["data"][0]["y"]))[-1] == 32
    assert at.query_params.get("receptive_field.net").startswith("c5x3@conv1,")
    at = _edit(open_page(PAGE, "en"), added_rows=[{"kind": "conv", "kernel": 3, "dilation": 2}], deleted_rows=[0])
    assert not at.exception and not at.error
    assert list(np.asarray(_bars(at)["data"][0]["y"])) == [2, 6, 8, 16, 24, 28, 60]
    at = _edit(open_page(PAGE, "en"), edited_rows={6: {"order": 0.5}})    # move the last pool to the front
    assert not at.exception and not at.error
    assert at.query_params.get("receptive_field.net").startswith("m2s2@pool3,c3x3@conv1")


@pytest.mark.parametrize("lang, change, needle", [
    ("en", {"edited_rows": {3: {"kernel": None}}}, "Row 4: Kernel k is empty"),
    ("en", {"edited_rows": {3: {"kernel": 0}}}, "Row 4: Kernel k = 0 is outside 1–64"),
    ("zh", {"edited_rows": {2: {"kind": "banana"}}}, "第 3 行：'banana' 不是层类型"),
    ("zh", {"edited_rows": {1: {"padding": 2}}}, "第 2 行：大小为 2 的池化窗口最多允许 1 的填充"),
    ("en", {"edited_rows": {0: {"kernel": 64}}}, "Row 2: the kernel spans 2 pixels but the padded input is only 1"),
])
def test_bad_rows_get_a_translated_message_and_the_rows_before_still_compute(lang, change, needle):
    at = _edit(open_page(PAGE, lang), **change)
    assert not at.exception
    assert any(needle in e.value for e in at.error), [e.value for e in at.error]
    assert figures(at)                                                    # the rows before it are still drawn


def test_empty_rows_are_skipped_with_a_note():
    at = _edit(open_page(PAGE, "en"), added_rows=[{}])
    assert not at.exception and not at.error
    assert any("Empty rows skipped: 8" in w.value for w in at.warning)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_presets_set_up_their_experiments(lang):
    at = open_page(PAGE, lang)
    s = strings(lang)
    expected = {"vgg": 5, "early_stride": 15, "dilated": 127, "pool_vs_stride": 20, "notes": 30}
    for name, r in expected.items():
        at.button(key=f"receptive_field.preset_btn.{name}").click().run()
        assert not at.exception and not at.error, name
        assert list(np.asarray(_bars(at)["data"][0]["y"]))[-1] == r, name
        assert s[f"receptive_field.presets.{name}.note"] in [i.value for i in at.info]
    table = at.dataframe[1].value
    at.button(key="receptive_field.preset_btn.vgg").click().run()
    assert at.dataframe[1].value.iloc[-1, 9] == 73_856 and len(table) == 8


def test_effective_field_tab_shows_a_smaller_gaussian_field_and_sqrt_growth():
    at = open_page(PAGE, "zh")
    at.button(key="receptive_field.preset_btn.erf").click().run()          # switches to the tab, depth 20
    assert not at.exception and not at.error
    maps = next(f for f in figures(at) if f["data"][0]["type"] == "heatmap" and len(f["data"]) >= 4)
    rand, uni = np.asarray(maps["data"][0]["z"]), np.asarray(maps["data"][1]["z"])
    assert rand.shape == uni.shape == (41, 41) and uni.max() == 1
    assert maps["layout"]["title"]["text"].startswith("理论感受野 41 像素")
    res = rf.effective_field(rf.stack(20), rf.ERFConfig(41, True, 4, 0))
    np.testing.assert_allclose(rand, res.random, atol=1e-6)
    assert res.erf_random < 41
    grow = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("感受野宽度与深度"))
    theory = np.asarray(grow["data"][0]["y"])
    assert list(theory) == [2 * int(d) + 1 for d in np.asarray(grow["data"][0]["x"])]
    fit = rf.erf_growth(20, seeds=4, seed=0).sqrt_fit
    assert [tr["name"] for tr in grow["data"] if tr.get("name", "").endswith("√L")] == [f"{fit:.1f}·√L"]
    at.slider(key="receptive_field.erf_depth").set_value(5).run()
    maps = next(f for f in figures(at) if f["data"][0]["type"] == "heatmap" and len(f["data"]) >= 4)
    assert np.asarray(maps["data"][0]["z"]).shape == (11, 11)


def test_effective_field_of_the_table_network_is_measured_on_at_most_128_pixels():
    at = open_page(PAGE, "en", query={"receptive_field.model": "vgg16", "receptive_field.erf_source": "table"})
    at.session_state["receptive_field.tab"] = strings("en")["receptive_field.tabs.erf"]
    at.run()
    assert not at.exception and not at.error
    assert any("128 × 128" in i.value for i in at.info)
    maps = next(f for f in figures(at) if f["data"][0]["type"] == "heatmap" and len(f["data"]) >= 4)
    assert np.asarray(maps["data"][0]["z"]).shape == (128, 128)


def test_url_state_reopens_the_experiment_and_bad_values_fall_back_with_a_note():
    at = open_page(PAGE, "en", query={"receptive_field.net": "c3s2p1x8,c3d2p2", "receptive_field.size": "40",
                                       "receptive_field.layer": "1", "receptive_field.row": "0"})
    assert not at.exception and not at.error
    assert "Unit (0, 10) of layer 1: field r = 3" in _unit(at)["layout"]["title"]["text"]
    assert list(np.asarray(_bars(at)["data"][0]["y"])) == [3, 11]
    at = open_page(PAGE, "en", query={"receptive_field.net": "__import__('os')", "receptive_field.size": "99999",
                                       "receptive_field.model": "<script>", "receptive_field.erf_seeds": "abc"})
    assert not at.exception and not at.error
    note = " ".join(w.value for w in at.warning)
    for key in ("receptive_field.net", "receptive_field.size", "receptive_field.model", "receptive_field.erf_seeds"):
        assert key in note
    assert list(np.asarray(_bars(at)["data"][0]["y"]))[-1] == 30          # defaults: the notes' example
    at = open_page(PAGE, "en", query={"receptive_field.net": "c3," * 3000})
    assert not at.exception and any("too long" in w.value for w in at.warning)


def test_url_table_with_a_layer_torch_refuses_points_at_it():
    at = open_page(PAGE, "zh", query={"receptive_field.net": "c3,a3d2,c3", "receptive_field.size": "16"})
    assert not at.exception
    assert any("第 2 行：平均池化没有空洞率" in e.value for e in at.error)
    assert list(np.asarray(_bars(at)["data"][0]["y"])) == [3]
    at = open_page(PAGE, "en", query={"receptive_field.net": "c5,c5,c5", "receptive_field.size": "9"})
    assert any("Row 3: the kernel spans 5 pixels but the padded input is only 1" in e.value for e in at.error)


def test_the_layer_table_is_replayed_from_the_cache_when_only_other_widgets_move(monkeypatch):
    from ui.figures import receptive_field as figs

    calls = []
    original = figs.layer_table
    monkeypatch.setattr(figs, "layer_table", lambda *a, **kw: calls.append(kw["selected"]) or original(*a, **kw))
    at = open_page(PAGE, "en")
    at.number_input(key="receptive_field.size").set_value(61).run()       # a table no other test draws
    assert calls[-1:] == [7] and not at.exception
    drawn = len(calls)
    table, styles = at.dataframe[1].value, at.dataframe[1].proto.arrow_data.styler.styles
    assert "row6_col0" in styles.split("font-weight: bold")[0].rsplit("}", 1)[-1]   # layer 7 highlighted
    at.number_input(key="receptive_field.row").set_value(3).run()         # the unit moves, the table does not
    assert len(calls) == drawn and not at.exception
    assert at.dataframe[1].value.equals(table)                            # the same table, replayed with its tints
    assert at.dataframe[1].proto.arrow_data.styler.styles == styles
    at.selectbox(key="receptive_field.layer").set_value(2).run()          # the highlighted row moves: drawn anew
    assert calls[-1] == 2 and len(calls) == drawn + 1
    assert list(at.dataframe[1].value.iloc[:7, 6]) == list(table.iloc[:7, 6])
    styles = at.dataframe[1].proto.arrow_data.styler.styles
    assert "row1_col0" in styles.split("font-weight: bold")[0].rsplit("}", 1)[-1]


def _erf_tab(at, lang: str = "en"):
    at.session_state["receptive_field.tab"] = strings(lang)["receptive_field.tabs.erf"]
    return at.run()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("net,seeds,code", [("c64p64,c64p64,c64p64", "8", "time"),
                                            (",".join(["c1p64"] * 20), "1", "memory")])
def test_a_too_costly_effective_field_gets_a_translated_message_and_is_not_computed(lang, net, seeds, code):
    """Issue 30: these tables cost 104 s of CPU and 2.7 GB; the tab refuses them before computing, and says why."""
    query = {"receptive_field.net": net, "receptive_field.size": "128", "receptive_field.erf_source": "table",
             "receptive_field.erf_seeds": seeds}
    at = _erf_tab(open_page(PAGE, lang, query=query), lang)
    assert not at.exception
    expected = strings(lang)[f"receptive_field.erf_cost.{code}"].split("{")[0]
    assert [e.value for e in at.error if e.value.startswith(expected)], [e.value for e in at.error]
    assert not any(f["data"][0]["type"] == "heatmap" and len(f["data"]) >= 4 for f in figures(at))   # no ERF figure
    assert len(at.dataframe[1].value) == len(net.split(",")) + 1           # the table (and its total) still works


@pytest.mark.parametrize("edit", [
    {"added_rows": [{"kind": "conv", "kernel": 3}] * (rf.MAX_LAYERS + 5)},            # past the row cap
    {"edited_rows": {"0": {"name": "x" * 5000}}},                                        # a huge cell
    {"edited_rows": {"0": {"weights": 3}}},                                              # a column it does not have
    {"edited_rows": {"50": {"kernel": 5}}},                                              # a row it does not have
    {"deleted_rows": [99]},
])
def test_an_edit_the_table_could_not_send_is_dropped_with_a_note(edit):
    """Streamlit applies any added_rows it receives: the layer table's edits are bounded (rows, columns, cell size)
    before it applies them; anything else resets the table with a translated note."""
    at = _edit(open_page(PAGE, "en"), **edit)
    assert not at.exception
    assert any(strings("en")["app.grid_reset"][:20] in w.value for w in at.warning)
    assert list(np.asarray(_bars(at)["data"][0]["y"])) == [3, 4, 8, 10, 18, 26, 30]   # the notes' table, untouched
    assert "receptive_field.net" not in at.query_params


def test_every_figure_offers_its_data_and_controls_have_the_declared_ranges():
    from ui.experiments import receptive_field as experiment
    from ui.params import by_name

    declared = by_name(experiment.SETTINGS)
    at = open_page(PAGE, "en")
    assert len(at.get("plotly_chart")) == len(at.get("download_button")) == 2          # the unit, the bars
    assert at.number_input(key="receptive_field.size").max == declared["size"].hi == rf.MAX_INPUT
    assert at.number_input(key="receptive_field.in_ch").max == declared["in_ch"].hi == rf.MAX_IN_CHANNELS
    at = _erf_tab(at)
    assert len(at.get("plotly_chart")) == len(at.get("download_button")) == 2          # the field, the growth
    assert at.slider(key="receptive_field.erf_depth").max == declared["erf_depth"].hi == rf.MAX_ERF_DEPTH
    assert at.slider(key="receptive_field.erf_seeds").max == declared["erf_seeds"].hi == rf.MAX_ERF_SEEDS


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_layer_editor_columns_are_wide_enough_for_their_headers(lang):
    """Issue 31: the table cut off its last columns. Each column is as wide as its translated header needs, and the
    editor's column is wide enough for all of them (the browser check: tests/e2e/test_receptive_field.py)."""
    from ui.rf_table import header_width

    at = open_page(PAGE, lang)
    assert not at.exception
    editor = at.dataframe[0].proto
    widths = {}
    for name, config in json.loads(editor.columns).items():
        widths[name] = config.get("width")
        label = config.get("label")
        if label and isinstance(widths[name], int):
            assert widths[name] >= header_width(label, 0), (name, label, widths[name])
    assert header_width("输出通道", 44) == 86 and header_width("k", 44) == 44
