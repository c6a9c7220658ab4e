"""The linear-classifiers lesson in a real browser: the four decision regions, a preset that recomputes them, a
click that adds a point, the loss tab in Chinese, and the page at 390 px."""

from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, steady_point, wait_idle

PANEL_TITLES_JS = ("() => Array.from(document.querySelector('.js-plotly-plot').layout.annotations || [])"
                   ".map(a => a.text)")
POINTS_JS = ("() => document.querySelector('.js-plotly-plot')._fullData"
             ".filter(t => t.type === 'scatter' && t.xaxis === 'x' && t.legendgroup)"
             ".reduce((n, t) => n + t._length, 0)")


def test_four_panels_draw_and_a_new_data_set_recomputes_them(page, app_url):
    goto(page, app_url, path="linear_classifiers", lang="en")
    page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
    titles = page.evaluate(PANEL_TITLES_JS)
    assert [t.split(" · ")[0] for t in titles[:4]] == ["k-NN", "Linear SVM", "Softmax classifier",
                                                        "Gaussian generative"]
    page.get_by_role("button", name="Circles: straight lines fail").click()
    wait_idle(page)
    page.wait_for_function("() => location.search.includes('linear_classifiers.dataset=circles')")
    after = page.evaluate(PANEL_TITLES_JS)
    assert after != titles and after[2].startswith("Softmax classifier")
    assert_no_streamlit_error(page)
    screenshot(page, "linear_classifiers-circles-en")


def test_a_click_on_the_knn_panel_adds_a_point(page, app_url):
    goto(page, app_url, path="linear_classifiers", lang="en", query="linear_classifiers.dataset=own")
    plot = page.locator(".js-plotly-plot").first
    plot.wait_for(timeout=90_000)
    assert page.evaluate(POINTS_JS) == 10
    plot.evaluate("e => e.scrollIntoView({block: 'center'})")
    x, y = steady_point(page, "() => { const p = document.querySelector('.js-plotly-plot');"
                        " const xa = p._fullLayout.xaxis, ya = p._fullLayout.yaxis, r = p.getBoundingClientRect();"
                        " return [r.left + xa._offset + xa.l2p(xa.range[0]) + 8,"
                        "         r.top + ya._offset + ya.l2p(ya.range[0]) - 8]; }", None)
    page.mouse.click(x, y)   # the bottom-left corner target of the k-NN panel
    wait_idle(page)
    page.wait_for_function(f"{POINTS_JS} === 11", timeout=30_000)
    assert_no_streamlit_error(page)
    screenshot(page, "linear_classifiers-click-en")


def test_loss_tab_in_chinese_shows_the_worked_example(page, app_url):
    goto(page, app_url, path="linear_classifiers", lang="zh")
    page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
    page.get_by_role("tab", name="逐点看损失").click()
    wait_idle(page)
    page.get_by_text("SVM 损失 2.90，softmax 损失 2.04").first.wait_for(timeout=30_000)
    assert_no_streamlit_error(page)
    screenshot(page, "linear_classifiers-loss-zh")


def test_the_page_reads_at_390_px(page, app_url):
    page.set_viewport_size({"width": 390, "height": 900})
    goto(page, app_url, path="linear_classifiers", lang="en")
    page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
    width = page.evaluate("() => document.querySelector('.js-plotly-plot').getBoundingClientRect().width")
    assert width <= 390
    assert_no_streamlit_error(page)
    screenshot(page, "linear_classifiers-390")
