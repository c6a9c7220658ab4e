"""Lesson: attention heatmaps — by hand, heads, positions, a trained toy Transformer, MiniLM (seed 004, 001)."""

from functools import partial
from pathlib import Path

import streamlit as st
import torch

from dlcore.attention import bert
from dlcore.attention import mechanism as att
from dlcore.attention import transformer as tr
from ui import lesson
from ui.attention_models import PICK_MINE, RUN, minilm_tab, retrain_panel
from ui.controls import control
from ui.experiments import attention as experiment
from ui.figures import attention as figs
from ui.figures.common import scientific, thaw
from ui.grid_input import grid_editor
from ui.i18n import labels, t
from ui.runtime import safely
from ui.state import bind, global_seed, sync_url

S = "attention"
MODELS = Path(__file__).resolve().parent.parent / "assets" / "models" / S
JUMP = f"{S}._jump"   # a preset's MiniLM head role, for the MiniLM tab to open
lab = partial(labels, S, figs.LABELS)   # the figures' labels in the learner's language (they key the caches too)
hand = lesson.cached(64)(experiment.hand_figures)              # each: a dlcore call and its frozen figures
saturation = lesson.cached(64)(experiment.saturation_figure)
heads = lesson.cached(64)(experiment.heads_figures)
positions = lesson.cached(64)(experiment.positions_figure)
permutation = lesson.cached(64)(experiment.permutation_figure)
toy = lesson.cached(64)(experiment.toy_figure)


@st.cache_resource(show_spinner=False)
def bundled(task: str) -> tuple[tr.TinyTransformer, float]:
    return tr.unpack(blob := torch.load(MODELS / f"{task}.pt", weights_only=True)), float(blob["accuracy"])


lesson.header(S)
lesson.concept(S, expanded=False)
bound, seed = bind(S, experiment.SETTINGS), global_seed()
names = labels(f"{S}.tabs", experiment.VIEWS)
PRESETS = [lesson.Preset(name, values, {f"{S}.tab": names[values["view"]], **experiment.jump(name, JUMP)})
           for name, values in experiment.PRESETS.items()]   # a preset opens its tab (and MiniLM's head)
lesson.predict(bound, PRESETS)
if st.session_state.get(f"{S}.tab") not in names.values():   # first run, a shared link, or a new language
    st.session_state[f"{S}.tab"] = names[st.session_state[f"{S}.view"]]
tabs = dict(zip(experiment.VIEWS, st.tabs(list(names.values()), key=f"{S}.tab", on_change="rerun")))
st.session_state[f"{S}.view"] = next((view for view, tab in tabs.items() if tab.open), "hand")


def draw(*names_: str, widths: list[float] | int | None = None) -> dict:
    """Draw the settings ``names_`` side by side; return every setting's value."""
    for col, name in zip(st.columns(widths or len(names_)), names_):
        control(bound, name, col)
    return bound.values()


if tabs["hand"].open:
    with tabs["hand"]:
        v = draw("source", "scaled", "temperature", "causal", "n_pad", widths=[1.2, 1, 1.6, 1, 1])
        lead = st.container()   # the figure leads; the Q, K, V inputs below it feed it (issue 31: first screen)
        if v["source"] == "random":
            v = draw("n_tokens", "d_k")
            q, k, val = (m.numpy() for m in experiment.random_qkv(v, seed))
        else:
            st.caption(t(f"{S}.typed_help", n=att.MAX_TOKENS, d=att.MAX_TYPED_DIM))
            tables = dict(zip("QKV", (m.numpy() for m in experiment.typed_start(draw(*experiment.TYPED_SIZES)))))
            for col, (name, start) in zip(st.columns(3), tables.items()):
                col.markdown(f"**{name}**")
                with col:
                    typed, bad = grid_editor(f"{S}.grid_{name}", start)   # always start's shape (or None)
                if typed is None:
                    st.error(t(f"{S}.bad_grid", name=name, cells=", ".join(map(str, bad[:6]))), icon=":material/error:")
                tables[name] = start if typed is None else typed
            q, k, val = tables.values()
        if (cfg := experiment.hand_config(v, seed, k.shape[0])).n_pad < v["n_pad"]:
            st.warning(t(f"{S}.pad_capped", n=k.shape[0]))
        with safely():
            hand_fig, compare_fig, (n_live, dev, dead) = hand(q, k, val, cfg, lab())
            lesson.chart(thaw(hand_fig), f"{S}.hand_fig", lead)
            lead.success(t(f"{S}.rows_sum", n=n_live, dev=scientific(dev)) + " " + (t(f"{S}.dead_rows", rows=", ".join(
                f"q{i + 1}" for i in dead)) if dead else ""), icon=":material/functions:")
            lesson.chart(thaw(compare_fig), f"{S}.compare_fig")
            st.caption(t(f"{S}.notice.additive"))
            if v["source"] == "random":
                lesson.chart(thaw(saturation(v["n_tokens"], seed, v["d_k"], lab())), f"{S}.saturation_fig")

if tabs["heads"].open:
    with tabs["heads"]:
        *specs, max_error = heads(experiment.heads_config(draw("n_tokens", "d_model", "n_heads", "heads_causal"), seed),
                                  lab())
        for spec, key in zip(specs, ("heads_fig", "concat_fig")):
            lesson.chart(thaw(spec), f"{S}.{key}")
        st.success(t(f"{S}.same_as_torch", **{k: scientific(e) for k, e in max_error.items()}), icon=":material/check:")

if tabs["positions"].open:
    with tabs["positions"]:
        v = draw("pe_len", "pe_dim")
        lesson.chart(thaw(positions(v["pe_len"], v["pe_dim"], lab())), f"{S}.pe_fig")
        c = st.columns([3, 1])
        control(bound, "words", c[0], help=t(f"{S}.help.words", n=att.MAX_TOKENS))
        control(bound, "use_pe", c[1])
        if not 2 <= len(words := experiment.words(v := bound.values())) <= att.MAX_TOKENS:
            st.error(t(f"{S}.bad_words", n=att.MAX_TOKENS), icon=":material/error:")
            words = experiment.words(experiment.DEFAULTS)
        spec, change = permutation(words, v["use_pe"], seed, lab())
        lesson.chart(thaw(spec), f"{S}.perm_fig")
        st.caption(t(f"{S}.notice.{'with' if v['use_pe'] else 'without'}_pe", change=f"{change:.2g}"))

if tabs["toy"].open:
    with tabs["toy"]:
        c = st.columns([1, 1, 1.4, 1])
        control(bound, "task", c[0])
        control(bound, "kind", c[1])
        control(bound, "digits", c[2], help=t(f"{S}.help.digits", n=tr.MAX_LEN))
        if st.session_state.pop(PICK_MINE, False):   # just retrained: show my model (before its selector is drawn)
            st.session_state[f"{S}.model"] = "mine"
        v, mine = bound.values(), st.session_state.get(RUN)
        if has_mine := mine is not None and mine.config.task == v["task"]:
            control(bound, "model", c[3])
        digits, problem = tr.parse_digits(v["digits"])
        if problem is not None:
            st.error(t(f"{S}.problems.{problem.code}", pos=problem.position, sym=problem.symbol, n=tr.MAX_LEN),
                     icon=":material/error:")
            digits = tr.parse_digits(experiment.DEFAULTS["digits"])[0]
        with safely():
            model, acc = (mine.model, None) if (use_mine := has_mine and v["model"] == "mine") else bundled(v["task"])
            rd = tr.run_on(model, v["task"], digits)   # ~10 ms: not worth a cache
            st.markdown(t(f"{S}.readout", src=" ".join(rd.source), out=" ".join(rd.output) or "∅",
                          exp=" ".join(rd.expected), ok=t(f"{S}.{'right' if rd.correct else 'wrong'}")))
            maps = getattr(rd.maps, v["kind"]).numpy()
            lesson.chart(thaw(toy(maps, v["kind"], v["task"], *rd.labels(v["kind"]), lab())), f"{S}.toy_fig")
            st.caption(t(f"{S}.notice.toy_{v['kind']}") + ("" if use_mine else " " + t(f"{S}.bundled_acc",
                                                                                      acc=100 * acc)))
        with st.expander(t(f"{S}.retrain_title"), icon=":material/model_training:"):
            st.fragment(retrain_panel)(v["task"], seed, lab())

if tabs["bert"].open:
    with tabs["bert"]:
        minilm_tab(bound, lab(), JUMP)

st.markdown(t(f"{S}.notice.main"))
lesson.presets(bound, PRESETS)
lesson.code_that_ran(att.scaled_dot_product, att.masked_softmax, att.additive_attention, att.attention_by_hand,
                     att.multi_head_attention, att.positional_encoding, att.permutation_experiment, tr.Block, tr.run_on,
                     tr.train_steps, bert.bert_attention, bert.head_roles)
sync_url(bound)
