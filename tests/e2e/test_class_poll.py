"""A class poll across two processes behind nginx: the teacher asks, every student sees the question without a
reload, votes, the teacher's count matches, the teacher reveals, every student sees the result and the experiment;
after a reload each student is still in the class (its cookie), with the question on their guided path."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, wait_idle
from tests.e2e.test_class_join import serve, stop
from ui.exercises import for_lesson
from ui.i18n import strings

pytestmark = pytest.mark.slow
STUDENTS = 3


def test_teacher_asks_students_vote_and_everyone_sees_the_reveal(browser, tmp_path):
    proc, proxy, _ = serve({"DL_LAB_DATA_DIR": str(tmp_path), "DL_LAB_DATABASE_URL": ""})
    en, zh = strings("en"), strings("zh")
    ex = for_lesson("convolution")[0]   # the default exercise of the presenter's picker: a number
    try:
        teacher = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()
        goto(teacher, proxy, path="convolution", query="present=1", timeout=120_000)
        code_el = teacher.get_by_text(re.compile(r"Short code"))
        code_el.wait_for(timeout=60_000)
        code = re.search(r"Short code:\s*([A-Z2-9]{6})", code_el.inner_text()).group(1)
        students = []
        for i in range(STUDENTS):
            page = browser.new_context(viewport={"width": 390, "height": 844},
                                       locale="zh-CN" if i % 2 else "en-US").new_page()
            goto(page, proxy, query=f"join={code}", lang="zh" if i % 2 else "en", timeout=120_000)
            page.wait_for_url(re.compile(r"/convolution"), timeout=60_000)
            students.append(page)
        teacher.get_by_role("button", name=en["app.predict.ask"]).click()
        answers = [ex.answer(), ex.answer(), str(int(float(ex.answer())) + 1)]
        for i, page in enumerate(students):   # the question appears by itself (no reload)
            s = zh if i % 2 else en
            page.get_by_text(s["app.predict.class_question"]).first.wait_for(timeout=30_000)
            poll = page.locator("[class*='st-key-class_poll_']").first   # the class's question, not the guided path
            box = poll.get_by_label(s["app.predict.your_number"])
            box.fill(answers[i])
            box.press("Enter")
            page.wait_for_timeout(500)
            poll.get_by_role("button", name=s["app.predict.vote"]).click()
            poll.get_by_text(s["app.predict.voted"][:6]).first.wait_for(timeout=30_000)
        teacher.wait_for_function(
            "n => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')].some(e => e.innerText.trim() == n)",
            arg=str(STUDENTS), timeout=30_000)                                         # the projector's count
        teacher.get_by_role("button", name=en["app.predict.reveal"]).click()
        teacher.get_by_text(en["app.predict.share_right"].split("{")[0]).first.wait_for(timeout=30_000)
        screenshot(teacher, "class-poll-teacher")
        for i, page in enumerate(students):
            page.wait_for_url(re.compile(r"convolution\.size=7"), timeout=60_000)   # the lab runs the experiment
            s = zh if i % 2 else en
            verdict = s["app.predict.right"] if answers[i] == ex.answer() else s["app.predict.off_by"]
            page.get_by_text(verdict.split("**")[0].strip()).first.wait_for(timeout=30_000)
            assert_no_streamlit_error(page)
        screenshot(students[1], "class-poll-student-zh")
        # A reload is a new session: the browser's class cookie brings the class back, with the revealed question on
        # the student's guided path (kept in the class store), and the next question reaches them.
        n = len(for_lesson("convolution"))
        for i, page in enumerate(students):
            assert any(c["name"] == "dl_lab_class" and c["value"].startswith(code + ".")
                       for c in page.context.cookies())
            page.reload()
            page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
            wait_idle(page)
            s = zh if i % 2 else en
            page.get_by_text(s["app.predict.title"].format(done=1, n=n)).first.wait_for(timeout=30_000)
        teacher.get_by_role("button", name=en["app.predict.ask"]).click()
        for i, page in enumerate(students):
            s = zh if i % 2 else en
            page.locator("[class*='st-key-class_poll_']").get_by_text(s["app.predict.class_question"]).first.wait_for(
                timeout=30_000)
            assert_no_streamlit_error(page)
    finally:
        stop(proc)
