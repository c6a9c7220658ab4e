"""Lesson: the optimizer race — surfaces, saddles and the Hessian, schedules, batch noise (notes 000 §3, 001, 002, 004)."""

import inspect

import pandas as pd
import streamlit as st

from dlcore import batch_noise as bn
from dlcore import optim as O
from dlcore import update_rules as U
from dlcore.expr import ExpressionError
from ui import lesson
from ui.experiments import optimizer_race as experiment
from ui.figures import optimizer_race as figs
from ui.figures.common import color, freeze, thaw
from ui.i18n import lang, strings, t
from ui.runtime import heavy_slot, offload, safely
from ui.state import Param, bind, global_seed, sync_url

S = "optimizer_race"
NAMES = list(O.SURFACES) + ["custom"]
KAPPAS = [1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0]
W = O.MAX_HALF_WIDTH
D = experiment.DEFAULTS

lesson.header(S)
lesson.concept(S, expanded=False)
_url_surface = st.query_params.get(f"{S}.surface")
surface_name = st.session_state.get(f"{S}.surface", _url_surface if _url_surface in NAMES else D["surface"])
B = experiment.surface_defaults(O.make_surface(surface_name))   # the start, probe and learning rates it brings
hyper_params = [Param.float(f"{k}.{h.name}", B[f"{k}.{h.name}"], lo=h.lo, hi=h.hi)
                for k, r in O.RACERS.items() for h in r.hypers]
bound = bind(S, [
    Param.choice("surface", D["surface"], NAMES), Param.choice("kappa", D["kappa"], KAPPAS),
    Param.int("angle", D["angle"], lo=-90, hi=90), Param.text("formula", D["formula"]),
    Param.float("half_width", D["half_width"], lo=0.5, hi=W),
    Param.float("x0", B["x0"], lo=-W, hi=W), Param.float("y0", B["y0"], lo=-W, hi=W),
    Param.text("more_starts", D["more_starts"], max_len=120), Param.int("steps", D["steps"], lo=10, hi=O.MAX_STEPS),
    Param.multi("racers", D["racers"], list(O.RACERS)), Param.choice("schedule", D["schedule"], list(O.SCHEDULES)),
    Param.int("step_size", D["step_size"], lo=1, hi=O.MAX_STEPS), Param.float("gamma", D["gamma"], lo=0.01, hi=1.0),
    Param.int("warmup", D["warmup"], lo=1, hi=O.MAX_STEPS), Param.bool("view3d", D["view3d"]),
    Param.float("px", B["px"], lo=-W, hi=W), Param.float("py", B["py"], lo=-W, hi=W),
    Param.float("escape", D["escape"], lo=0.05, hi=2.0), Param.float("bn_lr", D["bn_lr"], lo=0.01, hi=1.0),
    Param.int("bn_steps", D["bn_steps"], lo=10, hi=500), Param.float("sf_lr", D["sf_lr"], lo=0.01, hi=0.5),
    Param.float("sf_shift", D["sf_shift"], lo=0.0, hi=1.0), *hyper_params,
])


def _on_surface() -> None:
    """A new surface brings its own start, probe and suggested learning rates."""
    s = O.make_surface(st.session_state[f"{S}.surface"], half_width=st.session_state[f"{S}.half_width"])
    st.session_state.update({f"{S}.{k}": v for k, v in experiment.surface_defaults(s).items()})


def _on_click() -> None:
    """A click on the map (a point of the invisible grid) becomes the start point."""
    if pts := st.session_state[f"{S}.map"].selection.points:
        st.session_state[f"{S}.x0"], st.session_state[f"{S}.y0"] = float(pts[0]["x"]), float(pts[0]["y"])


def _snap(surface: O.Surface) -> None:
    """Move the inspected point to where Newton's steps from it settle (a critical point of any kind)."""
    found = O.nearest_critical_point(surface, (st.session_state[f"{S}.px"], st.session_state[f"{S}.py"]))
    st.session_state[f"{S}._snap_failed"] = found is None
    if found is not None:
        st.session_state[f"{S}.px"], st.session_state[f"{S}.py"] = float(found[0]), float(found[1])


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def race_figure(config: O.RaceConfig, names: tuple, labels: figs.RaceLabels, view3d: bool, axes3d: tuple):
    res = O.race(config)
    surf = config.make_surface()
    x, y, z = O.surface_grid(surf)
    colors = [color(list(O.RACERS).index(k)) for k in res.kinds]
    fig3d = freeze(figs.surface3d(x, y, z, res.paths, res.losses, names, colors, title=labels.title, axes=axes3d)) \
        if view3d else None
    fig = figs.race(x, y, z, surf.f_min, surf.bounds, res.paths, res.losses, res.lr_factor, names, colors, surf.minima,
                    labels)
    return res, fig.to_dict(), fig3d


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def inspection(surface_args: tuple, px: float, py: float, escape: float, lang_code: str):
    """Hessian, escape step and the close-up figure's spec at (px, py): the same point is a cache hit."""
    name, kappa, angle, formula, half_width = surface_args
    surface = O.make_surface(name, kappa=kappa, angle=angle, formula=formula, half_width=half_width)
    info = O.inspect_point(surface, (px, py))
    esc = O.escape_step(surface, (px, py), escape)
    r = 0.12 * (surface.bounds[1] - surface.bounds[0]) + escape
    gx, gy, gz = O.surface_grid(surface, 81, (px - r, px + r, py - r, py + r))
    tr = strings(lang_code)
    f = {k: tr[f"{S}.fig.{k}"] for k in ("inspect_title", "x", "y", "neg_grad", "escape", "point")}
    eig = [tr[f"{S}.fig.eig"].format(i=i + 1, lam=f"{lam:.3g}") for i, lam in enumerate(info.eigenvalues)]
    fig = figs.inspector(gx, gy, gz, info.point, info.eigenvalues, info.eigenvectors, info.grad,
                         esc.points if esc else None, esc.losses if esc else None, title=f["inspect_title"],
                         axes=(f["x"], f["y"]), eig_names=eig, grad_name=f["neg_grad"], escape_name=f["escape"],
                         point_name=f["point"])
    return info, esc, freeze(fig)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def rule_checks(config: O.RaceConfig, steps: int) -> dict[str, U.RuleCheck]:  # noqa: D103 - cached dlcore call
    return O.rule_checks(config.make_surface(), config.starts[0], steps)


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def batch_results(reg_config: bn.RegressionConfig, sf_config: bn.SharpFlatConfig):
    return bn.regression_paths(reg_config), offload(bn.sharp_flat, sf_config)   # sharp_flat ~0.4 s: in a worker


v = bound.values()
F = {k.removeprefix(f"{S}.fig."): s for k, s in strings(lang()).items() if k.startswith(f"{S}.fig.")}   # figure labels
c1, c2, c3, c4 = st.columns([1.2, 1, 1, 1])
label = {n: t(f"optimizer_race.surfaces.{n}") for n in NAMES} | {k: t(f"optimizer_race.racer.{k}") for k in O.RACERS} \
    | {n: t(f"optimizer_race.schedules.{n}") for n in O.SCHEDULES}   # dict.get, not t(): AppTest formats outside a run
c1.selectbox(t("optimizer_race.surface"), NAMES, key=f"{S}.surface", on_change=_on_surface, format_func=label.get)
if v["surface"] == "quadratic":
    c2.select_slider(t("optimizer_race.kappa"), KAPPAS, key=f"{S}.kappa", help=t("optimizer_race.kappa_help"))
    c3.slider(t("optimizer_race.angle"), -90, 90, step=15, key=f"{S}.angle")
elif v["surface"] == "custom":
    c2.text_input(t("optimizer_race.formula"), key=f"{S}.formula", max_chars=200, help=t("optimizer_race.formula_help"))
    c3.number_input(t("optimizer_race.half_width"), 0.5, W, step=0.5, key=f"{S}.half_width")
c4.slider(t("optimizer_race.steps"), 10, O.MAX_STEPS, step=10, key=f"{S}.steps")
d1, d2, d3, d4, d5 = st.columns([1, 1, 1.6, 1.2, 0.8])
d1.number_input(t("optimizer_race.x0"), -W, W, step=0.1, format="%.3f", key=f"{S}.x0")
d2.number_input(t("optimizer_race.y0"), -W, W, step=0.1, format="%.3f", key=f"{S}.y0")
d3.text_input(t("optimizer_race.more_starts"), key=f"{S}.more_starts", placeholder="1, 1; -0.5, 2",
              help=t("optimizer_race.more_starts_help"))
d4.selectbox(t("optimizer_race.schedule"), list(O.SCHEDULES), key=f"{S}.schedule", format_func=label.get)
d5.toggle(t("optimizer_race.view3d"), key=f"{S}.view3d")
if v["schedule"] in ("step", "exponential"):
    e1, e2 = st.columns(2)
    e1.slider(t("optimizer_race.step_size"), 1, O.MAX_STEPS, key=f"{S}.step_size")
    e2.slider(t("optimizer_race.gamma"), 0.01, 1.0, key=f"{S}.gamma")
elif v["schedule"] == "warmup":
    st.slider(t("optimizer_race.warmup"), 1, O.MAX_STEPS, key=f"{S}.warmup")
st.multiselect(t("optimizer_race.racers"), list(O.RACERS), key=f"{S}.racers", format_func=label.get)
kinds = v["racers"] or ["sgd"]
for i, col in enumerate(st.columns(min(6, len(kinds))) * 2):
    if i < len(kinds):
        with col.popover(label[kinds[i]], width="stretch"):
            for h in O.RACERS[kinds[i]].hypers:
                st.number_input(t(f"optimizer_race.hyper.{h.name}"), h.lo, h.hi, step=h.lo if h.lo > 0 else 0.01,
                                format="%g", key=f"{S}.{kinds[i]}.{h.name}")

surface, problem = None, None
try:
    surface = O.make_surface(v["surface"], kappa=v["kappa"], angle=v["angle"], formula=v["formula"],
                             half_width=v["half_width"])
    O.check_surface(surface)
except ExpressionError as e:
    problem = t(f"optimizer_race.expr.{e.code}", detail=e.detail)
extra = []
try:
    extra = O.parse_points(v["more_starts"])
except ValueError as e:
    st.warning(t(f"optimizer_race.points.{e}"), icon=":material/warning:")
if problem:
    st.error(problem, icon=":material/function:")
else:
    starts, moved = O.onto_map(surface, [(v["x0"], v["y0"]), *extra])
    if moved:
        x0, x1, y0, y1 = surface.bounds
        st.warning(t("optimizer_race.off_map", x0=x0, x1=x1, y0=y0, y1=y1), icon=":material/open_with:")
    config = experiment.race_config(v, starts)
    names = tuple(label[k] for k in kinds)
    gap = surface.f_min is not None   # the loss panel shows f - f* on a log scale when the minimum is known
    labels = figs.RaceLabels(*(F[n] for n in ("title", "x", "y", "loss_title" if gap else "loss_raw", "loss_axis" if gap
                                              else "loss_raw", "lr_title", "lr_axis", "step", "play", "pause", "start",
                                              "minimum", "colorbar" if gap else "loss_raw")))
    with heavy_slot("compute") as ok, safely():
        if ok:
            res, spec, spec3d = race_figure(config, names, labels, v["view3d"], (F["x"], F["y"], F["loss_raw"]))
            st.plotly_chart(thaw(spec), key=f"{S}.map", on_select=_on_click, selection_mode="points")
            st.caption(t("optimizer_race.click_hint"))
            if spec3d:
                st.plotly_chart(thaw(spec3d), key=f"{S}.fig3d")
            board = O.leaderboard(res, surface, config.tol)
            cols = {"racer": [names[i] for i in board.order], "status": [t(f"{S}.status.{c}", step=n) for c, n in board.status],
                    "reached": board.reached, "final": board.final_loss, "distance": board.distance, "grad": board.grad,
                    "starts": board.starts_reached}
            st.dataframe(pd.DataFrame({t(f"{S}.board.{k}"): c for k, c in cols.items()}), hide_index=True, width="stretch")
            gone = [names[i] for i, (code, _) in zip(board.order, board.status) if code == "diverged"]
            if gone:
                st.warning(t("optimizer_race.diverged", names=", ".join(gone)), icon=":material/trending_up:")
    st.markdown(t("optimizer_race.notice"))

lesson.presets(bound, [lesson.Preset(name, values, extra={f"{S}.tab": t("optimizer_race.tabs.batch")} if name == "flat"
                                      else {}) for name, values in experiment.PRESETS.items()], columns=3)
st.divider()
tabs = st.tabs([t(f"optimizer_race.tabs.{n}") for n in ("inspect", "rules", "batch")], key=f"{S}.tab", on_change="rerun")
if tabs[0].open and surface is not None:
    with tabs[0], safely():
        q1, q2, q3 = st.columns(3)
        q1.number_input(t("optimizer_race.px"), -W, W, step=0.1, format="%.4f", key=f"{S}.px")
        q2.number_input(t("optimizer_race.py"), -W, W, step=0.1, format="%.4f", key=f"{S}.py")
        q3.slider(t("optimizer_race.escape"), 0.05, 2.0, key=f"{S}.escape")
        info, esc, inspect_spec = inspection((v["surface"], v["kappa"], v["angle"], v["formula"], v["half_width"]),
                                             v["px"], v["py"], v["escape"], lang())
        st.plotly_chart(thaw(inspect_spec), key=f"{S}.inspect_fig")
        h = info.hessian
        st.latex(rf"g=\begin{{pmatrix}}{info.grad[0]:.4g}\\{info.grad[1]:.4g}\end{{pmatrix}},\quad H=\begin{{pmatrix}}"
                 rf"{h[0, 0]:.4g}&{h[0, 1]:.4g}\\{h[1, 0]:.4g}&{h[1, 1]:.4g}\end{{pmatrix}},\quad \lambda_1={info.eigenvalues[0]:.4g},"
                 rf"\ \lambda_2={info.eigenvalues[1]:.4g}")
        st.info(t(f"{S}.kind.{info.kind}") if info.critical else t("optimizer_race.not_critical", kind=t(
            f"{S}.kind_name.{info.kind}")), icon=":material/troubleshoot:")
        if esc is not None:
            st.markdown(t("optimizer_race.escape_text", f0=f"{info.value:.4g}", f1=f"{esc.losses.min():.4g}",
                          pred=f"{esc.predicted:.4g}", lam=f"{esc.eigenvalue:.3g}", size=v["escape"]))
        if st.button(t("optimizer_race.snap"), key=f"{S}.snap", on_click=_snap, args=(surface,)) and \
                st.session_state.get(f"{S}._snap_failed"):
            st.warning(t("optimizer_race.snap_failed"))
if tabs[1].open and surface is not None and not problem:
    with tabs[1], safely():
        checks = rule_checks(config, 100)
        for rule, fn in zip(U.RULES, (U.momentum_step, U.adagrad_step, U.rmsprop_step, U.adam_step)):
            a, b = st.columns([1, 1.3])
            a.markdown(f"**{t(f'optimizer_race.rules.{rule}')}**\n\n$${t(f'optimizer_race.rules.{rule}_tex')}$$")
            a.caption(t("optimizer_race.rules.check", err=f"{checks[rule].max_error:.1e}", steps=100))
            b.code(inspect.getsource(fn), language="python")
if tabs[2].open:
    with tabs[2], heavy_slot() as ok, safely():
        b1, b2, b3, b4 = st.columns(4)
        b1.slider(t("optimizer_race.bn_lr"), 0.01, 1.0, key=f"{S}.bn_lr")
        b2.slider(t("optimizer_race.bn_steps"), 10, 500, step=10, key=f"{S}.bn_steps")
        b3.slider(t("optimizer_race.sf_lr"), 0.01, 0.5, key=f"{S}.sf_lr")
        b4.slider(t("optimizer_race.sf_shift"), 0.0, 1.0, key=f"{S}.sf_shift")
        if ok:
            reg, sf = batch_results(experiment.regression_config(v, global_seed()),
                                    experiment.sharp_flat_config(v, global_seed()))
            bnames = [t("optimizer_race.batch", b=b) for b in reg.batch_sizes]
            st.plotly_chart(figs.regression(*bn.regression_surface(reg), reg.paths, reg.full_loss, reg.optimum, bnames,
                                            title=F["reg_title"], axes=("w", "b"), loss_title=F["reg_loss"],
                                            loss_axis=F["full_loss"], step=F["step"], optimum_name=F["lsq"]), key=f"{S}.reg_fig")
            st.caption(t("optimizer_race.reg_notice"))
            st.plotly_chart(figs.sharp_flat(sf.w, sf.train, sf.test, sf.final, sf.barrier, bnames, title=F["sf_title"],
                                            train_name=F["train"], test_name=F["test"], axes=("w", F["loss_raw"]),
                                            ends_axis=F["ends"]), key=f"{S}.sf_fig")
            cols = {"batch": bnames, "flat": sf.flat_share, "train": sf.train_loss, "test": sf.test_loss}
            st.dataframe(pd.DataFrame({t(f"{S}.sf.{k}"): c for k, c in cols.items()}), hide_index=True)
            st.caption(t("optimizer_race.sf_notice"))

lesson.code_that_ran(O.race, O.Newton, O.make_scheduler, O.inspect_point, O.escape_step, bn.sharp_flat)
sync_url(bound)
