"""Backpropagation lesson: trace plus graph figure for a 40-node expression (target <= 50 ms), at the defaults and
at the node cap; the gradient check; the two-layer network's page rerun (target <= 150 ms of server CPU)."""

from __future__ import annotations

import time

from bench import Row, best_of

FORTY = "(x*2+1)*(y*3-2)+sigmoid(x*y+0.5)*max(z*2,w-1)+relu(w*3+z)*(x-y)/(z*z+2)+exp(-x*x)*x"   # 40 graph nodes
WIDE = FORTY + "*sin(y*2+1)+w"                                                                 # 47 graph nodes
AT_CAP = "x" + "+1" * 31                                                                        # 63: a 32-deep chain


def _labels(figs) -> dict[str, str]:
    return {k: k for k in figs.GRAPH_LABELS} | {
        "forward": "{name} = {value}", "seed": "d{name} = 1", "gate_add": "{name} {up}",
        "gate_mul": "{name} {up} {a} {b} {va} {vb}", "gate_max": "{name} {up} {winner}",
        "gate_sigmoid": "{name} {up} {local}", "gate_other": "{name} {up} {local}", "adds": "{name}"}


def run() -> list[Row]:
    from dlcore import backprop as bp
    from ui.experiments import backprop as experiment
    from ui.figures import backprop as figs
    from ui.figures.common import freeze

    rows: list[Row] = []
    labels = _labels(figs)
    inputs = {"x": 0.5, "y": -0.3, "z": 1.2, "w": 0.7}
    for name, expression in (("default (staged example)", experiment.STAGED), ("40-node expression", FORTY),
                             ("47-node expression", WIDE), ("63-node chain (cap 64)", AT_CAP)):
        given = {k: v for k, v in inputs.items() if k in bp.variables_of(expression)}
        n_nodes = len(bp.trace(expression, given).nodes)

        def build(expression=expression, given=given):
            tr = bp.trace(expression, given)
            return freeze(figs.graph_animation(tr, bp.staged_lines(tr), labels))

        size = len(__import__("json").dumps(build())) / 2**20
        rows.append(Row("backprop", f"trace + graph figure, {name}", best_of(build, repeat=5), "ms",
                        f"{n_nodes} nodes; target <= 50 ms"))
        rows.append(Row("backprop", f"graph figure JSON, {name}", size, "MB", "target < 1 MB"))
        rows.append(Row("backprop", f"trace vs autograd table, {name}", best_of(
            lambda e=expression, g=given: bp.autograd_node_grads(bp.trace(e, g))), "ms"))
    rows.append(Row("backprop", "gradient check (40 steps), staged example", best_of(
        lambda: bp.gradient_check(experiment.STAGED, {"x": 3.0, "y": -4.0})), "ms"))
    rows.append(Row("backprop", "two-layer gradients + wrong transpose, N=D=H=C=8", best_of(
        lambda: (bp.two_layer_gradients(bp.NetConfig(8, 8, 8, 8)), bp.wrong_transpose(bp.NetConfig(8, 8, 8, 8),
                                                                                       "dW1_swap"))), "ms"))
    rows += _page_reruns()
    return rows


def _page_reruns() -> list[Row]:
    """Server time of one rerun of each tab (AppTest), caches warm, and of the matrix tab after a size change."""
    import tests.support  # noqa: F401  (AppTest navigation-mode pin)
    from tests.support import open_page
    from ui.i18n import strings

    rows = []
    at = open_page("pages/backprop.py", "en")
    for tab in ("graph", "check", "matrix"):
        at.session_state["backprop.tab"] = strings("en")[f"backprop.tabs.{tab}"]
        at.run()
        cpu, wall = [], []
        for _ in range(3):
            c0, t0 = time.process_time(), time.perf_counter()
            at.run()
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - t0)
        rows.append(Row("backprop", f"page rerun, tab {tab} (warm caches): CPU", min(cpu) * 1000, "ms",
                        "exception!" if at.exception else ("target <= 150 ms" if tab == "matrix" else "")))
        rows.append(Row("backprop", f"page rerun, tab {tab} (warm caches): wall", min(wall) * 1000, "ms"))
    cpu = []
    for n in (5, 6, 7):   # a new size each time: the cached wrapper computes
        at.session_state["backprop.n"] = n
        c0 = time.process_time()
        at.run()
        cpu.append(time.process_time() - c0)
    rows.append(Row("backprop", "page rerun, tab matrix, new size (cold cache): CPU", min(cpu) * 1000, "ms",
                    "exception!" if at.exception else "target <= 150 ms"))
    return rows
