"""dlcore.batch_noise: mini-batch SGD against a plain loop, batch noise, and the sharp / flat experiment."""

import numpy as np
import pytest
import torch

from dlcore import batch_noise as B


def test_full_batch_row_is_plain_gradient_descent_on_the_mse():
    cfg = B.RegressionConfig(steps=40, lr=0.2)
    res = B.regression_paths(cfg)
    x, y = B.regression_data(cfg)
    theta = torch.tensor(cfg.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([theta], lr=0.2)
    for _ in range(40):
        opt.zero_grad()
        ((theta[0] * x + theta[1] - y) ** 2).mean().backward()
        opt.step()
    np.testing.assert_allclose(res.paths[-1, -1], theta.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert res.batch_sizes == (1, 8, 32, 64)


def test_least_squares_optimum_is_near_the_true_line_and_full_batch_converges_to_it():
    res = B.regression_paths(B.RegressionConfig(steps=500, lr=0.3, noise=0.1))
    np.testing.assert_allclose(res.optimum, [2.0, -1.0], atol=0.1)
    np.testing.assert_allclose(res.paths[-1, -1], res.optimum, atol=1e-6)


def test_smaller_batches_wander_more_around_the_optimum():
    res = B.regression_paths(B.RegressionConfig(steps=400, lr=0.1))
    spread = [np.linalg.norm(res.paths[k, 200:] - res.optimum, axis=1).mean() for k in range(4)]
    assert spread[0] > spread[1] > spread[2] > spread[3]


def test_batch_weights_pick_b_distinct_samples_with_weight_one_over_b():
    w = B._batch_weights(20, (1, 5, 0), 3, torch.Generator().manual_seed(0), "cpu")
    assert w.shape == (3, 3, 20)
    np.testing.assert_allclose(w.sum(-1).numpy(), 1.0)
    assert ((w[1] > 0).sum(-1) == 5).all() and ((w[0] > 0).sum(-1) == 1).all() and (w[2] == 1 / 20).all()


def test_landscape_wells_are_equally_deep_in_training_loss_but_differ_in_curvature():
    cfg = B.SharpFlatConfig()
    assert B.curvature(cfg.sharp_at, cfg) > 10 * B.curvature(cfg.flat_at, cfg)
    res = B.sharp_flat(cfg)
    sharp = res.train[np.abs(res.w - cfg.sharp_at) < 0.3].min()
    flat = res.train[np.abs(res.w - cfg.flat_at) < 0.5].min()
    assert abs(sharp - flat) < 0.1
    # the test shift costs the sharp minimum far more than the flat one
    i_s, i_f = np.argmin(np.abs(res.w - cfg.sharp_at)), np.argmin(np.abs(res.w - cfg.flat_at))
    assert res.test[i_s] - res.train[i_s] > 3 * (res.test[i_f] - res.train[i_f])


@pytest.mark.slow
def test_small_batches_end_in_the_flat_minimum_more_often_and_test_better():
    shares = np.mean([B.sharp_flat(B.SharpFlatConfig(seed=s)).flat_share for s in range(3)], axis=0)
    assert shares[0] > 0.95 and shares[0] > shares[2] + 0.3 and shares[1] >= shares[3]
    res = B.sharp_flat(B.SharpFlatConfig())
    assert res.test_loss[0] < res.test_loss[-1] - 0.1


def test_shifts_are_the_normal_quantiles_at_the_midpoints():
    from statistics import NormalDist

    s = B.shifts(64, 0.3)
    expected = [NormalDist(0.0, 0.3).inv_cdf((i + 0.5) / 64) for i in range(64)]
    np.testing.assert_allclose(s.numpy(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s.numpy(), -s.flip(0).numpy(), atol=1e-12)        # symmetric about 0


def test_the_training_landscape_is_the_same_for_every_seed_and_the_test_one_is_it_shifted():
    a, b = B.sharp_flat(B.SharpFlatConfig(seed=0, steps=1)), B.sharp_flat(B.SharpFlatConfig(seed=3, steps=1))
    np.testing.assert_array_equal(a.train, b.train)
    k = 30                                                                        # test_shift 0.3 on a 0.01 grid
    np.testing.assert_allclose(a.test[k:], a.train[:-k], atol=1e-12)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: B.SharpFlatConfig(runs=B.MAX_RUNS + 1), "Invalid runs"),
    (lambda: B.SharpFlatConfig(steps=B.MAX_STEPS + 1), "Invalid steps"),
    (lambda: B.SharpFlatConfig(lr=0.6), "Invalid learning rate"),
    (lambda: B.SharpFlatConfig(lr=float("nan")), "Invalid learning rate"),
    (lambda: B.SharpFlatConfig(test_shift=B.MAX_TEST_SHIFT + 0.5), "Invalid test_shift"),
    (lambda: B.SharpFlatConfig(n=B.MAX_SAMPLES + 1), "Invalid n"),
    (lambda: B.SharpFlatConfig(flat_width=0.0), "Invalid well widths"),
    (lambda: B.RegressionConfig(steps=B.MAX_STEPS + 1), "Invalid steps"),
    (lambda: B.RegressionConfig(lr=1.5), "Invalid learning rate"),
    (lambda: B.RegressionConfig(noise=6.0), "Invalid noise"),
    (lambda: B.RegressionConfig(batch_sizes=(1,) * 7), "Invalid number of batch sizes"),
])
def test_an_over_cap_value_raises_value_error_naming_it(make, match):
    with pytest.raises(ValueError, match=match):
        make()
