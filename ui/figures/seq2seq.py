"""Figures of the seq2seq lesson: the beam tree, the decoder's distributions, the encoder's states, the attention
alignment, BLEU's pieces, BLEU per strategy, training curves and perplexities. Pure: plain data and translated
labels in, figures out; they never call t()."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures.common import (
    PALETTE,
    SEQUENTIAL,
    animation_layout,
    base_layout,
    color,
    colorscale,
    controls_margin,
    plain,
)

# the labels each builder reads (the page passes ui.i18n.labels("seq2seq.fig", these))
TREE_LABELS = ("tree_title", "kept", "pruned", "best", "greedy_path")
DIST_LABELS = ("dist_title", "next_token", "step", "prob")
STEP_LABELS = ("steps_title", "next_token", "prob", "play", "pause", "step")
STATE_LABELS = ("state_title", "unit", "source_token")
ALIGN_LABELS = ("align_title", "source_token", "output_token")
BLEU_LABELS = ("bleu_title", "precision", "brevity", "score", "ngram")
TEST_LABELS = ("test_title", "bleu", "accuracy", "strategy")
CURVE_LABELS = ("curve_title", "train_step", "test_accuracy", "train_loss")
PPL_LABELS = ("ppl_title", "perplexity", "model")
ENCODER_LABELS = ("encoder_title", "test_accuracy", "encoder")
LABELS = tuple(dict.fromkeys(TREE_LABELS + DIST_LABELS + STEP_LABELS + STATE_LABELS + ALIGN_LABELS + BLEU_LABELS
                             + TEST_LABELS + CURVE_LABELS + PPL_LABELS + ENCODER_LABELS))

GREY = "#999999"


def beam_tree(nodes: Sequence[tuple[int, tuple[int, ...], float, bool]], words: Sequence[str],
              best: tuple[int, ...], lab: Mapping[str, str], *, greedy: tuple[int, ...] = (), eos: int = 1,
              max_pruned: int = 2) -> go.Figure:
    """The candidates of a beam search as a tree: step on x; every kept candidate (filled) and the ``max_pruned``
    most probable pruned children of each kept parent (hollow, dotted edge); kept ones labelled with token and
    log P, pruned ones with the token (log P on hover); the returned sequence ``best`` drawn thick, and as much
    of greedy search's path as the tree shows, dashed. nodes: (step, tokens, log P, kept)."""
    children: dict[tuple[int, ...], list[tuple[tuple[int, ...], float, bool]]] = {}
    for _, toks, lp, k in nodes:
        children.setdefault(toks[:-1], []).append((toks, lp, k))
    pos: dict[tuple[int, ...], float] = {(): 0.0}
    column: list[tuple[int, ...]] = [()]
    shown: list[tuple[tuple[int, ...], float, bool]] = []
    while column:
        nxt: list[tuple[int, ...]] = []
        row = 0
        for parent in column:
            kids = sorted(children.get(parent, []), key=lambda c: -c[1])
            keep = [c for c in kids if c[2]] + [c for c in kids if not c[2]][:max_pruned]
            for toks, lp, k in sorted(keep, key=lambda c: -c[1]):
                pos[toks] = -row
                row += 1
                shown.append((toks, lp, k))
                if k and toks[-1] != eos:
                    nxt.append(toks)
        column = nxt
    height = max(360, 60 + 26 * max(-min(pos.values()) + 1, 1) + 80)
    data: list[dict] = []
    for is_kept, dash, width, col in ((False, "dot", 1, GREY), (True, "solid", 1.5, PALETTE[0])):
        xs, ys = [], []
        for toks, _, k in shown:
            if k == is_kept:
                xs += [len(toks) - 1, len(toks), None]
                ys += [pos[toks[:-1]], pos[toks], None]
        data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "hoverinfo": "skip", "showlegend": False,
                     "line": {"color": col, "dash": dash, "width": width}})
    for seq, name, style in ((best, lab["best"], {"color": PALETTE[3], "width": 5}),
                             (greedy, lab["greedy_path"], {"color": PALETTE[1], "width": 3, "dash": "dash"})):
        path = [seq[:i] for i in range(len(seq) + 1) if seq[:i] in pos]
        data.append({"type": "scatter", "x": [len(p) for p in path], "y": [pos[p] for p in path], "mode": "lines",
                     "line": style, "opacity": 0.55, "name": name, "hoverinfo": "skip"})
    for is_kept, name, symbol in ((True, lab["kept"], "circle"), (False, lab["pruned"], "circle-open")):
        pts = [(toks, lp) for toks, lp, k in shown if k == is_kept]
        colour = PALETTE[0] if is_kept else GREY
        data.append({
            "type": "scatter", "x": [len(t) for t, _ in pts], "y": [pos[t] for t, _ in pts], "mode": "markers+text",
            "name": name, "marker": {"size": 10 if is_kept else 8, "symbol": symbol, "color": colour,
                                     "line": {"width": 1.5, "color": colour}},
            "text": [f"{words[t[-1]]} {lp:.2f}" if is_kept else words[t[-1]] for t, lp in pts],
            "textposition": "middle right", "textfont": {"size": 11, **({} if is_kept else {"color": GREY})},
            "customdata": [[" ".join(words[i] for i in t), f"{lp:.3f}"] for t, lp in pts],
            "hovertemplate": "%{customdata[0]}<br>log P = %{customdata[1]}<extra></extra>"})
    data.append({"type": "scatter", "x": [0], "y": [0], "mode": "markers+text", "text": ["<bos>"],
                 "textposition": "middle right", "marker": {"size": 10, "color": PALETTE[2]}, "showlegend": False,
                 "hoverinfo": "skip"})
    T = max((len(t) for t, _, _ in shown), default=1)
    layout = {"title": {"text": lab["tree_title"], "x": 0.0, "xanchor": "left"}, "height": int(height),
              "margin": {"l": 20, "r": 20, "t": 90, "b": 70},
              "legend": {"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0.0},
              "xaxis": {"range": [-0.3, T + 0.9], "dtick": 1, "side": "top", "tickprefix": "t = "},
              "yaxis": {"visible": False}}
    return plain(data, layout)   # plain JSON: rebuilt on every slider move, Plotly's validation would dominate


# tokens along x under an animation: turned by 45° when they crowd (a phone), never more, so that the tick labels
# and the axis title stay within TOKEN_AXIS_PX of the plot, above the play buttons
TOKEN_AXIS = {"type": "category", "autotickangles": [0, -45]}
TOKEN_AXIS_PX = 100


def _layout(title: str, x: str, y: str, height: int, **extra) -> dict:
    """``base_layout``'s look as plain JSON, for the figures rebuilt on every interaction (no Plotly validation)."""
    return {"title": {"text": title, "x": 0.0, "xanchor": "left"}, "height": height,
            "margin": {"l": 50, "r": 20, "t": 60, "b": 50},
            "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1.0},
            **extra, "xaxis": {"title": {"text": x}, **extra.get("xaxis", {})},
            "yaxis": {"title": {"text": y}, **extra.get("yaxis", {})}}


def distributions(probs: np.ndarray, words: Sequence[str], output: Sequence[str], lab: Mapping[str, str]
                  ) -> go.Figure:
    """P(y_t | y_<t, x) at every decoding step (rows, labelled with the token chosen) over the vocabulary."""
    rows = [f"{t + 1}: {w}" for t, w in enumerate(output)]
    data = [{"type": "heatmap", "z": np.asarray(probs, dtype=np.float32), "x": list(words), "y": rows, "zmin": 0,
             "zmax": 1, "colorscale": colorscale(SEQUENTIAL), "colorbar": {"title": {"text": lab["prob"]}},
             "xgap": 1, "ygap": 1, "hovertemplate": "%{y} → %{x}: %{z:.3f}<extra></extra>"}]
    return plain(data, _layout(lab["dist_title"], lab["next_token"], lab["step"], 140 + 28 * len(rows),
                               xaxis={"type": "category", "tickangle": -60},
                               yaxis={"autorange": "reversed", "type": "category"}))


def decoder_steps(probs: np.ndarray, words: Sequence[str], output: Sequence[str], lab: Mapping[str, str],
                  top: int = 8) -> go.Figure:
    """The decoder writing one token at a time: a frame per step with the ``top`` most likely next tokens (the one
    greedy search takes in colour) on a log axis down to 1e-6, played in the browser."""
    p = np.asarray(probs, dtype=np.float64)

    def bars(t: int) -> list[dict]:
        order = np.argsort(-p[t])[:top]
        names = [words[i] for i in order]
        return [{"type": "bar", "x": names, "y": p[t, order].tolist(), "text": [f"{v:.2g}" for v in p[t, order]],
                 "textposition": "outside",
                 "marker": {"color": [PALETTE[3] if n == output[t] else PALETTE[0] for n in names]},
                 "hovertemplate": "%{x}: %{y:.4f}<extra></extra>"}]
    names = [f"{t + 1}: {w}" for t, w in enumerate(output)]
    # log: a confident model's runners-up stay visible
    layout = _layout(lab["steps_title"], lab["next_token"], lab["prob"], 400, xaxis=TOKEN_AXIS,
                     yaxis={"type": "log", "exponentformat": "power", "range": [-6, 0.3]})
    layout.update(animation_layout(names, play=lab["play"], pause=lab["pause"], step_label=lab["step"],
                                   duration_ms=700, below_px=TOKEN_AXIS_PX))
    layout["margin"]["b"] = controls_margin(TOKEN_AXIS_PX)
    return plain(bars(0), layout, [{"name": n, "data": bars(t)} for t, n in enumerate(names)])


def encoder_states(states: np.ndarray, source: Sequence[str], lab: Mapping[str, str], n_units: int = 16
                   ) -> go.Figure:
    """The encoder's hidden state h_s after each source token (the first ``n_units`` units), read token by token:
    frame s shows h_1..h_s (played in the browser); the figure opens on the last frame, every state."""
    z = np.ascontiguousarray(np.asarray(states, dtype=np.float32)[:, :n_units].T)   # (units, S)
    cols = [f"{i + 1}: {w}" for i, w in enumerate(source)]

    def heat(s: int) -> list[dict]:
        shown = z.copy()
        shown[:, s + 1:] = np.nan                      # tokens not read yet
        return [{"type": "heatmap", "z": shown, "x": cols, "zmid": 0, "zmin": -1, "zmax": 1,
                 "colorscale": colorscale("RdBu_r"), "xgap": 1, "ygap": 1,
                 "hovertemplate": "%{x}, unit %{y}: %{z:.2f}<extra></extra>"}]
    layout = _layout(lab["state_title"], lab["source_token"], lab["unit"], 420, xaxis=TOKEN_AXIS)
    layout.update(animation_layout(cols, play=lab["play"], pause=lab["pause"], step_label=lab["source_token"],
                                   duration_ms=600, below_px=TOKEN_AXIS_PX))
    layout["sliders"][0]["active"] = len(cols) - 1
    layout["margin"]["b"] = controls_margin(TOKEN_AXIS_PX)
    return plain(heat(len(cols) - 1), layout, [{"name": c, "data": heat(s)} for s, c in enumerate(cols)])


def alignment(weights: np.ndarray, source: Sequence[str], output: Sequence[str], lab: Mapping[str, str]
              ) -> go.Figure:
    """Attention weights: one row per output token, one column per source token; each row sums to 1."""
    w = np.asarray(weights, dtype=np.float32)
    data = [{"type": "heatmap", "z": w, "x": [f"{i + 1}: {s}" for i, s in enumerate(source)],
             "y": [f"{t + 1}: {o}" for t, o in enumerate(output)], "zmin": 0, "zmax": 1,
             "colorscale": colorscale(SEQUENTIAL), "xgap": 1, "ygap": 1,
             "text": [[f"{v:.2f}" for v in row] for row in w], "texttemplate": "%{text}",
             "hovertemplate": "%{y} ← %{x}: %{z:.3f}<extra></extra>"}]
    return plain(data, _layout(lab["align_title"], lab["source_token"], lab["output_token"], 140 + 30 * len(output),
                               xaxis={"type": "category"}, yaxis={"autorange": "reversed", "type": "category"}))


def bleu_bars(precisions: Sequence[float], brevity: float, score: float, lab: Mapping[str, str]) -> go.Figure:
    """p_1..p_k, the brevity penalty and the BLEU score as bars."""
    names = [f"p{n}" for n in range(1, len(precisions) + 1)] + [lab["brevity"], lab["score"]]
    values = [*precisions, brevity, score]
    colours = [PALETTE[0]] * len(precisions) + [PALETTE[1], PALETTE[3]]
    fig = go.Figure(go.Bar(x=names, y=values, marker_color=colours, text=[f"{v:.3f}" for v in values],
                           textposition="outside", hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    base_layout(fig, lab["bleu_title"], x=lab["ngram"], y=lab["precision"], height=340)
    fig.update_yaxes(range=[0, 1.15])
    return fig


def test_bleu(names: Sequence[str], bleu: Sequence[float], accuracy: Sequence[float], lab: Mapping[str, str]
              ) -> go.Figure:
    """Mean BLEU and exact-match accuracy on the held-out numbers, one pair of bars per decoding strategy."""
    fig = go.Figure()
    for i, (label, values) in enumerate(((lab["bleu"], bleu), (lab["accuracy"], accuracy))):
        fig.add_trace(go.Bar(x=list(names), y=list(values), name=label, marker_color=color(i),
                             text=[f"{v:.3f}" for v in values], textposition="outside"))
    base_layout(fig, lab["test_title"], x=lab["strategy"], height=360)
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 1.15])
    return fig


def curves(histories: Mapping[str, Sequence[Sequence[float]]], lab: Mapping[str, str]) -> go.Figure:
    """Test accuracy (left) and training loss (right, log scale) against the step, one line per run."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab["test_accuracy"], lab["train_loss"]))
    for i, (name, hist) in enumerate(histories.items()):
        h = np.asarray(hist, dtype=np.float64)
        for col, idx in ((1, 2), (2, 1)):
            fig.add_trace(go.Scatter(x=h[:, 0], y=h[:, idx], mode="lines+markers", name=name, legendgroup=name,
                                     showlegend=col == 1, line={"color": color(i)}), row=1, col=col)
    base_layout(fig, lab["curve_title"], height=380)
    fig.update_xaxes(title_text=lab["train_step"])
    fig.update_yaxes(range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=2)
    return fig


def perplexity_bars(names: Sequence[str], values: Sequence[float], lab: Mapping[str, str]) -> go.Figure:
    """Perplexity of the test targets under each model (log scale: from ~1 to |Y|)."""
    fig = go.Figure(go.Bar(x=list(names), y=list(values), marker_color=[color(i) for i in range(len(values))],
                           text=[f"{v:.2f}" for v in values], textposition="outside"))
    base_layout(fig, lab["ppl_title"], x=lab["model"], y=lab["perplexity"], height=340)
    fig.update_yaxes(type="log", exponentformat="power", range=[-0.1, np.log10(max(values) * 3)])
    return fig


def encoder_bars(names: Sequence[str], accuracy: Sequence[float], lab: Mapping[str, str]) -> go.Figure:
    """Test accuracy after the same short training of each encoder (uni / bidirectional, 1 / 2 layers)."""
    fig = go.Figure(go.Bar(x=list(names), y=list(accuracy), marker_color=[color(i) for i in range(len(names))],
                           text=[f"{a:.3f}" for a in accuracy], textposition="outside"))
    base_layout(fig, lab["encoder_title"], x=lab["encoder"], y=lab["test_accuracy"], height=340)
    fig.update_yaxes(range=[0, 1.1])
    return fig
