"""AppTest of the CNN-architectures lesson: figure values against torch and dlcore, widgets, presets, URL state, a
diverging run, both languages. Training tabs share the process's cache (the first one trains, the rest reuse)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore import cnn_architectures as ca
from tests.support import all_text, figures, open_page
from ui.experiments import cnn_architectures as experiment
from ui.i18n import strings

PAGE = "pages/cnn_architectures.py"
S = "cnn_architectures"


def _tab(at, name: str, lang: str = "en"):
    """Open one of the lesson's stateful tabs (only the open tab's content is computed)."""
    at.session_state[f"{S}.tab"] = strings(lang)[f"{S}.tabs.{name}"]
    return at.run()


def _fig(at, title_part: str) -> dict:
    return next(f for f in figures(at) if title_part in str(f["layout"].get("title", {}).get("text", "")))


def _torch_output(digit: int, theta: torch.Tensor) -> np.ndarray:
    img = ca.digits16("test")[0][digit]
    grid = F.affine_grid(theta[None], [1, 1, 16, 16], align_corners=False)
    return F.grid_sample(img[None], grid, align_corners=False)[0, 0].numpy()


def _ok(at) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_spatial_transformer_shows_torchs_output_and_the_grid(lang):
    at = open_page(PAGE, lang)
    _ok(at)
    fig = _fig(at, strings(lang)[f"{S}.fig.stn_title"])
    v = experiment.settings()
    theta = ca.theta_from(rotation=v["rotation"])
    img = ca.digits16("test")[0][v["digit"], 0].numpy()
    np.testing.assert_allclose(fig["data"][0]["z"], img, atol=1e-6)                      # the input
    np.testing.assert_allclose(fig["data"][4]["z"], _torch_output(v["digit"], theta), atol=1e-5)   # V
    corners = F.affine_grid(theta[None], [1, 1, 16, 16], align_corners=False)[0]
    x0 = ((corners[0, 0, 0] + 1) * 16 - 1) / 2
    assert fig["data"][2]["x"][0] == pytest.approx(float(x0), abs=1e-4)                 # top-left corner's sample
    assert "θ = [[0.87, -0.5, 0]" in fig["layout"]["title"]["text"]


def test_sliders_change_theta_and_the_output():
    at = open_page(PAGE, "en")
    at.slider(key=f"{S}.rotation").set_value(0.0).run()
    at.slider(key=f"{S}.scale").set_value(1.5).run()
    at.slider(key=f"{S}.tx").set_value(0.25).run()
    at.number_input(key=f"{S}.digit").set_value(11).run()
    _ok(at)
    fig = _fig(at, "Grid generator")
    expected = _torch_output(11, torch.tensor([[1.5, 0.0, 0.25], [0.0, 1.5, 0.0]]))
    np.testing.assert_allclose(fig["data"][4]["z"], expected, atol=1e-5)
    assert at.query_params.get(f"{S}.scale") == "1.5"


def test_the_scale_two_preset_shrinks_the_digit_and_notes_it():
    at = open_page(PAGE, "en")
    at.slider(key=f"{S}.rotation").set_value(0.0).run()
    at.slider(key=f"{S}.scale").set_value(1.0).run()
    fig = _fig(at, "Grid generator")
    np.testing.assert_allclose(fig["data"][4]["z"], fig["data"][0]["z"], atol=1e-6)        # identity: V = U
    at.button(key=f"{S}.preset_btn.zoom_out").click().run()
    _ok(at)
    fig = _fig(at, "Grid generator")
    np.testing.assert_allclose(fig["data"][4]["z"], _torch_output(7, torch.tensor([[2.0, 0, 0], [0, 2.0, 0]])),
                               atol=1e-5)
    assert any("middle half of the output" in i.value for i in at.info)


def test_url_values_reopen_the_experiment_and_bad_ones_fall_back_with_a_warning():
    at = open_page(PAGE, "zh", query={f"{S}.rotation": "45", f"{S}.scale": "banana", f"{S}.digit": "9999",
                                       f"{S}.depth": "<script>"})
    assert not at.exception
    assert at.session_state[f"{S}.rotation"] == 45.0
    assert at.session_state[f"{S}.scale"] == 1.0 and at.session_state[f"{S}.digit"] == 7
    assert at.session_state[f"{S}.depth"] == 32
    assert any(f"{S}.scale" in w.value and f"{S}.digit" in w.value for w in at.warning)


@pytest.mark.slow
def test_why_convolution_table_curves_and_shift_test_are_dlcores():
    at = _tab(open_page(PAGE, "en"), "why")
    _ok(at)
    table = at.dataframe[0].value
    assert list(table["Parameters"]) == [ca.n_params(ca.build(m)) for m in experiment.WHY_MODELS]
    runs = [ca.train(c) for c in experiment.why_configs(experiment.settings(), 0)]
    assert list(table["Test accuracy (%)"]) == [round(100 * r.final_acc, 1) for r in runs]
    shift = _fig(at, "moves k pixels")
    for trace, run in zip(shift["data"], runs):
        np.testing.assert_allclose(trace["y"], ca.shift_accuracy(run.model(), experiment.SHIFTS).accuracy)
    eq = _fig(at, "Feature maps move")
    result = ca.equivariance(runs[2].model(), 7, 3)
    np.testing.assert_allclose(eq["data"][1]["z"], result.maps[0], atol=1e-5)
    np.testing.assert_allclose(eq["data"][5]["y"], result.moved_pooled, atol=1e-5)
    assert "At k = 3: the MLP goes from" in all_text(at)


@pytest.mark.slow
def test_learning_rate_one_warns_for_every_model_and_draws_no_nan():
    at = _tab(open_page(PAGE, "zh"), "why", "zh")
    at.button(key=f"{S}.preset_btn.too_fast").click().run()
    assert not at.exception and not at.error
    assert sum("发散" in w.value for w in at.warning) == 3
    for fig in figures(at):
        for trace in fig["data"]:
            for axis in ("x", "y"):
                values = trace.get(axis)
                if isinstance(values, np.ndarray) and values.dtype.kind == "f":
                    assert np.isfinite(values).all()


@pytest.mark.slow
def test_inside_tab_shows_torchs_saliency_of_the_trained_cnn():
    at = _tab(open_page(PAGE, "en", query={f"{S}.digit": "20"}), "inside")
    _ok(at)
    model = ca.train(experiment.gap_config(experiment.settings(), 0)).model()
    img = ca.digits16("test")[0][20:21].clone().requires_grad_(True)
    logits = model(img)
    target = int(logits.argmax())
    (grad,) = torch.autograd.grad(logits[0, target], img)
    explain = _fig(at, "which pixels matter")
    np.testing.assert_allclose(explain["data"][1]["z"], grad[0, 0].abs().numpy(), rtol=1e-4, atol=1e-7)
    assert len(_fig(at, "First-layer filters")["data"]) == 8
    assert len(_fig(at, "Feature maps of every layer")["data"]) == 8 + 8 + 8 + 8 + 8
    se_model = ca.train(experiment.inside_configs(experiment.settings(), 0)[1]).model()
    se = _fig(at, "Channel attention")
    np.testing.assert_allclose(se["data"][1]["y"], ca.se_view(se_model, 20).weights, rtol=1e-5)


@pytest.mark.slow
def test_residual_tab_plots_the_gradient_norms_at_initialisation():
    at = _tab(open_page(PAGE, "en", query={f"{S}.depth": "20"}), "residual")
    _ok(at)
    grads = _fig(at, "Gradient norm")
    np.testing.assert_allclose(grads["data"][0]["y"], ca.layer_grad_norms(20, False), rtol=1e-5)
    np.testing.assert_allclose(grads["data"][1]["y"], ca.layer_grad_norms(20, True), rtol=1e-5)
    assert len(grads["data"][0]["y"]) == 19
    assert "Plain vs residual, 20 layers" in [f["layout"]["title"]["text"] for f in figures(at)]
    steps = _fig(at, "at every training step")                     # log10 norms, (layers, steps), plain then residual
    for trace, residual in zip(steps["data"], (False, True)):
        z = np.asarray(trace["z"], dtype=float)
        assert z.shape == (19, experiment.RES_STEPS)
        np.testing.assert_allclose(z[:, 0], np.log10(ca.layer_grad_norms(20, residual)), atol=1e-5)
    assert "Over the first 20 steps the plain net's largest layer gradient is" in all_text(at)


@pytest.mark.slow
def test_zoo_tab_lists_params_macs_and_receptive_fields():
    at = _tab(open_page(PAGE, "en"), "zoo")
    _ok(at)
    table = at.dataframe[0].value
    assert list(table["Parameters"]) == [ca.n_params(ca.build(m)) for m in experiment.ZOO]
    assert list(table["Receptive field (px)"]) == [ca.receptive_field(m) for m in experiment.ZOO]
    assert len(_fig(at, "The zoo on the digits")["data"]) == 2 * len(experiment.ZOO)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_fine_tuning_sweep_and_zero_examples_message(lang):
    at = _tab(open_page(PAGE, lang), "transfer", lang)
    _ok(at)
    fig = _fig(at, strings(lang)[f"{S}.fig.ft_title"])
    config = ca.FineTuneConfig()
    pre = ca.train(ca.pretrain_config(config)).state
    assert list(fig["data"][0]["x"]) == list(config.shots)
    np.testing.assert_allclose(fig["data"][1]["y"][0], ca.fine_tune("frozen", config.shots[0], pre, config),
                               atol=1e-6)
    at.button(key=f"{S}.preset_btn.no_examples").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [strings(lang)[f"{S}.no_shots"]]
    assert len(figures(at)) == 1                                             # the sweep still shows


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_trained_stn_tab_shows_torchs_warps_and_the_trained_accuracies(lang):
    at = _tab(open_page(PAGE, lang), "stn_trained", lang)
    _ok(at)
    text = strings(lang)
    view = _fig(at, text[f"{S}.fig.stn_view_title"])
    test = ca.distorted_test(60.0, experiment.STN_SHIFT)
    warped = F.grid_sample(test.clean, F.affine_grid(test.theta, list(test.clean.shape), align_corners=False),
                           align_corners=False)
    K = len(experiment.STN_DIGITS)
    for c, i in enumerate(experiment.STN_DIGITS):
        np.testing.assert_allclose(view["data"][c]["z"], test.clean[i, 0].numpy(), atol=1e-6)        # upright
        np.testing.assert_allclose(view["data"][K + c]["z"], warped[i, 0].numpy(), atol=1e-5)         # input U
    stn_cfg, plain_cfg = experiment.stn_configs(experiment.settings(), 0)
    stn = ca.train(stn_cfg).model()
    x = test.x[list(experiment.STN_DIGITS)]
    with torch.no_grad():
        theta = stn[1].loc(x / ca.INPUT_STD).view(-1, 2, 3)
        out = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), align_corners=False)
    for c in range(K):
        np.testing.assert_allclose(view["data"][2 * K + c]["z"], out[c, 0].numpy(), atol=1e-5)      # output V
    np.testing.assert_allclose(view["data"][3 * K]["x"], test.alpha.numpy(), atol=1e-4)            # applied angles
    curves = _fig(at, text[f"{S}.fig.stn_curves"])
    final = [curves["data"][i]["y"][-1] for i in (1, 3)]                  # test accuracy traces: STN, plain
    assert final[0] > final[1]
    caption = f"{100 * final[0]:.1f}%"
    assert caption in all_text(at) and f"{100 * final[1]:.1f}%" in all_text(at)


@pytest.mark.slow
def test_augment_tab_bars_are_the_runs_accuracies_and_the_preset_sets_100_digits():
    at = _tab(open_page(PAGE, "en"), "augment")
    _ok(at)
    fig = _fig(at, "without and with augmentation")
    runs = [ca.train(c) for c in experiment.aug_configs(experiment.settings(), 0)]
    np.testing.assert_allclose(fig["data"][0]["y"], [r.train_acc for r in runs], atol=1e-6)
    np.testing.assert_allclose(fig["data"][1]["y"], [r.final_acc for r in runs], atol=1e-6)
    np.testing.assert_allclose([fig["data"][i]["y"][-1] for i in (2, 3)], [r.final_acc for r in runs], atol=1e-6)
    x, y = ca.digits16("train")
    with torch.no_grad():
        torch_train = float((runs[0].model()(x[:200]).argmax(1) == y[:200]).float().mean())
    assert fig["data"][0]["y"][0] == pytest.approx(torch_train)
    assert fig["data"][1]["y"][1] > fig["data"][1]["y"][0] + 0.2           # augmentation wins on distorted digits
    assert "Both learn from the first 200 training digits" in all_text(at)
    at.button(key=f"{S}.preset_btn.augment_few").click().run()
    _ok(at)
    assert at.session_state[f"{S}.aug_n"] == 100
    assert "Both learn from the first 100 training digits" in all_text(at)


def test_url_reopens_the_stn_distortion_and_refuses_a_bad_number_of_digits():
    at = open_page(PAGE, "en", query={f"{S}.stn_rotation": "90", f"{S}.aug_n": "7"})
    assert not at.exception
    assert at.session_state[f"{S}.stn_rotation"] == 90 and at.session_state[f"{S}.aug_n"] == 200
    assert any(f"{S}.aug_n" in w.value for w in at.warning)
