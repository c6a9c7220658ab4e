"""Presenter mode, join codes and "reset my session"."""

import re

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
