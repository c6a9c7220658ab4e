"""Lesson: BatchNorm vs LayerNorm (GroupNorm, InstanceNorm): axes, batch size, train vs eval (seed 001, 004, 003)."""

import streamlit as st

from dlcore.device import pick
from dlcore.normalization import lab, training
from dlcore.normalization import layers as norm
from ui import lesson, progress
from ui.controls import control
from ui.experiments import normalization as experiment
from ui.figures import normalization as figs
from ui.figures.common import freeze, thaw
from ui.i18n import labels, lang, option_names, t
from ui.runtime import offload, safely
from ui.state import bind, device_preference, global_seed, sync_url

lesson.header("normalization")
lesson.concept("normalization", expanded=False)
bound = bind("normalization", experiment.SETTINGS)
st.session_state.update({bound.key(k): x for k, x in experiment.fit(bound.values()).items()})   # G divides C, ...
PRESETS = [lesson.Preset(name, values, {"normalization.tab": t(f"normalization.tabs.{experiment.TAB[name]}")})
           for name, values in experiment.PRESETS.items()]   # a preset opens its tab
lesson.predict(bound, PRESETS)
v, seed, dev = bound.values(), global_seed(), pick(device_preference()).type
kinds, fig = option_names("normalization.kinds", (*norm.KINDS, "none")), labels("normalization.fig", figs.LABELS)


@lesson.cached(64)
def axes_figures(kind: str, shape: tuple, index: tuple, groups: int, language: str) -> tuple[dict, dict]:
    mask, text = norm.norm_groups(kind, shape, index, groups).numpy(), labels("normalization.fig", figs.LABELS)
    title = t("normalization.fig.cube_title", kind=t(f"normalization.kinds.{kind}"))
    return freeze(figs.cube(mask, index, title=title, labels=text)), freeze(figs.cells(mask, index, labels=text))


@lesson.cached(256)
def train(config: training.TrainConfig, dev: str) -> training.TrainHistory:
    return offload(training.train, config, dev)   # in a training worker; the default grid is computed once


ROW = {"vertical_alignment": "bottom"}   # labels that wrap keep the widgets of a row level (issue 31)
real_batch, batch_noise, train_eval_drift, sequences = (lesson.cached(64)(f) for f in (
    experiment.real_batch, lab.batch_noise, lab.train_eval_drift, lab.sequences))   # dlcore calls, shared by the class
tabs = st.tabs([t(f"normalization.tabs.{n}") for n in experiment.TABS], key="normalization.tab", on_change="rerun")
if tabs[0].open:
    with tabs[0]:
        control(bound, "kind")
        for col, name in zip(c := st.columns(4, **ROW), ("n_size", "c_size", "s_size")):   # c[3]: the groups, below
            control(bound, name, col)
        c[3].select_slider(t("normalization.groups"), norm.divisors(v["c_size"]), key=bound.key("groups"),
                           disabled=v["kind"] != "group", help=t("normalization.help.groups"))   # fit: divides C
        shape, index = (v["n_size"], v["c_size"], v["s_size"]), (v["n"], v["c"], v["s"])
        cube, grid = axes_figures(v["kind"], shape, index, v["groups"], lang())
        left, right = st.columns([1, 1.15])
        lesson.chart(thaw(cube), "normalization.cube_fig", left)
        for formula in (f"sets.{v['kind']}", "sets.stats", "sets.affine"):
            right.latex(t(f"normalization.{formula}"))
        right.markdown(t(f"normalization.set_note.{v['kind']}", **experiment.set_note(v)))
        for col, name, size in zip(right.columns(3), "ncs", shape):   # fit: the picked cell is inside the cube
            col.number_input(t(f"normalization.index_{name}"), 0, size - 1, step=1, key=bound.key(name))
        cells = "normalization.cells_fig"   # a click on a cell picks it
        lesson.chart(thaw(grid), cells, selection_mode="points", on_select=lambda: st.session_state.update(
            {bound.key(k): i for k, i in experiment.picked_cell(st.session_state[cells]).items()}))
        st.caption(t("normalization.click_hint"))
        st.subheader(t("normalization.real_title"))
        for col, name in zip(st.columns(3, **ROW), ("real_n", "shift", "real_groups")):
            control(bound, name, col)
        with safely():
            mean, std, rows = real_batch(v["real_n"], v["shift"], v["real_groups"], v["kind"], seed, dev)
            title = t("normalization.fig.moments_title", kind=kinds[v["kind"]])
            lesson.chart(figs.moments_maps(mean, std, title=title, labels=fig), "normalization.moments_fig")
            check = labels("normalization.check", figs.CHECK_LABELS)
            st.dataframe(figs.check_table(rows, kinds, check), hide_index=True)
            st.caption(t("normalization.notice.check", diff=max(r.max_abs_diff for r in rows), shift=v["shift"]))
if tabs[1].open:
    with tabs[1]:
        for col, name in zip(st.columns([1.7, 1, 1], **ROW), ("layer", "channel", "repeats")):
            control(bound, name, col)
        with safely():
            res = batch_noise(experiment.noise_config(v, seed), dev)
            lesson.chart(figs.batch_noise(res, labels=fig), "normalization.noise_fig")
            st.markdown(t(f"normalization.notice.noise_{v['layer']}", **experiment.noise_note(res)))
            st.info(t("normalization.notice.batch_of_one", **experiment.one_note(seed)), icon=":material/looks_one:")
        st.subheader(t("normalization.drift_title"))
        for col, name in zip(st.columns(4, **ROW), ("momentum", "drift_batch", "drift_steps", "drift_until")):
            control(bound, name, col)
        with safely():
            d = train_eval_drift(experiment.drift_config(v, seed), dev)
            lesson.chart(figs.drift(d, v["drift_until"], labels=fig), "normalization.drift_fig")
            note = experiment.drift_note(d, v)
            settle = t(f"normalization.drift_end.{note['end']}", **note["end_at"])
            st.markdown(t("normalization.notice.drift", settle=settle, **note))
if tabs[2].open:
    with tabs[2], safely():
        c = st.columns([1.4, 1, 1, 1], **ROW)
        control(bound, "lengths", c[0], help=t("normalization.help.lengths", n=lab.MAX_SEQS, t=lab.MAX_SEQ_LEN))
        control(bound, "features", c[1])
        c[2].slider(t("normalization.feature"), 0, v["features"] - 1, key=bound.key("feature"))   # fit: < features
        control(bound, "extra_pad", c[3])
        if err := experiment.lengths_error(v):   # the example lengths are drawn instead
            why = t(f"normalization.length_errors.{err}", n=lab.MAX_SEQS, t=lab.MAX_SEQ_LEN)
            st.error(t("normalization.bad_lengths", why=why), icon=":material/error:")
        sq = sequences(experiment.sequence_config(v, seed), dev)
        lesson.chart(figs.sequences(sq, v["feature"], labels=fig), "normalization.seq_fig")
        lesson.chart(figs.padding_sweep(sq, v["feature"], v["extra_pad"], labels=fig), "normalization.sweep_fig")
        st.markdown(t("normalization.notice.sequences", **experiment.sequence_note(sq, v["feature"])))
if tabs[3].open:
    with tabs[3]:
        with st.form("normalization.train_form", border=False):
            control(bound, "methods")   # pills: every choice in sight
            c = st.columns([1.6, 1, 1, 1], **ROW)
            control(bound, "batches", c[0], max_selections=experiment.MAX_BATCHES)
            for col, name in zip(c[1:], ("lr", "steps", "train_groups")):
                control(bound, name, col)
            st.form_submit_button(t("normalization.train_btn"), icon=":material/model_training:", type="primary")
        configs, methods = experiment.train_configs(v, seed), [m for m in training.METHODS if m in v["methods"]]
        if not configs:
            st.info(t("normalization.pick_something"), icon=":material/info:")
        else:
            with progress.training("normalization.train", what="", job=configs) as run, safely():
                if run:   # each run cached alone
                    runs = [train(config, dev) for config in run.track(configs, lambda config, *_: t(
                        "normalization.progress", **figs.run_label(config, kinds)))]
                    title = t("normalization.fig.train_title", lr=v["lr"])
                    lesson.chart(figs.training(runs, v["batches"], methods, title=title, names=kinds, labels=fig),
                                 "normalization.train_fig")
                    for key, failed in experiment.failures(runs).items():
                        names = figs.run_names(failed, kinds, t("normalization.run_name"))
                        st.warning(t(f"normalization.{key}", runs=names), icon=":material/warning:")
                    st.dataframe(figs.accuracy_table(runs, methods, v["batches"], names=kinds, column=fig["column"],
                                                     index=t("normalization.final_acc")), column_config=None)
            st.caption(t("normalization.notice.train", lr=v["lr"]))
if tabs[4].open:
    with tabs[4], safely():
        c = st.columns([1, 1.3, 1.3, 1.2], vertical_alignment="bottom")
        for col, name in zip(c, ("a_channel", "gamma", "beta")):
            control(bound, name, col, label=t(f"normalization.{name.removeprefix('a_')}"))   # a_channel: "channel"
        back = {bound.key(k): x for k, x in experiment.given_back(v["a_channel"], seed, dev).items()}
        c[3].button(t("normalization.give_back"), key="normalization.give_back_btn", width="stretch",
                    on_click=st.session_state.update, args=(back,))
        a = lab.affine_view(v["gamma"], v["beta"], v["a_channel"], seed=seed, device=dev)
        lesson.chart(figs.affine(a, v["a_channel"], labels=fig), "normalization.affine_fig")
        st.markdown(t("normalization.notice.affine", **experiment.affine_note(a)))
st.markdown(t("normalization.notice.overall"))
lesson.presets(bound, PRESETS)
lesson.code_that_ran(*experiment.code(next((name for name, tab in zip(experiment.TABS, tabs) if tab.open), "axes")))
sync_url(bound)
