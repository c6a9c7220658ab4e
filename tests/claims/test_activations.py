"""Claim tests of the activations lesson: each sentence a learner reads about what the lab shows, run through dlcore
on the exact preset or default behind it (``ui.experiments.activations``), over the sidebar seeds 0-4 (issue 19).

Texts: assets/i18n/<lang>/activations.toml (``presets.*.note``, ``notice.*``, ``help.ratio``) and
assets/lessons/<lang>/activations.md; the English sentence is quoted in each docstring.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore import activations as act
from dlcore import curve_pieces as cp
from dlcore import deep_training as dt
from ui.experiments import activations as experiment

SEEDS = range(5)   # the sidebar's global seed: 0 by default, any other a learner may pick


@functools.cache
def signal(preset: str | None, seed: int) -> act.Signal:
    """The signal tab's experiment for ``preset`` (None: the defaults), as the page computes it."""
    return act.deep_signal(experiment.signal_config(experiment.values(preset), seed), "cpu")


def stats(preset: str | None, seed: int):
    return signal(preset, seed).stats


@functools.cache
def race(preset: str | None, seed: int, lr: float | None = None) -> dict[str, dt.TrainHistory]:
    """The train tab's race for ``preset`` (optionally at another learning rate), by racer name."""
    v = experiment.values(preset) | ({"lr": lr} if lr else {})
    racers = experiment.racers(v)
    return dict(zip(racers, dt.race(experiment.race_config(v, seed), racers, "cpu")))


def per_layer(values: np.ndarray, start: float | None = None) -> float:
    """Geometric-mean factor per layer between the first value (or ``start``, the input) and the last."""
    v = np.asarray(values, dtype=np.float64)
    if start is None:
        return float((v[-1] / v[0]) ** (1 / (len(v) - 1)))
    return float((v[-1] / start) ** (1 / len(v)))


def per_layer_back(s) -> float:
    """Geometric-mean factor by which ‖∂L/∂z‖ changes per layer on its way back, from the last layer to the first."""
    return act.backward_ratio(s) ** (1 / (len(s) - 1))


# ---- the signal tab: the headline ratio and the five presets ---------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_collapse_headline_ratio_shows_the_vanishing_gradient_while_the_weight_gradients_are_level_and_tiny(seed):
    """presets.collapse.note: "On the way back ‖∂L/∂z‖ shrinks by the same 0.16 per layer, so the headline ratio
    is below 10⁻¹⁵: a vanishing gradient. The dotted ‖∂L/∂W_l‖ = ‖δ_lᵀ a_{l−1}‖ looks level, because a_{l−1}
    grows toward the input as fast as δ_l shrinks, but it is about 10⁻¹⁴ at every layer: no layer learns."
    Also help.ratio ("it can stay level while both shrink") and the concept text (activations.md). Issue 19: the
    old headline, the weight gradients' ratio, read 0.97 here."""
    s = stats("collapse", seed)
    assert 1e-17 < act.backward_ratio(s) < 1e-15
    assert 0.14 < per_layer_back(s) < 0.18
    w = s["grad_norm"].to_numpy()
    assert w.max() / w.min() < 2                                  # level across the 20 layers ...
    assert 1e-15 < w.min() and w.max() < 1e-13                    # ... at about 1e-14


@pytest.mark.parametrize("seed", SEEDS)
def test_collapse_multiplies_the_spread_by_about_0_16_per_layer_to_around_1e_16(seed):
    """presets.collapse.note: "Weights from N(0, 0.01²) with 256 inputs multiply the spread by about 0.16 per
    layer: by layer 20 the activations are around 10⁻¹⁶. [...] The network forgets its input." """
    s = stats("collapse", seed)
    assert 0.15 < per_layer(s["act_std"], start=1.0) < 0.17       # the input batch is standard normal
    assert 1e-17 < s["act_std"].iloc[-1] < 1e-15


@pytest.mark.parametrize("seed", SEEDS)
def test_saturate_spread_is_about_16_and_the_saturated_share_near_90_percent(seed):
    """presets.saturate.note: "Now each pre-activation sums 256 terms of size 1, so its spread is about 16:
    almost every unit sits on tanh's flat ±1 (the saturated share is near 90%) [...]" """
    s = stats("saturate", seed)
    assert 14 < s["pre_std"].mean() < 18
    assert 0.85 < s["saturated_frac"].mean() < 0.95


@pytest.mark.parametrize("seed", SEEDS)
def test_saturate_histograms_pile_up_at_the_two_ends(seed):
    """presets.saturate.note: "[...] and the histograms pile up at the two ends." """
    sig = signal("saturate", seed)
    centres = (sig.edges[:-1] + sig.edges[1:]) / 2
    ends = sig.hist[:, np.abs(centres) > 0.9].sum(axis=1)          # every drawn layer
    assert ends.min() > 0.85


@pytest.mark.parametrize("seed", SEEDS)
def test_saturate_gradient_explodes_about_threefold_per_layer_because_the_weights_win(seed):
    """presets.saturate.note: "Saturated units pass almost no gradient back, and still the gradient explodes: the
    weights are 16 times too large, and the few units left in tanh's steep middle carry ‖∂L/∂z‖ back about 3
    times larger per layer, some 10⁹ times by the first layer." The concept text (activations.md) says the same
    ("still grows about threefold per layer"); help.ratio calls orders of magnitude above 1 exploding."""
    s = stats("saturate", seed)
    assert 2.5 < per_layer_back(s) < 3.5
    assert 1e8 < act.backward_ratio(s) < 1e10


@pytest.mark.parametrize("seed", SEEDS)
def test_kaiming_keeps_the_spread_between_about_half_and_one_and_the_backward_signal_level(seed):
    """presets.kaiming.note: "the spread stays between about 0.5 and 1 and ‖∂L/∂z‖ stays level across all 50
    layers (the ratio is close to 1)." """
    s = stats("kaiming", seed)
    assert len(s) == 50
    assert 0.4 < s["act_std"].min() and s["act_std"].max() < 1.2
    assert 0.7 < act.backward_ratio(s) < 1.4
    assert 0.97 < per_layer_back(s) < 1.03


@pytest.mark.parametrize("seed", SEEDS)
def test_kaiming_leaves_about_a_third_of_the_deepest_units_dead_for_this_batch(seed):
    """presets.kaiming.note: "A share of units still turns dead for this batch in the deepest layers, about a third
    by layer 50 [...]" """
    dead = stats("kaiming", seed)["dead_frac"].to_numpy()
    assert dead[:3].max() < 0.05
    assert 0.25 < dead[-1] < 0.45


def test_kaiming_inputs_look_more_and_more_alike_as_they_go_deeper():
    """presets.kaiming.note: "[...] because the inputs look more and more alike as they go deeper." The same net,
    drawn as deep_signal draws it: mean cosine similarity between two inputs' activations, layer by layer."""
    for seed in SEEDS:
        c = experiment.signal_config(experiment.values("kaiming"), seed)
        g = torch.Generator().manual_seed(seed)
        a = torch.randn(c.batch, c.width, generator=g)
        torch.randn(c.batch, c.width, generator=g)                 # deep_signal's loss directions come next
        similarity = []
        for _ in range(c.depth):
            w = act.init_weight_(torch.empty(c.width, c.width), c.init, g)
            a = act.activate(c.activation, a @ w.T)
            u = F.normalize(a, dim=1)
            m = u @ u.T
            similarity.append(float((m.sum() - m.diagonal().sum()) / (m.numel() - len(m))))
        assert similarity[0] < 0.5 and similarity[-1] > 0.95
        assert similarity[0] < similarity[9] < similarity[24] < similarity[-1]


@pytest.mark.parametrize("seed", SEEDS)
def test_relu_with_xavier_loses_sqrt2_per_layer_forward_and_backward_to_about_1e_8(seed):
    """presets.missing_two.note: "ReLU halves the variance, so the spread falls by √2 per layer, to about 10⁻⁸
    after 50 layers, and ‖∂L/∂z‖ falls by the same √2 per layer on the way back." """
    s = stats("missing_two", seed)
    assert per_layer(s["act_std"]) == pytest.approx(1 / math.sqrt(2), abs=0.01)
    assert per_layer_back(s) == pytest.approx(1 / math.sqrt(2), abs=0.01)
    assert 1e-9 < s["act_std"].iloc[-1] < 1e-7


def test_kaiming_and_xavier_differ_by_exactly_the_factor_two():
    """presets.missing_two.note: "Xavier's 2/(n_in + n_out) = 1/n [...] Compare with the Kaiming preset — the factor
    2 is the whole difference." The two presets differ in nothing else."""
    kaiming, xavier = experiment.values("kaiming"), experiment.values("missing_two")
    assert {k for k in kaiming if kaiming[k] != xavier[k]} == {"init"}
    n = int(kaiming["width"])
    assert act.init_variance("xavier_normal", n, n) == pytest.approx(1 / n)
    assert act.init_variance("kaiming_normal", n, n) == pytest.approx(2 * act.init_variance("xavier_normal", n, n))


@pytest.mark.parametrize("seed", SEEDS)
def test_batchnorm_rescue_keeps_spread_saturation_and_gradient_healthy(seed):
    """presets.bn_rescue.note: "[...] BatchNorm rescales every layer's pre-activations to variance 1 before tanh:
    the spread, the saturated share and the gradient all stay healthy at every depth, and ‖∂L/∂z‖ changes by less
    than a factor of 10 over the 20 layers." Also help.bn ("mean 0, variance 1")."""
    s = stats("bn_rescue", seed)
    assert np.allclose(s["pre_std"], 1.0, atol=0.01)
    assert 0.5 < s["act_std"].min() and s["act_std"].max() < 1.0
    assert s["saturated_frac"].max() < 0.05
    assert 0.1 < act.backward_ratio(s) < 10


@pytest.mark.parametrize("seed", SEEDS)
def test_batchnorm_makes_the_signal_almost_independent_of_the_initialization(seed):
    """activations.md: "BatchNorm [...] so the spread no longer depends on the scale of W: it makes the network far
    less sensitive to the initialization." The bn_rescue preset with three initializations."""
    spreads, ratios = [], []
    for init, scale in (("normal", 0.01), ("normal", 1.0), ("xavier_normal", 0.05)):
        v = experiment.values("bn_rescue") | {"init": init, "scale": scale}
        s = act.deep_signal(experiment.signal_config(v, seed)).stats
        spreads.append(s["act_std"].iloc[-1])
        ratios.append(act.backward_ratio(s))
    assert max(spreads) / min(spreads) < 1.01 and max(ratios) / min(ratios) < 1.05
    unnormalized = [stats("collapse", seed)["act_std"].iloc[-1], stats("saturate", seed)["act_std"].iloc[-1]]
    assert unnormalized[1] / unnormalized[0] > 1e10


@pytest.mark.parametrize("seed", SEEDS)
def test_default_sigmoid_backward_signal_vanishes_by_more_than_a_quarter_per_layer(seed):
    """activations.md: "With sigmoid every such factor is at most 1/4: [...] the vanishing gradient that kept deep
    sigmoid networks from training." On the signal tab's default (sigmoid, Xavier, 20 layers)."""
    s = stats(None, seed)
    assert per_layer_back(s) < 0.25
    assert act.backward_ratio(s) < 1e-9


@pytest.mark.parametrize("seed", SEEDS)
def test_too_large_weights_explode_relu_and_saturate_tanh_and_sigmoid(seed):
    """activations.md: "too large and it either explodes (ReLU) or pushes most units into saturation (tanh,
    sigmoid)". N(0, 1) weights on the saturate preset's 20 x 256 net."""
    share = {}
    for name in ("relu", "tanh", "sigmoid"):
        s = act.deep_signal(experiment.signal_config(experiment.values("saturate") | {"activation": name}, seed)).stats
        share[name] = s["saturated_frac"].mean()
        if name == "relu":
            assert s["act_std"].iloc[-1] > 1e15
    assert share["tanh"] > 0.5 and share["sigmoid"] > 0.5


@pytest.mark.parametrize(("init", "scale"), [("normal", 0.01), ("normal", 1.0), ("uniform", 0.1),
                                           ("xavier_normal", 0.05), ("kaiming_normal", 0.05)])
def test_first_layer_spread_is_n_times_the_weight_variance(init, scale):
    """activations.md: "Var(z_l) = n Var(w) E[a_{l-1}²]. So the spread is multiplied by roughly n Var(w) at every
    layer". Layer 1 of the default 256-wide net, whose input is standard normal (E[a_0²] = 1)."""
    v = experiment.values() | {"init": init, "scale": scale, "depth": 2}
    s = act.deep_signal(experiment.signal_config(v, 0)).stats
    n = int(v["width"])
    assert s["pre_std"].iloc[0] ** 2 == pytest.approx(n * act.init_variance(experiment.init_name(v), n, n), rel=0.05)


def test_constant_weights_give_every_unit_the_same_value_and_the_same_gradient():
    """activations.md: "All-zero (or constant) weights are the other failure: every unit computes the same thing and
    gets the same gradient, so the symmetry is never broken." Two layers initialized by the lab's init_weight_."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 8, generator=g)
    w1 = act.init_weight_(torch.empty(8, 8), "constant_0.3").requires_grad_(True)
    w2 = act.init_weight_(torch.empty(8, 8), "constant_0.3").requires_grad_(True)
    h = act.activate("tanh", x @ w1.T)
    out = act.activate("tanh", h @ w2.T)
    (out * torch.randn(16, 8, generator=g)).sum().backward()
    assert torch.allclose(h, h[:, :1].expand_as(h))                    # every unit of layer 1 computes the same
    assert torch.allclose(w1.grad, w1.grad[:1].expand_as(w1.grad))     # and every unit gets the same gradient
    zero = act.deep_signal(act.SignalConfig(depth=6, width=16, activation="tanh", init="zeros", batch=8)).stats
    assert (zero["grad_norm"].iloc[:-1] == 0).all()


# ---- the train tab ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_default_race_flat_loss_at_ln2_comes_with_a_vanished_first_layer_gradient(seed):
    """notice.train: "A flat loss at 0.69 (= ln 2) means the network outputs a probability of about ½ for every
    point: its gradient vanished before it reached the first layers." On the default race, sigmoid + Xavier and
    ReLU + N(0, 0.01²) stay flat at ln 2 with a first-layer gradient orders of magnitude below the others'."""
    runs = race(None, seed)
    flat = ("sigmoid|xavier_normal", "relu|normal_0.01")
    learning = ("tanh|xavier_normal", "relu|kaiming_normal")
    for name in flat:
        late = runs[name].loss[len(runs[name].loss) // 2:]
        assert np.abs(late - math.log(2)).max() < 2e-3
        assert np.nanmax(runs[name].first_grad_norm) < 1e-4
    for name in learning:
        assert runs[name].loss[-1] < 0.1 and runs[name].first_grad_norm[0] > 0.05


@pytest.mark.parametrize("seed", SEEDS)
def test_large_learning_rate_kills_most_relus_within_ten_steps_for_good(seed):
    """presets.dead_lr.note: "Adam with learning rate 0.1: the share of dead ReLUs climbs from 10–20% to about 60%
    within ten steps, and most of them never come back." """
    r = race("dead_lr", seed)["relu|kaiming_normal"]
    dead = r.dead_frac
    assert 0.05 < dead[0] < 0.25
    assert dead[r.step <= 10].max() > 0.5
    assert 0.5 < dead[-1] < 0.75 and dead[-1] > 0.8 * np.nanmax(dead)


@pytest.mark.parametrize("seed", SEEDS)
def test_large_learning_rate_leaves_leaky_relu_without_dead_units_and_kills_some_tanh_units(seed):
    """presets.dead_lr.note: "Leaky ReLU keeps a small gradient on the left and has no dead units. Some tanh units
    are pushed so far out that their output is exactly ±1 in float32: they count as dead too." """
    runs = race("dead_lr", seed)
    assert (runs["leaky_relu|kaiming_normal"].dead_frac == 0).all()
    tanh = runs["tanh|xavier_normal"].dead_frac
    assert tanh[0] == 0 and np.nanmax(tanh) > 0.05


@pytest.mark.parametrize("seed", SEEDS)
def test_at_learning_rate_0_001_the_dead_share_stays_near_its_start(seed):
    """presets.dead_lr.note: "Lower the learning rate to 0.001 and train again: the dead share stays near where it
    started." """
    runs = race("dead_lr", seed, lr=0.001)
    relu = runs["relu|kaiming_normal"].dead_frac
    assert np.nanmax(relu) - relu[0] < 0.1
    assert (runs["tanh|xavier_normal"].dead_frac == 0).all()


# ---- the zoo, the table and the pieces ---------------------------------------------------------------------------

def test_sigmoid_derivative_never_exceeds_a_quarter_and_relus_is_exactly_one_and_zero():
    """notice.zoo: "Sigmoid's derivative never exceeds 1/4; ReLU's is exactly 1 on the right and exactly 0 on the
    left." activations.md: "σ'(x) ≤ 1/4; tanh'(x) ≤ 1", PyTorch uses the derivative 0 at ReLU's kink."""
    span = float(experiment.DEFAULTS["span"])
    sig = act.curve("sigmoid", -span, span, 401)
    assert sig.dy.max() <= 0.25 and sig.dy.max() == pytest.approx(0.25, abs=1e-6)
    assert act.curve("tanh", -span, span, 401).dy.max() <= 1.0
    relu = act.curve("relu", -span, span, 401)
    assert (relu.dy[relu.x > 0] == 1).all() and (relu.dy[relu.x < 0] == 0).all()
    assert act.properties("relu").derivative_at_0 == 0


def test_sigmoid_saturates_on_both_sides_and_relu_only_on_the_left():
    """activations.md: "Sigmoid [...] saturates on both sides"; ReLU "never saturates on the right"."""
    assert act.properties("sigmoid").saturates == "both"
    assert act.properties("relu").saturates == "left"


def test_sigmoid_output_is_not_zero_centred_its_mean_is_one_half():
    """activations.md: "Sigmoid's output is also not zero-centred (its mean is 1/2)"."""
    p = act.properties("sigmoid")
    assert not p.zero_centred and p.mean_normal == pytest.approx(0.5, abs=1e-9)


def test_selu_has_mean_0_and_variance_1_for_a_standard_normal_input():
    """notice.table: "SELU's mean 0 and variance 1 for a standard-normal input are what makes it self-normalising." """
    p = act.properties("selu")
    assert p.mean_normal == pytest.approx(0.0, abs=1e-3) and p.var_normal == pytest.approx(1.0, abs=1e-3)


def test_hard_sigmoids_and_relus_reproduce_the_path_through_the_knots_and_sigmoids_smooth_it():
    """notice.pieces: "Hard sigmoids and ReLUs reproduce the straight-line path through the knots exactly; sigmoids
    smooth it." activations.md: "N of them give exactly the straight-line path through the points (x_i, y(x_i))".
    On the default target and piece count."""
    v = experiment.values()
    for kind in ("hardsigmoid", "relu", "sigmoid"):
        b = cp.build_from_pieces(experiment.formula(v), int(v["pieces"]), kind)
        path = np.interp(b.x, b.knots, np.interp(b.knots, b.x, b.target))
        gap = np.abs(b.total - path).max()
        assert gap < 1e-5 if kind != "sigmoid" else gap > 0.01


def test_the_error_keeps_shrinking_once_there_are_more_than_a_few_pieces():
    """notice.pieces: "Either way, once there are more than a few pieces, the error keeps shrinking as N grows: a
    wide enough layer can approximate any continuous curve." activations.md: "As N grows the path hugs the target
    ever more closely". The error curve the page draws, for each kind of piece, on the default target."""
    frames = np.asarray(experiment.FRAMES)
    for kind in cp.KINDS:
        err = cp.error_curve(experiment.formula(experiment.values()), kind, experiment.FRAMES)
        assert np.all(np.diff(err[frames >= 4]) <= 0)
        assert err[-1] < 0.05 < 1.0 < err[0]
