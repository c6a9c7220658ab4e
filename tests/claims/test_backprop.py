"""Claim tests of the backpropagation lesson: each sentence a learner reads about what the lab shows, run through
dlcore on the exact preset or default behind it (``ui.experiments.backprop``), issue 23.

Texts: assets/i18n/<lang>/backprop.toml (``presets.*.note``, ``notice.*``, ``help.*``, messages, figure captions)
and assets/lessons/<lang>/backprop.md; the English sentence is quoted in each docstring. The matrix tab's network
depends on the sidebar seed, so its claims run over seeds 0-4.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dlcore import backprop as bp
from dlcore.expr import compile_expression
from tests.support import _decode
from ui.experiments import backprop as experiment
from ui.figures import backprop as figs

SEEDS = range(5)


def trace(preset: str | None) -> bp.Trace:
    return experiment.trace_of(preset)


def autograd(preset: str | None) -> dict[str, float]:
    expression, given, _ = experiment.inputs(experiment.settings(preset))
    xs = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in given.items()}
    compile_expression(expression, variables=tuple(xs))(*xs.values()).backward()
    return {n: float(x.grad) for n, x in xs.items()}


def node(tr: bp.Trace, op: str) -> bp.Node:
    return next(n for n in tr.nodes if n.op == op)


# ---- presets -------------------------------------------------------------------------------------------------------

def test_chain_preset_gives_minus_twelve_the_add_gate_hands_minus_four_and_z_gets_q():
    """presets.chain.note: "The notes' first example: f = −12, and the add gate hands the same −4 to x and y while
    the multiply gate gives z the other input, q = 3." backprop.md: "the graph gives f=−12, ∂f/∂x=∂f/∂y=−4 and
    ∂f/∂z=3"."""
    tr = trace("chain")
    add, mul = node(tr, "add"), node(tr, "mul")
    assert tr.value == -12.0
    assert add.contrib == (-4.0, -4.0) and tr.grads["x"] == tr.grads["y"] == -4.0
    assert mul.contrib[1] == add.value == 3.0 == tr.grads["z"]
    assert autograd("chain") == tr.grads


def test_staged_preset_has_eight_forward_lines_in_the_notes_order_and_sums_for_x_and_y():
    """presets.staged.note: "Eight forward lines and their backward lines, in the notes' order: x is used three
    times and y twice, so their gradients are sums (the += lines)." backprop.md: "uses x three times and y twice,
    and its backward code says dx += for that reason"."""
    tr = trace("staged")
    lines = bp.staged_lines(tr)
    forward = [ln for ln in lines if not ln.backward]
    assert len(forward) == 8
    assert [ln.code.split(" = ")[1].split("(")[0] for ln in forward][:1] == ["sigmoid"]   # (1) sigy = σ(y) first
    for name, uses in (("x", 3), ("y", 2)):
        var = next(n for n in tr.nodes if n.name == name)
        assert sum(var.index in n.args for n in tr.nodes) == uses
        assert any(ln.accumulates and ln.code.startswith(f"d{name} +=") for ln in lines)
    assert autograd("staged") == pytest.approx(tr.grads, rel=1e-12)


def test_neuron_preset_sends_the_sigmoids_local_gradient_scaled_by_each_input():
    """presets.neuron.note: "f = σ(w0·x0 + w1·x1 + w2) ≈ 0.73: the sigmoid's local gradient (1 − 0.73)·0.73 ≈ 0.2
    reaches every weight, scaled by its input." """
    tr = trace("neuron")
    sig = node(tr, "sigmoid")
    assert round(tr.value, 2) == 0.73 and round(sig.local[0], 1) == 0.2
    assert sig.local[0] == pytest.approx((1 - tr.value) * tr.value)
    for w, x in (("w0", "x0"), ("w1", "x1")):
        assert tr.grads[w] == pytest.approx(sig.local[0] * tr.inputs[x])
    assert tr.grads["w2"] == pytest.approx(sig.local[0])
    assert autograd("neuron") == pytest.approx(tr.grads, rel=1e-12)


def test_twice_preset_sums_both_paths_to_four():
    """presets.twice.note: "x feeds the multiply gate and the add gate: df/dx = y + 1 = 4, the sum of both paths."
    """
    tr = trace("twice")
    x = next(n for n in tr.nodes if n.name == "x")
    users = sorted(n.op for n in tr.nodes if x.index in n.args)
    assert users == ["add", "mul"]
    assert tr.grads["x"] == tr.inputs["y"] + 1 == 4.0 == autograd("twice")["x"]


def test_vanish_preset_stays_below_a_quarter_to_the_sixth():
    """presets.vanish.note: "Six sigmoids in a row: each multiplies the gradient by at most 0.25, so df/dx is below
    0.25⁶ ≈ 0.00024." backprop.md: "A sigmoid gate multiplies by (1−σ)σ ≤ 1/4"."""
    tr = trace("vanish")
    sigmoids = [n for n in tr.nodes if n.op == "sigmoid"]
    assert len(sigmoids) == 6 and all(0 < n.local[0] <= 0.25 for n in sigmoids)
    assert 0 < tr.grads["x"] < 0.25**6 and round(0.25**6, 5) == 0.00024
    assert tr.grads["x"] == pytest.approx(autograd("vanish")["x"], rel=1e-12)
    z = torch.linspace(-10, 10, 2001, dtype=torch.float64)
    assert float((torch.sigmoid(z) * (1 - torch.sigmoid(z))).max()) == 0.25


def test_max_relu_preset_routes_to_x_and_relu_at_zero_passes_nothing():
    """presets.max_relu.note: "max(x, y) routes the whole gradient to x, the larger input; y gets 0. ReLU at exactly 0
    passes nothing: PyTorch takes its slope there to be 0." backprop.md: "A max gate routes the whole gradient to the
    larger input, and the other gets 0 [...] PyTorch uses 0 there, and so does this lesson." """
    tr = trace("max_relu")
    assert tr.inputs["x"] > tr.inputs["y"] and tr.inputs["z"] == 0.0
    assert tr.grads["x"] == node(tr, "max").grad == 1.0 and tr.grads["y"] == 0.0 and tr.grads["z"] == 0.0
    assert autograd("max_relu") == tr.grads
    window = torch.tensor([[[2.0, -1.0]]], requires_grad=True)      # "this is how max pooling backpropagates"
    F.max_pool1d(window, 2).sum().backward()
    assert window.grad.tolist() == [[[1.0, 0.0]]]


# ---- the graph tab ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", [None, *experiment.PRESETS])
def test_the_animation_fills_values_above_in_green_then_gradients_below_in_red_from_df_df_one(preset):
    """notice.graph: "Forward: each node fills in its value (green, above). Backward: starting from df/df = 1 at the
    output, each node multiplies its local gradient by the upstream gradient and sends the product to its inputs
    (red, below); where two paths meet the gradients add, marked (+=). The highlighted code line underneath is the
    line that node runs." fig.title: "values (green) forward, gradients (red) backward"."""
    tr = trace(preset)
    lines = bp.staged_lines(tr)
    labels = {k: k for k in figs.GRAPH_LABELS} | {"forward": "{name}{value}", "seed": "{name}",
                                                  "gate_add": "{name}{up}", "gate_mul": "{name}{up}{a}{b}{va}{vb}",
                                                  "gate_max": "{name}{up}{winner}", "gate_sigmoid": "{name}{up}{local}",
                                                  "gate_other": "{name}{up}{local}", "adds": "{name}"}
    spec = _decode(figs.graph_animation(tr, lines, labels).to_dict())
    values, grads = spec["data"][3], spec["data"][4]
    assert values["textfont"]["color"] == figs.GREEN and values["textposition"] == "top center"
    assert grads["textfont"]["color"] == figs.RED and grads["textposition"] == "bottom center"
    ops = [n for n in tr.nodes if n.args]
    seed = spec["frames"][len(ops) + 1]["data"][2]["text"]
    assert seed[tr.output] == "∂ 1" and sum(1 for s in seed if s) == 1                    # df/df = 1 first
    for n in ops:                                                                          # local × upstream
        for k, local, c in zip(n.args, n.local, n.contrib):
            if tr.nodes[k].needs_grad and math.isfinite(c):
                assert c == pytest.approx(local * n.grad, rel=1e-12, abs=0)
    final = spec["frames"][-1]["data"][2]["text"]
    for n in tr.nodes:
        paths = sum(1 for m in tr.nodes if m.needs_grad and n.index in m.args)
        assert final[n.index].endswith("(+=)") == (n.needs_grad and paths > 1)


@pytest.mark.parametrize("preset", [None, *experiment.PRESETS])
def test_every_node_matches_autograd_as_the_table_says(preset):
    """autograd_title: "Every node against torch.autograd (float64)" (a difference of 0 for every node)."""
    tr = trace(preset)
    for n, a in zip(tr.nodes, bp.autograd_node_grads(tr)):
        assert n.grad == pytest.approx(a, rel=1e-12, abs=1e-300)


def test_non_finite_nodes_are_reported_and_autograd_gives_the_same():
    """not_finite: "Some values or gradients are NaN or infinite (a division by zero, a log of a negative number, an
    overflow). They are shown as NaN / inf in the graph and the table; autograd gives the same." """
    for expression, inputs in (("1 / (x - y)", {"x": 1.0, "y": 1.0}), ("log(x) * y", {"x": -1.0, "y": 1.0}),
                               ("exp(x)", {"x": 1000.0})):
        tr = bp.trace(expression, inputs)
        assert not tr.finite
        table = figs.node_table(tr, bp.autograd_node_grads(tr), {k: k for k in figs.NODE_COLUMNS})
        shown = set(table["value"]) | set(table["grad"])
        assert shown & {"NaN", "inf", "−inf"}
        assert list(table["grad"]) == list(table["autograd"])


def test_a_variable_left_out_of_the_values_starts_at_one():
    """help.values: "A variable left out starts at 1." missing: "No value typed for {names}: set to {value}." """
    expression, given, missing = experiment.inputs({"expression": "x * y + z", "values": "x = 2"})
    assert missing == ("y", "z") and given == {"x": 2.0, "y": 1.0, "z": 1.0} and experiment.DEFAULT_VALUE == 1.0


def test_the_expression_caps_are_two_hundred_characters_eight_variables_and_sixty_four_nodes():
    """help.expression: "At most 200 characters, 8 variables and 64 graph nodes." """
    assert (bp.MAX_LENGTH, bp.MAX_VARIABLES, bp.MAX_GRAPH_NODES) == (200, 8, 64)
    assert experiment.SETTINGS[0].max_len == bp.MAX_LENGTH
    assert next(p for p in experiment.SETTINGS if p.name == "values").max_len == bp.MAX_VALUES_TEXT


# ---- the gradient-check tab -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", [None, "neuron", "vanish"])
def test_the_error_curve_is_u_shaped_truncation_like_h_squared_roundoff_like_one_over_h(preset):
    """notice.check: "The error falls as h shrinks (truncation error ∝ h²) until round-off takes over (∝ 1/h): the
    curve is U-shaped, and its bottom, here at h ≈ {best}, is where the check is most exact." help.h: "Too large:
    truncation error. Too small: round-off error." backprop.md: "with its bottom near h≈10^−5"."""
    expression, given, _ = experiment.inputs(experiment.settings(preset))
    hs = torch.logspace(-14, -1, 40, dtype=torch.float64)
    check = bp.gradient_check(expression, given, hs)
    worst = check.rel_error.max(dim=1).values
    best = bp.best_step(check)
    i = int((check.h == best).nonzero()[0, 0])
    assert 1e-7 <= best <= 1e-4 and worst[0] > 100 * worst[i] and worst[-1] > 100 * worst[i]
    big = worst[-8:]        # h from ~5e-4 to 0.1: truncation dominates, slope 2 on log axes
    slope = (torch.log10(big[-1]) - torch.log10(big[0])) / (torch.log10(check.h[-1]) - torch.log10(check.h[-8]))
    assert 1.7 < float(slope) < 2.3
    small = worst[:12]      # h from 1e-14 to ~1e-10: round-off, roughly ∝ 1/h (noisy)
    assert float(small[:3].mean()) > 30 * float(small[-3:].mean())


@pytest.mark.parametrize("preset", ["chain", "twice"])
def test_an_expression_linear_in_each_input_has_only_round_off_which_shrinks_as_h_grows(preset):
    """notice.check: "An expression linear in each input, such as (x + y)·z, has no truncation error at all: there
    only round-off remains, and it keeps shrinking as h grows." """
    expression, given, _ = experiment.inputs(experiment.settings(preset))
    check = bp.gradient_check(expression, given)
    assert bp.best_step(check) >= 1e-3
    assert float(check.rel_error[-1].max()) < 1e-14                      # h = 0.1: exact up to rounding
    assert float(check.rel_error[0].max()) > 1e-6                       # h = 1e-14: round-off


# ---- the matrix tab ------------------------------------------------------------------------------------------

def test_the_notes_vectorized_gradients_dW_dD_Xt_and_dX_Wt_dD():
    """backprop.md: "For D = WX, the notes give dW = dD Xᵀ and dX = Wᵀ dD." (autograd, random shapes)."""
    g = torch.Generator().manual_seed(0)
    W = torch.randn(5, 10, generator=g, dtype=torch.float64, requires_grad=True)
    X = torch.randn(10, 3, generator=g, dtype=torch.float64, requires_grad=True)
    dD = torch.randn(5, 3, generator=g, dtype=torch.float64)
    (W @ X).backward(dD)
    torch.testing.assert_close(W.grad, dD @ X.detach().T)
    torch.testing.assert_close(X.grad, W.detach().T @ dD)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_hand_gradient_equals_autograd_and_has_its_variables_shape(seed):
    """notice.net: "Every gradient computed by hand with the formulas above equals autograd's to float64 precision
    (loss L = {loss}). Each shape follows from dimension analysis: a gradient has the shape of the thing it is the
    gradient of". backprop.md's list ds = (P−Y)/N, dW2 = hᵀds, ..., dX = dz1 W1ᵀ."""
    net = bp.two_layer_gradients(experiment.net_config(experiment.DEFAULTS, seed))
    t = net.tensors
    leaves = {k: t[k].clone().requires_grad_(True) for k in ("X", "W1", "b1", "W2", "b2")}
    z1 = leaves["X"] @ leaves["W1"] + leaves["b1"]
    s = F.relu(z1) @ leaves["W2"] + leaves["b2"]
    loss = F.cross_entropy(s, t["Y"])
    grads = torch.autograd.grad(loss, [leaves[k] for k in ("W2", "b2", "W1", "b1", "X")])
    assert net.loss == pytest.approx(loss.item(), rel=1e-12)
    for name, ref, var in zip(("dW2", "db2", "dW1", "db1", "dX"), grads, ("W2", "b2", "W1", "b1", "X")):
        torch.testing.assert_close(net.manual[name], ref, rtol=1e-12, atol=1e-15)
        assert net.manual[name].shape == t[var].shape


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mistake", experiment.MISTAKES)
def test_at_the_default_sizes_every_wrong_transpose_raises_a_pytorch_error(mistake, seed):
    """mistake_shapes: "PyTorch answers:" followed by the error; notice.mistake_error: "That is the error a learner
    meets in practice"."""
    wrong = bp.wrong_transpose(experiment.net_config(experiment.DEFAULTS, seed), mistake)
    assert wrong.error and not wrong.values_right


def test_when_inner_sizes_match_the_wrong_formula_runs_silently_and_changing_sizes_brings_the_error_back():
    """mistake_silent: "With these sizes the wrong formula runs without any error (the inner sizes happen to match).
    [...] Change N, H or D and the error appears: a shape check catches only some mistakes, so compare with autograd
    too." """
    square = experiment.net_config(experiment.settings() | {"n": 5, "hidden": 5}, 0)
    wrong = bp.wrong_transpose(square, "dW2_h")
    assert wrong.error is None and not wrong.values_right
    assert bp.wrong_transpose(experiment.net_config(experiment.settings() | {"n": 4, "hidden": 5}, 0), "dW2_h").error
    mixed = experiment.net_config(experiment.settings() | {"d": 5, "hidden": 5}, 0)
    assert bp.wrong_transpose(mixed, "dX_W1").error is None
    assert bp.wrong_transpose(experiment.net_config(experiment.settings() | {"d": 4, "hidden": 5}, 0), "dX_W1").error


@pytest.mark.parametrize("seed", SEEDS)
def test_each_product_gives_its_gradient_the_variables_shape_with_matching_inner_sides(seed):
    """fig.shapes_title: "Dimension analysis to scale: each gradient has its variable's shape, and the inner sides of
    a product match". backprop.md: "only one arrangement of the factors gives that shape (dimension analysis)"."""
    config = experiment.net_config(experiment.DEFAULTS | {"n": 3, "d": 4, "hidden": 6, "c": 5}, seed)
    net = bp.two_layer_gradients(config)
    t = net.tensors
    factors = {"h^T": t["h"].T, "ds": net.manual["ds"], "W2^T": t["W2"].T, "X^T": t["X"].T, "dz1": net.manual["dz1"],
               "W1^T": t["W1"].T}
    variable = {"dW2": t["W2"], "dh": t["h"], "dW1": t["W1"], "dX": t["X"]}
    for name, (a, la, b, lb) in bp.PRODUCTS.items():
        assert la[1] == lb[0] and la[0] + lb[1] == bp.GRADIENTS[name][1]
        torch.testing.assert_close(factors[a] @ factors[b], net.manual[name])
        assert net.manual[name].shape == variable[name].shape
        others = [(x, y) for x in factors for y in factors if (x, y) != (a, b)
                  and factors[x].shape[1] == factors[y].shape[0]
                  and (factors[x].shape[0], factors[y].shape[1]) == tuple(variable[name].shape)
                  and {x.removesuffix("^T"), y.removesuffix("^T")} == {a.removesuffix("^T"), b.removesuffix("^T")}]
        assert others == []                  # with these unequal sizes no other arrangement of the two fits


@pytest.mark.parametrize("mistake", experiment.MISTAKES)
def test_the_mismatch_line_names_torchs_inner_sides(mistake):
    """fig.mismatch: "Your formula: inner sides {a} ≠ {b}, so PyTorch refuses it"; fig.result: "Your formula: the
    inner sides match and it runs, giving {r}×{c} (the gradient must be {er}×{ec})"."""
    wrong = bp.wrong_transpose(experiment.net_config(experiment.DEFAULTS, 0), mistake)
    (_, ca), (rb, _) = wrong.operands
    if ca != rb:
        assert wrong.shape is None and f"{wrong.operands[0][0]}x{ca} and {rb}x" in wrong.error
    else:
        assert wrong.shape is not None and wrong.shape != wrong.expected and "must match" in wrong.error


@pytest.mark.parametrize("preset", [None, "neuron", "vanish"])
def test_in_float32_round_off_wins_sooner_and_the_smallest_steps_give_a_zero_numerical_gradient(preset):
    """notice.float32: "Its machine epsilon is about 10⁻⁷ instead of 10⁻¹⁶, so round-off wins much sooner: the best h
    is about {best}, the best error is far larger, and for the smallest h, x + h rounds back to x and the numerical
    gradient is 0 (relative error 1)." help.float32: "round-off takes over at a much larger h"."""
    assert 1e-7 < torch.finfo(torch.float32).eps < 2e-7 and 1e-16 < torch.finfo(torch.float64).eps < 3e-16
    expression, given, _ = experiment.inputs(experiment.settings(preset))
    double = bp.gradient_check(expression, given)
    single = bp.gradient_check(expression, given, dtype=torch.float32)
    assert bp.best_step(single) >= 100 * bp.best_step(double)
    assert float(single.rel_error.max(dim=1).values.min()) > 1e3 * float(double.rel_error.max(dim=1).values.min())
    assert float(single.numerical[0].abs().max()) == 0.0 and float(single.rel_error[0].min()) == 1.0
