"""A joined learner's guided path across sessions, in AppTest: the join writes a class cookie (code and a random
learner id), a commit is kept in the class store, and a new session whose browser sends that cookie is in the class
again with its progress on the lesson and on the course map. Malformed or expired cookies are ignored; leaving the
class clears the cookie; a presenter is never restored as a student."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from classroom.store import CODE_TTL_S, connect, new_teacher_key
from tests.support import APP, LANGS, all_text
from ui import present
from ui.exercises import for_lesson
from ui.i18n import strings

PAGE, S = "pages/convolution.py", "convolution"
COOKIE_SET = re.compile(r'"dl_lab_class" \+ "=" \+ ("[^"]*") \+ "; Max-Age=(\d+);')


def _cookie_scripts(at: AppTest) -> list[tuple[str, int]]:
    """(value, max-age) of every class cookie the run wrote."""
    return [(json.loads(m.group(1)), int(m.group(2)))
            for h in at.get("html") for m in COOKIE_SET.finditer(h.proto.body)]


def _new_class() -> str:
    return connect().create_code(new_teacher_key(), S, {})


def _join(code: str, lang: str) -> tuple[AppTest, list[tuple[str, int]]]:
    """A student opening the join link: the app, the class cookies its first run wrote (the join switches to the
    lesson within that run, which writes the cookie)."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({"join": code, "lang": lang})
    at.run()
    cookies = _cookie_scripts(at)
    at.run()
    assert not at.exception
    assert not _cookie_scripts(at)   # written once
    return at, cookies


def _commit_first(at: AppTest):
    ex = for_lesson(S)[0]
    at.text_input(key=f"{S}._guess.{ex.name}").set_value(ex.answer()).run()
    at.button(key=f"{S}._commit.{ex.name}").click().run()
    assert not at.exception
    return ex


@pytest.mark.parametrize("lang", LANGS)
def test_a_reload_keeps_the_class_and_the_guided_path(lang, monkeypatch):
    code = _new_class()
    student, [(cookie, age)] = _join(code, lang)
    assert cookie.startswith(code + ".") and age == CODE_TTL_S
    assert present.parse_class_cookie(cookie) == (code, student.session_state[present.LEARNER])
    assert f"`{code}`" in all_text(student)   # the sidebar names the class
    ex = _commit_first(student)
    n = len(for_lesson(S))

    monkeypatch.setattr(present, "_class_cookie", lambda: cookie)   # the same browser, a new session
    again = AppTest.from_file(str(APP), default_timeout=120)
    again.query_params["lang"] = lang
    again.run()
    assert not again.exception
    assert again.session_state[present.CLASS_CODE] == code
    progress = [p.proto.text for p in again.get("progress")]
    assert any(f"1 / {n}" in text for text in progress), progress   # the course map
    again.switch_page(PAGE).run()
    assert f"{1} / {n}" in " ".join(e.label for e in again.expander)   # the lesson's guided path
    assert again.session_state[f"{S}._done"][ex.id].correct
    assert not _cookie_scripts(again)   # nothing to write: the cookie is there already


@pytest.mark.parametrize("cookie", ["", "garbage", "ABCDEF", "ABCDEF.short", "ABCDE1.aaaaaaaaaaaaaaaaaaaa",
                                    "ZZZZZZ.aaaaaaaaaaaaaaaaaaaa", "<script>.x", "A" * 5000, None])
def test_a_malformed_or_unknown_cookie_is_ignored(cookie, monkeypatch):
    monkeypatch.setattr(present, "_class_cookie", lambda: cookie)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["lang"] = "en"
    at.run()
    assert not at.exception and not at.error
    assert present.CLASS_CODE not in at.session_state


def test_an_expired_class_is_forgotten(monkeypatch):
    store = connect()
    real_clock = store.clock
    code = _new_class()
    monkeypatch.setattr(present, "_class_cookie", lambda: f"{code}.{'a' * 16}")
    monkeypatch.setattr(store, "clock", lambda: real_clock() + CODE_TTL_S + 1)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["lang"] = "en"
    at.run()
    assert not at.exception
    assert present.CLASS_CODE not in at.session_state
    assert _cookie_scripts(at) == [("", 0)]   # the browser drops it


@pytest.mark.parametrize("lang", LANGS)
def test_leaving_the_class_clears_the_cookie_and_its_questions(lang):
    code = _new_class()
    student, _ = _join(code, lang)
    student.button(key="app.leave_class").click().run()
    assert not student.exception
    assert present.CLASS_CODE not in student.session_state
    assert _cookie_scripts(student) == [("", 0)]
    assert f"`{code}`" not in all_text(student)
    assert strings(lang)["app.present.leave"] not in [b.label for b in student.button]


def test_reset_keeps_the_class(monkeypatch):
    code = _new_class()
    student, _ = _join(code, "en")
    student.button(key="app.reset_session").click().run()
    assert not student.exception
    assert student.session_state[present.CLASS_CODE] == code


def test_a_presenter_is_never_restored_as_a_student(monkeypatch):
    code = _new_class()
    monkeypatch.setattr(present, "_class_cookie", lambda: f"{code}.{'a' * 16}")
    teacher = AppTest.from_file(str(APP), default_timeout=120)
    teacher.query_params.update({"present": "1", "lang": "en"})
    teacher.run()
    assert not teacher.exception
    assert present.CLASS_CODE not in teacher.session_state
