"""dlcore.adversarial against closed forms (linear models), hand-computed projections and invariants
(the epsilon-ball, the pixel box, eps = 0), and the bundled CNN for the claims the lesson makes."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dlcore import adversarial as adv
from dlcore import classifiers as clf
from dlcore.data import digits


class Linear(nn.Module):
    """f(x) = W vec(x) + b: the input gradient of the cross-entropy has a closed form."""

    def __init__(self, d: int, k: int, seed: int, dtype=torch.float64) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.W = nn.Parameter(torch.randn(k, d, generator=g, dtype=dtype))
        self.b = nn.Parameter(torch.randn(k, generator=g, dtype=dtype))

    def forward(self, x):
        return x.flatten(1) @ self.W.T + self.b


def _interior(n, shape, seed, dtype=torch.float64):
    """Inputs in [0.3, 0.7]: an eps <= 0.3 step never touches the [0, 1] box."""
    g = torch.Generator().manual_seed(seed)
    return 0.3 + 0.4 * torch.rand((n, *shape), generator=g, dtype=dtype)


@pytest.fixture(scope="module")
def digits_test():
    """The 360 test digits and their labels (named so pytest does not collect it as a test)."""
    return digits("test")


@pytest.fixture(scope="module")
def cnn():
    return clf.load_digits_cnn(robust=False)


# ---------------------------------------------------------------------------------------------
# Closed forms on linear models
# ---------------------------------------------------------------------------------------------

def test_fgsm_equals_eps_sign_of_the_closed_form_gradient_for_a_linear_model():
    model = Linear(64, 10, seed=0).eval()
    x = _interior(16, (1, 8, 8), seed=1)
    y = torch.arange(16) % 10
    p = F.softmax(model(x), 1)
    grad = (p - F.one_hot(y, 10).double()) @ model.W            # d CE / d x = W^T (p - e_y), per example
    expected = x + 0.1 * grad.sign().view_as(x)
    torch.testing.assert_close(adv.fgsm(model, x, y, 0.1), expected, rtol=0, atol=1e-12)


def test_targeted_fgsm_on_a_linear_model_moves_along_sign_of_w_target_minus_w_true():
    # targeted loss e(f, y) - e(f, t) = z_t - z_y, whose gradient W_t - W_y does not depend on x
    model = Linear(64, 10, seed=2).eval()
    x = _interior(8, (1, 8, 8), seed=3)
    y = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7])
    target = (y + 3) % 10
    expected = x + 0.05 * (model.W[target] - model.W[y]).sign().view_as(x)
    torch.testing.assert_close(adv.fgsm(model, x, y, 0.05, target=target), expected, rtol=0, atol=1e-12)


def test_l2_fast_gradient_step_has_length_eps_along_the_gradient():
    model = Linear(64, 10, seed=4).eval()
    x = _interior(5, (1, 8, 8), seed=5)
    y = torch.tensor([1, 2, 3, 4, 5])
    g = (F.softmax(model(x), 1) - F.one_hot(y, 10).double()) @ model.W
    expected = x + 0.2 * (g / g.norm(dim=1, keepdim=True)).view_as(x)
    x_adv = adv.fgsm(model, x, y, 0.2, norm="l2")
    torch.testing.assert_close(x_adv, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close((x_adv - x).flatten(1).norm(dim=1), torch.full((5,), 0.2, dtype=torch.float64))


def test_targeted_loss_is_the_logit_margin():
    g = torch.Generator().manual_seed(0)
    logits = 30 * torch.randn(7, 10, generator=g, dtype=torch.float64)     # very confident: CE saturates
    y, t = torch.arange(7), (torch.arange(7) + 4) % 10
    margin = (logits.gather(1, t[:, None]) - logits.gather(1, y[:, None])).sum()
    torch.testing.assert_close(adv.attack_loss(logits, y, t), margin, rtol=1e-12, atol=1e-9)
    torch.testing.assert_close(adv.attack_loss(logits, y), F.cross_entropy(logits, y, reduction="sum"))


def test_input_gradient_matches_finite_differences_in_float64():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 12), nn.Tanh(), nn.Linear(12, 10)).double().eval()
    x = _interior(2, (1, 8, 8), seed=6)
    y = torch.tensor([3, 8])
    grad = adv.input_gradient(model, x, y)
    h = 1e-6
    for idx in [(0, 0, 0, 0), (0, 0, 3, 5), (1, 0, 7, 7), (1, 0, 4, 2)]:
        e = torch.zeros_like(x)
        e[idx] = h
        with torch.no_grad():
            fd = (adv.attack_loss(model(x + e), y) - adv.attack_loss(model(x - e), y)) / (2 * h)
        assert float(grad[idx]) == pytest.approx(float(fd), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("norm", adv.NORMS)
def test_pgd_on_a_linear_two_class_model_ends_at_the_hand_derived_point(norm):
    # For two classes the gradient is p_1 (w_1 - w_0) for y = 0: a fixed direction. PGD walks to the
    # ball's farthest point along it: x0 + eps sign(w1 - w0) (L-inf corner) or x0 + eps u (L2).
    model = Linear(2, 2, seed=7).eval()
    x0 = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
    y = torch.tensor([0])
    w = (model.W[1] - model.W[0]).detach()
    end = x0 + 0.1 * (w.sign() if norm == "linf" else w / w.norm())
    x_adv = adv.pgd(model, x0, y, 0.1, 0.03, 20, norm, random_start=False)
    torch.testing.assert_close(x_adv, end, rtol=0, atol=1e-12)
    path = adv.pgd_path_2d(model.float(), (0.5, 0.5), 0, 0.1, 0.03, 20, norm)
    np.testing.assert_allclose(path.projected[-1], end[0].float().numpy(), atol=1e-6)
    assert path.moved[0] == 0 and path.moved[-1] > 0.02          # first step inside, later ones projected


# ---------------------------------------------------------------------------------------------
# Projections, random starts, the ball and the box
# ---------------------------------------------------------------------------------------------

def test_l2_projection_matches_hand_computed_case():
    delta = torch.tensor([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])          # norms 5, 0.5, 0
    expected = torch.tensor([[0.6, 0.8], [0.3, 0.4], [0.0, 0.0]])        # eps = 1: shrink only the first
    torch.testing.assert_close(adv.project(delta, 1.0, "l2"), expected)


def test_linf_projection_clips_each_coordinate():
    delta = torch.tensor([[0.3, -0.7, 0.05, -0.2]])
    torch.testing.assert_close(adv.project(delta, 0.2, "linf"), torch.tensor([[0.2, -0.2, 0.05, -0.2]]))


def test_box_clipping_after_projection_keeps_the_point_in_the_ball():
    x0 = torch.tensor([[0.0, 1.0, 0.95, 0.02]])
    x = torch.tensor([[-0.4, 1.3, 1.4, 0.5]])
    for norm in adv.NORMS:
        out = adv.to_box(x0, x, 0.3, norm)
        assert float(out.min()) >= 0 and float(out.max()) <= 1
        linf, l2 = adv.perturbation_norms(out - x0)
        assert float(linf if norm == "linf" else l2) <= 0.3 + 1e-7
    torch.testing.assert_close(adv.to_box(x0, x, 0.3, "linf"), torch.tensor([[0.0, 1.0, 1.0, 0.32]]))


def test_random_l2_start_is_uniform_in_the_disc():
    x0 = torch.full((20000, 2), 0.5)
    pts = adv.random_point_in_ball(x0, 0.2, "l2", torch.Generator().manual_seed(0))
    r = (pts - x0).norm(dim=1)
    assert float(r.max()) <= 0.2 + 1e-7
    assert float((r < 0.1).float().mean()) == pytest.approx(0.25, abs=0.015)    # area fraction (1/2)^2


def test_ascent_step_does_not_move_on_a_zero_gradient():
    x = torch.full((2, 1, 8, 8), 0.5)
    for norm in adv.NORMS:
        torch.testing.assert_close(adv.ascent_step(x, torch.zeros_like(x), 0.1, norm), x)


@settings(max_examples=30, deadline=None)
@given(eps=st.floats(0.0, 0.5), norm=st.sampled_from(adv.NORMS), method=st.sampled_from(adv.METHODS),
       targeted=st.booleans(), seed=st.integers(0, 10_000))
def test_every_attack_respects_the_ball_and_the_box(eps, norm, method, targeted, seed):
    eps = eps * adv.MAX_EPS[norm] / 0.5
    model = clf.load_digits_cnn(robust=seed % 2 == 1)
    x, y = digits("test")
    x, y = x[seed % 300:seed % 300 + 12], y[seed % 300:seed % 300 + 12]    # includes exact 0s and 1s
    target = (y + 1 + seed % 9) % 10 if targeted else None
    if method == "fgsm":
        x_adv = adv.fgsm(model, x, y, eps, target, norm)
    else:
        x_adv = adv.pgd(model, x, y, eps, max(eps / 4, 1e-3), 5, norm, method == "pgd", target, seed)
    assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
    linf, l2 = adv.perturbation_norms(x_adv - x)
    assert float((linf if norm == "linf" else l2).max()) <= eps * (1 + 1e-5) + 1e-6


def test_every_pgd_iterate_is_feasible_and_the_stepped_point_is_what_was_projected(cnn, digits_test):
    x, y = digits_test[0][:20], digits_test[1][:20]
    its = list(adv.pgd_iterates(cnn, x, y, 0.3, 0.2, 6, "l2", random_start=True, seed=3))
    assert len(its) == 6
    for s in its:
        assert float(adv.perturbation_norms(s.projected - x)[1].max()) <= 0.3 + 1e-5
        torch.testing.assert_close(s.projected, adv.to_box(x, s.stepped, 0.3, "l2"))
    assert any(float(adv.perturbation_norms(s.stepped - x)[1].max()) > 0.3 for s in its)   # steps did leave


# ---------------------------------------------------------------------------------------------
# On the bundled CNN
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("norm", adv.NORMS)
def test_eps_zero_returns_the_input_and_reproduces_clean_accuracy(norm, cnn, digits_test):
    x, y = digits_test
    for x_adv in (adv.fgsm(cnn, x, y, 0.0, norm=norm), adv.pgd(cnn, x, y, 0.0, 0.01, 3, norm, random_start=True)):
        torch.testing.assert_close(x_adv, x, rtol=0, atol=0)
    clean = clf.accuracy(cnn, x, y)
    assert adv.adversarial_accuracy(cnn, x, y, "pgd", 0.0, norm) == pytest.approx(clean)


def test_pgd_is_at_least_as_strong_as_fgsm_on_the_test_set(cnn, digits_test):
    x, y = digits_test
    for eps in (0.05, 0.1, 0.2):
        fgsm_acc = adv.adversarial_accuracy(cnn, x, y, "fgsm", eps)
        pgd_acc = adv.adversarial_accuracy(cnn, x, y, "pgd", eps)
        assert pgd_acc <= fgsm_acc, (eps, pgd_acc, fgsm_acc)
    assert adv.adversarial_accuracy(cnn, x, y, "pgd", 0.2) < 0.2     # the standard model falls at eps = 0.2


def test_targeted_attacks_raise_the_target_probability(cnn, digits_test):
    x, y = digits_test[0][:60], digits_test[1][:60]
    target = (y + 3) % 10
    with torch.inference_mode():
        before = cnn(x).softmax(1).gather(1, target[:, None])
    for x_adv in (adv.fgsm(cnn, x, y, 0.1, target), adv.pgd(cnn, x, y, 0.1, 0.01, 20, target=target, seed=0),
                  adv.pgd(cnn, x, y, 1.0, 0.1, 20, "l2", target=target, seed=0)):
        with torch.inference_mode():
            after = cnn(x_adv).softmax(1).gather(1, target[:, None])
        assert bool((after > before).all())
    x_adv = adv.pgd(cnn, x, y, 0.3, 0.03, 30, target=target, seed=0)
    with torch.inference_mode():
        z, z0 = cnn(x_adv), cnn(x)
    margin = lambda z: (z.gather(1, target[:, None]) - z.gather(1, y[:, None]))[:, 0]
    assert bool((margin(z) > margin(z0)).all())                     # the lecture's loss is this margin
    # it compares only two classes, so a third one can still win: most, not all, hit the target
    assert float((z.argmax(1) == target).float().mean()) >= 0.6


def test_attacks_leave_a_shared_model_untouched_and_refuse_train_mode(cnn, digits_test):
    x, y = digits_test[0][:8], digits_test[1][:8]
    before = {k: v.clone() for k, v in cnn.state_dict().items()}
    adv.pgd(cnn, x, y, 0.1, 0.01, 3)
    assert all(p.grad is None for p in cnn.parameters())
    assert all(torch.equal(before[k], v) for k, v in cnn.state_dict().items())
    model = clf.load_digits_cnn().train()
    with pytest.raises(AssertionError, match="eval mode"):
        adv.fgsm(model, x, y, 0.1)


def test_pgd_is_reproducible_per_seed_and_bim_is_pgd_without_random_start(cnn, digits_test):
    x, y = digits_test[0][:16], digits_test[1][:16]
    a = adv.pgd(cnn, x, y, 0.1, 0.01, 5, seed=1)
    torch.testing.assert_close(a, adv.pgd(cnn, x, y, 0.1, 0.01, 5, seed=1), rtol=0, atol=0)
    assert not torch.equal(a, adv.pgd(cnn, x, y, 0.1, 0.01, 5, seed=2))
    torch.testing.assert_close(adv.bim(cnn, x, y, 0.1, 0.01, 5), adv.pgd(cnn, x, y, 0.1, 0.01, 5, random_start=False))


def test_caps_are_enforced_with_value_errors_naming_the_value_and_the_range():
    x = torch.full((1, 1, 8, 8), 0.5)
    y = torch.tensor([0])
    model = clf.load_digits_cnn()
    with pytest.raises(ValueError, match=r"^Invalid eps: 0.6 \(allowed 0 <= eps <= 0.5 for linf\)"):
        adv.fgsm(model, x, y, 0.6)
    with pytest.raises(ValueError, match=r"^Invalid norm: 'l1'"):
        adv.fgsm(model, x, y, 0.1, norm="l1")
    with pytest.raises(ValueError, match=rf"^Invalid steps: {adv.MAX_STEPS + 1} \(allowed 1 to {adv.MAX_STEPS}\)"):
        adv.pgd(model, x, y, 0.1, 0.01, adv.MAX_STEPS + 1)
    with pytest.raises(ValueError, match=r"^Invalid alpha: 0.0"):
        adv.pgd(model, x, y, 0.1, 0.0, 10)
    with pytest.raises(ValueError, match=r"\(allowed \[0, 1\]\)"):
        adv.fgsm(model, x * 3, y, 0.1)
    with pytest.raises(ValueError, match="allowed at most"):
        adv.fgsm(model, torch.zeros(adv.MAX_BATCH + 1, 1, 8, 8), torch.zeros(adv.MAX_BATCH + 1, dtype=torch.long), 0.1)
    with pytest.raises(ValueError, match="Invalid point"):
        adv.pgd_path_2d(clf.load_moons_mlp(), (1.2, 0.5), 0, 0.1, 0.01, 5)


@pytest.mark.parametrize("field, value", [("method", "cw"), ("norm", "l1"), ("eps", 5.0), ("eps", -0.1),
                                          ("eps", float("nan")), ("alpha", 0.0), ("alpha", 2.0), ("steps", 0),
                                          ("steps", adv.MAX_STEPS + 1), ("target", 10), ("target", -1)])
def test_every_attack_config_cap_raises_value_error(field, value):
    with pytest.raises(ValueError, match=rf"^Invalid {field}: .*\(allowed "):
        adv.AttackConfig(**{field: value})
    assert adv.AttackConfig(norm="l2", eps=4.0, alpha=8.0).eps == 4.0   # the L2 caps are the L2 ones


def test_attack_digit_reports_norms_success_and_the_iterates(cnn, digits_test):
    x, y = digits_test
    r = adv.attack_digit(cnn, x[33], int(y[33]), adv.AttackConfig())           # the lesson's default digit
    assert r.path_images.shape == (21, 8, 8) and r.path_probs.shape == (21, 10)
    np.testing.assert_allclose(r.path_probs.sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(r.delta, r.x_adv - r.x, atol=1e-7)
    assert r.linf == pytest.approx(float(np.abs(r.delta).max())) and r.linf <= 0.1 + 1e-6
    assert r.l2 == pytest.approx(float(np.linalg.norm(r.delta)), rel=1e-5)
    assert r.pred == 1 and r.pred_adv != 1 and r.success
    fg = adv.attack_digit(cnn, x[33], None, adv.AttackConfig(method="fgsm"))  # label None: the model's reading
    assert fg.label == 1 and fg.path_images.shape == (2, 8, 8) and not fg.success


# ---------------------------------------------------------------------------------------------
# Geometry helpers
# ---------------------------------------------------------------------------------------------

def test_ball_outlines_lie_on_the_sphere_of_each_norm():
    sq = adv.ball_outline((0.4, 0.6), 0.1, "linf")
    np.testing.assert_allclose(np.abs(sq - [0.4, 0.6]).max(1), 0.1, atol=1e-12)
    circle = adv.ball_outline((0.4, 0.6), 0.1, "l2")
    np.testing.assert_allclose(np.linalg.norm(circle - [0.4, 0.6], axis=1), 0.1, atol=1e-12)


def test_decision_grid_matches_the_model_and_pgd_crosses_the_moons_boundary():
    model = clf.load_moons_mlp()
    grid = adv.decision_grid(model, 11)
    with torch.inference_mode():
        p = model(torch.tensor([[grid.xs[3], grid.ys[7]]])).softmax(1)[0, 1]
    assert grid.prob[7, 3] == pytest.approx(float(p), abs=1e-6)
    path = adv.pgd_path_2d(model, (0.62, 0.5), 0, 0.08, 0.04, 10, "linf")     # the lesson's default point
    assert path.prob[0] > 0.9 and path.prob[-1] < 0.5
    assert np.abs(path.projected - [0.62, 0.5]).max() <= 0.08 + 1e-6
    assert math.isclose(float(path.moved[0]), 0.0, abs_tol=1e-7)
