"""Lesson: activation functions, initialization, vanishing and exploding gradients (seed 001, 003 §6, 002 L1, 004)."""

import numpy as np
import pandas as pd
import streamlit as st

from dlcore import activations as act
from dlcore import curve_pieces as cp
from dlcore import deep_training as dt
from dlcore.device import pick
from ui import lesson
from ui.experiments import activations as experiment
from ui.figures import activations as figs
from ui.figures.common import freeze, thaw
from ui.i18n import lang, strings, t
from ui.runtime import heavy_slot, offload, safely
from ui.state import Param, bind, device_preference, global_seed, sync_url

NAMES = tuple(act.ACTIVATIONS)
WIDTHS, BATCHES = (16, 32, 64, 128, 256, 512), (32, 64, 128, 256)
SCALES = (0.001, 0.01, 0.03, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
TRAIN_WIDTHS, LRS = (8, 16, 32, 64, 128), (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
STEPS = (50, 100, 200, 300, 500, 1000)
FRAMES = experiment.FRAMES
TARGETS = (*cp.TARGETS, "custom")
TABS = ("zoo", "signal", "train", "pieces")

lesson.header("activations")
lesson.concept("activations", expanded=False)
D = experiment.DEFAULTS
bound = bind("activations", [
    Param.multi("show", D["show"], NAMES), Param.float("slope", D["slope"], lo=0.0, hi=0.5),
    Param.float("span", D["span"], lo=2.0, hi=10.0), Param.int("depth", D["depth"], lo=1, hi=act.MAX_DEPTH),
    Param.choice("width", D["width"], WIDTHS), Param.choice("batch", D["batch"], BATCHES),
    Param.choice("activation", D["activation"], NAMES), Param.choice("init", D["init"], act.INITS),
    Param.choice("scale", D["scale"], SCALES), Param.bool("bn", D["bn"]), Param.multi("racers", D["racers"], dt.RACERS),
    Param.int("t_depth", D["t_depth"], lo=1, hi=dt.MAX_DEPTH), Param.choice("t_width", D["t_width"], TRAIN_WIDTHS),
    Param.choice("optimizer", D["optimizer"], dt.OPTIMIZERS), Param.choice("lr", D["lr"], LRS),
    Param.choice("steps", D["steps"], STEPS), Param.choice("dataset", D["dataset"], dt.DATASETS),
    Param.bool("t_bn", D["t_bn"]), Param.choice("target", D["target"], TARGETS),
    Param.text("formula", D["formula"], max_len=cp.MAX_FORMULA), Param.choice("kind", D["kind"], cp.KINDS),
    Param.int("pieces", D["pieces"], lo=1, hi=cp.MAX_PIECES),
])
v = bound.values()
device = str(pick(device_preference()))
seed = global_seed()
name_of = {n: t(f"activations.names.{n}") for n in NAMES}
init_of = {n: t(f"activations.inits.{n}") for n in act.INITS}


def racer_name(racer: str) -> str:
    a, _, init = racer.partition("|")
    kind, scale = act.parse_init(init)
    return t("activations.train.racer", act=name_of[a], init=init_of[kind] + ("" if np.isnan(scale) else f" {scale:g}"))


# format_func values are computed now, in this run's language (AppTest calls format_func outside the run)
racer_of = {r: racer_name(r) for r in dt.RACERS}
optimizer_of = {o: t(f"activations.optimizers.{o}") for o in dt.OPTIMIZERS}
dataset_of = {d: t(f"activations.datasets.{d}") for d in dt.DATASETS}
target_of = {k: t(f"activations.targets.{k}") for k in TARGETS}
kind_of = {k: t(f"activations.kinds.{k}") for k in cp.KINDS}


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def zoo_figure(names: tuple[str, ...], slope: float, span: float, text: tuple) -> dict:
    panels = []
    for n in names:
        c = act.curve(n, -span, span, 401, slope)
        panels.append((text[1][n].format(peak=c.max_derivative), c.x, c.y, c.dy, c.saturated))
    return freeze(figs.function_grid(panels, text[0]))


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def property_table(slope: float) -> pd.DataFrame:
    return act.property_table(slope)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def deep_signal(config: act.SignalConfig, device: str) -> act.Signal:
    return act.deep_signal(config, device)


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def train_race(config: dt.TrainConfig, racers: tuple[str, ...], device: str) -> list[dt.TrainHistory]:
    return offload(dt.race, config, racers, device)   # in a training worker: the sliders stay free


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def pieces_figures(formula: str, kind: str, n: int, text: tuple) -> tuple[dict, dict]:
    ns = tuple(k for k in FRAMES if k < n) + (n,)
    built = [cp.build_from_pieces(formula, k, kind) for k in ns]
    builds = [(k, b.pieces, b.offset, b.total, b.max_error) for k, b in zip(ns, built)]
    errors = {text[1][k]: cp.error_curve(formula, k, FRAMES) for k in cp.KINDS}
    return (freeze(figs.pieces_animation(built[0].x, built[0].target, builds, text[0])),
            freeze(figs.error_vs_pieces(np.array(FRAMES), errors, text[2])))


def labels(group: str) -> dict[str, str]:
    """Every string ``activations.<group>.<name>`` of the current language, by ``name`` (figure labels)."""
    return {k.rsplit(".", 1)[1]: text for k, text in strings(lang()).items() if k.startswith(f"activations.{group}.")}


tabs = st.tabs([t(f"activations.tabs.{n}") for n in TABS], key="activations.tab", on_change="rerun")
if tabs[0].open:
    with tabs[0]:
        c = st.columns([3, 1, 1])
        c[0].multiselect(t("activations.show"), NAMES, key="activations.show", format_func=name_of.get,
                         max_selections=9)
        c[1].slider(t("activations.slope"), 0.0, 0.5, step=0.01, key="activations.slope", help=t("activations.help.slope"))
        c[2].slider(t("activations.span"), 2.0, 10.0, step=0.5, key="activations.span")
        shown = tuple(v["show"]) or ("sigmoid",)
        titles = tuple((n, name_of[n] + " · " + t("activations.fig.peak")) for n in shown)
        st.plotly_chart(thaw(zoo_figure(shown, v["slope"], v["span"], (labels("fig"), dict(titles)))),
                        key="activations.zoo_fig")
        st.caption(t("activations.notice.zoo"))
        table = property_table(v["slope"])
        yn = {True: t("activations.yes"), False: t("activations.no")}
        columns = {"name": table["name"].map(name_of), "formula": table["formula"],
                   "range": [f"{'(' if lo < 0 and np.isinf(lo) else '['}{lo:.3g}, {hi:.3g}{')' if np.isinf(hi) else ']'}"
                             .replace("inf", "∞") for lo, hi in zip(table["lower"], table["upper"])],
                   "mean": table["mean_normal"].round(3), "var": table["var_normal"].round(3),
                   "zero_centred": table["zero_centred"].map(yn), "monotonic": table["monotonic"].map(yn),
                   "saturates": table["saturates"].map({k: t(f"activations.sides.{k}") for k in ("none", "left", "right", "both")}),
                   "zero_gradient": table["zero_gradient"].map(yn), "max_derivative": table["max_derivative"].round(4),
                   "at": table["argmax_derivative"].round(2)}
        st.dataframe(pd.DataFrame({t(f"activations.table.{k}"): col for k, col in columns.items()}), hide_index=True,
                     key="activations.table_df")
        st.caption(t("activations.notice.table"))
if tabs[1].open:
    with tabs[1]:
        c = st.columns([1.2, 1.2, 1.2, 0.8])
        c[0].selectbox(t("activations.activation"), NAMES, key="activations.activation", format_func=name_of.get)
        c[1].selectbox(t("activations.init"), act.INITS, key="activations.init", format_func=init_of.get)
        scaled = v["init"] in act.SCALED_INITS
        c[2].select_slider(t("activations.scale"), SCALES, key="activations.scale", disabled=not scaled,
                           help=t("activations.help.scale"))
        c[3].toggle(t("activations.bn"), key="activations.bn", help=t("activations.help.bn"))
        c = st.columns(3)
        c[0].slider(t("activations.depth"), 1, act.MAX_DEPTH, key="activations.depth")
        c[1].select_slider(t("activations.width"), WIDTHS, key="activations.width")
        c[2].select_slider(t("activations.batch"), BATCHES, key="activations.batch")
        st.latex(t("activations.formula_signal"))
        with heavy_slot("compute") as ok, safely():
            if ok:
                sig = deep_signal(experiment.signal_config(v, seed), device)
                s = sig.stats
                ratio = act.backward_ratio(s)
                m = st.columns(4)
                m[0].metric(t("activations.metric.std"), f"{s['act_std'].iloc[-1]:.3g}")
                m[1].metric(t("activations.metric.ratio"), "–" if np.isnan(ratio) else f"{ratio:.3g}",
                            help=t("activations.help.ratio"))
                m[2].metric(t("activations.metric.saturated"), f"{100 * s['saturated_frac'].mean():.0f}%")
                m[3].metric(t("activations.metric.dead"), f"{100 * s['dead_frac'].iloc[-1]:.0f}%")
                if sig.first_nonfinite is not None:
                    st.warning(t("activations.overflow", layer=sig.first_nonfinite), icon=":material/warning:")
                if zero := int((s["grad_norm"] == 0).sum()):
                    st.info(t("activations.zero_grad", n=zero), icon=":material/info:")
                bound_line = act.activation_bound(sig.max_derivative, v["depth"]) * s["delta_norm"].iloc[-1]
                stat_labels = labels("fig") | {"title": t("activations.fig.stats_title", act=name_of[v["activation"]], init=init_of[v["init"]]),
                                "bound": t("activations.fig.bound", peak=f"{sig.max_derivative:.3g}")}
                st.plotly_chart(figs.layer_stats({k: s[k].to_numpy() for k in s.columns}, bound_line, stat_labels),
                                key="activations.stats_fig")
                ridge_labels = labels("fig") | {"title": t("activations.fig.ridge_title"), "x": t("activations.fig.ridge_x")}
                st.plotly_chart(figs.ridgeline(sig.layers, sig.edges, sig.hist, sig.outside, ridge_labels),
                                key="activations.ridge_fig")
                st.caption(t("activations.notice.signal"))
                with st.expander(t("activations.table_title"), icon=":material/table:"):
                    st.dataframe(s.rename(columns={k: t(f"activations.cols.{k}") for k in s.columns}), hide_index=True)
if tabs[2].open:
    with tabs[2]:
        with st.form("activations.train_form", border=False):
            st.multiselect(t("activations.racers"), dt.RACERS, key="activations.racers", format_func=racer_of.get,
                           max_selections=dt.MAX_RACERS)
            c = st.columns(7)
            c[0].slider(t("activations.depth"), 1, dt.MAX_DEPTH, key="activations.t_depth")
            c[1].select_slider(t("activations.width"), TRAIN_WIDTHS, key="activations.t_width")
            c[2].selectbox(t("activations.optimizer"), dt.OPTIMIZERS, key="activations.optimizer",
                           format_func=optimizer_of.get)
            c[3].select_slider(t("activations.lr"), LRS, key="activations.lr", format_func=lambda x: f"{x:g}")
            c[4].select_slider(t("activations.steps"), STEPS, key="activations.steps")
            c[5].selectbox(t("activations.dataset"), dt.DATASETS, key="activations.dataset",
                           format_func=dataset_of.get)
            c[6].toggle(t("activations.bn"), key="activations.t_bn")
            st.form_submit_button(t("activations.train_button"), type="primary", icon=":material/play_arrow:")
        racers = experiment.racers(v)
        with heavy_slot() as ok, safely():
            if ok:
                with st.spinner(t("activations.train.running")):
                    runs = train_race(experiment.race_config(v, seed), racers, device)
                st.plotly_chart(figs.race([r.step for r in runs], [r.loss for r in runs], [r.accuracy for r in runs],
                                          [r.dead_frac for r in runs], [racer_of[r] for r in racers],
                                          labels("train")),
                                key="activations.race_fig")
                for r, name in zip(runs, racers):
                    if np.isnan(r.loss).any():
                        step = int(r.step[np.argmax(np.isnan(r.loss))])
                        st.warning(t("activations.train.diverged", name=racer_of[name], step=step), icon=":material/warning:")
                st.caption(t("activations.notice.train"))
if tabs[3].open:
    with tabs[3]:
        c = st.columns([1.2, 1, 2])
        c[0].selectbox(t("activations.target"), TARGETS, key="activations.target",
                       format_func=target_of.get)
        c[1].selectbox(t("activations.kind"), cp.KINDS, key="activations.kind", format_func=kind_of.get)
        c[2].slider(t("activations.pieces"), 1, cp.MAX_PIECES, key="activations.pieces")
        formula = experiment.formula(v)
        if v["target"] == "custom":
            st.text_input(t("activations.formula"), key="activations.formula", max_chars=cp.MAX_FORMULA,
                          help=t("activations.help.formula"))
        try:
            cp.build_from_pieces(formula, 1, "relu")
        except cp.FormulaError as e:
            st.error(t("activations.bad_formula", why=t(f"activations.formula_errors.{e.code}", detail=e.detail)),
                     icon=":material/error:")
            formula = cp.TARGETS["wave"]
        st.latex(t("activations.formula_pieces"))
        anim, err = pieces_figures(formula, v["kind"], v["pieces"], (labels("pfig"), kind_of, labels("efig")))
        st.plotly_chart(thaw(anim), key="activations.pieces_fig")
        st.plotly_chart(thaw(err), key="activations.error_fig")
        st.caption(t("activations.notice.pieces"))

lesson.presets(bound, [lesson.Preset(name, values, {"activations.tab": t(f"activations.tabs.{experiment.TAB[name]}")})
                       for name, values in experiment.PRESETS.items()])
lesson.code_that_ran(act.curve, act.properties, act.init_weight_, act.deep_signal, dt.train, cp.build_from_pieces)
sync_url(bound)
