"""Claim tests of the GAN lesson: every sentence a learner reads about what the lab shows, run through dlcore.

Texts: assets/lessons/<lang>/gan.md (the concept), assets/i18n/<lang>/gan.toml (preset notes ``presets.*.note``,
notices ``notice.*``, help texts). Each test runs the exact preset or default from ``ui.experiments.gan`` at the
app's global seeds; a training run is made once (``_run``) and shared by the claims about it.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from dlcore import gan
from tests.support import colour_name
from ui.experiments import gan as experiment
from ui.figures import gan as figs

SEEDS = range(5)          # the sidebar's global seed: the default 0 and four more
COSTLY_SEEDS = range(3)   # WGAN-GP and digits runs take several seconds each


@functools.cache
def _run(name: str, seed: int, **changes: object) -> gan.GANState:
    """The finished run of preset ``name`` ("default": the lesson's default) at global seed ``seed``."""
    cfg = experiment.config(changes, seed) if name == "default" else experiment.preset(name, seed, **changes)
    state = gan.init_state(cfg)
    while state.step < cfg.steps and state.diverged_at is None:
        gan.advance(state, gan.MAX_STEPS_PER_TICK)
    assert state.diverged_at is None, f"{name} diverged at step {state.diverged_at} (seed {seed})"
    return state


def _at(state: gan.GANState, step: int) -> gan.Snapshot:
    return next(s for s in state.history if s.step == step)


def _d(state: gan.GANState, x: torch.Tensor) -> torch.Tensor:
    """What the lesson calls D(x): a probability for minimax / non-saturating, else the critic's score."""
    with torch.no_grad():
        return gan.d_output(state.config, state.D(x))[:, 0]


# ---------------------------------------------------------------------------------------------
# Concept text (assets/lessons/<lang>/gan.md)

def test_minimax_generator_loss_is_flat_where_d_rejects_the_fakes_and_non_saturating_is_steep():
    """gan.md, "Saturation": "Early on D easily rejects the fakes, D(G(z)) ≈ 0, and log(1 − D(G(z))) is flat
    there ... the non-saturating loss −E[log D(G(z))], which is steep exactly where G is losing." """
    f = torch.tensor([-8.0, -4.0, -1.0], requires_grad=True)   # D(G(z)) = 3e-4, 0.018, 0.27: G is losing
    (g_minimax,) = torch.autograd.grad(gan.minimax_g_loss(f) * 3, f)
    (g_nonsat,) = torch.autograd.grad(gan.nonsat_g_loss(f) * 3, f)
    assert abs(g_minimax[0]) < 1e-3 < 0.99 < abs(g_nonsat[0])
    assert (g_minimax.abs() < g_nonsat.abs()).all()


@pytest.mark.parametrize("loss", ["minimax", "lsgan"])
def test_at_equilibrium_the_discriminator_outputs_one_half(loss):
    """gan.md: "Then D*(x) = 1/2 everywhere" and, for least squares, "at equilibrium it also outputs 1/2".

    With p_g = p_data a point is as likely real as generated: D's best single output there is 1/2.
    """
    raw = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([raw], lr=0.5)
    d_loss = gan.LOSS_FUNCTIONS[loss][0]
    for _ in range(300):
        opt.zero_grad()
        d_loss(raw.expand(8), raw.expand(8)).backward()   # the same point, seen as real and as generated
        opt.step()
    out = (torch.sigmoid(raw) if loss in gan.PROBABILITY_LOSSES else raw).detach()
    assert abs(float(out) - 0.5) < 1e-3


def test_hinge_discriminator_stops_pushing_on_points_beyond_the_margin():
    """gan.md: "hinge: D stops pushing on a real point once D(x) ≥ 1 and on a generated one once D(x) ≤ −1;
    points already beyond the margin cost nothing." """
    r = torch.tensor([1.5, 0.5, -2.0], requires_grad=True)
    f = torch.tensor([-1.5, -0.5, 2.0], requires_grad=True)
    gr, gf = torch.autograd.grad(gan.hinge_d_loss(r, f), (r, f))
    assert gr[0] == 0 and gf[0] == 0                      # beyond the margin: no push
    assert (gr[1:] != 0).all() and (gf[1:] != 0).all()   # inside it, or on the wrong side: pushed


def test_wgan_clips_every_critic_weight_to_plus_minus_c():
    """gan.md: "The original WGAN enforces that crudely by clipping every weight to [−c, c]"."""
    state = gan.init_state(experiment.config({"loss": "wgan", "steps": 500}, 0))
    gan.advance(state, 20)
    c = state.config.clip
    assert all(float(p.detach().abs().max()) <= c + 1e-7 for p in state.D.parameters())


def test_spectral_norm_keeps_every_layer_of_d_from_stretching_its_input_more_than_once():
    """gan.md: "spectral normalization divides each weight matrix of D by its largest singular value, so no
    layer can stretch its input by more than a factor of 1"."""
    state = gan.init_state(experiment.config({"sn": True, "steps": 500}, 0))
    gan.advance(state, 100)
    state.D.eval()   # read the normalised weights without another power iteration
    sigmas = [float(torch.linalg.matrix_norm(m.weight.detach(), ord=2))
              for m in state.D if isinstance(m, torch.nn.Linear)]
    assert len(sigmas) == state.config.d_layers + 1 and max(sigmas) < 1.05


def test_energy_distance_is_zero_only_when_the_distributions_match():
    """gan.md and help.distance: the energy distance "is zero only when the distributions match"."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 2, generator=g, dtype=torch.float64)
    assert abs(gan.energy_distance(x, x.clone())) < 1e-12
    assert gan.energy_distance(x + 0.5, x) > 0.1 and gan.energy_distance(1.5 * x, x) > 0.05


def test_one_step_is_k_discriminator_updates_and_one_generator_update():
    """gan.md, "Alternating optimization": "update D k times ..., then ... update G once"; help.steps: "One step
    is k discriminator updates and one generator update"."""
    state = gan.init_state(experiment.config({"d_steps": 3}, 0))
    gan.advance(state, 4)
    steps_of = lambda opt: int(next(iter(opt.state.values()))["step"])   # noqa: E731  (Adam's update count)
    assert (steps_of(state.opt_d), steps_of(state.opt_g)) == (12, 4)


def test_arrows_on_the_generated_points_are_minus_the_generator_loss_gradient():
    """gan.md: "the arrows on the generated points are exactly −∂L_G/∂x: the direction each sample is being pushed"."""
    state = gan.init_state(experiment.config({}, 0))
    gan.advance(state, 30)
    snap = gan.current_snapshot(state)
    x = torch.tensor(snap.fake[: len(snap.arrows)], requires_grad=True)
    per_sample = gan.nonsat_g_loss   # the default loss, one sample at a time
    (grad,) = torch.autograd.grad(sum(per_sample(state.D(x[i:i + 1])) for i in range(len(x))), x)
    np.testing.assert_allclose(snap.arrows, -grad.numpy(), rtol=1e-4, atol=1e-7)


def test_high_quality_is_three_standard_deviations_and_a_mode_needs_n_over_4k_samples():
    """gan.md: "high-quality samples (within three standard deviations of some mode)", "modes covered (modes that
    receive at least n/(4K) of n samples, K modes)"; help.modes and help.hq say the same."""
    sd = {"ring": 0.05, "grid": 0.03, "gaussian": 0.25, "custom": 0.05, "mixture1d": 0.3}
    for target, s in sd.items():
        assert gan.make_target(experiment.config({"target": target}, 0), n=64).radius == pytest.approx(3 * s)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    n, k = 80, 2                                   # a mode needs n / (4K) = 10 samples
    for on_second, covered in ((10, 2), (9, 1)):
        samples = torch.cat([torch.zeros(n - on_second, 2), torch.tensor([[10.0, 0.0]]).repeat(on_second, 1)])
        assert gan.mode_coverage(samples, centres, 0.15) == (covered, 1.0)
    assert n // (4 * k) == 10


def test_moons_and_spiral_have_no_modes_to_count():
    """help.modes: "Not defined for the moons and the spiral"."""
    for target in ("moons", "spiral"):
        assert gan.make_target(experiment.config({"target": target}, 0), n=64).centres is None


# ---------------------------------------------------------------------------------------------
# Labels, help and controls (assets/i18n/<lang>/gan.toml)

def test_the_lesson_compares_six_losses():
    """promise: "compare six losses"."""
    assert len(gan.LOSSES) == len(gan.LOSS_FUNCTIONS) == 6


def test_option_labels_state_what_the_code_does():
    """optimizers.adam "Adam (β₁ = 0.5)", activations.leaky_relu "Leaky ReLU (0.2)",
    noises.uniform "Uniform U(−1, 1)"."""
    opt = gan.make_optimizer("adam", [torch.nn.Parameter(torch.zeros(1))], 1e-3)
    assert opt.defaults["betas"][0] == 0.5
    leaky = gan.mlp(1, 1, 1, 8, "leaky_relu")[1]
    assert leaky.negative_slope == 0.2
    z = gan.sample_noise(5000, 2, "uniform", torch.Generator().manual_seed(0), "cpu")
    assert float(z.min()) >= -1 and float(z.max()) <= 1 and float(z.min()) < -0.99 and float(z.max()) > 0.99


def test_a_snapshot_is_taken_every_50_steps():
    """replay_empty: "a snapshot is taken every 50 steps"."""
    state = gan.init_state(experiment.config({"steps": 500}, 0))
    gan.advance(state, 120)
    assert [s.step for s in state.history] == [0, 50, 100]


def test_learning_rates_d_steps_and_step_count_keep_the_run_any_other_setting_starts_a_new_one():
    """controls_note: "Changing a learning rate, the D steps or the step count keeps the run going; any other
    setting starts a new one." """
    state = gan.init_state(experiment.config({}, 0))
    for live in ({"lr_g": 1e-2}, {"lr_d": 1e-4}, {"d_steps": 3}, {"steps": 3000}):
        assert gan.retune(state, experiment.config(live, 0)), live
    state = gan.init_state(experiment.config({}, 0))
    for other in ({"loss": "hinge"}, {"batch": 64}, {"latent": 3}, {"sn": True}, {"target": "grid"}):
        assert not gan.retune(state, experiment.config(other, 0)), other
    assert not gan.retune(state, experiment.config({}, 1))   # another global seed, another run


# ---------------------------------------------------------------------------------------------
# Colours named by the texts, read from the figure builders' output

def _labels() -> dict:
    keys = ("real", "fake", "manifold", "arrows", "x1", "x2", "x", "density", "d", "d_star", "p_data", "p_g",
            "samples", "title")
    return {k: k for k in keys}


def test_2d_view_colours_are_the_ones_the_texts_name():
    """gan.md, "Reading the 2D view": "D on a grid (green: "real", purple: "generated"), black dots are data,
    orange dots are G's samples ..., and the blue mesh is G applied to a grid of latent vectors"; notice.live:
    "Green regions are where the discriminator says “real”, purple where it says “generated”"."""
    state = gan.init_state(experiment.config({}, 0))
    spec = figs.game_2d(state.history[0], state.real_show.numpy(), state.target.bounds, prob=True,
                        labels=_labels()).to_dict()
    by_name = {tr["name"]: tr for tr in spec["data"]}
    scale = by_name["d"]["colorscale"]
    assert (scale[0][0], colour_name(scale[0][1])) == (0.0, "purple")    # D = 0: "generated"
    assert (scale[-1][0], colour_name(scale[-1][1])) == (1.0, "green")   # D = 1: "real"
    assert by_name["d"]["zmin"] == 0 and by_name["d"]["zmax"] == 1
    assert colour_name(by_name["real"]["marker"]["color"]) == "black"
    assert colour_name(by_name["fake"]["marker"]["color"]) == "orange"
    assert colour_name(by_name["manifold"]["line"]["color"]) == "blue"


def test_1d_view_lines_are_the_ones_the_texts_name():
    """notice.live_1d: "The thin blue line is ... D* ... The trained D(x), the thick dotted blue line, chases it;
    once the orange p_g covers the dashed p_data, D* and D(x) both lie flat on the grey line at 1/2"; gan.md:
    "p_data (dashed)"; presets.paper1d.note: "D(x) flattens onto the grey line at 1/2"."""
    state = gan.init_state(experiment.preset("paper1d", 0))
    xs = state.grid[:, 0]
    spec = figs.game_1d(state.history[0], xs.numpy(), gan.mixture1d_density(xs).numpy(), prob=True,
                        labels=_labels()).to_dict()
    line = {tr["name"]: tr["line"] for tr in spec["data"] if "line" in tr}
    assert line["p_data"]["dash"] == "dash"
    assert colour_name(line["p_g"]["color"]) == "orange"
    assert colour_name(line["d_star"]["color"]) == "blue" and line["d_star"]["width"] == 1
    assert colour_name(line["d"]["color"]) == "blue" and line["d"]["dash"] == "dot" and line["d"]["width"] >= 3
    (half,) = spec["layout"]["shapes"]
    assert (half["y0"], half["y1"], half["yref"]) == (0.5, 0.5, "y2") and colour_name(half["line"]["color"]) == "grey"


# ---------------------------------------------------------------------------------------------
# The runs behind the notices and the presets

@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_paper1d_preset_grows_two_bumps_and_d_flattens_at_one_half(seed):
    """presets.paper1d.note: "Watch p_g grow two bumps over p_data while D(x) flattens onto the grey line at 1/2";
    notice.live_1d: "D* = p_data / (p_data + p_g): above 1/2 where the data outweighs the generator, below where
    the generator puts too much ... As the orange p_g grows over the dashed p_data, D(x) flattens onto the grey
    line at 1/2; D* ... keeps wobbling around 1/2 wherever they still differ"; gan.md: "as p_g moves onto p_data,
    D flattens to the line at 1/2"."""
    state = _run("paper1d", seed)
    first, last = state.history[1], state.history[-1]
    assert (last.modes_covered, last.n_modes) == (2, 2) and last.hq_fraction > 0.9
    xs = state.grid[:, 0]
    p_data = gan.mixture1d_density(xs).numpy()
    where = p_data > 0.05                              # where the data has mass
    assert np.abs(last.d_grid[where] - 0.5).max() < 0.1
    assert np.abs(first.d_grid[where] - 0.5).mean() > np.abs(last.d_grid[where] - 0.5).mean()
    for snap in (first, last):   # D* is the figure's thin line: on the data side of 1/2 exactly where p_data wins
        d_star = p_data / (p_data + snap.pg_density)
        np.testing.assert_array_equal((d_star > 0.5)[where], (p_data > snap.pg_density)[where])
    d_star = (p_data / (p_data + last.pg_density))[where]
    assert d_star.min() < 0.5 < d_star.max()          # wobbling around 1/2: on both sides of it


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_saturating_preset_stalls_with_minimax_and_learns_with_non_saturating(seed):
    """presets.saturating.note: "the discriminator ... rejects the generated samples at once, D(G(z)) ≈ 0 ...
    With the original minimax loss the generator's gradient norm ‖∇G‖ falls to almost zero and the orange samples
    stay where they started. Switch the loss to non-saturating and press Play: the same setup gets a gradient
    thousands of times larger and moves the samples onto the blob within a hundred steps." """
    stuck, learns = _run("saturating", seed), _run("saturating", seed, loss="nonsat")
    assert stuck.config.loss == "minimax" and learns.config == experiment.preset("saturating", seed, loss="nonsat")
    # minimax: D(G(z)) ~ 0 within 50 steps (its G loss is E[log(1 - D(G(z)))] ~ -E[D(G(z))]), a vanishing
    # gradient, samples where they started
    assert -np.mean(stuck.curves["g_loss"][40:50]) < 0.05
    with torch.no_grad():
        assert float(_d(stuck, stuck.G(stuck.z_show)).mean()) < 0.01
    g_stuck = np.median(stuck.curves["g_grad"][50:])
    assert g_stuck < 1e-3
    moved = np.linalg.norm(stuck.history[-1].fake - stuck.history[0].fake, axis=1).mean()
    assert moved < 0.05 and stuck.history[-1].hq_fraction == 0.0
    # non-saturating: the same setup, a gradient thousands of times larger, all samples on the blob by step 100
    assert np.median(learns.curves["g_grad"][50:]) > 1000 * g_stuck
    for snap in (_at(learns, 100), learns.history[-1]):
        assert (snap.modes_covered, snap.n_modes) == (1, 1) and snap.hq_fraction > 0.9
        assert snap.distance < 0.1 * learns.history[0].distance


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_default_ring_covers_all_modes_pushes_samples_uphill_and_d_is_one_half_on_the_data(seed):
    """notice.live: "the arrows show where the generator's gradient pushes each sample: uphill on D ... Once the
    orange samples sit on the data, the colour under them is pale, D ≈ 1/2"; presets.collapse.note: "set both
    learning rates back to 0.001 and press Reset (that run covers all eight)"."""
    state = _run("default", seed)
    last = state.history[-1]
    assert (last.modes_covered, last.n_modes) == (8, 8)
    assert experiment.config({}, seed) == experiment.preset("collapse", seed, lr_g=1e-3, lr_d=1e-3)
    d_real, d_fake = _d(state, state.real_show), _d(state, torch.from_numpy(last.fake))
    assert abs(float(d_real.mean()) - 0.5) < 0.1 and abs(float(d_fake.mean()) - 0.5) < 0.1
    assert float((d_real - 0.5).abs().mean()) < 0.1
    x = torch.tensor(last.fake[: len(last.arrows)], requires_grad=True)
    (up,) = torch.autograd.grad(state.D(x).sum(), x)
    assert ((up.numpy() * last.arrows).sum(1) > 0).all()


def _along_d(state: gan.GANState) -> tuple[np.ndarray, torch.Tensor]:
    """(arrow . grad D) for each arrow of a fresh snapshot, and D at those samples."""
    snap = gan.snapshot(state, 0.0, 0.0)
    x = torch.tensor(snap.fake[: len(snap.arrows)], requires_grad=True)
    (up,) = torch.autograd.grad(state.D(x).sum(), x)
    return (up.numpy() * snap.arrows).sum(1), _d(state, x.detach())


@pytest.mark.parametrize("loss", gan.LOSSES)
def test_generator_arrows_point_uphill_on_d_and_for_least_squares_towards_d_equal_1(loss):
    """notice.live: "the arrows show where the generator's gradient pushes each sample: uphill on D (with least
    squares, towards D = 1)"."""
    state = gan.init_state(experiment.config({"loss": loss}, 0))
    along, d = _along_d(state)
    assert (d < 1).all() and (along > 0).all()
    with torch.no_grad():
        state.D[-1].bias.add_(3.0)   # D above 1 on every sample
    along, d = _along_d(state)
    if loss == "lsgan":
        assert (d > 1).all() and (along < 0).all()   # above 1, "towards D = 1" is downhill
    else:
        assert (along > 0).all()


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_collapse_preset_puts_most_samples_on_a_few_modes_and_is_flagged(seed):
    """presets.collapse.note: "Most samples land on real modes, yet only a few of the eight modes get a fair share:
    the warning above the figures flags it"; gan.md: "the share of high-quality samples ... stays high, while the
    number of modes covered ... drops"."""
    last = _run("collapse", seed).history[-1]
    assert last.hq_fraction > 0.5 and last.modes_covered <= 3 and last.n_modes == 8
    assert gan.is_mode_collapse(last.modes_covered, last.n_modes, last.hq_fraction)


@pytest.mark.slow
@pytest.mark.parametrize("seed", COSTLY_SEEDS)
def test_wgan_gp_preset_reaches_all_eight_modes_keeps_six_and_scores_are_not_probabilities(seed):
    """presets.wgan_gp.note: "a gradient penalty keeps its slope near 1 ... there is no mode collapse: the samples
    reach all eight modes and keep at least six of them covered, so the warning never appears. The critic's values
    are scores, not probabilities, so there is no 1/2 for them to settle at"; label "WGAN-GP, 5 D steps"."""
    state = _run("wgan_gp", seed)
    assert state.config.d_steps == 5 and state.config.loss == "wgan_gp"
    reached = next(i for i, s in enumerate(state.history) if s.modes_covered == 8)
    assert min(s.modes_covered for s in state.history[reached:]) >= 6
    assert not any(gan.is_mode_collapse(s.modes_covered, s.n_modes, s.hq_fraction) for s in state.history)
    last = state.history[-1]
    assert last.d_grid.min() < 0 or last.d_grid.max() > 1   # a score outside [0, 1]: not a probability
    g = torch.Generator().manual_seed(seed)
    fake = torch.from_numpy(last.fake[:256])
    eps = torch.rand(256, 1, generator=g)
    x_hat = (eps * state.real_show[:256] + (1 - eps) * fake).requires_grad_(True)
    (slope,) = torch.autograd.grad(state.D(x_hat).sum(), x_hat)
    assert 0.5 < float(slope.norm(dim=1).mean()) < 1.5


class _Flops(TorchDispatchMode):
    """Counts the floating-point operations torch runs (matrix products and the like, by torch's own
    ``flop_registry``), gradient-penalty double-backward included: a cost that does not depend on the machine."""

    total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        rule = flop_registry.get(func._overloadpacket)
        if rule is not None:
            self.total += rule(*args, **kwargs, out_val=out)
        return out


@pytest.mark.slow
def test_wgan_gp_costs_more_per_step_than_the_default():
    """presets.wgan_gp.note: "Each step costs more" (five critic updates and a gradient penalty per step). Counted in
    the operations torch runs, not in seconds, so a busy machine cannot fail it (measured 5.8x)."""
    def flops(cfg: gan.GANConfig) -> int:
        state = gan.init_state(cfg)
        gan.advance(state, 2)
        with _Flops() as count:
            gan.advance(state, 10)
        return count.total
    assert flops(experiment.preset("wgan_gp", 0)) > 2 * flops(experiment.config({}, 0))


@pytest.mark.slow
@pytest.mark.parametrize("seed", COSTLY_SEEDS)
def test_digits_start_as_one_grey_blur_then_split_into_the_ten_classes(seed):
    """notice.live_digits: "Early samples are grey blur; the generator first learns the average stroke, then splits
    into separate digit shapes. The modes metric counts how many of the ten classes (nearest class mean) get a fair
    share"; presets.digits.note: "A small MLP generator learns 8×8 handwritten digits ... the row below walks in a
    straight line between two of them. The modes here are the ten digit classes"."""
    state = _run("digits", seed)
    real = state.target.pool
    grey = lambda x: float(((x > 0.2) & (x < 0.8)).double().mean())   # noqa: E731
    early, last = torch.from_numpy(_at(state, 50).fake), torch.from_numpy(state.history[-1].fake)
    assert grey(early) > 1.3 * grey(real)                             # grey blur
    assert float(early.std(0).mean()) < 0.25 * float(real.std(0).mean())   # all alike
    mean_digit = real.mean(0)
    assert float((early.mean(0) - mean_digit).norm()) < float((real - mean_digit).norm(dim=1).median())
    assert float(last.std(0).mean()) > 0.6 * float(real.std(0).mean())    # split into different shapes
    snap = state.history[-1]
    assert snap.n_modes == 10 and snap.modes_covered >= 7 and snap.hq_fraction > 0.7
    assert max(s.modes_covered for s in state.history[:3]) <= 3
    walk = gan.latent_walk(state)
    with torch.no_grad():
        ends = state.G(state.z_show[:2]).numpy()
    np.testing.assert_allclose(walk[[0, -1]], ends, atol=1e-6)
