"""The frame in a real browser: home renders, the language switch works, every lesson shows its figure."""

import pytest

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
