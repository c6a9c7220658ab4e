"""dlcore.cnn_architectures against independent references: LeNet-5's published parameter count derived by hand, the
residual block against its definition, the hand-written spatial transformer against F.affine_grid / F.grid_sample,
MACs against torch's FLOP counter, receptive fields derived by hand, saliency and occlusion against what they mean."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from dlcore import cnn_architectures as ca
from dlcore.device import generator


def _rand(*shape, seed=0, dtype=torch.float64):
    return torch.rand(*shape, generator=generator(seed), dtype=dtype)


# ---- LeNet-5 -------------------------------------------------------------------------------------------------

def test_lenet5_has_the_published_61706_parameters_derived_layer_by_layer():
    conv = lambda c_in, c_out, k: c_out * (c_in * k * k + 1)     # weights + one bias per output channel
    fc = lambda n_in, n_out: n_out * (n_in + 1)
    derived = conv(1, 6, 5) + conv(6, 16, 5) + fc(16 * 5 * 5, 120) + fc(120, 84) + fc(84, 10)
    assert derived == 61_706
    model = ca.lenet5()
    assert sum(p.numel() for p in model.parameters()) == derived == ca.n_params(model)


def test_lenet5_has_6_and_16_channels_120_84_10_and_reads_a_padded_28x28_or_a_32x32_image():
    model = ca.lenet5()
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    fcs = [m for m in model if isinstance(m, nn.Linear)]
    assert [c.out_channels for c in convs] == [6, 16] and all(c.kernel_size == (5, 5) for c in convs)
    assert [f.out_features for f in fcs] == [120, 84, 10]
    assert sum(isinstance(m, nn.Sigmoid) for m in model) == 4 and sum(isinstance(m, nn.AvgPool2d) for m in model) == 2
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    # padding 2 on 28 x 28 is the classic unpadded 32 x 32: the same feature map after C1
    x = _rand(1, 1, 28, 28, dtype=torch.float32)
    padded = F.conv2d(F.pad(x, (2, 2, 2, 2)), convs[0].weight, convs[0].bias)
    torch.testing.assert_close(model[0](x), padded, rtol=1e-5, atol=1e-6)


# ---- the residual block --------------------------------------------------------------------------------------

@pytest.mark.parametrize("train_mode", [True, False])
def test_residual_block_with_zeroed_branch_returns_its_non_negative_input(train_mode):
    block = ca.residual_block(6).train(train_mode)
    with torch.no_grad():
        for p in block.branch.parameters():
            p.zero_()
    x = _rand(4, 6, 7, 7, dtype=torch.float32) * 5
    assert torch.equal(block(x), x)


def test_residual_block_zeroing_all_its_weights_is_the_same_as_zeroing_the_branch():
    block = ca.residual_block(3)
    assert sum(p.numel() for p in block.parameters()) == sum(p.numel() for p in block.branch.parameters())
    with torch.no_grad():
        for p in block.parameters():
            p.zero_()
    x = _rand(2, 3, 5, 5, dtype=torch.float32)
    assert torch.equal(block.eval()(x), x)


def test_residual_block_computes_relu_of_branch_plus_input_with_torch_layers():
    block = ca.residual_block(4).eval()
    conv1, bn1, _, conv2, bn2 = block.branch
    with torch.no_grad():
        for bn in (bn1, bn2):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 4, 6, 6, generator=generator(1))
    f = bn2(conv2(torch.relu(bn1(conv1(x)))))
    torch.testing.assert_close(block(x), torch.relu(f + x))


def test_residual_block_refuses_a_bad_channel_count():
    for bad in (0, -1, 513):
        with pytest.raises(ValueError, match="channels"):
            ca.residual_block(bad)


# ---- the spatial transformer ---------------------------------------------------------------------------------

@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_torch(align_corners):
    theta = torch.randn(3, 2, 3, generator=generator(2), dtype=torch.float64)
    ours = ca.affine_grid(theta, (3, 2, 5, 7), align_corners)
    torch.testing.assert_close(ours, F.affine_grid(theta, [3, 2, 5, 7], align_corners=align_corners))


@pytest.mark.filterwarnings("ignore:Since version 1.3.0")   # torch's note on a one-row grid with align_corners
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("out_size", [None, (5, 6), (1, 9)])
def test_affine_sample_matches_grid_sample_of_affine_grid(align_corners, out_size):
    x = torch.randn(3, 2, 7, 9, generator=generator(3), dtype=torch.float64)
    theta = torch.randn(3, 2, 3, generator=generator(4), dtype=torch.float64)   # large: many samples fall outside
    size = [3, 2, *(out_size or (7, 9))]
    ref = F.grid_sample(x, F.affine_grid(theta, size, align_corners=align_corners), mode="bilinear",
                        padding_mode="zeros", align_corners=align_corners)
    torch.testing.assert_close(ca.affine_sample(x, theta, align_corners, out_size=out_size), ref,
                               rtol=1e-12, atol=1e-12)


def test_affine_sample_with_the_sliders_theta_matches_torch_on_a_digit():
    img = ca.digits16("test")[0][7]                        # (1, 16, 16)
    theta = ca.theta_from(rotation=30, scale=1.3, shear=0.4, tx=0.2, ty=-0.3)
    ref = F.grid_sample(img[None], F.affine_grid(theta[None], [1, 1, 16, 16], align_corners=False),
                        align_corners=False)[0]
    torch.testing.assert_close(ca.affine_sample(img, theta), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(16, 16), (3, 5, 8), (2, 1, 6, 6)])
@pytest.mark.parametrize("align_corners", [False, True])
def test_identity_theta_returns_the_image(shape, align_corners):
    x = _rand(*shape)
    n = shape[0] if len(shape) == 4 else 1
    eye = torch.eye(2, 3, dtype=torch.float64).expand(n, 2, 3)
    torch.testing.assert_close(ca.affine_sample(x, eye if n > 1 else eye[0], align_corners), x,
                               rtol=0, atol=1e-12)


def test_a_translation_of_two_over_w_moves_the_picture_one_pixel_left():
    x = _rand(1, 1, 8, 8)
    theta = torch.tensor([[1.0, 0.0, 2 / 8], [0.0, 1.0, 0.0]], dtype=torch.float64)
    out = ca.affine_sample(x, theta)
    torch.testing.assert_close(out, ca.shift(x, -1), rtol=0, atol=1e-12)   # theta moves the grid: picture goes left


def test_a_theta_that_samples_far_outside_gives_zeros():
    x = _rand(1, 2, 6, 6)
    theta = torch.tensor([[1.0, 0.0, 5.0], [0.0, 1.0, 5.0]], dtype=torch.float64)
    assert torch.equal(ca.affine_sample(x, theta), torch.zeros_like(x))


def test_the_sampler_has_torchs_gradient_with_respect_to_theta_and_image():
    x = torch.randn(2, 1, 6, 6, generator=generator(5), dtype=torch.float64, requires_grad=True)
    theta = (torch.eye(2, 3, dtype=torch.float64) + 0.2 * torch.randn(2, 2, 3, generator=generator(6),
                                                                      dtype=torch.float64)).requires_grad_(True)
    w = torch.randn(2, 1, 6, 6, generator=generator(7), dtype=torch.float64)
    ours = torch.autograd.grad((ca.affine_sample(x, theta) * w).sum(), (x, theta))
    ref = torch.autograd.grad((F.grid_sample(x, F.affine_grid(theta, [2, 1, 6, 6], align_corners=False),
                                             align_corners=False) * w).sum(), (x, theta))
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_theta_from_builds_rotation_scale_shear_and_translation():
    torch.testing.assert_close(ca.theta_from(), torch.eye(2, 3))
    torch.testing.assert_close(ca.theta_from(rotation=90), torch.tensor([[0.0, -1, 0], [1, 0, 0]]), atol=1e-7, rtol=0)
    torch.testing.assert_close(ca.theta_from(scale=2, shear=0.5, tx=0.3, ty=-0.1),
                               torch.tensor([[2.0, 1.0, 0.3], [0.0, 2.0, -0.1]]))
    for kwargs in ({"scale": 0.0}, {"rotation": 400}, {"shear": float("nan")}, {"tx": 3}):
        with pytest.raises(ValueError, match="Invalid"):
            ca.theta_from(**kwargs)


def test_pixel_grid_of_the_identity_is_the_pixel_centres():
    g = ca.pixel_grid(torch.eye(2, 3), 4, 5)
    cols, rows = np.meshgrid(np.arange(5), np.arange(4))
    np.testing.assert_allclose(g[..., 0].numpy(), cols, atol=1e-6)
    np.testing.assert_allclose(g[..., 1].numpy(), rows, atol=1e-6)


def test_transform_digit_refuses_bad_input():
    with pytest.raises(ValueError, match="digit index"):
        ca.transform_digit(360, torch.eye(2, 3))
    with pytest.raises(ValueError, match="theta"):
        ca.transform_digit(0, torch.full((2, 3), float("inf")))
    with pytest.raises(ValueError, match="image shape"):
        ca.affine_sample(torch.zeros(5), torch.eye(2, 3))


# ---- data and shifts -----------------------------------------------------------------------------------------

def test_the_canvas_centres_each_8x8_digit_with_a_4_pixel_margin():
    x8, y8 = __import__("dlcore.data", fromlist=["digits"]).digits("test")
    x, y = ca.digits16("test")
    assert x.shape == (360, 1, 16, 16) and torch.equal(y, y8)
    assert torch.equal(x[..., 4:12, 4:12], x8) and float(x.sum()) == pytest.approx(float(x8.sum()))


@pytest.mark.parametrize("dx,dy", [(3, 0), (-2, 1), (0, -4), (4, 4)])
def test_shift_equals_a_roll_with_the_wrapped_pixels_zeroed(dx, dy):
    x = _rand(2, 1, 9, 9)
    rolled = torch.roll(x, shifts=(dy, dx), dims=(-2, -1))
    if dx > 0:
        rolled[..., :, :dx] = 0
    elif dx < 0:
        rolled[..., :, dx:] = 0
    if dy > 0:
        rolled[..., :dy, :] = 0
    elif dy < 0:
        rolled[..., dy:, :] = 0
    assert torch.equal(ca.shift(x, dx, dy), rolled)
    assert torch.equal(ca.shift(x, 9), torch.zeros_like(x))


def test_a_shift_up_to_the_margin_keeps_every_test_digits_ink():
    x, _ = ca.digits16("test")
    for k in (-4, 4):
        torch.testing.assert_close(ca.shift(x, k, k).sum((1, 2, 3)), x.sum((1, 2, 3)))


# ---- counting ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [*ca.MODELS, "cnn_se", *ca.ZOO, "plain8", "residual20"])
def test_macs_equal_half_of_torchs_flop_count(name):
    model = ca.build(name).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 1, 16, 16))
    assert ca.macs(model) == counter.get_total_flops() // 2


def test_parameter_counts_of_the_mlp_and_the_small_cnn_derived_by_hand():
    assert ca.n_params(ca.build("mlp", hidden=64)) == 256 * 64 + 64 + 64 * 10 + 10
    w = 8
    convs = (1 * 9 + 1) * w + (w * 9 + 1) * 2 * w + (2 * w * 9 + 1) * 4 * w
    assert ca.n_params(ca.build("cnn_gap", width=w)) == convs + 4 * w * 10 + 10
    assert ca.n_params(ca.build("cnn_flat", width=w)) == convs + 4 * w * 16 * 10 + 10


def test_receptive_fields_derived_by_hand():
    # r_l = r_{l-1} + (k_l - 1) j_{l-1}, j_l = j_{l-1} s_l
    assert ca.receptive_field("cnn_gap") == 1 + 2 + 1 + 2 * 2 + 2 * 1 + 4 * 2           # 18
    assert ca.receptive_field("vgg") == 1 + 2 + 2 + 1 + 2 * 2 + 2 * 2 + 2 * 1           # 16
    assert ca.receptive_field("lenet") == 1 + 4 + 1 + 2 * 4 + 2 * 1                     # 16
    assert ca.receptive_field("inception") == 1 + 2 + 1 + 2 * 4 + 2 * 1                 # 3x3, pool, 5x5 path, pool


# ---- training ------------------------------------------------------------------------------------------------

def test_training_is_deterministic_and_learns():
    config = ca.TrainConfig(model="mlp", steps=60, record_every=20)
    a, b = ca.train(config), ca.train(config)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.test_acc, b.test_acc)
    assert list(a.step) == [20, 40, 60] and a.diverged_at is None
    assert a.loss[-1] < a.loss[0] and a.final_acc > 0.7
    assert ca.accuracy(a.model(), *ca.digits16("test")) == pytest.approx(a.final_acc)


def test_a_diverging_run_stops_and_reports_no_nan():
    r = ca.train(ca.TrainConfig(model="cnn_gap", steps=100, lr=1.0, record_every=5))
    assert r.diverged_at is not None and r.diverged_at <= 100
    assert np.isfinite(r.loss).all() and np.isfinite(r.test_acc).all()
    assert len(r.step) == len(r.loss) == len(r.test_acc) and (r.step < r.diverged_at).all()


@pytest.mark.parametrize("kwargs", [{"model": "resnet152"}, {"steps": 0}, {"steps": ca.MAX_STEPS + 1},
                                    {"batch": 1}, {"lr": 0.0}, {"lr": 2.0}, {"lr": math.nan}, {"width": 33},
                                    {"hidden": 0}, {"optimizer": "lbfgs"}, {"record_every": 1000}])
def test_train_config_refuses_values_outside_the_caps(kwargs):
    with pytest.raises(ValueError, match="Invalid"):
        ca.TrainConfig(**kwargs)


def test_sgd_is_torchs_sgd_step():
    config = ca.TrainConfig(model="mlp", steps=1, record_every=1, optimizer="sgd", lr=0.1)
    trained = ca.train(config).state
    model = ca.make_model(config)
    x, y = ca.digits16("train")
    idx = torch.randint(len(x), (config.batch,), generator=generator(config.seed))
    F.cross_entropy(model(x[idx]), y[idx]).backward()
    with torch.no_grad():
        for name, p in model.named_parameters():
            torch.testing.assert_close(trained[name], p - 0.1 * p.grad)


# ---- equivariance, saliency, occlusion -----------------------------------------------------------------------

def test_first_layer_maps_move_exactly_with_the_digit():
    model = ca.make_model(ca.TrainConfig(model="cnn_gap")).eval()
    eq = ca.equivariance(model, 7, 2)
    assert eq.map_shift_error < 1e-6
    np.testing.assert_allclose(eq.moved, ca.shift(torch.from_numpy(eq.image), 2).numpy())
    assert eq.map_change > 0.1


def test_saliency_of_a_linear_model_is_the_absolute_weight_row():
    model = nn.Sequential(nn.Flatten(), nn.Linear(256, 10))
    img = ca.digits16("test")[0][:1]
    expected = model[1].weight[3].detach().abs().reshape(16, 16)
    torch.testing.assert_close(ca.saliency(model, img, 3), expected)


def test_occlusion_equals_a_hand_loop_over_patches():
    model = ca.make_model(ca.TrainConfig(model="cnn_gap")).eval()
    img = ca.digits16("test")[0][5:6]
    occ = ca.occlusion(model, img, 2, patch=4)
    assert occ.shape == (13, 13)
    with torch.no_grad():
        base = model(img).softmax(1)[0, 2]
        for r, c in ((0, 0), (6, 3), (12, 12)):
            blanked = img.clone()
            blanked[..., r:r + 4, c:c + 4] = 0
            torch.testing.assert_close(occ[r, c], base - model(blanked).softmax(1)[0, 2])
    with pytest.raises(ValueError, match="patch"):
        ca.occlusion(model, img, 2, patch=17)


def test_inside_shows_every_layer_and_the_first_filters():
    result = ca.train(ca.TrainConfig(model="cnn_gap", steps=30, record_every=30))
    ins = ca.inside(result.model(), 0, patch=3)
    assert [m.shape for _, m in ins.maps] == [(8, 16, 16), (8, 8, 8), (16, 8, 8), (16, 4, 4), (32, 4, 4)]
    torch.testing.assert_close(torch.from_numpy(ins.filters), result.state["1.weight"][:, 0])
    assert ins.probs.sum() == pytest.approx(1.0, abs=1e-5) and ins.target == int(ins.probs.argmax())


def test_layer_grad_norms_has_one_norm_per_conv_and_matches_autograd():
    for depth in ca.DEPTHS:
        assert len(ca.layer_grad_norms(depth, residual=False)) == depth - 1   # the last weight layer is linear
    g = ca.layer_grad_norms(8, residual=True, seed=3)
    model = ca.make_model(ca.TrainConfig(model="residual8", seed=3))
    x, y = ca.digits16("train")
    idx = torch.randint(len(x), (64,), generator=generator(3))
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Conv2d)]
    grads = torch.autograd.grad(F.cross_entropy(model(x[idx]), y[idx]), weights)
    np.testing.assert_allclose(g, [float(gr.norm()) for gr in grads], rtol=1e-5)
    with pytest.raises(ValueError, match="depth"):
        ca.deep_net(12, residual=True)


# ---- fine-tuning ---------------------------------------------------------------------------------------------

def test_few_shot_takes_n_digits_of_each_class_5_to_9_with_labels_0_to_4():
    x, y = ca.few_shot(3, seed=0)
    assert x.shape == (15, 1, 16, 16) and sorted(y.tolist()) == [c for c in range(5) for _ in range(3)]
    xt, yt = ca.digits16("train", ca.TARGET)
    for img, label in zip(x, y):   # every pick is a real training digit of class label + 5
        assert any(torch.equal(img, other) for other in xt[yt == label + 5])
    assert torch.equal(ca.few_shot(3, seed=0)[0], x) and not torch.equal(ca.few_shot(3, seed=1)[0], x)


def test_frozen_fine_tuning_changes_only_the_new_head():
    config = ca.FineTuneConfig(steps=5, pretrain_steps=5)
    pre = ca.train(ca.pretrain_config(config)).state
    seen = {}
    original = torch.optim.Adam

    class Spy(original):
        def __init__(self, groups, **kw):
            seen["groups"] = [[p.shape for p in g["params"]] for g in groups]
            seen["lrs"] = [g["lr"] for g in groups]
            super().__init__(groups, **kw)

    torch.optim.Adam = Spy
    try:
        acc = ca.fine_tune("frozen", 2, pre, config)
        assert seen["groups"] == [[(5, 32), (5,)]] and seen["lrs"] == [config.lr]
        ca.fine_tune("full", 2, pre, config)
        assert seen["lrs"] == [config.body_lr, config.lr] and len(seen["groups"][0]) == 6
    finally:
        torch.optim.Adam = original
    assert 0.0 <= acc <= 1.0 and acc == ca.fine_tune("frozen", 2, pre, config)


@pytest.mark.parametrize("kwargs", [{"shots": (0,)}, {"shots": ()}, {"shots": (51,)}, {"steps": 0},
                                    {"lr": -1.0}, {"body_lr": float("inf")}])
def test_fine_tune_config_refuses_bad_values(kwargs):
    with pytest.raises(ValueError, match="Invalid"):
        ca.FineTuneConfig(**kwargs)
    with pytest.raises(ValueError, match="method"):
        ca.fine_tune("lora", 1, {}, ca.FineTuneConfig())


# ---- the SE block --------------------------------------------------------------------------------------------

def test_se_block_squeezes_excites_and_scales_as_the_formula_with_torch_ops():
    block = ca.SEBlock(8, reduction=4)
    x = torch.randn(3, 8, 5, 5, generator=generator(8))
    z = F.adaptive_avg_pool2d(x, 1).flatten(1)                                  # squeeze
    s = torch.sigmoid(F.linear(F.relu(F.linear(z, block.fc1.weight, block.fc1.bias)), block.fc2.weight,
                               block.fc2.bias))                                 # excitation
    torch.testing.assert_close(block(x), x * s[:, :, None, None])               # scale
    assert block.fc1.out_features == 2


def test_se_view_is_consistent_and_the_se_cnn_has_two_blocks():
    model = ca.make_model(ca.TrainConfig(model="cnn_se")).eval()
    assert sum(isinstance(m, ca.SEBlock) for m in model) == 2
    view = ca.se_view(model, 3)
    np.testing.assert_allclose(view.squeeze, view.maps.mean(axis=(1, 2)), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(view.scaled, view.maps * view.weights[:, None, None], rtol=1e-5, atol=1e-7)
    assert ((view.weights > 0) & (view.weights < 1)).all() and view.maps.shape == (16, 8, 8)
    with pytest.raises(ValueError, match="digit index"):
        ca.se_view(model, -1)


# ---- the lesson's declared ranges stay inside dlcore's caps ----------------------------------------------------

def test_the_declared_settings_are_dlcores_caps_and_names():
    from ui.experiments import cnn_architectures as experiment

    p = {x.name: x for x in experiment.SETTINGS}
    assert experiment.WHY_MODELS == ca.MODELS and experiment.ZOO == ca.ZOO and experiment.DEPTHS == ca.DEPTHS
    assert p["width"].hi == ca.MAX_WIDTH and p["hidden"].hi == ca.MAX_HIDDEN and p["shift"].hi == ca.MAX_SHIFT
    assert max(experiment.LRS) == ca.MAX_LR and max(experiment.STEPS) == ca.MAX_STEPS
    assert experiment.SHOTS == (0, *ca.FineTuneConfig().shots) and p["digit"].hi == len(ca.digits16("test")[1]) - 1
    for corner in __import__("itertools").product(*[(p[k].lo, p[k].hi) for k in experiment.STN]):
        theta = ca.theta_from(*corner)                 # every slider setting is a theta transform_digit accepts
        assert float(theta.abs().max()) <= ca.MAX_THETA


def test_training_with_dropout_is_deterministic_whatever_the_global_rng_did():
    config = ca.TrainConfig(model="alexnet", steps=30, record_every=10)
    first = ca.train(config)
    torch.rand(7)                                     # someone else drew from the global generator meanwhile
    second = ca.train(config)
    np.testing.assert_array_equal(first.loss, second.loss)
    for name, value in first.state.items():
        assert torch.equal(value, second.state[name]), name
