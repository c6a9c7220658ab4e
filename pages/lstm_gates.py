"""Lesson: LSTM gates — step through a cell, read trained gates, compare gradient flow (seed 001 "RNN/LSTM/GRU", 004)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
import torch

from dlcore import rnn
from dlcore import seq_tasks as tasks
from dlcore.device import pick
from ui import lesson
from ui.experiments import lstm_gates as experiment
from ui.figures import lstm_gates as figs
from ui.i18n import t
from ui.runtime import heavy_slot, safely, train_in_chunks
from ui.state import Param, bind, device_preference, global_seed, sync_url

MODELS = Path(__file__).resolve().parent.parent / "assets" / "models" / "lstm_gates"
RUN, USE_MINE = "lstm_gates._run", "lstm_gates._use_mine"
TRAIN_BUDGET_S = 30   # wall-clock cap of one live retraining run
TABS = ("cell", "trained", "flow")
SEQ = {name: f"seq_{name}" for name in tasks.TASKS}

lesson.header("lstm_gates")
lesson.concept("lstm_gates", expanded=False)
D = experiment.DEFAULTS
bound = bind("lstm_gates", [
    Param.choice("kind", D["kind"], ["lstm", "gru"]), Param.int("hidden", D["hidden"], lo=1, hi=rnn.MAX_HIDDEN_STEP),
    Param.float("x", D["x"], lo=-rnn.STATE_LIMIT, hi=rnn.STATE_LIMIT), Param.text("h", D["h"], max_len=60),
    Param.text("c", D["c"], max_len=60), Param.choice("weights", D["weights"], rnn.WEIGHT_PRESETS),
    Param.float("keep", D["keep"], lo=-rnn.BIAS_LIMIT, hi=rnn.BIAS_LIMIT),
    Param.choice("task", D["task"], list(tasks.TASKS)), Param.choice("model", "bundled", ["bundled", "mine"]),
    *[Param.text(SEQ[name], task.example, max_len=2 * tasks.MAX_TYPED) for name, task in tasks.TASKS.items()],
    Param.choice("rt_kind", D["rt_kind"], tasks.MODEL_KINDS), Param.int("rt_len", D["rt_len"], lo=10, hi=tasks.MAX_TRAIN_LEN),
    Param.int("flow_len", D["flow_len"], lo=2, hi=rnn.MAX_FLOW_LEN),
    Param.int("flow_hidden", D["flow_hidden"], lo=1, hi=rnn.MAX_FLOW_HIDDEN),
    Param.float("radius", D["radius"], lo=0.1, hi=2.0), Param.choice("init", D["init"], rnn.INITS),
    Param.float("flow_keep", D["flow_keep"], lo=-rnn.BIAS_LIMIT, hi=rnn.BIAS_LIMIT),
    Param.float("clip", D["clip"], lo=0.1, hi=10.0),
])
if st.session_state.pop(USE_MINE, False):
    st.session_state["lstm_gates.model"] = "mine"

def names(group: str, options) -> dict:
    """Translated option labels (a plain dict, so widgets' format_func needs no session)."""
    return {o: t(f"lstm_gates.{group}.{o}") for o in options}


kinds = names("kinds", rnn.KINDS)
device = pick(device_preference())


cell_step = st.cache_data(max_entries=64, ttl=3600, show_spinner=False)(rnn.step_through)   # keyed on the config


@st.cache_resource(show_spinner=False)
def bundled(task: str):
    """The read-only bundled model of ``task``, its config, unit roles and stored accuracy (shared by everyone)."""
    blob = torch.load(MODELS / f"{task}.pt", weights_only=True)
    model, config = tasks.unpack(blob)
    return model, config, tasks.unit_roles(model, config), float(blob["accuracy"])


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def bundled_trace(task: str, tokens: tuple[str, ...]) -> tasks.GateTrace:
    return tasks.trace(bundled(task)[0], task, list(tokens))


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def flows(cfg: rnn.FlowConfig, dev: str):
    return experiment.flows(cfg, pick(dev))


def vector(name: str, n: int, fallback: float) -> tuple[float, ...]:
    try:
        return rnn.parse_vector(st.session_state[f"lstm_gates.{name}"], n)
    except ValueError as err:
        st.warning(t("lstm_gates.bad_vector", name=name, n=n, why=t(f"lstm_gates.vector_errors.{err}"),
                     lim=rnn.STATE_LIMIT, value=fallback), icon=":material/warning:")
        return (fallback,) * n


tabs = st.tabs([t(f"lstm_gates.tabs.{name}") for name in TABS], key="lstm_gates.tab", on_change="rerun")
seed = global_seed()
if tabs[0].open:
    with tabs[0]:
        c = st.columns([1, 1, 1, 1.2])
        c[0].segmented_control(t("lstm_gates.kind"), ["lstm", "gru"], key="lstm_gates.kind", required=True,
                               format_func=kinds.get)
        c[1].slider(t("lstm_gates.hidden"), 1, rnn.MAX_HIDDEN_STEP, key="lstm_gates.hidden")
        c[2].selectbox(t("lstm_gates.weights"), rnn.WEIGHT_PRESETS, key="lstm_gates.weights",
                       format_func=names("weight_presets", rnn.WEIGHT_PRESETS).get, help=t("lstm_gates.help.weights"))
        c[3].slider(t("lstm_gates.keep"), -rnn.BIAS_LIMIT, rnn.BIAS_LIMIT, step=0.5, key="lstm_gates.keep",
                    help=t("lstm_gates.help.keep"))
        c = st.columns([1.2, 1, 1])
        c[0].slider(t("lstm_gates.x"), -rnn.STATE_LIMIT, rnn.STATE_LIMIT, step=0.1, key="lstm_gates.x", help=t("lstm_gates.help.x"))
        c[1].text_input(t("lstm_gates.h"), key="lstm_gates.h", max_chars=60, help=t("lstm_gates.help.vector"))
        v = bound.values()
        lstm = v["kind"] == "lstm"
        if lstm:
            c[2].text_input(t("lstm_gates.c"), key="lstm_gates.c", max_chars=60, help=t("lstm_gates.help.vector"))
        H = v["hidden"]
        h_prev, c_prev = vector("h", H, 0.5), vector("c", H, 1.0) if lstm else (0.0,) * H
        with safely():
            res = cell_step(experiment.cell_config(v, seed, h_prev, c_prev))
            left, right = st.columns([1.5, 1])
            left.plotly_chart(figs.cell_diagram(v["kind"], res.values, title=t(f"lstm_gates.fig.diagram_{v['kind']}")),
                              key="lstm_gates.diagram")
            order = ["f", "i", "g", "o", "c", "h"] if lstm else ["r", "z", "n", "h"]
            right.plotly_chart(figs.step_bars([t(f"lstm_gates.sym.{k}") for k in order], [res.values[k] for k in order],
                                              unit=t("lstm_gates.unit"), title=t("lstm_gates.fig.bars"),
                                              y=t("lstm_gates.fig.value")), key="lstm_gates.bars")
            keep = 1 / (1 + np.exp(-v["keep"]))
            ref = keep ** np.arange(rnn.MEMORY_STEPS + 1)[:, None] * res.memory[0] if v["weights"] == "latch" else None
            right.plotly_chart(figs.memory_curve(res.memory, ref, unit=t("lstm_gates.unit"),
                                                 ref_name=t(f"lstm_gates.fig.closed_form_{v['kind']}"),
                                                 title=t(f"lstm_gates.fig.memory_{v['kind']}"),
                                                 x=t("lstm_gates.fig.steps_after"),
                                                 y=t(f"lstm_gates.fig.memory_y_{v['kind']}")), key="lstm_gates.memory")
            left.latex(figs.equations(v["kind"], res.values))
            st.caption(t(f"lstm_gates.notice.cell_{v['kind']}", keep=keep, after=keep ** rnn.MEMORY_STEPS))


def retrain_panel(task: str) -> None:
    """Live retraining, bounded by steps and TRAIN_BUDGET_S; the state stays in this learner's session."""
    c = st.columns([1, 1.3, 1])
    c[0].selectbox(t("lstm_gates.rt_kind"), tasks.MODEL_KINDS, key="lstm_gates.rt_kind", format_func=kinds.get)
    c[1].slider(t("lstm_gates.rt_len"), 10, tasks.MAX_TRAIN_LEN, key="lstm_gates.rt_len", help=t("lstm_gates.help.rt_len"))
    if c[2].button(t("lstm_gates.retrain"), key="lstm_gates.retrain_btn", type="primary", icon=":material/model_training:"):
        vv = bound.values()
        cfg = experiment.retrain_config(task, vv, seed)
        with heavy_slot() as ok, safely():
            if ok:
                state = tasks.init_training(cfg, device)
                bar = st.progress(0.0, text=t("lstm_gates.training"))
                state = train_in_chunks(tasks.train_steps, state, device, budget_s=TRAIN_BUDGET_S, on_chunk=lambda s: bar.progress(
                    min(1.0, s.step / cfg.steps), text=t("lstm_gates.progress", step=s.step, steps=cfg.steps, acc=100 * s.accuracy)))
                st.session_state[RUN] = (state, tasks.unit_roles(state.model, cfg))
                st.session_state[USE_MINE] = True
                st.rerun()
    run = st.session_state.get(RUN)
    if run is not None:
        state = run[0]
        st.caption(t("lstm_gates.trained_result", task=t(f"lstm_gates.tasks.{state.config.task}"),
                     kind=kinds[state.config.kind], len=state.config.max_len, step=state.step, acc=100 * state.accuracy,
                     s=state.seconds))
        if state.history:
            st.plotly_chart(figs.training_curve(state.history, title=t("lstm_gates.fig.training"),
                                                x=t("lstm_gates.fig.train_step"), y=t("lstm_gates.fig.accuracy")),
                            key="lstm_gates.training_fig")


if tabs[1].open:
    with tabs[1]:
        c = st.columns([1, 1])
        c[0].selectbox(t("lstm_gates.task"), list(tasks.TASKS), key="lstm_gates.task",
                       format_func=names("tasks", tasks.TASKS).get)
        task = st.session_state["lstm_gates.task"]
        run = st.session_state.get(RUN)
        mine = run is not None and run[0].config.task == task
        if mine:
            c[1].segmented_control(t("lstm_gates.model"), ["bundled", "mine"], key="lstm_gates.model", required=True,
                                   format_func=names("models", ["bundled", "mine"]).get)
        st.text_input(t("lstm_gates.sequence"), key=f"lstm_gates.{SEQ[task]}", max_chars=2 * tasks.MAX_TYPED,
                      help=t(f"lstm_gates.help.seq_{task}", n=tasks.MAX_TYPED, depth=tasks.MAX_DEPTH))
        tokens, problem = tasks.tokenize(task, st.session_state[f"lstm_gates.{SEQ[task]}"])
        if problem is not None:
            msg = t(f"lstm_gates.problems.{problem.code}", pos=problem.position + 1, sym=problem.symbol,
                    n=tasks.MAX_TYPED, depth=tasks.MAX_DEPTH)
            (st.warning if tokens else st.error)(msg + (" " + t("lstm_gates.valid_part", n=len(tokens)) if tokens else
                                                        " " + t("lstm_gates.showing_example")), icon=":material/warning:")
        if not tokens:
            tokens = tasks.tokenize(task, tasks.TASKS[task].example)[0]
        use_mine = mine and st.session_state["lstm_gates.model"] == "mine"
        with safely():
            model, cfg, roles, acc = (run[0].model, run[0].config, run[1], run[0].accuracy) if use_mine else bundled(task)
            tr = tasks.trace(model, task, tokens) if use_mine else bundled_trace(task, tuple(tokens))
            units = [f"{t('lstm_gates.unit')} {k + 1}" + (f" · {t('lstm_gates.roles.' + r)}" if r != "other" else "")
                     for k, r in enumerate(roles.role)]
            state_key = "c" if model.kind == "lstm" else "h"
            names = {"lstm": "ifoc", "gru": "rzh", "rnn_tanh": "h"}[model.kind]
            panels = [(t(f"lstm_gates.panel.{k}"), tr.gates[k], k in "ch") for k in names]
            answer = t(f"lstm_gates.answer.{task}")
            st.plotly_chart(figs.gate_heatmaps(tr.tokens, panels, units, tr.prediction, tr.target,
                                               title=t("lstm_gates.fig.heatmaps", model=kinds[model.kind], acc=100 * acc),
                                               pred_name=t("lstm_gates.fig.prediction"), target_name=t("lstm_gates.fig.target"),
                                               answer_axis=answer, answer_ticks=list("abcd") if task == "recall" else None,
                                               step=t("lstm_gates.fig.step")), key="lstm_gates.heatmaps")
            featured = [k for k, r in enumerate(roles.role) if r != "other"][:3] or [int(np.argmax(roles.score))]
            st.plotly_chart(figs.featured_units(tr.tokens, [(units[k], tr.gates[state_key][k]) for k in featured],
                                                title=t(f"lstm_gates.fig.featured_{state_key}")), key="lstm_gates.featured")
            summary = {k: "–" if np.isnan(x) else f"{x:.2f}" for k, x in tasks.gate_summary(tr, featured).items()}
            st.caption(t(f"lstm_gates.notice.{task}", pred=tasks.answer_text(task, tr.prediction[-1]),
                         target=tasks.answer_text(task, tr.target[-1]), units=", ".join(str(k + 1) for k in featured),
                         score=f"{roles.score[featured].min():.2f}", **summary))
        with st.expander(t("lstm_gates.retrain_title"), icon=":material/model_training:"):
            sweep = json.loads((MODELS / "sweep.json").read_text(encoding="utf-8"))
            st.plotly_chart(figs.sweep(sweep["lengths"], sweep["accuracy"], kinds, title=t("lstm_gates.fig.sweep"),
                                       x=t("lstm_gates.fig.train_len"), y=t("lstm_gates.fig.accuracy"),
                                       chance=t("lstm_gates.fig.chance")), key="lstm_gates.sweep_fig")
            st.fragment(retrain_panel)(task)

if tabs[2].open:
    with tabs[2]:
        c = st.columns(6)
        c[0].slider(t("lstm_gates.flow_len"), 2, rnn.MAX_FLOW_LEN, key="lstm_gates.flow_len")
        c[1].slider(t("lstm_gates.flow_hidden"), 1, rnn.MAX_FLOW_HIDDEN, key="lstm_gates.flow_hidden")
        c[2].slider(t("lstm_gates.radius"), 0.1, 2.0, step=0.05, key="lstm_gates.radius", help=t("lstm_gates.help.radius"))
        c[3].selectbox(t("lstm_gates.init"), rnn.INITS, key="lstm_gates.init", format_func=names("inits", rnn.INITS).get)
        c[4].slider(t("lstm_gates.flow_keep"), -rnn.BIAS_LIMIT, rnn.BIAS_LIMIT, step=0.5, key="lstm_gates.flow_keep")
        c[5].slider(t("lstm_gates.clip"), 0.1, 10.0, step=0.1, key="lstm_gates.clip", help=t("lstm_gates.help.clip"))
        v = bound.values()
        with safely():
            res = flows(experiment.flow_config(v, seed), device.type)
            st.plotly_chart(figs.flow_curves({k: r.norms for k, r in res.items()}, kinds, title=t("lstm_gates.fig.flow"),
                                             x=t("lstm_gates.fig.flow_x"), y=t("lstm_gates.fig.flow_y")),
                            key="lstm_gates.flow_fig")
            st.dataframe(pd.DataFrame({
                t("lstm_gates.table.kind"): [kinds[k] for k in res],
                t("lstm_gates.table.ratio"): [r.norms[0] / r.norms[-1] for r in res.values()],
                t("lstm_gates.table.param"): [r.param_norm for r in res.values()],
                t("lstm_gates.table.clipped"): [r.clipped_norm for r in res.values()]}),
                hide_index=True, column_config={t(f"lstm_gates.table.{k}"): st.column_config.NumberColumn(format="%.3e")
                                                for k in ("ratio", "param", "clipped")})
            st.caption(t("lstm_gates.notice.flow", clip=v["clip"]))

st.markdown(t("lstm_gates.notice.main"))
lesson.presets(bound, [lesson.Preset(name, values, extra={"lstm_gates.tab": t(f"lstm_gates.tabs.{experiment.TAB[name]}")})
                       for name, values in experiment.PRESETS.items()])
lesson.code_that_ran(rnn.lstm_step, rnn.gru_step, rnn.gru_candidate_reset_before, rnn.make_cell, tasks.trace,
                     tasks.unit_roles, tasks.train_steps, rnn.state_gradients, rnn.clip_grad_norm, rnn.make_flow_cell)
sync_url(bound)
