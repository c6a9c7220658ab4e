"""The CNN-architectures exercises: answers computed by dlcore equal torch and hand-derived values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlcore import cnn_architectures as ca
from ui.exercises import for_lesson
from ui.experiments import cnn_architectures as experiment

ANSWERS = {ex.name: ex for ex in for_lesson("cnn_architectures")}


def test_there_are_eight_exercises_in_guided_order():
    assert list(ANSWERS) == ["zoom", "mlp_params", "shift_winner", "lenet_params", "zero_branch", "grad_spread",
                             "stn_winner", "augment_gap"]


def test_zoom_answer_matches_torchs_sampler():
    v = experiment.settings("zoom_out")
    img = ca.digits16("test")[0][int(v["digit"])]
    theta = torch.tensor([[v["scale"], 0.0, 0.0], [0.0, v["scale"], 0.0]])[None]
    out = F.grid_sample(img[None], F.affine_grid(theta, [1, 1, 16, 16], align_corners=False), align_corners=False)
    expected = "smaller" if int((out > 0.5).sum()) < int((img > 0.5).sum()) else "bigger"
    assert ANSWERS["zoom"].answer() == expected == "smaller"


def test_parameter_answers_are_the_hand_derived_counts():
    hidden = experiment.settings("shift_far")["hidden"]
    assert ANSWERS["mlp_params"].answer() == str(256 * hidden + hidden + hidden * 10 + 10) == "17098"
    torch_mlp = nn.Sequential(nn.Linear(256, hidden), nn.Linear(hidden, 10))
    assert sum(p.numel() for p in torch_mlp.parameters()) == 17098
    assert ANSWERS["lenet_params"].answer() == "61706"
    assert ANSWERS["lenet_params"].grade("61,706".replace(",", "")).correct


def test_zero_branch_answer_is_the_input():
    assert ANSWERS["zero_branch"].answer(seed=3) == "input"
    assert not ANSWERS["zero_branch"].grade("zero").correct


@pytest.mark.slow
def test_shift_winner_is_the_model_with_the_higher_shifted_accuracy():
    v = experiment.settings("shift_far")
    acc = {}
    for config in experiment.why_configs(v, 0):
        if config.model in ("mlp", "cnn_gap"):
            model = ca.train(config).model()
            x, y = ca.digits16("test")
            with torch.no_grad():
                pred = model(torch.roll(x, int(v["shift"]), dims=-1)).argmax(1)   # the margin is blank: no wrap
                acc[config.model] = float((pred == y).float().mean())
    assert ANSWERS["shift_winner"].answer() == max(acc, key=acc.get) == "cnn_gap"


def _torch_accuracy(model, x, y) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


@pytest.mark.slow
def test_stn_winner_is_the_model_more_accurate_on_torch_warped_test_digits():
    v = experiment.settings("stn_rotated")
    stn_cfg, plain_cfg = experiment.stn_configs(v, 0)
    test = ca.distorted_test(float(v["stn_rotation"]), experiment.STN_SHIFT)
    x = F.grid_sample(test.clean, F.affine_grid(test.theta, list(test.clean.shape), align_corners=False),
                      align_corners=False)                                  # the distorted digits, by torch
    acc = {c.model: _torch_accuracy(ca.train(c).model(), x, test.y) for c in (stn_cfg, plain_cfg)}
    assert ANSWERS["stn_winner"].answer() == max(acc, key=acc.get) == "stn"


@pytest.mark.slow
def test_augment_gap_answer_is_the_run_with_the_larger_train_minus_test_accuracy():
    v = experiment.settings("augment_few")
    x, y = ca.digits16("train")
    test = ca.distorted_test(experiment.AUG_ROTATION, experiment.AUG_SHIFT)
    gap = {}
    for name, config in zip(("no_aug", "aug"), experiment.aug_configs(v, 0)):
        model = ca.train(config).model()
        n = int(v["aug_n"])
        gap[name] = _torch_accuracy(model, x[:n], y[:n]) - _torch_accuracy(model, test.x, test.y)
    assert ANSWERS["augment_gap"].answer() == max(gap, key=gap.get) == "no_aug"


@pytest.mark.slow
def test_grad_spread_answer_is_the_net_with_the_wider_spread_of_torch_gradient_norms():
    v = experiment.settings("deep_plain")
    spread = {}
    for kind, config in zip(("plain", "residual"), experiment.residual_configs(v, 0)):
        run = ca.train(config)
        g = run.grad_norms[:20]
        spread[kind] = float(np.median(g.max(1) / g.min(1)))
    g0 = {k: ca.layer_grad_norms(int(v["depth"]), k == "residual") for k in spread}   # step 1: autograd at init
    assert g0["plain"].max() / g0["plain"].min() > g0["residual"].max() / g0["residual"].min()
    assert ANSWERS["grad_spread"].answer() == max(spread, key=spread.get) == "plain"
