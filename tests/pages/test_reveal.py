"""A class poll's reveal on a joined student's page, in AppTest and in both languages: the lab runs the exercise's
experiment (its settings, its figure), the student sees their verdict, the page's turn to redraw is handed back,
and the student can explore afterwards. The reveal waits for its turn when other labs are redrawing (ui.runtime.Turns);
the verdict shows while it waits."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.support import APP, LANGS, all_text
from ui import predict, runtime
from ui.exercises import for_lesson
from ui.experiments import convolution as experiment
from ui.i18n import strings

PAGE, S = "pages/convolution.py", "convolution"
EX = for_lesson(S)[0]   # the presenter's default question: a number


def _class_with_a_vote(lang: str, vote: str) -> tuple[AppTest, AppTest]:
    """A presenter who asked ``EX`` and a student (in ``lang``) who voted ``vote``: (teacher, student)."""
    teacher = AppTest.from_file(str(APP), default_timeout=60)
    teacher.query_params.update({"present": "1", "lang": "en"})
    teacher.run()
    teacher.switch_page(PAGE).run()
    code = re.search(r"`([A-Z2-9]{6})`", all_text(teacher)).group(1)
    teacher.selectbox(key="app._ask_which").set_value(EX.id).run()
    teacher.button(key="app._ask").click().run()
    assert not teacher.exception

    student = AppTest.from_file(str(APP), default_timeout=60)
    student.query_params.update({"join": code, "lang": lang})
    student.run()
    student.run()   # the join switched to the lesson: the class's question is on top
    box = next(k for k in student.session_state if str(k).startswith("app._vote."))
    student.text_input(key=box).set_value(vote).run()
    student.button(key=box.replace("app._vote.", "app._vote_btn.")).click().run()
    assert not student.exception
    teacher.run()
    next(b for b in teacher.button if b.key and b.key.startswith("app._reveal.")).click().run()
    assert not teacher.exception
    return teacher, student


def _sees_the_experiment(student: AppTest) -> None:
    for name, value in experiment.PRESETS[EX.preset].items():
        assert student.session_state[f"{S}.{name}"] == value, name
    assert student.get("plotly_chart"), "the lab's figure is not on the page"


@pytest.mark.parametrize("lang", LANGS)
def test_after_the_reveal_the_student_sees_the_experiments_figure_and_their_verdict_and_can_explore(lang):
    _, student = _class_with_a_vote(lang, EX.answer())
    student.run()   # the poll's timer: the reveal switches the lab to the experiment in one whole-page run
    assert not student.exception
    _sees_the_experiment(student)
    right = strings(lang)["app.predict.right"].split("**")[0].strip()
    assert any(right in s.value for s in student.success), [s.value for s in student.success]
    assert runtime.TURN not in student.session_state and runtime.turns("rerun").held() == 0   # handed back
    student.number_input(key=f"{S}.size").set_value(12).run()   # exploring afterwards: the learner's value stays
    assert not student.exception
    assert student.session_state[f"{S}.size"] == 12 and student.get("plotly_chart")
    student.run()   # later timer runs keep the verdict and do not switch the lab back
    assert student.session_state[f"{S}.size"] == 12
    assert any(right in s.value for s in student.success)


@pytest.mark.parametrize("lang", LANGS)
def test_a_reveal_that_must_wait_for_its_turn_shows_the_verdict_then_still_runs_the_experiment(lang, monkeypatch):
    wrong = format(float(EX.answer()) + 2 * EX.tolerance * max(1.0, abs(float(EX.answer()))) + 1, ".6g")
    _, student = _class_with_a_vote(lang, wrong)
    monkeypatch.setattr(predict, "REVEAL_WAIT_S", 0.3)
    other = runtime.turns("rerun").take(0.0)   # another student's lab is redrawing (and never says it is done)
    assert other is not None
    try:
        student.run()
    finally:
        runtime.turns("rerun").give_back(other)
    assert not student.exception
    _sees_the_experiment(student)   # after the wait it redrew all the same
    off = strings(lang)["app.predict.off_by"].split("{")[0].strip()
    assert any(off in w.value for w in student.warning), [w.value for w in student.warning]
    assert runtime.turns("rerun").held() == 0
