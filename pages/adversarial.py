"""Lesson: adversarial attacks — FGSM, BIM and PGD under L-inf / L2 budgets, targeted or not, the 2D
geometry of PGD, robustness curves and adversarial training (seed 002, lecture 23)."""

import numpy as np
import streamlit as st
import torch

from dlcore import adversarial as adv
from dlcore import classifiers as clf
from dlcore.data import digits
from dlcore.device import pick
from ui import lesson
from ui.controls import control
from ui.experiments import adversarial as experiment
from ui.figures import adversarial as figs
from ui.figures.common import freeze, thaw
from ui.i18n import labels, lang, option_names, t
from ui.runtime import heavy_slot, offload, safely
from ui.state import bind, device_preference, global_seed, sync_url

S = "adversarial"

digits_cnn = st.cache_resource(show_spinner=False)(clf.load_digits_cnn)   # read-only shared models: (robust, device)
moons_mlp = st.cache_resource(show_spinner=False)(clf.load_moons_mlp)     # (device)


@lesson.cached(32)
def decode(data: bytes) -> tuple[np.ndarray | None, str]:
    """The uploaded picture as an 8x8 digit, or None and the reason it was refused (dlcore checks it)."""
    try:
        return clf.image_to_digit(data)[0, 0].numpy(), ""
    except clf.ImageRejected as e:
        return None, e.reason


@lesson.cached(64)
def attack_view(image: np.ndarray, label: int | None, robust: bool, config: adv.AttackConfig, device: str,
                language: str) -> tuple[adv.AttackResult, dict]:
    r = adv.attack_digit(digits_cnn(robust, device), torch.from_numpy(image), label, config, device)
    names = {**labels("adversarial.fig", figs.ATTACK_LABELS),
             "original": t("adversarial.fig.original", k=r.pred, p=r.probs[r.pred]),
             "adversarial": t("adversarial.fig.adversarial", k=r.pred_adv, p=r.probs_adv[r.pred_adv])}
    return r, freeze(figs.attack_figure(r.path_images, r.path_probs, label=r.label, target=config.target, labels=names))


@lesson.cached(4, ttl=None)   # one computation serves the whole class
def curves(norm: str, device: str) -> adv.RobustnessCurves:
    x, y = digits("test")
    models = {"standard": digits_cnn(False, device), "robust": digits_cnn(True, device)}
    return offload(adv.robustness_curves, models, x.to(device), y.to(device), norm)   # ~6 s: in a worker


@lesson.cached(64)
def geometry_view(settings: dict, seed: int, device: str, language: str) -> tuple[int, adv.PGDPath, dict]:
    model = moons_mlp(device)
    grid = adv.decision_grid(model, 81, device)
    label, path = experiment.geometry(model, settings, seed, device)
    pts, classes = clf.moons_unit(240, noise=0.1, seed=0)
    point, eps = (settings["geo_x"], settings["geo_y"]), settings["geo_eps"]
    balls = {n: adv.ball_outline(point, eps, n) for n in adv.NORMS}
    names = {**labels("adversarial.geo", figs.GEOMETRY_LABELS), **labels("adversarial.fig", figs.PLAYER_LABELS)}
    return label, path, freeze(figs.geometry_figure(grid.xs, grid.prob, pts.numpy(), classes.numpy(), point, eps,
                                                    settings["geo_norm"], path.start, path.stepped, path.projected,
                                                    balls, labels=names))


lesson.header(S)
lesson.concept(S, expanded=False)
bound = bind(S, experiment.SETTINGS)
PRESETS = [lesson.Preset(n, values, {"adversarial.tab": t(f"adversarial.tabs.{experiment.tab_of(n)}")})
           for n, values in experiment.PRESETS.items()]   # a preset opens its tab
lesson.predict(bound, PRESETS)
v, device = bound.values(), str(pick(device_preference()))
tabs = st.tabs([t(f"{S}.tabs.{n}") for n in ("attack", "geometry", "curves")], key=f"{S}.tab", on_change="rerun")
norm_names = option_names("adversarial.options.norm", adv.NORMS)
eps = v["eps_l2"] if v["norm"] == "l2" else v["eps"]
if tabs[0].open:
    with tabs[0]:
        left, right = st.columns([1, 2.2], gap="medium")
        with left:
            l2 = v["norm"] == "l2"
            for name in ("model", "method", "norm", "eps_l2" if l2 else "eps"):
                control(bound, name)
            shown = {"pgd": 3, "bim": 2}.get(v["method"], 0)   # FGSM takes one step of size eps: nothing to set
            for name in ("alpha_l2" if l2 else "alpha", "steps", "random_start")[:shown]:
                control(bound, name)
            if not shown:
                st.caption(t(f"{S}.fgsm_one_step"))
            control(bound, "targeted")
            if v["targeted"]:
                control(bound, "target")
            control(bound, "source", horizontal=True)
            x_test, y_test = digits("test")
            image, label = x_test[v["index"], 0].numpy(), int(y_test[v["index"]])
            if v["source"] == "test":
                control(bound, "index", help=t("adversarial.help.index", label=label))
            else:
                up = st.file_uploader(t("adversarial.upload"), type=list(clf.UPLOAD_TYPES), max_upload_size=1,
                                      key=f"{S}.upload", help=t("adversarial.help.upload"))
                decoded, why = decode(up.getvalue()) if up is not None else (None, "none")
                if decoded is not None:
                    image, label = decoded, None
                elif why == "none":
                    st.info(t("adversarial.upload_hint"), icon=":material/upload:")
                else:
                    st.error(t(f"adversarial.bad_upload.{why}"), icon=":material/broken_image:")
        with right, safely():
            config = experiment.attack_config(v, global_seed())
            r, spec = attack_view(image, label, v["model"] == "robust", config, device, lang())
            m = st.columns(4)
            m[0].metric(t("adversarial.metric.prediction"), f"{r.pred} → {r.pred_adv}")
            m[1].metric("‖δ‖∞", f"{r.linf:.3f}", help=t("adversarial.help.linf"))
            m[2].metric("‖δ‖₂", f"{r.l2:.3f}", help=t("adversarial.help.l2"))
            m[3].metric(t("adversarial.metric.attack"),
                        t("adversarial.metric.success") if r.success else t("adversarial.metric.failure"))
            lesson.chart(thaw(spec), "adversarial.attack_fig")
            if config.target is not None and config.target == r.label:
                st.info(t("adversarial.target_is_label"), icon=":material/info:")
            st.caption(t("adversarial.notice.attack", y=r.label, p=r.probs[r.label], k=r.pred_adv,
                         q=r.probs_adv[r.pred_adv], eps=eps, norm=norm_names[v["norm"]]))
if tabs[1].open:
    with tabs[1]:
        left, right = st.columns([1, 2.2], gap="medium")
        with left:
            for name in ("geo_norm", "geo_x", "geo_y", "geo_eps", "geo_alpha", "geo_steps", "geo_random"):
                control(bound, name)
        with right, safely():
            label, path, spec = geometry_view({k: v[k] for k in experiment.GEOMETRY}, global_seed(), device, lang())
            lesson.chart(thaw(spec), "adversarial.geometry_fig")
            st.caption(t("adversarial.notice.geometry", c=label, p=path.prob[0], q=path.prob[-1],
                         n=int((path.moved > 1e-6).sum()), steps=len(path.moved)))
if tabs[2].open:
    with tabs[2]:
        control(bound, "norm", help=None)
        with heavy_slot() as ok, safely():
            if ok:
                with st.spinner(t("adversarial.curves_spinner")):
                    c = curves(v["norm"], device)
                names = {**labels("adversarial.curve", figs.CURVE_LABELS), "x": t(f"adversarial.curve.x_{v['norm']}")}
                lesson.chart(figs.curves_figure(c.eps, c.accuracy, eps, labels=names), "adversarial.curves_fig")
                i = int(np.abs(c.eps - eps).argmin())
                st.caption(t("adversarial.notice.curves", e=c.eps[i], s0=c.accuracy["standard/pgd"][0],
                             r0=c.accuracy["robust/pgd"][0], s=c.accuracy["standard/pgd"][i],
                             r=c.accuracy["robust/pgd"][i], f=c.accuracy["standard/fgsm"][i]))

st.markdown(t("adversarial.notice.overall"))
lesson.presets(bound, PRESETS)
lesson.code_that_ran(adv.attack_loss, adv.fgsm, adv.pgd_iterates, adv.ascent_step, adv.project, adv.to_box,
                     adv.attack_digit, adv.robustness_curves, clf.load_digits_cnn, clf.image_to_digit)
sync_url(bound)
