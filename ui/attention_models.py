"""The attention lesson's trained models: the toy Transformer retrained live, and MiniLM on the learner's sentence.

Their own module (imported by ``pages/attention.py``) so the page stays one screen per lab: the read-only MiniLM
(``st.cache_resource``), the cached attention and figures of a sentence (``lesson.cached``), and the widgets of
the live retraining panel and of the MiniLM tab.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from dlcore.attention import bert
from dlcore.attention import transformer as tr
from ui import lesson, progress
from ui.controls import control
from ui.experiments import attention as experiment
from ui.figures import attention as figs
from ui.figures.common import thaw
from ui.i18n import t
from ui.runtime import safely, train_in_chunks
from ui.state import Bound

S = "attention"
RUN, PICK_MINE = f"{S}._run", f"{S}._pick_mine"   # this learner's retrained model; show it on the next run
TRAIN_BUDGET_S = 40                                 # wall-clock cap of one live retraining run
head_figures = lesson.cached(64)(experiment.head_figures)


def retrain_panel(task: str, seed: int, lab: Mapping[str, str]) -> None:
    """Retrain the toy Transformer on ``task`` (bounded by steps and TRAIN_BUDGET_S); the model stays in this
    learner's session, and the page shows it once PICK_MINE is set."""
    steps = st.slider(t(f"{S}.rt_steps"), 100, tr.MAX_TRAIN_STEPS, 600, step=100, key=f"{S}.rt_steps")
    asked = st.button(t(f"{S}.retrain"), key=f"{S}.retrain_btn", type="primary", icon=":material/model_training:")
    with progress.training(f"{S}.retrain", what=t(f"{S}.training"), total=steps, asked=asked, auto=False) as run, \
            safely():   # only when asked; a Stop keeps it stopped (inside a fragment: see ui.progress)
        if run:
            state = tr.init_training(tr.TrainConfig(task=task, steps=steps, batch=64, seed=seed))
            state = train_in_chunks(tr.train_steps, state, budget_s=TRAIN_BUDGET_S, on_chunk=lambda s: run.update(
                s.step, t(f"{S}.progress", step=s.step, steps=steps)))
            st.session_state[RUN], st.session_state[PICK_MINE] = state, True   # switch the selector next run
            st.rerun()
    if (state := st.session_state.get(RUN)) is not None and state.history:
        lesson.chart(figs.training_figure(state.history, state.config.task, state.seconds, lab), f"{S}.training_fig")


@st.cache_resource(show_spinner=False)
def minilm():
    """The read-only model and tokenizer, shared by every learner (never trained or changed)."""
    return bert.load_minilm(bert.model_dir())


@lesson.cached(16)
def sentence(text: str, lab: Mapping[str, str]) -> tuple:
    return experiment.sentence_view(*minilm(), text, lab)


def minilm_tab(bound: Bound, lab: Mapping[str, str], jump_key: str) -> None:
    """The sentence box, every head, one head large with its token lines, the heads' roles and the layer means.
    ``jump_key``: where a preset leaves the head role whose standout head it opens."""
    if bert.model_dir() is None:
        st.info(t(f"{S}.no_minilm"), icon=":material/download:")
        return
    control(bound, "sentence", height=70, help=t(f"{S}.help.sentence", n=bert.MAX_TOKENS))
    if (why := bert.check_sentence(text := st.session_state[f"{S}.sentence"])) is not None:
        st.error(t(f"{S}.sentence_{why}", n=bert.MAX_CHARS), icon=":material/error:")
        text = bert.EXAMPLE
    with st.spinner(t(f"{S}.loading")), safely():
        ba, (grid_fig, roles_fig, avg_fig), best, err = sentence(text, lab)
        if (jump := st.session_state.pop(jump_key, None)) in best:   # a preset asks for a role's standout head
            st.session_state[f"{S}.layer"], st.session_state[f"{S}.head"] = (x + 1 for x in best[jump])
        st.session_state[f"{S}.token"] = min(st.session_state[f"{S}.token"], len(ba.tokens) - 1)
        st.markdown(" ".join(f"`{tok}`" for tok in ba.tokens))
        if ba.cut or ba.n_unknown:
            st.warning((t(f"{S}.cut", n=ba.cut, cap=bert.MAX_TOKENS) if ba.cut else "") + " " + (
                t(f"{S}.unknown", n=ba.n_unknown) if ba.n_unknown else ""), icon=":material/translate:")
        lesson.chart(thaw(grid_fig), f"{S}.grid_fig")
        c = st.columns(3)
        control(bound, "layer", c[0])
        control(bound, "head", c[1])
        c[2].selectbox(t(f"{S}.token"), list(range(len(ba.tokens))), key=f"{S}.token",
                       format_func=lambda i: f"{i}: {ba.tokens[i]}")
        v = bound.values()
        specs = head_figures(ba.weights[v["layer"] - 1, v["head"] - 1], tuple(ba.tokens), v["layer"], v["head"],
                             v["token"], lab)
        for col, spec, key in zip(st.columns([1.4, 1]), specs, ("head_fig", "lines_fig")):
            lesson.chart(thaw(spec), f"{S}.{key}", col)
        lesson.chart(thaw(roles_fig), f"{S}.roles_fig")
        lesson.chart(thaw(avg_fig), f"{S}.avg_fig")
        st.caption(t(f"{S}.notice.bert", err=f"{err:.1e}"))
