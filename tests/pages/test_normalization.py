"""AppTest of the normalization lesson: the highlighted sets, the checks against torch, the experiments,
training, presets, URL state and bad input, in both languages."""

import numpy as np
import pytest

from dlcore.normalization import lab, training
from dlcore.normalization import layers as norm
from tests.support import all_text, figures, open_page
from ui.figures.normalization import PICKED, SHARED
from ui.i18n import strings

PAGE = "pages/normalization.py"


def _tab(at, name: str, lang: str = "en"):
    """Open one of the lesson's stateful tabs (only the open tab's content is computed)."""
    at.session_state["normalization.tab"] = strings(lang)[f"normalization.tabs.{name}"]
    return at.run()


def _fig(at, title_part: str) -> dict:
    return next(f for f in figures(at) if title_part in str(f["layout"].get("title", {}).get("text", "")))


def _lit(at, lang: str) -> np.ndarray:
    """The unfolded cube's highlighted cells as a (N, C, S) mask, read from the marker colours and customdata."""
    fig = _fig(at, strings(lang)["normalization.fig.cells_title"])
    trace = fig["data"][0]
    cd = np.asarray(trace["customdata"])
    shape = tuple(cd.max(axis=0) + 1)
    mask = np.zeros(shape, dtype=bool)
    for (n, c, s), col in zip(cd, trace["marker"]["color"]):
        mask[n, c, s] = col in (SHARED, PICKED)
    return mask


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_view_lights_up_the_batch_norm_set_and_checks_torch(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    lit = _lit(at, lang)
    np.testing.assert_array_equal(lit, norm.norm_groups("batch", (4, 6, 9), (1, 2, 4)).numpy())
    cube = _fig(at, strings(lang)["normalization.fig.cube_title"].format(kind="BatchNorm"))
    assert any(d["type"] == "mesh3d" for d in cube["data"])
    assert "36 = 4 × 9" in all_text(at)
    df = at.dataframe[0].value
    assert len(df) == 5 and float(df.iloc[:, 3].max()) < 1e-4       # ours vs torch, every method and mode
    moments = next(f for f in figures(at) if len(f["data"]) == 2 and f["data"][0]["type"] == "heatmap")
    mean = np.asarray(moments["data"][0]["z"])
    assert mean.shape == (16, 8) and np.allclose(mean, mean[0])       # BN: one mean per channel (columns)
    if lang == "zh":
        assert "共用同一组均值和方差" in cube["layout"]["title"]["text"]


def test_group_norm_with_three_groups_lights_its_group_in_its_sample():
    at = open_page(PAGE, "en", query={"normalization.kind": "group", "normalization.groups": "3"})
    at.number_input(key="normalization.c").set_value(4).run()
    at.number_input(key="normalization.n").set_value(3).run()
    assert not at.exception and not at.error
    lit = _lit(at, "en")
    np.testing.assert_array_equal(lit, norm.norm_groups("group", (4, 6, 9), (3, 4, 4), groups=3).numpy())
    assert lit.sum() == 2 * 9 and lit[3, 4:6].all()
    assert "**18 = 2 × 9**" in all_text(at) and "**12** = 4 × 3" in all_text(at)
    moments = next(f for f in figures(at) if len(f["data"]) == 2 and f["data"][0]["type"] == "heatmap")
    mean = np.asarray(moments["data"][0]["z"])                       # real batch: 8 channels, 4 groups
    assert np.allclose(mean[:, 0], mean[:, 1]) and not np.allclose(mean[:, 1], mean[:, 2])


def test_groups_that_do_not_divide_channels_snap_to_a_divisor():
    at = open_page(PAGE, "en", query={"normalization.kind": "group", "normalization.groups": "4"})
    assert not at.exception and not at.error
    assert at.session_state["normalization.groups"] == 3              # C = 6: the largest divisor <= 4
    at.slider(key="normalization.c_size").set_value(8).run()
    assert not at.exception and not at.error
    assert at.session_state["normalization.groups"] == 2              # C = 8: the largest divisor <= 3
    assert list(at.select_slider(key="normalization.groups").options) == ["1", "2", "4", "8"]
    np.testing.assert_array_equal(_lit(at, "en"), norm.norm_groups("group", (4, 8, 9), (1, 2, 4), groups=2).numpy())
    assert "**18 = 2 × 9**" not in all_text(at) and "**36 = 4 × 9**" in all_text(at)   # C/G = 4 channels per group
    assert "normalization.groups" not in at.query_params              # 2 is the default: the URL drops it


def test_shrinking_the_cube_keeps_the_picked_cell_inside():
    at = open_page(PAGE, "en", query={"normalization.n": "3", "normalization.s": "8"})
    at.slider(key="normalization.n_size").set_value(2).run()
    at.slider(key="normalization.s_size").set_value(3).run()
    assert not at.exception and not at.error
    assert at.session_state["normalization.n"] == 1 and at.session_state["normalization.s"] == 2
    assert _lit(at, "en").shape == (2, 6, 3)


def test_large_offset_still_matches_torch_to_float32_rounding():
    at = open_page(PAGE, "en", query={"normalization.shift": "10000.0"})
    assert not at.exception and not at.error
    diffs = at.dataframe[0].value.iloc[:, 3]
    assert 0 < float(diffs.max()) < 0.05


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_batch_size_tab_shows_the_noise_and_drift_experiments(lang):
    at = _tab(open_page(PAGE, lang), "batch", lang)
    assert not at.exception and not at.error
    noise = _fig(at, strings(lang)["normalization.fig.noise_title"])
    ref = lab.batch_noise(lab.NoiseConfig(layer="fc", channel=0, repeats=60, seed=0))
    bn_line = next(d for d in noise["data"] if d.get("name") == strings(lang)["normalization.fig.bn"])
    np.testing.assert_allclose(np.asarray(bn_line["y"], dtype=float), ref.bn_deviation, rtol=1e-4, atol=1e-5)
    ln_line = next(d for d in noise["data"] if d.get("name") == strings(lang)["normalization.fig.ln"])
    assert np.all(np.asarray(ln_line["y"], dtype=float) < 1e-5)
    drift = _fig(at, strings(lang)["normalization.fig.drift_title"])
    running = next(d for d in drift["data"] if d.get("name") == strings(lang)["normalization.fig.running_mean"])
    d = lab.train_eval_drift(lab.DriftConfig())
    np.testing.assert_allclose(np.asarray(running["y"], dtype=float), d.running_mean, rtol=1e-4, atol=1e-5)
    assert strings(lang)["normalization.fig.batch"] in str(noise["layout"]["xaxis"]["title"]["text"])


def test_momentum_and_conv_layer_change_the_experiments():
    at = _tab(open_page(PAGE, "en"), "batch")
    at.segmented_control(key="normalization.layer").set_value("conv").run()
    at.select_slider(key="normalization.momentum").set_value(0.5).run()
    assert not at.exception and not at.error
    noise = _fig(at, "noisier statistics")
    bn_line = next(d for d in noise["data"] if d.get("name") == "BatchNorm")
    assert np.isfinite(np.asarray(bn_line["y"], dtype=float)).all()   # conv: a batch of one is allowed
    drift = _fig(at, "chasing a moving layer")
    running = next(d for d in drift["data"] if d.get("name") == "running mean (eval)")
    ref = lab.train_eval_drift(lab.DriftConfig(momentum=0.5))
    np.testing.assert_allclose(np.asarray(running["y"], dtype=float), ref.running_mean, rtol=1e-4, atol=1e-5)
    assert "Convolution:" in all_text(at)
    assert at.query_params.get("normalization.momentum") == "0.5"


@pytest.mark.parametrize("text,reason", [("3, x", "use whole numbers"), ("", "at least one length"),
                                         ("1, 99", "between 1 and 16"), ("1", "two real tokens")])
def test_bad_lengths_give_a_message_and_the_example(text, reason):
    at = _tab(open_page(PAGE, "en"), "sequences")
    at.text_input(key="normalization.lengths").set_value(text).run()
    assert not at.exception
    assert any(reason in e.value for e in at.error)
    assert len(figures(at)) == 2


def test_sequences_tab_in_chinese_padding_moves_bn_only():
    at = _tab(open_page(PAGE, "zh", query={"normalization.lengths": "12, 2, 3"}), "sequences", "zh")
    assert not at.exception and not at.error
    sweep = _fig(at, "批次填充越多")
    lines = {d["name"]: np.asarray(d["y"], dtype=float) for d in sweep["data"]}
    assert np.ptp(lines[strings("zh")["normalization.fig.seq_bn"]]) > 0.3
    assert np.ptp(lines[strings("zh")["normalization.fig.seq_ln"]]) < 1e-6
    assert np.ptp(lines[strings("zh")["normalization.fig.seq_masked"]]) < 1e-6
    heat = _fig(at, "填充后批次")
    assert np.asarray(heat["data"][0]["z"]).shape == (3, 12)
    at.text_input(key="normalization.lengths").set_value("3, x").run()
    assert any("请用逗号分隔的整数" in e.value for e in at.error)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_training_tab_trains_the_default_grid_with_translated_legend(lang):
    at = _tab(open_page(PAGE, lang), "train", lang)
    assert not at.exception and not at.error
    fig = _fig(at, strings(lang)["normalization.fig.train_title"].split("{lr}")[0][:8])
    lines = [d for d in fig["data"] if d.get("mode") == "lines+markers"]   # issue 31: a dash and a marker too
    assert len(lines) == 2 * 4 * 3                                     # loss + accuracy, 4 methods, 3 batches
    assert {d["name"] for d in lines} == {strings(lang)[f"normalization.kinds.{m}"] for m in
                                          ("none", "batch", "layer", "group")}
    ref = training.train(training.TrainConfig("batch", 16, 0.1, 300, 4, seed=0))
    bn16 = [d for d in lines if d["name"] == strings(lang)["normalization.kinds.batch"]][2:4]   # second column
    np.testing.assert_allclose(np.asarray(bn16[0]["y"], dtype=float), ref.loss, rtol=1e-3)
    acc = at.dataframe[0].value
    assert acc.shape == (4, 3) and float(acc.to_numpy().min()) > 0.3


def test_high_lr_preset_trains_none_and_bn_at_learning_rate_two():
    # learning rate 2, not 1: at 1 the network without normalization still learned at batch 128 (issue 19)
    at = open_page(PAGE, "en")
    at.button(key="normalization.preset_btn.high_lr").click().run()
    assert not at.exception and not at.error
    assert at.session_state["normalization.lr"] == 2.0
    assert at.session_state["normalization.tab"] == strings("en")["normalization.tabs.train"]
    acc = at.dataframe[0].value
    assert list(acc.index) == ["None", "BatchNorm"]
    assert float(acc.loc["BatchNorm"].min()) > float(acc.loc["None"].max())
    assert any("learning rate 2" in i.value for i in at.info)
    assert any("did not learn" in w.value and "None (batch size 16)" in w.value and "None (batch size 128)" in w.value
               and "BatchNorm" not in w.value for w in at.warning)


def test_group_as_layer_preset_lights_the_same_set_as_layer_norm():
    at = open_page(PAGE, "en")
    at.button(key="normalization.preset_btn.group_as_layer").click().run()
    assert not at.exception and not at.error
    assert at.session_state["normalization.kind"] == "group" and at.session_state["normalization.groups"] == 1
    np.testing.assert_array_equal(_lit(at, "en"), norm.norm_groups("layer", (4, 6, 9), (1, 2, 4)).numpy())


def test_give_back_button_restores_the_input():
    at = _tab(open_page(PAGE, "en"), "affine")
    at.button(key="normalization.give_back_btn").click().run()
    assert not at.exception and not at.error
    a = lab.affine_view(1.0, 0.0, 0)
    assert at.session_state["normalization.gamma"] == pytest.approx(a.std)
    assert at.session_state["normalization.beta"] == pytest.approx(a.mean)
    text = all_text(at)
    assert "keeps 0% of y" in text and "largest difference" in text
    hist = _fig(at, "before and after BatchNorm")
    y, x = (np.asarray(hist["data"][i]["x"], dtype=float) for i in (2, 0))
    np.testing.assert_allclose(y, x, atol=1e-5)


def test_url_values_reopen_the_experiment_and_bad_ones_fall_back_with_a_note():
    at = open_page(PAGE, "en", query={"normalization.kind": "layer", "normalization.n_size": "3"})
    assert not at.exception and not at.error
    assert at.session_state["normalization.kind"] == "layer"
    assert _lit(at, "en").shape[0] == 3
    assert at.query_params.get("normalization.kind") == "layer"
    at = open_page(PAGE, "zh", query={"normalization.kind": "weight", "normalization.n_size": "abc",
                                       "normalization.c_size": "99", "normalization.lengths": "1," * 40,
                                       "normalization.methods": "batch,dropout", "normalization.lr": "7"})
    assert not at.exception and not at.error
    assert at.session_state["normalization.kind"] == "batch" and at.session_state["normalization.n_size"] == 4
    assert at.session_state["normalization.c_size"] == 6 and at.session_state["normalization.lengths"] == "7, 4, 2, 5"
    warning = " ".join(w.value for w in at.warning)
    for key in ("normalization.kind", "normalization.n_size", "normalization.c_size", "normalization.lengths",
                "normalization.methods", "normalization.lr"):
        assert key in warning


def test_more_batch_sizes_in_the_url_than_the_widget_takes_are_cut_to_three():
    at = open_page(PAGE, "en", query={"normalization.batches": "16,2,8,4", "normalization.methods": "layer",
                                       "normalization.steps": "100"})
    _tab(at, "train")
    assert not at.exception and not at.error
    assert at.session_state["normalization.batches"] == [2, 4, 8]
    assert at.dataframe[0].value.shape == (1, 3)


def test_every_figure_offers_its_data_and_controls_carry_their_declared_ranges():
    from ui.experiments.normalization import SETTINGS
    from ui.params import by_name

    declared = by_name(SETTINGS)
    at = open_page(PAGE, "en")
    files = [b.proto.id.rsplit("-", 1)[1] for b in at.get("download_button")]   # lesson.chart: one per figure
    assert files == ["normalization.cube_fig.csv", "normalization.cells_fig.csv", "normalization.moments_fig.csv"]
    assert all(b.proto.label == strings("en")["app.lesson.download"] for b in at.get("download_button"))
    c_size = at.slider(key="normalization.c_size")
    assert (c_size.min, c_size.max) == (declared["c_size"].lo, declared["c_size"].hi) == (2, lab.MAX_CUBE[1])
    assert list(at.select_slider(key="normalization.real_groups").options) == ["1", "2", "4", "8"]
    at = _tab(at, "batch")
    repeats = at.slider(key="normalization.repeats")
    assert (repeats.min, repeats.max, repeats.step) == (20, lab.MAX_REPEATS, 10) == \
        (declared["repeats"].lo, declared["repeats"].hi, declared["repeats"].step)
    assert len(at.get("download_button")) == 2                                    # noise and drift
