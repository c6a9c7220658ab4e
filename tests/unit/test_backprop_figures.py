"""ui.figures.backprop: Plotly accepts every spec, the animation's frames show the forward values and then the
backward gradients of dlcore.backprop's trace (checked against torch.autograd), the code panel lights the line
each node runs, and the layout goes left to right."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
import torch

from dlcore import backprop as bp
from tests.support import _decode
from ui.figures import backprop as figs

STAGED = "(x + sigmoid(y)) * (1 / (sigmoid(x) + (x + y)**2))"
LABELS = {k: k for k in figs.GRAPH_LABELS + figs.CHECK_LABELS + figs.SHAPES_LABELS} | {
    "mismatch": "MISMATCH {a} {b}", "result": "RUNS {r} {c} {er} {ec}",
    "forward": "F {name} = {value}", "seed": "S {name}", "gate_add": "ADD {name} {up}",
    "gate_mul": "MUL {name} {up} {a} {b} {va} {vb}", "gate_max": "MAX {name} {up} {winner}",
    "gate_sigmoid": "SIG {name} {up} {local}", "gate_other": "OTHER {name} {up} {local}", "adds": "ADDS {name}"}


def graph_spec(expression: str, inputs: dict[str, float]) -> tuple[bp.Trace, dict]:
    tr = bp.trace(expression, inputs)
    fig = figs.graph_animation(tr, bp.staged_lines(tr), LABELS)
    spec = fig.to_dict()
    go.Figure(spec)                                   # Plotly validates every property
    return tr, _decode(spec)


def test_graph_steps_forward_then_backward_and_ends_with_autograds_gradients():
    tr, spec = graph_spec(STAGED, {"x": 3.0, "y": -4.0})
    ops = [n for n in tr.nodes if n.args]
    frames = spec["frames"]
    assert len(frames) == 1 + len(ops) + 1 + sum(n.needs_grad for n in ops)
    values0 = frames[0]["data"][1]["text"]
    assert [v != "" for v in values0] == [not n.args for n in tr.nodes]   # only inputs and constants known
    last_values = frames[len(ops)]["data"][1]["text"]
    assert last_values == [figs.num(n.value) for n in tr.nodes]          # the forward pass is complete
    assert all(g == "" for g in frames[len(ops)]["data"][2]["text"])     # no gradient yet
    auto = bp.autograd_node_grads(tr)
    final = frames[-1]["data"][2]["text"]
    for node, a, text in zip(tr.nodes, auto, final):
        if node.needs_grad:
            assert text.startswith("∂ " + figs.num(a)), (node.name, text)
        else:
            assert text == ""
    assert frames[len(ops) + 1]["data"][4]["text"][0] == "S f"           # the seed: df/df = 1


def test_gate_captions_name_the_pattern_and_the_plus_equals():
    tr, spec = graph_spec("max(x, y) * z + x", {"x": 2.0, "y": -1.0, "z": 3.0})
    captions = [f["data"][4]["text"][0].replace("<br>", " ") for f in spec["frames"]]
    assert any(c.startswith("MAX max1 3 x") for c in captions)           # routes upstream 3 to x, the larger
    assert any(c.startswith("MUL mul2 1 max1 z") for c in captions)
    assert any(c.startswith("ADD f 1") for c in captions)
    assert any("ADDS x" in c for c in captions)                          # x is used twice: its gradients add
    assert tr.grads["x"] == 4.0                                          # z * 1 + 1
    final = spec["frames"][-1]["data"][2]["text"]
    assert final[0].endswith("(+=)")


def test_the_code_panel_lights_the_line_each_node_runs():
    tr, spec = graph_spec(STAGED, {"x": 3.0, "y": -4.0})
    lines = bp.staged_lines(tr)
    ops = [n for n in tr.nodes if n.args]
    for j, node in enumerate(ops, start=1):                              # forward steps
        lit = [r for r in spec["frames"][j]["data"][6]["text"] if r]
        assert len(lit) == 1 and lit[0].startswith(f"{node.name} = ")
    start = len(ops) + 2
    backward = [n for n in reversed(tr.nodes) if n.args and n.needs_grad]
    for j, node in enumerate(backward, start=start):
        lit = [r.split("   #")[0] for r in spec["frames"][j]["data"][6]["text"] if r]
        expected = [ln.code for ln in lines if ln.backward and ln.node == node.index]
        assert lit == expected and all(code.endswith(f"* d{node.name}") for code in lit)


def test_layout_runs_left_to_right_one_node_per_operation():
    tr = bp.trace("sigmoid(w0*x0 + w1*x1 + w2)", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3})
    x, y = figs.positions(tr)
    assert len(x) == len(tr.nodes)
    for node in tr.nodes:
        assert all(x[k] < x[node.index] for k in node.args)
    assert x[tr.output] == x.max()
    spots = {(float(a), float(b)) for a, b in zip(x, y)}
    assert len(spots) == len(tr.nodes)                                   # no two nodes on one spot


def test_non_finite_values_are_printed_not_dropped():
    _, spec = graph_spec("1 / (x - y)", {"x": 1.0, "y": 1.0})
    assert "inf" in spec["frames"][-1]["data"][1]["text"]
    assert figs.num(float("nan")) == "NaN" and figs.num(float("-inf")) == "−inf"


def test_a_forty_node_graph_stays_small():
    expression = "(x*2+1)*(y*3-2)+sigmoid(x*y+0.5)*max(z*2,w-1)+relu(w*3+z)*(x-y)/(z*z+2)+exp(-x*x)*sin(y*2+1)"
    inputs = {"x": 0.5, "y": -0.3, "z": 1.2, "w": 0.7}
    tr, spec = graph_spec(expression, inputs)
    assert 40 <= len(tr.nodes) <= bp.MAX_GRAPH_NODES
    import json
    assert len(json.dumps(figs.graph_animation(tr, bp.staged_lines(tr), LABELS).to_dict())) < 1_000_000
    ticks = [s["label"] for s in spec["layout"]["sliders"][0]["steps"]]
    assert sum(1 for t in ticks if t) <= 19


def test_check_figure_is_log_log_with_the_chosen_h_marked():
    check = bp.gradient_check(STAGED, {"x": 3.0, "y": -4.0})
    spec = figs.check_figure(check, 1e-5, LABELS).to_dict()
    go.Figure(spec)
    spec = _decode(spec)
    assert spec["layout"]["xaxis"]["type"] == spec["layout"]["yaxis"]["type"] == "log"
    assert [d["name"] for d in spec["data"]] == ["x", "y", "chosen"]
    torch.testing.assert_close(torch.as_tensor(spec["data"][0]["y"]),
                               check.rel_error[:, 0].clamp(min=figs.FLOOR), rtol=1e-12, atol=0.0)
    assert list(spec["data"][2]["x"]) == [1e-5, 1e-5]
    single = bp.gradient_check(STAGED, {"x": 3.0, "y": -4.0}, dtype=torch.float32)
    both = _decode(figs.check_figure(check, 1e-5, LABELS, single).to_dict())
    assert [d["name"] for d in both["data"]] == ["x", "y", "chosen", "x (float32)", "y (float32)"]
    torch.testing.assert_close(torch.as_tensor(both["data"][4]["y"]),
                               single.rel_error[:, 1].clamp(min=figs.FLOOR), rtol=1e-12, atol=0.0)
    table = figs.check_table(check, 1e-5, {k: k for k in figs.CHECK_COLUMNS})
    assert list(table["variable"]) == ["x", "y"] and float(table["rel_error"][0]) < 1e-9


@pytest.mark.parametrize(("mistake", "sizes", "message"), [
    ("dW2_h", (4, 3, 5, 3), "MISMATCH 5 4"), ("dW1_swap", (4, 3, 5, 3), "RUNS 5 3 3 5"),
    ("dW2_h", (4, 3, 4, 3), "RUNS 4 3 4 3")])
def test_shapes_figure_draws_every_product_to_scale_and_the_mistake(mistake, sizes, message):
    config = bp.NetConfig(*sizes)
    wrong = bp.wrong_transpose(config, mistake)
    size = dict(zip("NDHC", sizes))
    spec = figs.shapes_figure(size, bp.PRODUCTS, wrong, LABELS).to_dict()
    go.Figure(spec)
    spec = _decode(spec)
    boxes = {}
    for d in spec["data"][:-1]:
        xs, ys = list(d["x"]), list(d["y"])
        boxes.setdefault(d["name"], []).append((round(ys[0] - ys[2]), round(xs[1] - xs[0])))   # (rows, cols)
    net = bp.two_layer_gradients(config)
    t = net.tensors
    factors = {"h^T": t["h"].T, "ds": net.manual["ds"], "W2^T": t["W2"].T, "X^T": t["X"].T, "dz1": net.manual["dz1"],
               "W1^T": t["W1"].T}
    for name, (a, _, b, _) in bp.PRODUCTS.items():
        assert boxes[name][0] == tuple(net.manual[name].shape)                 # the gradient's own shape
        assert boxes[a][0] == tuple(factors[a].shape) and boxes[b][0] == tuple(factors[b].shape)
        torch.testing.assert_close(factors[a] @ factors[b], net.manual[name])
    assert message in list(spec["data"][-1]["text"])


def test_shape_table_reports_every_gradient():
    net = bp.two_layer_gradients(bp.NetConfig())
    table = figs.shape_table(net, bp.GRADIENTS, {k: k for k in figs.SHAPE_COLUMNS})
    row = table[table["gradient"] == "dW2"].iloc[0]
    assert row["shape"] == "H=5 × C=3" and row["autograd_shape"] == "5 × 3"


@pytest.mark.parametrize("text", ["short", "a much longer caption " * 8])
def test_wrap_keeps_every_word_and_short_lines(text):
    wrapped = figs.wrap(text.strip(), 30)
    assert wrapped.replace("<br>", " ") == text.strip()
    assert all(len(line) <= 30 for line in wrapped.split("<br>"))


def test_nodes_with_nan_or_inf_get_a_red_ring():
    tr, spec = graph_spec("log(x) + y", {"x": -1.0, "y": 2.0})
    rings = spec["data"][2]["marker"]["line"]["color"]
    for node, colour in zip(tr.nodes, rings):
        bad = not (figs.math.isfinite(node.value) and figs.math.isfinite(node.grad))
        assert (colour == figs.RED) == bad
    assert rings[tr.output] == figs.RED
