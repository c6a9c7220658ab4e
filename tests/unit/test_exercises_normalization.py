"""The normalization lesson's exercises: each answer, computed by dlcore on its preset, checked against torch.nn /
F.* run here, a hand-derived value, or the measurement the lesson's claim test makes; and the same for every
sidebar seed 0-4."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dlcore.normalization import lab, training
from ui.exercises import by_id, for_lesson
from ui.experiments import normalization as experiment

SEEDS = range(5)
CHANCE = 0.1


def test_the_guided_path_runs_from_the_axes_to_eval_mode():
    assert [ex.name for ex in for_lesson("normalization")] == ["group_one", "padding", "batch_of_two", "high_lr",
                                                              "eval_early"]


def test_groupnorm_with_one_group_shares_statistics_with_the_whole_sample():
    """torch.nn.GroupNorm(1, C): the picked cell's output depends on exactly the C × S values of its sample."""
    v = experiment.values("group_as_layer")
    n, c, s = v["n_size"], v["c_size"], v["s_size"]
    x = torch.randn(n, c, s, generator=torch.Generator().manual_seed(0), requires_grad=True)
    y = torch.nn.GroupNorm(v["groups"], c)(x)
    (grad,) = torch.autograd.grad(y[v["n"], v["c"], v["s"]], x)
    depends = grad.abs() > 0
    assert int(depends.sum()) == c * s == 54 and depends[v["n"]].all()       # 6 channels x 9 positions
    assert by_id("normalization.group_one").answer() == str(c * s)


def _token_outputs(v: dict, pad: int, seed: int) -> dict[str, float]:
    """torch's BatchNorm over every slot, BatchNorm over the real tokens and LayerNorm: sentence 0, token 0."""
    cfg = experiment.sequence_config(v, seed)
    x, mask = lab.padded_batch(cfg.lengths, cfg.features, max(cfg.lengths) + pad, seed)
    d = cfg.features
    bn = F.batch_norm(x.reshape(-1, d), None, None, training=True).reshape(x.shape)[0, 0]
    masked = F.batch_norm(x[mask], None, None, training=True)[0]              # the first real token: sentence 0
    ln = F.layer_norm(x, (d,))[0, 0]
    return {"bn": float(bn[cfg.feature]), "masked_bn": float(masked[cfg.feature]), "ln": float(ln[cfg.feature])}


@pytest.mark.parametrize("seed", SEEDS)
def test_only_batchnorm_counting_the_padding_moves_when_the_padding_grows(seed):
    v = experiment.values("padded_ln")
    short, long = _token_outputs(v, 0, seed), _token_outputs(v, int(v["extra_pad"]), seed)
    moved = {k for k in short if abs(short[k] - long[k]) > 1e-4}
    assert moved == {"bn"}
    assert by_id("normalization.padding").answer(seed) == "bn"


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_batchnorm_is_the_worst_at_batch_two(seed):
    """The claim test's measurement (test_batchnorm_falls_behind_layernorm_and_groupnorm_at_batch_two...): the
    grid's runs at batch size 2, torch.nn's BatchNorm2d / LayerNorm / GroupNorm trained with torch.optim.SGD."""
    acc = {c.method: float(training.train(c).test_acc[-1])
           for c in experiment.train_configs(experiment.values("batch_of_two"), seed) if c.batch == 2}
    assert acc["batch"] < min(acc["layer"], acc["group"])
    assert by_id("normalization.batch_of_two").answer(seed) == "batch"


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_only_the_network_with_batchnorm_learns_at_learning_rate_two(seed):
    """The claim test's measurement (test_at_learning_rate_two_only_the_network_with_batchnorm_learns...)."""
    for c in experiment.train_configs(experiment.values("high_lr"), seed):
        acc = float(training.train(c).test_acc[-1])
        assert (acc > 0.85) if c.method == "batch" else abs(acc - CHANCE) < 0.05
    assert by_id("normalization.high_lr").answer(seed) == "batch"


@pytest.mark.parametrize("seed", SEEDS)
def test_with_momentum_0_01_eval_mode_never_catches_up_before_the_run_ends(seed):
    """torch.nn.BatchNorm2d(momentum=0.01) chasing a layer that jumped: after the 120 steps from the stop to the end
    of the run, 0.99^120 ≈ 30% of the gap is still there. And the claim test's measurement: the mismatch stays
    above 0.1 from the stop to the end."""
    v = experiment.values("eval_too_early")
    m, stop, steps = float(v["momentum"]), int(v["drift_until"]), int(v["drift_steps"])
    bn = torch.nn.BatchNorm2d(1, momentum=m)
    for _ in range(steps - stop):
        bn(1 + torch.tensor([1.0, -1.0]).repeat(8).reshape(4, 1, 2, 2))   # every batch's mean is 1
    assert abs(float(bn.running_mean) - (1 - (1 - m) ** (steps - stop))) < 1e-5
    assert 1 - float(bn.running_mean) > 0.25
    d = lab.train_eval_drift(experiment.drift_config(v, seed))
    assert d.mismatch[stop - 1:].min() > 0.1
    assert by_id("normalization.eval_early").answer(seed) == "never"


def test_the_answers_are_the_same_for_every_seed():
    for ex in for_lesson("normalization"):
        assert len({ex.answer(seed) for seed in SEEDS}) == 1, ex.id
