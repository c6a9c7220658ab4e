"""AppTest of the LSTM-gates lesson: figure values against dlcore, widgets, presets, URL state, bad input, both
languages."""

import numpy as np
import pytest
import torch

from dlcore.sequences import rnn, tasks
from tests.support import all_text, figures, open_page
from ui.i18n import strings

PAGE = "pages/lstm_gates.py"
MODELS = "assets/models/lstm_gates"


def _tab(at, name: str, lang: str = "en"):
    at.session_state["lstm_gates.tab"] = strings(lang)[f"lstm_gates.tabs.{name}"]
    return at.run()


def _titled(at, key: str, lang: str = "en", **fmt) -> dict:
    prefix = strings(lang)[key].split("{")[0]
    return next(f for f in figures(at) if f["layout"]["title"]["text"].startswith(prefix))


def _bundled(task: str):
    return tasks.unpack(torch.load(f"{MODELS}/{task}.pt", weights_only=True))[0]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_step_shows_latch_values_and_closed_form_memory(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    ref = rnn.step_through(rnn.CellConfig(x=0.0, h=(0.5, 0.5), c=(1.0, -1.0), keep_bias=3.0))
    bars = _titled(at, "lstm_gates.fig.bars", lang)
    f_bar = [float(tr["y"][0]) for tr in bars["data"]]                  # first quantity is f, one trace per unit
    np.testing.assert_allclose(f_bar, ref.values["f"], rtol=1e-5)
    np.testing.assert_allclose(f_bar, 1 / (1 + np.exp(-3.0)), rtol=1e-5)
    memory = _titled(at, "lstm_gates.fig.memory_lstm", lang)
    np.testing.assert_allclose(memory["data"][0]["y"], ref.memory[:, 0], rtol=1e-5)
    np.testing.assert_allclose(memory["data"][1]["y"], memory["data"][0]["y"], rtol=1e-4)   # dashed closed form
    assert memory["layout"]["yaxis"]["title"]["text"] == strings(lang)["lstm_gates.fig.memory_y_lstm"]
    assert "σ(b_f) = 0.953" in all_text(at)
    assert any("\\sigma" in e.value for e in at.latex)


def test_forget_bias_slider_drops_memory_and_goes_into_the_url():
    at = open_page(PAGE, "en")
    at.slider(key="lstm_gates.keep").set_value(-3.0).run()
    assert not at.exception and not at.error
    memory = _titled(at, "lstm_gates.fig.memory_lstm")
    assert abs(memory["data"][0]["y"][1] / memory["data"][0]["y"][0] - 1 / (1 + np.exp(3.0))) < 1e-4
    assert at.query_params.get("lstm_gates.keep") == "-3"


def test_gru_random_weights_and_four_units_match_dlcore():
    at = open_page(PAGE, "zh", query={"lstm_gates.kind": "gru", "lstm_gates.weights": "random",
                                       "lstm_gates.hidden": "4", "lstm_gates.x": "0.7"})
    assert not at.exception and not at.error
    ref = rnn.step_through(rnn.CellConfig("gru", 4, 0.7, (0.5,) * 4, (0.0,) * 4, "random", 3.0, 0))
    bars = _titled(at, "lstm_gates.fig.bars", "zh")
    assert len(bars["data"]) == 4
    h_bar = [float(tr["y"][-1]) for tr in bars["data"]]
    np.testing.assert_allclose(h_bar, ref.values["h"], rtol=1e-5)
    assert strings("zh")["lstm_gates.fig.diagram_gru"] in [f["layout"]["title"]["text"] for f in figures(at)]


def test_bad_vector_gives_translated_warning_and_fallback():
    at = open_page(PAGE, "zh")
    at.text_input(key="lstm_gates.h").set_value("1, 2, 3").run()
    assert not at.exception and not at.error
    assert any("数值个数不对" in w.value for w in at.warning)
    at.text_input(key="lstm_gates.c").set_value("1, x").run()
    assert any("不是一串数字" in w.value for w in at.warning)
    assert figures(at)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_trained_recall_heatmaps_are_the_bundled_models_gates(lang):
    at = _tab(open_page(PAGE, lang), "trained", lang)
    assert not at.exception and not at.error
    fig = _titled(at, "lstm_gates.fig.heatmaps", lang)
    tokens, _ = tasks.tokenize("recall", tasks.TASKS["recall"].example)
    tr = tasks.trace(_bundled("recall"), "recall", tokens)
    heat = [d for d in fig["data"] if d["type"] == "heatmap"]
    assert [d["name"] for d in heat] == [strings(lang)[f"lstm_gates.panel.{k}"] for k in "ifoc"]
    np.testing.assert_allclose(heat[1]["z"], tr.gates["f"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(heat[3]["z"], tr.gates["c"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(fig["data"][1]["y"], tr.prediction)
    assert (tr.prediction == 2).all()                                        # "c" recalled at every step
    assert strings(lang)["lstm_gates.roles.memory"] in " ".join(heat[0]["y"])


def test_bad_symbol_keeps_the_valid_part_and_empty_shows_the_example():
    at = _tab(open_page(PAGE, "zh"), "trained", "zh")
    at.text_input(key="lstm_gates.seq_recall").set_value("b12x34").run()
    assert not at.exception and not at.error
    assert any("`x`" in w.value and "前 3 步" in w.value for w in at.warning)
    fig = _titled(at, "lstm_gates.fig.heatmaps", "zh")
    assert len(fig["data"][0]["x"]) == 3
    np.testing.assert_array_equal(fig["data"][0]["y"], [1, 1, 1])            # "b"
    at.text_input(key="lstm_gates.seq_recall").set_value("").run()
    assert not at.exception
    assert any("序列是空的" in e.value for e in at.error)
    assert len(_titled(at, "lstm_gates.fig.heatmaps", "zh")["data"][0]["x"]) == len(tasks.TASKS["recall"].example)


def test_brackets_and_adding_tasks_from_the_url_show_counters():
    at = open_page(PAGE, "en", query={"lstm_gates.task": "brackets", "lstm_gates.seq_brackets": "((a)(b(c)))"})
    _tab(at, "trained")
    assert not at.exception and not at.error
    fig = _titled(at, "lstm_gates.fig.heatmaps")
    np.testing.assert_array_equal(fig["data"][0]["y"], [1, 2, 2, 1, 2, 2, 3, 3, 2, 1, 0])
    np.testing.assert_array_equal(fig["data"][1]["y"], fig["data"][0]["y"])  # the model counts right
    assert any("counter" in name for name in fig["data"][2]["y"])          # unit labels carry the role
    at.selectbox(key="lstm_gates.task").set_value("adding").run()
    assert not at.exception and not at.error
    fig = _titled(at, "lstm_gates.fig.heatmaps")
    target = np.asarray(fig["data"][0]["y"])
    assert abs(float(fig["data"][1]["y"][-1]) - target[-1]) < tasks.ADD_TOLERANCE


def test_overlong_sequence_is_cut_with_a_warning():
    at = open_page(PAGE, "en", query={"lstm_gates.seq_recall": "a" + "7" * 150})
    _tab(at, "trained")
    assert not at.exception and not at.error
    assert any("longer than 100" in w.value for w in at.warning)
    assert len(_titled(at, "lstm_gates.fig.heatmaps")["data"][0]["x"]) == tasks.MAX_TYPED


def test_live_retraining_stores_my_model_and_shows_its_gates():
    at = open_page(PAGE, "en", query={"lstm_gates.rt_len": "10"})
    _tab(at, "trained")
    at.button(key="lstm_gates.retrain_btn").click().run()
    assert not at.exception and not at.error
    state, roles = at.session_state["lstm_gates._run"]
    assert state.config.task == "recall" and state.config.max_len == 10 and state.accuracy >= 0.95
    assert at.session_state["lstm_gates.model"] == "mine"
    assert _titled(at, "lstm_gates.fig.training")
    fig = _titled(at, "lstm_gates.fig.heatmaps")
    tokens, _ = tasks.tokenize("recall", tasks.TASKS["recall"].example)
    np.testing.assert_allclose([d for d in fig["data"] if d["type"] == "heatmap"][0]["z"],
                               tasks.trace(state.model, "recall", tokens).gates["i"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_gradient_flow_curves_equal_dlcore_and_explode_preset_clips(lang):
    at = _tab(open_page(PAGE, lang), "flow", lang)
    assert not at.exception and not at.error
    fig = _titled(at, "lstm_gates.fig.flow", lang)
    assert [d["name"] for d in fig["data"]] == [strings(lang)[f"lstm_gates.kinds.{k}"] for k in rnn.KINDS]
    lstm = rnn.gradient_flow("lstm", 100, 16, 0, keep_bias=3.0)
    np.testing.assert_allclose(fig["data"][3]["y"], lstm, rtol=1e-6)
    assert fig["layout"]["yaxis"]["type"] == "log"
    assert fig["layout"]["xaxis"]["title"]["text"] == strings(lang)["lstm_gates.fig.flow_x"]
    at.button(key="lstm_gates.preset_btn.explode").click().run()
    assert not at.exception and not at.error
    df = at.dataframe[0].value
    relu = df.iloc[1]
    assert relu.iloc[2] > 1e3 and relu.iloc[3] == pytest.approx(1.0, rel=1e-3)
    assert strings(lang)["lstm_gates.presets.explode.note"] in all_text(at)


def test_cell_presets_switch_tab_and_set_values():
    at = _tab(open_page(PAGE, "en"), "flow")
    at.button(key="lstm_gates.preset_btn.drop").click().run()
    assert not at.exception and not at.error
    assert at.session_state["lstm_gates.keep"] == -3.0
    assert _titled(at, "lstm_gates.fig.diagram_lstm")


@pytest.mark.parametrize("query", [{"lstm_gates.hidden": "abc"}, {"lstm_gates.flow_len": "999"},
                                   {"lstm_gates.task": "poetry"}, {"lstm_gates.keep": "nan"},
                                   {"lstm_gates.seq_adding": "1" * 300}])
def test_invalid_url_values_give_a_note_and_defaults(query):
    at = open_page(PAGE, "zh", query=query)
    assert not at.exception and not at.error
    (key,) = query
    assert any(key in w.value for w in at.warning)
    default = {"lstm_gates.hidden": 2, "lstm_gates.flow_len": 100, "lstm_gates.task": "recall",
               "lstm_gates.keep": 3.0, "lstm_gates.seq_adding": tasks.TASKS["adding"].example}[key]
    assert at.session_state[key] == default


def test_valid_url_reopens_the_flow_experiment():
    at = open_page(PAGE, "en", query={"lstm_gates.flow_len": "40", "lstm_gates.init": "identity",
                                       "lstm_gates.radius": "1"})
    _tab(at, "flow")
    fig = _titled(at, "lstm_gates.fig.flow")
    relu = np.asarray(fig["data"][1]["y"], dtype=float)
    assert len(relu) == 40 and 0.1 < relu[0] / relu[-1] <= 1.0 + 1e-9     # identity ReLU RNN: flat


def test_every_figure_offers_its_data_and_controls_have_the_declared_ranges():
    from ui.experiments import lstm_gates as experiment
    from ui.params import by_name

    declared = by_name(experiment.SETTINGS)
    at = open_page(PAGE, "en")
    charts = [c.proto.id for c in at.get("plotly_chart")]
    downloads = [d.proto.id for d in at.get("download_button")]
    assert len(charts) == 3 and len(downloads) == len(charts)
    assert all(d.endswith(".csv") for d in downloads)
    keep = at.slider(key="lstm_gates.keep")
    assert (keep.min, keep.max, keep.step) == (declared["keep"].lo, declared["keep"].hi, declared["keep"].step)
    _tab(at, "flow")
    assert at.slider(key="lstm_gates.flow_len").max == declared["flow_len"].hi == rnn.MAX_FLOW_LEN
    assert len(at.get("download_button")) == len(at.get("plotly_chart")) == 1
