"""Lesson: LSTM gates — step through a cell, read trained gates, compare gradient flow (seed 001 "RNN/LSTM/GRU")."""

import json
from pathlib import Path

import streamlit as st
import torch

from dlcore.device import pick
from dlcore.sequences import rnn, tasks
from ui import lesson, progress
from ui.controls import control
from ui.experiments import lstm_gates as experiment
from ui.figures import lstm_gates as figs
from ui.figures.common import thaw
from ui.i18n import labels, t
from ui.runtime import safely, train_in_chunks
from ui.state import bind, device_preference, global_seed, sync_url

S = "lstm_gates"
MODELS = Path(__file__).resolve().parent.parent / "assets" / "models" / S
RUN, USE_MINE = f"{S}._run", f"{S}._use_mine"
TRAIN_BUDGET_S = 30   # wall-clock cap of one live retraining run
step_figures = lesson.cached(64)(experiment.step_figures)   # keyed on the CellConfig and the labels' language


@st.cache_resource(show_spinner=False)
def bundled(task: str) -> tuple[tasks.SeqModel, tasks.UnitRoles, float]:
    """The read-only bundled model of ``task``, its unit roles and stored accuracy (shared by everyone)."""
    model, config = tasks.unpack(blob := torch.load(MODELS / f"{task}.pt", weights_only=True))
    return model, tasks.unit_roles(model, config), float(blob["accuracy"])


flows = lesson.cached(64)(experiment.flows)   # keyed on the FlowConfig and the device's name


@lesson.cached(64)
def bundled_trace(task: str, tokens: tuple[str, ...]) -> tasks.GateTrace:
    return tasks.trace(bundled(task)[0], task, list(tokens))


lesson.header(S)
lesson.concept(S, expanded=False)
bound = bind(S, experiment.SETTINGS)
PRESETS = [lesson.Preset(name, values, extra={f"{S}.tab": t(f"{S}.tabs.{experiment.TAB[name]}")})
           for name, values in experiment.PRESETS.items()]   # a preset opens its tab
lesson.predict(bound, PRESETS)
if st.session_state.pop(USE_MINE, False):
    st.session_state[f"{S}.model"] = "mine"
device, seed, lab = pick(device_preference()), global_seed(), labels(S, figs.LABELS)
tabs = st.tabs([t(f"{S}.tabs.{name}") for name in ("cell", "trained", "flow")], key=f"{S}.tab", on_change="rerun")
if tabs[0].open:
    with tabs[0]:
        for col, name in zip(st.columns([1, 1, 1.2, 1.2], vertical_alignment="bottom"),
                             ("kind", "hidden", "weights", "keep")):
            control(bound, name, col)
        for col, name in zip(st.columns([1.2, 1, 1], vertical_alignment="bottom"), ("x", "h", "c")):
            if name != "c" or st.session_state[f"{S}.kind"] == "lstm":
                control(bound, name, col)
        h_prev, c_prev, problems = experiment.state_vectors(v := bound.values())
        for name, why, value in problems:
            st.warning(t(f"{S}.bad_vector", name=name, n=v["hidden"], why=t(f"{S}.vector_errors.{why}"),
                         lim=rnn.STATE_LIMIT, value=value), icon=":material/warning:")
        with safely():
            *specs, latex = step_figures(experiment.cell_config(v, seed, h_prev, c_prev), lab, lesson.phone())
            left, right = st.columns([1.5, 1])
            for where, spec, key in zip((left, right, right), specs, ("diagram", "bars", "memory")):
                lesson.chart(thaw(spec), f"{S}.{key}", where)
            left.latex(latex)
            keep = rnn.keep_share(v["keep"])
            st.caption(t(f"{S}.notice.cell_{v['kind']}", keep=keep, after=keep ** rnn.MEMORY_STEPS))


def retrain_panel(task: str) -> None:
    """Live retraining, bounded by steps and TRAIN_BUDGET_S; the state stays in this learner's session."""
    c = st.columns([1, 1.3, 1], vertical_alignment="bottom")
    for col, name in zip(c, ("rt_kind", "rt_len")):
        control(bound, name, col)
    asked = c[2].button(t(f"{S}.retrain"), key=f"{S}.retrain_btn", type="primary", icon=":material/model_training:")
    cfg = experiment.retrain_config(task, bound.values(), seed)
    with progress.training(f"{S}.retrain", what=t(f"{S}.training"), total=cfg.steps, asked=asked,
                           auto=False) as run, safely():   # only when asked; Stop keeps it stopped
        if run:
            state = train_in_chunks(tasks.train_steps, tasks.init_training(cfg, device), device,
                                    budget_s=TRAIN_BUDGET_S, on_chunk=lambda s: run.update(s.step, t(
                                        f"{S}.progress", step=s.step, steps=cfg.steps, acc=100 * s.accuracy)))
            st.session_state[RUN], st.session_state[USE_MINE] = (state, tasks.unit_roles(state.model, cfg)), True
            st.rerun()
    if (state := st.session_state.get(RUN, (None,))[0]) is not None:
        cfg = state.config
        st.caption(t(f"{S}.trained_result", task=t(f"{S}.tasks.{cfg.task}"), kind=lab[f"kinds.{cfg.kind}"],
                     len=cfg.max_len, step=state.step, acc=100 * state.accuracy, s=state.seconds))
        if state.history:
            lesson.chart(figs.training_figure(state.history, lab), f"{S}.training_fig")


if tabs[1].open:
    with tabs[1]:
        c = st.columns([1, 1])
        control(bound, "task", c[0])
        task, run = st.session_state[f"{S}.task"], st.session_state.get(RUN)
        if mine := run is not None and run[0].config.task == task:
            control(bound, "model", c[1])
        seq = experiment.SEQ[task]
        control(bound, seq, label=t(f"{S}.sequence"), help=t(f"{S}.help.seq_{task}", **experiment.TEXT_LIMITS))
        tokens, problem = tasks.tokenize(task, st.session_state[f"{S}.{seq}"])
        if problem is not None:   # the valid part is shown, or the task's example when there is none
            why = t(f"{S}.problems.{problem.code}", pos=problem.position + 1, sym=problem.symbol,
                    **experiment.TEXT_LIMITS)
            more = t(f"{S}.valid_part", n=len(tokens)) if tokens else t(f"{S}.showing_example")
            (st.warning if tokens else st.error)(f"{why} {more}", icon=":material/warning:")
        tokens = tokens or tasks.tokenize(task, tasks.TASKS[task].example)[0]
        use_mine = mine and st.session_state[f"{S}.model"] == "mine"
        with safely():
            model, roles, acc = (run[0].model, run[1], run[0].accuracy) if use_mine else bundled(task)
            trace = tasks.trace(model, task, tokens) if use_mine else bundled_trace(task, tuple(tokens))
            featured = tasks.featured(roles)
            for fig, key in zip(figs.trained_figures(trace, model.kind, roles.role, featured, acc, task, lab),
                                ("heatmaps", "featured")):
                lesson.chart(fig, f"{S}.{key}")
            st.caption(t(f"{S}.notice.{task}", **experiment.trained_notice(task, trace, roles, featured)))
        with st.expander(t(f"{S}.retrain_title"), icon=":material/model_training:"):
            sweep = json.loads((MODELS / "sweep.json").read_text(encoding="utf-8"))
            lesson.chart(figs.sweep_figure(sweep, lab), f"{S}.sweep_fig")
            retrain_panel(task)   # not a fragment: a click on Stop must interrupt the run

if tabs[2].open:
    with tabs[2]:
        for names in (("flow_len", "flow_hidden", "radius"), ("init", "flow_keep", "clip")):
            for col, name in zip(st.columns(3, vertical_alignment="bottom"), names):
                control(bound, name, col)
        with safely():
            res = flows(experiment.flow_config(v := bound.values(), seed), device.type)
            lesson.chart(figs.flow_figure({k: r.norms for k, r in res.items()}, lab), f"{S}.flow_fig")
            table = figs.flow_table(res, lab)
            st.dataframe(table, hide_index=True, column_config={col: st.column_config.NumberColumn(format="%.3e")
                                                                for col in list(table)[1:]})
            st.caption(t(f"{S}.notice.flow", clip=v["clip"]))

st.markdown(t(f"{S}.notice.main"))
lesson.presets(bound, PRESETS)
lesson.code_that_ran(rnn.lstm_step, rnn.gru_step, rnn.gru_candidate_reset_before, rnn.make_cell, tasks.trace,
                     tasks.unit_roles, tasks.train_steps, rnn.state_gradients, rnn.clip_grad_norm, rnn.make_flow_cell)
sync_url(bound)
