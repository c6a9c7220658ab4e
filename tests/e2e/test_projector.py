"""Presenter mode on a 1280 x 720 projector (issue 29): the join code in a corner, clear of the page's top, and the
lesson's main figure starting on the first screen, in both languages."""

import pytest

from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, wait_idle

LESSONS = ["optimizer_race", "receptive_field", "attention", "convolution"]
# Every one of these leads with its figure. The receptive field (once 1362 px down, under its table editor) and
# attention (once 822 px, under the hand-typed Q, K, V) now draw the figure first and what feeds it below.
FIGURE_FIRST = set(LESSONS)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_presenter_mode_leads_with_the_figure_on_a_projector(browser, app_url, lang):
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US")
    page = context.new_page()
    problems = []
    for slug in LESSONS:
        goto(page, app_url, path=slug, lang=lang, query="present=1", timeout=120_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
        wait_idle(page)
        assert_no_streamlit_error(page)
        page.evaluate("() => document.scrollingElement.scrollTo(0, 0)")
        bar = page.locator(".st-key-join_bar").first.bounding_box()
        big = page.locator(".st-key-join_bar [data-testid=stPopover] button").first
        if big.bounding_box()["x"] + big.bounding_box()["width"] > 1280:
            problems.append(f"{slug}: the large-QR button is cut off")
        plot = page.locator(".js-plotly-plot").first.bounding_box()
        screenshot(page, f"projector-{slug}-{lang}")
        if bar is None or bar["height"] > 150 or bar["y"] < 720 / 2 or bar["x"] < 1280 / 2:
            problems.append(f"{slug}: the join bar is not a small corner panel: {bar}")
        if slug in FIGURE_FIRST and plot["y"] > 720 - 40:
            problems.append(f"{slug}: the first figure starts {round(plot['y'])} px down (not on the first screen)")
    context.close()
    assert not problems, "\n".join(problems)
