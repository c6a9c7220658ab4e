"""AppTest of the generalization lesson: the figures carry dlcore's numbers, widgets and presets change them, every
tab opens, URL state and bad input (a typed target, λ = 0 with too few points) in both languages."""

import numpy as np
import pytest

from dlcore import generalization as gen
from tests.support import all_text, figures, open_page, widget
from ui.experiments import generalization as experiment
from ui.i18n import strings

PAGE, S = "pages/generalization.py", "generalization"


def _tab(at, name: str, lang: str = "en"):
    at.session_state[f"{S}.tab"] = strings(lang)[f"{S}.tabs.{name}"]
    return at.run()


def _fig(at, key: str, lang: str = "en") -> dict:
    title = strings(lang)[f"{S}.fig.{key}"]
    return next(f for f in figures(at) if title in str(f["layout"].get("title", {}).get("text", "")))


def _trace(fig: dict, name: str) -> dict:
    return next(d for d in fig["data"] if d.get("name") == name)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_page_shows_the_fit_and_the_u_shaped_errors_from_dlcore(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    s = strings(lang)
    cap = _fig(at, "capacity_title", lang)
    r = experiment.fit(experiment.settings(), 0)
    np.testing.assert_allclose(np.asarray(_trace(cap, s[f"{S}.fig.val_err"])["y"], dtype=float),
                               np.maximum(r["sweep"].val_mse, 1e-6), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(_trace(cap, s[f"{S}.fig.train_err"])["y"], dtype=float),
                               np.maximum(r["sweep"].train_mse, 1e-6), rtol=1e-5)
    fit = _fig(at, "fit_title", lang)
    pts = _trace(fit, s[f"{S}.fig.train_pts"])
    np.testing.assert_allclose(np.asarray(pts["y"], dtype=float), r["data"].y.numpy(), rtol=1e-6)
    v = experiment.settings()
    assert s[f"{S}.diagnosis.fine"].format(train=r["train"], val=r["val"], floor=v["noise"] ** 2, best=r["best"],
                                           degree=v["degree"]) in all_text(at)


def test_raising_the_degree_changes_the_fit_and_the_diagnosis():
    at = open_page(PAGE, "en")
    at.slider(key=f"{S}.degree").set_value(14).run()
    assert not at.exception and not at.error
    fit = _fig(at, "fit_title")
    curve = next(d for d in fit["data"] if "degree 14" in d.get("name", "") and "fit" in d["name"])
    r = experiment.fit(experiment.settings() | {"degree": 14}, 0)
    np.testing.assert_allclose(np.asarray(curve["y"], dtype=float), r["sweep"].curves[14].numpy(), rtol=1e-5,
                               atol=1e-6)
    assert "overfitting" in all_text(at)


def test_fewer_points_than_coefficients_says_the_fit_interpolates():
    at = open_page(PAGE, "en", query={f"{S}.n": "5", f"{S}.degree": "8"})
    assert not at.exception and not at.error
    assert any("interpolates" in i.value for i in at.info)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("formula,code", [("sin(2*pi*x", "syntax"), ("log(x)", "not_finite"), ("exp(1000*x)",
                                                                                                 "not_finite")])
def test_a_bad_typed_target_gets_a_translated_message_and_the_page_goes_on(lang, formula, code):
    at = open_page(PAGE, lang, query={f"{S}.target": "typed"})
    at.text_input(key=f"{S}.formula").set_value(formula).run()
    assert not at.exception
    assert len(at.error) == 1 and strings(lang)[f"{S}.formula_errors.{code}"][:8] in at.error[0].value
    assert _fig(at, "fit_title", lang)                      # the default target is drawn instead


def test_a_typed_target_is_fitted():
    at = open_page(PAGE, "en", query={f"{S}.target": "typed", f"{S}.formula": "abs(x - 0.5)"})
    assert not at.exception and not at.error
    fit = _fig(at, "fit_title")
    truth = _trace(fit, strings("en")[f"{S}.fig.truth"])
    np.testing.assert_allclose(np.asarray(truth["y"], dtype=float), np.abs(np.linspace(0, 1, gen.GRID) - 0.5),
                               atol=1e-6)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_bias_variance_tab_shows_the_decomposition_and_its_residual(lang):
    at = _tab(open_page(PAGE, lang), "bias_variance", lang)
    assert not at.exception and not at.error
    r = experiment.bias_variance(experiment.settings(), 0)
    dec = _fig(at, "decomp_title", lang)
    measured = _trace(dec, strings(lang)[f"{S}.fig.measured"])
    np.testing.assert_allclose(np.asarray(measured["y"], dtype=float), r["expected_x"].numpy(), rtol=1e-6)
    text = all_text(at)
    assert f"{r['expected_mse']:.4g}" in text and f"{r['bias2']:.4g}" in text
    sweep = _fig(at, "sweep_title", lang)
    assert len(_trace(sweep, strings(lang)[f"{S}.fig.bias2"])["x"]) == 13    # degrees 0..12 for n = 15


def test_lambda_zero_with_too_few_points_gives_the_singular_message_then_lambda_fixes_it():
    at = _tab(open_page(PAGE, "en", query={f"{S}.n": "6", f"{S}.degree": "9"}), "bias_variance")
    assert not at.exception
    assert len(at.error) == 1 and "no unique solution" in at.error[0].value and "rank 6 < 10" in at.error[0].value
    at.select_slider(key=f"{S}.lam").set_value(1e-3).run()
    assert not at.exception and not at.error
    assert _fig(at, "bv_fits_title")


def test_the_sweep_over_lambda_uses_a_log_axis():
    at = _tab(open_page(PAGE, "en", query={f"{S}.sweep": "lambda"}), "bias_variance")
    assert not at.exception and not at.error
    sweep = _fig(at, "sweep_title")
    assert sweep["layout"]["xaxis"]["type"] == "log"
    assert list(_trace(sweep, "bias²")["x"]) == list(experiment.SWEEP_LAMS)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_l1_l2_tab_draws_paths_and_the_picture_with_dlcore_solutions(lang):
    at = _tab(open_page(PAGE, lang), "l1_l2", lang)
    assert not at.exception and not at.error
    pic = experiment.picture(experiment.settings(), 0)
    fig = _fig(at, "picture_title", lang)
    ols = _trace(fig, strings(lang)[f"{S}.fig.ols"])
    np.testing.assert_allclose([ols["x"][0], ols["y"][0]], pic["ols"].numpy(), rtol=1e-6)
    p = experiment.paths(experiment.settings(), 0)
    assert strings(lang)[f"{S}.notice.paths"].format(n=experiment.PATH_N, zeros=p["zeros_at"], p=p["p"],
                                                     alpha=p["alpha"])[:20] in all_text(at)


def test_the_lasso_preset_opens_its_tab_and_puts_w2_at_zero():
    at = open_page(PAGE, "en")
    at.button(key=f"{S}.preset_btn.lasso").click().run()
    assert not at.exception and not at.error
    assert at.session_state[f"{S}.alpha"] == 0.5
    assert "w = [1.11, 0.0]" in all_text(at)
    assert strings("en")[f"{S}.presets.lasso.note"] in all_text(at)


def test_the_robust_tab_shows_the_three_fits_and_the_delta_slider_moves_huber():
    at = _tab(open_page(PAGE, "en"), "robust")
    assert not at.exception and not at.error
    slopes = {k: float(w[1]) for k, w in experiment.robust(experiment.settings(), 0)["fits"].items()}
    assert f"L2 {slopes['l2']:.2f}, L1 {slopes['l1']:.2f}, Huber {slopes['huber']:.2f}" in all_text(at)
    at.slider(key=f"{S}.delta").set_value(3.0).run()
    assert not at.exception and not at.error
    big = {k: float(w[1]) for k, w in experiment.robust(experiment.settings() | {"delta": 3.0}, 0)["fits"].items()}
    assert f"Huber {big['huber']:.2f}" in all_text(at)


@pytest.mark.slow
def test_the_dropout_tab_trains_both_nets_and_marks_early_stopping():
    at = _tab(open_page(PAGE, "en"), "dropout")
    assert not at.exception and not at.error
    fig = _fig(at, "dropout_title")
    h = gen.train_mlp(experiment.dropout_config(experiment.settings(), 0, False))
    val = _trace(fig, "no dropout: validation")
    np.testing.assert_allclose(np.asarray(val["y"], dtype=float), h.val_loss, rtol=1e-5)
    best, stop = gen.early_stop(h.val_loss, experiment.settings()["patience"], h.step)
    assert list(_trace(fig, "no dropout: best step")["x"]) == [best]
    assert list(_trace(fig, "no dropout: stop (patience)")["x"]) == [stop]
    assert _fig(at, "masks_title")
    acc = gen.augmentation(100, 0)
    bars = _fig(at, "aug_title")
    np.testing.assert_allclose(np.asarray(_trace(bars, "plus shifted copies")["y"], dtype=float),
                               [acc["augmented_test"], acc["augmented_shifted"]], rtol=1e-6)


def test_url_values_reopen_the_experiment_and_bad_ones_warn():
    at = open_page(PAGE, "en", query={f"{S}.degree": "7", f"{S}.noise": "0.5"})
    assert not at.exception and not at.error
    assert widget(at, f"{S}.degree").value == 7 and widget(at, f"{S}.noise").value == 0.5
    bad = open_page(PAGE, "en", query={f"{S}.degree": "99", f"{S}.n_sets": "5000", f"{S}.target": "nope"})
    assert not bad.exception and not bad.error
    assert bad.warning and all(x in bad.warning[0].value for x in (f"{S}.degree", f"{S}.n_sets", f"{S}.target"))
    assert bad.session_state[f"{S}.degree"] == 3 and bad.session_state[f"{S}.n_sets"] == 100


@pytest.mark.parametrize("preset", list(experiment.PRESETS))
def test_every_preset_runs_without_error(preset):
    at = open_page(PAGE, "zh")
    at.button(key=f"{S}.preset_btn.{preset}").click().run()
    assert not at.exception and not at.error
    for name, value in experiment.PRESETS[preset].items():
        assert at.session_state[f"{S}.{name}"] == value
    assert strings("zh")[f"{S}.presets.{preset}.note"] in all_text(at)


def test_the_bagging_bars_and_the_cross_validation_figure_carry_dlcore_numbers():
    at = _tab(open_page(PAGE, "en"), "bias_variance")
    b = experiment.bagging(experiment.settings(), 0)
    bars = _fig(at, "bagging_title")
    variance = _trace(bars, "variance")
    np.testing.assert_allclose(np.asarray(variance["y"], dtype=float),
                               [b["single"]["variance"], b["bagged"]["variance"]], rtol=1e-6)
    at = _tab(at, "l1_l2")
    assert not at.exception and not at.error
    cv, held = experiment.cross_validation(experiment.settings(), 0)
    fig = _fig(at, "cv_title")
    np.testing.assert_allclose(np.asarray(_trace(fig, "mean over folds (± 1 SE)")["y"], dtype=float), cv.mean.numpy(),
                               rtol=1e-6)
    assert list(_trace(fig, "one-SE choice")["x"]) == [cv.lams[cv.one_se]]
    at.slider(key=f"{S}.folds").set_value(3).run()
    assert not at.exception and not at.error and "3-fold cross-validation" in all_text(at)


def test_the_code_that_ran_follows_the_open_tab():
    at = _tab(open_page(PAGE, "en"), "robust")
    keys = [k for k in at.session_state if str(k).startswith("code_open.")]
    at.session_state[keys[0]] = True
    at.run()
    shown = " ".join(c.value for c in at.code)
    assert "def huber_loss" in shown and "def lasso_path" not in shown
