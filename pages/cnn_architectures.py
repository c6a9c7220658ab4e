"""Lesson: CNNs that learn: spatial transformer, why convolution, inside a CNN, zoo, ResNet, fine-tuning (seeds)."""

import streamlit as st

from dlcore import cnn_architectures as ca
from dlcore.device import pick
from ui import lesson
from ui.controls import control
from ui.experiments import cnn_architectures as experiment
from ui.figures import cnn_architectures as figs
from ui.figures.common import freeze, thaw
from ui.i18n import labels, lang, option_names, t
from ui.runtime import heavy_slot, offload, safely
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


zoo_facts = lesson.cached(16, ttl=None)(ca.zoo_facts)
grad_norms = lesson.cached(16, ttl=None)(ca.layer_grad_norms)


def run_all(items: list, fn=None) -> list | None:
    """Train (or fetch) every config (or ``fn(item)``) with a progress bar; None while the training slots are busy."""
    with heavy_slot() as ok:
        if not ok:
            return None
        bar, out = st.progress(0.0, t(f"{S}.training")), []
        for i, item in enumerate(items, 1):
            out.append(fn(item) if fn else train(item, dev))
            bar.progress(i / len(items), t(f"{S}.training"))
        bar.empty()
    for run in out if fn is None else ():   # a run that diverged or stalled says so (its curve ends where it stopped)
        name = names[run.config.model.rstrip("0123456789")]
        if run.diverged_at is not None:
            st.warning(t(f"{S}.diverged", model=name, step=run.diverged_at, lr=run.config.lr), icon=":material/error:")
        elif run.final_acc < experiment.STALLED:
            st.warning(t(f"{S}.stalled", model=name, acc=100 * run.final_acc), icon=":material/warning:")
    return out


tabs = st.tabs([t(f"{S}.tabs.{name}") for name in experiment.TABS], key=f"{S}.tab", on_change="rerun")
if tabs[0].open:
    with tabs[0], safely():
        for name, col in zip(("digit", *experiment.STN), st.columns([1, 1.2, 1, 1, 1, 1])):
            control(bound, name, col)
        lesson.chart(thaw(stn_figure(v["digit"], tuple(v[k] for k in experiment.STN), lang())), f"{S}.stn_fig")
        st.caption(t(f"{S}.notice.stn"))
        st.latex(t(f"{S}.formula.grid"))
if tabs[1].open:
    with tabs[1]:
        for name, col in zip(("steps", "lr", "width", "hidden"), st.columns(4)):
            control(bound, name, col)
        with safely():
            runs = run_all(experiment.why_configs(v, seed))
            if runs:
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
if tabs[2].open:
    with tabs[2]:
        for name, col in zip(("digit", "patch"), st.columns(2)):
            control(bound, name, col)
        with safely():
            runs = run_all(experiment.inside_configs(v, seed))
            if runs and not any(r.diverged_at for r in runs):
                ins = probe("inside", runs[0].config, dev, v["digit"], v["patch"])
                title = t(f"{S}.fig.explain_for", label=ins.label, target=ins.target, p=100 * ins.probs[ins.target])
                lesson.chart(figs.explain(ins, fig, title), f"{S}.explain_fig")
                lesson.chart(figs.feature_maps(ins.maps, fig), f"{S}.maps_fig")
                lesson.chart(figs.filters(ins.filters, fig), f"{S}.filters_fig")
                st.caption(t(f"{S}.notice.inside", patch=v["patch"]))
                lesson.chart(figs.se(probe("se_view", runs[1].config, dev, v["digit"]), fig), f"{S}.se_fig")
                st.caption(t(f"{S}.notice.se", gap=100 * runs[0].final_acc, se=100 * runs[1].final_acc))
if tabs[3].open:
    with tabs[3], safely():
        runs = run_all(experiment.zoo_configs(seed))
        if runs:
            st.dataframe(figs.table(experiment.zoo_rows(runs, zoo_facts, names), heads), hide_index=True)
            title = t(f"{S}.fig.zoo_title", steps=experiment.ZOO_STEPS)
            lesson.chart(figs.training(runs, names, fig, title), f"{S}.zoo_fig")
            st.caption(t(f"{S}.notice.zoo"))
if tabs[4].open:
    with tabs[4]:
        control(bound, "depth")
        st.latex(t(f"{S}.formula.residual"))
        with safely():
            plain, res = (grad_norms(v["depth"], r, seed) for r in (False, True))
            lesson.chart(figs.grad_norms(plain, res, fig), f"{S}.grad_fig")
            st.caption(t(f"{S}.notice.grad", **experiment.grad_note(plain, res, v["depth"])))
            runs = run_all(experiment.residual_configs(v, seed))
            if runs:
                lesson.chart(figs.training(runs, names, fig, t(f"{S}.fig.res_title", depth=v["depth"])), f"{S}.res_fig")
                st.caption(t(f"{S}.notice.residual", **experiment.residual_note(runs)))
if tabs[5].open:
    with tabs[5]:
        control(bound, "shots")
        with safely():
            ft = ca.FineTuneConfig(seed=seed)
            if v["shots"] == 0:   # nothing to learn 5-9 from (ca.FineTuneConfig refuses it); the sweep still shows
                st.error(t(f"{S}.no_shots"), icon=":material/error:")
            pre = run_all([ca.pretrain_config(ft)])
            if acc := pre and run_all(experiment.ft_jobs(ft), lambda job: tuned(*job, ft, dev)):
                acc = experiment.by_method(ft, acc)
                lesson.chart(figs.fine_tune(ft.shots, acc, names, fig, v["shots"]), f"{S}.ft_fig")
                st.caption(t(f"{S}.notice.fine_tune", pre=100 * pre[0].final_acc, **experiment.ft_note(ft, acc)))
lesson.presets(bound, PRESETS)
lesson.code_that_ran(*experiment.code(next((n for n, tab in zip(experiment.TABS, tabs) if tab.open), "stn")))
sync_url(bound)
