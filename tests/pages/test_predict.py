"""Predict, then observe, in AppTest: the result stays hidden until the learner commits; right, wrong and invalid
predictions in both languages; the lab then runs the exercise's experiment; progress on the lesson and the map."""

import pytest

from tests.support import LANGS, all_text, figure_titles, open_page
from ui.exercises import for_lesson
from ui.experiments import convolution as experiment
from ui.i18n import strings

PAGE, S = "pages/convolution.py", "convolution"


def _pick(at, ex):
    at.segmented_control(key=f"{S}._exercise").set_value(ex.id).run()
    assert not at.exception


@pytest.mark.parametrize("lang", LANGS)
def test_a_right_prediction_is_graded_after_commit_and_the_lab_runs_the_experiment(lang):
    ex = for_lesson(S)[0]
    at = open_page(PAGE, lang)
    _pick(at, ex)
    text = all_text(at)
    explain = strings(lang)[f"exercises.{ex.id}.explain"].format(**{**experiment.DEFAULTS,
                                                                    **experiment.PRESETS[ex.preset]})
    assert explain[:30] not in text                     # hidden before the commit
    at.text_input(key=f"{S}._guess.{ex.name}").set_value(ex.answer()).run()
    at.button(key=f"{S}._commit.{ex.name}").click().run()
    assert not at.exception
    assert any(ex.answer() in s.value for s in at.success)
    assert explain[:30] in all_text(at)
    for name, value in experiment.PRESETS[ex.preset].items():   # the lab now runs the exercise's experiment
        assert at.session_state[f"{S}.{name}"] == value
    assert at.session_state[f"{S}._done"][ex.id].correct


@pytest.mark.parametrize("lang", LANGS)
def test_a_wrong_number_says_how_far_off_and_a_wrong_choice_gives_the_answer(lang):
    num, choice = for_lesson(S)[1], next(e for e in for_lesson(S) if e.options)
    at = open_page(PAGE, lang)
    _pick(at, num)
    at.text_input(key=f"{S}._guess.{num.name}").set_value(str(float(num.answer()) + 3)).run()
    at.button(key=f"{S}._commit.{num.name}").click().run()
    assert any("+3" in w.value for w in at.warning)
    _pick(at, choice)
    wrong = next(o for o in choice.options if o != choice.answer())
    at.radio(key=f"{S}._guess.{choice.name}").set_value(wrong).run()
    at.button(key=f"{S}._commit.{choice.name}").click().run()
    assert not at.exception
    name = strings(lang)[f"exercises.{choice.id}.options.{choice.answer()}"]
    assert any(name in w.value for w in at.warning)
    assert not at.session_state[f"{S}._done"][choice.id].correct


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("guess", ["many", "", "1e999", "七"])
def test_an_invalid_prediction_gets_a_message_and_stays_uncommitted(lang, guess):
    ex = for_lesson(S)[0]
    at = open_page(PAGE, lang)
    _pick(at, ex)
    at.text_input(key=f"{S}._guess.{ex.name}").set_value(guess).run()
    at.button(key=f"{S}._commit.{ex.name}").click().run()
    assert not at.exception
    assert at.error and strings(lang)["app.predict.invalid"][:12] in at.error[0].value
    assert ex.id not in at.session_state[f"{S}._done"]


def test_progress_shows_on_the_lesson_and_on_the_course_map():
    ex = for_lesson(S)[0]
    at = open_page(PAGE, "en")
    at.text_input(key=f"{S}._guess.{ex.name}").set_value(ex.answer()).run()
    at.button(key=f"{S}._commit.{ex.name}").click().run()
    assert f"(1 / {len(for_lesson(S))} done)" in " ".join(e.label for e in at.expander)
    at.switch_page("pages/home.py").run()
    assert f"Exercises: 1 / {len(for_lesson(S))} done" in all_text(at) or any(
        f"1 / {len(for_lesson(S))}" in str(p.proto) for p in at.get("progress"))


def _code(at) -> str:
    import re

    return re.search(r"`([A-Z2-9]{6})`", all_text(at)).group(1)


@pytest.mark.parametrize("lang", LANGS)
def test_a_class_poll_from_question_to_vote_to_reveal(lang):
    from streamlit.testing.v1 import AppTest

    from tests.support import APP

    ex = next(e for e in for_lesson(S) if e.options)
    teacher = AppTest.from_file(str(APP), default_timeout=60)
    teacher.query_params.update({"present": "1", "lang": lang})   # presenter mode from the first page view
    teacher.run()
    teacher.switch_page(PAGE).run()
    assert not teacher.exception
    code = _code(teacher)
    teacher.selectbox(key="app._ask_which").set_value(ex.id).run()
    teacher.button(key="app._ask").click().run()
    assert not teacher.exception

    student = AppTest.from_file(str(APP), default_timeout=60)
    student.query_params.update({"join": code, "lang": "zh" if lang == "en" else "en"})   # each in their own language
    student.run()
    student.run()   # the join switched pages: the lesson runs now, with the class's question on top
    assert not student.exception
    other = "zh" if lang == "en" else "en"
    assert strings(other)["app.predict.class_question"] in all_text(student)
    votes = [k for k in student.session_state if str(k).startswith("app._vote.")]
    assert votes, "the student sees no question"
    wrong = next(o for o in ex.options if o != ex.answer())
    student.radio(key=votes[0]).set_value(wrong).run()
    student.button(key=votes[0].replace("app._vote.", "app._vote_btn.")).click().run()
    assert not student.exception

    teacher.run()
    assert any(m.value == "1" for m in teacher.metric)    # the count on the projector
    reveal = next(b for b in teacher.button if b.key and b.key.startswith("app._reveal."))
    reveal.click().run()
    assert not teacher.exception
    share = strings(lang)["app.predict.share_right"].split("{")[0]
    assert share in all_text(teacher)

    student.run()
    student.run()   # the reveal switches the student's lab to the experiment, then shows the grade
    assert not student.exception
    for name, value in experiment.PRESETS[ex.preset].items():
        assert student.session_state[f"{S}.{name}"] == value
    assert student.warning, "the student sees that the vote was wrong"
    assert not student.session_state[f"{S}._done"][ex.id].correct   # the class's question is on their path, graded
    # the first lab to redraw the experiment shared its first figure, for the students still waiting for their turn
    from ui.runtime import shared_figure
    shared = shared_figure((code, student.session_state["app._shown_poll"], ex.id, other, 0))
    assert shared is not None, "the redrawn lab shared no figure"
    assert _decode_title(shared) == figure_titles(student)[0] != ""


def _decode_title(spec: dict) -> str:
    title = spec.get("layout", {}).get("title", {})
    return title.get("text", "") if isinstance(title, dict) else str(title)


def _waiting_student(share: bool) -> None:
    """A student whose lab waits for its turn after the reveal (AppTest.from_function runs this as the page)."""
    import types

    from ui import runtime
    from ui.exercises import for_lesson
    from ui.predict import _while_waiting

    ex = next(e for e in for_lesson("convolution") if e.options)
    key = ("WAITING", 7, ex.id, "en", 0, share)
    if share:
        with runtime._figures_lock:
            runtime._figures[key] = {"data": [{"type": "bar", "y": [1, 2]}], "layout": {"title": {"text": "shared"}}}
    _while_waiting(ex, types.SimpleNamespace(id=7, answer=ex.answer()), {7: ex.answer()}, key)


@pytest.mark.parametrize("share", [True, False], ids=["shared", "none-yet"])
def test_a_student_waiting_for_the_turn_sees_the_verdict_and_the_shared_figure(share):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_waiting_student, kwargs={"share": share}, default_timeout=60).run()
    assert not at.exception
    assert at.success, "the verdict (a right vote) comes first"
    preview = strings("en")["app.predict.preview"]
    if share:
        assert figure_titles(at) == ["shared"]
        assert any(c.value == preview for c in at.caption)
    else:   # nothing shared within PREVIEW_WAIT_S: the verdict alone
        assert figure_titles(at) == [] and not any(c.value == preview for c in at.caption)


def test_a_capture_shares_the_first_figure_once_and_lapses_at_the_end_of_the_run():
    from streamlit.testing.v1 import AppTest

    def script():
        import plotly.graph_objects as go
        import streamlit as st

        from ui import runtime

        key = ("CAPTURE", 1)
        with runtime._figures_lock:
            runtime._figures.pop(key, None)
        runtime.capture_first_figure(key)
        runtime.offer_figure(go.Figure(layout={"title": {"text": "first"}}))
        runtime.offer_figure(go.Figure(layout={"title": {"text": "second"}}))   # not asked for: not kept
        runtime.capture_first_figure(key)            # already shared: nothing to capture
        st.session_state["asked_again"] = runtime.CAPTURE in st.session_state
        runtime.capture_first_figure(("CAPTURE", 2))
        runtime.end_turn()                           # a run that drew no figure: the capture lapses
        st.session_state["lapsed"] = runtime.CAPTURE not in st.session_state
        st.session_state["title"] = runtime.shared_figure(key)["layout"]["title"]["text"]

    at = AppTest.from_function(script).run()
    assert not at.exception
    assert at.session_state["title"] == "first"
    assert not at.session_state["asked_again"] and at.session_state["lapsed"]


def _wrong(ex) -> str:
    if ex.options:
        return next(o for o in ex.options if o != ex.answer())
    right = float(ex.answer())
    return format(right + 2 * ex.tolerance * max(1.0, abs(right)) + 1, ".6g")


ALL = [ex for lesson in __import__("ui.catalog", fromlist=["x"]).available() for ex in for_lesson(lesson.slug)]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("right", [True, False], ids=["right", "wrong"])
@pytest.mark.parametrize("ex", ALL, ids=lambda e: e.id)
def test_every_exercise_is_graded_on_its_lesson_page(ex, right, lang):
    at = open_page(f"pages/{ex.lesson}.py", lang)
    at.segmented_control(key=f"{ex.lesson}._exercise").set_value(ex.id).run()
    guess = ex.answer() if right else _wrong(ex)
    widget = at.radio if ex.options else at.text_input
    widget(key=f"{ex.lesson}._guess.{ex.name}").set_value(guess).run()
    at.button(key=f"{ex.lesson}._commit.{ex.name}").click().run()
    assert not at.exception
    assert at.session_state[f"{ex.lesson}._done"][ex.id].correct is right
    assert (at.success if right else at.warning), "no verdict shown"


def test_waiting_students_of_a_class_share_one_read_of_the_store_a_second(tmp_path):
    """Sixty students waiting for a question cost one small query a second per process, not thirty; the
    presenter's own ask and reveal in this process are seen at once."""
    from classroom.store import connect
    from ui import predict

    store = connect(f"sqlite:///{tmp_path / 'class.db'}")
    key = "k" * 32
    code = store.create_code(key, "convolution", {})
    reads = []
    real = store.current_poll

    class Counting:
        def current_poll(self, c):
            reads.append(c)
            return real(c)

    counting = Counting()
    assert [predict._current_poll(counting, code) for _ in range(30)] == [None] * 30
    assert len(reads) == 1
    ex = next(e for e in for_lesson(S) if e.options)
    pid = store.open_poll(code, ex.id, key, options=ex.options)
    assert predict._current_poll(counting, code) is None          # within the second: the shared copy
    predict._forget(code)                                          # what the presenter's ask does
    assert predict._current_poll(counting, code).id == pid and len(reads) == 2
    predict._polls[code] = (predict._polls[code][0] - predict.SHARED_READ_S, predict._polls[code][1])
    predict._current_poll(counting, code)                          # a second later: read again
    assert len(reads) == 3
