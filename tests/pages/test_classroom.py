"""Presenter mode, join codes and "reset my session"."""

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.support import APP, all_text
from ui.present import CODE_LEN, JoinCodes


def _run(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_join_codes_are_short_stable_and_bounded():
    codes = JoinCodes(capacity=3)
    a = codes.put("gan", {"gan.lr_d": "0.001", "present": "1", "lang": "zh"})
    assert len(a) == CODE_LEN and a == codes.put("gan", {"gan.lr_d": "0.001"})
    assert codes.get(a.lower()) == ("gan", {"gan.lr_d": "0.001"})
    for i in range(3):
        codes.put("gan", {"gan.lr_d": str(i)})
    assert codes.get(a) is None  # oldest evicted once capacity is exceeded


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
