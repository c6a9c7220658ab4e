"""dlcore.backprop against torch.autograd (float64), the CS231n notes' worked examples (§4) and hand-derived
values; bad input raising ExpressionError (a ValueError) with the codes the page translates."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dlcore import backprop as bp
from dlcore.expr import ExpressionError, compile_expression

STAGED = "(x + sigmoid(y)) * (1 / (sigmoid(x) + (x + y)**2))"


def autograd_input_grads(expression: str, inputs: dict[str, float]) -> tuple[float, dict[str, float]]:
    """f and df/d(input) from torch.autograd on the expression compiled by dlcore.expr (independent of the graph
    walker in dlcore.backprop)."""
    names = tuple(inputs)
    xs = [torch.tensor(inputs[n], dtype=torch.float64, requires_grad=True) for n in names]
    f = compile_expression(expression, variables=names)(*xs)
    grads = torch.autograd.grad(f, xs, allow_unused=True)
    return float(f.detach()), {n: 0.0 if g is None else float(g) for n, g in zip(names, grads)}


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


# ---- the notes' worked examples ----------------------------------------------------------------------------------

def test_chain_rule_example_gives_the_notes_numbers():
    """CS231n §4: q = x + y, f = q z at x = -2, y = 5, z = -4: f = -12, df/dx = df/dy = -4, df/dz = 3."""
    tr = bp.trace("(x + y) * z", {"x": -2, "y": 5, "z": -4})
    assert tr.value == -12.0
    assert tr.grads == {"x": -4.0, "y": -4.0, "z": 3.0}
    q = next(n for n in tr.nodes if n.op == "add")
    assert q.value == 3.0 and q.grad == -4.0


def test_staged_example_matches_the_notes_eight_forward_and_backward_lines():
    """The notes' staged computation of f = (x + σ(y)) / (σ(x) + (x + y)²) at x = 3, y = -4, written out here
    line by line as in the notes (math module, no torch), node by node."""
    x, y = 3.0, -4.0
    sigy = 1.0 / (1 + math.exp(-y))                         # (1)
    num = x + sigy                                           # (2)
    sigx = 1.0 / (1 + math.exp(-x))                         # (3)
    xpy = x + y                                              # (4)
    xpysqr = xpy**2                                          # (5)
    den = sigx + xpysqr                                      # (6)
    invden = 1.0 / den                                       # (7)
    f = num * invden                                         # (8)
    dnum, dinvden = invden, num                              # (8)
    dden = (-1.0 / den**2) * dinvden                         # (7)
    dsigx, dxpysqr = dden, dden                              # (6)
    dxpy = 2 * xpy * dxpysqr                                 # (5)
    dx, dy = dxpy, dxpy                                      # (4)
    dx += (1 - sigx) * sigx * dsigx                          # (3)
    dx += dnum                                               # (2)
    dsigy = dnum                                             # (2)
    dy += (1 - sigy) * sigy * dsigy                          # (1)
    tr = bp.trace(STAGED, {"x": x, "y": y})
    ops = [n for n in tr.nodes if n.args]
    assert [n.op for n in ops] == ["sigmoid", "add", "sigmoid", "add", "pow", "add", "div", "mul"]
    expected = [(sigy, dsigy), (num, dnum), (sigx, dsigx), (xpy, dxpy), (xpysqr, dxpysqr), (den, dden),
                (invden, dinvden), (f, 1.0)]
    for node, (value, grad) in zip(ops, expected):
        assert close(node.value, value) and close(node.grad, grad), node
    assert close(tr.value, f) and close(tr.grads["x"], dx) and close(tr.grads["y"], dy)
    assert close(tr.value, 1.5456448841066441, 1e-15)


def test_sigmoid_neuron_gives_the_cs231n_circuit_values():
    """CS231n §4's sigmoid neuron with w = [2, -3, -3], x = [-1, -2]: f = 0.73 and, to two decimals, the circuit's
    gradients w0 -0.20, x0 0.39, w1 -0.39, x1 -0.59, w2 0.20."""
    tr = bp.trace("sigmoid(w0*x0 + w1*x1 + w2)", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3})
    assert round(tr.value, 2) == 0.73
    assert {k: round(v, 2) for k, v in tr.grads.items()} == {"w0": -0.2, "x0": 0.39, "w1": -0.39, "x1": -0.59,
                                                             "w2": 0.2}
    dot = 1.0                                                  # 2*-1 + -3*-2 - 3
    local = (1 - 1 / (1 + math.exp(-dot))) / (1 + math.exp(-dot))
    assert close(tr.grads["w2"], local)


# ---- against torch.autograd ----------------------------------------------------------------------------------------

EXPRESSIONS = [
    "(x + y) * z", STAGED, "x * y + x", "x * x", "x - y / z", "-x + +y", "x ** y", "x ** 3 - 2 ** x",
    "sin(x) * cos(y) + tan(z)", "exp(x) * log(y * y + 1) - sqrt(z * z + 2)", "abs(x) + tanh(y) * sinh(z) / cosh(x)",
    "atan(x * y) + sigmoid(z) * softplus(x)", "relu(x) * relu(-y) + max(x, z) - min(y, z)",
    "sign(x) * floor(y) + ceil(z) * x", "softplus(30 * x) + softplus(x - 25)", "pi * x + e ** y",
    "sigmoid(sigmoid(sigmoid(sigmoid(x))))", "max(x * y, y * z) * min(x + z, y)",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_gradient_matches_torch_autograd(expression, seed):
    g = torch.Generator().manual_seed(seed)
    inputs = {n: float(v) for n, v in zip("xyz", 0.5 + 1.5 * torch.rand(3, generator=g, dtype=torch.float64))}
    inputs = {n: v for n, v in inputs.items() if n in bp.variables_of(expression)}
    tr = bp.trace(expression, inputs)
    f, grads = autograd_input_grads(expression, inputs)
    assert close(tr.value, f)
    for name in inputs:
        assert close(tr.grads[name], grads[name], 1e-10), (name, tr.grads[name], grads[name])
    auto = bp.autograd_node_grads(tr)
    for node, a in zip(tr.nodes, auto):
        assert close(node.grad, a, 1e-10), (node, a)


@pytest.mark.parametrize(("expression", "inputs"), [
    ("relu(x)", {"x": 0.0}), ("abs(x)", {"x": 0.0}), ("max(x, y)", {"x": 1.0, "y": 1.0}),
    ("min(x, y)", {"x": -2.0, "y": -2.0}), ("sqrt(x)", {"x": 0.0}), ("x ** 0.5", {"x": 0.0}),
    ("x ** y", {"x": 0.0, "y": 2.0}), ("x ** y", {"x": -2.0, "y": 3.0}), ("x ** 0", {"x": 0.0}),
    ("log(x)", {"x": 0.0}), ("softplus(x)", {"x": 20.0}), ("softplus(x)", {"x": 20.5}),
])
def test_kinks_and_singular_points_follow_torch(expression, inputs):
    tr = bp.trace(expression, inputs)
    f, grads = autograd_input_grads(expression, inputs)
    assert close(tr.value, f)
    for name in inputs:
        assert close(tr.grads[name], grads[name]), (name, tr.grads[name], grads[name])


def test_relu_at_zero_and_a_max_tie_follow_pytorch_conventions():
    assert bp.trace("relu(x)", {"x": 0.0}).grads["x"] == 0.0
    assert bp.trace("max(x, y)", {"x": 1.0, "y": 1.0}).grads == {"x": 0.5, "y": 0.5}
    assert bp.trace("max(x, y)", {"x": 2.0, "y": -1.0}).grads == {"x": 1.0, "y": 0.0}


def test_a_variable_used_twice_gets_the_sum_of_both_paths():
    tr = bp.trace("x * y + x", {"x": 2.0, "y": 3.0})
    assert tr.grads["x"] == 4.0 == 3.0 + 1.0
    assert bp.trace("x * x", {"x": 3.0}).grads["x"] == 6.0
    x = next(n for n in tr.nodes if n.name == "x")
    users = [n for n in tr.nodes if x.index in n.args]
    assert len(users) == 2
    assert sum(n.contrib[n.args.index(x.index)] for n in users) == x.grad


def test_gradient_of_a_deep_sigmoid_chain_vanishes_below_a_quarter_per_gate():
    chain = "x"
    for _ in range(6):
        chain = f"sigmoid({chain})"
    tr = bp.trace(chain, {"x": 0.0})
    _, ref = autograd_input_grads(chain, {"x": 0.0})
    assert close(tr.grads["x"], ref["x"])
    assert 0 < tr.grads["x"] < 0.25**6
    assert all(n.local[0] <= 0.25 for n in tr.nodes if n.op == "sigmoid")


@pytest.mark.parametrize(("expression", "inputs"), [
    ("1 / (x - y)", {"x": 1.0, "y": 1.0}), ("log(x) * y", {"x": -1.0, "y": 2.0}),
    ("exp(x) * y", {"x": 1000.0, "y": 0.0}),
    ("9 ** 9 ** 9 * x", {"x": 1.0}), ("x / 0", {"x": 0.0}), ("sqrt(x)", {"x": -4.0}), ("x ** 1000000", {"x": 2.0}),
])
def test_nan_and_inf_are_reported_in_the_nodes_never_raised(expression, inputs):
    tr = bp.trace(expression, inputs)
    assert not tr.finite
    f, grads = autograd_input_grads(expression, inputs)
    assert close(tr.value, f)
    for name in inputs:
        assert close(tr.grads[name], grads[name]), (name, tr.grads[name], grads[name])


def test_nodes_are_in_topological_order_and_the_output_is_last():
    tr = bp.trace(STAGED, {"x": 3.0, "y": -4.0})
    for node in tr.nodes:
        assert all(k < node.index for k in node.args)
        assert all(tr.nodes[k].depth < node.depth for k in node.args)
    assert tr.output == len(tr.nodes) - 1 and tr.nodes[-1].name == "f" and tr.nodes[-1].grad == 1.0
    assert [n.name for n in tr.nodes[:2]] == ["x", "y"]
    const = next(n for n in tr.nodes if n.op == "const")
    assert not const.needs_grad and const.grad == 0.0


def test_a_bare_variable_or_constant_expression_traces():
    assert bp.trace("x", {"x": 2.0}).grads == {"x": 1.0}
    tr = bp.trace("3 + 4", {})
    assert tr.value == 7.0 and tr.grads == {}


def test_variables_keep_their_order_of_first_appearance_and_skip_functions_and_constants():
    assert bp.variables_of("sigmoid(w0*x0 + w1*x1 + w2)") == ("w0", "x0", "w1", "x1", "w2")
    assert bp.variables_of("pi * b + max(a, e)") == ("b", "a")
    assert bp.variables_of("3 + 4") == ()


def test_input_values_are_parsed_never_evaluated():
    assert bp.parse_values("x = -2, y = 5; z=-4") == {"x": -2.0, "y": 5.0, "z": -4.0}
    assert bp.parse_values(" x=1e-3 , ") == {"x": 1e-3}
    assert bp.parse_values("") == {}
    for bad, code in [("x", "values"), ("x = 2 + 3", "input"), ("x = nan", "input"), ("x = 1e7", "input"),
                      ("__import__ = 1", "variable"), ("sin = 1", "variable"), ("x = __import__('os')", "input"),
                      ("a" + "=1," * 100, "values")]:
        with pytest.raises(ExpressionError) as err:
            bp.parse_values(bad)
        assert err.value.code == code, bad


TOO_MANY_NODES = "x" + "+1" * 39      # 119 syntax nodes (within expr's cap) but 79 graph nodes
NINE = " + ".join(f"v{i}" for i in range(9))


@pytest.mark.parametrize(("expression", "inputs", "code"), [
    ("", {}, "empty"), ("   ", {}, "empty"), ("x +", {"x": 1}, "syntax"), ("(x", {"x": 1}, "syntax"),
    ("x" * 201, {}, "too_long"), ("__import__('os')", {}, "function"), ("x.real", {"x": 1}, "node"),
    ("(lambda: 1)()", {}, "function"), ("lambda: 1", {}, "node"), ("[i for i in x]", {"x": 1}, "node"),
    ("x if y else x", {"x": 1, "y": 1}, "node"), ("'a'", {}, "constant"), ("x[0]", {"x": 1}, "node"),
    ("foo(x)", {"x": 1}, "function"), ("sin(x, x)", {"x": 1}, "arity"), ("q + 1", {"x": 1}, "name"),
    ("x == 1", {"x": 1}, "node"), ("10000000 * x", {"x": 1}, "constant"), (TOO_MANY_NODES, {"x": 1}, "graph"),
    (NINE, {f"v{i}": 1 for i in range(9)}, "variables"), ("_x", {"_x": 1}, "variable"),
    ("x", {"x": float("nan")}, "input"), ("x", {"x": float("inf")}, "input"), ("x", {"x": "one"}, "input"),
    ("-" * 150 + "x", {"x": 1}, "too_complex"), ("-(" * 60 + "x" + ")" * 60, {"x": 1}, "too_complex"),
])
def test_bad_input_raises_a_value_error_with_a_code(expression, inputs, code):
    with pytest.raises(ValueError) as err:
        bp.trace(expression, inputs)
    assert isinstance(err.value, ExpressionError) and err.value.code == code


@pytest.mark.parametrize(("expression", "code"), [("__x + 1", "name"), ("sin + 1", "name"), (NINE, "variables"),
                                                  ("x +", "syntax"), ("", "empty"), ("x" * 201, "too_long")])
def test_variables_of_refuses_names_that_cannot_be_variables(expression, code):
    with pytest.raises(ExpressionError) as err:
        bp.variables_of(expression)
    assert err.value.code == code


# ---- staged lines -------------------------------------------------------------------------------------------------

def test_staged_lines_of_the_notes_example_have_eight_forward_lines_and_the_plus_equals():
    tr = bp.trace(STAGED, {"x": 3.0, "y": -4.0})
    lines = bp.staged_lines(tr)
    forward = [ln.code for ln in lines if not ln.backward]
    assert forward == ["sigmoid1 = sigmoid(y)", "add2 = x + sigmoid1", "sigmoid3 = sigmoid(x)", "add4 = x + y",
                       "pow5 = add4 ** 2", "add6 = sigmoid3 + pow5", "div7 = 1 / add6", "f = add2 * div7"]
    backward = [ln.code for ln in lines if ln.backward]
    assert backward[0] == "dadd2 = (div7) * df" and backward[-1].startswith("dy += ")
    assert [ln.code.split()[0] for ln in lines if ln.accumulates] == ["dx", "dx", "dy"]   # the notes' three +=
    for name, var in (("x", 0), ("y", 1)):   # the contributions of a variable's lines add up to its gradient
        total = sum(ln.value for ln in lines if ln.backward and ln.code.startswith(f"d{name} "))
        assert close(total, tr.nodes[var].grad)


# ---- gradient check -----------------------------------------------------------------------------------------------

def test_centred_difference_of_a_cubic_is_exact_up_to_h_squared():
    """Hand-derived: [(x+h)³ - (x-h)³] / 2h = 3x² + h², so the truncation error is h² exactly."""
    hs = torch.tensor([1e-1, 1e-2, 1e-3], dtype=torch.float64)
    check = bp.gradient_check("x ** 3", {"x": 2.0}, hs)
    torch.testing.assert_close(check.numerical[:, 0], 12.0 + hs**2, rtol=1e-9, atol=0.0)
    torch.testing.assert_close(check.rel_error[:, 0], hs**2 / (12.0 + hs**2), rtol=1e-5, atol=0.0)


def test_the_error_against_h_is_u_shaped_with_its_bottom_near_1e_minus_5():
    check = bp.gradient_check(STAGED, {"x": 3.0, "y": -4.0})
    worst = check.rel_error.max(dim=1).values
    best = bp.best_step(check)
    assert 1e-7 <= best <= 1e-4
    i = int((check.h == best).nonzero()[0, 0])
    assert worst[0] > 1e3 * worst[i] and worst[-1] > 1e3 * worst[i]    # both ends far worse than the bottom
    assert float(worst[i]) < 1e-9


def test_relative_error_is_zero_when_both_are_zero_and_symmetric():
    a = torch.tensor([0.0, 1.0, -2.0, 1e-30], dtype=torch.float64)
    n = torch.tensor([0.0, 1.1, -2.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(bp.relative_error(a, n), torch.tensor([0.0, 0.1 / 1.1, 0.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(bp.relative_error(n, a), bp.relative_error(a, n))


def test_gradient_check_refuses_unusable_steps():
    for hs in (torch.tensor([0.0]), torch.tensor([2.0]), torch.full((500,), 1e-3)):
        with pytest.raises(ValueError):
            bp.gradient_check("x", {"x": 1.0}, hs)


# ---- the matrix case ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("config", [bp.NetConfig(), bp.NetConfig(1, 1, 1, 2, 3), bp.NetConfig(8, 8, 8, 8, 1),
                                    bp.NetConfig(5, 2, 7, 4, 2)])
def test_hand_derived_two_layer_gradients_match_autograd_and_have_their_variables_shapes(config):
    net = bp.two_layer_gradients(config)
    t = net.tensors
    leaves = {k: t[k].clone().requires_grad_(True) for k in ("X", "W1", "b1", "W2", "b2")}
    z1 = leaves["X"] @ leaves["W1"] + leaves["b1"]
    h = F.relu(z1)
    s = F.linear(h, leaves["W2"].T, leaves["b2"])
    for v in (z1, h, s):
        v.retain_grad()
    loss = F.cross_entropy(s, t["Y"])
    loss.backward()
    assert net.loss == pytest.approx(loss.item(), rel=1e-12)
    ref = {"ds": s.grad, "dW2": leaves["W2"].grad, "db2": leaves["b2"].grad, "dh": h.grad, "dz1": z1.grad,
           "dW1": leaves["W1"].grad, "db1": leaves["b1"].grad, "dX": leaves["X"].grad}
    shapes = {"N": config.n, "D": config.d, "H": config.hidden, "C": config.c}
    for name, (_, letters) in bp.GRADIENTS.items():
        torch.testing.assert_close(net.manual[name], ref[name], rtol=1e-10, atol=1e-14)
        assert tuple(net.manual[name].shape) == tuple(shapes[ch] for ch in letters)


def test_net_config_caps_its_sizes():
    for bad in ({"n": 0}, {"d": 9}, {"hidden": 0}, {"c": 1}, {"n": 2.5}):
        with pytest.raises(ValueError):
            bp.NetConfig(**bad)


def test_a_wrong_transpose_gets_torchs_own_shape_error():
    config = bp.NetConfig()
    wrong = bp.wrong_transpose(config, "dW2_h")
    with pytest.raises(RuntimeError) as err:
        torch.zeros(4, 5, dtype=torch.float64) @ torch.zeros(4, 3, dtype=torch.float64)
    assert wrong.error == str(err.value) and wrong.shape is None and wrong.expected == (5, 3)
    assert wrong.operands == ((4, 5), (4, 3))
    swap = bp.wrong_transpose(config, "dW1_swap")
    assert swap.shape == (5, 3) and swap.expected == (3, 5) and swap.error is not None   # runs, the update fails
    for name in bp.MISTAKES:
        assert bp.wrong_transpose(config, name).error is not None
    with pytest.raises(ValueError):
        bp.wrong_transpose(config, "nonsense")


def test_when_the_inner_sizes_happen_to_match_a_wrong_transpose_runs_with_wrong_numbers():
    square = bp.NetConfig(n=4, d=3, hidden=4, c=3)
    wrong = bp.wrong_transpose(square, "dW2_h")    # h (4, 4) @ ds (4, 3): runs, shape (4, 3) = W2's
    assert wrong.error is None and wrong.shape == wrong.expected and not wrong.values_right


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_trace_and_the_network_run_on_cuda():
    tr = bp.trace(STAGED, {"x": 3.0, "y": -4.0}, device="cuda")
    assert close(tr.value, bp.trace(STAGED, {"x": 3.0, "y": -4.0}).value)
    net = bp.two_layer_gradients(bp.NetConfig(), device="cuda")
    torch.testing.assert_close(net.manual["dW1"], bp.two_layer_gradients(bp.NetConfig()).manual["dW1"])


OPS = sorted(set(bp.LOCAL_TEXT))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize(("a", "b"), [(0.7, 1.3), (-1.2, 0.4), (2.5, -0.6), (0.0, 2.0), (1.0, 1.0)])
def test_each_local_gradient_equals_autograd_of_its_torch_op(op, a, b):
    from dlcore.expr import FUNCTIONS

    fn = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow, "neg": torch.neg,
          "pos": torch.positive}.get(op) or FUNCTIONS[op][1]
    binary = op in ("add", "sub", "mul", "div", "pow", "max", "min")
    ta = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    out = fn(ta, tb) if binary else fn(ta)
    refs = torch.autograd.grad(out, [ta, tb] if binary else [ta])
    ours = bp.local_gradients(op, ta.detach(), tb.detach() if binary else None, out.detach())
    assert len(ours) == len(refs) == len(bp.LOCAL_TEXT[op])
    for mine, ref in zip(ours, refs):
        assert close(float(mine), float(ref)), (op, a, b, float(mine), float(ref))


def test_the_lessons_declared_ranges_are_dlcores_caps():
    from ui.experiments import backprop as experiment

    declared = {p.name: p for p in experiment.SETTINGS}
    assert declared["expression"].max_len == bp.MAX_LENGTH
    assert declared["values"].max_len == bp.MAX_VALUES_TEXT
    assert all(declared[n].hi == bp.MAX_DIM for n in ("n", "d", "hidden", "c"))
    assert declared["c"].lo == 2 and all(declared[n].lo == 1 for n in ("n", "d", "hidden"))
    assert experiment.MISTAKES == tuple(bp.MISTAKES)
    assert all(bp.H_MIN <= h <= bp.H_MAX for h in experiment.STEPS)
    codes = {"empty", "too_long", "syntax", "too_complex", "name", "function", "arity", "node", "constant"}
    assert codes | {"variables", "variable", "input", "graph", "values", "step"} == set(experiment.ERRORS)
