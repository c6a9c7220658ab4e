"""The LSTM-gates lesson in a real browser: the cell diagram, trained-gate heatmaps and gradient flow, en and zh."""

from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, wait_idle

TITLES_JS = ("() => Array.from(document.querySelectorAll('.js-plotly-plot .gtitle'))"
             ".map(e => e.textContent)")


def _titles(page) -> list[str]:
    return page.evaluate(TITLES_JS)


def test_step_through_reacts_to_the_forget_bias_preset(page, app_url):
    goto(page, app_url, path="lstm_gates", lang="en")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert any(s.startswith("One LSTM step") for s in _titles(page))
    page.get_by_text("σ(b_f) = 0.953").first.wait_for()
    screenshot(page, "lstm_gates-cell-en")
    page.get_by_role("button", name="Forget bias −3: memory dropped").click()
    wait_idle(page)
    page.get_by_text("σ(b_f) = 0.047").first.wait_for()
    assert "lstm_gates.keep=-3" in page.url
    assert_no_streamlit_error(page)
    screenshot(page, "lstm_gates-drop-en")


def test_trained_gates_heatmaps_and_bad_symbol_in_chinese(page, app_url):
    goto(page, app_url, path="lstm_gates", lang="zh")
    page.get_by_role("tab", name="训练好的门").click()
    wait_idle(page)
    page.wait_for_function("() => Array.from(document.querySelectorAll('.js-plotly-plot .gtitle'))"
                           ".some(e => e.textContent.startsWith('你的序列上的各个门'))", timeout=60_000)
    screenshot(page, "lstm_gates-trained-zh")
    box = page.get_by_role("textbox", name="你的序列")
    box.fill("b12x34")
    box.press("Enter")
    wait_idle(page)
    page.get_by_text("在这个任务中不允许").first.wait_for()
    assert page.locator(".js-plotly-plot").count() >= 2       # the valid part "b12" is still drawn
    screenshot(page, "lstm_gates-bad-symbol-zh")


def test_gradient_flow_tab_and_brackets_task(page, app_url):
    goto(page, app_url, path="lstm_gates", lang="en", query="lstm_gates.task=brackets")
    page.get_by_role("tab", name="Trained gates").click()
    wait_idle(page)
    page.get_by_text("act as counters").first.wait_for(timeout=60_000)
    screenshot(page, "lstm_gates-brackets-en")
    page.locator(".js-plotly-plot").nth(1).scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    screenshot(page, "lstm_gates-featured-en")
    page.get_by_role("tab", name="Gradient flow").click()
    wait_idle(page)
    page.wait_for_function("() => Array.from(document.querySelectorAll('.js-plotly-plot .gtitle'))"
                           ".some(e => e.textContent.startsWith('How strongly'))", timeout=60_000)
    assert page.evaluate("() => document.querySelector('.js-plotly-plot').data.length") == 4
    assert_no_streamlit_error(page)
    screenshot(page, "lstm_gates-flow-en")
