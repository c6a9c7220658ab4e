"""AppTest of the convolution lesson: figure values, widgets, presets, URL state, bad input, both languages."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore import conv
from tests.support import all_text, figures, open_page
from ui.experiments import convolution as experiment
from ui.figures import convolution as figs
from ui.figures.common import figure_table
from ui.i18n import strings

PAGE = "pages/convolution.py"


def _tab(at, name: str, lang: str = "en"):
    """Open one of the lesson's stateful tabs (only the open tab's content is computed)."""
    at.session_state["convolution.tab"] = strings(lang)[f"convolution.tabs.{name}"]
    return at.run()


T = {name: i for i, name in enumerate(figs.SLIDE_TRACES)}


def _slide(at) -> dict:
    return next(f for f in figures(at) if f.get("frames") and len(f["data"]) == len(figs.SLIDE_TRACES))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_animation_shows_torch_output_and_one_frame_per_output_cell(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    fig = _slide(at)
    x = conv.make_input("random", 6, 0)
    w = conv.make_kernel("random", 3, 0)
    expected = F.conv2d(x[None, None], w[None, None])[0, 0].numpy()
    np.testing.assert_allclose(fig["data"][T["output"]]["z"], expected)   # the output heatmap
    np.testing.assert_allclose(fig["data"][T["input"]]["z"], x.numpy())   # the (unpadded) input
    np.testing.assert_allclose(fig["data"][T["kernel"]]["z"], w.numpy())  # the kernel's weights
    assert len(fig["frames"]) == 16                                      # 4 x 4 output cells
    last = dict(zip(fig["frames"][-1]["traces"], fig["frames"][-1]["data"]))
    assert int(np.asarray(last[T["curtain"]]["z"]).sum()) == 16          # every cell revealed at the end
    np.testing.assert_allclose(np.asarray(last[T["products"]]["z"]).sum(), expected[3, 3], atol=1e-4)
    assert fig["layout"]["title"]["text"].replace("<br>", "") == strings(lang)["convolution.fig.slide_title"]
    titles = [a["text"].replace("<br>", "") for a in fig["layout"]["annotations"]]
    assert titles == [strings(lang)[f"convolution.fig.{k}"] for k in ("padded_input", "kernel", "products", "output")]


def test_stride_padding_dilation_change_the_output_and_taps():
    at = open_page(PAGE, "en")
    at.number_input(key="convolution.size").set_value(9).run()
    at.number_input(key="convolution.padding").set_value(1).run()
    at.number_input(key="convolution.stride").set_value(2).run()
    at.number_input(key="convolution.dilation").set_value(2).run()
    assert not at.exception and not at.error
    fig = _slide(at)
    assert np.asarray(fig["data"][T["output"]]["z"]).shape == (4, 4)    # floor((9+2-5)/2)+1
    taps_x = np.asarray(fig["frames"][0]["data"][0]["x"])               # the first moving trace: the taps
    assert sorted(set(taps_x.tolist())) == [0, 2, 4]                    # holes of dilation 2
    assert "= 4$" in all_text(at)                                        # the formula line, filled in


def test_transposed_tab_matches_conv_transpose2d_and_says_so():
    at = open_page(PAGE, "en", query={"convolution.size": "4", "convolution.stride": "2",
                                       "convolution.padding": "1", "convolution.output_padding": "1"})
    _tab(at, "transposed")
    assert not at.exception and not at.error
    direct = next(f for f in figures(at) if len(f["data"]) == 4 and not f.get("frames"))
    x = conv.make_input("random", 4, 0)
    w = conv.make_kernel("random", 3, 0)
    ref = F.conv_transpose2d(x[None, None], w[None, None], stride=2, padding=1, output_padding=1)[0, 0]
    np.testing.assert_allclose(direct["data"][3]["z"], ref.numpy(), atol=1e-5)
    np.testing.assert_allclose(direct["data"][2]["z"], ref.numpy(), atol=1e-5)
    assert np.asarray(direct["data"][3]["z"]).shape == (8, 8)
    assert "PyTorch" not in " ".join(e.value for e in at.error)
    assert ": yes." in all_text(at)


def test_matrix_tab_checks_are_at_machine_precision():
    at = _tab(open_page(PAGE, "en"), "matrix")
    df = at.dataframe[0].value
    assert len(df) == 3 and float(df.iloc[:, 1].max()) < 1e-9
    mat = next(f for f in figures(at) if "C" in f["layout"]["title"]["text"] and len(f["data"]) == 1)
    assert np.asarray(mat["data"][0]["z"]).shape == (16, 36)


def test_kernel_too_big_and_bad_output_padding_give_messages_not_exceptions():
    at = open_page(PAGE, "zh", query={"convolution.size": "3", "convolution.k": "7"})
    assert not at.exception
    assert any("输出将为空" in e.value for e in at.error)
    at = open_page(PAGE, "en", query={"convolution.output_padding": "2"})
    assert not at.exception
    assert "Output padding must be smaller" in all_text(at)  # in the formula line
    assert _slide(at)  # the sliding view still works
    _tab(at, "transposed")
    assert not at.exception and any("Output padding must be smaller" in e.value for e in at.error)


def test_checkerboard_preset_sets_k3_s2_and_overlap_counts_alternate():
    at = _tab(open_page(PAGE, "en"), "checker")
    at.button(key="convolution.preset_btn.checker").click().run()
    assert not at.exception
    assert at.session_state["convolution.k"] == 3 and at.session_state["convolution.stride"] == 2
    overlap = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("How many input cells"))
    z = np.asarray(overlap["data"][0]["z"])
    np.testing.assert_array_equal(z, conv.overlap_counts(6, 6, 3, 2).numpy())
    assert any("checkerboard" in i.value for i in at.info)


def test_url_state_round_trips_and_bad_values_fall_back_with_a_note():
    at = open_page(PAGE, "en", query={"convolution.stride": "2", "convolution.k": "banana",
                                       "convolution.source": "<script>"})
    assert not at.exception
    assert at.session_state["convolution.stride"] == 2
    assert at.session_state["convolution.k"] == 3 and at.session_state["convolution.source"] == "random"
    assert any("convolution.k" in w.value and "convolution.source" in w.value for w in at.warning)
    assert at.query_params.get("convolution.stride") == "2"


def test_typed_source_shows_an_editor_and_classic_filters_change_the_feature_map():
    at = open_page(PAGE, "en")
    at.selectbox(key="convolution.source").set_value("typed").run()
    assert not at.exception and len(at.get("arrow_data_frame")) + len(at.dataframe) >= 1
    _tab(at, "channels")
    at.selectbox(key="convolution.filter").set_value("edge").run()
    maps = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("Feature maps"))
    grey = conv.grey_photo(96)
    ref = F.conv2d(grey[None, None], conv.classic_kernels()["edge"][None, None], padding=1)[0, 0]
    np.testing.assert_allclose(maps["data"][1]["z"], ref.numpy(), atol=1e-5)
    assert len(maps["data"]) == 2 + 4   # grey, filtered, four random channels


def test_cost_calculator_reports_the_separable_ratio():
    at = _tab(open_page(PAGE, "zh"), "channels", "zh")
    at.number_input(key="convolution.cost_m").set_value(256).run()
    df = at.dataframe[-1].value
    ratio = float(df.iloc[-1, -1])
    assert ratio == pytest.approx(1 / 256 + 1 / 9)
    at.number_input(key="convolution.cost_g").set_value(3).run()
    assert not at.exception and any("分组数" in w.value for w in at.warning)


def test_torch_reference_for_default_kernel_is_integer_valued():
    w = conv.make_kernel("random", 3, 0)
    assert torch.equal(w, w.round())


def test_only_the_open_tab_is_computed():
    at = open_page(PAGE, "en")
    assert len(figures(at)) == 1          # the sliding window only
    _tab(at, "checker")
    assert len(figures(at)) == 2          # overlap counts + upsampling


def _download_keys(at) -> list[str]:
    return [b.proto.id.rsplit("-", 1)[-1] for b in at.get("download_button")]


def test_every_figure_offers_its_data_as_a_csv_download():
    at = open_page(PAGE, "en")
    assert _download_keys(at) == ["convolution.slide_fig.csv"]
    assert {b.proto.label for b in at.get("download_button")} == {strings("en")["app.lesson.download"]}
    rows = figure_table(_slide(at))                            # what the download holds: the output cells too
    x, w = conv.make_input("random", 6, 0), conv.make_kernel("random", 3, 0)
    out = F.conv2d(x[None, None], w[None, None])[0, 0].numpy()
    cells = {(int(r["x"]), int(r["y (y)"] if "y (y)" in r else r["y"])): float(r["z"]) for r in rows
             if r["trace"] == f"heatmap {T['output'] + 1}" and "frame" not in r}
    assert cells and all(cells[(c, r)] == out[r, c] for r in range(4) for c in range(4))
    for tab, keys in [("transposed", ["scatter_fig", "direct_fig"]), ("matrix", ["matrix_fig"]),
                      ("checker", ["overlap_fig", "upsample_fig"]), ("channels", ["maps_fig"])]:
        assert _download_keys(_tab(at, tab)) == [f"convolution.{k}.csv" for k in keys], tab


def test_controls_drawn_by_name_have_their_declared_ranges():
    at = _tab(open_page(PAGE, "en"), "channels")
    declared = {p.name: p for p in experiment.SETTINGS}
    for name in (*experiment.SHAPE, *experiment.COST):
        box = at.number_input(key=f"convolution.{name}")
        assert (box.min, box.max, box.step) == (declared[name].lo, declared[name].hi, 1), name
    assert at.number_input(key="convolution.size").max == conv.MAX_SIZE
    assert (at.slider(key="convolution.channels").min, at.slider(key="convolution.channels").max) == (1, 8)
    assert at.number_input(key="convolution.cost_m").label == strings("en")["convolution.cost.m"]


def test_the_cost_calculator_is_in_the_share_link():
    at = _tab(open_page(PAGE, "en", query={"convolution.cost_m": "256"}), "channels")
    assert at.number_input(key="convolution.cost_m").value == 256
    assert float(at.dataframe[-1].value.iloc[-1, -1]) == pytest.approx(1 / 256 + 1 / 9)
    at.number_input(key="convolution.cost_k").set_value(5).run()
    assert at.query_params.get("convolution.cost_k") == "5"


def test_the_declared_ranges_and_options_are_dlcores_caps_and_kinds():
    """ui.experiments.convolution writes them out (the course map reads it before torch loads): keep them equal."""
    declared = {p.name: p for p in experiment.SETTINGS}
    caps = {"size": conv.MAX_SIZE, "k": conv.MAX_KERNEL, "stride": conv.MAX_STRIDE, "padding": conv.MAX_PADDING,
            "dilation": conv.MAX_DILATION, "output_padding": conv.MAX_OUTPUT_PADDING}
    assert {name: declared[name].hi for name in caps} == caps
    assert declared["source"].options == (*conv.INPUT_KINDS, "typed")
    assert declared["kernel"].options == conv.KERNEL_KINDS
    assert declared["filter"].options == tuple(conv.classic_kernels())
    for preset in (None, *experiment.PRESETS):                 # every experiment is a valid dlcore config
        experiment.conv_config(experiment.settings(preset), seed=0)
