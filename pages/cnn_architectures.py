"""Lesson: CNNs that learn: spatial transformer, why convolution, inside a CNN, zoo, ResNet, augmentation, transfer."""

import streamlit as st

from dlcore import cnn_architectures as ca
from dlcore.device import pick
from ui import lesson, progress
from ui.controls import control
from ui.experiments import cnn_architectures as experiment
from ui.figures import cnn_architectures as figs
from ui.figures.common import freeze, thaw
from ui.i18n import labels, lang, option_names, t
from ui.runtime import offload, safely
from ui.state import bind, device_preference, global_seed, sync_url

S = "cnn_architectures"
lesson.header(S)
lesson.concept(S, expanded=False)
bound = bind(S, experiment.SETTINGS)
PRESETS = [lesson.Preset(name, values, {f"{S}.tab": t(f"{S}.tabs.{experiment.TAB[name]}")})
           for name, values in experiment.PRESETS.items()]   # a preset opens its tab
lesson.predict(bound, PRESETS)
v, seed, dev = bound.values(), global_seed(), pick(device_preference()).type
fig, heads = labels(f"{S}.fig", figs.LABELS), labels(f"{S}.table", figs.TABLE)
names = option_names(f"{S}.models", experiment.NAMES)
zoo_facts = lesson.cached(16, ttl=None)(ca.zoo_facts)


@lesson.cached(128)
def stn_figure(digit: int, sliders: tuple, language: str) -> dict:
    view = ca.transform_digit(digit, experiment.theta(dict(zip(experiment.STN, sliders))))
    return freeze(figs.stn(view.image, view.grid, view.output, view.theta, labels(f"{S}.fig", figs.LABELS)))

@lesson.cached(256, ttl=None)
def train(config: ca.TrainConfig, dev: str) -> ca.TrainResult:
    return offload(ca.train, config, dev)   # in a training worker; deterministic, so shared by the class

@lesson.cached(256)
def probe(fn: str, config: ca.TrainConfig, dev: str, *args):   # shift test, equivariance, inside: ca.<fn>(model, ...)
    return getattr(ca, fn)(train(config, dev).model(), *args)

@lesson.cached(64, ttl=None)
def tuned(method: str, n: int, config: ca.FineTuneConfig, dev: str) -> float:
    return offload(ca.fine_tune, method, n, train(ca.pretrain_config(config), dev).state, config, dev)

def run_all(items: list, fn=None, key: str = "train") -> list | None:
    """Train (or fetch) every config (or ``fn(item)``) with progress and a Stop button; None if stopped or busy."""
    with progress.training(f"{S}.{key}", what=t(f"{S}.training"), job=items) as run:
        if run is None:
            return None
        out = [fn(item) if fn else train(item, dev) for item in run.track(items)]
    for run in out if fn is None else ():   # a run that diverged or stalled says so (its curve ends where it stopped)
        name = names[run.config.model.rstrip("0123456789")]
        if run.diverged_at is not None:
            st.warning(t(f"{S}.diverged", model=name, step=run.diverged_at, lr=run.config.lr), icon=":material/error:")
        elif run.final_acc < experiment.STALLED:
            st.warning(t(f"{S}.stalled", model=name, acc=100 * run.final_acc), icon=":material/warning:")
    return out

tab = dict(zip(experiment.TABS, st.tabs([t(f"{S}.tabs.{n}") for n in experiment.TABS], key=f"{S}.tab",
                                        on_change="rerun")))
if tab["stn"].open:
    with tab["stn"], safely():
        for name, col in zip(("digit", *experiment.STN), st.columns([1, 1.2, 1, 1, 1, 1])):
            control(bound, name, col)
        lesson.chart(thaw(stn_figure(v["digit"], tuple(v[k] for k in experiment.STN), lang())), f"{S}.stn_fig")
        st.caption(t(f"{S}.notice.stn"))
        st.latex(t(f"{S}.formula.grid"))
if tab["stn_trained"].open:
    with tab["stn_trained"], safely():
        control(bound, "stn_rotation")
        if runs := run_all(experiment.stn_configs(v, seed)):
            view = probe("stn_view", runs[0].config, dev, v["stn_rotation"], experiment.STN_SHIFT)
            lesson.chart(figs.stn_trained(view, fig), f"{S}.stn_view_fig")
            lesson.chart(figs.training(runs, names, fig, t(f"{S}.fig.stn_curves")), f"{S}.stn_curves_fig")
            st.caption(t(f"{S}.notice.stn_trained", **experiment.stn_note(runs, view)))
if tab["why"].open:
    with tab["why"], safely():
        for name, col in zip(("steps", "lr", "width", "hidden"), st.columns(4)):
            control(bound, name, col)
        if runs := run_all(experiment.why_configs(v, seed)):
            st.dataframe(figs.table(experiment.why_rows(runs, names), heads), hide_index=True)
            lesson.chart(figs.training(runs, names, fig, fig["curves_title"]), f"{S}.why_fig")
            ok = [r for r in runs if r.diverged_at is None]
            accs = [probe("shift_accuracy", r.config, dev, experiment.SHIFTS).accuracy for r in ok]
            lesson.chart(figs.shift_curves([names[r.config.model] for r in ok], experiment.np_shifts(), accs,
                                           fig, v["shift"]), f"{S}.shift_fig")
            st.caption(t(f"{S}.notice.shift", **experiment.shift_note(ok, accs, v["shift"])))
            control(bound, "shift")
            if runs[2].diverged_at is None:
                eq = probe("equivariance", runs[2].config, dev, v["digit"], v["shift"])
                lesson.chart(figs.equivariance(eq, fig, v["shift"]), f"{S}.eq_fig")
                st.caption(t(f"{S}.notice.equivariance", map=100 * eq.map_change, pooled=100 * eq.pooled_change))
        st.caption(t(f"{S}.notice.pooling_hurts"))
if tab["inside"].open:
    with tab["inside"], safely():
        for name, col in zip(("digit", "patch"), st.columns(2)):
            control(bound, name, col)
        if (runs := run_all(experiment.inside_configs(v, seed))) and not any(r.diverged_at for r in runs):
            ins = probe("inside", runs[0].config, dev, v["digit"], v["patch"])
            title = t(f"{S}.fig.explain_for", label=ins.label, target=ins.target, p=100 * ins.probs[ins.target])
            lesson.chart(figs.explain(ins, fig, title), f"{S}.explain_fig")
            lesson.chart(figs.feature_maps(ins.maps, fig), f"{S}.maps_fig")
            lesson.chart(figs.filters(ins.filters, fig), f"{S}.filters_fig")
            st.caption(t(f"{S}.notice.inside", patch=v["patch"]))
            lesson.chart(figs.se(probe("se_view", runs[1].config, dev, v["digit"]), fig), f"{S}.se_fig")
            st.caption(t(f"{S}.notice.se", gap=100 * runs[0].final_acc, se=100 * runs[1].final_acc))
if tab["zoo"].open:
    with tab["zoo"], safely():
        if runs := run_all(experiment.zoo_configs(seed)):
            st.dataframe(figs.table(experiment.zoo_rows(runs, zoo_facts, names), heads), hide_index=True)
            title = t(f"{S}.fig.zoo_title", steps=experiment.ZOO_STEPS)
            lesson.chart(figs.training(runs, names, fig, title), f"{S}.zoo_fig")
            st.caption(t(f"{S}.notice.zoo"))
if tab["residual"].open:
    with tab["residual"], safely():
        control(bound, "depth")
        st.latex(t(f"{S}.formula.residual"))
        if runs := run_all(experiment.residual_configs(v, seed)):
            plain, res = (r.grad_norms for r in runs)   # step 1's norms are those at initialisation
            lesson.chart(figs.grad_norms(plain[0], res[0], fig), f"{S}.grad_fig")
            st.caption(t(f"{S}.notice.grad", **experiment.grad_note(plain[0], res[0], v["depth"])))
            lesson.chart(figs.grad_history(plain, res, fig), f"{S}.grad_steps_fig")
            st.caption(t(f"{S}.notice.grad_steps", **experiment.grad_steps_note(runs)))
            lesson.chart(figs.training(runs, names, fig, t(f"{S}.fig.res_title", depth=v["depth"])), f"{S}.res_fig")
            st.caption(t(f"{S}.notice.residual", **experiment.residual_note(runs)))
if tab["augment"].open:
    with tab["augment"], safely():
        control(bound, "aug_n")
        if runs := run_all(experiment.aug_configs(v, seed)):
            lesson.chart(figs.augmentation(runs, (names["no_aug"], names["aug"]), fig), f"{S}.aug_fig")
            st.caption(t(f"{S}.notice.augment", **experiment.aug_note(runs)))
if tab["transfer"].open:
    with tab["transfer"], safely():
        control(bound, "shots")
        ft = ca.FineTuneConfig(seed=seed)
        if v["shots"] == 0:   # nothing to learn 5-9 from (ca.FineTuneConfig refuses it); the sweep still shows
            st.error(t(f"{S}.no_shots"), icon=":material/error:")
        pre = run_all([ca.pretrain_config(ft)])
        if acc := pre and run_all(experiment.ft_jobs(ft), lambda job: tuned(*job, ft, dev), "tune"):
            acc = experiment.by_method(ft, acc)
            lesson.chart(figs.fine_tune(ft.shots, acc, names, fig, v["shots"]), f"{S}.ft_fig")
            st.caption(t(f"{S}.notice.fine_tune", pre=100 * pre[0].final_acc, **experiment.ft_note(ft, acc)))
lesson.presets(bound, PRESETS)
lesson.code_that_ran(*experiment.code(next((n for n, tb in tab.items() if tb.open), "stn")))
sync_url(bound)
