"""Lesson: BatchNorm vs LayerNorm (and GroupNorm, InstanceNorm) — which axes, batch size, train vs eval (seed 001, 004, 003)."""

import numpy as np
import pandas as pd
import streamlit as st

from dlcore import norm
from dlcore import norm_lab as lab
from dlcore import norm_training as training
from dlcore.device import pick
from ui import lesson
from ui.experiments import normalization as experiment
from ui.figures import normalization as figs
from ui.figures.common import freeze, thaw
from ui.i18n import lang, strings, t
from ui.runtime import heavy_slot, offload, safely
from ui.state import Param, bind, device_preference, global_seed, sync_url

S = "normalization"
TABS = ("axes", "batch", "sequences", "train", "affine")
SHIFTS, MOMENTA = (0.0, 100.0, 10000.0), (0.01, 0.03, 0.1, 0.3, 0.5, 0.9, 1.0)
DRIFT_BATCHES, TRAIN_BATCHES = (2, 4, 8, 16, 32, 64, 128, 256), (2, 4, 8, 16, 32, 64, 128)
LRS, STEPS = (0.01, 0.03, 0.1, 0.3, 1.0, 2.0, 3.0), (100, 200, 300, 500)
NC, CC, SC = lab.MAX_CUBE

lesson.header(S)
lesson.concept(S, expanded=False)
D = experiment.DEFAULTS
bound = bind(S, [
    Param.choice("kind", D["kind"], norm.KINDS), Param.int("n_size", D["n_size"], lo=2, hi=NC),
    Param.int("c_size", D["c_size"], lo=2, hi=CC), Param.int("s_size", D["s_size"], lo=2, hi=SC),
    Param.int("groups", D["groups"], lo=1, hi=CC), Param.int("n", D["n"], lo=0, hi=NC - 1),
    Param.int("c", D["c"], lo=0, hi=CC - 1), Param.int("s", D["s"], lo=0, hi=SC - 1), Param.int("real_n", D["real_n"], lo=2, hi=64),
    Param.choice("shift", D["shift"], SHIFTS), Param.choice("real_groups", D["real_groups"], [1, 2, 4, 8]),
    Param.choice("layer", D["layer"], lab.LAYERS), Param.int("channel", D["channel"], lo=0, hi=7),
    Param.int("repeats", D["repeats"], lo=20, hi=lab.MAX_REPEATS), Param.choice("momentum", D["momentum"], MOMENTA),
    Param.choice("drift_batch", D["drift_batch"], DRIFT_BATCHES),
    *(Param.int(k, D[k], lo=lo, hi=lab.MAX_DRIFT_STEPS) for k, lo in (("drift_steps", 20), ("drift_until", 0))),
    Param.text("lengths", D["lengths"], max_len=40), Param.int("features", D["features"], lo=2, hi=lab.MAX_FEATURES),
    Param.int("feature", D["feature"], lo=0, hi=lab.MAX_FEATURES - 1), Param.int("extra_pad", D["extra_pad"], lo=0, hi=lab.MAX_EXTRA_PAD),
    Param.multi("methods", D["methods"], training.METHODS), Param.multi("batches", D["batches"], TRAIN_BATCHES),
    Param.choice("lr", D["lr"], LRS), Param.choice("steps", D["steps"], STEPS), Param.choice("train_groups", D["train_groups"], [1, 2, 4, 8]),
    Param.float("gamma", D["gamma"], lo=0.0, hi=3.0), Param.float("beta", D["beta"], lo=-3.0, hi=3.0),
    Param.int("a_channel", D["a_channel"], lo=0, hi=7),
])
seed, dev = global_seed(), pick(device_preference()).type
names = {k: t(f"normalization.kinds.{k}") for k in (*norm.KINDS, "none")}
L = {k.removeprefix("normalization.fig."): v for k, v in strings(lang()).items() if k.startswith("normalization.fig.")}
ss = lambda name: st.session_state[f"{S}.{name}"]  # a bound widget's current value


def on_click() -> None:
    points = st.session_state[f"{S}.cells_fig"]["selection"]["points"]
    if points and points[0].get("customdata") is not None:
        for name, value in zip("ncs", points[0]["customdata"]):
            st.session_state[f"{S}.{name}"] = int(value)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def axes_figures(kind: str, shape: tuple, index: tuple, groups: int, title: str, labels: dict) -> tuple[dict, dict, int]:
    mask = norm.norm_groups(kind, shape, index, groups).numpy()
    return freeze(figs.cube(mask, index, title=title, labels=labels)), freeze(figs.cells(mask, index, labels=labels)), \
        int(mask.sum())


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def real_batch(n: int, shift: float, groups: int, kind: str, seed: int, dev: str):
    x = lab.conv_activations(n, seed, shift, device=dev)
    m = norm.moments(kind, x, groups)
    return m.mean.cpu().numpy(), m.std.cpu().numpy(), lab.compare_with_torch(x, groups, seed=seed)


@st.cache_data(max_entries=256, ttl=3600, show_spinner=False)
def run(name: str, config, dev: str):
    """``<name>(config, dev)``: lab.batch_noise, lab.train_eval_drift, lab.sequences or training.train, keyed on
    the frozen config's plain fields; a training run of the default grid is computed once for the whole class."""
    fn = getattr(training if name == "train" else lab, name)
    return offload(fn, config, dev) if name == "train" else fn(config, dev)   # training runs in a worker


tabs = st.tabs([t(f"normalization.tabs.{name}") for name in TABS], key=f"{S}.tab", on_change="rerun")
if tabs[0].open:
    with tabs[0]:
        c = [st.container()] + st.columns(4)
        c[0].segmented_control(t("normalization.kind"), norm.KINDS, key=f"{S}.kind", required=True, format_func=names.get)
        for col, name, hi in ((c[1], "n_size", NC), (c[2], "c_size", CC), (c[3], "s_size", SC)):
            col.slider(t(f"normalization.{name}"), 2, hi, key=f"{S}.{name}")
        divisors = [g for g in range(1, ss("c_size") + 1) if ss("c_size") % g == 0]
        st.session_state[f"{S}.groups"] = max(g for g in divisors if g <= ss("groups"))   # a divisor of C
        c[4].select_slider(t("normalization.groups"), divisors, key=f"{S}.groups", disabled=ss("kind") != "group",
                           help=t("normalization.help.groups"))
        for name, size in (("n", "n_size"), ("c", "c_size"), ("s", "s_size")):   # keep the picked cell inside
            st.session_state[f"{S}.{name}"] = min(ss(name), ss(size) - 1)
        v = bound.values()
        shape, index = (v["n_size"], v["c_size"], v["s_size"]), (v["n"], v["c"], v["s"])
        cube, grid, m = axes_figures(v["kind"], shape, index, v["groups"], L["cube_title"].format(kind=names[v["kind"]]), L)
        left, right = st.columns([1, 1.15])
        left.plotly_chart(thaw(cube), key=f"{S}.cube_fig")
        with right:
            st.latex(t(f"normalization.sets.{v['kind']}"))
            st.latex(t("normalization.sets.stats"))
            st.latex(t("normalization.sets.affine"))
            st.markdown(t(f"normalization.set_note.{v['kind']}", n=v["n"], c=v["c"], s=v["s"], m=m, N=shape[0],
                          C=shape[1], S=shape[2], G=v["groups"], size=shape[1] // v["groups"],
                          sets=norm.set_count(v["kind"], shape, v["groups"])))
            for col, name, size in zip(st.columns(3), "ncs", shape):
                col.number_input(t(f"normalization.index_{name}"), 0, size - 1, step=1, key=f"{S}.{name}")
        st.plotly_chart(thaw(grid), key=f"{S}.cells_fig", on_select=on_click, selection_mode="points")
        st.caption(t("normalization.click_hint"))
        st.subheader(t("normalization.real_title"))
        r = st.columns(3)
        r[0].slider(t("normalization.real_n"), 2, 64, key=f"{S}.real_n")
        r[1].select_slider(t("normalization.shift"), SHIFTS, key=f"{S}.shift", format_func=lambda x: f"{x:g}",
                           help=t("normalization.help.shift"))
        r[2].select_slider(t("normalization.real_groups"), [1, 2, 4, 8], key=f"{S}.real_groups")
        with safely():
            mean, std, rows = real_batch(v["real_n"], v["shift"], v["real_groups"], v["kind"], seed, dev)
            title = L["moments_title"].format(kind=names[v["kind"]])
            st.plotly_chart(figs.moments_maps(mean, std, title=title, labels=L), key=f"{S}.moments_fig")
            df = pd.DataFrame(rows).replace({"kind": names, "mode": {m: t(f"normalization.check.{m}") for m in ("train", "eval")}})
            st.dataframe(df.rename(columns={c: t(f"normalization.check.{c}") for c in df.columns}), hide_index=True,
                         column_config={t(f"normalization.check.{c}"): st.column_config.NumberColumn(format=f)
                                        for c, f in (("max_abs_diff", "%.2e"), ("max_mean", "%.1e"), ("std_lo", "%.5f"),
                                                     ("std_hi", "%.5f"))})
            st.caption(t("normalization.notice.check", diff=max(r.max_abs_diff for r in rows), shift=v["shift"]))
if tabs[1].open:
    with tabs[1]:
        c = st.columns([1.7, 1, 1])
        c[0].segmented_control(t("normalization.layer"), lab.LAYERS, key=f"{S}.layer", required=True,
                               format_func=lambda k: t(f"normalization.layers.{k}"))
        c[1].slider(t("normalization.channel"), 0, 7, key=f"{S}.channel")
        c[2].slider(t("normalization.repeats"), 20, lab.MAX_REPEATS, step=10, key=f"{S}.repeats")
        v = bound.values()
        with safely():
            res = run("batch_noise", experiment.noise_config(v, seed), dev)
            st.plotly_chart(figs.batch_noise(res, labels=L), key=f"{S}.noise_fig")
            one = lab.batch_of_one(seed)
            st.markdown(t(f"normalization.notice.noise_{v['layer']}", b2=res.bn_deviation[1], b128=res.bn_deviation[-1]))
            st.info(t("normalization.notice.batch_of_one", diff=one.conv_bn_minus_in, error=one.fc_error), icon=":material/looks_one:")
        st.subheader(t("normalization.drift_title"))
        c = st.columns(4)
        c[0].select_slider(t("normalization.momentum"), MOMENTA, key=f"{S}.momentum", help=t("normalization.help.momentum"))
        c[1].select_slider(t("normalization.drift_batch"), DRIFT_BATCHES, key=f"{S}.drift_batch")
        for col, name, lo in ((c[2], "drift_steps", 20), (c[3], "drift_until", 0)):
            col.slider(t(f"normalization.{name}"), lo, lab.MAX_DRIFT_STEPS, step=10, key=f"{S}.{name}",
                       help=t(f"normalization.help.{name}"))
        v = bound.values()
        with safely():
            d = run("train_eval_drift", experiment.drift_config(v, seed), dev)
            st.plotly_chart(figs.drift(d, v["drift_until"], labels=L), key=f"{S}.drift_fig")
            settle = (t("normalization.drift_end.settled", step=int(np.argmax(d.mismatch < 0.1)) + 1)
                      if (d.mismatch < 0.1).any() else t("normalization.drift_end.never", steps=v["drift_steps"]))
            st.markdown(t("normalization.notice.drift", first=d.mismatch[0], settle=settle, m=v["momentum"],
                          lag=round((1 - v["momentum"]) / v["momentum"])))
if tabs[2].open:
    with tabs[2]:
        c = st.columns([1.4, 1, 1, 1])
        c[0].text_input(t("normalization.lengths"), key=f"{S}.lengths", max_chars=40,
                        help=t("normalization.help.lengths", n=lab.MAX_SEQS, t=lab.MAX_SEQ_LEN))
        c[1].slider(t("normalization.features"), 2, lab.MAX_FEATURES, key=f"{S}.features")
        st.session_state[f"{S}.feature"] = min(ss("feature"), ss("features") - 1)
        c[2].slider(t("normalization.feature"), 0, ss("features") - 1, key=f"{S}.feature")
        c[3].slider(t("normalization.extra_pad"), 0, lab.MAX_EXTRA_PAD, key=f"{S}.extra_pad", help=t("normalization.help.extra_pad"))
        v = bound.values()
        try:
            lab.parse_lengths(v["lengths"])
        except ValueError as err:
            st.error(t("normalization.bad_lengths", why=t(f"normalization.length_errors.{err}", n=lab.MAX_SEQS,
                                                            t=lab.MAX_SEQ_LEN)), icon=":material/error:")
            v = v | {"lengths": D["lengths"]}
        with safely():
            sq = run("sequences", experiment.sequence_config(v, seed), dev)
            f = v["feature"]
            st.plotly_chart(figs.sequences(sq, f, labels=L), key=f"{S}.seq_fig")
            st.plotly_chart(figs.padding_sweep(sq, f, v["extra_pad"], labels=L), key=f"{S}.sweep_fig")
            st.markdown(t("normalization.notice.sequences", bn=sq.bn_mean[f], real=sq.real_mean[f],
                          pad=int((~sq.mask).sum()), total=sq.mask.size))
if tabs[3].open:
    with tabs[3]:
        st.session_state[f"{S}.batches"] = sorted(ss("batches"))[:3]   # a URL may list more than the widget takes
        with st.form(f"{S}.train_form", border=False):
            c = st.columns([2, 1.6, 1, 1, 1])
            c[0].multiselect(t("normalization.methods"), training.METHODS, key=f"{S}.methods", format_func=names.get)
            c[1].multiselect(t("normalization.batches"), TRAIN_BATCHES, key=f"{S}.batches", max_selections=3)
            c[2].select_slider(t("normalization.lr"), LRS, key=f"{S}.lr", format_func=lambda x: f"{x:g}")
            c[3].select_slider(t("normalization.steps"), STEPS, key=f"{S}.steps")
            c[4].select_slider(t("normalization.train_groups"), [1, 2, 4, 8], key=f"{S}.train_groups")
            st.form_submit_button(t("normalization.train_btn"), icon=":material/model_training:", type="primary")
        v = bound.values()
        methods = [m for m in training.METHODS if m in v["methods"]]
        batches = v["batches"]
        if not methods or not batches:
            st.info(t("normalization.pick_something"), icon=":material/info:")
        else:
            runs, title = [], L["train_title"].format(lr=v["lr"])
            with heavy_slot() as ok, safely():
                if ok:
                    bar = st.progress(0.0)
                    configs = experiment.train_configs(v, seed)
                    for k, config in enumerate(configs):   # each run cached alone
                        runs.append(run("train", config, dev))
                        bar.progress((k + 1) / len(configs), text=t("normalization.progress", method=names[config.method],
                                                                     b=config.batch))
                    bar.empty()
                    st.plotly_chart(figs.training(runs, batches, methods, title=title, names=names, labels=L),
                                    key=f"{S}.train_fig")
                    for key, failed in (("diverged", lambda r: r.diverged_at is not None),
                                        ("stalled", lambda r: r.diverged_at is None and r.test_acc[-1] < 0.2)):
                        bad = [t("normalization.run_name", method=names[r.config.method], b=r.config.batch) for r in runs if failed(r)]
                        if bad:
                            st.warning(t(f"normalization.{key}", runs=", ".join(bad)), icon=":material/warning:")
                    acc = pd.DataFrame([[r.test_acc[-1] for r in runs[i::len(methods)]] for i in range(len(methods))],
                                       index=[names[m] for m in methods], columns=[L["column"].format(b=b) for b in batches])
                    st.dataframe(acc.rename_axis(t("normalization.final_acc")), column_config=None)
            st.caption(t("normalization.notice.train", lr=v["lr"]))
if tabs[4].open:
    with tabs[4]:
        v = bound.values()
        view0 = lab.affine_view(1.0, 0.0, v["a_channel"], seed=seed, device=dev)

        def give_back() -> None:
            st.session_state[f"{S}.gamma"] = float(np.clip(view0.std, 0.0, 3.0))
            st.session_state[f"{S}.beta"] = float(np.clip(view0.mean, -3.0, 3.0))

        c = st.columns([1, 1.3, 1.3, 1.2], vertical_alignment="bottom")
        c[0].slider(t("normalization.channel"), 0, 7, key=f"{S}.a_channel")
        c[1].slider(t("normalization.gamma"), 0.0, 3.0, step=0.01, key=f"{S}.gamma", help=t("normalization.help.gamma"))
        c[2].slider(t("normalization.beta"), -3.0, 3.0, step=0.01, key=f"{S}.beta", help=t("normalization.help.beta"))
        c[3].button(t("normalization.give_back"), key=f"{S}.give_back_btn", on_click=give_back, width="stretch")
        v = bound.values()
        with safely():
            a = lab.affine_view(v["gamma"], v["beta"], v["a_channel"], seed=seed, device=dev)
            st.plotly_chart(figs.affine(a, v["a_channel"], labels=L), key=f"{S}.affine_fig")
            st.markdown(t("normalization.notice.affine", mean=a.mean, std=a.std, kept_x=100 * a.kept_x,
                          kept_y=100 * a.kept_y, back=float(np.abs(a.y - a.x).max())))

st.markdown(t("normalization.notice.overall"))
tab = {name: t(f"normalization.tabs.{name}") for name in TABS}
lesson.presets(bound, [lesson.Preset(name, values, extra={f"{S}.tab": tab[experiment.TAB[name]]})
                       for name, values in experiment.PRESETS.items()])
by_tab = [[norm.norm_groups, norm.moments, lab.compare_with_torch], [lab.batch_noise, lab.train_eval_drift],
          [norm.masked_batch_norm, lab.sequences], [training.small_cnn, training.train], [lab.affine_view]]
lesson.code_that_ran(norm.batch_norm, norm.layer_norm, norm.instance_norm, norm.group_norm, norm.update_running_stats,
                     norm.batch_norm_eval, *next((fns for tb, fns in zip(tabs, by_tab) if tb.open), by_tab[0]))
sync_url(bound)
