"""AppTest of the linear-classifiers lesson: figure values, widgets, presets, URL state, bad input, both languages."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore.linear_classifiers import knn_predict, playground
from tests.support import all_text, figures, open_page
from ui.experiments import linear_classifiers as experiment
from ui.i18n import strings

PAGE = "pages/linear_classifiers.py"
S = "linear_classifiers"


def _tab(at, name: str, lang: str = "en"):
    at.session_state[f"{S}.tab"] = strings(lang)[f"{S}.tabs.{name}"]
    return at.run()


def _heatmaps(fig) -> list[np.ndarray]:
    return [np.asarray(tr["z"]) for tr in fig["data"] if tr.get("type") == "heatmap"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_playground_shows_knn_regions_equal_to_a_fresh_knn_run(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    fig = figures(at)[0]
    assert fig["layout"]["title"]["text"] == strings(lang)[f"{S}.fig.regions_title"]
    v = experiment.settings()
    x, y = playground.make_dataset(v["dataset"], v["n"], v["noise"], 0)
    _, _, cells = playground.grid(x, v["resolution"])
    knn = _heatmaps(fig)[0]
    assert knn.shape == (v["resolution"], v["resolution"]) and len(_heatmaps(fig)) == 4
    np.testing.assert_array_equal(knn.ravel(), knn_predict(x, y, cells, v["k"]).numpy())
    assert strings(lang)[f"{S}.fig.knn"] in fig["layout"]["annotations"][0]["text"]


def test_changing_k_and_metric_recomputes_the_knn_panel_and_writes_the_url():
    at = open_page(PAGE, "en")
    at.slider(key=f"{S}.k").set_value(1).run()
    at.segmented_control(key=f"{S}.metric").set_value("l1").run()
    assert not at.exception and not at.error
    v = experiment.settings()
    x, y = playground.make_dataset(v["dataset"], v["n"], v["noise"], 0)
    _, _, cells = playground.grid(x, v["resolution"])
    np.testing.assert_array_equal(_heatmaps(figures(at)[0])[0].ravel(), knn_predict(x, y, cells, 1, "l1").numpy())
    assert at.query_params[f"{S}.k"] in ("1", ["1"]) and "100%" in all_text(at)   # 1-NN is perfect on its own points


def test_hovering_a_point_reads_its_softmax_loss():
    at = open_page(PAGE, "en", query={f"{S}.dataset": "blobs", f"{S}.n": "60"})
    fig = figures(at)[0]
    soft = [tr for tr in fig["data"] if tr.get("type") == "scatter" and tr.get("xaxis") == "x3"]
    assert soft and all("softmax loss" in tr["hovertemplate"] for tr in soft)
    losses = np.concatenate([np.asarray(tr["customdata"]) for tr in soft])
    assert losses.shape == (60,) and np.all(losses > 0)


def test_own_points_bad_text_gives_a_translated_error_and_k_too_big_a_warning():
    at = open_page(PAGE, "zh", query={f"{S}.dataset": "own"})
    at.text_area(key=f"{S}.points").set_value("0, 0, 0\n1, 1, 0\n2, 2, 0\n3, 3, 0").run()
    assert not at.exception
    assert strings("zh")[f"{S}.errors.one_class"] in [e.value for e in at.error]
    at.text_area(key=f"{S}.points").set_value("0, 0\n").run()
    assert strings("zh")[f"{S}.errors.format"].format(line=1) in [e.value for e in at.error]
    at.text_area(key=f"{S}.points").set_value(experiment.OWN_POINTS).run()
    at.slider(key=f"{S}.k").set_value(30).run()
    assert not at.exception and not at.error
    assert strings("zh")[f"{S}.errors.k_too_big"].format(k=30, n=10) in [w.value for w in at.warning]
    assert len(_heatmaps(figures(at)[0])) == 3   # the other three classifiers still draw


def test_a_click_on_own_points_adds_and_removes_them():
    at = open_page(PAGE, "en", query={f"{S}.dataset": "own"})
    v = experiment.settings() | {"dataset": "own", "click_class": 1}

    class Bound:
        def key(self, name):
            return f"{S}.{name}"
    added = experiment.clicked(Bound(), {"selection": {"points": [{"x": 2.5, "y": -2.5}]}}, v)
    at.session_state[f"{S}.points"] = added[f"{S}.points"]
    at.run()
    assert not at.exception and not at.error
    points = sum(len(np.asarray(tr["x"])) for tr in figures(at)[0]["data"]
                 if tr.get("type") == "scatter" and tr.get("xaxis") in (None, "x") and tr.get("legendgroup"))
    assert points == 11
    removed = experiment.clicked(Bound(), {"selection": {"points": [{"x": 2.49, "y": -2.5}]}},
                                 v | {"points": added[f"{S}.points"]})
    assert removed[f"{S}.points"] == experiment.OWN_POINTS


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_loss_tab_shows_the_worked_example(lang):
    at = _tab(open_page(PAGE, lang), "loss", lang)
    assert not at.exception and not at.error
    bars = figures(at)[0]
    scores, margins, probs = (np.asarray(tr["y"], dtype=float) for tr in bars["data"])
    np.testing.assert_allclose(scores, [3.2, 5.1, -1.7])
    np.testing.assert_allclose(margins, [0.0, 2.9, 0.0], atol=1e-9)
    np.testing.assert_allclose(probs, torch.softmax(torch.tensor([3.2, 5.1, -1.7], dtype=torch.float64), 0))
    assert "**2.90**" in all_text(at) and "**2.04**" in all_text(at)
    at.slider(key=f"{S}.s0").set_value(8.0).run()
    assert "**0.00**" in all_text(at)


def test_presets_open_their_tab_and_change_the_figure():
    at = open_page(PAGE, "en")
    at.button(key=f"{S}.preset_btn.circles").click().run()
    assert not at.exception and at.session_state[f"{S}.dataset"] == "circles"
    assert strings("en")[f"{S}.presets.circles.note"] in all_text(at)
    at.button(key=f"{S}.preset_btn.confident").click().run()
    assert at.session_state[f"{S}.tab"] == strings("en")[f"{S}.tabs.loss"]
    assert np.asarray(figures(at)[0]["data"][1]["y"], dtype=float).sum() == 0.0   # every SVM term is 0


def test_choose_k_tab_draws_every_fold_and_says_the_test_set_is_used_once():
    at = _tab(open_page(PAGE, "en"), "choose_k")
    assert not at.exception and not at.error
    fig = figures(at)[0]
    folds = np.asarray(fig["data"][0]["y"])
    assert folds.shape == (5 * len(experiment.KS),)
    np.testing.assert_allclose(np.asarray(fig["data"][3]["y"])[0], 1.0)   # training accuracy at k = 1
    assert "**k = 1**" in all_text(at) or "**k = " in all_text(at)


def test_templates_tab_draws_ten_8x8_templates():
    at = _tab(open_page(PAGE, "en"), "templates")
    assert not at.exception and not at.error
    fig = figures(at)[0]
    maps = _heatmaps(fig)
    assert len(maps) == 10 and all(m.shape == (8, 8) for m in maps)
    assert "test accuracy" in fig["layout"]["title"]["text"]


def test_distances_tab_and_gen_disc_tab_open_in_chinese():
    at = _tab(open_page(PAGE, "zh"), "distances", "zh")
    assert not at.exception and not at.error and len(figures(at)) == 2
    edge = np.asarray(figures(at)[0]["data"][0]["y"])
    np.testing.assert_allclose(edge[:2], [0.01, 0.1], rtol=1e-6)
    at = _tab(at, "gen_disc", "zh")
    assert not at.exception and not at.error and len(figures(at)) == 3
    assert strings("zh")[f"{S}.table.logistic"] in at.dataframe[0].value.columns


def test_bad_url_values_give_a_warning_and_the_defaults():
    at = open_page(PAGE, "en", query={f"{S}.lr": "50", f"{S}.k": "-3", f"{S}.dataset": "cube"})
    assert not at.exception and at.warning
    assert at.session_state[f"{S}.lr"] == experiment.DEFAULTS["lr"]
    assert at.session_state[f"{S}.dataset"] == "moons"


def test_valid_url_values_reopen_the_experiment():
    at = open_page(PAGE, "en", query={f"{S}.dataset": "xor", f"{S}.shared_cov": "1", f"{S}.resolution": "50"})
    assert not at.exception and not at.error
    assert _heatmaps(figures(at)[0])[0].shape == (50, 50)
    assert at.session_state[f"{S}.shared_cov"] is True


def test_mirror_losses_agree_with_torch_on_the_page_values():
    s = torch.tensor([[3.2, 5.1, -1.7]])
    assert abs(float(F.cross_entropy(s, torch.tensor([0]))) - 2.0404) < 1e-3


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_the_knn_panel_draws_the_clicked_points_neighbourhood_ball(metric):
    at = open_page(PAGE, "en", query={f"{S}.query": "0.5,-0.2", f"{S}.metric": metric, f"{S}.k": "7"})
    assert not at.exception and not at.error
    fig = figures(at)[0]
    ball, near, cross = (tr for tr in fig["data"] if tr.get("name") == "nearest neighbours of the clicked point")
    v = experiment.settings()
    x, y = playground.make_dataset(v["dataset"], v["n"], v["noise"], 0)
    d = torch.cdist(torch.tensor([[0.5, -0.2]]), x, p=1.0 if metric == "l1" else 2.0)[0]
    idx = d.argsort()[:7]
    np.testing.assert_allclose(np.sort(np.asarray(near["x"])), np.sort(x[idx, 0].numpy()), rtol=1e-6)
    bx, by = np.asarray(ball["x"]) - 0.5, np.asarray(ball["y"]) + 0.2
    norm = np.abs(bx) + np.abs(by) if metric == "l1" else np.hypot(bx, by)
    np.testing.assert_allclose(norm, float(d[idx[-1]]), rtol=1e-5)   # every outline point at the k-th distance
    assert len(bx) == (5 if metric == "l1" else 73) and list(cross["x"]) == [0.5]


def test_a_click_on_a_generated_data_set_moves_the_neighbourhood():
    class Bound:
        def key(self, name):
            return f"{S}.{name}"
    update = experiment.clicked(Bound(), {"selection": {"points": [{"x": 1.234, "y": 9.0}]}}, experiment.settings())
    assert update == {f"{S}.query": (1.23, 3.0)}
    assert experiment.clicked(Bound(), {"selection": {"points": []}}, experiment.settings()) == {}


def test_a_diverging_learning_rate_gets_a_translated_warning_and_the_page_lives():
    at = open_page(PAGE, "zh", query={f"{S}.lam": "1.0", f"{S}.lr": "10.0"})
    assert not at.exception and not at.error
    assert strings("zh")[f"{S}.notice.diverged"].format(lr=10.0) in [w.value for w in at.warning]
    assert len(figures(at)) == 1
