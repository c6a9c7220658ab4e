"""dlcore.gan against hand-computed losses, autograd, torch's spectral norm, scipy, known samplers and a plain loop."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn
from torch.testing import assert_close

from dlcore import data, gan

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
R = torch.tensor([0.0, 2.0, -3.0])   # D's raw outputs on real samples
F_ = torch.tensor([-1.0, 1.0, 4.0])  # ... and on generated samples


def _log_sigmoid(v: float) -> float:
    return math.log(1 / (1 + math.exp(-v)))


def _mean(xs) -> float:
    return sum(xs) / len(xs)


# ----------------------------------------------------------------------------------------------- losses

def test_minimax_d_loss_is_binary_cross_entropy_by_hand():
    expected = -_mean([_log_sigmoid(r) for r in R.tolist()]) - _mean([math.log(1 - 1 / (1 + math.exp(-f)))
                                                                      for f in F_.tolist()])
    assert_close(gan.minimax_d_loss(R, F_), torch.tensor(expected), atol=1e-6, rtol=0)
    ref = nn.functional.binary_cross_entropy_with_logits
    assert_close(gan.minimax_d_loss(R, F_), ref(R, torch.ones(3)) + ref(F_, torch.zeros(3)), atol=1e-6, rtol=0)


def test_minimax_g_loss_is_mean_log_one_minus_d_and_saturates():
    expected = _mean([math.log(1 - 1 / (1 + math.exp(-f))) for f in F_.tolist()])
    assert_close(gan.minimax_g_loss(F_), torch.tensor(expected), atol=1e-6, rtol=0)
    # saturation: where D confidently rejects (logit -10), d/df log(1 - sigmoid(f)) = -sigmoid(f) ~ -4.5e-5
    f = torch.tensor([-10.0], requires_grad=True)
    gan.minimax_g_loss(f).backward()
    assert abs(f.grad.item()) < 1e-4
    f2 = torch.tensor([-10.0], requires_grad=True)
    gan.nonsat_g_loss(f2).backward()
    assert abs(f2.grad.item()) > 0.99  # the non-saturating loss is steep exactly there


def test_nonsat_g_loss_is_minus_mean_log_d():
    expected = -_mean([_log_sigmoid(f) for f in F_.tolist()])
    assert_close(gan.nonsat_g_loss(F_), torch.tensor(expected), atol=1e-6, rtol=0)


def test_least_squares_losses_by_hand():
    # D: 0.5 * mean((r-1)^2) + 0.5 * mean(f^2) = 0.5 * (1+1+16)/3 + 0.5 * (1+1+16)/3 = 6
    assert_close(gan.lsgan_d_loss(R, F_), torch.tensor(6.0))
    # G: 0.5 * mean((f-1)^2) = 0.5 * (4+0+9)/3
    assert_close(gan.lsgan_g_loss(F_), torch.tensor(13 / 6))


def test_hinge_d_loss_by_hand():
    # mean(relu(1 - r)) = (1 + 0 + 4)/3; mean(relu(1 + f)) = (0 + 2 + 5)/3
    assert_close(gan.hinge_d_loss(R, F_), torch.tensor(12 / 3))


def test_wasserstein_losses_by_hand():
    assert_close(gan.wasserstein_d_loss(R, F_), torch.tensor(4 / 3 - (-1 / 3)))
    assert_close(gan.wasserstein_g_loss(F_), torch.tensor(-4 / 3))


def test_every_loss_has_a_d_and_g_function():
    assert set(gan.LOSS_FUNCTIONS) == set(gan.LOSSES)
    assert gan.LOSS_FUNCTIONS["hinge"][1] is gan.wasserstein_g_loss  # hinge GAN's G loss is -E[D(G(z))]


# ----------------------------------------------------------------------------------------------- gradient penalty

def test_gradient_penalty_of_a_linear_critic_is_norm_of_w_minus_one_squared():
    D = nn.Linear(2, 1).double()
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[3.0, 4.0]], dtype=torch.float64))  # |w| = 5
    x, xf = torch.randn(6, 2, dtype=torch.float64), torch.randn(6, 2, dtype=torch.float64)
    eps = torch.rand(6, 1, dtype=torch.float64)
    gp = gan.gradient_penalty(D, x, xf, eps)
    assert_close(gp, torch.tensor(16.0, dtype=torch.float64))
    (dw,) = torch.autograd.grad(gp, D.weight)  # d/dw (|w| - 1)^2 = 2(|w| - 1) w / |w|
    assert_close(dw, 2 * 4 * D.weight.detach() / 5)


def test_gradient_penalty_matches_per_sample_autograd_on_a_nonlinear_critic():
    torch.manual_seed(0)
    D = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1)).double()
    x, xf = torch.randn(5, 2, dtype=torch.float64), 3 + torch.randn(5, 2, dtype=torch.float64)
    eps = torch.rand(5, 1, dtype=torch.float64)
    norms = []
    for i in range(5):
        xh = eps[i] * x[i] + (1 - eps[i]) * xf[i]
        jac = torch.autograd.functional.jacobian(lambda v: D(v[None])[0, 0], xh)
        norms.append(jac.norm())
    expected = torch.stack([(n - 1) ** 2 for n in norms]).mean()
    assert_close(gan.gradient_penalty(D, x, xf, eps), expected, atol=1e-12, rtol=0)


# ----------------------------------------------------------------------------------------------- spectral norm

def test_spectral_norm_discriminator_layers_have_largest_singular_value_one():
    cfg = gan.GANConfig(spectral_norm=True, d_width=64, d_layers=3)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        D = gan.make_discriminator(cfg)
        x = torch.randn(32, 2)
        for _ in range(100):  # each training-mode forward runs one power iteration
            D(x)
    linears = [m for m in D if isinstance(m, nn.Linear)]
    assert len(linears) == 4 and all(hasattr(m, "parametrizations") for m in linears)
    for m in linears:
        sigma = torch.linalg.matrix_norm(m.weight.detach(), ord=2)
        assert_close(sigma, torch.tensor(1.0), atol=1e-3, rtol=0)
        raw = torch.linalg.matrix_norm(m.parametrizations.weight.original.detach(), ord=2)
        assert raw > 1.05 or m.weight.shape[0] == 1  # the raw weights really were rescaled


# ----------------------------------------------------------------------------------------------- metrics

def test_perfect_sampler_covers_all_ring_modes_and_collapsed_one_covers_one():
    centres = data.ring_centres(8, 1.0)
    perfect = data.ring_of_gaussians(2000, 8, 1.0, 0.05, seed=123)
    covered, hq = gan.mode_coverage(perfect, centres, 0.15)
    assert covered == 8 and hq > 0.98
    collapsed = centres[3] + 0.05 * torch.randn(2000, 2, generator=torch.Generator().manual_seed(1))
    covered, hq = gan.mode_coverage(collapsed, centres, 0.15)
    assert covered == 1 and hq > 0.98
    assert gan.is_mode_collapse(covered, 8, hq) and not gan.is_mode_collapse(8, 8, 0.99)
    assert not gan.is_mode_collapse(1, 8, 0.1)  # bad samples everywhere: not yet learnt, not collapse


def test_mode_coverage_threshold_is_n_over_4k_and_far_samples_do_not_count():
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    # n = 16, K = 2: a mode needs >= 2 samples; mode 1 gets exactly 2, and 6 samples are far from both
    samples = torch.cat([torch.zeros(8, 2), torch.tensor([[10.0, 0.05], [10.0, -0.05]]), torch.full((6, 2), 5.0)])
    covered, hq = gan.mode_coverage(samples, centres, 0.1)
    assert covered == 2 and hq == pytest.approx(10 / 16)
    covered, _ = gan.mode_coverage(samples[:-1].clone().index_fill_(0, torch.tensor([9]), 5.0), centres, 0.1)
    assert covered == 1  # one sample on mode 1 is below n/(4K)


def test_energy_distance_matches_scipy_in_1d_and_the_gaussian_closed_form():
    import scipy.stats as scipy_stats  # pinned in requirements.txt: a broken install fails, never skips
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(300, 1, generator=g), 0.7 + 1.3 * torch.randn(250, 1, generator=g)
    ref = scipy_stats.energy_distance(x[:, 0].numpy(), y[:, 0].numpy()) ** 2
    assert gan.energy_distance(x.double(), y.double()) == pytest.approx(ref, rel=1e-9)
    assert gan.energy_distance(x, y) == pytest.approx(ref, rel=1e-5)  # float32, as in training
    # N(0,1) vs N(mu,1): 2 E|N(mu, 2)| - 2 E|N(0, 2)|,
    # with E|N(m, s^2)| = s sqrt(2/pi) e^{-m^2/2s^2} + m erf(m / s sqrt 2)
    mu, s = 1.0, math.sqrt(2)
    e_xy = s * math.sqrt(2 / math.pi) * math.exp(-mu**2 / (2 * s**2)) + mu * math.erf(mu / (s * math.sqrt(2)))
    closed = 2 * e_xy - 2 * s * math.sqrt(2 / math.pi)
    a, b = torch.randn(4000, 1, generator=g), mu + torch.randn(4000, 1, generator=g)
    assert gan.energy_distance(a, b) == pytest.approx(closed, abs=0.02)
    assert gan.energy_distance(a, a) == pytest.approx(0.0, abs=1e-12)


def test_gaussian_kde_matches_scipy_with_silverman_bandwidth():
    import scipy.stats as scipy_stats  # pinned in requirements.txt: a broken install fails, never skips
    s = torch.cat([torch.randn(200, generator=torch.Generator().manual_seed(2)) * 0.3 - 1, torch.tensor([2.0, 2.1])])
    grid = torch.linspace(-3, 3, 50, dtype=torch.float64)
    q75, q25 = np.percentile(s.numpy(), [75, 25])
    h = 0.9 * min(float(s.std()), (q75 - q25) / 1.34) * len(s) ** -0.2
    ref = scipy_stats.gaussian_kde(s.double().numpy(), bw_method=h / float(s.double().std()))(grid.numpy())
    assert_close(gan.gaussian_kde(s, grid), torch.from_numpy(ref), atol=1e-6, rtol=1e-5)
    assert float(gan.gaussian_kde(s, torch.linspace(-10, 10, 4001)).sum() * 20 / 4000) == pytest.approx(1, abs=1e-3)


def test_mixture1d_density_integrates_to_one_and_pool_follows_it():
    x = torch.linspace(-6, 6, 12001, dtype=torch.float64)
    assert float(gan.mixture1d_density(x).sum() * 12 / 12000) == pytest.approx(1.0, abs=1e-6)
    t = gan.make_target(gan.GANConfig(target="mixture1d"))
    assert t.pool.shape == (4096, 1)
    assert float((t.pool < 0.1).double().mean()) == pytest.approx(0.4, abs=0.03)  # weight of the left mode


# ----------------------------------------------------------------------------------------------- config, data, training

@pytest.mark.parametrize("field, value", [
    ("target", "cifar"), ("loss", "wgan_lp"), ("activation", "gelu"), ("noise", "laplace"), ("opt_g", "lbfgs"),
    ("opt_d", "adagrad"), ("g_layers", gan.MAX_LAYERS + 1), ("d_layers", 0), ("g_width", gan.MAX_WIDTH * 2),
    ("d_width", gan.MIN_WIDTH - 1), ("latent", gan.MAX_LATENT + 1), ("batch", gan.MAX_BATCH * 2),
    ("d_steps", gan.MAX_D_STEPS + 1), ("steps", gan.MAX_STEPS + 1), ("lr_g", 0.0), ("lr_d", 2.0),
    ("lr_d", float("nan")), ("clip", 0.0), ("gp_weight", 101.0), ("snapshot_every", 0), ("n_show", 4096),
])
def test_every_config_cap_raises_value_error_naming_the_field_and_the_allowed_values(field, value):
    with pytest.raises(ValueError, match=rf"^Invalid {field}: .*\(allowed "):
        gan.GANConfig(**{field: value})


def test_too_many_snapshots_and_bad_points_raise_value_error():
    with pytest.raises(ValueError, match="Invalid snapshot_every: 1 for 5000 steps"):
        gan.GANConfig(steps=5000, snapshot_every=1)
    with pytest.raises(ValueError, match="range"):
        gan.GANConfig(target="custom", points="0,0; 9,9")


# ----------------------------------------------------------------------------------------------- the run budget

BIGGEST = dict(target="digits", latent=gan.MAX_LATENT, g_layers=gan.MAX_LAYERS, d_layers=gan.MAX_LAYERS,
               g_width=gan.MAX_WIDTH, d_width=gan.MAX_WIDTH, batch=gan.MAX_BATCH, d_steps=gan.MAX_D_STEPS,
               steps=gan.MAX_STEPS, loss="wgan_gp", spectral_norm=True)


def test_run_work_counts_the_multiply_adds_of_a_step_by_hand():
    cfg = gan.GANConfig(latent=2, g_layers=1, g_width=8, d_layers=2, d_width=16, batch=4, d_steps=3, steps=10)
    g = 2 * 8 + 8 * 2                 # z (2) -> 8 -> x (2)
    d = 2 * 16 + 16 * 16 + 16 * 1     # x (2) -> 16 -> 16 -> score (1)
    assert (gan.mlp_work(2, 2, 1, 8), gan.mlp_work(2, 1, 2, 16)) == (g, d)
    d_update = 4 * g + 3 * 2 * 4 * d + gan.UPDATE_WORK   # G forward; D forward and backward on 2B rows
    g_update = 3 * 4 * (g + d) + gan.UPDATE_WORK         # G and D forward and backward on B rows
    assert gan.run_work(cfg) == 10 * (3 * d_update + g_update)
    penalty = replace(cfg, loss="wgan_gp")
    assert gan.run_work(penalty) == 10 * (3 * (d_update + 5 * 4 * d + gan.UPDATE_WORK) + g_update)
    sn = gan.SN_WORK * 3   # three linear layers in D, every pass through D
    assert gan.run_work(replace(cfg, spectral_norm=True)) == 10 * (3 * (d_update + sn) + g_update + sn)


@pytest.mark.parametrize("change", [dict(steps=4000), dict(batch=256), dict(d_steps=4), dict(g_width=128),
                                    dict(d_layers=3), dict(loss="wgan_gp"), dict(spectral_norm=True),
                                    dict(target="digits")])
def test_more_of_anything_is_more_work(change):
    base = gan.GANConfig(steps=2000, batch=128, d_steps=2)
    assert gan.run_work(replace(base, **change)) > gan.run_work(base)


def test_a_run_over_the_budget_is_refused_before_any_work():
    cfg = gan.GANConfig(**BIGGEST)
    assert gan.run_work(cfg) > 20 * gan.MAX_RUN_WORK   # ~25 minutes of one CPU thread, measured
    with pytest.raises(ValueError, match=r"^Invalid run: .* s \(allowed at most .*30 s\)"):
        gan.train(cfg)   # raises at the call, not at the first snapshot: nothing was built
    with pytest.raises(ValueError, match="Invalid run"):
        gan.check_run(gan.GANConfig(loss="wgan_gp", d_steps=5, steps=5000))   # ~33 s measured, 40 s estimated


def test_the_default_and_the_presets_fit_the_budget_at_their_own_length():
    from ui.experiments import gan as experiment

    for cfg in [experiment.config({}, 0), experiment.config({"steps": gan.MAX_STEPS}, 0),
                *(experiment.preset(name, 0) for name in experiment.PRESETS)]:
        gan.check_run(cfg)
        assert gan.run_work(cfg) / gan.WORK_PER_SECOND < 15, cfg


@pytest.mark.slow
def test_the_work_estimate_ranks_runs_as_their_times_do():
    """The budget counts work, not seconds: three very different runs (wide nets and large batches, WGAN-GP with five
    critic steps, spectral norm with four layers) must cost time in proportion to their estimates, within a factor
    of 3 of each other (measured 0.8x, 1.2x, 1.5x of the estimate). Compared with each other, not with the clock, so
    a slower or busier machine cannot fail it; ``python -m bench gan`` reports the seconds themselves.

    Each run is timed in four interleaved rounds and its quickest round counts: another process on the same cores
    slows a run of many small operations more than one of a few large ones (a CI run beside other work measured
    1.1x, 2.5x, 3.8x from single rounds)."""
    import time

    configs = {name: gan.GANConfig(**change, steps=gan.MAX_STEPS) for name, change in (
        ("wide", dict(g_width=256, d_width=256, batch=512)),
        ("wgan_gp", dict(loss="wgan_gp", d_steps=5)),
        ("spectral", dict(spectral_norm=True, d_layers=4, d_steps=3, batch=16)))}
    states = {name: gan.init_state(cfg) for name, cfg in configs.items()}
    best = {name: float("inf") for name in configs}
    for state in states.values():
        gan.advance(state, 5)   # warm up
    for _ in range(4):
        for name, state in states.items():
            t0 = time.thread_time()   # this thread's CPU time (torch runs on one thread in the tests)
            gan.advance(state, 10)
            best[name] = min(best[name], time.thread_time() - t0)
    ratios = {name: best[name] * cfg.steps / 10 / (gan.run_work(cfg) / gan.WORK_PER_SECOND)
              for name, cfg in configs.items()}
    assert max(ratios.values()) / min(ratios.values()) < 3, ratios


@pytest.mark.parametrize("text, reason", [("", "empty"), ("1;2", "format"), ("a,b", "format"), ("nan,0", "range"),
                                          ("0,2", "range"), (";".join(["0,0"] * 65), "too_many")])
def test_parse_points_rejects_bad_text_with_a_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        gan.parse_points(text)


def test_parse_points_reads_semicolon_or_newline_separated_pairs():
    assert_close(gan.parse_points(" 1, -0.5 ;\n0.25,1 "), torch.tensor([[1.0, -0.5], [0.25, 1.0]]))


@pytest.mark.parametrize("target", gan.TARGETS)
def test_every_target_gives_a_pool_inside_its_bounds(target):
    cfg = gan.GANConfig(target=target)
    t = gan.make_target(cfg)
    assert t.pool.shape[1] == cfg.dim
    lo, hi = t.bounds
    assert float((t.pool.min(1).values >= lo).double().mean()) > 0.99
    assert float((t.pool.max(1).values <= hi).double().mean()) > 0.99


def test_train_step_equals_the_plain_pytorch_loop():
    from bench.gan import plain_loop

    cfg = gan.GANConfig(steps=40, d_steps=2)
    state = gan.init_state(cfg)
    gan.advance(state, 40)
    G, D = plain_loop(cfg, 40)
    for ours, ref in ((state.G, G), (state.D, D)):
        for p, q in zip(ours.parameters(), ref.parameters()):
            assert_close(p, q, atol=1e-5, rtol=1e-4)


def test_snapshots_do_not_change_the_run():
    a = gan.init_state(gan.GANConfig(steps=60, snapshot_every=10, spectral_norm=True))
    b = gan.init_state(gan.GANConfig(steps=60, snapshot_every=30, spectral_norm=True))
    gan.advance(a, 60)
    gan.advance(b, 60)
    assert len(a.history) == 7 and len(b.history) == 3
    for p, q in zip(a.D.state_dict().values(), b.D.state_dict().values()):
        assert torch.equal(p, q)


def test_train_yields_snapshots_every_few_steps_ending_at_the_configured_step():
    cfg = gan.GANConfig(steps=120, snapshot_every=50)
    snaps = list(gan.train(cfg))
    assert [s.step for s in snaps] == [0, 50, 100, 120]
    last = snaps[-1]
    assert last.fake.shape == (cfg.n_show, 2) and last.d_grid.shape == (gan.GRID_2D, gan.GRID_2D)
    assert last.manifold.shape == (gan.MANIFOLD, gan.MANIFOLD, 2) and last.arrows.shape == (gan.ARROWS, 2)
    assert math.isfinite(last.d_loss) and math.isfinite(last.g_loss)
    assert ((last.d_grid >= 0) & (last.d_grid <= 1)).all()  # a probability for the non-saturating loss


def test_arrows_point_uphill_on_d():
    state = gan.init_state(gan.GANConfig(steps=200))
    gan.advance(state, 150)
    snap = gan.current_snapshot(state)
    x = torch.from_numpy(snap.fake[: gan.ARROWS]).requires_grad_(True)
    (grad_d,) = torch.autograd.grad(state.D(x).sum(), x)
    cos = nn.functional.cosine_similarity(grad_d, torch.from_numpy(snap.arrows), dim=1)
    assert bool((cos > 0.999).all())  # -dL_G/dx is a positive multiple of dD/dx for the non-saturating loss


def test_wgan_clips_every_discriminator_weight():
    state = gan.init_state(gan.GANConfig(loss="wgan", clip=0.02, steps=20))
    gan.advance(state, 5)
    assert max(float(p.detach().abs().max()) for p in state.D.parameters()) <= 0.02 + 1e-7


@pytest.mark.parametrize("loss", gan.LOSSES)
def test_every_loss_trains_a_few_steps_with_finite_records(loss):
    state = gan.init_state(gan.GANConfig(loss=loss, steps=10, snapshot_every=5, d_steps=2))
    assert gan.advance(state, 10) == 10
    assert all(np.isfinite(state.curves[k]).all() and len(state.curves[k]) == 10 for k in gan.CURVES)
    assert state.history[-1].step == 10


def test_nan_stops_the_run_and_keeps_the_last_good_snapshot():
    state = gan.init_state(gan.GANConfig(steps=100, snapshot_every=10))
    gan.advance(state, 20)
    with torch.no_grad():
        state.D[0].weight[0, 0] = float("nan")
    gan.advance(state, 30)
    assert state.diverged_at == 21 and state.step == 20
    assert len(state.curves["d_loss"]) == 20
    assert gan.current_snapshot(state).step == 20 and np.isfinite(gan.current_snapshot(state).fake).all()
    assert gan.advance(state, 10) == 0  # stays stopped


def test_advance_respects_the_per_tick_cap_and_the_run_length():
    state = gan.init_state(gan.GANConfig(steps=gan.MAX_STEPS_PER_TICK + 50, snapshot_every=50))
    assert gan.advance(state, 10_000) == gan.MAX_STEPS_PER_TICK
    assert gan.advance(state, 10_000) == 50
    assert gan.advance(state, 10_000) == 0


def test_retune_changes_learning_rates_in_place_but_refuses_other_changes():
    cfg = gan.GANConfig(steps=50)
    state = gan.init_state(cfg)
    gan.advance(state, 5)
    assert gan.retune(state, replace(cfg, lr_g=1e-4, d_steps=3))
    assert state.opt_g.param_groups[0]["lr"] == 1e-4 and state.config.d_steps == 3
    assert not gan.retune(state, replace(cfg, loss="hinge"))
    assert not gan.retune(state, replace(cfg, steps=2))  # shorter than the steps already taken


def test_resume_keeps_a_retunable_run_and_starts_a_fresh_one_otherwise():
    cfg = gan.GANConfig(steps=20)
    assert gan.resume(None, cfg, "cpu").step == 0
    state = gan.init_state(cfg)
    gan.advance(state, 5)
    assert gan.resume(state, replace(cfg, lr_d=1e-4), "cpu") is state and state.step == 5
    fresh = gan.resume(state, replace(cfg, loss="lsgan"), torch.device("cpu"))
    assert fresh is not state and fresh.step == 0 and fresh.config.loss == "lsgan"
    assert not fresh.done
    gan.advance(fresh, 20)
    assert fresh.done and fresh.step == 20


def test_one_dimensional_and_digit_snapshots_have_their_own_views():
    s1 = gan.init_state(gan.GANConfig(target="mixture1d", latent=1, steps=20))
    gan.advance(s1, 20)
    snap = gan.current_snapshot(s1)
    assert snap.pg_density.shape == (gan.GRID_1D,) and snap.d_grid.shape == (gan.GRID_1D,) and snap.n_modes == 2
    s2 = gan.init_state(gan.GANConfig(target="digits", latent=8, steps=20))
    snap = gan.current_snapshot(s2)
    assert snap.fake.shape == (gan.DIGITS_SHOWN, 64) and snap.d_grid.shape == (gan.DIGITS_SHOWN,)
    assert snap.n_modes == 10
    assert ((snap.fake >= 0) & (snap.fake <= 1)).all()
    assert gan.latent_walk(s2, 7).shape == (7, 64)


@pytest.mark.parametrize("device", DEVICES)
def test_runs_on_every_available_device(device):
    state = gan.init_state(gan.GANConfig(steps=10, snapshot_every=5), device)
    gan.advance(state, 10)
    assert state.G[0].weight.device.type == device and state.history[-1].step == 10


@pytest.mark.slow
def test_default_ring_run_covers_at_least_7_of_8_modes():
    last = list(gan.train(gan.GANConfig()))[-1]
    assert last.step == 2000 and last.modes_covered >= 7 and last.distance < 0.05


@pytest.mark.slow
def test_one_dimensional_run_ends_with_d_near_one_half_on_the_data():
    last = list(gan.train(gan.GANConfig(target="mixture1d", latent=1, noise="uniform")))[-1]
    support = gan.mixture1d_density(torch.linspace(*gan.BOUNDS_1D, gan.GRID_1D)).numpy() > 0.05
    d = last.d_grid[support]
    assert abs(float(d.mean()) - 0.5) < 0.03 and float(np.abs(d - 0.5).max()) < 0.1
    assert last.modes_covered == 2


@pytest.mark.parametrize("preset", ["paper1d", "collapse", "digits"])
def test_a_run_in_chunks_through_the_worker_transport_gives_the_snapshots_of_one_run(preset):
    """What the replay tab does (a chunk in a worker, the state pickled there and back) yields, bit for bit, what
    ``train`` yields in one go: the chunks, the pickling and the resumed RNG change nothing."""
    from dlcore import jobs
    from ui.experiments import gan as experiment

    config = experiment.preset(preset, steps=300)
    whole = list(gan.train(config))
    state, chunks = gan.init_state(config), 0
    while not state.done:
        state = jobs.loads(jobs.dumps(gan.run_steps(jobs.loads(jobs.dumps(state)), 70)))   # 70: not a snapshot step
        chunks += 1
    assert chunks == 5 and state.step == 300
    assert [s.step for s in state.history] == [s.step for s in whole] == list(range(0, 301, config.snapshot_every))
    for a, b in zip(state.history, whole):
        np.testing.assert_array_equal(a.fake, b.fake)
        assert a.d_loss == b.d_loss or (np.isnan(a.d_loss) and np.isnan(b.d_loss))
