"""Lesson: the optimizer race — surfaces, saddles, Hessians, schedules, batch noise (notes 000 §3, 001, 002, 004)."""

import inspect
from functools import partial

import streamlit as st

from dlcore import batch_noise as bn
from dlcore import optim as O
from dlcore import update_rules as U
from ui import lesson
from ui.controls import control
from ui.experiments import optimizer_race as experiment
from ui.figures import optimizer_race as figs
from ui.figures.common import freeze, scientific, thaw
from ui.i18n import labels, lang, option_names, t
from ui.runtime import heavy_slot, offload, safely
from ui.state import bind, global_seed, sync_url

S = "optimizer_race"

lesson.header(S)
lesson.concept(S, expanded=False)
bound = bind(S, experiment.declared(st.session_state.get(f"{S}.surface", st.query_params.get(f"{S}.surface"))))
PRESETS = [lesson.Preset(n, vals, extra={f"{S}.tab": t(f"{S}.tabs.{experiment.PRESET_TABS[n]}")} if n in
           experiment.PRESET_TABS else {}) for n, vals in experiment.PRESETS.items()]   # a preset may open a tab
lesson.predict(bound, PRESETS)


@lesson.cached(64)
def race_figures(config: O.RaceConfig, view3d: bool, language: str, compact: bool = False):
    """The race (``O.race_fast``: as ``O.race``, faster) and its figures' specs (compact: the phone's layout)."""
    res, surface = O.race_fast(config), config.make_surface()
    grid, names = O.surface_grid(surface), option_names(f"{S}.racer", O.RACERS)
    texts = labels(f"{S}.fig", figs.RACE_LABELS)
    fig3d = freeze(figs.surface3d(grid, res, names, texts)) if view3d else None
    return res, freeze(figs.race(res, surface, grid, names, texts, compact=compact)), fig3d


@lesson.cached(64)
def inspection(surface_values: dict, px: float, py: float, escape: float, language: str):
    """Hessian, escape step and the close-up figure's spec at (px, py): the same point is a cache hit."""
    surface = experiment.surface(surface_values)
    info, esc = O.inspect_point(surface, (px, py)), O.escape_step(surface, (px, py), escape)
    grid = O.surface_grid(surface, 81, figs.close_up(surface, (px, py), escape))
    return info, esc, freeze(figs.inspector(grid, info, esc, labels(f"{S}.fig", figs.INSPECT_LABELS)))


@lesson.cached(64)
def rule_checks(config: O.RaceConfig, steps: int) -> dict[str, U.RuleCheck]:
    """The hand-written update rules against torch.optim on this surface from the first start."""
    return O.rule_checks(config.make_surface(), config.starts[0], steps)


@lesson.cached(32)
def batch_noise(reg_config: bn.RegressionConfig, sf_config: bn.SharpFlatConfig, language: str):
    """The batch-noise experiments (sharp_flat ~0.4 s: in a worker) and the frozen specs of their figures."""
    reg, sf = bn.regression_paths(reg_config), offload(bn.sharp_flat, sf_config)
    names, texts = [t(f"{S}.batch", b=b) for b in reg.batch_sizes], labels(f"{S}.fig", figs.BATCH_LABELS)
    return sf, names, freeze(figs.regression(bn.regression_surface(reg), reg, names, texts)), \
        freeze(figs.sharp_flat(sf, names, texts))


v = bound.values()
race_slot = st.container()   # the race leads the lab: drawn above its controls once they have been read
c1, c2, c3, c4 = st.columns([1.2, 1, 1, 1])
control(bound, "surface", c1, on_change=experiment.on_surface_change, args=(st.session_state,))
for name, col in zip(experiment.SHOWN_WITH.get(v["surface"], ()), (c2, c3)):   # kappa, angle / formula, half_width
    control(bound, name, col)
control(bound, "steps", c4)
for name, col in zip(("x0", "y0", "more_starts", "schedule", "view3d"), st.columns([1, 1, 1.6, 1.2, 0.8])):
    control(bound, name, col, **experiment.DRAWN.get(name, {}))
if shown := experiment.SHOWN_WITH.get(v["schedule"]):   # step_size and gamma side by side, or warmup
    for name, col in zip(shown, st.columns(len(shown)) if len(shown) > 1 else (st,)):
        control(bound, name, col)
pick, tune = st.columns([4, 1], vertical_alignment="bottom")
control(bound, "racers", pick)
kinds, names = v["racers"] or ["sgd"], option_names(f"{S}.racer", O.RACERS)
with tune.popover(t(f"{S}.hypers"), icon=":material/tune:", width="stretch"):   # one row of inputs per racer
    for kind in kinds:
        for h, col in zip(O.RACERS[kind].hypers, st.columns(3)):
            control(bound, f"{kind}.{h.name}", col, label=f"{names[kind]}: {t(f'{S}.hyper.{h.name}')}", format="%g")

lab = experiment.read(v)
if lab.points_error:
    race_slot.warning(t(f"{S}.points.{lab.points_error}"), icon=":material/warning:")
if lab.formula_error:
    race_slot.error(t(f"{S}.expr.{lab.formula_error.code}", detail=lab.formula_error.detail),
                    icon=":material/function:")
else:
    if lab.moved:
        x0, x1, y0, y1 = lab.surface.bounds
        race_slot.warning(t(f"{S}.off_map", x0=x0, x1=x1, y0=y0, y1=y1), icon=":material/open_with:")
    config = experiment.race_config(v, lab.starts)
    with heavy_slot("compute") as ok, safely():
        if ok:
            res, spec, spec3d = race_figures(config, v["view3d"], lang(), lesson.phone())   # phone: panels below
            lesson.chart(thaw(spec), f"{S}.map", race_slot, on_select=partial(experiment.on_map_click,
                         st.session_state), selection_mode="points")
            race_slot.caption(t(f"{S}.click_hint"))
            if spec3d:
                lesson.chart(thaw(spec3d), f"{S}.fig3d")
            board = O.leaderboard(res, lab.surface, config.tol)
            st.dataframe(figs.leaderboard(board, [names[k] for k in res.kinds], labels(f"{S}.board", figs.BOARD_COLS),
                                          labels(f"{S}.status", O.STATUSES)), hide_index=True, width="stretch")
            if gone := [names[res.kinds[i]] for i, (code, _) in zip(board.order, board.status) if code == "diverged"]:
                st.warning(t(f"{S}.diverged", names=", ".join(gone)), icon=":material/trending_up:")
    st.markdown(t(f"{S}.notice"))

lesson.presets(bound, PRESETS)
tabs = st.tabs([t(f"{S}.tabs.{n}") for n in ("inspect", "rules", "batch")], key=f"{S}.tab", on_change="rerun")
if tabs[0].open and lab.surface is not None:
    with tabs[0], safely():
        for name, col in zip(("px", "py", "escape"), st.columns(3)):
            control(bound, name, col, **experiment.DRAWN.get(name, {}))
        surface_values = {k: v[k] for k in experiment.SURFACE_SETTINGS}   # the inspection's cache key
        info, esc, spec = inspection(surface_values, v["px"], v["py"], v["escape"], lang())
        lesson.chart(thaw(spec), f"{S}.inspect_fig")
        st.latex(figs.hessian_latex(info))
        st.info(t(f"{S}.kind.{info.kind}") if info.critical else t(f"{S}.not_critical", kind=t(
            f"{S}.kind_name.{info.kind}")), icon=":material/troubleshoot:")
        if esc is not None:
            st.markdown(t(f"{S}.escape_text", f0=f"{info.value:.4g}", f1=f"{esc.losses.min():.4g}",
                          pred=f"{esc.predicted:.4g}", lam=f"{esc.eigenvalue:.3g}", size=v["escape"]))
        if st.button(t(f"{S}.snap"), key=f"{S}.snap", on_click=experiment.on_snap,
                     args=(st.session_state, lab.surface)) and st.session_state.get(f"{S}._snap_failed"):
            st.warning(t(f"{S}.snap_failed"))
if tabs[1].open and not lab.formula_error:
    with tabs[1], safely():
        checks = rule_checks(config, 100)
        for rule, fn in zip(U.RULES, (U.momentum_step, U.adagrad_step, U.rmsprop_step, U.adam_step)):
            a, b = st.columns([1, 1.3])
            a.markdown(f"**{t(f'{S}.rules.{rule}')}**\n\n$${t(f'{S}.rules.{rule}_tex')}$$")
            a.caption(t(f"{S}.rules.check", err=scientific(checks[rule].max_error), steps=100))
            b.code(inspect.getsource(fn), language="python")
if tabs[2].open:
    with tabs[2], heavy_slot() as ok, safely():
        for name, col in zip(("bn_lr", "bn_steps", "sf_lr", "sf_shift"), st.columns(4)):
            control(bound, name, col)
        if ok:
            sf, bnames, reg_spec, sf_spec = batch_noise(experiment.regression_config(v, global_seed()),
                                                        experiment.sharp_flat_config(v, global_seed()), lang())
            lesson.chart(thaw(reg_spec), f"{S}.reg_fig")
            st.caption(t(f"{S}.reg_notice"))
            lesson.chart(thaw(sf_spec), f"{S}.sf_fig")
            st.dataframe(figs.sharp_flat_table(sf, bnames, labels(f"{S}.sf", figs.SF_COLS)), hide_index=True)
            st.caption(t(f"{S}.sf_notice"))
lesson.code_that_ran(O.race, O.race_paths, O.Newton, O.make_scheduler, O.inspect_point, O.escape_step, bn.sharp_flat)
sync_url(bound)
