"""The optimizer race in a real browser: the animation plays client-side, a click on the map moves
the start, presets and the inspector work, in English and Chinese."""

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, wait_idle

RACE = ".js-plotly-plot"
FRAMES_JS = "() => document.querySelector('.js-plotly-plot')._transitionData._frames.length"
SLIDER_JS = "() => document.querySelector('.js-plotly-plot').layout.sliders[0].active"
START_JS = ("() => { const q = new URLSearchParams(location.search); "
            "return [parseFloat(q.get('optimizer_race.x0')), parseFloat(q.get('optimizer_race.y0'))]; }")


def test_race_animates_in_the_browser_without_a_rerun(page, app_url):
    goto(page, app_url, path="optimizer_race", lang="en")
    page.locator(RACE).first.wait_for(timeout=90_000)
    # plotly.js adds the frames just after it draws the plot: wait for them, then check
    page.wait_for_function(f"() => ({FRAMES_JS.removeprefix('() => ')}) > 50", timeout=30_000)
    assert page.evaluate(FRAMES_JS) > 50
    assert page.evaluate(SLIDER_JS) == 0
    page.locator(RACE).first.get_by_text("Play", exact=True).click()
    page.wait_for_timeout(2500)
    assert page.locator('[data-testid="stStatusWidget"]').count() == 0      # scrubbing / playing costs no rerun
    assert page.evaluate(SLIDER_JS) > 5
    assert_no_streamlit_error(page)
    page.locator(RACE).first.scroll_into_view_if_needed()
    page.locator(RACE).first.screenshot(path=str(screenshot(page, "optimizer_race-race-en").with_name(
        "optimizer_race-race-figure-en.png")))


def test_click_on_the_map_moves_the_start_in_chinese(page, app_url):
    goto(page, app_url, path="optimizer_race", lang="zh")
    plot = page.locator(RACE).first
    plot.wait_for(timeout=90_000)
    page.get_by_text("点击图例可以隐藏某位选手").first.wait_for()
    # plotly.js adds the animation frames after drawing: a click before that can be lost (seen once in CI)
    page.wait_for_function(f"() => ({FRAMES_JS.removeprefix('() => ')}) > 50", timeout=30_000)
    for attempt in range(3):                       # a click while the chart is still settling may be dropped
        box = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()    # the contour's plot area
        page.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + 0.25 * box["height"])
        wait_idle(page)
        try:
            page.wait_for_function("() => location.search.includes('optimizer_race.x0')", timeout=15_000)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    after = page.evaluate(START_JS)
    assert after[0] > 0 and after[1] > 0          # the upper right quadrant of [-3, 3]^2 (default start has x < 0)
    assert_no_streamlit_error(page)
    screenshot(page, "optimizer_race-click-zh")


def test_saddle_preset_and_inspector(page, app_url):
    goto(page, app_url, path="optimizer_race", lang="en")
    page.locator(RACE).first.wait_for(timeout=90_000)
    page.get_by_role("button", name="Escaping a saddle point").click()
    wait_idle(page)
    page.wait_for_function("() => location.search.includes('optimizer_race.surface=saddle')", timeout=30_000)
    page.get_by_text("SGD slides down to the saddle point").first.wait_for()
    page.get_by_role("tab", name="Inspect a critical point").click()
    wait_idle(page)
    page.get_by_text("A saddle point: the Hessian has a positive and a negative eigenvalue").first.wait_for()
    assert page.locator(RACE).count() >= 2
    assert_no_streamlit_error(page)
    page.locator(RACE).nth(1).scroll_into_view_if_needed()
    screenshot(page, "optimizer_race-saddle-en")
    page.locator(RACE).nth(1).screenshot(path=str(screenshot(page, "optimizer_race-inspector-en").with_name(
        "optimizer_race-inspector-figure-en.png")))


def test_batch_noise_tab_in_chinese(page, app_url):
    goto(page, app_url, path="optimizer_race", lang="zh")
    page.locator(RACE).first.wait_for(timeout=90_000)
    page.get_by_role("tab", name="批量噪声、尖锐与平坦最小值").click()
    wait_idle(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=60_000)
    page.get_by_text("每种批量大小各跑 64 次").first.wait_for()
    assert_no_streamlit_error(page)
    page.locator(RACE).nth(2).scroll_into_view_if_needed()
    page.locator(RACE).nth(2).screenshot(path=str(screenshot(page, "optimizer_race-sharp-flat-zh").with_name(
        "optimizer_race-sharp-flat-figure-zh.png")))


PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.0 Mobile/15E148 Safari/604.1")


def test_on_a_390_px_phone_the_race_comes_first_its_map_is_wide_and_nothing_covers_the_title(browser, app_url):
    """Issue 31, item 10: the first figure started 1563 px down, its map was 140 px wide, its legend covered the
    title. A phone (its user agent says Mobile) gets the race above the controls, the map full width and the loss
    and schedule panels under it."""
    from tests.e2e.test_overlap import _BOXES_JS, problems

    context = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=PHONE_UA, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    page = context.new_page()
    try:
        goto(page, app_url, path="optimizer_race", lang="zh", timeout=120_000)
        plot = page.locator(RACE).first
        plot.wait_for(timeout=90_000)
        page.wait_for_timeout(800)
        top = plot.evaluate("p => p.getBoundingClientRect().top")
        map_width = page.locator(f"{RACE} .nsewdrag").first.bounding_box()["width"]
        found = [p for p in problems(page.evaluate(_BOXES_JS)) if p.startswith("figure 0")]
        shot = screenshot(page, "optimizer_race-390-zh").with_name("optimizer_race-390-figure-zh.png")
        plot.screenshot(path=str(shot))
        assert_no_streamlit_error(page)
        assert top < 700, f"the race starts {top:.0f} px down"          # it was 1563 px
        assert map_width > 240, f"the map is {map_width:.0f} px wide"   # it was 140 px
        assert not found, found
    finally:
        context.close()
