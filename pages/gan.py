"""Lesson: GAN training, live — generator vs discriminator on 1D, 2D and digit data (seed 001, "GAN")."""

from dataclasses import asdict

import streamlit as st

from dlcore import gan, jobs
from dlcore.device import pick
from ui import lesson
from ui.experiments import gan as experiment
from ui.figures import gan as figs
from ui.i18n import t
from ui.runtime import heavy_slot, offload, safely
from ui.state import Param, bind, device_preference, global_seed, sync_url

LRS = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
WIDTHS = (8, 16, 32, 64, 128, 256)
BATCHES = (16, 32, 64, 128, 256, 512)
STEPS = (500, 1000, 1500, 2000, 3000, 5000)
TICK_S, EVERY_S = 0.2, 0.5   # compute per timer tick while playing, and time between ticks
RUN, PLAYING = "gan._run", "gan._playing"
D = gan.GANConfig()


def _points_ok(text: str) -> bool:
    try:
        gan.parse_points(text)
    except ValueError:
        return False
    return True


lesson.header("gan")
lesson.concept("gan", expanded=False)
bound = bind("gan", [
    Param.choice("target", D.target, gan.TARGETS), Param.text("points", D.points, max_len=800, check=_points_ok),
    Param.choice("loss", D.loss, gan.LOSSES), Param.bool("sn", D.spectral_norm),
    Param.int("g_layers", D.g_layers, lo=1, hi=gan.MAX_LAYERS), Param.choice("g_width", D.g_width, WIDTHS),
    Param.int("d_layers", D.d_layers, lo=1, hi=gan.MAX_LAYERS), Param.choice("d_width", D.d_width, WIDTHS),
    Param.choice("activation", D.activation, gan.ACTIVATIONS), Param.int("latent", D.latent, lo=1, hi=gan.MAX_LATENT),
    Param.choice("noise", D.noise, gan.NOISES), Param.choice("opt_g", D.opt_g, gan.OPTIMIZERS),
    Param.choice("opt_d", D.opt_d, gan.OPTIMIZERS), Param.choice("lr_g", D.lr_g, LRS), Param.choice("lr_d", D.lr_d, LRS),
    Param.int("d_steps", D.d_steps, lo=1, hi=gan.MAX_D_STEPS), Param.choice("batch", D.batch, BATCHES),
    Param.choice("steps", D.steps, STEPS),
])


def names(group: str, options) -> dict:
    return {o: t(f"gan.{group}.{o}") for o in options}


targets, losses = names("targets", gan.TARGETS), names("losses", gan.LOSSES)
c = st.columns([1.2, 1.2, 1, 1, 0.9, 1.3])
c[0].selectbox(t("gan.target"), gan.TARGETS, key="gan.target", format_func=targets.get)
c[1].selectbox(t("gan.loss"), gan.LOSSES, key="gan.loss", format_func=losses.get)
c[2].select_slider(t("gan.lr_d"), LRS, key="gan.lr_d", format_func=lambda v: f"{v:g}")
c[3].select_slider(t("gan.lr_g"), LRS, key="gan.lr_g", format_func=lambda v: f"{v:g}")
c[4].slider(t("gan.d_steps"), 1, gan.MAX_D_STEPS, key="gan.d_steps", help=t("gan.help.d_steps"))
c[5].toggle(t("gan.sn"), key="gan.sn", help=t("gan.help.sn"))
with st.expander(t("gan.setup"), icon=":material/tune:"):
    e = st.columns(4)
    for i, who in enumerate(("g", "d")):
        e[2 * i].slider(t(f"gan.{who}_layers"), 1, gan.MAX_LAYERS, key=f"gan.{who}_layers")
        e[2 * i + 1].select_slider(t(f"gan.{who}_width"), WIDTHS, key=f"gan.{who}_width")
        e[2 * i].selectbox(t(f"gan.opt_{who}"), gan.OPTIMIZERS, key=f"gan.opt_{who}", format_func=names("optimizers", gan.OPTIMIZERS).get)
    e[1].slider(t("gan.latent"), 1, gan.MAX_LATENT, key="gan.latent")
    e[3].select_slider(t("gan.batch"), BATCHES, key="gan.batch")
    e[0].selectbox(t("gan.activation"), gan.ACTIVATIONS, key="gan.activation", format_func=names("activations", gan.ACTIVATIONS).get)
    e[1].selectbox(t("gan.noise"), gan.NOISES, key="gan.noise", format_func=names("noises", gan.NOISES).get)
    e[3].select_slider(t("gan.steps"), STEPS, key="gan.steps", help=t("gan.help.steps", cap=gan.MAX_STEPS))
v = bound.values()
if v["target"] == "custom":
    st.text_area(t("gan.points"), key="gan.points", help=t("gan.help.points", n=gan.MAX_POINTS, lim=gan.POINT_LIMIT),
                 max_chars=800, height=70)
    try:
        gan.parse_points(v["points"])
    except ValueError as err:
        st.error(t("gan.bad_points", why=t(f"gan.point_errors.{err}", n=gan.MAX_POINTS, lim=gan.POINT_LIMIT)))
        v["points"] = D.points
config = experiment.config(v, global_seed())
d_fn, g_fn = gan.LOSS_FUNCTIONS[config.loss]
st.latex(t(f"gan.formulas.{config.loss}"))
device = pick(device_preference())
state: gan.GANState | None = st.session_state.get(RUN)
if state is None or state.z_show.device.type != device.type or not gan.retune(state, config):
    state = st.session_state[RUN] = gan.init_state(config, device)
    st.session_state[PLAYING] = st.session_state.get(PLAYING, False) and state.step < config.steps

b = st.columns([1, 1, 1, 3])
playing = st.session_state[PLAYING] = (bool(st.session_state.get(PLAYING)) and state.step < config.steps
                                       and state.diverged_at is None)
b[0].button(t("gan.pause") if playing else t("gan.play"), key="gan.play_btn", type="primary", width="stretch",
            icon=":material/pause:" if playing else ":material/play_arrow:",
            on_click=lambda: st.session_state.update({PLAYING: not st.session_state.get(PLAYING)}))
if b[1].button(t("gan.step_once"), key="gan.step_btn", icon=":material/skip_next:", width="stretch"):
    with heavy_slot("compute") as ok, safely():
        if ok:
            gan.advance(state, 1)
b[2].button(t("gan.reset"), key="gan.reset_btn", icon=":material/restart_alt:", width="stretch",
            on_click=lambda: st.session_state.update({RUN: None, PLAYING: False}))
b[3].caption(t("gan.controls_note", tick=TICK_S, every=EVERY_S, cap=gan.MAX_STEPS))
prob = config.loss in gan.PROBABILITY_LOSSES
d_label = t("gan.fig.d_prob") if prob else t("gan.fig.d_score")
labels = {k: t(f"gan.fig.{k}") for k in ("real", "fake", "manifold", "arrows", "x1", "x2", "x", "density", "d_star",
                                         "p_data", "p_g", "samples", "walk", "frame", "play", "pause", "step")}
labels["d"] = d_label
curve_labels = {k: t(f"gan.fig.{k}") for k in ("step", "loss", "grad", "metric", "d_loss", "g_loss", "d_grad", "g_grad",
                                               "modes", "hq", "distance")}
curve_labels["title"] = t("gan.fig.curves_title")


def game_figure(state: gan.GANState, snap: gan.Snapshot):
    if config.dim == 2:
        return figs.game_2d(snap, state.real_show.cpu().numpy(), state.target.bounds, prob=prob,
                            labels={**labels, "title": t("gan.fig.game_title", step=snap.step)})
    if config.dim == 1:
        xs = state.grid[:, 0].cpu()
        return figs.game_1d(snap, xs.numpy(), gan.mixture1d_density(xs).numpy(), prob=prob,
                            labels={**labels, "title": t("gan.fig.game1d_title", step=snap.step)})
    return figs.digits(snap, gan.latent_walk(state), labels={**labels, "title": t("gan.fig.digits_title", step=snap.step)})


@st.fragment(run_every=EVERY_S if playing else None)
def live() -> None:
    state: gan.GANState = st.session_state[RUN]
    if st.session_state.get(PLAYING):
        with heavy_slot("compute") as ok, safely():
            if ok:
                gan.advance(state, gan.MAX_STEPS_PER_TICK, time_budget_s=TICK_S)
        if state.step >= state.config.steps or state.diverged_at is not None:
            st.session_state[PLAYING] = False
            st.rerun()  # the whole page, so the timer stops and the button says "play"
    snap = gan.current_snapshot(state)
    m = st.columns(4)
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
    left, right = st.columns([1.05, 1])
    left.plotly_chart(game_figure(state, snap), key="gan.game_fig")
    right.plotly_chart(figs.curves(state.curves, state.history + [snap], labels=curve_labels), key="gan.curves_fig")


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def full_run(items: tuple, device_kind: str) -> list[gan.Snapshot]:
    """Every snapshot of a complete run of these settings: computed once, shared by the class."""
    return offload(jobs.collect, gan.train, gan.GANConfig(**dict(items)), pick(device_kind))   # in a worker


def replay_figure(snaps: list[gan.Snapshot], state: gan.GANState):
    kind = {1: "1d", 2: "2d"}.get(config.dim, "digits")
    xs = state.grid[:, 0].cpu()
    return figs.replay(snaps, kind=kind, labels={**labels, "title": ""}, real=state.real_show.cpu().numpy(),
                       bounds=state.target.bounds, xs=xs.numpy(), p_data=gan.mixture1d_density(xs).numpy(), prob=prob)


tabs = st.tabs([t("gan.tabs.live"), t("gan.tabs.replay")], key="gan.tab", on_change="rerun")
if tabs[0].open:
    with tabs[0]:
        live()
if tabs[1].open:
    with tabs[1]:
        source = st.segmented_control(t("gan.replay_source"), ["mine", "full"], key="gan.replay",
                                      format_func=lambda s: t(f"gan.replay_sources.{s}"), default="mine")
        snaps = state.history
        if source == "full":
            with heavy_slot() as ok, safely(), st.spinner(t("gan.computing")):
                snaps = full_run(tuple(asdict(config).items()), device.type) if ok else state.history
        if len(snaps) < 2:
            st.info(t("gan.replay_empty"), icon=":material/info:")
        else:
            st.plotly_chart(replay_figure(snaps, state), key="gan.replay_fig")
            st.caption(t("gan.notice.replay", n=len(figs.pick_frames(snaps)), last=snaps[-1].step))

st.markdown({1: t("gan.notice.live_1d"), 64: t("gan.notice.live_digits")}.get(config.dim, t("gan.notice.live")))
base = {p.name: p.default for p in bound.params if p.name != "points"}   # a preset keeps the learner's points
lesson.presets(bound, [lesson.Preset(k, {**base, **p}, extra={PLAYING: True}) for k, p in experiment.PRESETS.items()])
lesson.code_that_ran(gan.train_step, d_fn, g_fn, *([gan.gradient_penalty] if config.loss == "wgan_gp" else []),
                     gan.advance, gan.mode_coverage, gan.energy_distance, gan.GANConfig)
sync_url(bound)
