"""AppTest of the optimizer race: the race figure holds torch.optim's iterates, widgets and presets
change it, URL state round-trips, bad formulas and points give translated messages, both languages."""

import numpy as np
import pytest
import torch

from dlcore import optim as O
from tests.support import all_text, figures, open_code, open_page
from ui.experiments import optimizer_race as experiment
from ui.figures.common import figure_table
from ui.i18n import strings

PAGE = "pages/optimizer_race.py"
S = "optimizer_race"


def _race(at) -> dict:
    return next(f for f in figures(at) if f.get("frames"))


def _head(fig: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The head marker of racer ``name`` in the last animation frame."""
    i = next(i for i, d in enumerate(fig["data"]) if d.get("name") == name and d.get("mode") == "markers")
    last = fig["frames"][-1]
    j = last["traces"].index(i)
    return np.asarray(last["data"][j]["x"], dtype=float), np.asarray(last["data"][j]["y"], dtype=float)


def _tab(at, name: str, lang: str = "en"):
    at.session_state[f"{S}.tab"] = strings(lang)[f"{S}.tabs.{name}"]
    return at.run()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_race_shows_torch_iterates_and_translated_axes(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    fig = _race(at)
    tr = strings(lang)
    assert fig["layout"]["title"]["text"] == tr[f"{S}.fig.title"]
    assert fig["layout"]["xaxis3"]["title"]["text"] == tr[f"{S}.fig.step"]
    sgd = O.run("quadratic", "sgd", (-2.6, 0.4), 300, lr=0.9)
    x, y = _head(fig, tr[f"{S}.racer.sgd"])
    np.testing.assert_allclose([x[0], y[0]], sgd[-1], atol=1e-6)
    newton_x, _ = _head(fig, tr[f"{S}.racer.newton"])
    assert abs(newton_x[0]) < 1e-6
    assert fig["frames"][-1]["name"] == "300"
    df = at.dataframe[0].value
    assert df.iloc[0, 0] == tr[f"{S}.racer.newton"]          # Newton reaches the bowl's bottom in one step
    assert len(df) == 7


def test_changing_a_hyperparameter_and_steps_recomputes():
    at = open_page(PAGE, "en")
    at.number_input(key=f"{S}.sgd.lr").set_value(0.3).run()
    at.slider(key=f"{S}.steps").set_value(120).run()
    assert not at.exception and not at.error
    fig = _race(at)
    x, y = _head(fig, "SGD")
    np.testing.assert_allclose([x[0], y[0]], O.run("quadratic", "sgd", (-2.6, 0.4), 120, lr=0.3)[-1], atol=1e-6)
    assert fig["frames"][-1]["name"] == "120"
    assert at.query_params.get(f"{S}.sgd.lr") == "0.3"


def test_surface_change_brings_its_start_and_suggested_learning_rates():
    at = open_page(PAGE, "en")
    at.selectbox(key=f"{S}.surface").set_value("rosenbrock").run()
    assert not at.exception and not at.error
    assert (at.session_state[f"{S}.x0"], at.session_state[f"{S}.y0"]) == (-1.2, 1.0)
    assert at.session_state[f"{S}.sgd.lr"] == O.SURFACES["rosenbrock"].lr_sgd
    fig = _race(at)
    x, y = _head(fig, "Newton")
    np.testing.assert_allclose([x[0], y[0]], [1.0, 1.0], atol=1e-6)
    assert fig["layout"]["yaxis2"]["type"] == "log"


def test_presets_set_up_their_experiments():
    at = open_page(PAGE, "zh")
    at.button(key=f"{S}.preset_btn.saddle").click().run()
    assert not at.exception and not at.error
    assert at.session_state[f"{S}.surface"] == "saddle"
    fig = _race(at)
    tr = strings("zh")
    _, y_sgd = _head(fig, tr[f"{S}.racer.sgd"])
    assert abs(y_sgd[0]) < 0.5                                   # SGD still near the ridge
    assert any(tr[f"{S}.presets.saddle.note"] in i.value for i in at.info)
    at.button(key=f"{S}.preset_btn.too_large").click().run()
    assert not at.exception
    assert any(tr[f"{S}.racer.sgd"] in w.value for w in at.warning)   # "diverged: SGD"
    board = at.dataframe[0].value
    assert board.iloc[-1, 0] == tr[f"{S}.racer.sgd"] and "发散" in board.iloc[-1, 1]


@pytest.mark.parametrize("preset", [p for p in experiment.PRESETS if p != "flat"])
def test_each_preset_races_exactly_the_experiment_its_claim_tests_run(preset):
    at = open_page(PAGE, "en")
    at.button(key=f"{S}.preset_btn.{preset}").click().run()
    assert not at.exception and not at.error
    res = O.race(experiment.race_config(experiment.settings(preset)))
    fig = _race(at)
    for kind, on_map in zip(res.kinds, ~res.outside[:, 0]):
        if on_map:                                             # the figure clamps a runaway racer's marker
            x, y = _head(fig, strings("en")[f"{S}.racer.{kind}"])
            np.testing.assert_allclose([x[0], y[0]], res.paths[res.kinds.index(kind), -1, 0], atol=1e-6)
    assert any(strings("en")[f"{S}.presets.{preset}.note"] in i.value for i in at.info)


def test_schedule_and_several_starts():
    at = open_page(PAGE, "en", query={f"{S}.schedule": "step", f"{S}.step_size": "50", f"{S}.gamma": "0.5",
                                       f"{S}.more_starts": "1, 1; -1, -2", f"{S}.racers": "sgd,adam"})
    assert not at.exception and not at.error
    fig = _race(at)
    lr = next(d for d in fig["data"] if d.get("xaxis") == "x3" and d.get("mode") == "lines")
    np.testing.assert_allclose(np.asarray(lr["y"], dtype=float)[[0, 49, 50, 120]], [1, 1, 0.5, 0.25])
    x, _ = _head(fig, "SGD")
    assert x.shape == (3,)                                        # one head per start point
    assert at.dataframe[0].value.iloc[:, -1].tolist()[0].endswith("/3")


def test_bad_formula_and_points_give_translated_messages_and_the_page_keeps_working():
    at = open_page(PAGE, "zh", query={f"{S}.surface": "custom", f"{S}.formula": "__import__('os')",
                                       f"{S}.more_starts": "1;2"})
    assert not at.exception
    assert any("不是允许的函数" in e.value for e in at.error)
    assert any("无法读取额外的起点" in w.value for w in at.warning)
    at.text_input(key=f"{S}.formula").set_value("x^2 + 3*y^2").run()
    assert not at.exception and not at.error
    fig = _race(at)
    x, y = _head(fig, strings("zh")[f"{S}.racer.newton"])
    np.testing.assert_allclose([x[0], y[0]], [0.0, 0.0], atol=1e-6)
    at.text_input(key=f"{S}.formula").set_value("log(-1 - x^2)").run()
    assert not at.exception and any("不是有限值" in e.value for e in at.error)


def test_start_off_the_map_is_moved_with_a_warning():
    at = open_page(PAGE, "en", query={f"{S}.x0": "15"})
    assert not at.exception and not at.error
    assert any("off the map" in w.value for w in at.warning)
    assert float(_race(at)["data"][3]["x"][0]) == pytest.approx(3.0)


def test_url_state_round_trips_and_bad_values_fall_back_with_a_note():
    at = open_page(PAGE, "en", query={f"{S}.surface": "beale", f"{S}.steps": "abc", f"{S}.adam.lr": "99",
                                       f"{S}.racers": "sgd,lion", f"{S}.formula": "x" * 300})
    assert not at.exception and not at.error
    assert at.session_state[f"{S}.surface"] == "beale"
    assert at.session_state[f"{S}.steps"] == 300
    assert at.session_state[f"{S}.adam.lr"] == O.SURFACES["beale"].lr_adaptive    # the surface's suggestion
    note = " ".join(w.value for w in at.warning)
    assert f"{S}.steps" in note and f"{S}.adam.lr" in note and f"{S}.racers" in note and f"{S}.formula" in note
    assert at.query_params.get(f"{S}.surface") == "beale"


def test_inspector_reads_the_saddle_and_the_escape():
    at = open_page(PAGE, "en", query={f"{S}.surface": "saddle"})
    _tab(at, "inspect")
    assert not at.exception and not at.error
    assert any("saddle point" in i.value for i in at.info)
    fig = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("Close-up"))
    esc = next(d for d in fig["data"] if d.get("name") == "escape step")
    np.testing.assert_allclose(sorted(np.abs(np.asarray(esc["y"], dtype=float))), [0.5, 0.5], atol=1e-12)
    assert "λ = -2" in " ".join(d.get("name", "") for d in fig["data"])
    assert "-0.25" in all_text(at)
    at.number_input(key=f"{S}.px").set_value(0.2).run()
    at.button(key=f"{S}.snap").click().run()
    assert at.session_state[f"{S}.px"] == pytest.approx(0.0, abs=1e-12)


def test_rules_and_batch_tabs_in_chinese():
    at = _tab(open_page(PAGE, "zh"), "rules", "zh")
    assert not at.exception and not at.error
    text = all_text(at)
    assert "最大差值" in text and "× 10⁻¹" in text             # differences like 2.8 × 10⁻¹⁶ (issue 31: not 2.8e-16)
    assert len(open_code(at).code) >= 4
    at = _tab(at, "batch", "zh")
    assert not at.exception and not at.error
    sf = at.dataframe[0].value
    assert sf.iloc[0, 1] > sf.iloc[-1, 1]                      # batch 1 ends in the flat well more often
    reg = next(f for f in figures(at) if f["layout"]["title"]["text"] == strings("zh")[f"{S}.fig.reg_title"])
    assert [d["name"] for d in reg["data"] if d.get("mode") == "lines" and "showlegend" not in d][:4] == \
        ["批量 1", "批量 8", "批量 32", "批量 64"]


def test_every_figure_offers_its_data_as_a_csv_download():
    at = _tab(open_page(PAGE, "en", query={f"{S}.view3d": "1"}), "inspect")
    keys = [b.proto.id.rsplit("-", 1)[-1] for b in at.get("download_button")]
    assert keys == [f"{S}.map.csv", f"{S}.fig3d.csv", f"{S}.inspect_fig.csv"]
    assert {b.proto.label for b in at.get("download_button")} == {strings("en")["app.lesson.download"]}
    rows = figure_table(figures(at)[0])                          # what the race map's download holds
    sgd = [r for r in rows if r.get("trace") == "SGD" and "frame" not in r]
    final = float(O.SURFACES["quadratic"].fn(*torch.tensor(O.run("quadratic", "sgd", (-2.6, 0.4), 300, lr=0.9)[-1])))
    assert any(abs(float(r["y (y)"]) - final) <= 1e-6 * final for r in sgd)   # the loss curve's last point
    at = _tab(at, "batch")
    assert [b.proto.id.rsplit("-", 1)[-1] for b in at.get("download_button")][-2:] == [f"{S}.reg_fig.csv",
                                                                                        f"{S}.sf_fig.csv"]


def test_controls_drawn_by_name_have_their_declared_ranges():
    at = open_page(PAGE, "en", query={f"{S}.schedule": "step"})
    declared = {p.name: p for p in experiment.SETTINGS}
    for name in ("steps", "angle", "step_size", "gamma"):
        slider = at.slider(key=f"{S}.{name}")
        assert (slider.min, slider.max) == (declared[name].lo, declared[name].hi), name
    assert at.slider(key=f"{S}.steps").step == declared["steps"].step == 10
    lr = at.number_input(key=f"{S}.adam.lr")
    assert (lr.min, lr.max) == (O.RACERS["adam"].hypers[0].lo, O.RACERS["adam"].hypers[0].hi) == \
        (declared["adam.lr"].lo, declared["adam.lr"].hi)
    assert at.select_slider(key=f"{S}.kappa").options == [str(k) for k in experiment.KAPPAS]
    assert at.selectbox(key=f"{S}.surface").options == [strings("en")[f"{S}.surfaces.{n}"]
                                                        for n in experiment.SURFACE_NAMES]


def test_the_lessons_widget_callbacks_write_what_an_event_changes():
    """The callbacks live in ui.experiments and take the session state: here a plain dict."""
    from types import SimpleNamespace

    state = {f"{S}.surface": "rosenbrock", f"{S}.half_width": 3.0}
    experiment.on_surface_change(state)
    assert (state[f"{S}.x0"], state[f"{S}.y0"], state[f"{S}.px"]) == (-1.2, 1.0, 1.0)
    assert state[f"{S}.sgd.lr"] == O.SURFACES["rosenbrock"].lr_sgd
    state[f"{S}.map"] = SimpleNamespace(selection=SimpleNamespace(points=[{"x": 1.5, "y": -0.25}]))
    experiment.on_map_click(state)
    assert (state[f"{S}.x0"], state[f"{S}.y0"]) == (1.5, -0.25)
    state[f"{S}.map"] = SimpleNamespace(selection=SimpleNamespace(points=[]))   # a click off the grid: no change
    experiment.on_map_click(state)
    assert state[f"{S}.x0"] == 1.5
    state.update({f"{S}.px": 0.2, f"{S}.py": 1.1})
    experiment.on_snap(state, O.SURFACES["beale"])                  # Beale's saddle (0, 1)
    assert state[f"{S}._snap_failed"] is False
    np.testing.assert_allclose([state[f"{S}.px"], state[f"{S}.py"]], [0.0, 1.0], atol=1e-8)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_leaderboard_writes_a_dash_for_a_racer_that_never_reached_a_minimum(lang):
    """Issue 31, item 7: st.dataframe showed a NaN (AdaGrad still moving on the ravine) as a grey "None"."""
    from ui.figures import optimizer_race as figs
    from ui.i18n import labels

    at = open_page(PAGE, lang)
    board = at.dataframe[0].value
    never = board[board.iloc[:, figs.BOARD_COLS.index("reached")].isna()]
    assert len(never) >= 1                                                   # the default race has one
    cols = labels(f"{S}.board", figs.BOARD_COLS)                              # (English here, outside a run)
    res = O.race(experiment.race_config(experiment.settings(None)))
    shown = figs.leaderboard(O.leaderboard(res, experiment.race_config(experiment.settings(None)).make_surface()),
                             [str(k) for k in res.kinds], cols, {s: s for s in O.STATUSES})
    html = shown.to_html()
    assert "None" not in html and "nan" not in html and "–" in html           # the numbers underneath stay NaN
    assert shown.data[cols["reached"]].isna().sum() == len(never)
