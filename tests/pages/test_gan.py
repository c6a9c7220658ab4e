"""AppTest of the GAN lesson: live training controls, figure values, presets, replay, URL state, bad input,
both languages."""

import numpy as np
import pytest
import torch

from dlcore import gan
from tests.support import all_text, figures, open_page
from ui.i18n import strings

PAGE = "pages/gan.py"


def _fig(at, title_key: str, lang: str = "en", **fmt) -> dict:
    prefix = strings(lang)[title_key].split("{")[0] if fmt == {} else strings(lang)[title_key].format(**fmt)
    return next(f for f in figures(at) if f["layout"]["title"]["text"].startswith(prefix))


def _trace(fig: dict, name: str) -> dict:
    return next(tr for tr in fig["data"] if tr.get("name") == name)


def _run(at) -> gan.GANState:
    return at.session_state["gan._run"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_page_shows_the_untrained_game_on_the_ring(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    s = strings(lang)
    game = _fig(at, "gan.fig.game_title", lang, step=0)
    heat = game["data"][0]
    assert heat["type"] == "heatmap" and np.asarray(heat["z"]).shape == (gan.GRID_2D, gan.GRID_2D)
    z = np.asarray(heat["z"])
    assert (z >= 0).all() and (z <= 1).all() and heat["zmin"] == 0 and heat["zmax"] == 1   # D is a probability
    real = _trace(game, s["gan.fig.real"])
    np.testing.assert_allclose(real["x"], _run(at).real_show[:, 0].numpy())
    fake = _trace(game, s["gan.fig.fake"])
    assert len(fake["x"]) == gan.GANConfig().n_show
    assert game["layout"]["xaxis"]["title"]["text"] == s["gan.fig.x1"]
    assert _fig(at, "gan.fig.curves_title", lang)["layout"]["xaxis3"]["title"]["text"] == s["gan.fig.step"]
    assert any(r"\min_G" in e.value for e in at.get("latex"))
    assert _run(at).step == 0 and _run(at).config == gan.GANConfig()


def test_play_trains_in_bounded_ticks_and_the_figures_follow():
    at = open_page(PAGE, "en")
    at.button(key="gan.play_btn").click().run()
    assert not at.exception and at.session_state["gan._playing"]
    first = _run(at).step
    assert 0 < first <= gan.MAX_STEPS_PER_TICK
    at.run()  # another tick (AppTest runs the fragment once per script run)
    step = _run(at).step
    assert first < step <= first + gan.MAX_STEPS_PER_TICK
    game = _fig(at, "gan.fig.game_title", step=step)
    fake = _trace(game, "generated samples")
    snap = gan.current_snapshot(_run(at))
    np.testing.assert_allclose(fake["x"], snap.fake[:, 0])
    curves = _fig(at, "gan.fig.curves_title")
    d_loss = _trace(curves, "D loss")
    assert len(d_loss["y"]) == min(step, 600) and np.isfinite(d_loss["y"]).all()
    assert any(b.label == "Pause" for b in at.button)


def test_one_step_and_reset_buttons():
    at = open_page(PAGE, "en")
    at.button(key="gan.step_btn").click().run()
    assert _run(at).step == 1 and not at.session_state["gan._playing"]
    assert len(_run(at).curves["g_loss"]) == 1
    at.button(key="gan.step_btn").click().run()
    assert _run(at).step == 2
    at.button(key="gan.reset_btn").click().run()
    assert _run(at).step == 0 and not at.exception


def test_changing_a_learning_rate_keeps_the_run_but_a_new_loss_restarts_it():
    at = open_page(PAGE, "en")
    at.button(key="gan.step_btn").click().run()
    at.button(key="gan.step_btn").click().run()
    at.select_slider(key="gan.lr_g").set_value(1e-4).run()
    assert _run(at).step == 2 and _run(at).opt_g.param_groups[0]["lr"] == 1e-4
    at.selectbox(key="gan.loss").set_value("hinge").run()
    assert _run(at).step == 0 and _run(at).config.loss == "hinge"
    game = _fig(at, "gan.fig.game_title", step=0)
    assert game["data"][0]["name"] == "critic D(x)" and "zmin" not in game["data"][0]   # raw scores, not a probability
    assert any(r"\max(0, 1 - D(x))" in e.value for e in at.get("latex"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_paper_preset_draws_the_1d_picture(lang):
    at = open_page(PAGE, lang)
    at.button(key="gan.preset_btn.paper1d").click().run()
    assert not at.exception and not at.error
    assert at.session_state["gan.target"] == "mixture1d" and at.session_state["gan.latent"] == 1
    fig = next(f for f in figures(at) if "yaxis2" in f["layout"] and "xaxis3" not in f["layout"])
    s = strings(lang)
    p_data = _trace(fig, s["gan.fig.p_data"])
    xs = torch.tensor(np.asarray(p_data["x"]))   # a copy: the decoded figure array is read-only
    np.testing.assert_allclose(p_data["y"], gan.mixture1d_density(xs).numpy(), rtol=1e-5)
    d = _trace(fig, s["gan.fig.d_prob"])
    assert d["yaxis"] == "y2" and ((np.asarray(d["y"]) >= 0) & (np.asarray(d["y"]) <= 1)).all()
    assert fig["layout"]["yaxis"]["title"]["text"] == s["gan.fig.density"]
    assert s["gan.presets.paper1d.note"] in all_text(at)


def test_collapse_preset_sets_learning_rates_far_apart_and_starts_playing():
    at = open_page(PAGE, "en")
    at.button(key="gan.preset_btn.collapse").click().run()
    assert at.session_state["gan.lr_d"] == 1e-2 and at.session_state["gan.lr_g"] == 1e-4
    assert at.session_state["gan._playing"] and _run(at).step > 0
    assert at.query_params.get("gan.lr_d") == "0.01"


def test_saturating_preset_places_one_blob_far_away_and_shows_the_points_box():
    at = open_page(PAGE, "en")
    at.button(key="gan.preset_btn.saturating").click().run()
    assert not at.exception and not at.error
    assert at.session_state["gan.target"] == "custom" and at.session_state["gan.points"] == "1,1"
    assert _run(at).config.loss == "minimax" and _run(at).config.opt_g == "sgd" and _run(at).config.steps == 500
    assert at.text_area(key="gan.points").value == "1,1"
    assert at.session_state["gan._playing"]


def test_mode_collapse_warning_appears_when_the_metric_flags_it():
    at = open_page(PAGE, "en")
    state = _run(at)
    gan.advance(state, 1)
    with torch.no_grad():   # a generator that sends every z to one ring mode
        last = state.G[-1]
        last.weight.zero_()
        last.bias.copy_(torch.tensor([1.0, 0.0]))
    state.latest = None
    at.run()
    assert any("Mode collapse" in w.value and "1 of the 8" in w.value for w in at.warning)


def test_divergence_stops_the_run_with_a_message_and_keeps_the_last_good_state():
    at = open_page(PAGE, "zh")
    at.button(key="gan.step_btn").click().run()
    with torch.no_grad():
        _run(at).D[0].weight.fill_(float("nan"))
    at.button(key="gan.play_btn").click().run()
    assert not at.exception
    assert any("NaN" in e.value and "第 2 步" in e.value for e in at.error)
    assert _run(at).step == 1 and not at.session_state["gan._playing"]
    assert figures(at)


def test_digits_preset_shows_a_grid_of_samples_and_a_latent_walk():
    at = open_page(PAGE, "en")
    at.button(key="gan.preset_btn.digits").click().run()
    assert not at.exception and not at.error
    fig = _fig(at, "gan.fig.digits_title", step=_run(at).step)
    grid, walk = fig["data"]
    assert np.asarray(grid["z"]).shape == (4 * 9 - 1, 8 * 9 - 1)
    assert np.asarray(walk["z"]).shape == (8, 10 * 9 - 1)
    z = np.asarray(grid["z"])
    assert np.nanmin(z) >= 0 and np.nanmax(z) <= 1


def test_replay_of_my_run_and_of_the_complete_shared_run(monkeypatch):
    from ui import progress

    shown = []   # every update of the complete run's progress bar: steps done of the run's steps
    real_update = progress.Run.update
    monkeypatch.setattr(progress.Run, "update", lambda self, done, what=None: (
        shown.append((done, self.total, self.key)), real_update(self, done, what))[1])
    progress.shared_runs("gan.full_run")._items.clear()   # another test may have run these settings
    at = open_page(PAGE, "en", query={"gan.steps": "500"})
    at.session_state["gan.tab"] = strings("en")["gan.tabs.replay"]
    at.run()
    assert any("Nothing recorded yet" in i.value for i in at.info)
    gan.advance(_run(at), 120)
    at.run()
    mine = next(f for f in figures(at) if f.get("frames"))
    assert [fr["name"] for fr in mine["frames"]] == ["0", "50", "100"]
    assert mine["layout"]["sliders"][0]["steps"][-1]["label"] == "100"
    at.segmented_control(key="gan.replay").set_value("full").run()
    assert not at.exception and not at.error
    full = next(f for f in figures(at) if f.get("frames"))
    assert [fr["name"] for fr in full["frames"]][-1] == "500" and len(full["frames"]) == 11
    assert "Step 500" in full["frames"][-1]["layout"]["title"]["text"]
    assert np.asarray(full["frames"][-1]["data"][0]["z"]).shape == (gan.GRID_2D // 2, gan.GRID_2D // 2)
    # the bar counted the run's steps in chunks of 100, up to the last
    assert [s[0] for s in shown] == [100, 200, 300, 400, 500]
    assert {s[1:] for s in shown} == {(500.0, "gan.full_run")}
    assert not at.get("progress")   # and went away when the run was done

    # another learner (in Chinese) asks for the same run: it is kept for the class, nothing trains again
    monkeypatch.setattr(gan, "run_steps", lambda *a: pytest.fail("trained again"))
    other = open_page(PAGE, "zh", query={"gan.steps": "500"})
    other.session_state["gan.tab"] = strings("zh")["gan.tabs.replay"]
    other.run()
    other.segmented_control(key="gan.replay").set_value("full").run()
    assert not other.exception and not other.error
    again = next(f for f in figures(other) if f.get("frames"))
    assert [fr["name"] for fr in again["frames"]] == [fr["name"] for fr in full["frames"]]
    np.testing.assert_array_equal(again["frames"][-1]["data"][0]["z"], full["frames"][-1]["data"][0]["z"])


def test_valid_url_parameters_reopen_the_experiment():
    at = open_page(PAGE, "en", query={"gan.loss": "wgan_gp", "gan.d_steps": "5", "gan.sn": "1", "gan.target": "grid",
                                       "gan.g_width": "128", "gan.noise": "uniform", "gan.lr_d": "0.0003"})
    assert not at.exception and not at.warning
    cfg = _run(at).config
    assert (cfg.loss, cfg.d_steps, cfg.spectral_norm, cfg.target, cfg.g_width, cfg.noise, cfg.lr_d) == (
        "wgan_gp", 5, True, "grid", 128, "uniform", 3e-4)
    assert any(r"\nabla_{\hat x}" in e.value for e in at.get("latex"))


def test_bad_url_values_fall_back_to_defaults_with_a_note():
    at = open_page(PAGE, "en", query={"gan.lr_d": "abc", "gan.target": "cifar", "gan.g_width": "999",
                                       "gan.latent": "99", "gan.points": "x" * 900, "gan.batch": "nan"})
    assert not at.exception
    assert _run(at).config == gan.GANConfig()
    note = " ".join(w.value for w in at.warning)
    for key in ("gan.lr_d", "gan.target", "gan.g_width", "gan.latent", "gan.points", "gan.batch"):
        assert key in note


@pytest.mark.parametrize("lang, phrase", [("en", "between −1.4 and 1.4"), ("zh", "−1.4 到 1.4 之间")])
def test_bad_typed_points_give_a_translated_error_and_the_default_points(lang, phrase):
    at = open_page(PAGE, lang, query={"gan.target": "custom"})
    at.text_area(key="gan.points").set_value("0,0; 5,5").run()
    assert not at.exception
    assert any(phrase in e.value for e in at.error)
    assert_points = gan.parse_points(gan.DEFAULT_POINTS)
    torch.testing.assert_close(_run(at).target.centres, assert_points)
    assert figures(at)


def test_placed_points_become_the_modes():
    at = open_page(PAGE, "en", query={"gan.target": "custom", "gan.points": "-1,-1; 1,1"})
    assert not at.exception and not at.error
    torch.testing.assert_close(_run(at).target.centres, torch.tensor([[-1.0, -1.0], [1.0, 1.0]]))
    real = np.asarray(_trace(_fig(at, "gan.fig.game_title", step=0), "real samples")["x"])
    assert (np.abs(np.abs(real) - 1) < 0.3).all()


def test_every_figure_offers_its_data_and_controls_have_the_declared_ranges():
    from ui.experiments import gan as experiment
    from ui.figures.common import figure_table
    from ui.params import by_name

    at = open_page(PAGE, "en")
    csv = sorted(b.proto.id.rsplit("-", 1)[-1] for b in at.get("download_button"))
    assert csv == ["gan.curves_fig.csv", "gan.game_fig.csv"]
    real = [r for r in figure_table(_fig(at, "gan.fig.game_title", step=0)) if r["trace"] == "real samples"]
    assert len(real) == gan.GANConfig().n_show
    declared = by_name(experiment.SETTINGS)
    assert (at.slider(key="gan.d_steps").min, at.slider(key="gan.d_steps").max) == (1, declared["d_steps"].hi)
    assert at.select_slider(key="gan.lr_d").options == [f"{v:g}" for v in declared["lr_d"].options]
    assert at.selectbox(key="gan.loss").options == [strings("en")[f"gan.losses.{o}"] for o in gan.LOSSES]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_complete_run_over_the_budget_is_refused_with_a_translated_message(lang):
    query = {"gan.loss": "wgan_gp", "gan.d_steps": "5", "gan.steps": "5000"}   # ~40 s of one CPU thread
    at = open_page(PAGE, lang, query=query)
    at.session_state["gan.tab"] = strings(lang)["gan.tabs.replay"]
    at.run()
    at.segmented_control(key="gan.replay").set_value("full").run()
    assert not at.exception and not at.error
    seconds = gan.run_work(_run(at).config) / gan.WORK_PER_SECOND
    expected = strings(lang)["gan.run_too_long"].format(seconds=seconds, cap=gan.MAX_RUN_SECONDS)
    assert [w.value for w in at.warning] == [expected]
    assert strings(lang)["gan.replay_empty"] in [i.value for i in at.info]   # nothing trained: my run is empty
