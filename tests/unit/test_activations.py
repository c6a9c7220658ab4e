"""dlcore.activations against torch.nn modules, closed-form derivatives, published variances and invariants."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from dlcore import activations as A

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
X = torch.linspace(-7.3, 7.3, 2921, dtype=torch.float64)   # avoids the kinks at 0, ±1, ±3, 6 exactly
X = X[(X - X.round()).abs() > 1e-6]


def _modules(slope: float) -> dict[str, nn.Module]:
    prelu = nn.PReLU().double()
    with torch.no_grad():
        prelu.weight.fill_(slope)      # exactly the float64 slope, not its float32 rounding
    return {
        "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(slope),
        "prelu": prelu, "elu": nn.ELU(), "selu": nn.SELU(), "celu": nn.CELU(),
        "gelu": nn.GELU(), "silu": nn.SiLU(), "mish": nn.Mish(), "softplus": nn.Softplus(), "softsign": nn.Softsign(),
        "hardsigmoid": nn.Hardsigmoid(), "hardtanh": nn.Hardtanh(), "hardswish": nn.Hardswish(), "relu6": nn.ReLU6(),
        "identity": nn.Identity(),
    }


def test_catalogue_covers_the_issue_list_and_every_name_is_lower_case_torch_style():
    wanted = {"sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu", "gelu", "silu", "softplus", "mish",
              "hardsigmoid", "hardtanh", "relu6"}
    assert wanted <= set(A.ACTIVATIONS)
    assert all(name == name.lower() for name in A.ACTIVATIONS)


@pytest.mark.parametrize("slope", [0.01, 0.3])
def test_every_activation_matches_its_torch_nn_module(slope):
    modules = _modules(slope)
    assert set(modules) == set(A.ACTIVATIONS)
    for name, module in modules.items():
        with torch.no_grad():
            torch.testing.assert_close(A.activate(name, X, slope), module(X), rtol=0, atol=1e-12, msg=name)


def _closed_form(name: str, x: torch.Tensor, slope: float) -> torch.Tensor:
    s = torch.sigmoid(x)
    phi = torch.exp(-x**2 / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    lam, alpha = 1.0507009873554805, 1.6732632423543772
    sp = torch.nn.functional.softplus(x)
    one, zero = torch.ones_like(x), torch.zeros_like(x)
    return {
        "sigmoid": s * (1 - s),
        "tanh": 1 - torch.tanh(x) ** 2,
        "relu": (x > 0).double(),
        "leaky_relu": torch.where(x > 0, one, slope * one),
        "prelu": torch.where(x > 0, one, slope * one),
        "elu": torch.where(x > 0, one, torch.exp(x)),
        "celu": torch.where(x > 0, one, torch.exp(x)),
        "selu": lam * torch.where(x > 0, one, alpha * torch.exp(x)),
        "gelu": cdf + x * phi,
        "silu": s * (1 + x * (1 - s)),
        "mish": torch.tanh(sp) + x * s * (1 - torch.tanh(sp) ** 2),
        "softplus": s,
        "softsign": 1 / (1 + x.abs()) ** 2,
        "hardsigmoid": torch.where(x.abs() < 3, one / 6, zero),
        "hardtanh": torch.where(x.abs() < 1, one, zero),
        "hardswish": torch.where(x > 3, one, torch.where(x < -3, zero, (2 * x + 3) / 6)),
        "relu6": torch.where((x > 0) & (x < 6), one, zero),
        "identity": one,
    }[name]


@pytest.mark.parametrize("name", list(A.ACTIVATIONS))
def test_autograd_derivative_matches_the_closed_form(name):
    # rtol 1e-7: torch's float64 hardsigmoid backward multiplies by a float32 1/6
    torch.testing.assert_close(A.derivative(name, X, 0.2), _closed_form(name, X, 0.2), rtol=1e-7, atol=1e-12)


def test_largest_derivatives_match_hand_derived_values():
    assert A.max_derivative("sigmoid") == pytest.approx(0.25, abs=1e-12)       # s(1-s) peaks at s = 1/2
    assert A.max_derivative("tanh") == pytest.approx(1.0, abs=1e-12)
    assert A.max_derivative("relu") == 1.0
    assert A.max_derivative("hardsigmoid") == pytest.approx(1 / 6)
    assert A.max_derivative("selu") == pytest.approx(1.0507009873554805 * 1.6732632423543772, rel=1e-3)
    # GELU' = Phi(x) + x phi(x) peaks where GELU'' = phi(x)(2 - x^2) = 0, i.e. at x = sqrt(2)
    r2 = math.sqrt(2)
    gelu_peak = 0.5 * (1 + math.erf(1.0)) + r2 * math.exp(-1.0) / math.sqrt(2 * math.pi)
    p = A.properties("gelu")
    assert p.max_derivative == pytest.approx(gelu_peak, abs=1e-7)
    assert p.argmax_derivative == pytest.approx(r2, abs=2e-3)
    assert A.max_derivative("leaky_relu", 0.01) == 1.0


def test_sigmoid_saturated_region_starts_where_its_derivative_drops_below_five_percent_of_a_quarter():
    # s(1-s) = 0.0125  =>  s = (1 + sqrt(0.95)) / 2  =>  x = logit(s) = 4.3568...
    s = (1 + math.sqrt(0.95)) / 2
    edge = math.log(s / (1 - s))
    c = A.curve("sigmoid", -8.0, 8.0, 3201)
    inside = c.x[~c.saturated]
    assert inside.max() == pytest.approx(edge, abs=0.006) and inside.min() == pytest.approx(-edge, abs=0.006)
    assert c.max_derivative == pytest.approx(0.25)


def test_relu_curve_is_saturated_exactly_on_the_negative_side():
    c = A.curve("relu", -2.0, 2.0, 401)
    np.testing.assert_array_equal(c.saturated, c.x <= 0)


def test_properties_of_classic_activations():
    sig, tanh, relu, selu = (A.properties(n) for n in ("sigmoid", "tanh", "relu", "selu"))
    assert (sig.lower, sig.upper) == (0.0, 1.0) and sig.saturates == "both" and not sig.zero_centred
    assert sig.mean_normal == pytest.approx(0.5, abs=1e-9)
    assert tanh.zero_centred and tanh.saturates == "both" and tanh.derivative_at_0 == 1.0
    # E relu(z) = 1/sqrt(2 pi), E relu(z)^2 = 1/2 for z ~ N(0, 1)
    assert relu.mean_normal == pytest.approx(1 / math.sqrt(2 * math.pi), abs=1e-6)   # trapezoid rule, step 1e-3
    assert relu.var_normal == pytest.approx(0.5 - 1 / (2 * math.pi), abs=1e-6)
    assert relu.upper == math.inf and relu.saturates == "left" and relu.zero_gradient
    # SELU's fixed point (Klambauer et al. 2017): N(0,1) in -> mean 0, variance 1 out
    assert selu.mean_normal == pytest.approx(0.0, abs=1e-4) and selu.var_normal == pytest.approx(1.0, abs=1e-4)
    leaky, softsign, elu = A.properties("leaky_relu", 0.001), A.properties("softsign"), A.properties("elu")
    assert not leaky.zero_gradient and leaky.lower == -math.inf and leaky.upper == math.inf
    assert softsign.lower == pytest.approx(-1, abs=1e-5) and softsign.upper == pytest.approx(1, abs=1e-5)
    assert elu.lower == pytest.approx(-1) and elu.upper == math.inf
    assert {n for n in A.ACTIVATIONS if not A.properties(n).monotonic} == {"gelu", "silu", "mish", "hardswish"}
    assert A.properties("identity").saturates == "none"


def test_property_table_has_one_row_per_activation():
    table = A.property_table()
    assert list(table["name"]) == list(A.ACTIVATIONS)
    assert table["max_derivative"].gt(0).all()


# ---- initialization -------------------------------------------------------------------------------

FAN_OUT, FAN_IN = 300, 500       # torch weights are (fan_out, fan_in)


@pytest.mark.parametrize(("init", "variance"), [
    ("xavier_normal", 2 / (FAN_IN + FAN_OUT)), ("xavier_uniform", 2 / (FAN_IN + FAN_OUT)),
    ("kaiming_normal", 2 / FAN_IN), ("kaiming_uniform", 2 / FAN_IN),
    ("lecun_normal", 1 / FAN_IN), ("lecun_uniform", 1 / FAN_IN),
    ("normal_0.3", 0.09), ("uniform_0.6", 0.36 / 3),
])
def test_init_has_its_published_variance(init, variance):
    w = A.init_weight_(torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64), init, torch.Generator().manual_seed(1))
    assert A.init_variance(init, FAN_IN, FAN_OUT) == pytest.approx(variance)
    assert float(w.var()) == pytest.approx(variance, rel=0.02)      # 150k draws: sampling error ~0.4%
    assert abs(float(w.mean())) < 4 * math.sqrt(variance / w.numel())


@pytest.mark.parametrize(("init", "bound"), [("xavier_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
                                             ("kaiming_uniform", math.sqrt(6 / FAN_IN)),
                                             ("lecun_uniform", math.sqrt(3 / FAN_IN)), ("uniform_0.25", 0.25)])
def test_uniform_inits_stay_inside_their_bound(init, bound):
    w = A.init_weight_(torch.empty(FAN_OUT, FAN_IN), init, torch.Generator().manual_seed(2))
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.99 * bound


def test_orthogonal_zeros_and_constant_inits():
    g = torch.Generator().manual_seed(3)
    w = A.init_weight_(torch.empty(64, 64, dtype=torch.float64), "orthogonal", g)
    torch.testing.assert_close(w @ w.T, torch.eye(64, dtype=torch.float64), atol=1e-10, rtol=0)
    assert not A.init_weight_(torch.ones(5, 5), "zeros").any()
    assert torch.equal(A.init_weight_(torch.empty(4, 3), "constant_0.5"), torch.full((4, 3), 0.5))


def test_init_is_reproducible_from_the_generator():
    a = A.init_weight_(torch.empty(20, 20), "kaiming_normal", torch.Generator().manual_seed(5))
    b = A.init_weight_(torch.empty(20, 20), "kaiming_normal", torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


@pytest.mark.parametrize("bad", ["banana", "normal", "normal_abc", "normal_-1", "uniform_1e9", "xavier_normal_2"])
def test_bad_init_names_are_rejected(bad):
    with pytest.raises(ValueError, match="^Invalid init"):
        A.parse_init(bad)


# ---- a signal through a deep network ----------------------------------------------------------------

def _reference(depth, width, activation, init, batch, seed, batchnorm=False):
    """The same experiment written with nn.Linear / nn.BatchNorm1d / nn modules and autograd."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, width, generator=g)
    u = torch.randn(batch, width, generator=g)
    layers, acts = [], []
    for _ in range(depth):
        lin = nn.Linear(width, width, bias=False)
        A.init_weight_(lin.weight, init, g)
        layers.append(lin)
    h = x
    for lin in layers:
        h = lin(h)
        if batchnorm:
            h = nn.BatchNorm1d(width, affine=False, track_running_stats=False)(h)
        h = _modules(0.01)[activation](h)
        acts.append(h.detach())
    (h * u).sum(1).mean().backward()
    return acts, [float(lin.weight.grad.double().norm()) for lin in layers]


@pytest.mark.parametrize("signal", [A.deep_signal, A.deep_signal_fast], ids=["readable", "fast"])
@pytest.mark.parametrize(("activation", "init", "bn"), [("tanh", "xavier_normal", False), ("relu", "normal_0.2", True),
                                                        ("gelu", "orthogonal", False)])
def test_deep_signal_matches_an_nn_module_reference(signal, activation, init, bn):
    config = A.SignalConfig(depth=6, width=48, activation=activation, init=init, batch=32, batchnorm=bn, seed=7)
    stats = signal(config).stats
    acts, grads = _reference(6, 48, activation, init, 32, 7, batchnorm=bn)
    assert list(stats.columns[:6]) == ["layer", "act_mean", "act_std", "saturated_frac", "dead_frac", "grad_norm"]
    assert list(stats["layer"]) == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(stats["act_std"], [float(a.double().std()) for a in acts], rtol=1e-5)
    np.testing.assert_allclose(stats["act_mean"], [float(a.double().mean()) for a in acts], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(stats["grad_norm"], grads, rtol=1e-4)


SIGNALS = [  # the hard cases: vanishing, BatchNorm, overflow to inf / NaN, no activation, zero init, a slope
    {"depth": 20, "width": 128, "activation": "sigmoid", "init": "xavier_normal", "batch": 64},
    {"depth": 12, "width": 64, "activation": "tanh", "init": "normal_0.01", "batch": 32, "batchnorm": True},
    {"depth": 50, "width": 64, "activation": "relu", "init": "normal_1", "batch": 16},
    {"depth": 8, "width": 32, "activation": "identity", "init": "orthogonal", "batch": 8},
    {"depth": 6, "width": 16, "activation": "relu", "init": "zeros", "batch": 8},
    {"depth": 10, "width": 32, "activation": "prelu", "init": "kaiming_uniform", "batch": 2, "slope": 0.3},
    {"depth": 10, "width": 48, "activation": "hardtanh", "init": "uniform_0.5", "batch": 24, "batchnorm": True},
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kwargs", SIGNALS, ids=lambda k: f"{k['activation']}-{k['init']}")
def test_the_fast_path_gives_the_readable_deep_signals_numbers(kwargs, device):
    config = A.SignalConfig(**kwargs, seed=3)
    readable, fast = A.deep_signal(config, device), A.deep_signal_fast(config, device)
    assert list(fast.stats.columns) == list(readable.stats.columns)
    for column in readable.stats.columns:   # float32 products summed in another order: equal to rounding
        np.testing.assert_allclose(fast.stats[column], readable.stats[column], rtol=1e-5, atol=0, err_msg=column)
    np.testing.assert_allclose(fast.hist, readable.hist, rtol=0, atol=0)
    np.testing.assert_allclose(fast.outside, readable.outside, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fast.edges, readable.edges)
    assert fast.first_nonfinite == readable.first_nonfinite and fast.max_derivative == readable.max_derivative


def test_the_readable_deep_signal_leaves_the_global_random_state_alone():
    before = torch.random.get_rng_state()
    A.deep_signal(A.SignalConfig(depth=3, width=8, batch=4))
    assert torch.equal(torch.random.get_rng_state(), before)


def test_with_orthogonal_weights_each_sigmoid_layer_shrinks_the_backward_signal_at_least_fourfold():
    # ||W||_2 = 1, so ||delta_l|| <= ||delta_{l+1}|| * 1 * max sigmoid' = ||delta_{l+1}|| / 4
    d = A.deep_net_stats(12, 64, "sigmoid", "orthogonal", 64, 0)["delta_norm"].to_numpy()
    assert np.all(d[:-1] <= d[1:] / 4 * (1 + 1e-5))
    d = A.deep_net_stats(12, 64, "tanh", "orthogonal", 64, 0)["delta_norm"].to_numpy()
    assert np.all(d[:-1] <= d[1:] * (1 + 1e-5))


def test_tanh_saturated_share_matches_the_gaussian_tail_of_its_pre_activations():
    # tanh'(z) < 0.05  <=>  |z| > atanh(sqrt(0.95)); z is close to N(0, pre_std^2)
    stats = A.deep_net_stats(3, 256, "tanh", "normal_1", 256, 0)
    edge = math.atanh(math.sqrt(0.95))
    for s, sat in zip(stats["pre_std"], stats["saturated_frac"]):
        assert sat == pytest.approx(math.erfc(edge / (s * math.sqrt(2))), abs=0.02)
    assert stats["saturated_frac"].min() > 0.85


def test_tiny_tanh_weights_collapse_the_signal_and_batchnorm_rescues_it():
    tiny = A.deep_net_stats(20, 128, "tanh", "normal_0.01", 64, 0)
    assert tiny["act_std"].iloc[-1] < 1e-15
    bn = A.deep_net_stats(20, 128, "tanh", "normal_0.01", 64, 0, batchnorm=True)
    np.testing.assert_allclose(bn["pre_std"], 1.0, atol=0.01)
    assert bn["act_std"].min() > 0.5 and bn["saturated_frac"].max() < 0.1


@pytest.mark.slow
def test_kaiming_keeps_a_50_layer_relu_net_alive_and_xavier_loses_sqrt2_per_layer():
    kaiming = A.deep_net_stats(50, 256, "relu", "kaiming_normal", 64, 0)
    xavier = A.deep_net_stats(50, 256, "relu", "xavier_normal", 64, 0)
    assert 0.2 < kaiming["act_std"].iloc[-1] < 5
    ratio = xavier["pre_std"].iloc[-1] / xavier["pre_std"].iloc[9]
    assert ratio == pytest.approx(2 ** (-40 / 2), rel=0.6)         # ~ (1/sqrt 2)^40
    g = kaiming["grad_norm"].to_numpy()
    assert g.max() / g.min() < 10                                 # level gradient across all 50 layers


def test_sigmoid_gradient_vanishes_toward_the_input_within_the_chain_rule_factor():
    s = A.deep_signal(A.SignalConfig(depth=20, width=128, activation="sigmoid", init="xavier_normal", batch=64))
    g = s.stats["grad_norm"].to_numpy()
    assert s.max_derivative == pytest.approx(0.25)
    assert g[0] / g[-1] < 1e-8
    np.testing.assert_allclose(A.activation_bound(0.25, 3), [1 / 16, 1 / 4, 1])


def test_zero_init_gives_identical_units_and_no_gradient_below_the_top():
    relu = A.deep_net_stats(5, 32, "relu", "zeros", 16, 0)
    assert (relu["dead_frac"] == 1).all() and (relu["grad_norm"] == 0).all()
    sig = A.deep_net_stats(5, 32, "sigmoid", "zeros", 16, 0)
    assert (sig["act_mean"] == 0.5).all() and (sig["act_std"] == 0).all()
    assert (sig["grad_norm"].iloc[:-1] == 0).all() and sig["grad_norm"].iloc[-1] > 0


@pytest.mark.slow
def test_exploding_relu_net_reports_inf_and_nan_without_raising():
    s = A.deep_signal(A.SignalConfig(depth=50, width=256, activation="relu", init="normal_1", batch=32))
    assert s.first_nonfinite is not None and 20 < s.first_nonfinite < 50
    assert not np.isfinite(s.stats["act_std"].iloc[-1])
    assert np.isfinite(s.stats["act_std"].iloc[s.first_nonfinite - 2])
    assert np.isnan(s.stats["saturated_frac"].iloc[-1]) and np.isnan(s.stats["dead_frac"].iloc[-1])
    np.testing.assert_allclose(s.hist.sum(1) + s.outside, 1.0, atol=1e-9)


@pytest.mark.parametrize("device", DEVICES)
def test_histograms_and_outside_share_sum_to_one(device):
    s = A.deep_signal(A.SignalConfig(depth=30, width=64, activation="elu", init="kaiming_uniform", batch=32), device)
    assert list(s.layers) == A.ridge_layers(30) and s.hist.shape == (len(s.layers), A.HIST_BINS)
    np.testing.assert_allclose(s.hist.sum(1) + s.outside, 1.0, atol=1e-9)
    assert len(s.edges) == A.HIST_BINS + 1 and np.all(np.diff(s.edges) > 0)


def test_ridge_layers_spread_evenly_and_keep_both_ends():
    assert A.ridge_layers(5) == [1, 2, 3, 4, 5]
    r = A.ridge_layers(50)
    assert r[0] == 1 and r[-1] == 50 and len(r) == A.MAX_RIDGES


@pytest.mark.parametrize("kwargs", [{"depth": 51}, {"width": 513}, {"batch": 257}, {"batch": 1},
                                    {"activation": "swishy"}, {"init": "normal_-3"}, {"slope": 2.0}])
def test_signal_config_refuses_over_cap_values_with_a_value_error(kwargs):
    # a ValueError naming the setting (an assert would vanish under python -O), the way torch.optim does
    with pytest.raises(ValueError, match="^Invalid "):
        A.SignalConfig(**kwargs)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: A.activate("swishy", X), "Invalid activation: 'swishy'"),
    (lambda: A.curve("tanh", 2.0, -2.0), "Invalid grid"), (lambda: A.curve("tanh", -math.inf, 1.0), "Invalid grid"),
    (lambda: A.curve("tanh", -1.0, 1.0, A.MAX_POINTS + 1), "Invalid number of points"),
])
def test_functions_refuse_values_outside_their_range_with_a_value_error(call, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        call()


def test_histogram_bins_like_torch_histc_and_numpy():
    g = torch.Generator().manual_seed(3)
    v = torch.cat([torch.randn(20000, generator=g) * 2, torch.tensor([float("nan"), float("inf"), -float("inf"),
                                                                     -3.0, 3.0, 0.0])])
    ours = A.histogram(v, -3.0, 3.0, 60)
    ref = torch.histc(v, 60, -3.0, 3.0).double() / v.numel()
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=2.5 / v.numel())   # at most 2 values on an edge
    counts, _ = np.histogram(v.numpy()[np.isfinite(v.numpy())], bins=60, range=(-3.0, 3.0))
    np.testing.assert_allclose(ours.numpy() * v.numel(), counts, atol=2)
    assert ours.sum() < 1.0                                   # NaN, inf and values beyond +-3 are not counted


def test_relevant_slope_is_dropped_only_where_no_activation_reads_it():
    # the invariant that lets the page key its caches on relevant_slope: without a sloped activation the
    # experiment is the same for every slope; with one it is not
    assert A.relevant_slope(["relu", "tanh"], 0.3) == 0.01 and A.relevant_slope(["relu", "leaky_relu"], 0.3) == 0.3
    assert A.relevant_slope(["prelu"], 0.2) == 0.2
    for name, activation in A.ACTIVATIONS.items():
        at_03 = A.deep_net_stats(4, 16, name, "xavier_normal", 8, 1, slope=0.3)
        at_default = A.deep_net_stats(4, 16, name, "xavier_normal", 8, 1, slope=0.01)
        assert at_03.equals(at_default) != activation.uses_slope, name


def test_backward_ratio_is_the_backward_signals_first_over_last_and_nan_when_the_last_is_zero():
    s = A.deep_net_stats(6, 32, "tanh", "normal_0.01", 16, 0)
    assert A.backward_ratio(s) == pytest.approx(s["delta_norm"].iloc[0] / s["delta_norm"].iloc[-1])
    assert A.backward_ratio(s) < 1e-3 < s["grad_norm"].iloc[0] / s["grad_norm"].iloc[-1]   # not the weights' ratio
    zero = s.assign(delta_norm=[1.0] * 5 + [0.0])
    assert np.isnan(A.backward_ratio(zero)) and np.isnan(A.backward_ratio(s.assign(delta_norm=[1.0] * 5 + [np.inf])))
