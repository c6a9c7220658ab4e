"""Lesson: activation functions, initialization, vanishing and exploding gradients (seed 001, 003 §6, 002 L1, 004)."""

import numpy as np
import pandas as pd
import streamlit as st

from dlcore import activations as act
from dlcore import curve_pieces as cp
from dlcore import deep_training as dt
from dlcore.device import pick
from dlcore.expr import ExpressionError
from ui import lesson, progress
from ui.controls import control
from ui.experiments import activations as experiment
from ui.figures import activations as figs
from ui.figures.common import freeze, thaw
from ui.i18n import labels, lang, option_names, t
from ui.runtime import heavy_slot, offload, safely
from ui.state import bind, device_preference, global_seed, sync_url

TABS, ROW = ("zoo", "signal", "train", "pieces"), {"vertical_alignment": "bottom"}   # ROW: wrapped labels stay level

lesson.header("activations")
lesson.concept("activations", expanded=False)
bound = bind("activations", experiment.SETTINGS)
PRESETS = [lesson.Preset(name, values, {"activations.tab": t(f"activations.tabs.{experiment.TAB[name]}")})
           for name, values in experiment.PRESETS.items()]
lesson.predict(bound, PRESETS)
v, device, seed = bound.values(), str(pick(device_preference())), global_seed()
act_names, init_names = option_names("activations.names", act.ACTIVATIONS), option_names("activations.inits", act.INITS)
racer_names = figs.racer_names(dt.RACERS, act_names, init_names, t("activations.train.racer"))


@lesson.cached(64)
def zoo_figure(names: tuple[str, ...], slope: float, span: float, language: str) -> dict:
    titles, peak = option_names("activations.names", names), t("activations.fig.peak")
    curves = {n: act.curve(n, -span, span, 401, slope) for n in names}
    panels = [(f"{titles[n]} · " + peak.format(peak=c.max_derivative), c.x, c.y, c.dy, c.saturated)
              for n, c in curves.items()]
    return freeze(figs.function_grid(panels, labels("activations.fig", figs.GRID_LABELS)))


@lesson.cached(16)
def property_table(slope: float, language: str) -> pd.DataFrame:
    return figs.property_frame(act.property_table(slope), option_names("activations.names", act.ACTIVATIONS),
                               option_names("activations.sides", figs.SIDES), labels("activations", ("yes", "no")),
                               labels("activations.table", figs.TABLE_COLUMNS))


@lesson.cached(64)
def deep_signal(config: act.SignalConfig, device: str) -> act.Signal:
    return act.deep_signal_fast(config, device)   # the same numbers as act.deep_signal, shown below


@lesson.cached(64)
def train_racer(config: dt.TrainConfig, racer: str, device: str) -> dt.TrainHistory:
    return offload(dt.train, config, *racer.split("|"), device)   # in a training worker; each racer cached alone


@lesson.cached(64)
def pieces_figures(formula: str, kind: str, n: int, language: str) -> tuple[dict, dict]:
    kinds = option_names("activations.kinds", cp.KINDS)
    errors = {kinds[k]: e for k, e in experiment.piece_errors(formula).items()}
    return (freeze(figs.pieces_animation(*experiment.pieces(formula, kind, n),
                                         labels("activations.pfig", figs.PIECES_LABELS), n)),
            freeze(figs.error_vs_pieces(np.array(experiment.FRAMES), errors,
                                        labels("activations.efig", figs.ERROR_LABELS))))


tabs = st.tabs([t(f"activations.tabs.{n}") for n in TABS], key="activations.tab", on_change="rerun")
if tabs[0].open:
    with tabs[0]:
        c = st.columns([3, 1, 1], **ROW)
        control(bound, "show", c[0], max_selections=9)
        control(bound, "slope", c[1])
        control(bound, "span", c[2])
        lesson.chart(thaw(zoo_figure(tuple(v["show"]) or ("sigmoid",), v["slope"], v["span"], lang())),
                     "activations.zoo_fig")
        st.caption(t("activations.notice.zoo"))
        st.dataframe(property_table(v["slope"], lang()), hide_index=True, key="activations.table_df")
        st.caption(t("activations.notice.table"))
if tabs[1].open:
    with tabs[1]:
        for col, name in zip(st.columns([1.2, 1.2, 1.2, 0.8], **ROW), ("activation", "init", "scale", "bn")):
            control(bound, name, col, disabled=name == "scale" and v["init"] not in act.SCALED_INITS)
        for col, name in zip(st.columns(3, **ROW), ("depth", "width", "batch")):
            control(bound, name, col)
        st.latex(t("activations.formula_signal"))
        with heavy_slot("compute") as ok, safely():
            if ok:
                sig = deep_signal(experiment.signal_config(v, seed), device)
                s = sig.stats
                for col, (k, value) in zip(st.columns(4), figs.headline(s).items()):
                    col.metric(t(f"activations.metric.{k}"), value,
                               help=t("activations.help.ratio") if k == "ratio" else None)
                if sig.first_nonfinite is not None:
                    st.warning(t("activations.overflow", layer=sig.first_nonfinite), icon=":material/warning:")
                if zero := int((s["grad_norm"] == 0).sum()):
                    st.info(t("activations.zero_grad", n=zero), icon=":material/info:")
                peak, fig = sig.max_derivative, labels("activations.fig", figs.STATS_LABELS + figs.RIDGE_LABELS)
                bound_line = act.activation_bound(peak, v["depth"]) * s["delta_norm"].iloc[-1]
                title = t("activations.fig.stats_title", act=act_names[v["activation"]], init=init_names[v["init"]])
                lesson.chart(figs.layer_stats({k: s[k].to_numpy() for k in s.columns}, bound_line, fig | {
                    "title": title, "bound": t("activations.fig.bound", peak=f"{peak:.3g}")}), "activations.stats_fig")
                ridge = fig | {"title": t("activations.fig.ridge_title"), "x": t("activations.fig.ridge_x")}
                lesson.chart(figs.ridgeline(sig.layers, sig.edges, sig.hist, sig.outside, ridge),
                             "activations.ridge_fig")
                st.caption(t("activations.notice.signal"))
                with st.expander(t("activations.table_title"), icon=":material/table:"):
                    st.dataframe(s.rename(columns=labels("activations.cols", s.columns)), hide_index=True)
if tabs[2].open:
    with tabs[2]:
        with st.form("activations.train_form", border=False):
            control(bound, "racers", format_func=racer_names.get, max_selections=dt.MAX_RACERS)
            for col, name in zip(st.columns(7, **ROW), "t_depth t_width optimizer lr steps dataset t_bn".split()):
                control(bound, name, col, label=t(f"activations.{name.removeprefix('t_')}"))   # t_depth: "depth"
            st.form_submit_button(t("activations.train_button"), type="primary", icon=":material/play_arrow:")
        racers, config = experiment.racers(v), experiment.race_config(v, seed)
        with progress.training("activations.race", what=t("activations.train.running"), total=len(racers),
                               job=(config, racers)) as run, safely():
            if run:
                runs = [train_racer(config, racer, device) for racer in run.track(racers)]
                names = [racer_names[r] for r in racers]
                lesson.chart(figs.race(runs, names, labels("activations.train", figs.RACE_LABELS)),
                             "activations.race_fig")
                for name, step in zip(names, map(dt.diverged_at, runs)):
                    if step is not None:
                        st.warning(t("activations.train.diverged", name=name, step=step), icon=":material/warning:")
                st.caption(t("activations.notice.train"))
if tabs[3].open:
    with tabs[3]:
        for col, name in zip(st.columns(2, **ROW), ("target", "kind")):   # N: the animation's own slider
            control(bound, name, col)
        if v["target"] == "custom":
            control(bound, "formula")
        try:
            anim, err = pieces_figures(experiment.formula(v), v["kind"], v["pieces"], lang())
        except ExpressionError as e:   # every refusal, at any N (issue 30: 1/x draws at N = 1, not at N = 2)
            why = t(f"activations.formula_errors.{e.code}", detail=e.detail, limit=cp.MAX_FORMULA)
            st.error(t("activations.bad_formula", why=why), icon=":material/error:")
            anim, err = pieces_figures(cp.TARGETS["wave"], v["kind"], v["pieces"], lang())
        st.latex(t("activations.formula_pieces"))
        lesson.chart(thaw(anim), "activations.pieces_fig")
        lesson.chart(thaw(err), "activations.error_fig")
        st.caption(t("activations.notice.pieces"))

lesson.presets(bound, PRESETS)
lesson.code_that_ran(act.curve, act.properties, act.init_weight_, act.deep_signal, dt.train, cp.build_from_pieces)
sync_url(bound)
