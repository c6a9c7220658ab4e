"""Lesson: GAN training, live — generator vs discriminator on 1D, 2D and digit data (seed 001, "GAN")."""

import streamlit as st

from dlcore import gan
from dlcore.device import pick
from ui import lesson, progress
from ui.controls import control
from ui.experiments import gan as experiment
from ui.figures import gan as figs
from ui.i18n import labels, option_names, t
from ui.runtime import heavy_slot, safely
from ui.state import bind, device_preference, global_seed, sync_url

TICK_S, EVERY_S = 0.2, 0.5   # compute per timer tick while playing, and time between ticks
RUN, PLAYING = "gan._run", "gan._playing"
FULL_RUNS = progress.shared_runs("gan.full_run")   # complete runs of the replay tab
SETUP = (("g_layers", "opt_g", "activation"), ("g_width", "latent", "noise"), ("d_layers", "opt_d"),
         ("d_width", "batch"))   # the setup expander's four columns, top to bottom (then the step count)

lesson.header("gan")
lesson.concept("gan", expanded=False)
bound = bind("gan", experiment.SETTINGS)
PRESETS = [lesson.Preset(name, experiment.preset_settings(name), extra={PLAYING: True}) for name in experiment.PRESETS]
lesson.predict(bound, PRESETS)
for where, name in zip(st.columns([1.8, 1.2, 0.9, 0.9, 0.8, 1.2]), ("target", "loss", "lr_d", "lr_g", "d_steps", "sn")):
    control(bound, name, where)
with st.expander(t("gan.setup"), icon=":material/tune:"):
    columns = st.columns(4)
    for where, names in zip(columns, SETUP):
        for name in names:
            control(bound, name, where)
    control(bound, "steps", columns[3], help=t("gan.help.steps", cap=gan.MAX_STEPS))
values = bound.values()
if values["target"] == "custom":
    control(bound, "points", help=t("gan.help.points", n=gan.MAX_POINTS, lim=gan.POINT_LIMIT), height=70)
    try:
        gan.parse_points(values["points"])
    except ValueError as err:
        st.error(t("gan.bad_points", why=t(f"gan.point_errors.{err}", n=gan.MAX_POINTS, lim=gan.POINT_LIMIT)))
        values["points"] = experiment.DEFAULTS["points"]
config = experiment.config(values, global_seed())
d_fn, g_fn = gan.LOSS_FUNCTIONS[config.loss]
device = pick(device_preference())
state = st.session_state[RUN] = gan.resume(st.session_state.get(RUN), config, device)

b = st.columns([1, 1, 1, 3])
playing = st.session_state[PLAYING] = bool(st.session_state.get(PLAYING)) and not state.done
b[0].button(t("gan.pause") if playing else t("gan.play"), key="gan.play_btn", type="primary", width="stretch",
            icon=":material/pause:" if playing else ":material/play_arrow:",
            on_click=lambda now=not playing: st.session_state.update({PLAYING: now}))   # what the label says
if b[1].button(t("gan.step_once"), key="gan.step_btn", icon=":material/skip_next:", width="stretch"):
    with heavy_slot("compute") as ok, safely():
        if ok:
            gan.advance(state, 1)
b[2].button(t("gan.reset"), key="gan.reset_btn", icon=":material/restart_alt:", width="stretch",
            on_click=lambda: st.session_state.update({RUN: None, PLAYING: False}))
b[3].caption(t("gan.controls_note", tick=TICK_S, every=EVERY_S, cap=gan.MAX_STEPS))
prob = config.loss in gan.PROBABILITY_LOSSES
fig_labels = {**labels("gan.fig", figs.GAME_LABELS), "d": t("gan.fig.d_prob" if prob else "gan.fig.d_score")}
curve_labels = {**labels("gan.fig", figs.CURVE_LABELS), "title": t("gan.fig.curves_title")}


def game_figure(state: gan.GANState, snap: gan.Snapshot):
    """The live view of this run's data: the 2D game, the paper's 1D picture, or digits with a latent walk."""
    if config.dim == 2:
        return figs.game_2d(snap, state.real_show.cpu().numpy(), state.target.bounds, prob=prob,
                            labels={**fig_labels, "title": t("gan.fig.game_title", step=snap.step)})
    if config.dim == 1:
        xs = state.grid[:, 0].cpu()
        return figs.game_1d(snap, xs.numpy(), gan.mixture1d_density(xs).numpy(), prob=prob,
                            labels={**fig_labels, "title": t("gan.fig.game1d_title", step=snap.step)})
    return figs.digits(snap, gan.latent_walk(state), labels={**fig_labels,
                                                             "title": t("gan.fig.digits_title", step=snap.step)})


@st.fragment(run_every=EVERY_S if playing else None)
def live() -> None:
    state: gan.GANState = st.session_state[RUN]
    if st.session_state.get(PLAYING):
        with heavy_slot("compute") as ok, safely():
            if ok:
                gan.advance(state, gan.MAX_STEPS_PER_TICK, time_budget_s=TICK_S)
        if state.done:
            st.session_state[PLAYING] = False
            st.rerun()  # the whole page, so the timer stops and the button says "play"
    snap = gan.current_snapshot(state)
    left, right = st.columns([1.05, 1])
    lesson.chart(game_figure(state, snap), "gan.game_fig", left)
    lesson.chart(figs.curves(state.curves, state.history + [snap], labels=curve_labels), "gan.curves_fig", right)
    m = st.columns(4)   # the numbers under the figures they summarize
    m[0].metric(t("gan.metric.step"), f"{state.step} / {state.config.steps}")
    m[1].metric(t("gan.metric.modes"), f"{snap.modes_covered} / {snap.n_modes}" if snap.n_modes else "–",
                help=t("gan.help.modes"))
    m[2].metric(t("gan.metric.hq"), f"{100 * snap.hq_fraction:.0f}%", help=t("gan.help.hq"))
    m[3].metric(t("gan.metric.distance"), f"{snap.distance:.4f}", help=t("gan.help.distance"))
    if state.diverged_at is not None:
        st.error(t("gan.diverged", step=state.diverged_at), icon=":material/error:")
    elif gan.is_mode_collapse(snap.modes_covered, snap.n_modes, snap.hq_fraction) and snap.step > 0:
        st.warning(t("gan.collapse_flag", modes=snap.modes_covered, n=snap.n_modes, hq=100 * snap.hq_fraction),
                   icon=":material/warning:")


def replay_figure(snaps: list[gan.Snapshot], state: gan.GANState):
    kind = {1: "1d", 2: "2d"}.get(config.dim, "digits")
    xs = state.grid[:, 0].cpu()
    return figs.replay(snaps, kind=kind, labels={**fig_labels, "title": ""}, real=state.real_show.cpu().numpy(),
                       bounds=state.target.bounds, xs=xs.numpy(), p_data=gan.mixture1d_density(xs).numpy(), prob=prob)


tabs = st.tabs([t("gan.tabs.live"), t("gan.tabs.replay")], key="gan.tab", on_change="rerun")
if tabs[0].open:
    with tabs[0]:
        live()
if tabs[1].open:
    with tabs[1]:
        sources = option_names("gan.replay_sources", ("mine", "full"))
        source = st.segmented_control(t("gan.replay_source"), list(sources), key="gan.replay",
                                      format_func=sources.get, default="mine")
        snaps = state.history
        if source == "full":
            try:
                gan.check_run(config)   # what gan.train checks first: a complete run fits the shared budget
            except ValueError:
                st.warning(t("gan.run_too_long", seconds=gan.run_work(config) / gan.WORK_PER_SECOND,
                             cap=gan.MAX_RUN_SECONDS), icon=":material/timer_off:")
            else:
                with safely():   # trained with progress in a worker, then kept for the class
                    snaps = progress.shared_run(
                        FULL_RUNS, (config, device.type), lambda: gan.init_state(config, device), gan.run_steps,
                        what=t("gan.computing"), total=config.steps, chunk=100, done=lambda s: s.step,
                        keep=lambda s: s.history) or state.history
        if len(snaps) < 2:
            st.info(t("gan.replay_empty"), icon=":material/info:")
        else:
            lesson.chart(replay_figure(snaps, state), "gan.replay_fig")
            st.caption(t("gan.notice.replay", n=len(figs.pick_frames(snaps)), last=snaps[-1].step))

st.latex(t(f"gan.formulas.{config.loss}"))   # under the figures: they lead (issue 31, the first screen)
st.markdown({1: t("gan.notice.live_1d"), 64: t("gan.notice.live_digits")}.get(config.dim, t("gan.notice.live")))
lesson.presets(bound, PRESETS)
lesson.code_that_ran(gan.train_step, d_fn, g_fn, *([gan.gradient_penalty] if config.loss == "wgan_gp" else []),
                     gan.advance, gan.mode_coverage, gan.energy_distance, gan.GANConfig)
sync_url(bound)
