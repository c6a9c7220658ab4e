"""The notes' update rules, written by hand in dlcore.update_rules, equal torch.optim step for step."""

import numpy as np
import pytest
import torch

from dlcore import optim as O
from dlcore import update_rules as U

ROSEN = O.SURFACES["rosenbrock"].fn
HIMMEL = O.SURFACES["himmelblau"].fn
TORCH = {"momentum": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
         "adam": torch.optim.Adam}


def _torch_loop(rule: str, fn, start, steps: int, **hp) -> np.ndarray:
    """The reference, written here: the textbook torch.optim loop (zero_grad, backward, step)."""
    p = torch.tensor(list(start), dtype=torch.float64, requires_grad=True)
    opt = TORCH[rule]([p], foreach=False, **hp)
    out = [p.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        fn(p[0], p[1]).backward()
        opt.step()
        out.append(p.detach().clone())
    return torch.stack(out).numpy()


@pytest.mark.parametrize(("rule", "hp"), [
    ("momentum", {"lr": 1e-3, "momentum": 0.9}),
    ("momentum", {"lr": 2e-3, "momentum": 0.5}),
    ("adagrad", {"lr": 0.5}),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9}),
    ("adam", {"lr": 0.05, "betas": (0.9, 0.999)}),
    ("adam", {"lr": 0.1, "betas": (0.5, 0.9)}),
])
@pytest.mark.parametrize(("fn", "start"), [(ROSEN, (-1.2, 1.0)), (HIMMEL, (0.5, -1.5))])
def test_hand_written_rule_equals_torch_optim_over_200_steps(rule, hp, fn, start):
    reference = _torch_loop(rule, fn, start, 200, **hp)
    mirror = U.mirror_path(rule, fn, start, 200, **hp)
    assert mirror.shape == (201, 2)
    np.testing.assert_allclose(mirror, reference, rtol=1e-10, atol=1e-12)
    check = U.check_rule(rule, fn, start, 200, **hp)            # what the rules tab reports: the same comparison
    np.testing.assert_array_equal(check.reference, reference)
    assert check.max_error == pytest.approx(float(np.abs(mirror - reference).max()), rel=1e-12, abs=1e-300)


def test_first_adam_step_has_length_lr_in_every_coordinate():
    # bias correction makes m_hat = g and v_hat = g^2 at t = 1: the step is lr * sign(g)
    theta, g = torch.tensor([1.0, -2.0], dtype=torch.float64), torch.tensor([300.0, -1e-3], dtype=torch.float64)
    new, _, _ = U.adam_step(theta, g, torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64), 1,
                            lr=0.1, eps=0.0)
    torch.testing.assert_close(new, theta - 0.1 * torch.sign(g), rtol=1e-12, atol=1e-12)


def test_adagrad_in_the_notes_form_with_decaying_rate_is_the_same_rule():
    # sigma_t = sqrt(mean of g^2) with eta_t = eta / sqrt(t + 1) (notes 000 §3.3.1) == torch's sum form
    g_hist = [torch.tensor([0.3, -2.0], dtype=torch.float64), torch.tensor([1.1, 0.4], dtype=torch.float64),
              torch.tensor([-0.2, 0.9], dtype=torch.float64)]
    theta_notes = theta_ours = torch.zeros(2, dtype=torch.float64)
    r = torch.zeros(2, dtype=torch.float64)
    for t, g in enumerate(g_hist):
        sigma = torch.sqrt(torch.stack(g_hist[: t + 1]).pow(2).mean(0))
        theta_notes = theta_notes - (0.5 / (t + 1) ** 0.5) / sigma * g
        theta_ours, r = U.adagrad_step(theta_ours, g, r, lr=0.5, eps=0.0)
    torch.testing.assert_close(theta_ours, theta_notes, rtol=1e-12, atol=1e-12)


def test_momentum_velocity_builds_to_one_over_one_minus_lambda_times_the_step():
    m = torch.zeros(1, dtype=torch.float64)
    theta = torch.zeros(1, dtype=torch.float64)
    for _ in range(500):
        theta, m = U.momentum_step(theta, torch.ones(1, dtype=torch.float64), m, lr=0.1, momentum=0.9)
    torch.testing.assert_close(m, torch.tensor([-0.1 / (1 - 0.9)], dtype=torch.float64), rtol=1e-9, atol=0)


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="Invalid rule"):
        U.mirror_path("lion", ROSEN, (0, 0), 3)
    with pytest.raises(ValueError, match="Invalid steps"):
        U.check_rule("adam", ROSEN, (0, 0), 501, lr=0.1)
