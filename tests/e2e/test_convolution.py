"""The convolution lesson in a real browser: the animation plays client-side, widgets recompute."""

from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, wait_idle

FRAMES_JS = "() => document.querySelector('.js-plotly-plot')._transitionData._frames.length"
# the products' sum, written under them as their x axis' title: "Σ = 36<br>→ y[0,0]"
SUM_JS = "() => document.querySelector('.js-plotly-plot')._fullLayout.xaxis3.title.text"


def test_animation_plays_in_the_browser_without_a_server_rerun(page, app_url):
    goto(page, app_url, path="convolution", lang="en")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert page.evaluate(FRAMES_JS) == 16
    before = page.evaluate(SUM_JS)
    assert before.startswith("Σ = ") and before.endswith("y[0,0]")
    page.locator(".js-plotly-plot").first.get_by_text("Play", exact=True).click()
    page.wait_for_timeout(1500)
    assert page.locator('[data-testid="stStatusWidget"]').count() == 0  # no rerun while playing
    after = page.evaluate(SUM_JS)
    assert after != before and after.startswith("Σ = ")  # the multiply-add of a later cell
    shown = page.locator(".js-plotly-plot").first.locator(".g-x3title text").text_content()
    assert shown.replace(" ", "") == after.replace("<br>", "").replace(" ", "")  # drawn, not only in the layout
    assert_no_streamlit_error(page)
    screenshot(page, "convolution-animation-en")


def test_changing_stride_recomputes_in_chinese(page, app_url):
    goto(page, app_url, path="convolution", lang="zh", query="convolution.size=8")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.get_by_text("每个输出格子都是卷积核").first.wait_for()
    assert page.evaluate(FRAMES_JS) == 36
    page.get_by_role("spinbutton", name="步幅 s").fill("2")
    page.get_by_role("spinbutton", name="步幅 s").press("Enter")
    wait_idle(page)
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')._transitionData._frames.length == 9")
    assert "convolution.stride=2" in page.url
    assert_no_streamlit_error(page)
    page.get_by_role("tab", name="棋盘格伪影").click()
    page.wait_for_timeout(800)
    screenshot(page, "convolution-checker-zh")
