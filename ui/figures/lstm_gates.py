"""Figures of the LSTM-gates lesson: the cell diagram with values on its wires, gate heatmaps over a
typed sequence, gradient-flow curves, the length sweep. Pure: data in, ``go.Figure`` out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures.common import DIVERGING, MIN_TEXT_PX, SEQUENTIAL, base_layout, color, legend_at_bottom, series

WIRE = "#555555"
GATE_FILL = {"sigma": "#FBE3C4", "tanh": "#CFE3F3"}


def fmt_values(v: np.ndarray) -> str:
    """One value as '+0.95', several as '[+0.95, -0.12]'."""
    v = np.atleast_1d(v)
    text = ", ".join(f"{x:+.2f}" for x in v)
    return text if len(v) == 1 else f"[{text}]"


def _line(fig: go.Figure, x0: float, y0: float, x1: float, y1: float, width: float = 2, col: str = WIRE) -> None:
    fig.add_shape(type="line", x0=x0, y0=y0, x1=x1, y1=y1, line={"color": col, "width": width}, layer="below")


def _arrow(fig: go.Figure, x0: float, y0: float, x1: float, y1: float, col: str = WIRE) -> None:
    fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="",
                       showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=2, arrowcolor=col)


def _box(fig: go.Figure, x: float, y: float, label: str, kind: str, compact: bool = False) -> None:
    """A gate's box; ``compact`` (a phone, ~27 px a box): its function above its name ("σ" over "f")."""
    fig.add_shape(type="rect", x0=x - 0.42, y0=y - 0.3, x1=x + 0.42, y1=y + 0.3, line={"color": WIRE, "width": 1.5},
                  fillcolor=GATE_FILL[kind])
    fig.add_annotation(x=x, y=y, text=label.replace("  ", "<br>") if compact else label, showarrow=False,
                       font={"size": 12 if compact else 14})


def _op(fig: go.Figure, x: float, y: float, label: str) -> None:
    fig.add_shape(type="circle", x0=x - 0.22, y0=y - 0.22, x1=x + 0.22, y1=y + 0.22, line={"color": WIRE, "width": 1.5},
                  fillcolor="#FFFFFF")
    fig.add_annotation(x=x, y=y, text=label, showarrow=False, font={"size": 14})


def _value(fig: go.Figure, x: float, y: float, name: str, v: np.ndarray, anchor: str = "left",
           col: str = "#000") -> None:
    fig.add_annotation(x=x, y=y, text=f"<b>{name}</b> = {fmt_values(v)}", showarrow=False, xanchor=anchor,
                       font={"size": 12, "color": col}, bgcolor="rgba(255,255,255,0.85)")


def cell_diagram(kind: str, values: dict[str, np.ndarray], *, title: str, height: int = 430,
                 compact: bool = False) -> go.Figure:
    """The cell as colah draws it, with this step's value on every wire.

    kind: "lstm" (values x, h_prev, c_prev, i, f, g, o, c, h) or "gru" (x, h_prev, r, z, n, h).
    compact (a phone): only each wire's name on the wire, and "name = values" listed under the diagram in two
    columns, since a phone's 350 px leave ~30 px per diagram unit and the values would cover each other.
    """
    fig = go.Figure()
    v = values
    listed: list[tuple[str, np.ndarray, str]] = []

    def val(x: float, y: float, name: str, value: np.ndarray, anchor: str = "left", col: str = "#000") -> None:
        if not compact:
            _value(fig, x, y, name, value, anchor, col)
            return
        fig.add_annotation(x=x, y=y, text=f"<b>{name}</b>", showarrow=False, xanchor=anchor,
                           font={"size": 12, "color": col}, bgcolor="rgba(255,255,255,0.85)")
        listed.append((name, value, col))
    if kind == "lstm":
        # 1) the cell-state highway on top: C_{t-1} -> x f -> + i*g -> C_t
        _line(fig, 0.3, 5, 9.7, 5, width=4, col="#0072B2")
        _arrow(fig, 9.2, 5, 9.8, 5, col="#0072B2")
        _op(fig, 3, 5, "×")
        _op(fig, 5.5, 5, "+")
        # 2) the input bus at the bottom: [h_{t-1}, x_t] feeds all four gates
        _line(fig, 0.3, 1, 7.5, 1)
        _line(fig, 1.5, 0.2, 1.5, 1)
        for gx in (3, 5, 6, 7.5):
            _line(fig, gx, 1, gx, 2.7)
        _box(fig, 3, 3, "σ  f", "sigma", compact)
        _box(fig, 5, 3, "σ  i", "sigma", compact)
        _box(fig, 6, 3, "tanh  g", "tanh", compact)
        _box(fig, 7.5, 3, "σ  o", "sigma", compact)
        _line(fig, 3, 3.3, 3, 4.78)                          # f -> x
        _line(fig, 5, 3.3, 5, 4), _line(fig, 6, 3.3, 6, 4)   # i, g -> x
        _op(fig, 5.5, 4, "×")
        _line(fig, 5, 4, 5.28, 4), _line(fig, 5.72, 4, 6, 4)
        _line(fig, 5.5, 4.22, 5.5, 4.78)                     # i*g -> +
        # 3) output: h_t = o * tanh(C_t)
        _line(fig, 8.6, 5, 8.6, 4.3)
        _box(fig, 8.6, 4, "tanh", "tanh", compact)
        _line(fig, 8.6, 3.7, 8.6, 2.22)
        _op(fig, 8.6, 2, "×")
        _line(fig, 7.5, 3.3, 7.5, 3.5), _line(fig, 7.5, 3.5, 8.1, 3.5), _line(fig, 8.1, 3.5, 8.1, 2)
        _line(fig, 8.1, 2, 8.38, 2)
        _line(fig, 8.6, 1.78, 8.6, 1), _line(fig, 8.6, 1, 9.7, 1)
        _arrow(fig, 9.2, 1, 9.8, 1)
        val(0.3, 5.35, "C<sub>t−1</sub>", v["c_prev"])
        val(9.8, 5.35, "C<sub>t</sub>", v["c"], anchor="right", col="#0072B2")
        val(0.3, 1.3, "h<sub>t−1</sub>", v["h_prev"])
        val(1.6, 0.25, "x<sub>t</sub>", v["x"])
        val(3.1, 4.0, "f", v["f"], col="#D55E00")
        val(3.7, 2.2, "i", v["i"], anchor="left", col="#D55E00")
        val(5.6, 4.5, "i⊙g", v["i"] * v["g"])
        val(6.1, 2.2, "g = C̃", v["g"], col="#0072B2")
        val(7.6, 2.6, "o", v["o"], col="#D55E00")
        val(8.75, 4.45, "tanh C<sub>t</sub>", np.tanh(v["c"]))
        val(9.8, 1.3, "h<sub>t</sub>", v["h"], anchor="right", col="#009E73")
    else:
        # 1) the state highway: h_{t-1} -> x z -> + (1-z)*n -> h_t
        _line(fig, 0.3, 5, 9.7, 5, width=4, col="#009E73")
        _arrow(fig, 9.2, 5, 9.8, 5, col="#009E73")
        _op(fig, 4, 5, "×")
        _op(fig, 7, 5, "+")
        # 2) inputs
        _line(fig, 0.8, 5, 0.8, 1), _line(fig, 0.8, 1, 6.5, 1)
        _line(fig, 1.5, 0.2, 1.5, 1)
        for gx in (2.5, 4):
            _line(fig, gx, 1, gx, 2.7)
        _box(fig, 2.5, 3, "σ  r", "sigma", compact)
        _box(fig, 4, 3, "σ  z", "sigma", compact)
        _line(fig, 4, 3.3, 4, 4.78)                                   # z -> x (keep the old state)
        _op(fig, 5.2, 3.8, "1−")
        _line(fig, 4, 3.8, 4.98, 3.8)
        _op(fig, 7, 3.8, "×")
        _line(fig, 5.42, 3.8, 6.78, 3.8)
        _line(fig, 7, 4.02, 7, 4.78)                                  # (1-z)*n -> +
        _box(fig, 7, 2.2, "tanh  n", "tanh", compact)
        _line(fig, 7, 2.5, 7, 3.58)
        _line(fig, 2.5, 3.3, 2.5, 3.5), _line(fig, 2.5, 3.5, 3.3, 3.5), _line(fig, 3.3, 3.5, 3.3, 1.7)
        _line(fig, 3.3, 1.7, 6.58, 1.7)                               # r gates W_hn h inside n
        _line(fig, 6.5, 1, 6.5, 1.9), _line(fig, 6.5, 1.9, 6.58, 1.9)
        val(0.3, 5.35, "h<sub>t−1</sub>", v["h_prev"])
        val(9.8, 5.35, "h<sub>t</sub>", v["h"], anchor="right", col="#009E73")
        val(1.6, 0.25, "x<sub>t</sub>", v["x"])
        val(1.3, 3.85, "r", v["r"], col="#D55E00")
        val(4.1, 4.4, "z", v["z"], col="#D55E00")
        val(5.4, 4.2, "1−z", 1 - v["z"])
        val(7.5, 2.2, "n = h̃", v["n"], col="#0072B2")
        val(7.1, 4.4, "(1−z)⊙n", (1 - v["z"]) * v["n"])
    bottom = 0.0
    if listed:   # "name = values" under the diagram, 0.6 diagram units (~30 px) a row; two columns for 1-2 units
        rows = (len(listed) + 1) // 2 if max(np.size(value) for _, value, _ in listed) <= 2 else len(listed)
        for k, (name, value, col) in enumerate(listed):
            _value(fig, 0.1 + 5.5 * (k // rows), -0.5 - 0.6 * (k % rows), name, value, "left", col)
        bottom = -0.6 * rows - 0.1
        height += int(round(50 * 0.6 * rows))
    fig.update_xaxes(visible=False, range=[0, 11])
    fig.update_yaxes(visible=False, range=[bottom, 5.8])
    base_layout(fig, title, height=height)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 50, "b": 10}, showlegend=False)
    return fig


def equations(kind: str, v: dict[str, np.ndarray]) -> str:
    """The step's equations with this step's numbers (LaTeX, same symbols as the lesson text)."""
    f = fmt_values
    if kind == "lstm":
        a = dict(zip("ifgo", np.split(v["pre"], 4)))
        rows = [rf"f_t &= \sigma(a_f) = \sigma({f(a['f'])}) = {f(v['f'])}",
                rf"i_t &= \sigma(a_i) = \sigma({f(a['i'])}) = {f(v['i'])}",
                rf"\tilde C_t = g_t &= \tanh(a_g) = \tanh({f(a['g'])}) = {f(v['g'])}",
                rf"o_t &= \sigma(a_o) = \sigma({f(a['o'])}) = {f(v['o'])}",
                rf"C_t &= f_t \odot C_{{t-1}} + i_t \odot \tilde C_t = {f(v['c'])}",
                rf"h_t &= o_t \odot \tanh(C_t) = {f(v['h'])}"]
    else:
        a = dict(zip("rzn", np.split(v["pre"], 3)))
        rows = [rf"r_t &= \sigma(a_r) = \sigma({f(a['r'])}) = {f(v['r'])}",
                rf"z_t &= \sigma(a_z) = \sigma({f(a['z'])}) = {f(v['z'])}",
                rf"\tilde h_t = n_t &= \tanh(W_{{in}} x_t + b_{{in}} + r_t \odot (W_{{hn}} h_{{t-1}} + b_{{hn}})) "
                rf"= \tanh({f(a['n'])}) = {f(v['n'])}",
                rf"h_t &= (1 - z_t) \odot \tilde h_t + z_t \odot h_{{t-1}} = {f(v['h'])}"]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def step_bars(names: Sequence[str], values: Sequence[np.ndarray], *, unit: str, title: str, y: str) -> go.Figure:
    """Every quantity of the step (x) with one bar per hidden unit."""
    fig = go.Figure()
    H = len(np.atleast_1d(values[0]))
    names = [n.replace(" (", "<br>(").replace("（", "<br>（") for n in names]   # "C̃ (candidate)": name over role
    for k in range(H):
        fig.add_trace(go.Bar(x=names, y=np.array([np.atleast_1d(v)[k] for v in values]),
                             name=f"{unit} {k + 1}", marker_color=color(k)))
    legend_at_bottom(base_layout(fig, title, y=y, height=350), 60)   # above the bars it met the title
    fig.update_yaxes(range=[-1.05, 1.05])
    return fig


def memory_curve(memory: np.ndarray, reference: np.ndarray | None, *, unit: str, ref_name: str, title: str,
                 x: str, y: str) -> go.Figure:
    """The memory (C or h) of each unit over the steps of zero input after the shown step; dashed: the
    closed form sigma(b)^t times the start value (b: the LSTM forget-gate or GRU update-gate bias), where it applies."""
    fig = go.Figure()
    steps = np.arange(memory.shape[0])
    for k in range(memory.shape[1]):
        fig.add_trace(go.Scatter(x=steps, y=memory[:, k], mode="lines+markers", name=f"{unit} {k + 1}",
                                 line={"color": color(k)}, marker={"size": 5}))
        if reference is not None:
            fig.add_trace(go.Scatter(x=steps, y=reference[:, k], mode="lines", name=ref_name,
                                     line={"color": color(k), "dash": "dash", "width": 1}, showlegend=k == 0))
    base_layout(fig, title, x=x, y=y, height=330)
    fig.update_yaxes(range=[-1.05, 1.05])
    return legend_at_bottom(fig, 100)   # under the x title (just below the axis, it met the title)


def gate_heatmaps(tokens: Sequence[str], panels: Sequence[tuple[str, np.ndarray, bool]], unit_names: Sequence[str],
                  prediction: np.ndarray, target: np.ndarray, *, title: str, pred_name: str, target_name: str,
                  answer_axis: str, answer_ticks: Sequence[str] | None = None, step: str) -> go.Figure:
    """Prediction vs target on top, then one heatmap per gate / state (units x time), the typed symbols on x.

    panels: (name, values (H, T), signed); gates (signed=False) share a 0..1 colour axis, states a
    symmetric diverging one.
    """
    T = len(tokens)
    rows = len(panels) + 1
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.045,
                        subplot_titles=[answer_axis] + [p[0] for p in panels],
                        row_heights=[1.3] + [1.0] * len(panels))
    t = np.arange(T)
    fig.add_trace(go.Scatter(x=t, y=target, mode="lines", line={"shape": "hv", "color": "#999999", "width": 3},
                             name=target_name), row=1, col=1)
    fig.add_trace(go.Scatter(x=t, y=prediction, mode="markers", marker={"color": color(0), "size": 6},
                             name=pred_name), row=1, col=1)
    signed_max = max([float(np.abs(v).max()) for _, v, s in panels if s] + [1e-6])
    hover = "%{x}: %{customdata}<br>%{y}: %{z:.3f}<extra></extra>"
    custom = np.array([list(tokens)] * len(unit_names))
    for r, (name, values, signed) in enumerate(panels, start=2):
        fig.add_trace(go.Heatmap(z=values.astype(np.float32), x=t, y=list(unit_names), customdata=custom,
                                 coloraxis="coloraxis2" if signed else "coloraxis", hovertemplate=hover, name=name),
                      row=r, col=1)
    fig.update_layout(
        coloraxis={"colorscale": SEQUENTIAL, "cmin": 0, "cmax": 1,
                   "colorbar": {"title": {"text": "σ"}, "len": 0.45, "y": 0.75, "thickness": 12}},
        coloraxis2={"colorscale": DIVERGING, "cmin": -signed_max, "cmax": signed_max,
                    "colorbar": {"title": {"text": "C, h"}, "len": 0.4, "y": 0.2, "thickness": 12}})
    base_layout(fig, title, height=150 + 70 * len(panels) + 14 * len(panels) * len(unit_names))
    fig.update_xaxes(tickmode="array", tickvals=t, ticktext=list(tokens), tickangle=0, tickfont={"size": 12},
                     row=rows, col=1)
    fig.update_xaxes(title_text=step, row=rows, col=1)
    if answer_ticks is not None:
        fig.update_yaxes(tickmode="array", tickvals=list(range(len(answer_ticks))), ticktext=list(answer_ticks),
                         range=[-0.5, len(answer_ticks) - 0.5], row=1, col=1)
    for r in range(2, rows + 1):
        fig.update_yaxes(autorange="reversed", tickfont={"size": MIN_TEXT_PX}, row=r, col=1)
    fig.update_layout(margin={"l": 90, "r": 20, "t": 80, "b": 50})
    return fig


def featured_units(tokens: Sequence[str], rows: Sequence[tuple[str, np.ndarray]], *, title: str) -> go.Figure:
    """Karpathy's picture: the typed text, each symbol coloured by one unit's state at that step."""
    z = np.array([r[1] for r in rows], dtype=np.float32)
    lim = max(float(np.abs(z).max()), 1e-6)
    text = np.array([list(tokens)] * len(rows))
    fig = go.Figure(go.Heatmap(z=z, y=[r[0] for r in rows], text=text, texttemplate="%{text}",
                               textfont={"size": 13}, colorscale=DIVERGING, zmin=-lim, zmax=lim, xgap=1, ygap=4,
                               hovertemplate="%{text}: %{z:.3f}<extra>%{y}</extra>"))
    base_layout(fig, title, height=110 + 45 * len(rows))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(margin={"l": 120, "r": 20, "t": 50, "b": 10})
    return fig


def flow_curves(curves: dict[str, np.ndarray], names: dict[str, str], *, title: str, x: str, y: str,
                clip_note: dict[str, str] | None = None) -> go.Figure:
    """||dL/dh_t|| against t on a log axis, one line per kind (exact zeros are left out: log 0)."""
    fig = go.Figure()
    for k, (kind, norms) in enumerate(curves.items()):
        t = np.arange(1, len(norms) + 1)
        shown = np.where(norms > 0, norms, np.nan)
        k = KINDS.index(kind) if kind in KINDS else k   # one look per kind in every figure: colour, dash, marker
        fig.add_trace(go.Scatter(x=t, y=shown, mode="lines+markers", line=series(k).line(2.5),
                                 marker=series(k).marker(8, maxdisplayed=12),
                                 name=names[kind] + (clip_note or {}).get(kind, "")))
    base_layout(fig, title, x=x, y=y, height=430)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def sweep(lengths: Sequence[int], accuracy: dict[str, Sequence[float]], names: dict[str, str], *, title: str,
          x: str, y: str, chance: str) -> go.Figure:
    """Recall accuracy at the training length, per model kind."""
    fig = go.Figure()
    for k, (kind, acc) in enumerate(accuracy.items()):
        k = KINDS.index(kind) if kind in KINDS else k
        fig.add_trace(go.Scatter(x=list(lengths), y=list(acc), mode="lines+markers", name=names[kind],
                                 line=series(k).line(), marker=series(k).marker(8)))
    fig.add_hline(y=0.25, line_dash="dot", line_color="#999999", annotation_text=chance)
    base_layout(fig, title, x=x, y=y, height=330)
    fig.update_yaxes(range=[0, 1.05])
    return fig


def training_curve(history: Sequence[tuple[int, float, float]], *, title: str, x: str, y: str) -> go.Figure:
    """Evaluation accuracy over a live training run."""
    h = np.array(history, dtype=np.float64).reshape(-1, 3)
    fig = go.Figure(go.Scatter(x=h[:, 0], y=h[:, 2], mode="lines+markers", line={"color": color(2)}, name=y))
    base_layout(fig, title, x=x, y=y, height=280)
    fig.update_yaxes(range=[0, 1.05])
    return fig


# ---------------------------------------------------------------- the lesson's figures with their labels
# ``lab`` maps the label keys of LABELS (after "lstm_gates.") to their translated text: the page passes
# ``ui.i18n.labels("lstm_gates", LABELS)``; templates ("{model}", "{acc:.1f}") are filled in here.

KINDS = ("rnn_tanh", "rnn_relu", "gru", "lstm")
STEP_ORDER = {"lstm": ("f", "i", "g", "o", "c", "h"), "gru": ("r", "z", "n", "h")}
PANELS = {"lstm": "ifoc", "gru": "rzh", "rnn_tanh": "h"}   # gates and states shown per model kind
LABELS = ("unit", *(f"sym.{k}" for k in "figocrznh"), *(f"kinds.{k}" for k in KINDS),
          *(f"panel.{k}" for k in "ifocrzh"), *(f"roles.{k}" for k in ("memory", "counter")),
          *(f"answer.{k}" for k in ("recall", "brackets", "adding")),
          *(f"table.{k}" for k in ("kind", "ratio", "param", "clipped")),
          *(f"fig.{k}" for k in ("diagram_lstm", "diagram_gru", "bars", "value", "closed_form_lstm", "closed_form_gru",
                                 "memory_lstm", "memory_gru", "memory_y_lstm", "memory_y_gru", "steps_after",
                                 "heatmaps", "prediction", "target", "step", "featured_c", "featured_h", "sweep",
                                 "train_len", "accuracy", "chance", "training", "train_step", "flow", "flow_x",
                                 "flow_y")))


def kind_names(lab: Mapping[str, str]) -> dict[str, str]:
    """Translated names of the cell kinds, by kind."""
    return {k: lab[f"kinds.{k}"] for k in KINDS}


def step_figures(kind: str, values: dict[str, np.ndarray], memory: np.ndarray, reference: np.ndarray | None,
                 lab: Mapping[str, str], compact: bool = False) -> tuple[go.Figure, go.Figure, go.Figure]:
    """The step-through's cell diagram (``compact``: for a phone), its bars per unit, and the memory after it
    (``reference``: the closed form)."""
    order = STEP_ORDER[kind]
    return (cell_diagram(kind, values, title=lab[f"fig.diagram_{kind}"], compact=compact),
            step_bars([lab[f"sym.{k}"] for k in order], [values[k] for k in order], unit=lab["unit"],
                      title=lab["fig.bars"], y=lab["fig.value"]),
            memory_curve(memory, reference, unit=lab["unit"], ref_name=lab[f"fig.closed_form_{kind}"],
                         title=lab[f"fig.memory_{kind}"], x=lab["fig.steps_after"], y=lab[f"fig.memory_y_{kind}"]))


def unit_names(roles: Sequence[str], lab: Mapping[str, str]) -> list[str]:
    """"unit 1 · memory", "unit 2", ...: each hidden unit with its measured role."""
    return [f"{lab['unit']} {k + 1}" + (f" · {lab['roles.' + r]}" if r != "other" else "")
            for k, r in enumerate(roles)]


def trained_figures(trace, kind: str, roles: Sequence[str], featured: Sequence[int], accuracy: float, task: str,
                    lab: Mapping[str, str]) -> tuple[go.Figure, go.Figure]:
    """The gates of a trained model over the typed sequence (``trace``: a dlcore.sequences.tasks.GateTrace) and the
    typed text coloured by the state of the ``featured`` units."""
    units = unit_names(roles, lab)
    state = "c" if kind == "lstm" else "h"
    panels = [(lab[f"panel.{k}"], trace.gates[k], k in "ch") for k in PANELS[kind]]
    heat = gate_heatmaps(trace.tokens, panels, units, trace.prediction, trace.target,
                         title=lab["fig.heatmaps"].format(model=lab[f"kinds.{kind}"], acc=100 * accuracy),
                         pred_name=lab["fig.prediction"], target_name=lab["fig.target"],
                         answer_axis=lab[f"answer.{task}"], answer_ticks=list("abcd") if task == "recall" else None,
                         step=lab["fig.step"])
    return heat, featured_units(trace.tokens, [(units[k], trace.gates[state][k]) for k in featured],
                                title=lab[f"fig.featured_{state}"])


def sweep_figure(sweep_data: Mapping[str, Sequence], lab: Mapping[str, str]) -> go.Figure:
    """The bundled RNN-vs-LSTM sweep (``assets/models/lstm_gates/sweep.json``)."""
    return sweep(sweep_data["lengths"], sweep_data["accuracy"], kind_names(lab), title=lab["fig.sweep"],
                 x=lab["fig.train_len"], y=lab["fig.accuracy"], chance=lab["fig.chance"])


def training_figure(history: Sequence[tuple[int, float, float]], lab: Mapping[str, str]) -> go.Figure:
    return training_curve(history, title=lab["fig.training"], x=lab["fig.train_step"], y=lab["fig.accuracy"])


def flow_figure(norms: Mapping[str, np.ndarray], lab: Mapping[str, str]) -> go.Figure:
    """‖∂L/∂h_t‖ of every cell kind under one gradient-flow config."""
    return flow_curves(dict(norms), kind_names(lab), title=lab["fig.flow"], x=lab["fig.flow_x"], y=lab["fig.flow_y"])


def flow_table(results: Mapping[str, object], lab: Mapping[str, str]) -> pd.DataFrame:
    """Per cell kind: how much weaker the gradient reaches the first step, the parameter gradient's norm before
    and after clipping (``results``: dlcore.sequences.rnn.FlowResult by kind)."""
    return pd.DataFrame({lab["table.kind"]: [lab[f"kinds.{k}"] for k in results],
                         lab["table.ratio"]: [r.norms[0] / r.norms[-1] for r in results.values()],
                         lab["table.param"]: [r.param_norm for r in results.values()],
                         lab["table.clipped"]: [r.clipped_norm for r in results.values()]})
