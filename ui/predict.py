"""Predict, then observe, on a lesson page: the learner's guided path, a joined student's class poll, and the
presenter's "ask the class" / live count / reveal / results.

The result of an exercise stays hidden until the learner commits a prediction: only then does the lab switch
to the exercise's experiment (the preset it names), and the answer, computed by dlcore, grades the prediction.
In a class (a student who joined through the presenter's code), the presenter's question appears on its own
(a fragment reads one small row every few seconds), the student votes, and the reveal runs the experiment.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
from collections.abc import Sequence

import streamlit as st

from classroom.store import Done, Refused, StoreUnavailable, new_learner_id
from ui.exercises import Exercise, Grade, by_id, for_lesson
from ui.figures.common import Prebuilt
from ui.i18n import lang, option_names, t
from ui.present import CLASS_CODE, LEARNER, PRESENT_CODE, PROGRESS_OF, TEACHER_KEY, is_presenting
from ui.runtime import capture_first_figure, rerun_in_turn, shared_figure
from ui.state import Bound, apply_preset, global_seed

STUDENT_POLL_S, TEACHER_POLL_S = 2, 1   # how often a joined student's page / the projector asks for news
SHARED_READ_S = 0.5   # a process reads a class's current question at most this often, for all its students
REVEAL_WAIT_S = 5.0   # longest a student's lab waits for its turn to redraw after a reveal (then it redraws anyway)
PREVIEW_WAIT_S = 1.0  # longest a waiting student waits for the first redrawn lab's figure (then: the verdict alone)

log = logging.getLogger(__name__)
_polls: dict[str, tuple[float, object]] = {}   # class code -> (when read, its current poll): one read per SHARED_READ_S
_polls_lock = threading.Lock()


def _done(lesson: str) -> dict[str, Grade]:
    _load_class_progress()
    return st.session_state.setdefault(f"{lesson}._done", {})


def _load_class_progress() -> None:
    """A learner in a class gets back the guided path they committed in earlier sessions (the class store keeps it
    with the join code): read once per session and class, merged under this session's own."""
    code, learner = st.session_state.get(CLASS_CODE), st.session_state.get(LEARNER)
    if not code or not learner or st.session_state.get(PROGRESS_OF) == (code, learner):
        return
    st.session_state[PROGRESS_OF] = (code, learner)
    store = _store()
    if store is None:
        return
    try:
        kept = store.done(code, learner)
    except StoreUnavailable:
        return
    for ex_id, d in kept.items():
        ex = by_id(ex_id)
        if ex is not None:
            grade = Grade(d.correct, d.answer, d.off_by)
            st.session_state.setdefault(f"{ex.lesson}._done", {}).setdefault(ex_id, grade)


def _keep(ex: Exercise, grade: Grade) -> None:
    """Record a committed prediction for this learner's session, and in the class store when they are in a class
    (the course map shows it again after a reload). The store being away only costs the keeping."""
    _done(ex.lesson)[ex.id] = grade
    code, learner = st.session_state.get(CLASS_CODE), st.session_state.get(LEARNER)
    if not code or not learner:
        return
    store = _store()
    if store is None:
        return
    try:
        store.record_done(code, learner, ex.id, Done(grade.correct, grade.answer, grade.off_by))
    except (Refused, StoreUnavailable) as err:
        log.warning("guided path not kept in the class store: %s", err)


def progress(lesson: str) -> tuple[int, int]:
    """(exercises done, exercises) of a lesson for this learner's session: the course map shows it."""
    return len(_done(lesson)), len(for_lesson(lesson))


def _settings(ex: Exercise) -> dict[str, object]:
    import importlib

    experiment = importlib.import_module(f"ui.experiments.{ex.lesson}")
    return {**experiment.DEFAULTS, **experiment.PRESETS[ex.preset]}


def question(ex: Exercise) -> str:
    return t(f"exercises.{ex.id}.question", **_settings(ex))


def _option_names(ex: Exercise) -> dict[object, str]:
    return option_names(f"exercises.{ex.id}.options", ex.options or ())


def _ask(ex: Exercise, key: str) -> object:
    """The prediction widget: the options, or a number typed as text (so a wrong entry gets a message)."""
    if ex.options is not None:
        names = _option_names(ex)
        return st.radio(t("app.predict.your_answer"), ex.options, index=None, key=key, format_func=names.get,
                        horizontal=True)
    return st.text_input(t("app.predict.your_number"), key=key, max_chars=32, placeholder="0")


def _show_grade(ex: Exercise, grade: Grade) -> None:
    shown = _option_names(ex).get(grade.answer, grade.answer)
    if grade.correct:
        st.success(t("app.predict.right", answer=shown), icon=":material/check_circle:")
    elif grade.off_by is not None:
        st.warning(t("app.predict.off_by", answer=shown, off=f"{grade.off_by:+.3g}"), icon=":material/straighten:")
    else:
        st.warning(t("app.predict.wrong", answer=shown), icon=":material/cancel:")
    st.markdown(t(f"exercises.{ex.id}.explain", **_settings(ex)))


def _run_experiment(bound: Bound, presets: Sequence, ex: Exercise) -> None:
    """Switch the lab to the exercise's experiment, as its preset button would."""
    preset = next((p for p in presets if p.name == ex.preset), None)
    if preset is not None:
        apply_preset(bound, preset)


def _commit(bound: Bound, presets: Sequence, ex: Exercise, key: str) -> None:
    guess = st.session_state.get(key)
    try:
        grade = ex.grade(guess, seed=global_seed())
    except ValueError:
        st.session_state[f"{bound.lesson}._predict_error"] = ex.id
        return
    _keep(ex, grade)
    st.session_state[f"{bound.lesson}._predict_open"] = True
    _run_experiment(bound, presets, ex)


def guided_path(bound: Bound, presets: Sequence) -> None:
    """The lesson's exercises in order: question, prediction, commit; then the result and why."""
    exercises = for_lesson(bound.lesson)
    if not exercises:
        return
    done = _done(bound.lesson)
    # Closed until the learner opens it (the lab's main figure stays on the first screen); open after a commit,
    # so the verdict is in view.
    opened = st.session_state.get(f"{bound.lesson}._predict_open", False)
    with st.expander(t("app.predict.title", done=len(done), n=len(exercises)), icon=":material/psychology:",
                     expanded=opened):
        ids = [ex.id for ex in exercises]
        first_open = next((i for i in ids if i not in done), ids[-1])
        picked = st.segmented_control(t("app.predict.pick"), ids, key=f"{bound.lesson}._exercise",
                                      default=first_open, required=True,
                                      format_func={i: f"{n + 1}" + (" ✓" if i in done else "")
                                                   for n, i in enumerate(ids)}.get)
        ex = by_id(picked or first_open) or exercises[0]
        st.markdown(f"**{question(ex)}**")
        if ex.id in done:
            _show_grade(ex, done[ex.id])
            st.caption(t("app.predict.lab_runs_it"))
            return
        key = f"{bound.lesson}._guess.{ex.name}"
        _ask(ex, key)
        if st.session_state.pop(f"{bound.lesson}._predict_error", None) == ex.id:
            st.error(t("app.predict.invalid"), icon=":material/error:")
        st.button(t("app.predict.commit"), key=f"{bound.lesson}._commit.{ex.name}", type="primary",
                  icon=":material/lock:", on_click=_commit, args=(bound, presets, ex, key))
        st.caption(t("app.predict.hidden"))


# -- in a class -------------------------------------------------------------------------------------------------
def _current_poll(store, code: str):
    """The class's current question, read from the store at most every ``SHARED_READ_S`` per process: sixty
    waiting students cost two small queries a second, not thirty (``bench.classpoll`` measures it). The
    presenter's own actions in this process forget the copy at once (``_forget``); another process sees them
    within ``SHARED_READ_S``."""
    now = time.monotonic()
    with _polls_lock:
        hit = _polls.get(code)
        if hit is not None and now - hit[0] < SHARED_READ_S:
            return hit[1]
    poll = store.current_poll(code)
    with _polls_lock:
        if len(_polls) > 4096:   # bounded: classes come and go
            _polls.clear()
        _polls[code] = (now, poll)
    return poll


def _forget(code: str) -> None:
    with _polls_lock:
        _polls.pop(code, None)


def _store():
    from ui.present import class_store

    return class_store()


def predict(bound: Bound, presets: Sequence) -> None:
    """The lesson's Predict part: the presenter's class poll controls (presenter mode), the class's current
    question (a joined student), and this learner's guided path."""
    if is_presenting():   # the projector asks the class; the learners' own guided path is on their screens
        presenter_panel(bound)
        return
    class_poll(bound, presets)
    guided_path(bound, presets)


def class_poll(bound: Bound, presets: Sequence) -> None:
    """A joined student's view of the presenter's current question.

    One timer, every ``STUDENT_POLL_S`` seconds, waiting or not: it shows the question when one opens, redraws it
    while it is open, and on the reveal runs the experiment. A second, faster timer while a question was open
    (1 s) tripled the class's reruns at the moment the server has most to do (60 students: 30 reruns a second
    became 90). Without it (``bench.classpoll``, one process, 2026-12-03) the vote reaches the projector sooner
    (p95 2.0-2.1 s -> 1.0-1.4 s) and exploring students wait less; the reveal is noticed up to 2 s after it
    happens (median 2.6-2.9 s -> 3.7-4.5 s, p95 about the same, 4.4-5.9 s)."""
    code = st.session_state.get(CLASS_CODE)
    if not code:
        return

    @st.fragment(run_every=STUDENT_POLL_S)
    def class_question() -> None:
        store = _store()
        if store is None:
            return
        try:
            poll = _current_poll(store, code)
        except StoreUnavailable:
            return
        ex = by_id(poll.exercise_id) if poll else None
        if poll is None or ex is None or ex.lesson != bound.lesson:
            return
        _poll_box(bound, presets, store, poll, ex)

    class_question()


def _poll_box(bound: Bound, presets: Sequence, store, poll, ex: Exercise) -> None:
    """The class question: vote while it is open; after the reveal, run the experiment once and grade."""
    if LEARNER not in st.session_state:
        st.session_state[LEARNER] = new_learner_id()
    learner = st.session_state[LEARNER]
    voted = st.session_state.setdefault("app._voted", {})
    with st.container(border=True, key=f"class_poll_{poll.id}"):
        st.markdown(f"**{t('app.predict.class_question')}** {question(ex)}")
        if poll.state == "revealed":
            if st.session_state.get("app._shown_poll") != poll.id:   # run the experiment once, on the reveal
                st.session_state["app._shown_poll"] = poll.id
                if poll.id in voted and poll.answer is not None and ex.id not in _done(ex.lesson):
                    try:   # the class's question is on their guided path too (a vote the store took grades)
                        _keep(ex, ex.check(voted[poll.id], poll.answer))
                    except ValueError:
                        log.warning("a stored vote could not be graded: %r", voted[poll.id])
                _run_experiment(bound, presets, ex)
                # Every joined student's lab redraws at this moment: one whole-page run at a time (first come,
                # first served), so the burst does not stall everyone else. Meanwhile a student sees the verdict and
                # the experiment's figure as the first lab of this process to redraw it drew it (in the same
                # language, with the same seed).
                shared = (st.session_state.get(CLASS_CODE), poll.id, ex.id, lang(), global_seed())
                capture_first_figure(shared)
                rerun_in_turn("rerun", REVEAL_WAIT_S, waiting=lambda: _while_waiting(ex, poll, voted, shared))
            _verdict(ex, poll, voted)
            return
        key = f"app._vote.{poll.id}"
        _ask(ex, key)
        if st.button(t("app.predict.vote"), key=f"app._vote_btn.{poll.id}", type="primary",
                     icon=":material/how_to_vote:"):
            try:
                store.vote(poll.id, learner, st.session_state.get(key))
                voted[poll.id] = st.session_state.get(key)
            except (Refused, ValueError):
                st.error(t("app.predict.invalid"), icon=":material/error:")
            except StoreUnavailable:
                st.warning(t("app.present.unavailable"), icon=":material/cloud_off:")
        if poll.id in voted:
            st.caption(t("app.predict.voted"))


def _while_waiting(ex: Exercise, poll, voted: dict, shared: tuple) -> None:
    """A student whose lab waits for its turn after the reveal: the verdict and, from the first lab to redraw the
    experiment in this process (waiting up to ``PREVIEW_WAIT_S`` for it), the experiment's figure. The student's
    own lab redraws it below, with its download, when its turn comes."""
    _verdict(ex, poll, voted)
    spec = shared_figure(shared, PREVIEW_WAIT_S)
    if spec is not None:
        st.caption(t("app.predict.preview"))
        st.plotly_chart(Prebuilt(spec), key=f"app._reveal_fig.{poll.id}")


def _verdict(ex: Exercise, poll, voted: dict) -> None:
    """After the reveal: whether this learner's vote was right (or the answer, if they did not vote)."""
    if poll.id in voted and poll.answer is not None:
        _show_grade(ex, ex.check(voted[poll.id], poll.answer))
    else:
        st.info(t("app.predict.revealed", answer=_option_names(ex).get(poll.answer, poll.answer)))


def presenter_panel(bound: Bound) -> None:
    """The presenter's controls: ask the class an exercise, watch the answers come in, reveal, download results."""
    exercises = for_lesson(bound.lesson)
    key, code = st.session_state.get(TEACHER_KEY), st.session_state.get(PRESENT_CODE)
    if not exercises or not code or not key:
        return
    store = _store()
    if store is None:
        return
    with st.container(border=True, key="presenter_poll"):
        c = st.columns([3, 1], vertical_alignment="center")
        ids = [ex.id for ex in exercises]
        names = {i: f"{n + 1}. {question(by_id(i))}" for n, i in enumerate(ids)}   # in this run's language
        picked = c[0].selectbox(t("app.predict.ask_which"), ids, key="app._ask_which", format_func=names.get,
                                label_visibility="collapsed")   # the options say what they are: compact
        if c[1].button(t("app.predict.ask"), key="app._ask", type="primary", icon=":material/campaign:",
                       width="stretch"):
            ex = by_id(picked)
            try:
                store.open_poll(code, ex.id, key, options=ex.options)
                _forget(code)
            except (Refused, PermissionError, StoreUnavailable):
                st.warning(t("app.present.unavailable"), icon=":material/cloud_off:")

        @st.fragment(run_every=TEACHER_POLL_S)
        def live() -> None:
            try:
                poll = store.current_poll(code)
                counts = store.tally(poll.id) if poll else {}
            except (StoreUnavailable, Refused):
                return
            ex = by_id(poll.exercise_id) if poll else None
            if poll is None or ex is None:
                return
            total = sum(counts.values())
            st.metric(t("app.predict.answers_in"), total)
            if poll.state == "open":
                show = st.toggle(t("app.predict.show_histogram"), key="app._show_hist")
                if show and counts:
                    _histogram(ex, counts, None)
                st.button(t("app.predict.reveal"), key=f"app._reveal.{poll.id}", icon=":material/visibility:",
                          on_click=_reveal, args=(store, poll.id, key, ex, code))
            else:
                _histogram(ex, counts, poll.answer)
                right = counts.get(poll.answer or "", 0)
                st.caption(t("app.predict.share_right", share=f"{right / total:.0%}" if total else "–"))
        live()
        results = store.results(code, key)
        if results:
            st.download_button(t("app.predict.results_csv"), data=lambda: _results_csv(results),
                               file_name=f"class-{code}-polls.csv", mime="text/csv", key="app._results_csv",
                               icon=":material/download:", on_click="ignore")


def _reveal(store, poll_id: int, teacher_key: str, ex: Exercise, code: str) -> None:
    try:
        store.reveal(poll_id, teacher_key, ex.answer(global_seed()))   # the answer dlcore computes
        _forget(code)
    except (Refused, PermissionError, StoreUnavailable):
        st.session_state["app._poll_problem"] = True


def _histogram(ex: Exercise, counts: dict[str, int], answer: str | None) -> None:
    import plotly.graph_objects as go

    from ui.figures.common import color

    names = _option_names(ex)
    keys = list(ex.options) if ex.options else sorted(counts, key=float)
    fig = go.Figure(go.Bar(x=[names.get(k, k) for k in keys], y=[counts.get(k, 0) for k in keys],
                           marker_color=[color(2) if k == answer else color(7) for k in keys],
                           text=[counts.get(k, 0) for k in keys], textposition="outside"))
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10}, font={"size": 16},
                      yaxis={"title": t("app.predict.votes")})
    st.plotly_chart(fig, key="app._histogram")


def _results_csv(results) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["poll", "exercise", "state", "correct answer", "answer", "votes", "share correct"])
    for r in results:
        for answer, n in sorted(r.counts.items()) or [("", 0)]:
            w.writerow([r.id, r.exercise_id, r.state, r.answer or "", answer, n,
                        "" if r.share_correct is None else f"{r.share_correct:.3f}"])
    return out.getvalue().encode("utf-8-sig")
