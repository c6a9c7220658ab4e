"""The GAN lesson in a real browser: play trains live in a fragment, the replay scrubs client-side."""

import re

from tests.e2e.conftest import assert_no_streamlit_error, goto, saw_progress, screenshot, wait_idle, watch_progress

TITLES_JS = ("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
             ".map(p => p.layout.title.text.replace(/<[^>]+>/g, ''))")
FRAMES_JS = ("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
             ".map(p => (p._transitionData && p._transitionData._frames) ? p._transitionData._frames.length : 0)")


def _tall_screenshot(page, name: str) -> None:
    """Streamlit scrolls inside its own container, so make the viewport tall enough for the whole lab."""
    page.set_viewport_size({"width": 1400, "height": 2300})
    page.wait_for_timeout(800)
    screenshot(page, name)


def _step(page) -> int:
    title = page.evaluate(TITLES_JS)[0]
    return int(re.search(r"\d+", title).group())


def test_play_trains_live_then_pause_stops(page, app_url):
    goto(page, app_url, path="gan", lang="en")
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=60_000)
    assert page.evaluate(TITLES_JS)[0].startswith("The game at step 0")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => /step [1-9]/"
                           ".test(document.querySelector('.js-plotly-plot')?.layout?.title?.text ?? '')",
                           timeout=30_000)
    first = _step(page)
    assert first > 0
    # the fragment keeps training and redrawing on its timer: a later tick draws a later step (on a loaded
    # machine a tick can take longer than the timer's period, so wait for it rather than for a fixed time)
    page.wait_for_function(f"() => Number((({TITLES_JS})()[0].match(/\\d+/) || [0])[0]) > {first}",
                           timeout=30_000)
    page.get_by_role("button", name="Pause").click()
    # On a loaded machine a tick can be mid-flight as the click lands: wait for the button to say Play
    # (the full rerun that stops the timer has finished), then for the last fragment tick to settle.
    page.get_by_role("button", name="Play").wait_for(timeout=30_000)
    wait_idle(page)
    page.wait_for_timeout(1000)
    readings = [_step(page)]
    for _ in range(6):                       # paused: the step stops moving (a tick already sent may land)
        page.wait_for_timeout(1500)
        readings.append(_step(page))
        if readings[-1] == readings[-2]:
            break
    assert readings[-1] == readings[-2], f"still training after Pause: steps {readings}"
    page.wait_for_timeout(3000)
    assert _step(page) == readings[-1]       # and it stays where it stopped
    assert_no_streamlit_error(page)
    _tall_screenshot(page, "gan-live-en")


def test_one_dimensional_picture_in_chinese_and_replay_of_the_complete_run(page, app_url):
    goto(page, app_url, path="gan", lang="zh", query="gan.target=mixture1d&gan.latent=1&gan.noise=uniform")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert page.evaluate(TITLES_JS)[0].startswith("第 0 步：数据密度")
    page.get_by_role("button", name="走一步").click()
    wait_idle(page)
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')?.layout?.title?.text?.includes('第 1 步')")
    page.get_by_role("tab", name="回放").click()
    wait_idle(page)
    watch_progress(page)
    page.get_by_role("radio", name="这组设置的完整运行").click()
    wait_idle(page, timeout=120_000)
    page.wait_for_function(f"() => ({FRAMES_JS})().some(n => n > 10)", timeout=120_000)
    assert_no_streamlit_error(page)
    assert saw_progress(page), "the complete run trained without a progress bar"   # issue 31, item 8
    plot = page.locator(".js-plotly-plot").first
    plot.get_by_text("播放", exact=True).click()
    page.wait_for_timeout(2000)
    assert page.locator('[data-testid="stStatusWidget"]').count() == 0  # the replay plays without a rerun
    assert "第 0 步" not in page.evaluate(TITLES_JS)[0]
    _tall_screenshot(page, "gan-replay-1d-zh")


def test_digits_preset_trains_and_the_collapse_preset_raises_the_flag(page, app_url):
    goto(page, app_url, path="gan", lang="en")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Digits").click()
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')?.layout?.title?.text?.includes(\"digits\")",
                           timeout=30_000)
    page.wait_for_timeout(6000)
    assert _step(page) > 0 and "gan.target=digits" in page.url
    page.get_by_role("button", name="Pause").click()
    wait_idle(page)
    assert_no_streamlit_error(page)
    _tall_screenshot(page, "gan-digits-en")
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.get_by_role("button", name="Mode collapse").click()
    page.wait_for_function("() => !location.href.includes('gan.target=digits')", timeout=60_000)
    # the ring's flag names its 8 modes: the paused digits run may have left its own flag (of 10 modes) on the page,
    # and waiting for that one paused the ring before it recorded a snapshot (the replay then had none to show).
    flag = page.locator('[data-testid="stAlertContentWarning"]', has_text=re.compile(r"Mode collapse:.* of the 8 "))
    # the metric flags it while it trains: after enough live steps, which take longer while the suite's other xdist
    # worker trains models on the other core (a clean-checkout run timed out at 60 s)
    flag.first.wait_for(timeout=180_000)
    page.get_by_role("button", name="Pause").click()
    wait_idle(page)
    page.get_by_role("tab", name="Replay").click()
    wait_idle(page)
    page.wait_for_function(f"() => ({FRAMES_JS})().some(n => n > 2)", timeout=90_000)
    assert_no_streamlit_error(page)
    _tall_screenshot(page, "gan-collapse-replay-en")
