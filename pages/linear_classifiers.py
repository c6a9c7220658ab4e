"""Lesson: from nearest neighbours to linear classifiers (notes 003 §2-3, 000 ch. 4, 004 softmax regression, 001)."""

import streamlit as st
import torch

from dlcore.linear_classifiers import ClassifierInputError, gaussian, knn, linear, losses, studies
from ui import lesson
from ui.controls import control
from ui.experiments import linear_classifiers as experiment
from ui.figures import linear_classifiers as figs
from ui.figures.common import freeze, thaw
from ui.i18n import labels, lang, option_names, t
from ui.runtime import heavy_slot, offload, safely
from ui.state import bind, global_seed, sync_url

S = "linear_classifiers"
lesson.header(S)
lesson.concept(S, expanded=False)
bound = bind(S, experiment.SETTINGS)
PRESETS = [lesson.Preset(name, values, {f"{S}.tab": t(f"{S}.tabs.{experiment.TAB[name]}")})
           for name, values in experiment.PRESETS.items()]   # a preset opens its tab
lesson.predict(bound, PRESETS)
v, seed = bound.values(), global_seed()


@lesson.cached(64)
def playground(values: dict, seed: int, language: str):
    """The playground figure (frozen) and what the captions quote; ClassifierInputError for unusable points."""
    x, y, models, r = experiment.playground(values, seed)
    spec = freeze(figs.regions(r, x.numpy(), y.numpy(), labels(f"{S}.fig", figs.REGION_LABELS), clickable=True,
                               hood=experiment.neighbourhood(values, x)))
    return spec, r.train_acc, r.errors, r.regularised, experiment.diverged(models)


@lesson.cached(16, ttl=None)
def digits_study(config: linear.LinearConfig, g_k: int, language: str):
    tpl = offload(studies.digit_templates, config)
    grow = offload(studies.growth, experiment.GROWTH, g_k, config)
    text = labels(f"{S}.fig", figs.TEMPLATE_LABELS)
    return freeze(figs.templates(tpl.model.W.numpy(), tpl.test_acc, text)), freeze(figs.growth(grow, text)), tpl, grow


@lesson.cached(32, ttl=None)
def choose_k(folds: int, metric: str, seed: int, language: str):
    r, text = studies.choosing_k(experiment.KS, folds, metric, seed), labels(f"{S}.fig", figs.CV_LABELS)
    return freeze(figs.cross_validation(r.cv, r.test_acc.numpy(), r.train_acc.numpy(), text)), r


@lesson.cached(8, ttl=None)
def gen_curve(seed: int, language: str):
    return freeze(figs.gen_vs_disc(offload(studies.gen_vs_disc, experiment.GEN_SIZES, seed=seed),
                                   labels(f"{S}.fig", figs.GEN_LABELS)))


cached = {f.__name__: lesson.cached(64)(f) for f in (studies.distance_ratio, studies.standardization,
                                                     studies.gen_disc_example, studies.least_squares_demo)}
tabs = st.tabs([t(f"{S}.tabs.{name}") for name in experiment.TABS], key=f"{S}.tab", on_change="rerun")
if tabs[0].open:
    with tabs[0]:
        for name, col in zip(experiment.PLAYGROUND[:5], st.columns(5)):   # the data and k-NN; training below
            control(bound, name, col)
        if v["dataset"] == "own":
            c = st.columns([2, 1])
            control(bound, "points", c[0], height=160)
            control(bound, "click_class", c[1], format_func=lambda c: t(f"{S}.fig.class") + f" {c}")
        st.caption(t(f"{S}.click_hint" if v["dataset"] == "own" else f"{S}.hood_hint", k=v["k"]))
        with safely():
            try:
                spec, acc, errors, regularised, diverged = playground(v, seed, lang())
            except ClassifierInputError as e:
                st.error(t(f"{S}.errors.{e.code}", **e.detail), icon=":material/error:")
            else:
                key = f"{S}.regions_fig"
                lesson.chart(thaw(spec), key, selection_mode="points", on_select=lambda: st.session_state.update(
                    experiment.clicked(bound, st.session_state.get(key), v)))
                for code, detail in errors.values():   # k-NN with k above the number of points
                    st.warning(t(f"{S}.errors.{code}", **detail), icon=":material/warning:")
                if regularised:
                    st.info(t(f"{S}.notice.regularised", ridge=gaussian.RIDGE), icon=":material/healing:")
                if diverged:
                    st.warning(t(f"{S}.notice.diverged", lr=v["lr"]), icon=":material/warning:")
                st.caption(t(f"{S}.notice.playground", **experiment.playground_note(acc)))
        for name, col in zip(experiment.PLAYGROUND[5:], [*st.columns(5), st]):
            control(bound, name, col)
if tabs[1].open:
    with tabs[1], safely():
        for name, col in zip(("s0", "s1", "s2", "label", "delta"), st.columns([1, 1, 1, 1.4, 1])):
            control(bound, name, col, label=t(f"{S}.score", name=t(f"{S}.classes.{name[1]}")) if name[0] == "s"
                    else None)
        point = losses.point_loss(experiment.scores(v), v["label"], v["delta"])
        names = list(option_names(f"{S}.classes", (0, 1, 2)).values())
        lesson.chart(figs.loss_bars(point, names, labels(f"{S}.fig", figs.LOSS_LABELS)), f"{S}.loss_fig")
        sweep = losses.correct_score_sweep(experiment.scores(v), v["label"], v["delta"])
        lesson.chart(figs.loss_sweep(sweep, labels(f"{S}.fig", figs.LOSS_LABELS)), f"{S}.sweep_fig")
        st.markdown(t(f"{S}.notice.loss", svm=point.svm, softmax=point.softmax, zero=sweep.zero_at,
                      tail=float(sweep.softmax[-1]), top=float(sweep.correct[-1])))
if tabs[2].open:
    with tabs[2]:
        for name, col in zip(("t_loss", "t_lam", "t_steps", "g_k"), st.columns([1.6, 1, 1, 1])):
            control(bound, name, col)
        with heavy_slot() as ok, safely(), st.spinner(t(f"{S}.training")):
            if ok:
                tpl_spec, grow_spec, tpl, grow = digits_study(experiment.template_config(v, seed), v["g_k"], lang())
                lesson.chart(thaw(tpl_spec), f"{S}.templates_fig")
                st.caption(t(f"{S}.notice.templates", acc=tpl.test_acc))
                lesson.chart(thaw(grow_spec), f"{S}.growth_fig")
                st.caption(t(f"{S}.notice.growth", **experiment.growth_note(grow)))
if tabs[3].open:
    with tabs[3], safely():
        for name, col in zip(("folds", "cv_metric"), st.columns(2)):
            control(bound, name, col)
        cv_spec, r = choose_k(v["folds"], v["cv_metric"], seed, lang())
        lesson.chart(thaw(cv_spec), f"{S}.cv_fig")
        st.markdown(t(f"{S}.notice.choose_k", **experiment.cv_note(r)))
if tabs[4].open:
    with tabs[4], safely():
        control(bound, "fraction")
        dims = torch.tensor(experiment.DIMS)
        ratio = cached["distance_ratio"](experiment.DIMS, seed=seed).numpy()
        edge = studies.edge_for_fraction(dims, v["fraction"]).numpy()
        lesson.chart(figs.curse(dims.numpy(), edge, ratio, v["fraction"], labels(f"{S}.fig", figs.DIST_LABELS)),
                     f"{S}.curse_fig")
        st.caption(t(f"{S}.notice.curse", f=v["fraction"], e10=edge[experiment.DIMS.index(10)],
                     e100=edge[experiment.DIMS.index(100)], r2=ratio[1], r1000=ratio[-1]))
        control(bound, "scale")
        sd = cached["standardization"](v["scale"], seed=seed)
        std_fig = figs.standardization(sd.loss_raw.numpy(), sd.loss_std.numpy(), labels(f"{S}.fig", figs.DIST_LABELS))
        lesson.chart(std_fig, f"{S}.std_fig")
        st.caption(t(f"{S}.notice.standardize", scale=v["scale"], raw=sd.knn_raw, std=sd.knn_std))
if tabs[5].open:
    with tabs[5]:
        text = labels(f"{S}.fig", figs.GEN_LABELS)
        with heavy_slot() as ok, safely(), st.spinner(t(f"{S}.training")):
            if ok:
                lesson.chart(thaw(gen_curve(seed, lang())), f"{S}.gen_fig")
                st.caption(t(f"{S}.notice.gen_disc"))
        with safely():
            control(bound, "gd_n")
            ex = cached["gen_disc_example"](v["gd_n"], seed=seed)
            lesson.chart(figs.gen_disc_example(ex, text), f"{S}.example_fig")
            st.dataframe(experiment.gen_table(ex, labels(f"{S}.table", experiment.TABLE)), hide_index=True)
            control(bound, "far")
            ls = cached["least_squares_demo"](v["far"], seed=seed)
            lesson.chart(figs.least_squares(ls, text), f"{S}.ls_fig")
            st.caption(t(f"{S}.notice.least_squares", far=v["far"], ls=ls.acc_ls, log=ls.acc_log))
lesson.presets(bound, PRESETS)
lesson.code_that_ran(losses.svm_loss, losses.softmax_losses, knn.knn_predict, knn.cross_validate_k,
                     gaussian.gaussian_classifier, linear.train_linear, linear.logistic_regression)
sync_url(bound)
