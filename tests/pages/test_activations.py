"""AppTest of the activations lesson: figure values, tabs, presets, URL state and bad input in both languages."""

import math

import numpy as np
import pytest
import torch

from dlcore import activations as A
from dlcore import curve_pieces as C
from tests.support import all_text, figures, open_code, open_page
from ui.i18n import strings

PAGE = "pages/activations.py"


def _tab(at, name: str, lang: str = "en"):
    """Open one of the lesson's stateful tabs (only the open tab is computed)."""
    at.session_state["activations.tab"] = strings(lang)[f"activations.tabs.{name}"]
    return at.run()


def _fig(at, key: str, lang: str = "en") -> dict:
    title = strings(lang)[key].split("{")[0]
    return next(f for f in figures(at) if f["layout"]["title"]["text"].startswith(title))


def _trace(fig: dict, name: str) -> dict:
    return next(tr for tr in fig["data"] if tr.get("name") == name)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_zoo_draws_functions_derivatives_and_saturation_in_both_languages(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    fig = _fig(at, "activations.fig.title", lang)
    s = strings(lang)
    sig = fig["data"][0], fig["data"][1]                      # Sigmoid panel: f then f'
    x = np.asarray(sig[0]["x"], dtype=float)
    sx = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(sig[0]["y"], sx, atol=1e-7)
    np.testing.assert_allclose(sig[1]["y"], sx * (1 - sx), atol=1e-7)
    assert max(sig[1]["y"]) == pytest.approx(0.25, abs=1e-4)
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles[0] == s["activations.names.sigmoid"] + " · " + s["activations.fig.peak"].format(peak=0.25)
    assert len(titles) == 6 and len(fig["layout"]["shapes"]) >= 6   # shaded saturated regions
    assert s["activations.fig.saturated"] in [tr.get("name") for tr in fig["data"]]
    table = at.dataframe[0].value
    selu = table[table[s["activations.table.name"]] == "SELU"].iloc[0]
    assert selu[s["activations.table.mean"]] == pytest.approx(0.0, abs=1e-3)
    assert selu[s["activations.table.var"]] == pytest.approx(1.0, abs=1e-3)
    assert len(table) == len(A.ACTIVATIONS)


def test_choosing_activations_and_slope_redraws_the_panels():
    at = open_page(PAGE, "en")
    at.multiselect(key="activations.show").set_value(["leaky_relu", "tanh"]).run()
    at.slider(key="activations.slope").set_value(0.3).run()
    fig = _fig(at, "activations.fig.title")
    dy = np.asarray(fig["data"][1]["y"], dtype=float)
    x = np.asarray(fig["data"][1]["x"], dtype=float)
    np.testing.assert_allclose(dy[x < -0.1], 0.3)
    assert len(fig["layout"]["annotations"]) == 2
    assert at.query_params.get("activations.slope") == "0.3"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_signal_tab_shows_vanishing_sigmoid_gradient_beside_the_quarter_power_line(lang):
    at = _tab(open_page(PAGE, lang), "signal", lang)
    assert not at.exception and not at.error
    stats = A.deep_net_stats(20, 256, "sigmoid", "xavier_normal", 256, 0)
    fig = _fig(at, "activations.fig.stats_title", lang)
    s = strings(lang)
    grad = _trace(fig, s["activations.fig.grad"])
    np.testing.assert_allclose(grad["y"], stats["grad_norm"], rtol=1e-5)
    delta = _trace(fig, s["activations.fig.delta"])
    np.testing.assert_allclose(delta["y"], stats["delta_norm"], rtol=1e-5)
    # the activation factor is drawn from the last layer's backward signal, the quantity it bounds
    bound = _trace(fig, s["activations.fig.bound"].format(peak="0.25"))
    np.testing.assert_allclose(bound["y"], 0.25 ** (20 - np.arange(1, 21)) * stats["delta_norm"].iloc[-1], rtol=1e-6)
    ratio = next(m for m in at.metric if m.label == s["activations.metric.ratio"])
    assert float(ratio.value) == pytest.approx(stats["delta_norm"].iloc[0] / stats["delta_norm"].iloc[-1], rel=1e-2)
    np.testing.assert_allclose(_trace(fig, s["activations.fig.std"])["y"], stats["act_std"], rtol=1e-5)
    assert fig["layout"]["xaxis"]["title"]["text"] == s["activations.fig.layer"]
    assert fig["layout"]["yaxis3"]["type"] == "log"
    ridge = _fig(at, "activations.fig.ridge_title", lang)
    assert len(ridge["data"]) == 10
    assert ridge["layout"]["yaxis"]["ticktext"][-1] == s["activations.fig.layer_n"].format(n=20)


def test_presets_set_up_the_signal_experiments():
    at = open_page(PAGE, "en")
    at.button(key="activations.preset_btn.kaiming").click().run()
    assert not at.exception and at.session_state["activations.depth"] == 50
    assert at.session_state["activations.tab"] == strings("en")["activations.tabs.signal"]
    std = np.asarray(_trace(_fig(at, "activations.fig.stats_title"), "std of aₗ")["y"], dtype=float)
    assert len(std) == 50 and 0.2 < std[-1] < 5
    at.button(key="activations.preset_btn.missing_two").click().run()
    std = np.asarray(_trace(_fig(at, "activations.fig.stats_title"), "std of aₗ")["y"], dtype=float)
    assert std[-1] < 1e-5
    at.button(key="activations.preset_btn.saturate").click().run()
    sat = np.asarray(_trace(_fig(at, "activations.fig.stats_title"), "saturated share")["y"], dtype=float)
    assert sat.min() > 0.8
    # the headline ratio is the backward signal's: it explodes here, and vanishes in the collapse preset even
    # though the weight gradients there are level (issue 19)
    ratio = strings("en")["activations.metric.ratio"]
    assert float(next(m for m in at.metric if m.label == ratio).value) > 1e6
    at.button(key="activations.preset_btn.collapse").click().run()
    assert float(next(m for m in at.metric if m.label == ratio).value) < 1e-12
    at.button(key="activations.preset_btn.bn_rescue").click().run()
    assert at.session_state["activations.bn"] is True
    assert any("BatchNorm rescales" in i.value for i in at.info)
    assert "activations.bn=1" in "&".join(f"{k}={v}" for k, v in at.query_params.items())


def test_exploding_net_reports_overflow_and_zero_init_reports_zero_gradients():
    at = open_page(PAGE, "zh", query={"activations.activation": "relu", "activations.init": "normal",
                                       "activations.scale": "2.0", "activations.depth": "50"})
    _tab(at, "signal", "zh")
    assert not at.exception and not at.error
    assert any("float32" in w.value and "inf / NaN" in w.value for w in at.warning)
    fig = _fig(at, "activations.fig.stats_title", "zh")
    bad = _trace(fig, strings("zh")["activations.fig.nonfinite"])
    assert len(bad["x"]) > 0
    at.selectbox(key="activations.init").set_value("zeros").run()
    assert not at.exception and any("恰好为 0" in i.value for i in at.info)


@pytest.mark.slow
def test_train_tab_races_and_the_dead_relu_preset():
    at = _tab(open_page(PAGE, "en"), "train")
    assert not at.exception and not at.error
    fig = _fig(at, "activations.train.title")
    names = [tr["name"] for tr in fig["data"][::3]]
    assert names[0] == "Sigmoid + Xavier normal" and len(names) == 4
    sig_loss, relu_loss = np.asarray(fig["data"][0]["y"], float), np.asarray(fig["data"][6]["y"], float)
    assert sig_loss[-1] > 0.6 and relu_loss[-1] < 0.2
    at.button(key="activations.preset_btn.dead_lr").click().run()
    assert not at.exception and at.session_state["activations.optimizer"] == "adam"
    fig = _fig(at, "activations.train.title")
    relu_dead = np.asarray(fig["data"][2]["y"], float)
    leaky_dead = np.asarray(fig["data"][5]["y"], float)
    assert relu_dead[-1] > 0.4 and np.all(leaky_dead == 0)


def test_sgd_divergence_gives_a_warning_not_an_exception():
    at = open_page(PAGE, "en", query={"activations.lr": "3.0", "activations.racers": "relu|kaiming_normal",
                                       "activations.steps": "50"})
    _tab(at, "train")
    assert not at.exception and not at.error
    assert any("inf / NaN at step" in w.value for w in at.warning)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pieces_tab_sums_pieces_and_animates_over_n(lang):
    at = _tab(open_page(PAGE, lang), "pieces", lang)
    assert not at.exception and not at.error
    fig = _fig(at, "activations.pfig.title", lang)
    ref = C.build_from_pieces(C.TARGETS["wave"], 12, "sigmoid")
    np.testing.assert_allclose(fig["data"][2]["y"], ref.total, atol=1e-5)
    np.testing.assert_allclose(fig["data"][0]["y"], ref.target, atol=1e-12)
    frames = ["1", "2", "3", "4", "5", "6", "8", "10", "12", "15", "20", "25", "30", "40", "50"]
    assert [f["name"] for f in fig["frames"]] == frames          # the animation's slider is the one control of N
    assert fig["layout"]["sliders"][0]["active"] == frames.index("12")
    assert not [w for w in at.slider if w.key == "activations.pieces"]   # issue 31: no second slider for N
    err = _fig(at, "activations.efig.title", lang)
    assert [tr["name"] for tr in err["data"]] == [strings(lang)[f"activations.kinds.{k}"] for k in C.KINDS]


def test_typed_formula_is_drawn_and_bad_formula_gives_a_translated_message():
    at = _tab(open_page(PAGE, "zh"), "pieces", "zh")
    at.selectbox(key="activations.target").set_value("custom").run()
    at.text_input(key="activations.formula").input("abs(x) * sin(x)").run()
    fig = _fig(at, "activations.pfig.title", "zh")
    x = torch.tensor(np.asarray(fig["data"][0]["x"], dtype=np.float64))
    np.testing.assert_allclose(fig["data"][0]["y"], (x.abs() * torch.sin(x)).numpy(), atol=1e-6)
    at.text_input(key="activations.formula").input("__import__('os')").run()
    assert not at.exception
    assert any("不是可用的名字" in e.value for e in at.error)
    assert _fig(at, "activations.pfig.title", "zh")                # the example curve is drawn instead
    at.text_input(key="activations.formula").input("sqrt(x)").run()
    assert any("并非处处有限" in e.value for e in at.error)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_formula_that_breaks_only_at_some_piece_counts_gives_a_message_not_a_traceback(lang):
    # issue 30: 1/x is finite on the N = 1 grid, but a knot sits on x = 0 from N = 2 on
    at = _tab(open_page(PAGE, lang, query={"activations.target": "custom", "activations.formula": "1/x"}),
              "pieces", lang)
    assert not at.exception
    why = strings(lang)["activations.formula_errors.not_finite"]
    assert [e.value for e in at.error] == [strings(lang)["activations.bad_formula"].format(why=why)]
    fig = _fig(at, "activations.pfig.title", lang)                  # the example curve instead
    np.testing.assert_allclose(fig["data"][0]["y"], C.build_from_pieces(C.TARGETS["wave"], 12, "sigmoid").target)
    at.text_input(key="activations.formula").input("min(x) + y").run()   # the one parser's codes, translated
    why = strings(lang)["activations.formula_errors.arity"].format(detail="min/2")
    assert not at.exception
    assert [e.value for e in at.error] == [strings(lang)["activations.bad_formula"].format(why=why)]


def test_every_figure_offers_its_data_and_controls_carry_their_declared_ranges():
    from ui.experiments.activations import SETTINGS
    from ui.params import by_name

    declared = by_name(SETTINGS)
    at = open_page(PAGE, "en")
    buttons = at.get("download_button")                             # lesson.chart: one under every figure
    assert [x.proto.label for x in buttons] == [strings("en")["app.lesson.download"]]
    assert buttons[0].proto.id.endswith("-activations.zoo_fig.csv")
    slope = at.slider(key="activations.slope")
    assert (slope.min, slope.max, slope.step) == (declared["slope"].lo, declared["slope"].hi, declared["slope"].step)
    at = _tab(at, "signal")
    depth = at.slider(key="activations.depth")
    assert (depth.min, depth.max) == (declared["depth"].lo, declared["depth"].hi) == (1, A.MAX_DEPTH)
    assert list(at.select_slider(key="activations.width").options) == [str(w) for w in declared["width"].options]
    assert [x.proto.id.rsplit("-", 1)[1] for x in at.get("download_button")] == \
        ["activations.stats_fig.csv", "activations.ridge_fig.csv"]


def test_url_state_reopens_the_experiment_and_bad_values_fall_back_with_a_note():
    at = open_page(PAGE, "en", query={"activations.depth": "33", "activations.activation": "relu",
                                       "activations.init": "kaiming_uniform"})
    _tab(at, "signal")
    assert not at.exception
    assert at.session_state["activations.depth"] == 33 and at.session_state["activations.activation"] == "relu"
    assert len(_trace(_fig(at, "activations.fig.stats_title"), "std of aₗ")["y"]) == 33
    assert at.query_params.get("activations.depth") == "33"
    bad = {"activations.depth": "abc", "activations.width": "999", "activations.activation": "banana",
           "activations.formula": "x" * 500, "activations.show": "relu,nope", "activations.slope": "nan"}
    at = open_page(PAGE, "en", query=bad)
    assert not at.exception and not at.error
    assert at.session_state["activations.depth"] == 20 and at.session_state["activations.width"] == 256
    assert at.session_state["activations.activation"] == "sigmoid" and at.session_state["activations.slope"] == 0.01
    note = " ".join(w.value for w in at.warning)
    assert all(k in note for k in bad)


def test_concept_text_and_code_are_on_the_page():
    at = open_page(PAGE, "en")
    text = all_text(at)
    assert "*Neural Networks and Deep Learning* (review notes)" in text and "seed 00" not in text
    assert r"\sigma'(x) = \sigma(x)\,(1-\sigma(x)) \le \tfrac14" in text
    assert any("def deep_signal" in c.value for c in open_code(at).code)
    assert math.isfinite(A.max_derivative("sigmoid"))


def test_the_slope_only_keys_the_deep_signal_when_the_activation_uses_it(monkeypatch):
    # the signal of a ReLU net does not depend on Leaky ReLU's slope, so moving that slider (on the first tab)
    # must not compute a new 0.1-0.4 s experiment for the same net; for leaky_relu it must
    calls = []
    original = A.deep_signal_fast                        # what the lab runs (tested equal to A.deep_signal)
    monkeypatch.setattr(A, "deep_signal_fast", lambda config, device: calls.append(config) or original(config, device))
    at = _tab(open_page(PAGE, "en"), "signal")
    at.session_state["activations.activation"] = "relu"
    at.session_state["activations.depth"] = 7            # a net no other test draws
    at.run()
    drawn = len(calls)
    std = _trace(_fig(at, "activations.fig.stats_title"), "std of aₗ")["y"]
    at.session_state["activations.slope"] = 0.3
    at.run()
    assert len(calls) == drawn and not at.exception     # the cached ReLU experiment, unchanged
    np.testing.assert_array_equal(_trace(_fig(at, "activations.fig.stats_title"), "std of aₗ")["y"], std)
    reference = original(A.SignalConfig(depth=7, width=256, activation="relu", init="xavier_normal", batch=256,
                                             slope=0.3, seed=0), "cpu").stats["act_std"]
    np.testing.assert_allclose(std, reference, rtol=1e-6)   # and it is what the slope-0.3 net gives anyway
    at.session_state["activations.activation"] = "leaky_relu"
    at.run()
    at.session_state["activations.slope"] = 0.25
    at.run()
    assert [c.slope for c in calls[drawn:]] == [0.3, 0.25] and not at.exception


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_stopped_race_says_so_and_trains_again_only_when_asked(lang):
    """Issue 31, item 8: the race trains behind the kit's progress bar with a Stop button; once stopped (Stop's
    callback records it), the page says so, draws no race, and "Train again" starts it."""
    from ui.experiments import activations as experiment

    query = {"activations.racers": "relu|kaiming_normal", "activations.steps": "50"}
    at = _tab(open_page(PAGE, lang, query=query), "train", lang)
    assert not at.exception and _fig(at, "activations.train.title", lang)
    assert not [b for b in at.button if b.key == "activations.race.stop"]     # the bar and Stop go once it is done
    v = experiment.values() | {"racers": ["relu|kaiming_normal"], "steps": 50}
    job = repr((experiment.race_config(v, 0), experiment.racers(v)))
    at.session_state["activations.race._stopped"] = {"job": job, "elapsed": 2.0, "percent": 50.0}
    at.run()
    stopped = strings(lang)["app.progress.stopped"].format(elapsed="2", percent="50")
    assert stopped in [i.value for i in at.info]
    assert not [f for f in figures(at) if f["layout"]["title"]["text"].startswith(
        strings(lang)["activations.train.title"].split("{")[0])]
    at.button(key="activations.race.again").click().run()
    assert not at.exception and _fig(at, "activations.train.title", lang)
    assert stopped not in [i.value for i in at.info]
