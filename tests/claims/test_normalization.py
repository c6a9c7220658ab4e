"""Claim tests of the normalization lesson: each sentence a learner reads about what the lab shows, run through
dlcore on the exact preset or default behind it (``ui.experiments.normalization``), over the sidebar seeds 0-4
(issue 19).

Texts: assets/i18n/<lang>/normalization.toml (``presets.*.note``, ``notice.*``, ``help.*``, ``set_note.*``) and
assets/lessons/<lang>/normalization.md; the English sentence is quoted in each docstring.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from dlcore import data
from dlcore.normalization import lab, training
from dlcore.normalization import layers as norm
from ui.experiments import normalization as experiment

SEEDS = range(5)   # the sidebar's global seed: 0 by default, any other a learner may pick
CHANCE = 0.1       # ten digit classes


@functools.cache
def trained(config: training.TrainConfig) -> training.TrainHistory:
    """One run of the training grid; runs shared by several claims are trained once."""
    return training.train(config, "cpu")


def grid(preset: str | None, seed: int, **override) -> dict[tuple[str, int], training.TrainHistory]:
    """The train tab's grid for ``preset`` (settings in ``override`` changed), by (method, batch size)."""
    v = experiment.values(preset) | override
    return {(c.method, c.batch): trained(c) for c in experiment.train_configs(v, seed)}


def accuracy(run: training.TrainHistory) -> float:
    return float(run.test_acc[-1])


# ---- the training tab ---------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_at_learning_rate_two_only_the_network_with_batchnorm_learns_at_both_batch_sizes(seed):
    """presets.high_lr.note: "At learning rate 2 the network without normalization stops learning at both batch
    sizes: its test accuracy stays at chance, 10%. With BatchNorm it still trains well, to about 90% or more."
    Also normalization.md ("at learning rate 2 the network without normalization stops learning while the one with
    BatchNorm still trains") and the "stalled" warning ("test accuracy near chance, 10%"). Issue 19: at the old
    learning rate 1 the network without normalization reached 94% at batch 128."""
    runs = grid("high_lr", seed)
    assert {b for _, b in runs} == {16, 128}
    for b in (16, 128):
        assert runs["none", b].diverged_at is None and abs(accuracy(runs["none", b]) - CHANCE) < 0.05
        assert accuracy(runs["batch", b]) > 0.85


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_default_grid_at_learning_rate_two_stops_the_network_without_normalization_at_every_batch_size(seed):
    """notice.train: "Try learning rate 2 (the network without normalization stops learning) [...]" on the default
    grid (batch sizes 2, 16 and 128)."""
    batches = experiment.values()["batches"]
    for b in batches:
        config = training.TrainConfig("none", b, 2.0, int(experiment.values()["steps"]),
                                      int(experiment.values()["train_groups"]), seed=seed)
        assert abs(accuracy(trained(config)) - CHANCE) < 0.05


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_batchnorm_falls_behind_layernorm_and_groupnorm_at_batch_two_and_catches_up_at_sixteen(seed):
    """presets.batch_of_two.note: "BN falls behind LayerNorm and GroupNorm at batch size 2 and catches up at 16."
    notice.train: "[try] batch size 2 (BatchNorm falls behind LayerNorm and GroupNorm)"; normalization.md: "GroupNorm
    is the choice for CNNs trained with tiny batches"."""
    runs = grid("batch_of_two", seed)
    assert accuracy(runs["batch", 2]) < min(accuracy(runs["layer", 2]), accuracy(runs["group", 2]))
    assert accuracy(runs["batch", 16]) > max(accuracy(runs["layer", 16]), accuracy(runs["group", 16])) - 0.03


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_of_two_makes_the_fully_connected_batchnorm_output_plus_and_minus_one(seed):
    """presets.batch_of_two.note: "With two samples, the fully-connected BatchNorm layer outputs +1 for one sample and
    −1 for the other in every feature (a little less only where the two are nearly equal)." normalization.md: "with
    B = 2 the two normalized values are always ±1 (up to ε)". The preset's own network, on two random digits."""
    model = training.small_cnn("batch", int(experiment.values("batch_of_two")["train_groups"]), seed=seed)
    x, _ = data.digits("train")
    h = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:2]]
    with torch.no_grad():
        for layer in model[:8]:                               # up to the fully-connected layer
            h = layer(h)
        y = model[8](h)                                       # its BatchNorm1d, in training mode
    assert isinstance(model[8], torch.nn.BatchNorm1d) and y.shape == (2, 32)
    torch.testing.assert_close(y[0], -y[1], atol=1e-4, rtol=0)
    assert y.abs().median() > 0.999 and (y.abs() > 0.9).float().mean() >= 0.9
    d = (h[0] - h[1]).abs() / 2                               # |y| = d / √(d² + ε): below 1 only where d is tiny
    torch.testing.assert_close(y[0].abs(), d / torch.sqrt(d**2 + model[8].eps), atol=1e-4, rtol=0)


def test_each_training_run_is_the_same_for_everyone():
    """notice.train: "Each curve is one run (seeded, the same for everyone)." Two runs of one default config."""
    config = training.TrainConfig("batch", 16, 0.1, 40, 4, seed=3)
    a, b = training.train(config), training.train(config)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.test_acc, b.test_acc)


# ---- batch size and eval mode ---------------------------------------------------------------------------------

@functools.cache
def noise(layer: str, seed: int) -> lab.BatchNoise:
    return lab.batch_noise(experiment.noise_config(experiment.values() | {"layer": layer}, seed))


@pytest.mark.parametrize("seed", SEEDS)
def test_fully_connected_batchnorm_refuses_a_batch_of_one_and_layernorm_never_moves(seed):
    """notice.noise_fc: "With B = 1 there is nothing to average: BN refuses. LayerNorm's line stays at 0."
    notice.noise_conv: "LayerNorm's line stays at 0." normalization.md: "LayerNorm, InstanceNorm and GroupNorm compute
    everything inside one sample, so they behave the same at any batch size"."""
    fc, conv = noise("fc", seed), noise("conv", seed)
    assert fc.batch_sizes[0] == 1 and np.isnan(fc.bn_deviation[0]) and not np.isnan(fc.bn_deviation[1:]).any()
    assert np.abs(fc.ln_deviation).max() < 1e-5 and np.abs(conv.ln_deviation).max() < 1e-5


@pytest.mark.parametrize("seed", SEEDS)
def test_two_normalized_values_are_always_plus_and_minus_one(seed):
    """notice.noise_fc: "With B = 2 the two normalized values are always +1 and −1 whatever the inputs (a little less
    only where the two are nearly equal, because of ε)". Random inputs as wide as the lab's fully-connected layer."""
    x = 3 * torch.randn(2, 32, generator=torch.Generator().manual_seed(seed)) + 5
    y = norm.batch_norm(x)
    apart = (x[0] - x[1]).abs() > 0.1
    torch.testing.assert_close(y[0], -y[1], atol=1e-4, rtol=0)
    assert (y.abs() <= 1 + 1e-6).all()
    assert torch.allclose(y[:, apart].abs(), torch.ones_like(y[:, apart]), atol=1e-3)
    d = (x[0] - x[1]).abs() / 2                                 # |y| = d / √(d² + ε): below 1 only for tiny d
    torch.testing.assert_close(y[0].abs(), d / torch.sqrt(d**2 + norm.EPS), atol=1e-4, rtol=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_mean_spread_shrinks_like_one_over_sqrt_b_and_conv_statistics_are_far_steadier(seed):
    """notice.noise_conv: "each sample brings 64 positions per channel, so even small batches give fairly stable
    statistics [...] The spread of the batch mean still shrinks like 1/√B, the dotted band." normalization.md: "A batch
    mean of B samples wanders around the true mean with standard deviation ∝ 1/√B"."""
    for layer in ("fc", "conv"):
        r = noise(layer, seed)
        ratio = r.batch_means.std(axis=1) / r.predicted_spread
        assert ((0.7 < ratio) & (ratio < 1.35)).all()
    assert noise("conv", seed).bn_deviation[1] < noise("fc", seed).bn_deviation[1] / 5     # B = 2


def test_a_batch_of_one_is_instance_norm_on_a_conv_layer_and_refused_on_a_fully_connected_one():
    """notice.batch_of_one: "On a convolutional layer, BatchNorm with one image averages over its positions only:
    that is InstanceNorm [...] On a fully-connected layer [...] both our `batch_norm` and PyTorch refuse"."""
    one = lab.batch_of_one(0)
    assert one.conv_bn_minus_in < 1e-5 and one.fc_error and one.torch_error


@functools.cache
def drift(preset: str | None, seed: int, **override) -> lab.Drift:
    return lab.train_eval_drift(experiment.drift_config(experiment.values(preset) | override, seed))


@pytest.mark.parametrize("seed", SEEDS)
def test_small_momentum_closes_two_thirds_of_the_gap_per_100_steps_and_eval_mode_stays_off(seed):
    """presets.eval_too_early.note: "Momentum 0.01: [...] they close about two thirds of their gap to the layer every
    100 steps. When the layer stops moving at step 80, eval mode still changes the outputs by about 0.5 to 1 (RMS),
    and at step 200 by more than 0.1; with the default momentum 0.1 the mismatch is below 0.1 ten steps after the
    layer stops." """
    d = drift("eval_too_early", seed)
    stop = int(experiment.values("eval_too_early")["drift_until"])
    for running, true in ((d.running_mean, d.true_mean), (d.running_var, d.true_var)):
        gap = np.abs(running - true)
        assert 0.3 < gap[stop + 99] / gap[stop - 1] < 0.45                  # e⁻¹ ≈ 0.37 per 100 steps
    assert 0.4 < d.mismatch[stop - 1] < 1.2
    assert len(d.mismatch) == 200 and d.mismatch[stop - 1:].min() > 0.1
    assert drift("eval_too_early", seed, momentum=0.1).mismatch[stop + 9:].max() < 0.1


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_running_statistics_trail_the_moving_layer_by_one_minus_m_over_m_steps(seed, momentum):
    """notice.drift: "With momentum {m} they trail the true statistics by about {lag} steps while the layer moves",
    lag = round((1 − m)/m). Measured on the default drift (the layer moves until step 60) at step 50."""
    d = drift(None, seed, momentum=momentum)
    t = 50
    lag = int(np.argmin([abs(d.running_mean[t - 1] - d.true_mean[t - 1 - k]) for k in range(40)]))
    assert abs(lag - round((1 - momentum) / momentum)) <= 1


@pytest.mark.parametrize("seed", SEEDS)
def test_at_step_one_the_running_statistics_are_still_near_their_starting_values(seed):
    """notice.drift: "At step 1 eval mode would change the outputs by {first:.2f} [...]: the running statistics still
    hold PyTorch's starting values 0 and 1." normalization.md: "The running values start at 0 and 1"."""
    d = drift(None, seed)
    v = experiment.values()
    m, M = float(v["momentum"]), int(v["drift_batch"]) * 64               # 8 x 8 positions per image
    assert d.running_mean[0] == pytest.approx(m * d.batch_mean[0], rel=1e-4)          # 90% still the start, 0
    assert d.running_var[0] == pytest.approx((1 - m) + m * d.batch_var[0] * M / (M - 1), rel=1e-4)   # and 1
    assert d.mismatch[0] > 0.3                                         # eval mode this early changes the outputs
    bn = torch.nn.BatchNorm2d(1)
    assert bn.momentum == m and bn.running_mean.item() == 0 and bn.running_var.item() == 1


def test_the_running_variance_is_the_unbiased_one():
    """normalization.md: "ŝ² ← (1 − m) ŝ² + m · M/(M − 1) · σ_B² [...] the stored variance is the unbiased one"."""
    x = lab.conv_activations(4, 0)
    rm, rv = norm.update_running_stats(x, torch.zeros(8), torch.ones(8), 1.0)
    bn = torch.nn.BatchNorm2d(8, momentum=1.0)
    bn(x)
    torch.testing.assert_close(rv, bn.running_var)
    torch.testing.assert_close(rv, x.transpose(0, 1).reshape(8, -1).var(dim=1, correction=1))


def test_drift_until_moves_the_layer_up_and_apart_then_holds_it():
    """help.drift_until: "Here its mean rises and its spread grows until this step, then stays put." """
    d = drift(None, 0)
    until = int(experiment.values()["drift_until"])
    assert np.all(np.diff(d.true_mean[:until]) > 0) and np.all(np.diff(d.true_var[:until]) > 0)
    assert np.ptp(d.true_mean[until - 1:]) == 0 and np.ptp(d.true_var[until - 1:]) == 0


# ---- which values share statistics ------------------------------------------------------------------------------

def test_groupnorm_with_one_group_is_layernorm_and_with_c_groups_instancenorm():
    """presets.group_as_layer.note: "One group holds every channel of a sample: the blue set is the same as
    LayerNorm's. Slide G up to C and it becomes InstanceNorm." set_note.group: "G = 1 is LayerNorm, G = C is
    InstanceNorm." On the preset's cube and cell, and on real activations."""
    v = experiment.values("group_as_layer")
    shape, index = (v["n_size"], v["c_size"], v["s_size"]), (v["n"], v["c"], v["s"])
    assert torch.equal(norm.norm_groups("group", shape, index, v["groups"]), norm.norm_groups("layer", shape, index))
    assert torch.equal(norm.norm_groups("group", shape, index, v["c_size"]), norm.norm_groups("instance", shape, index))
    x = lab.conv_activations(4, 0)
    torch.testing.assert_close(norm.group_norm(x, 1), norm.layer_norm(x, tuple(x.shape[1:])))
    torch.testing.assert_close(norm.group_norm(x, x.shape[1]), norm.instance_norm(x))


def test_only_batchnorm_depends_on_the_rest_of_the_batch():
    """notice.overall: "BatchNorm is the only one whose output depends on the rest of the batch". Sample 0's output
    with two different sets of batch-mates."""
    x = lab.conv_activations(8, 0)
    other = torch.cat([x[:1], lab.conv_activations(8, 1)[1:]])
    for kind in norm.KINDS:
        a, b = norm.normalize(kind, x, groups=4)[0], norm.normalize(kind, other, groups=4)[0]
        assert torch.allclose(a, b, atol=1e-6) == (kind != "batch")


@pytest.mark.parametrize("seed", SEEDS)
def test_check_table_sets_have_mean_zero_and_std_just_below_one_and_match_torch(seed):
    """notice.check: "Each set of x̂ has mean ≈ 0 and standard deviation ≈ 1 (slightly below 1 because of ε)". On the
    default real batch (16 digits, offset 0, G = 4)."""
    v = experiment.values()
    rows = lab.compare_with_torch(lab.conv_activations(v["real_n"], seed, v["shift"]), v["real_groups"], seed=seed)
    assert max(r.max_abs_diff for r in rows) < 1e-4
    train = [r for r in rows if r.mode == "train"]
    assert max(r.max_mean for r in train) < 1e-4
    assert all(0.999 < r.std_lo <= r.std_hi < 1 for r in train)


def test_an_offset_of_ten_thousand_costs_float32_digits_but_both_implementations_round_alike():
    """help.shift: "In float32, an offset of 10⁴ leaves only a few digits for the spread, and both implementations
    round alike." """
    diff = {}
    for shift in (0.0, 10000.0):
        x = lab.conv_activations(16, 0, shift)
        diff[shift] = max(r.max_abs_diff for r in lab.compare_with_torch(x, 4, seed=0))
    assert diff[10000.0] > 100 * diff[0.0] and diff[10000.0] < 0.05


def test_moment_maps_give_columns_for_batchnorm_rows_for_layernorm_and_blocks_for_groupnorm():
    """notice.check: "BatchNorm gives one value per column (channel), LayerNorm one per row (sample), InstanceNorm one
    per cell, GroupNorm blocks." normalization.md: "BN's channel mean divides by N · H · W, not by N"."""
    v = experiment.values()
    x = lab.conv_activations(v["real_n"], 0)
    bn = norm.moments("batch", x).mean
    torch.testing.assert_close(bn[0], x.mean(dim=(0, 2, 3)))
    assert torch.equal(bn, bn[:1].expand_as(bn))
    ln = norm.moments("layer", x).mean
    assert torch.equal(ln, ln[:, :1].expand_as(ln))
    g = int(v["real_groups"])
    gn = norm.moments("group", x, g).mean.reshape(len(x), g, -1)
    assert torch.equal(gn, gn[..., :1].expand_as(gn)) and not torch.equal(gn[:, :1], gn[:, 1:2])
    inst = norm.moments("instance", x).mean
    assert len(torch.unique(inst)) > inst.numel() // 2


# ---- padded sequences -------------------------------------------------------------------------------------------

def test_padding_drags_batchnorm_toward_zero_and_leaves_layernorm_unchanged():
    """presets.padded_ln.note: "One long sentence forces heavy padding on the short ones. BatchNorm's mean is dragged
    toward 0; LayerNorm's outputs do not change." notice.sequences: "Add padding and the real tokens' outputs move."
    normalization.md: "a sentence's output depends on how long the other sentences are. LN works per token"."""
    v = experiment.values("padded_ln")
    sq = lab.sequences(experiment.sequence_config(v, 0))
    assert (~sq.mask).sum() > sq.mask.sum()                                  # heavy padding
    assert np.all(np.abs(sq.bn_mean) < np.abs(sq.real_mean))
    assert np.ptp(sq.sweep["ln"]) < 1e-6 and np.ptp(sq.sweep["masked_bn"]) < 1e-6 and np.ptp(sq.sweep["bn"]) > 0.3
    unpadded = lab.sequences(experiment.sequence_config(v | {"extra_pad": 0}, 0))
    T = unpadded.ln.shape[1]
    np.testing.assert_allclose(sq.ln[:, :T][sq.mask[:, :T]], unpadded.ln[unpadded.mask], atol=1e-6)


def test_layernorm_turns_a_padding_token_of_zeros_into_beta():
    """notice.sequences: "LayerNorm normalizes each token over its own D features [...] (a padding token of zeros
    becomes β = 0)." """
    sq = lab.sequences(experiment.sequence_config(experiment.values(), 0))
    assert np.abs(sq.ln[~sq.mask]).max() == 0


# ---- gamma and beta ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("channel", range(8))
def test_gamma_sigma_and_beta_mu_give_the_input_back_and_relu_keeps_about_half_of_x_hat(channel):
    """notice.affine: "With γ = σ and β = μ, y is the input again". normalization.md: "a ReLU after a standardized
    channel always keeps about half of it" and "with γ = √(σ² + ε) and β = μ the layer returns its input unchanged"."""
    a = lab.affine_view(1.0, 0.0, channel)
    assert 0.35 < a.kept_y < 0.65
    back = lab.affine_view(a.std, a.mean, channel)
    np.testing.assert_allclose(back.y, back.x, atol=1e-5)
