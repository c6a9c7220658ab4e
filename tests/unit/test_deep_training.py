"""dlcore.deep_training: the loop equals a plain PyTorch loop; who learns, who stalls, dead ReLUs, divergence."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore import activations as A
from dlcore import deep_training as T

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_loop_matches_a_plain_pytorch_loop(optimizer):
    config = T.TrainConfig(depth=3, width=16, steps=20, record_every=1, optimizer=optimizer, lr=0.05)
    hist = T.train(config, "tanh", "xavier_normal")
    model = copy.deepcopy(T.build_mlp(config, "tanh", "xavier_normal"))
    x, y = T.toy_data(config)
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=0.05)
    losses = []
    for _ in range(21):
        loss = F.binary_cross_entropy_with_logits(model(x).squeeze(1), y)
        losses.append(float(loss.detach()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(hist.loss, losses, rtol=1e-5)
    np.testing.assert_array_equal(hist.step, np.arange(21))


def test_build_mlp_is_deterministic_and_uses_the_requested_init():
    config = T.TrainConfig(depth=4, width=128, seed=3)
    a, b = T.build_mlp(config, "relu", "kaiming_normal"), T.build_mlp(config, "relu", "kaiming_normal")
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    hidden = a[2].weight                                   # Linear(128, 128) after the first Act
    assert float(hidden.detach().var()) == pytest.approx(A.init_variance("kaiming_normal", 128, 128), rel=0.05)
    assert all(float(m.bias.detach().abs().max()) == 0 for m in a if isinstance(m, torch.nn.Linear))
    with_bn = T.build_mlp(T.TrainConfig(depth=2, batchnorm=True), "tanh", "xavier_normal")
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in with_bn) == 2


@pytest.mark.slow
def test_deep_sigmoid_stalls_while_relu_with_kaiming_learns():
    config = T.TrainConfig(depth=8, width=32, steps=150, lr=0.1)
    sig, relu = T.race(config, ("sigmoid|xavier_normal", "relu|kaiming_normal"))
    assert sig.loss[-1] > 0.65                         # stuck near ln 2: the output ignores the input
    assert sig.first_grad_norm[-1] < 1e-4
    assert relu.loss[-1] < 0.1 and relu.accuracy[-1] > 0.97


@pytest.mark.slow
def test_a_large_adam_learning_rate_kills_relus_but_not_leaky_relus():
    config = T.TrainConfig(depth=8, width=32, steps=60, optimizer="adam", lr=0.1)
    relu, leaky = T.race(config, ("relu|kaiming_normal", "leaky_relu|kaiming_normal"))
    assert relu.dead_frac[-1] > relu.dead_frac[0] + 0.3
    assert np.all(leaky.dead_frac == 0)
    gentle = T.train(T.TrainConfig(depth=8, width=32, steps=60, optimizer="adam", lr=0.001), "relu", "kaiming_normal")
    assert gentle.dead_frac[-1] < relu.dead_frac[-1] - 0.3


def test_divergence_is_recorded_as_nan_not_raised():
    hist = T.train(T.TrainConfig(depth=8, width=32, steps=50, lr=10.0, record_every=5), "relu", "kaiming_normal")
    assert len(hist.step) == len(hist.loss) == 11
    assert np.isnan(hist.loss[-1]) and np.isfinite(hist.loss[0])


def test_dead_share_counts_units_with_zero_derivative_on_every_point():
    config = T.TrainConfig(depth=2, width=8, steps=5)
    model = T.build_mlp(config, "relu", "kaiming_normal")
    with torch.no_grad():
        model[0].bias[:4] = -100.0                          # 4 of 8 first-layer units never fire
    x, _ = T.toy_data(config)
    _, dead = T.dead_forward(model, x, "relu", 0.01)
    assert dead >= 4 / 16


@pytest.mark.parametrize("device", DEVICES)
def test_race_runs_on_each_device_and_records_every_k_steps(device):
    config = T.TrainConfig(depth=2, width=8, steps=23, record_every=5)
    (h,) = T.race(config, ("gelu|kaiming_normal",), device)
    np.testing.assert_array_equal(h.step, [0, 5, 10, 15, 20, 23])
    assert h.loss.shape == h.accuracy.shape == h.dead_frac.shape == h.first_grad_norm.shape == (6,)


@pytest.mark.parametrize("kwargs", [{"depth": 21}, {"depth": 0}, {"width": 129}, {"width": 1}, {"steps": 1001},
                                    {"lr": 0.0}, {"lr": 11.0}, {"lr": float("nan")}, {"points": 513},
                                    {"dataset": "spiral"}, {"optimizer": "lbfgs"}, {"slope": 1.5},
                                    {"steps": 10, "record_every": 11}])
def test_train_config_refuses_over_cap_values_with_a_value_error(kwargs):
    # a ValueError (not an assert, which python -O drops) naming the setting, the way torch.optim does
    with pytest.raises(ValueError, match="^Invalid "):
        T.TrainConfig(**kwargs)


def test_race_refuses_too_many_racers_and_unknown_activations():
    with pytest.raises(ValueError, match="^Invalid number of racers: 7"):
        T.race(T.TrainConfig(steps=5), T.RACERS[:7])
    with pytest.raises(ValueError, match="^Invalid activation: 'swishy'"):
        T.race(T.TrainConfig(steps=5), ("swishy|xavier_normal",))
    with pytest.raises(ValueError, match="^Invalid init"):
        T.race(T.TrainConfig(steps=5), ("relu|normal_99",))


def test_diverged_at_is_the_first_nan_record_or_none():
    fine = T.train(T.TrainConfig(steps=20, record_every=5), "tanh", "xavier_normal")
    assert T.diverged_at(fine) is None
    blown = T.TrainHistory("relu", "x", np.array([0, 5, 10, 15]), np.array([0.7, np.inf, np.nan, np.nan]),
                           *(np.zeros(4),) * 3)
    assert T.diverged_at(blown) == 10
