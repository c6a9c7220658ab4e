"""dlcore.normalization (layers, lab, training) against torch.nn / torch.nn.functional, hand-derived values and
invariants."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlcore.normalization import lab, training
from dlcore.normalization import layers as norm

TOL = {"atol": 1e-5, "rtol": 1e-5}


def _x(shape, seed=0, mean=0.0, std=1.0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return (mean + std * torch.randn(shape, generator=g, dtype=torch.float64)).to(dtype)


def _affine(C, seed=1):
    g = torch.Generator().manual_seed(seed)
    return 1 + 0.5 * torch.randn(C, generator=g), torch.randn(C, generator=g)


# ---------------------------------------------------------------- the four functions equal torch's

@pytest.mark.parametrize("shape", [(4, 3, 5, 5), (2, 6, 4), (16, 5), (1, 3, 4, 4)])
def test_batch_norm_matches_torch_functional_and_module(shape):
    x = _x(shape)
    gamma, beta = _affine(shape[1])
    ours = norm.batch_norm(x, gamma, beta)
    torch.testing.assert_close(ours, F.batch_norm(x, None, None, gamma, beta, training=True), **TOL)
    if len(shape) == 4:
        bn = nn.BatchNorm2d(shape[1])
        with torch.no_grad():
            bn.weight.copy_(gamma)
            bn.bias.copy_(beta)
        torch.testing.assert_close(ours, bn(x), **TOL)


def test_batch_norm_without_affine_gives_mean_zero_variance_one_per_channel():
    y = norm.batch_norm(_x((8, 4, 3, 3), mean=5.0, std=3.0))
    torch.testing.assert_close(y.mean(dim=(0, 2, 3)), torch.zeros(4), atol=1e-6, rtol=0)
    torch.testing.assert_close(y.var(dim=(0, 2, 3), correction=0), torch.ones(4), atol=1e-4, rtol=0)


@pytest.mark.parametrize("mean,std", [(1e3, 1.0), (1e4, 1e-1), (-3e3, 1e-2), (1e4, 1e-2)])
def test_all_four_match_torch_for_large_mean_and_small_spread(mean, std):
    """A large offset costs float32 digits: x - mu is exact, but mu itself is rounded to ~eps * |mean|.

    Both implementations then land within a few such roundings (in units of the spread) of the float64
    truth computed from the same float32 inputs, and so within that of each other.
    """
    x = _x((4, 8, 6, 6), seed=3, mean=mean, std=std)
    gamma, beta = _affine(8)
    gl, bl = torch.full((8, 6, 6), 1.5), torch.full((8, 6, 6), -0.5)
    bound = 1e-5 + 4 * torch.finfo(torch.float32).eps * abs(mean) / std * float(gamma.abs().max())
    pairs = [(lambda v, gm, bt: norm.batch_norm(v, gm, bt),
              lambda v, gm, bt: F.batch_norm(v, None, None, gm, bt, True)),
             (lambda v, gm, bt: norm.instance_norm(v, gm, bt),
              lambda v, gm, bt: F.instance_norm(v, weight=gm, bias=bt)),
             (lambda v, gm, bt: norm.group_norm(v, 4, gm, bt), lambda v, gm, bt: F.group_norm(v, 4, gm, bt))]
    for ours, ref in pairs:
        truth = ref(x.double(), gamma.double(), beta.double())
        a, b = ours(x, gamma, beta), ref(x, gamma, beta)
        assert float((a.double() - truth).abs().max()) < bound
        assert float((b.double() - truth).abs().max()) < bound
        torch.testing.assert_close(a, b, atol=2 * bound, rtol=0)
    truth = F.layer_norm(x.double(), (8, 6, 6), gl.double(), bl.double())
    a = norm.layer_norm(x, (8, 6, 6), gl, bl)
    assert float((a.double() - truth).abs().max()) < bound
    torch.testing.assert_close(a, F.layer_norm(x, (8, 6, 6), gl, bl), atol=2 * bound, rtol=0)


def test_all_four_match_torch_tightly_for_a_moderate_offset():
    x = _x((4, 8, 6, 6), seed=2, mean=50.0, std=5.0)
    gamma, beta = _affine(8)
    torch.testing.assert_close(norm.batch_norm(x, gamma, beta), F.batch_norm(x, None, None, gamma, beta, True), **TOL)
    torch.testing.assert_close(norm.instance_norm(x, gamma, beta), F.instance_norm(x, weight=gamma, bias=beta), **TOL)
    torch.testing.assert_close(norm.group_norm(x, 2, gamma, beta), F.group_norm(x, 2, gamma, beta), **TOL)
    torch.testing.assert_close(norm.layer_norm(x, (8, 6, 6)), F.layer_norm(x, (8, 6, 6)), **TOL)


def test_layer_norm_matches_torch_on_sequences_and_images():
    x = _x((3, 7, 10), seed=4, mean=2.0)
    g, b = _affine(10)
    torch.testing.assert_close(norm.layer_norm(x, (10,), g, b), nn.functional.layer_norm(x, (10,), g, b), **TOL)
    x4 = _x((2, 3, 4, 4), seed=5)
    ln = nn.LayerNorm([3, 4, 4])
    with torch.no_grad():
        ln.weight.normal_()
        ln.bias.normal_()
    torch.testing.assert_close(norm.layer_norm(x4, (3, 4, 4), ln.weight, ln.bias), ln(x4), **TOL)


def test_layer_norm_of_one_sample_is_the_same_in_any_batch():
    x = _x((5, 4, 3, 3), seed=6)
    alone = norm.layer_norm(x[:1], (4, 3, 3))
    torch.testing.assert_close(norm.layer_norm(x, (4, 3, 3))[:1], alone, atol=0, rtol=0)


@pytest.mark.parametrize("groups", [1, 2, 4, 8])
def test_group_norm_matches_torch_for_every_group_count(groups):
    x = _x((3, 8, 5, 5), seed=7, mean=-1.0, std=2.0)
    gamma, beta = _affine(8)
    gn = nn.GroupNorm(groups, 8)
    with torch.no_grad():
        gn.weight.copy_(gamma)
        gn.bias.copy_(beta)
    torch.testing.assert_close(norm.group_norm(x, groups, gamma, beta), gn(x), **TOL)


def test_group_norm_extremes_are_layer_norm_and_instance_norm():
    x = _x((2, 6, 4, 4), seed=8)
    torch.testing.assert_close(norm.group_norm(x, 1), norm.layer_norm(x, (6, 4, 4)), **TOL)
    torch.testing.assert_close(norm.group_norm(x, 6), norm.instance_norm(x), **TOL)


def test_instance_norm_matches_instance_norm2d_with_affine():
    x = _x((3, 4, 6, 6), seed=9, mean=4.0)
    gamma, beta = _affine(4)
    inn = nn.InstanceNorm2d(4, affine=True)
    with torch.no_grad():
        inn.weight.copy_(gamma)
        inn.bias.copy_(beta)
    torch.testing.assert_close(norm.instance_norm(x, gamma, beta), inn(x), **TOL)


def test_batch_norm_refuses_one_value_per_channel_like_torch():
    x = _x((1, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        norm.batch_norm(x)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(x, None, None, training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        norm.batch_norm(_x((1, 3, 1, 1)))


def test_batch_of_one_conv_batch_norm_is_instance_norm():
    x = _x((1, 4, 5, 5), seed=10)
    torch.testing.assert_close(norm.batch_norm(x), norm.instance_norm(x), **TOL)
    res = lab.batch_of_one(seed=0)
    assert res.conv_bn_minus_in < 1e-5
    assert "more than 1 value per channel" in res.fc_error and "more than 1 value per channel" in res.torch_error


def test_constant_channel_normalizes_to_beta_without_nan():
    x = torch.full((4, 3, 5, 5), 7.0)
    gamma, beta = _affine(3)
    for ours, ref in [(norm.batch_norm(x, gamma, beta), F.batch_norm(x, None, None, gamma, beta, True)),
                      (norm.group_norm(x, 3, gamma, beta), F.group_norm(x, 3, gamma, beta)),
                      (norm.instance_norm(x, gamma, beta), F.instance_norm(x, weight=gamma, bias=beta))]:
        assert torch.isfinite(ours).all()
        torch.testing.assert_close(ours, beta.reshape(1, 3, 1, 1).expand_as(x), atol=0, rtol=0)  # exactly beta
        torch.testing.assert_close(ours, ref, atol=2e-4, rtol=0)   # torch's running-sum mean is off by an ulp


def test_group_norm_rejects_groups_that_do_not_divide_channels():
    with pytest.raises(ValueError, match="divisible"):
        norm.group_norm(_x((2, 6, 3, 3)), 4)


def test_float64_agrees_to_machine_precision():
    x = _x((3, 4, 5, 5), seed=11, dtype=torch.float64)
    torch.testing.assert_close(norm.batch_norm(x), F.batch_norm(x, None, None, training=True), atol=1e-12, rtol=0)
    torch.testing.assert_close(norm.group_norm(x, 2), F.group_norm(x, 2), atol=1e-12, rtol=0)


# ---------------------------------------------------------------- running statistics and eval mode

@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0])
def test_running_stats_and_eval_match_batchnorm2d_over_many_steps(momentum):
    C = 3
    bn = nn.BatchNorm2d(C, momentum=momentum)
    gamma, beta = _affine(C)
    with torch.no_grad():
        bn.weight.copy_(gamma)
        bn.bias.copy_(beta)
    rm, rv = torch.zeros(C), torch.ones(C)
    for step in range(12):
        xb = _x((4, C, 3, 3), seed=100 + step, mean=2.0 + step, std=1.0 + 0.1 * step)
        out = bn(xb)
        torch.testing.assert_close(norm.batch_norm(xb, gamma, beta), out, **TOL)
        rm, rv = norm.update_running_stats(xb, rm, rv, momentum)
    torch.testing.assert_close(rm, bn.running_mean, **TOL)
    torch.testing.assert_close(rv, bn.running_var, **TOL)
    bn.eval()
    xt = _x((5, C, 3, 3), seed=999, mean=8.0)
    with torch.no_grad():
        torch.testing.assert_close(norm.batch_norm_eval(xt, rm, rv, gamma, beta), bn(xt), **TOL)


def test_running_var_stores_the_unbiased_batch_variance():
    xb = torch.tensor([[1.0], [2.0], [3.0], [6.0]])      # (N=4, C=1): mean 3, sum of squares 14
    rm, rv = norm.update_running_stats(xb, torch.zeros(1), torch.zeros(1), momentum=1.0)
    assert float(rm) == pytest.approx(3.0)
    assert float(rv) == pytest.approx(14 / 3)           # divide by M - 1 = 3, not by 4
    running_mean, running_var = torch.zeros(1), torch.zeros(1)
    F.batch_norm(xb, running_mean, running_var, training=True, momentum=1.0)
    assert float(running_var) == pytest.approx(14 / 3)


def test_eval_mode_matches_functional_batch_norm_training_false():
    x = _x((6, 4, 2, 2), seed=12)
    rm, rv = torch.randn(4), torch.rand(4) + 0.5
    torch.testing.assert_close(norm.batch_norm_eval(x, rm, rv), F.batch_norm(x, rm, rv, training=False), **TOL)


# ---------------------------------------------------------------- which elements share statistics

@pytest.mark.parametrize("kind,groups", [("batch", None), ("layer", None), ("instance", None), ("group", 2),
                                         ("group", 3)])
@pytest.mark.parametrize("index", [(0, 0, 0, 0), (2, 4, 1, 2), (1, 5, 2, 0)])
def test_norm_groups_is_exactly_the_set_whose_outputs_move_when_the_element_moves(kind, groups, index):
    """Perturb x at ``index``: torch's output changes exactly on the elements that share its statistics."""
    shape = (3, 6, 3, 3)
    x = _x(shape, seed=13, dtype=torch.float64)
    fn = {"batch": lambda v: F.batch_norm(v, None, None, training=True),
          "layer": lambda v: F.layer_norm(v, shape[1:]),
          "instance": lambda v: F.instance_norm(v),
          "group": lambda v: F.group_norm(v, groups)}[kind]
    x2 = x.clone()
    x2[index] += 0.5
    moved = (fn(x2) - fn(x)).abs() > 1e-9
    mask = norm.norm_groups(kind, shape, index, groups)
    assert torch.equal(moved, mask)


def test_norm_groups_set_sizes_match_the_formulas():
    N, C, H, W = 4, 6, 2, 3
    shape = (N, C, H, W)
    assert int(norm.norm_groups("batch", shape, (1, 2, 0, 0)).sum()) == N * H * W
    assert int(norm.norm_groups("layer", shape, (1, 2, 0, 0)).sum()) == C * H * W
    assert int(norm.norm_groups("instance", shape, (1, 2, 0, 0)).sum()) == H * W
    assert int(norm.norm_groups("group", shape, (1, 2, 0, 0), groups=3).sum()) == C // 3 * H * W
    assert norm.set_count("group", shape, 3) == N * 3 and norm.set_count("batch", shape) == C


def test_norm_groups_works_on_the_3d_cube_and_rejects_bad_index():
    mask = norm.norm_groups("group", (2, 4, 5), (1, 3, 4), groups=2)
    assert mask.shape == (2, 4, 5) and mask[1, 2:].all() and int(mask.sum()) == 10
    with pytest.raises(ValueError, match="^Invalid index"):
        norm.norm_groups("batch", (2, 4, 5), (2, 0, 0))
    with pytest.raises(ValueError, match="^Invalid groups: 3"):
        norm.norm_groups("group", (2, 4, 5), (0, 0, 0), groups=3)
    with pytest.raises(ValueError):
        norm.norm_groups("weight", (2, 4, 5), (0, 0, 0))


@pytest.mark.parametrize("kind", norm.KINDS)
def test_moments_give_the_statistics_each_method_normalizes_with(kind):
    x = _x((3, 4, 5, 5), seed=14, mean=1.0, std=2.0)
    m = norm.moments(kind, x, groups=2)
    y = (x - m.mean[:, :, None, None]) / m.std[:, :, None, None]
    torch.testing.assert_close(y, norm.normalize(kind, x, groups=2), **TOL)
    if kind == "batch":
        assert torch.equal(m.mean[0], m.mean[2])           # one value per channel: columns
    if kind == "layer":
        assert torch.equal(m.mean[:, 0], m.mean[:, 3])     # one value per sample: rows


def test_compare_with_torch_reports_what_torch_functional_gives_and_normalized_sets():
    """The page's check table, recomputed here from torch.nn.functional (not from the table's own numbers): the
    differences it reports, the set counts, and the normalized sets' means and standard deviations."""
    from dlcore.device import generator

    x = lab.conv_activations(16, seed=0)
    N, C, H, W = x.shape
    rows = lab.compare_with_torch(x, groups=4, momentum=0.1, steps=10, seed=0)
    assert [(r.kind, r.mode) for r in rows] == [("batch", "train"), ("batch", "eval"), ("layer", "train"),
                                                 ("instance", "train"), ("group", "train")]
    g = generator(0)
    gamma = 1 + 0.5 * torch.randn(C, generator=g)
    beta = torch.randn(C, generator=g)
    gl, bl = gamma[:, None, None].expand(C, H, W), beta[:, None, None].expand(C, H, W)
    ours = {"batch": norm.batch_norm(x, gamma, beta), "layer": norm.layer_norm(x, (C, H, W), gl, bl),
            "instance": norm.instance_norm(x, gamma, beta), "group": norm.group_norm(x, 4, gamma, beta)}
    torch_says = {"batch": F.batch_norm(x, None, None, gamma, beta, training=True),
                  "layer": F.layer_norm(x, (C, H, W), gl, bl),
                  "instance": F.instance_norm(x, weight=gamma, bias=beta), "group": F.group_norm(x, 4, gamma, beta)}
    plain = {"batch": F.batch_norm(x, None, None, training=True), "layer": F.layer_norm(x, (C, H, W)),
             "instance": F.instance_norm(x), "group": F.group_norm(x, 4)}
    sets = {"batch": x.transpose(0, 1).reshape(C, -1), "layer": x.reshape(N, -1),
            "instance": x.reshape(N * C, -1), "group": x.reshape(N * 4, -1)}
    for r in rows:
        if r.mode != "train":
            continue
        assert r.max_abs_diff == pytest.approx(float((ours[r.kind] - torch_says[r.kind]).abs().max()), abs=1e-7)
        assert r.max_abs_diff < 1e-4
        hat = plain[r.kind].transpose(0, 1).reshape(C, -1) if r.kind == "batch" else \
            plain[r.kind].reshape(sets[r.kind].shape)
        assert r.sets == sets[r.kind].shape[0]                     # 8 channels, 16 samples, 128, 16 x 4 groups
        assert r.max_mean == pytest.approx(float(hat.mean(1).abs().max()), abs=1e-5)
        std = hat.std(1, unbiased=False)
        assert r.std_lo == pytest.approx(float(std.min()), abs=1e-4) and r.std_hi == pytest.approx(float(std.max()),
                                                                                                  abs=1e-4)
    assert [r.sets for r in rows if r.mode == "train"] == [8, 16, 128, 64]


def test_compare_with_torch_handles_a_large_offset():
    x = lab.conv_activations(8, seed=1, shift=1e4)
    rows = lab.compare_with_torch(x, groups=2, seed=1)
    assert all(math.isfinite(r.max_abs_diff) for r in rows)
    assert max(r.max_abs_diff for r in rows) < 0.05


# ---------------------------------------------------------------- experiments

@pytest.mark.parametrize("layer", lab.LAYERS)
def test_batch_noise_spread_follows_one_over_sqrt_batch_size(layer):
    res = lab.batch_noise(lab.NoiseConfig(batch_sizes=(1, 2, 4, 16, 64), repeats=200, layer=layer, seed=0))
    spread = res.batch_means.std(axis=1)
    np.testing.assert_allclose(spread, res.predicted_spread, rtol=0.25)
    assert np.all(np.diff(spread) < 0)
    assert np.all(res.ln_deviation < 1e-5)
    dev = res.bn_deviation
    if layer == "fc":
        assert np.isnan(dev[0])                                   # one value per feature: refused
        assert dev[1] > 0.5 and np.all(np.diff(dev[1:]) < 0)     # batch of 2: every output is +-1
    else:
        assert np.all(np.diff(dev) < 0) and dev[0] > 0.02


@pytest.mark.parametrize(("make", "message"), [
    (lambda: lab.NoiseConfig(batch_sizes=(lab.MAX_BATCH + 1,)), "Invalid batch sizes"),
    (lambda: lab.NoiseConfig(batch_sizes=()), "Invalid batch sizes"),
    (lambda: lab.NoiseConfig(repeats=lab.MAX_REPEATS + 1), "Invalid repeats"),
    (lambda: lab.NoiseConfig(layer="rnn"), "Invalid layer"),
    (lambda: lab.NoiseConfig(channel=lab.CONV_CHANNELS), "Invalid channel"),
    (lambda: lab.DriftConfig(momentum=0.0), "Invalid momentum"),
    (lambda: lab.DriftConfig(momentum=1.5), "Invalid momentum"),
    (lambda: lab.DriftConfig(batch=lab.MAX_BATCH + 1), "Invalid batch"),
    (lambda: lab.DriftConfig(steps=lab.MAX_DRIFT_STEPS + 1), "Invalid steps"),
    (lambda: lab.DriftConfig(drift_until=lab.MAX_DRIFT_STEPS + 1), "Invalid drift_until"),
    (lambda: lab.DriftConfig(channel=-1), "Invalid channel"),
    (lambda: lab.SequenceConfig(lengths=(1,) * (lab.MAX_SEQS + 1)), "Invalid lengths"),
    (lambda: lab.SequenceConfig(lengths=(lab.MAX_SEQ_LEN + 1,)), "Invalid lengths"),
    (lambda: lab.SequenceConfig(lengths=(1,)), "Invalid lengths"),
    (lambda: lab.SequenceConfig(features=lab.MAX_FEATURES + 1), "Invalid features"),
    (lambda: lab.SequenceConfig(features=4, feature=4), "Invalid feature"),
    (lambda: lab.SequenceConfig(extra_pad=lab.MAX_EXTRA_PAD + 1), "Invalid extra_pad"),
    (lambda: lab.affine_view(1.0, 0.0, channel=lab.CONV_CHANNELS), "Invalid channel"),
    (lambda: lab.affine_view(float("nan"), 0.0), "Invalid gamma"),
    (lambda: lab.conv_activations(lab.MAX_BATCH + 1), "Invalid batch size"),
    (lambda: norm.moments("group", torch.zeros(2, 6, 3), groups=4), "Invalid groups"),
])
def test_lab_configs_refuse_over_cap_values_with_a_value_error(make, message):
    # a ValueError naming the setting (an assert would vanish under python -O), the way torch.optim does
    with pytest.raises(ValueError, match=f"^{message}"):
        make()


def test_groups_snap_to_the_largest_divisor_of_the_channels():
    assert norm.divisors(6) == (1, 2, 3, 6) and norm.divisors(8) == (1, 2, 4, 8) and norm.divisors(1) == (1,)
    assert [norm.fit_groups(g, 8) for g in range(1, 9)] == [1, 2, 2, 4, 4, 4, 4, 8]
    assert norm.fit_groups(4, 6) == 3 and norm.fit_groups(12, 6) == 6 and norm.fit_groups(0, 6) == 1
    for C in range(1, 13):
        for g in range(1, 13):
            norm.check_groups(norm.fit_groups(g, C), C)        # always a valid GroupNorm


def test_drift_running_mean_lags_then_catches_up_and_matches_batchnorm2d():
    cfg = lab.DriftConfig(momentum=0.1, batch=16, steps=150, drift_until=60, seed=0)
    d = lab.train_eval_drift(cfg)
    assert d.mismatch[2] > 1.0                               # eval mode right away: running stats still (0, 1)
    assert d.mismatch[-1] < 0.3 * d.mismatch[2]              # long after the drift stopped: caught up
    lag = d.true_mean[50] - d.running_mean[50]
    assert lag > 0                                          # chasing a rising mean from behind
    fast = lab.train_eval_drift(lab.DriftConfig(momentum=0.5, batch=16, steps=150, drift_until=60, seed=0))
    assert abs(fast.true_mean[50] - fast.running_mean[50]) < abs(lag)
    # the same batches through nn.BatchNorm2d give the same running mean
    A = lab._activation_pool("train", 0)[:, :1]
    g = torch.Generator().manual_seed(0)
    bn = nn.BatchNorm2d(1, momentum=0.1)
    mu0, std0 = float(A.mean()), float(A.var(correction=0)) ** 0.5
    for t in range(1, 11):
        s, b = lab.drift_scale_shift(t, 60, std0)
        bn(mu0 + s * (A[torch.randint(len(A), (16,), generator=g)] - mu0) + b)
    assert float(bn.running_mean) == pytest.approx(d.running_mean[9], rel=1e-5)


def test_masked_batch_norm_equals_batch_norm_of_the_real_tokens():
    x, mask = lab.padded_batch((5, 2, 3), 4, 7, seed=0)
    g, b = _affine(4)
    ours = norm.masked_batch_norm(x, mask, g, b)
    ref = F.batch_norm(x[mask], None, None, g, b, training=True)             # (M, D) packed real tokens
    torch.testing.assert_close(ours[mask], ref, **TOL)
    assert torch.equal(ours[~mask], torch.zeros_like(ours[~mask]))


def test_padding_moves_batch_norm_but_not_masked_batch_norm_or_layer_norm():
    res = lab.sequences(lab.SequenceConfig(lengths=(7, 4, 2, 5), features=4, seed=0))
    assert np.ptp(res.sweep["bn"]) > 0.5
    assert np.ptp(res.sweep["masked_bn"]) < 1e-5 and np.ptp(res.sweep["ln"]) < 1e-5
    real = res.x[res.mask]
    np.testing.assert_allclose(res.real_mean, real.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(res.bn_mean, res.x.reshape(-1, 4).mean(axis=0), rtol=1e-5)
    ref = F.layer_norm(torch.from_numpy(res.x), (4,)).numpy()
    np.testing.assert_allclose(res.ln, ref, atol=1e-5)
    assert np.allclose(res.ln[~res.mask], 0)                 # an all-zero padding token: LN gives beta = 0


@pytest.mark.parametrize("text,code", [("", "empty"), ("3, x", "not_int"), ("0, 3", "range"), ("99", "range"),
                                       ("1,1,1,1,1,1,1,1,1", "count"), ("1", "too_few"), ("-2, 3", "not_int")])
def test_parse_lengths_rejects_bad_text_with_a_reason(text, code):
    with pytest.raises(ValueError, match=f"^{code}$"):
        lab.parse_lengths(text)


def test_parse_lengths_accepts_chinese_commas_and_spaces():
    assert lab.parse_lengths(" 7，4, 2 ,5") == (7, 4, 2, 5)


def test_gamma_std_and_beta_mean_give_the_input_back():
    probe = lab.affine_view(1.0, 0.0, channel=2, seed=0)
    back = lab.affine_view(probe.std, probe.mean, channel=2, seed=0)
    np.testing.assert_allclose(back.y, back.x, atol=1e-5)
    assert abs(probe.x_hat.mean()) < 1e-5 and probe.x_hat.std() == pytest.approx(1.0, abs=1e-3)
    shifted = lab.affine_view(1.0, 3.0, channel=2, seed=0)
    assert shifted.kept_y > probe.kept_y                        # beta > 0 lets a ReLU keep more


# ---------------------------------------------------------------- training

def test_small_cnn_uses_the_right_torch_layers():
    kinds = {m: [type(layer).__name__ for layer in training.small_cnn(m)] for m in training.METHODS}
    assert kinds["batch"].count("BatchNorm2d") == 2 and "BatchNorm1d" in kinds["batch"]
    assert kinds["layer"].count("LayerNorm") == 3
    assert kinds["group"].count("GroupNorm") == 3
    assert kinds["instance"].count("InstanceNorm2d") == 2
    assert "BatchNorm2d" not in kinds["none"]


def test_train_is_deterministic_and_learns():
    cfg = training.TrainConfig(method="batch", batch=32, lr=0.1, steps=60, record_every=20, seed=0)
    a, b = training.train(cfg), training.train(cfg)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert list(a.step) == [20, 40, 60]
    assert a.loss[-1] < a.loss[0] and a.test_acc[-1] > 0.5 and a.diverged_at is None


def test_train_reports_divergence_instead_of_raising(monkeypatch):
    monkeypatch.setattr(training, "MAX_LR", 100.0)          # beyond the lesson's cap: this run blows up
    h = training.train(training.TrainConfig(method="group", batch=128, lr=30.0, steps=100, record_every=10, seed=0))
    assert h.diverged_at is not None and 1 <= h.diverged_at <= 100
    assert np.isnan(h.loss[-1]) and np.isnan(h.test_acc[-1])
    assert len(h.step) == len(h.loss) == len(h.test_acc) == 10


def test_train_config_caps():
    for bad in [dict(batch=1), dict(batch=training.MAX_TRAIN_BATCH + 1), dict(steps=training.MAX_TRAIN_STEPS + 1),
                dict(lr=0.0), dict(lr=training.MAX_LR * 2), dict(method="weight"), dict(groups=3),
                dict(steps=10, record_every=20)]:
        with pytest.raises(ValueError, match="^Invalid "):
            training.TrainConfig(**bad)
    assert all(8 % g == 0 and 16 % g == 0 and 32 % g == 0 for g in training.GROUPS)   # every layer of small_cnn


@pytest.mark.parametrize("device", ["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
def test_kernels_and_experiments_run_on_every_available_device(device):
    x = _x((4, 8, 5, 5), seed=20).to(device)
    torch.testing.assert_close(norm.batch_norm(x).cpu(), norm.batch_norm(x.cpu()), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(norm.group_norm(x, 4).cpu(), norm.group_norm(x.cpu(), 4), atol=1e-5, rtol=1e-5)
    rows = lab.compare_with_torch(lab.conv_activations(8, device=device), groups=4, steps=3)
    assert max(r.max_abs_diff for r in rows) < 1e-4
    assert lab.batch_noise(lab.NoiseConfig(batch_sizes=(2, 8), repeats=10), device).bn_deviation.shape == (2,)
    assert len(lab.train_eval_drift(lab.DriftConfig(steps=20), device).step) == 20
    assert lab.sequences(lab.SequenceConfig(), device).x.shape == (4, 7, 4)
    h = training.train(training.TrainConfig("group", 8, 0.1, 20, record_every=10), device)
    assert np.isfinite(h.loss).all()
