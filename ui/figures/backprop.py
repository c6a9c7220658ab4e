"""Figures and tables of the backpropagation lesson: the computational graph stepped forward then backward (with
the staged code beside it), the gradient check's error against the step h, and the matrix case's agreement with
autograd. Pure: plain data and translated labels in, figures (or tables) out; they never call t()."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ui.figures.common import PALETTE, animation_layout, plain

if TYPE_CHECKING:
    import pandas as pd

    from dlcore.backprop import GradCheck, Mistake, NetGrads, StagedLine, Trace

# the labels each builder reads (the page passes ui.i18n.labels("backprop.fig", these)); most are format strings
GRAPH_LABELS = ("title", "play", "pause", "resume", "step", "start", "done", "forward", "seed", "gate_add", "gate_mul",
                "gate_max", "gate_sigmoid", "gate_other", "product", "adds", "legend_add", "legend_mul", "legend_max",
                "legend_sigmoid", "code")
CHECK_LABELS = ("check_title", "check_x", "check_y", "truncation", "roundoff", "chosen", "float32")
SHAPES_LABELS = ("shapes_title", "mismatch", "result")
NODE_COLUMNS = ("node", "op", "value", "local", "grad", "autograd", "diff")  # backprop.table
CHECK_COLUMNS = ("variable", "analytic", "numerical", "rel_error")           # backprop.table
SHAPE_COLUMNS = ("gradient", "formula", "shape", "autograd_shape", "diff")  # backprop.table

GREEN, RED, GREY = "#009E73", "#D55E00", "#999999"   # forward values green, gradients red (the notes' colours)
KIND_COLOUR = {"input": PALETTE[0], "const": "#DDDDDD", "add": PALETTE[5], "mul": PALETTE[1], "max": PALETTE[4],
               "sigmoid": PALETTE[6], "other": "#FFFFFF"}
KIND_OF = {"add": "add", "sub": "add", "mul": "mul", "max": "max", "min": "max", "sigmoid": "sigmoid"}
GLYPH = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "pow": "^", "neg": "−", "pos": "+", "sigmoid": "σ"}
WINDOW = 10   # staged-code lines visible at once; the window follows the current line
FLOOR = 1e-17  # a relative error of exactly 0 is drawn here on the log axis


def num(v: float) -> str:
    """A value as the figures print it: 4 significant digits, NaN and ±inf spelled out."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else "−inf"
    return f"{v:.4g}"


def wrap(text: str, width: int = 58) -> str:
    """``text`` broken into lines of at most ``width`` characters (``<br>``): a caption that fits a phone."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "<br>".join([*lines, line])


def kind(op: str) -> str:
    """The gate pattern of an operation: input, const, add, mul, max, sigmoid or other."""
    return op if op in ("input", "const") else KIND_OF.get(op, "other")


def positions(tr: Trace) -> tuple[np.ndarray, np.ndarray]:
    """Left-to-right layout: x is the node's depth, y spreads each column, ordered by the mean height of the nodes
    it connects to (two sweeps), so that edges cross little."""
    n = len(tr.nodes)
    users: list[list[int]] = [[] for _ in range(n)]
    for node in tr.nodes:
        for k in node.args:
            users[k].append(node.index)
    cols: dict[int, list[int]] = {}
    for node in tr.nodes:
        cols.setdefault(node.depth, []).append(node.index)
    y = np.zeros(n)

    def place() -> None:
        for members in cols.values():
            for j, i in enumerate(members):
                y[i] = j - (len(members) - 1) / 2

    place()
    for _ in range(2):
        for d in sorted(cols):
            def key(i: int) -> float:
                near = list(tr.nodes[i].args) or users[i]
                return float(np.mean([y[k] for k in near])) if near else 0.0
            cols[d].sort(key=key)
        place()
    x = np.array([float(node.depth) for node in tr.nodes])
    return x, -y


def _steps(tr: Trace, lines: Sequence[StagedLine]) -> list[dict]:
    """Every frame's state: which values and gradients are known, the node and edges that fire, the code lines."""
    nodes = tr.nodes
    known = [not node.args for node in nodes]
    grads = [0.0] * len(nodes)
    got = [0] * len(nodes)
    forward_line = {ln.node: i for i, ln in enumerate(lines) if not ln.backward}
    backward_lines: dict[int, list[int]] = {}
    for i, ln in enumerate(lines):
        if ln.backward:
            backward_lines.setdefault(ln.node, []).append(i + 1)   # +1: the "df = 1" line sits before them in the code
    steps = [{"kind": "start", "node": None, "known": list(known), "grads": list(grads), "got": list(got),
              "lines": []}]
    for node in nodes:
        if node.args:
            known[node.index] = True
            steps.append({"kind": "forward", "node": node.index, "known": list(known), "grads": list(grads),
                          "got": list(got), "lines": [forward_line[node.index]]})
    grads[tr.output], got[tr.output] = 1.0, 1
    n_forward = sum(1 for ln in lines if not ln.backward)
    steps.append({"kind": "seed", "node": tr.output, "known": list(known), "grads": list(grads), "got": list(got),
                  "lines": [n_forward]})
    for node in reversed(nodes):
        if not node.args or not node.needs_grad:
            continue
        adds = []
        for k, c in zip(node.args, node.contrib):
            if nodes[k].needs_grad:
                if got[k]:
                    adds.append(k)
                grads[k] += c
                got[k] += 1
        steps.append({"kind": "backward", "node": node.index, "known": list(known), "grads": list(grads),
                      "got": list(got), "lines": backward_lines.get(node.index, []),
                      "adds": adds})
    return steps


def _caption(tr: Trace, step: dict, labels: Mapping[str, str]) -> str:
    nodes = tr.nodes
    if step["kind"] == "start":
        return labels["start"]
    node = nodes[step["node"]]
    if step["kind"] == "forward":
        return labels["forward"].format(name=node.name, value=num(node.value))
    if step["kind"] == "seed":
        return labels["seed"].format(name=node.name)
    up = num(node.grad)
    a = nodes[node.args[0]]
    pattern = kind(node.op)
    if pattern == "add":
        text = labels["gate_add"].format(name=node.name, up=up)
    elif pattern == "mul":
        b = nodes[node.args[1]]
        text = labels["gate_mul"].format(name=node.name, up=up, a=a.name, b=b.name, va=num(a.value),
                                         vb=num(b.value))
    elif pattern == "max":
        firsts = [nodes[k].name for k, g in zip(node.args, node.local) if g > 0]
        text = labels["gate_max"].format(name=node.name, up=up, winner=", ".join(firsts) or "—")
    elif pattern == "sigmoid":
        text = labels["gate_sigmoid"].format(name=node.name, up=up, local=num(node.local[0]))
    else:
        text = labels["gate_other"].format(name=node.name, up=up,
                                           local=", ".join(num(g) for g in node.local))
    products = [labels["product"].format(name=nodes[k].name, op="+=" if k in step.get("adds", []) else "=",
                                         local=num(g), up=up, product=num(c))
                for k, g, c in zip(node.args, node.local, node.contrib) if nodes[k].needs_grad]
    text += " " + "; ".join(products) + "."
    for k in step.get("adds", []):
        text += " " + labels["adds"].format(name=nodes[k].name)
    return text


def _code_rows(codes: Sequence[str], current: Sequence[int]) -> tuple[list[str], list[str]]:
    """The visible window of the staged code: (plain rows, highlighted rows), WINDOW each."""
    first = current[0] if current else 0
    start = max(0, min(first - 3, len(codes) - WINDOW))
    rows = [codes[i] if i < len(codes) else "" for i in range(start, start + WINDOW)]
    lit = set(current)
    plain_rows = ["" if start + j in lit else r for j, r in enumerate(rows)]
    lit_rows = [r if start + j in lit else "" for j, r in enumerate(rows)]
    return plain_rows, lit_rows


def graph_animation(tr: Trace, lines: Sequence[StagedLine], labels: Mapping[str, str]):
    """The computational graph, left to right, one node per operation, stepped as animation frames: the forward
    pass fills in values (green, above each node), then the backward pass fills in gradients (red, below), each
    backward step captioned with its gate pattern. Under the graph, the staged code, its current line highlighted.

    tr: ``dlcore.backprop.trace``; lines: ``dlcore.backprop.staged_lines(tr)``; labels: ``GRAPH_LABELS``.
    Written as plain JSON (one frame per step; scrubbing costs no server rerun)."""
    nodes = tr.nodes
    x, y = positions(tr)
    ex, ey = [], []
    for node in nodes:
        for k in node.args:
            ex += [x[k], x[node.index], None]
            ey += [y[k], y[node.index], None]
    codes = [f"{ln.code}   # {num(ln.value)}" for ln in lines if not ln.backward]
    codes.append(f"d{tr.nodes[tr.output].name} = 1")
    codes += [f"{ln.code}   # {num(ln.value)}" for ln in lines if ln.backward]
    steps = _steps(tr, lines)
    glyphs = [n.name if n.op in ("input", "const") else GLYPH.get(n.op, n.op) for n in nodes]
    colours = [KIND_COLOUR[kind(n.op)] for n in nodes]
    broken = [not (math.isfinite(n.value) and math.isfinite(n.grad)) for n in nodes]   # NaN / inf: a red ring
    top, bottom = float(y.max()) + 0.6, float(y.min()) - 0.7
    code_y = [float(-j) for j in range(WINDOW)]

    def state(step: dict) -> list[dict]:
        i = step["node"]
        sx, sy = [], []
        if i is not None and step["kind"] in ("forward", "backward"):
            for k in nodes[i].args:
                if step["kind"] == "forward" or nodes[k].needs_grad:
                    sx += [x[k], x[i], None]
                    sy += [y[k], y[i], None]
        values = [num(n.value) if step["known"][n.index] else "" for n in nodes]
        grads = ["" if not step["got"][n.index] else "∂ " + num(step["grads"][n.index])
                 + (" (+=)" if step["got"][n.index] > 1 else "") for n in nodes]
        lo, hi = _code_rows(codes, step["lines"])
        ring = ([x[i]], [y[i]]) if i is not None else ([], [])
        colour = GREEN if step["kind"] == "forward" else RED
        return [{"x": sx, "y": sy, "line": {"color": colour, "width": 5}},
                {"text": values}, {"text": grads},
                {"x": ring[0], "y": ring[1], "marker": {"color": "rgba(0,0,0,0)", "size": 40,
                                                       "line": {"color": colour, "width": 4}}},
                {"text": [wrap(_caption(tr, step, labels))]},
                {"text": lo}, {"text": hi}]

    off = {"hoverinfo": "skip", "showlegend": False}
    first = state(steps[-1])                          # the page opens on the finished picture; Play replays it
    first[0].update(x=[], y=[])
    first[3].update(x=[], y=[])
    first[4] = {"text": [wrap(labels["done"])]}
    hover = [f"{n.name}: {num(n.value)}; ∂f/∂{n.name} = {num(n.grad)}" for n in nodes]
    data = [
        {"type": "scatter", "x": ex, "y": ey, "mode": "lines", "line": {"color": "#BBBBBB", "width": 2}, **off},  # 0
        {"type": "scatter", "mode": "lines", **first[0], **off},                                                 # 1
        {"type": "scatter", "x": x, "y": y, "mode": "markers+text", "text": glyphs, "textposition": "middle center",
         "marker": {"size": 34, "color": colours, "line": {"color": [RED if b else "#444444" for b in broken],
                                                             "width": [4 if b else 1 for b in broken]}},
         "textfont": {"size": 13, "color": "#000000"}, "hovertext": hover, "hoverinfo": "text",
         "showlegend": False},                                                                                   # 2
        {"type": "scatter", "x": x, "y": y, "mode": "markers+text", "text": first[1]["text"],
         "textposition": "top center", "marker": {"size": 40, "color": "rgba(0,0,0,0)"},
         "textfont": {"size": 12, "color": GREEN}, **off},                                                        # 3
        {"type": "scatter", "x": x, "y": y, "mode": "markers+text", "text": first[2]["text"],
         "textposition": "bottom center", "marker": {"size": 40, "color": "rgba(0,0,0,0)"},
         "textfont": {"size": 12, "color": RED}, **off},                                                          # 4
        {"type": "scatter", "mode": "markers", **first[3], **off},                                               # 5
        {"type": "scatter", "x": [float(x.min()) - 0.4], "y": [top + 0.7], "mode": "text", "text": first[4]["text"],
         "textposition": "bottom right", "textfont": {"size": 13}, "cliponaxis": False, **off},                  # 6
        {"type": "scatter", "x": [0.0] * WINDOW, "y": code_y, "mode": "text", "text": first[5]["text"],
         "textposition": "middle right", "textfont": {"family": "monospace", "size": 11, "color": "#555555"},
         "xaxis": "x2", "yaxis": "y2", "cliponaxis": False, **off},                                              # 7
        {"type": "scatter", "x": [0.0] * WINDOW, "y": code_y, "mode": "text", "text": first[6]["text"],
         "textposition": "middle right", "textfont": {"family": "monospace", "size": 12, "color": RED},
         "xaxis": "x2", "yaxis": "y2", "cliponaxis": False, **off},                                              # 8
    ]
    for name in ("add", "mul", "max", "sigmoid"):                                                            # legend
        data.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": labels[f"legend_{name}"],
                     "marker": {"size": 12, "color": KIND_COLOUR[name], "line": {"color": "#444444", "width": 1}},
                     "hoverinfo": "skip"})
    names = [str(j) for j in range(len(steps))]
    frames = []
    for name, step in zip(names, steps):
        s = state(step)
        frames.append({"name": name, "traces": [1, 3, 4, 5, 6, 7, 8],
                       "data": [{"type": "scatter", **d} for d in s]})
    span = float(x.max() - x.min()) if len(nodes) > 1 else 1.0
    graph_px = 92 * (top - bottom + 0.8)               # ~92 px between two nodes of a column
    height = int(min(1100, max(graph_px / 0.64, 540) + 230))
    layout = {
        "title": {"text": wrap(labels["title"], 52), "x": 0.0, "xanchor": "left"},
        "height": height, "margin": {"l": 10, "r": 10, "t": 140, "b": 110},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0.0},
        "xaxis": {"visible": False, "range": [float(x.min()) - 0.6, float(x.min()) + span + 0.6]},
        "yaxis": {"visible": False, "domain": [0.34, 1.0], "range": [bottom, top + 0.8]},
        "xaxis2": {"visible": False, "range": [0, 1], "anchor": "y2"},
        "yaxis2": {"visible": False, "domain": [0.0, 0.3], "range": [-WINDOW + 0.5, 1.2], "anchor": "x2"},
        "annotations": [{"text": labels["code"], "xref": "x2", "yref": "y2", "x": 0, "y": 1.1, "showarrow": False,
                         "xanchor": "left", "font": {"size": 12}}],
        "hovermode": "closest",
    }
    layout.update(animation_layout(names, play=labels["play"], pause=labels["pause"], step_label=labels["step"],
                                   duration_ms=700, below_px=10))   # no axes under the graph
    play, pause = layout["updatemenus"][0]["buttons"]
    replay = {**play, "args": [None, {**play["args"][1], "fromcurrent": False}]}
    layout["updatemenus"][0]["buttons"] = [replay, pause, {**play, "label": labels["resume"]}]
    layout["sliders"][0]["active"] = len(names) - 1
    every = math.ceil(len(names) / 18)                  # at most ~18 tick labels under the slider
    for j, st in enumerate(layout["sliders"][0]["steps"]):
        st["label"] = st["label"] if j % every == 0 else ""
    return plain(data, layout, frames)


def check_figure(check: GradCheck, h: float, labels: Mapping[str, str], single: GradCheck | None = None):
    """Relative error of the centred difference against the step h, log-log, one line per input; a dashed line at
    the chosen h. Large h: truncation error (the slope of h²); small h: round-off (the slope of 1/h).
    ``single``: the same check with float32 differences, drawn dotted (after the chosen-h line)."""
    hs = check.h.numpy()
    err = np.clip(np.nan_to_num(check.rel_error.numpy(), nan=1.0, posinf=1.0), FLOOR, None)
    err32 = None if single is None else np.clip(np.nan_to_num(single.rel_error.numpy(), nan=1.0, posinf=1.0),
                                                FLOOR, None)
    data = [{"type": "scatter", "x": hs, "y": err[:, i], "mode": "lines+markers", "name": name,
             "line": {"color": PALETTE[i % len(PALETTE)]}, "marker": {"size": 5},
             "hovertemplate": f"{name}: h = %{{x:.1e}}, error = %{{y:.2e}}<extra></extra>"}
            for i, name in enumerate(check.names)]
    both = err if err32 is None else np.concatenate([err, err32])
    top = float(both.max()) * 10
    data.append({"type": "scatter", "x": [h, h], "y": [float(both.min()) / 10, top], "mode": "lines",
                 "name": labels["chosen"], "line": {"color": "#000000", "dash": "dash", "width": 1},
                 "hoverinfo": "skip"})
    for i, name in enumerate(check.names if err32 is not None else ()):
        label = f"{name} ({labels['float32']})"
        data.append({"type": "scatter", "x": hs, "y": err32[:, i], "mode": "lines", "name": label,
                     "line": {"color": PALETTE[i % len(PALETTE)], "dash": "dot", "width": 2},
                     "hovertemplate": f"{label}: h = %{{x:.1e}}, error = %{{y:.2e}}<extra></extra>"})
    layout = {
        "title": {"text": labels["check_title"], "x": 0.0, "xanchor": "left"}, "height": 420,
        "margin": {"l": 60, "r": 20, "t": 60, "b": 50},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1.0},
        "xaxis": {"type": "log", "title": {"text": labels["check_x"]}, "exponentformat": "power"},
        "yaxis": {"type": "log", "title": {"text": labels["check_y"]}, "exponentformat": "power"},
        "annotations": [
            {"text": labels["roundoff"], "x": math.log10(float(hs.min())), "y": math.log10(top), "xref": "x",
             "yref": "y", "showarrow": False, "xanchor": "left", "yanchor": "top", "font": {"size": 12}},
            {"text": labels["truncation"], "x": math.log10(float(hs.max())), "y": math.log10(top), "xref": "x",
             "yref": "y", "showarrow": False, "xanchor": "right", "yanchor": "top", "font": {"size": 12}}],
    }
    return plain(data, layout)


def _box(x0: float, y0: float, rows: int, cols: int, colour: str, name: str) -> dict:
    """A rows x cols matrix as a filled rectangle (one unit per entry), top-left corner at (x0, y0)."""
    return {"type": "scatter", "x": [x0, x0 + cols, x0 + cols, x0, x0], "y": [y0, y0, y0 - rows, y0 - rows, y0],
            "mode": "lines", "fill": "toself", "fillcolor": colour, "line": {"color": "#444444", "width": 1},
            "name": name, "hovertemplate": f"{name}: {rows} × {cols}<extra></extra>", "showlegend": False}


def shapes_figure(sizes: Mapping[str, int], products: Mapping[str, tuple[str, str, str, str]], wrong: Mistake,
                  labels: Mapping[str, str]):
    """Dimension analysis drawn to scale: each gradient of the backward pass as a box of its shape, equal to the
    product of two boxes whose inner sides match; last row, the chosen wrong transpose, its mismatched inner sides
    in red (or, where they happen to match, the shape it gives).

    sizes: {"N", "D", "H", "C"} -> int; products: ``dlcore.backprop.PRODUCTS``; wrong: ``wrong_transpose``;
    labels: ``SHAPES_LABELS`` ("mismatch" is a format string with {a} and {b})."""
    data, texts = [], {"x": [], "y": [], "text": [], "color": [], "position": []}
    width = 3 * max(sizes.values()) + 8
    y = 0.0

    def label(x: float, yy: float, text: str, colour: str = "#222222", position: str = "middle center") -> None:
        texts["x"].append(x)
        texts["y"].append(yy)
        texts["text"].append(text)
        texts["color"].append(colour)
        texts["position"].append(position)

    def row(name: str, shape: tuple[int, int] | None, left: tuple[str, tuple[int, int]],
            right: tuple[str, tuple[int, int]], colour: str, bad: bool) -> None:
        nonlocal y
        tall = max(left[1][0], right[1][0], shape[0] if shape else 1)
        x = 0.0
        if shape is not None:
            data.append(_box(x, y, *shape, colour, name))
            label(x + shape[1] / 2, y + 0.6, f"{name}  {shape[0]}×{shape[1]}")
            x += shape[1]
        else:
            label(x + 0.5, y - 0.5, "?", PALETTE[3])
            x += 1
        label(x + 1, y - tall / 2, "=")
        x += 2
        for j, (factor, (r, c)) in enumerate((left, right)):
            data.append(_box(x, y, r, c, "#DDDDDD" if not bad else "rgba(213,94,0,0.25)", factor))
            label(x + c / 2, y + 0.6, f"{factor.replace('^T', 'ᵀ')}  {r}×{c}")
            x += c
            if j == 0:
                label(x + 1, y - tall / 2, "·")
                x += 2
        y -= tall + 2.2

    for name, (a, la, b, lb) in products.items():
        shape_a, shape_b = tuple(sizes[ch] for ch in la), tuple(sizes[ch] for ch in lb)
        row(name, (shape_a[0], shape_b[1]), (a, shape_a), (b, shape_b), PALETTE[5], False)
    (ra, ca), (rb, cb) = wrong.operands
    factors = wrong.formula.split(" ")
    y -= 0.8
    er, ec = wrong.expected if len(wrong.expected) == 2 else (wrong.expected[0], 1)
    r, c = wrong.shape if wrong.shape else (ra, cb)
    label(0, y + 1.4, labels["mismatch"].format(a=ca, b=rb) if ca != rb else labels["result"].format(
        r=r, c=c, er=er, ec=ec),
          PALETTE[3] if ca != rb else "#222222", "middle right")
    row(wrong.target, wrong.shape, (factors[0], (ra, ca)), (factors[1], (rb, cb)), "rgba(213,94,0,0.25)", ca != rb)
    data.append({"type": "scatter", "x": texts["x"], "y": texts["y"], "text": texts["text"], "mode": "text",
                 "textfont": {"size": 12, "color": texts["color"]}, "textposition": texts["position"],
                 "hoverinfo": "skip", "showlegend": False, "cliponaxis": False})
    layout = {"title": {"text": labels["shapes_title"], "x": 0.0, "xanchor": "left"},
              "height": int(min(900, 120 + 22 * -y)), "margin": {"l": 10, "r": 10, "t": 60, "b": 20},
              "xaxis": {"visible": False, "range": [-0.5, width]},
              "yaxis": {"visible": False, "range": [y - 0.5, 1.5], "scaleanchor": "x", "scaleratio": 1},
              "hovermode": "closest"}
    return plain(data, layout)


def node_table(tr: Trace, auto: Sequence[float], columns: Mapping[str, str]) -> pd.DataFrame:
    """Each node's value and gradient beside ``torch.autograd``'s, and their difference."""
    import pandas as pd

    rows = [{columns["node"]: n.name, columns["op"]: n.op, columns["value"]: num(n.value),
             columns["local"]: ", ".join(f"∂/∂{tr.nodes[k].name}: {num(g)}" for k, g in zip(n.args, n.local)),
             columns["grad"]: num(n.grad), columns["autograd"]: num(a),
             columns["diff"]: f"{abs(n.grad - a):.1e}" if math.isfinite(n.grad - a) else num(n.grad - a)}
            for n, a in zip(tr.nodes, auto)]
    return pd.DataFrame(rows)


def check_table(check: GradCheck, h: float, columns: Mapping[str, str]) -> pd.DataFrame:
    """At the step nearest ``h``: each input's backprop gradient, centred difference and relative error."""
    import pandas as pd

    j = int(np.argmin(np.abs(np.log10(check.h.numpy()) - math.log10(h))))
    return pd.DataFrame([{columns["variable"]: name, columns["analytic"]: f"{float(check.analytic[i]):.10g}",
                          columns["numerical"]: f"{float(check.numerical[j, i]):.10g}",
                          columns["rel_error"]: f"{float(check.rel_error[j, i]):.1e}"}
                         for i, name in enumerate(check.names)])


def shape_table(net: NetGrads, formulas: Mapping[str, tuple[str, str]], columns: Mapping[str, str]) -> pd.DataFrame:
    """Each gradient: its formula, its shape by dimension analysis (letters and numbers), autograd's shape, and the
    largest difference. ``formulas``: ``dlcore.backprop.GRADIENTS``."""
    import pandas as pd

    c = net.config
    size = {"N": c.n, "D": c.d, "H": c.hidden, "C": c.c}
    rows = []
    for name, (formula, letters) in formulas.items():
        dims = " × ".join(f"{ch}={size[ch]}" for ch in letters)
        rows.append({columns["gradient"]: name, columns["formula"]: formula, columns["shape"]: dims,
                     columns["autograd_shape"]: " × ".join(map(str, net.autograd[name].shape)),
                     columns["diff"]: f"{float((net.manual[name] - net.autograd[name]).abs().max()):.1e}"})
    return pd.DataFrame(rows)
