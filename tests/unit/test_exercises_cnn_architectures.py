"""The CNN-architectures exercises: answers computed by dlcore equal torch and hand-derived values."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlcore import cnn_architectures as ca
from ui.exercises import for_lesson
from ui.experiments import cnn_architectures as experiment

ANSWERS = {ex.name: ex for ex in for_lesson("cnn_architectures")}


def test_there_are_five_exercises_in_guided_order():
    assert list(ANSWERS) == ["zoom", "mlp_params", "shift_winner", "lenet_params", "zero_branch"]


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
