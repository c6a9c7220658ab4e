"""Presenter mode, join codes and "reset my session"."""

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.support import APP, all_text


def _run(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_presenter_mode_shows_join_code_and_big_type():
    at = _run({"present": "1", "lang": "en", "seed": "42"})
    assert not at.exception
    text = all_text(at)
    m = re.search(r"Short code: `([A-Z0-9]{6})`", text)
    assert m, text[:500]
    assert at.session_state["app.present"] is True
    # a student opening the code lands on the same experiment (same seed), in their own language
    student = _run({"join": m.group(1), "lang": "zh"})
    assert not student.exception
    assert student.session_state["app.seed"] == 42
    assert student.title[0].value == "课程地图"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_same_presenter_keeps_one_code_and_students_reach_it_in_another_session(lang):
    at = _run({"present": "1", "lang": lang, "gan.loss": "minimax"})
    at.switch_page("pages/gan.py").run()
    assert not at.exception
    first = re.search(r"`([A-Z2-9]{6})`", all_text(at)).group(1)
    at.run()
    assert re.search(r"`([A-Z2-9]{6})`", all_text(at)).group(1) == first   # a rerun re-projects the same code
    student = _run({"join": first.lower(), "lang": "en"})
    assert not student.exception
    assert student.session_state["gan.loss"] == "minimax"


@pytest.mark.parametrize("code", ["'; DROP TABLE join_codes; --", "A" * 5000, "ＡＢＣＤＥＦ", "ABCD0O", ""])
def test_hostile_join_codes_get_the_unknown_code_note(code):
    at = _run({"join": code, "lang": "en"})
    assert not at.exception
    assert any("unknown or has expired" in w.value for w in at.warning)
    assert at.title[0].value == "Course map"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_a_reachable_class_store_lessons_work_and_class_features_say_so(lang, monkeypatch):
    monkeypatch.setenv("DL_LAB_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/nowhere")
    at = _run({"present": "1", "lang": lang})
    assert not at.exception
    note = {"en": "Class features are unavailable", "zh": "课堂功能暂时不可用"}[lang]
    assert any(note in w.value for w in at.warning)
    at.switch_page("pages/convolution.py").run()   # a lesson still draws its figures
    assert not at.exception and at.get("plotly_chart")
    student = _run({"join": "ABCDEF", "lang": lang})
    assert not student.exception and any(note in w.value for w in student.warning)


def test_unknown_join_code_gives_translated_note():
    at = _run({"join": "ZZZZZZ", "lang": "zh"})
    assert not at.exception
    assert any("ZZZZZZ" in w.value and "不存在" in w.value for w in at.warning)


def test_reset_session_clears_settings_but_keeps_language():
    at = _run({"lang": "zh", "seed": "7"})
    assert at.session_state["app.seed"] == 7
    at.button(key="app.reset_session").click().run()
    assert not at.exception
    assert at.session_state["app.seed"] == 0
    assert at.session_state["app.lang"] == "zh"


def _metadata(at: AppTest) -> int:
    return len(at._session_state._state._new_widget_state.widget_metadata)


@pytest.mark.parametrize("prune", [True, False])
def test_a_student_moving_a_slider_for_long_does_not_pile_up_old_page_runs(prune, monkeypatch):
    """The receptive-field page's row / column inputs get a new widget id whenever the input size changes their
    range; Streamlit 1.67 would keep every old id's metadata (and the page run its callbacks hold)."""
    if not prune:
        monkeypatch.setattr("ui.runtime.prune_widget_metadata", lambda: 0)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("pages/receptive_field.py").run()
    start = _metadata(at)
    for size in range(40, 64, 2):
        at.number_input(key="receptive_field.size").set_value(size).run()
        assert not at.exception
    if prune:
        assert _metadata(at) <= start + 4
    else:
        assert _metadata(at) >= start + 12
