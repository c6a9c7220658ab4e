"""The backpropagation lesson in a real browser: the forward/backward animation steps client-side, a typed
expression redraws the graph, a bad one gets a translated message, and the page reads at 390 px."""

from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, wait_idle

PLOT = ".js-plotly-plot"
FRAMES_JS = "() => document.querySelector('.js-plotly-plot')._transitionData._frames.length"
CAPTION_JS = ("() => Array.from(document.querySelector('.js-plotly-plot').querySelectorAll('text'))"
              ".map(e => e.textContent).find(s => s.startsWith('Forward') || s.startsWith('Both')"
              " || s.includes('gate') || s.startsWith('Backward')) || ''")


def test_the_graph_steps_forward_then_backward_in_the_browser(page, app_url):
    goto(page, app_url, path="backprop", lang="en")
    page.locator(PLOT).first.wait_for(timeout=60_000)
    assert page.evaluate(FRAMES_JS) == 18          # start, 8 forward steps, the seed, 8 backward steps
    before = page.evaluate(CAPTION_JS)
    assert before.startswith("Both passes are done")
    page.locator(PLOT).first.get_by_text("Play", exact=True).click()
    page.wait_for_timeout(2500)
    assert page.locator('[data-testid="stStatusWidget"]').count() == 0   # no rerun while playing
    assert page.evaluate(CAPTION_JS).startswith("Forward")
    assert_no_streamlit_error(page)
    screenshot(page, "backprop-graph-en")


def test_typing_an_expression_redraws_and_a_bad_one_is_explained_in_chinese(page, app_url):
    goto(page, app_url, path="backprop", lang="zh")
    page.locator(PLOT).first.wait_for(timeout=60_000)
    box = page.get_by_role("textbox", name="表达式 f（变量名自己取）")
    box.fill("(x + y) * z")
    box.press("Enter")
    wait_idle(page)
    values = page.get_by_role("textbox", name="输入的取值")
    values.fill("x = -2, y = 5, z = -4")
    values.press("Enter")
    wait_idle(page)
    page.wait_for_function(f"() => {FRAMES_JS[6:]} == 6")   # start, 2 forward, seed, 2 backward
    assert "backprop.expression=" in page.url
    box.fill("__import__('os')")
    box.press("Enter")
    wait_idle(page)
    page.get_by_text("无法追踪这个表达式").first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "backprop-bad-zh")


def test_the_lesson_reads_on_a_phone(page, app_url):
    page.set_viewport_size({"width": 390, "height": 900})
    goto(page, app_url, path="backprop", lang="en", query="backprop.expression=max(x,%20y)%20%2B%20relu(z)"
         "&backprop.values=x%3D2,y%3D-1,z%3D0")
    page.locator(PLOT).first.wait_for(timeout=60_000)
    assert page.evaluate(FRAMES_JS) == 8
    width = page.evaluate("() => document.querySelector('.js-plotly-plot').getBoundingClientRect().width")
    assert width <= 390
    assert_no_streamlit_error(page)
    screenshot(page, "backprop-phone-en")
