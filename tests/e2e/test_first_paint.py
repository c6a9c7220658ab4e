"""What a cold browser fetches for a lesson's first paint: not the syntax highlighter of "the code that ran"."""

import pytest

from tests.e2e.conftest import assert_no_streamlit_error, goto, wait_idle


@pytest.mark.parametrize("lesson", ["convolution", "gan"])
def test_first_paint_does_not_fetch_the_highlighter_and_opening_the_code_does(browser, app_url, lesson):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")   # empty cache
    page = context.new_page()
    fetched: list[tuple[str, int]] = []
    page.on("requestfinished", lambda r: fetched.append((r.url, (r.sizes() or {}).get("responseBodySize", 0)))
            if r.url.endswith(".js") else None)
    goto(page, app_url, path=lesson)
    page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
    first_paint = {url for url, _ in fetched}
    page.get_by_text("The code that ran").click()
    page.locator('[data-testid="stCode"] code').filter(has_text="def ").first.wait_for(timeout=60_000)
    wait_idle(page)
    assert_no_streamlit_error(page)
    later = [(url, size) for url, size in fetched if url not in first_paint]
    highlighter = [(url, size) for url, size in later if size > 300_000]
    assert highlighter, f"opening the code fetched no large chunk: {later}"   # the check sees the highlighter
    assert not {url for url, _ in highlighter} & first_paint
    context.close()


def test_the_course_map_fetches_the_charting_chunk_only_when_the_learner_points_at_a_lesson(browser, app_url):
    """Issue 29: warm the cache while the learner chooses, without adding bytes for one who only reads the map."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")   # empty cache
    page = context.new_page()
    fetched: list[str] = []
    page.on("requestfinished", lambda r: fetched.append(r.url))
    goto(page, app_url)
    page.locator('[data-testid="stPageLink-NavLink"]').first.wait_for(timeout=60_000)
    wait_idle(page)
    page.wait_for_timeout(1500)
    assert not [u for u in fetched if "PlotlyChart" in u], "the course map alone fetched the charting chunk"
    link = page.locator('[data-testid="stMain"] [data-testid="stPageLink-NavLink"]').first
    link.hover()
    page.wait_for_function("() => performance.getEntriesByType('resource').some(e => e.name.includes('PlotlyChart'))",
                           timeout=30_000)
    assert [u for u in fetched if "PlotlyChart" in u] or page.evaluate(
        "() => performance.getEntriesByType('resource').filter(e => e.name.includes('PlotlyChart')).length") > 0
    link.click()
    page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
    assert_no_streamlit_error(page)
    context.close()
