"""Lesson: generalization, bias-variance and regularization (notes 001 bias-variance, regularization; 002 L1-2; 004)."""

import streamlit as st

from dlcore import generalization as gen
from dlcore.expr import ExpressionError
from ui import lesson, progress
from ui.controls import control
from ui.experiments import generalization as experiment
from ui.figures import generalization as figs
from ui.figures.common import freeze, thaw
from ui.i18n import labels, lang, t
from ui.runtime import offload, safely
from ui.state import bind, global_seed, sync_url

S, RUNS = "generalization", experiment.RUNS
lesson.header(S)
lesson.concept(S, expanded=False)
bound = bind(S, experiment.SETTINGS)
PRESETS = [lesson.Preset(name, values, {f"{S}.tab": t(f"{S}.tabs.{experiment.TAB[name]}")})
           for name, values in experiment.PRESETS.items()]   # a preset opens its tab
lesson.predict(bound, PRESETS)
for name, col in zip(("target", "n", "noise", "degree"), st.columns([1.4, 1, 1, 1])):
    control(bound, name, col)
v, seed = bound.values(), global_seed()
if v["target"] == "typed":
    control(bound, "formula")
    try:
        gen.parse_target(v["formula"])
    except ExpressionError as e:   # the page goes on with the default target
        st.error(t(f"{S}.formula_errors.{e.code}", detail=e.detail, limit=gen.MAX_FORMULA), icon=":material/function:")
        v["target"] = "sine"
text = {name: labels(f"{S}.fig", keys) for name, keys in figs.LABELS.items()}


def controls(*names: str) -> None:
    for name, col in zip(names, st.columns(len(names))):
        control(bound, name, col)


def charts(specs: list, *keys: str, columns: int = 1) -> None:
    cols = st.columns(columns) if columns > 1 else [st] * len(keys)
    for i, (spec, key) in enumerate(zip(specs, keys)):
        lesson.chart(thaw(spec), f"{S}.{key}", cols[i % len(cols)])


@lesson.cached(64)
def fit_view(v: dict, seed: int, language: str):
    r = experiment.fit(v, seed)
    sw, k = r["sweep"], v["degree"]
    faint = {d: sw.curves[d] for d in sorted({experiment.FIT_LOW, 15}) if d != k}
    return [freeze(figs.fit(r["data"], sw.curves[k], k, text["fit"], faint)),
            freeze(figs.capacity(sw.degrees, sw.train_mse, sw.val_mse, v["noise"], k, text["cap"]))], \
        experiment.fit_note(r, v)


@lesson.cached(64)
def bv_view(v: dict, seed: int, language: str):
    r, rows, b = experiment.bias_variance(v, seed), experiment.bv_sweep(v, seed), experiment.bagging(v, seed)
    chosen = v["degree"] if v["sweep"] == "degree" else v["lam"]
    return [freeze(figs.bv_fits(r, text["bv"])), freeze(figs.bv_decomposition(r, text["bv"])),
            freeze(figs.bv_sweep(rows, v["sweep"], text["bv"], chosen)), freeze(figs.bagging_bars(b, text["bv"]))], \
        experiment.bv_note(r, b)


@lesson.cached(64)
def reg_view(v: dict, seed: int, language: str):
    p, pic, (cv, held) = experiment.paths(v, seed), experiment.picture(v, seed), experiment.cross_validation(v, seed)
    return [freeze(figs.coefficient_paths(p["alphas"], p["lasso"], p["ridge"], p["alpha"], text["path"])),
            freeze(figs.picture(pic, text["pic"])), freeze(figs.cross_validation(cv, held, text["path"]))], \
        experiment.reg_note(p, pic, cv)


@lesson.cached(128)
def run(name: str, *args, _state: dict | None = None):   # gen.<name> in a training worker, cached for the class;
    return offload(getattr(gen, name), *args, **({"state": _state} if _state else {}))   # _state: not hashed


@lesson.cached(64)
def robust_view(v: dict, seed: int, language: str):
    r = experiment.robust(v, seed)
    return [freeze(figs.robust_fits(r["line"], r["fits"], text["rob"])),
            freeze(figs.losses(r["residual"], r["curves"], v["delta"], text["rob"]))], \
        {loss: float(w[1]) for loss, w in r["fits"].items()}


tabs = st.tabs([t(f"{S}.tabs.{name}") for name in experiment.TABS], key=f"{S}.tab", on_change="rerun")
if tabs[0].open:
    with tabs[0], safely():
        specs, note = fit_view(v, seed, lang())
        charts(specs, "fit_fig", "capacity_fig", columns=2)
        if note["interpolates"]:   # fewer points than coefficients
            st.info(t(f"{S}.interpolates", n=v["n"], p=v["degree"] + 1), icon=":material/timeline:")
        st.markdown(t(f"{S}.diagnosis.{note['diagnosis']}", **note))
        st.markdown(t(f"{S}.flow"))
if tabs[1].open:
    with tabs[1]:
        controls("n_sets", "lam", "sweep")
        with safely():
            try:
                specs, note = bv_view(v, seed, lang())
            except gen.GeneralizationError as e:
                st.error(t(f"{S}.errors.{e.code}", **experiment.error_values(e, v)), icon=":material/error:")
            else:
                charts(specs[:2], "bv_fits_fig", "bv_decomp_fig", columns=2)
                st.markdown(t(f"{S}.notice.bv", sets=v["n_sets"], **note))
                charts(specs[2:3], "bv_sweep_fig")
                st.caption(t(f"{S}.notice.sweep_{v['sweep']}", sets=min(v["n_sets"], experiment.SWEEP_SETS)))
                charts(specs[3:], "bagging_fig")
                st.caption(t(f"{S}.notice.bagging", sets=note["bag_sets"], **note))
if tabs[2].open:
    with tabs[2], safely():
        controls("path_degree", "alpha", "folds")
        specs, note = reg_view(v, seed, lang())
        charts(specs[:1], "path_fig")
        st.caption(t(f"{S}.notice.paths", n=experiment.PATH_N, **note))
        charts(specs[1:2], "picture_fig")
        st.markdown(t(f"{S}.notice.picture", **note))
        st.latex(t(f"{S}.decay_formula"))
        st.markdown(t(f"{S}.notice.decay"))
        charts(specs[2:], "cv_fig")
        st.caption(t(f"{S}.notice.cv", folds=min(v["folds"], v["n"]), degree=v["path_degree"], n=v["n"], **note))
if tabs[3].open:
    with tabs[3]:
        controls("p", "width", "steps", "patience", "n_masks", "n_images")
        with progress.training(f"{S}.dropout", what=t(f"{S}.training"), job=(v, seed)) as pr, safely():
            if pr:   # runs of ~1 s each, cached for the class
                runs = {n: run("train_mlp", experiment.dropout_config(v, seed, n == "with")) for n in pr.track(RUNS)}
                aug = run("augmentation", v["n_images"], seed)
                marks = {name: gen.early_stop(h.val_loss, v["patience"], h.step) for name, h in runs.items()}
                lesson.chart(figs.dropout_curves(runs, marks, text["drop"]), f"{S}.dropout_fig")
                st.markdown(t(f"{S}.notice.dropout", **experiment.dropout_note(runs, marks)))
                config = experiment.dropout_config(v, seed, True)   # the masks' key; the state is trained from it
                m = run("mask_predictions", config, v["n_masks"], _state=runs["with"].state)
                lesson.chart(figs.masks(m, experiment.data(v, seed), text["drop"]), f"{S}.masks_fig")
                st.markdown(t(f"{S}.notice.masks", masks=v["n_masks"], **experiment.mask_note(m)))
                lesson.chart(figs.augmentation(aug, text["drop"]), f"{S}.augment_fig")
                st.markdown(t(f"{S}.notice.augment", n=v["n_images"], **aug))
if tabs[4].open:
    with tabs[4], safely():
        controls("outliers", "delta")
        specs, slopes = robust_view(v, seed, lang())
        charts(specs[:1], "robust_fig")
        st.caption(t(f"{S}.notice.robust", outliers=v["outliers"], **slopes))
        charts(specs[1:], "losses_fig")
        st.markdown(t(f"{S}.notice.losses", delta=v["delta"]))
lesson.presets(bound, PRESETS)
lesson.code_that_ran(*experiment.code(next((name for name, tab in zip(experiment.TABS, tabs) if tab.open), "fit")))
sync_url(bound)
