"""Lesson: adversarial attacks — FGSM, BIM and PGD under L-inf / L2 budgets, targeted or not, the 2D
geometry of PGD, robustness curves and adversarial training (seed 002, lecture 23)."""

import math

import numpy as np
import streamlit as st
import torch

from dlcore import adversarial as adv
from dlcore import classifiers as clf
from dlcore.data import digits
from dlcore.device import pick
from ui import lesson
from ui.experiments import adversarial as experiment
from ui.figures import adversarial as figs
from ui.figures.common import freeze, thaw
from ui.i18n import t
from ui.runtime import heavy_slot, offload, safely
from ui.state import Param, bind, device_preference, global_seed, sync_url

S = "adversarial"
FLOATS, INTS, CHOICES, N_TEST = experiment.FLOATS, experiment.INTS, experiment.CHOICES, experiment.N_TEST
UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp"]


def clamp_url() -> None:
    """Numbers in the link outside their range are clamped (with a note) instead of dropped."""
    notes = []
    for name, (lo, hi, _) in {**FLOATS, **INTS}.items():
        key, raw = f"{S}.{name}", st.query_params.get(f"{S}.{name}")
        try:
            v = float(raw) if raw is not None and key not in st.session_state else math.nan
        except ValueError:
            continue                                    # not a number: bind() reports it
        if math.isfinite(v) and not lo <= v <= hi:
            st.query_params[key] = str(type(lo)(min(max(v, lo), hi)))
            notes.append(t("adversarial.clamped", name=key, value=raw[:20], to=st.query_params[key]))
    if notes:
        st.warning("\n".join(f"- {n}" for n in notes), icon=":material/straighten:")


lesson.header(S)
lesson.concept(S, expanded=False)
clamp_url()
bound = bind(S, [Param.float(n, d, lo=lo, hi=hi) for n, (lo, hi, d) in FLOATS.items()]
             + [Param.int(n, d, lo=lo, hi=hi) for n, (lo, hi, d) in INTS.items()]
             + [Param.choice(n, opts[0], opts) for n, opts in CHOICES.items()]
             + [Param.bool(n, d) for n, d in experiment.BOOLS.items()]
             + [Param.int("target", experiment.DEFAULTS["target"], lo=0, hi=9)])
v = bound.values()
device = str(pick(device_preference()))


@st.cache_resource(show_spinner=False)
def digits_cnn(robust: bool, device: str) -> torch.nn.Module:
    return clf.load_digits_cnn(robust, device)


@st.cache_resource(show_spinner=False)
def moons_mlp(device: str) -> torch.nn.Module:
    return clf.load_moons_mlp(device)


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def decode(data: bytes) -> tuple[np.ndarray | None, str]:
    try:
        return clf.image_to_digit(data)[0, 0].numpy(), ""
    except clf.ImageRejected as e:
        return None, e.reason


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def attack_view(image: np.ndarray, label: int | None, robust: bool, cfg: adv.AttackConfig, device: str,
                words: tuple[str, ...]):
    r = adv.attack_digit(digits_cnn(robust, device), torch.from_numpy(image), label, cfg, device)
    titles = (words[0].format(k=r.pred, p=r.probs[r.pred]), words[1],
              words[2].format(k=r.pred_adv, p=r.probs_adv[r.pred_adv]), words[3])
    return r, freeze(figs.attack_figure(r.path_images, r.path_probs, label=r.label, target=cfg.target, titles=titles,
                                        title=words[4], prob_axis=words[5], class_axis=words[6], before=words[7],
                                        after=words[8], play=words[9], pause=words[10], step=words[11]))


@st.cache_data(max_entries=4, show_spinner=False)   # no ttl: one computation serves the whole class
def curves(norm: str, device: str) -> adv.RobustnessCurves:
    x, y = digits("test")
    models = {"standard": digits_cnn(False, device), "robust": digits_cnn(True, device)}
    return offload(adv.robustness_curves, models, x.to(device), y.to(device), norm)   # ~6 s: in a worker


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def geometry_view(px: float, py: float, eps: float, alpha: float, steps: int, norm: str, random_start: bool,
                  seed: int, device: str, words: tuple[str, ...]):
    model = moons_mlp(device)
    grid = adv.decision_grid(model, 81, device)
    label, path = experiment.geometry(model, {"geo_x": px, "geo_y": py, "geo_eps": eps, "geo_alpha": alpha,
                                              "geo_steps": steps, "geo_norm": norm, "geo_random": random_start},
                                      seed, device)
    pts, lab = clf.moons_unit(240, noise=0.1, seed=0)
    names = dict(zip(("class0", "class1", "boundary", "linf", "l2", "start", "step", "projection", "iterate"), words))
    balls = {n: adv.ball_outline((px, py), eps, n) for n in adv.NORMS}
    fig = figs.geometry_figure(grid.xs, grid.prob, pts.numpy(), lab.numpy(), (px, py), eps, norm, path.start,
                               path.stepped, path.projected, balls, names=names, title=words[9], x=words[10],
                               y=words[11], play=words[12], pause=words[13], step=words[14])
    return label, path, freeze(fig)


fmt = {n: {o: t(f"adversarial.options.{n}.{o}") for o in opts}.get for n, opts in CHOICES.items()}
tab_names = ("attack", "geometry", "curves")
tabs = st.tabs([t(f"adversarial.tabs.{n}") for n in tab_names], key="adversarial.tab", on_change="rerun")
l2 = v["norm"] == "l2"
eps, alpha = (v["eps_l2"], v["alpha_l2"]) if l2 else (v["eps"], v["alpha"])
if tabs[0].open:
    with tabs[0]:
        left, right = st.columns([1, 2.2], gap="medium")
        with left:
            for name in ("model", "method", "norm"):
                st.segmented_control(t(f"adversarial.{name}"), CHOICES[name], format_func=fmt[name], key=f"{S}.{name}",
                                     required=True, help=t(f"adversarial.help.{name}"))
            e_key, a_key = ("eps_l2", "alpha_l2") if l2 else ("eps", "alpha")
            st.slider(t(f"adversarial.{e_key}"), *FLOATS[e_key][:2], step=0.05 if l2 else 0.005, key=f"{S}.{e_key}",
                      help=t("adversarial.help.eps"))
            iterative = v["method"] != "fgsm"
            st.slider(t(f"adversarial.{a_key}"), *FLOATS[a_key][:2], step=0.01 if l2 else 0.001, key=f"{S}.{a_key}",
                      disabled=not iterative, help=t("adversarial.help.alpha"))
            st.slider(t("adversarial.steps"), 1, adv.MAX_STEPS, key=f"{S}.steps", disabled=not iterative)
            st.toggle(t("adversarial.random_start"), key=f"{S}.random_start", disabled=v["method"] != "pgd",
                      help=t("adversarial.help.random_start"))
            st.toggle(t("adversarial.targeted"), key=f"{S}.targeted", help=t("adversarial.help.targeted"))
            if v["targeted"]:
                st.selectbox(t("adversarial.target"), list(range(10)), key=f"{S}.target")
            st.radio(t("adversarial.source"), CHOICES["source"], format_func=fmt["source"], key=f"{S}.source",
                     horizontal=True)
            x_test, y_test = digits("test")
            image, label = x_test[v["index"], 0].numpy(), int(y_test[v["index"]])
            if v["source"] == "test":
                st.number_input(t("adversarial.index"), 0, N_TEST - 1, step=1, key=f"{S}.index",
                                help=t("adversarial.help.index", label=label))
            else:
                up = st.file_uploader(t("adversarial.upload"), type=UPLOAD_TYPES, max_upload_size=1,
                                      key=f"{S}.upload", help=t("adversarial.help.upload"))
                decoded, why = decode(up.getvalue()) if up is not None else (None, "none")
                if decoded is not None:
                    image, label = decoded, None
                elif why == "none":
                    st.info(t("adversarial.upload_hint"), icon=":material/upload:")
                else:
                    st.error(t(f"adversarial.bad_upload.{why}"), icon=":material/broken_image:")
        target = v["target"] if v["targeted"] else None
        words = tuple(t(f"adversarial.fig.{w}") for w in ("original", "perturbation", "adversarial", "probs", "title",
                      "prob_axis", "class_axis", "before", "after", "play", "pause", "iteration"))
        with right, safely():
            r, spec = attack_view(image, label, v["model"] == "robust", experiment.attack_config(v, global_seed()),
                                  device, words)
            m = st.columns(4)
            m[0].metric(t("adversarial.metric.prediction"), f"{r.pred} → {r.pred_adv}")
            m[1].metric("‖δ‖∞", f"{r.linf:.3f}", help=t("adversarial.help.linf"))
            m[2].metric("‖δ‖₂", f"{r.l2:.3f}", help=t("adversarial.help.l2"))
            m[3].metric(t("adversarial.metric.attack"), t(f"adversarial.metric.{'success' if r.success else 'failure'}"))
            st.plotly_chart(thaw(spec), key="adversarial.attack_fig")
            if target is not None and target == r.label:
                st.info(t("adversarial.target_is_label"), icon=":material/info:")
            st.caption(t("adversarial.notice.attack", y=r.label, p=r.probs[r.label], k=r.pred_adv,
                         q=r.probs_adv[r.pred_adv], eps=eps, norm=fmt["norm"](v["norm"])))
if tabs[1].open:
    with tabs[1]:
        left, right = st.columns([1, 2.2], gap="medium")
        with left:
            st.segmented_control(t("adversarial.norm"), adv.NORMS, format_func=fmt["norm"], key=f"{S}.geo_norm",
                                 required=True)
            for name, step in (("geo_x", 0.01), ("geo_y", 0.01), ("geo_eps", 0.01), ("geo_alpha", 0.005)):
                st.slider(t(f"adversarial.{name}"), *FLOATS[name][:2], step=step, key=f"{S}.{name}")
            st.slider(t("adversarial.geo_steps"), *INTS["geo_steps"][:2], key=f"{S}.geo_steps")
            st.toggle(t("adversarial.random_start"), key=f"{S}.geo_random")
        words = tuple(t(f"adversarial.geo.{w}") for w in ("class0", "class1", "boundary", "linf", "l2", "start", "step",
                      "projection", "iterate", "title", "x", "y")) + (t("adversarial.fig.play"),
                                                                      t("adversarial.fig.pause"), t("adversarial.fig.iteration"))
        with right, safely():
            label, path, spec = geometry_view(v["geo_x"], v["geo_y"], v["geo_eps"], v["geo_alpha"], v["geo_steps"],
                                              v["geo_norm"], v["geo_random"], global_seed(), device, words)
            st.plotly_chart(thaw(spec), key="adversarial.geometry_fig")
            st.caption(t("adversarial.notice.geometry", c=label, p=path.prob[0], q=path.prob[-1],
                         n=int((path.moved > 1e-6).sum()), steps=len(path.moved)))
if tabs[2].open:
    with tabs[2]:
        st.segmented_control(t("adversarial.norm"), adv.NORMS, format_func=fmt["norm"], key=f"{S}.norm", required=True)
        with heavy_slot() as ok, safely():
            if ok:
                with st.spinner(t("adversarial.curves_spinner")):
                    c = curves(v["norm"], device)
                names = {f"{m}/{a}": t(f"adversarial.curve.{m}_{a}") for m in CHOICES["model"] for a in ("fgsm", "pgd")}
                st.plotly_chart(figs.curves_figure(c.eps, c.accuracy, eps, names=names, title=t("adversarial.curve.title"),
                                                   x=t(f"adversarial.curve.x_{v['norm']}"), y=t("adversarial.curve.y"),
                                                   current_name=t("adversarial.curve.current")), key="adversarial.curves_fig")
                i = int(np.abs(c.eps - eps).argmin())
                st.caption(t("adversarial.notice.curves", e=c.eps[i], s0=c.accuracy["standard/pgd"][0],
                             r0=c.accuracy["robust/pgd"][0], s=c.accuracy["standard/pgd"][i],
                             r=c.accuracy["robust/pgd"][i], f=c.accuracy["standard/fgsm"][i]))

st.markdown(t("adversarial.notice.overall"))
tab_of = {n: t("adversarial.tabs." + ("geometry" if n in experiment.GEOMETRY_PRESETS else "attack")) for n in experiment.PRESETS}
lesson.presets(bound, [lesson.Preset(n, values, {"adversarial.tab": tab_of[n]}) for n, values in experiment.PRESETS.items()])
lesson.code_that_ran(adv.attack_loss, adv.fgsm, adv.pgd_iterates, adv.ascent_step, adv.project, adv.to_box,
                     adv.attack_digit, adv.robustness_curves, clf.load_digits_cnn, clf.image_to_digit)
sync_url(bound)
