"""dlcore.cnn_architectures' trained spatial transformer, augmentation and per-step gradient norms against
independent references: the hand-written sampler and F.affine_grid / F.grid_sample, a training loop written out
with torch.optim and torch.autograd, and what the identity initialisation means."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlcore import cnn_architectures as ca
from dlcore.device import generator


def _torch_warp(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    return F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), align_corners=False)


# ---- distortions ---------------------------------------------------------------------------------------------

def test_random_theta_is_a_rotation_and_a_shift_within_the_caps_and_reproducible():
    theta, alpha = ca.random_theta(500, 60.0, 2.0, generator(4))
    again, _ = ca.random_theta(500, 60.0, 2.0, generator(4))
    assert torch.equal(theta, again)
    assert alpha.abs().max() <= 60 and alpha.abs().max() > 55                 # uniform up to the cap
    lin = theta[:, :, :2]
    torch.testing.assert_close(lin @ lin.transpose(1, 2), torch.eye(2).expand(500, 2, 2), atol=1e-6, rtol=0)
    a = torch.deg2rad(alpha)
    torch.testing.assert_close(lin[:, 1, 0], torch.sin(a), atol=1e-6, rtol=0)  # R(alpha) = [[c, -s], [s, c]]
    assert (theta[:, :, 2].abs() * 8).max() <= 2 + 1e-6                        # 2 pixels = 2 / 8 normalised
    torch.testing.assert_close(ca.rotation_of(theta), alpha, atol=1e-4, rtol=0)


def test_warp_is_the_hand_written_sampler_and_torchs():
    x = ca.digits16("test")[0][:12]
    theta, _ = ca.random_theta(12, 90.0, 3.0, generator(1))
    torch.testing.assert_close(ca.warp(x, theta), ca.affine_sample(x, theta), atol=1e-5, rtol=0)
    torch.testing.assert_close(ca.warp(x, theta), _torch_warp(x, theta), atol=0, rtol=0)


def test_the_distorted_test_set_is_fixed_and_torchs_warp_of_the_digits():
    a, b = ca.distorted_test(45.0, 2.0), ca.distorted_test(45.0, 2.0)
    assert torch.equal(a.x, b.x) and torch.equal(a.theta, b.theta)
    x, y = ca.digits16("test")
    torch.testing.assert_close(a.x, _torch_warp(x, a.theta), atol=1e-6, rtol=0)
    assert torch.equal(a.y, y) and torch.equal(a.clean, x)
    plain = ca.distorted_test(0.0, 0.0)
    assert torch.equal(plain.x, x)                                             # nothing to distort


@pytest.mark.parametrize("rotation, shift", [(-1.0, 0.0), (91.0, 0.0), (0.0, 3.5), (math.nan, 0.0)])
def test_distortions_outside_the_caps_are_refused(rotation, shift):
    with pytest.raises(ValueError, match="Invalid test"):
        ca.distorted_test(rotation, shift)
    with pytest.raises(ValueError, match="Invalid training"):
        ca.TrainConfig(rotation=rotation, max_shift=shift)


@pytest.mark.parametrize("n", [1, ca.MIN_TRAIN - 1, 1438])
def test_n_train_outside_its_range_is_refused(n):
    with pytest.raises(ValueError, match="n_train"):
        ca.TrainConfig(n_train=n)


# ---- the spatial transformer ---------------------------------------------------------------------------------

def test_an_untrained_spatial_transformer_is_the_identity_warp():
    torch.manual_seed(0)
    stn = ca.SpatialTransformer(ca.small_cnn(8, "flat"))
    x = ca.distorted_test(60.0, 2.0).x[:20]
    torch.testing.assert_close(stn.theta(x), torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(20, 2, 3))
    torch.testing.assert_close(stn.transform(x), x, atol=1e-6, rtol=0)       # V = U
    torch.testing.assert_close(stn(x), stn.classifier(x), atol=1e-5, rtol=1e-5)


def test_the_stn_output_is_torchs_sampler_with_the_localisation_nets_theta():
    torch.manual_seed(1)
    stn = ca.SpatialTransformer(ca.small_cnn(8, "flat"))
    with torch.no_grad():
        stn.loc[-1].weight.normal_(0, 0.05)                                     # a theta that is not the identity
    x = ca.digits16("test")[0][:8]
    theta = stn.loc(x).view(-1, 2, 3)
    assert not torch.allclose(theta, torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(8, 2, 3))
    torch.testing.assert_close(stn.transform(x), _torch_warp(x, theta), atol=1e-6, rtol=0)
    torch.testing.assert_close(stn.transform(x), ca.affine_sample(x, theta.detach()), atol=1e-5, rtol=0)


def test_the_localisation_net_gets_a_gradient_through_the_sampler():
    stn = ca.SpatialTransformer(ca.small_cnn(8, "flat"))
    x, y = ca.digits16("train")
    F.cross_entropy(stn(x[:32]), y[:32]).backward()
    assert float(stn.loc[-1].bias.grad.abs().sum()) > 0                       # d loss / d theta flows back


def test_stn_view_of_an_untrained_transformer_undoes_nothing():
    model = ca.make_model(ca.TrainConfig(model="stn"))
    view = ca.stn_view(model, 60.0, 2.0, (0, 5))
    test = ca.distorted_test(60.0, 2.0)
    np.testing.assert_allclose(view.residual, test.alpha.numpy(), atol=1e-3)   # theta_d . I = theta_d
    assert abs(view.slope) < 1e-6 and view.scale == pytest.approx(1.0)
    assert view.spread_out == pytest.approx(view.spread_in, rel=1e-4)
    assert view.shift_out == pytest.approx(view.shift_in, rel=1e-4)
    np.testing.assert_allclose(view.outputs, view.inputs, atol=1e-6)
    np.testing.assert_array_equal(view.inputs, test.x[[0, 5], 0].numpy())
    np.testing.assert_array_equal(view.upright, ca.digits16("test")[0][[0, 5], 0].numpy())


def test_the_rotation_left_is_zero_when_the_transformer_inverts_the_distortion():
    theta_d = ca.theta_from(rotation=40.0, tx=0.2)[None]
    full = torch.cat([theta_d, torch.tensor([[[0.0, 0.0, 1.0]]])], dim=1)
    theta_s = torch.linalg.inv(full)[:, :2]
    composed = ca._full(theta_d) @ ca._full(theta_s)
    torch.testing.assert_close(composed, torch.eye(3)[None], atol=1e-6, rtol=0)
    assert float(ca.rotation_of(theta_s)[0]) == pytest.approx(-40.0, abs=1e-4)
    assert float(ca.rotation_of(ca.theta_from(rotation=25.0, scale=0.7)[None])[0]) == pytest.approx(25.0, abs=1e-4)


def test_stn_view_refuses_bad_input():
    model = ca.make_model(ca.TrainConfig(model="stn"))
    with pytest.raises(ValueError, match="Invalid digits"):
        ca.stn_view(model, 60.0, 2.0, (360,))
    with pytest.raises(ValueError, match="Invalid digits"):
        ca.stn_view(model, 60.0, 2.0, ())
    with pytest.raises(ValueError, match="spatial transformer"):
        ca.stn_view(ca.make_model(ca.TrainConfig(model="cnn_flat")), 60.0, 2.0)
    with pytest.raises(ValueError, match="Invalid test rotation"):
        ca.stn_view(model, 120.0, 2.0)


# ---- training: augmentation and gradient norms, against a loop written out with torch ---------------------------

def _manual(config: ca.TrainConfig):
    """The training steps of ``config`` with torch.optim.Adam and torch.autograd.grad: per-step losses and
    per-conv-layer gradient norms."""
    model = ca.make_model(config)
    x, y = ca.digits16("train")
    if config.n_train:
        x, y = x[:config.n_train], y[:config.n_train]
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Conv2d)]
    g = generator(config.seed)
    losses, norms = [], []
    for _ in range(config.steps):
        idx = torch.randint(len(x), (config.batch,), generator=g)
        xb = x[idx]
        if config.rotation or config.max_shift:
            theta, _ = ca.random_theta(config.batch, config.rotation, config.max_shift, g)
            xb = _torch_warp(xb, theta)
        loss = F.cross_entropy(model(xb), y[idx])
        grads = torch.autograd.grad(loss, list(model.parameters()))
        by_param = dict(zip(model.parameters(), grads))
        norms.append([float(torch.linalg.vector_norm(by_param[w])) for w in weights])
        for p, gr in zip(model.parameters(), grads):
            p.grad = gr
        opt.step()
        losses.append(float(loss.detach()))
    return np.asarray(losses), np.asarray(norms)


@pytest.mark.parametrize("config", [
    ca.TrainConfig(model="cnn_gap", steps=6, record_every=1),
    ca.TrainConfig(model="cnn_gap", steps=6, record_every=1, rotation=30.0, max_shift=2.0, n_train=100, seed=2),
    ca.TrainConfig(model="stn", steps=5, record_every=1, lr=0.003, rotation=60.0, max_shift=2.0, seed=1),
    ca.TrainConfig(model="plain8", steps=4, record_every=1, lr=0.003),
], ids=["plain", "augmented", "stn", "deep"])
def test_training_losses_and_per_step_gradient_norms_equal_a_torch_loop(config):
    run = ca.train(config)
    losses, norms = _manual(config)
    np.testing.assert_allclose(run.loss, losses, rtol=1e-5, atol=1e-6)
    assert run.grad_norms.shape == norms.shape == (config.steps, len(norms[0]))
    np.testing.assert_allclose(run.grad_norms, norms, rtol=1e-4, atol=1e-7)


def test_the_first_steps_gradient_norms_are_those_at_initialisation():
    for residual in (False, True):
        run = ca.train(ca.TrainConfig(model=f"{'residual' if residual else 'plain'}20", steps=2, record_every=1))
        np.testing.assert_allclose(run.grad_norms[0], ca.layer_grad_norms(20, residual), rtol=1e-5)


def test_train_accuracy_is_measured_on_the_digits_it_learned_from():
    config = ca.TrainConfig(model="mlp", steps=40, record_every=40, n_train=50)
    run = ca.train(config)
    x, y = ca.digits16("train")
    assert run.train_acc == pytest.approx(ca.accuracy(run.model(), x[:50], y[:50]))


def test_the_declared_stn_and_augmentation_settings_are_within_dlcores_caps():
    from ui.experiments import cnn_architectures as experiment

    assert max(experiment.STN_ROTATIONS) <= ca.MAX_ROTATION and experiment.STN_SHIFT <= ca.MAX_DISTORT_SHIFT
    assert experiment.STN_STEPS <= ca.MAX_STEPS and experiment.AUG_STEPS <= ca.MAX_STEPS
    assert min(experiment.AUG_N) >= ca.MIN_TRAIN and max(experiment.AUG_N) <= len(ca.digits16("train")[1])
    assert experiment.AUG_ROTATION <= ca.MAX_ROTATION and experiment.AUG_SHIFT <= ca.MAX_DISTORT_SHIFT
