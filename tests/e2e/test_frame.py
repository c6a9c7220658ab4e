"""The frame in a real browser: home renders, the language switch works, every lesson shows its figure."""

import json
import re

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, wait_idle
from ui import catalog

LESSONS = catalog.available()


def test_home_renders_course_map_in_english(page, app_url):
    goto(page, app_url, lang="en")
    page.get_by_role("heading", name="Course map").wait_for()
    assert_no_streamlit_error(page)
    screenshot(page, "home-en")


def test_language_switch_changes_text_to_chinese(page, app_url):
    goto(page, app_url, lang="en")
    page.get_by_role("heading", name="Course map").wait_for()
    page.locator('[data-testid="stSidebar"]').get_by_text("中文", exact=True).click()
    wait_idle(page)
    page.get_by_role("heading", name="课程地图").wait_for()
    assert "lang=zh" in page.url
    screenshot(page, "home-zh")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("lesson", LESSONS, ids=[x.slug for x in LESSONS])
def test_every_lesson_shows_its_figure(page, app_url, lesson, lang):
    goto(page, app_url, path=lesson.slug, lang=lang)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=90_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    assert_no_streamlit_error(page)
    screenshot(page, f"{lesson.slug}-{lang}")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_streamlit_stop_button_speaks_the_learners_language(browser, app_url, lang):
    """Issue 31, item 14: Streamlit draws "Stop" in English only; ui.frame relabels it. The server's messages are held
    back after a click, so the run looks long to the browser and the Stop button shows (after 0.5 s), every time."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    held, hold, sockets = [], [""], []   # hold: "" pass all; "armed": pass up to the run's start, then hold; "on"

    def down(ws, message) -> None:
        if hold[0] == "on":
            held.append(message)
            return
        if hold[0] == "armed" and isinstance(message, bytes):
            msg = ForwardMsg()
            msg.ParseFromString(message)
            if msg.WhichOneof("type") == "session_status_changed":   # the browser now knows the script runs
                hold[0] = "on"
        ws.send(message)

    def route(ws):
        server = ws.connect_to_server()
        server.on_message(lambda m: down(ws, m))
        ws.on_message(server.send)
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/_stcore/stream$"), route)
    goto(page, app_url, path="attention", lang=lang)
    page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
    wait_idle(page)
    hold[0] = "armed"
    page.locator('[data-testid="stTab"]').nth(1).click()
    stop = page.locator('[data-testid="stStatusWidget"] button').first
    try:
        stop.wait_for(timeout=20_000)
    finally:
        screenshot(page, f"frame-stop-{lang}")
    label = stop.evaluate("b => [getComputedStyle(b, '::after').content, getComputedStyle(b).fontSize]")
    while held:   # let the run finish, in order
        sockets[-1].send(held.pop(0))
    hold[0] = ""
    wait_idle(page)
    assert_no_streamlit_error(page)
    context.close()
    assert label == [json.dumps({"zh": "停止", "en": "Stop"}[lang], ensure_ascii=False), "0px"], label
