"""The generalization lesson in a real browser: the fit and the error curves are drawn in both languages, the degree
slider recomputes, the bias-variance tab draws its figures, and the page works at a phone's width."""

from tests.e2e.conftest import assert_no_streamlit_error, goto, plot_titles, screenshot, wait_for_title, wait_idle


def test_the_fit_and_the_error_curves_are_drawn_and_a_preset_recomputes(page, app_url):
    goto(page, app_url, path="generalization", lang="en")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    titles = plot_titles(page)
    assert "The fit over the points" in titles and "Training and validation error against the degree" in titles
    page.get_by_text("At degree 3:").first.wait_for()
    page.get_by_role("button", name="Overfit: degree 12").click()
    wait_idle(page)
    page.get_by_text("At degree 12:").first.wait_for()
    assert "generalization.degree=12" in page.url
    assert page.get_by_text("overfitting.").count() >= 1
    assert_no_streamlit_error(page)
    screenshot(page, "generalization-overfit-en")


def test_the_bias_variance_tab_in_chinese(page, app_url):
    goto(page, app_url, path="generalization", lang="zh")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert "点上的拟合曲线" in plot_titles(page)
    page.get_by_role("tab", name="偏差–方差").click()
    wait_idle(page)
    wait_for_title(page, "t.includes('许多数据集上的拟合及其平均')", timeout=60_000)
    titles = plot_titles(page)
    assert "每个 x 处的期望误差" in titles and "扫描中的偏差²、方差与总误差" in titles
    page.get_by_text("用新的带噪声标签单独测得的期望测试误差").first.wait_for()
    assert_no_streamlit_error(page)
    screenshot(page, "generalization-bias-variance-zh")


def test_the_lesson_is_usable_at_a_phone_width(page, app_url):
    page.set_viewport_size({"width": 390, "height": 900})
    goto(page, app_url, path="generalization", lang="en")
    plot = page.locator(".js-plotly-plot").first
    plot.wait_for(timeout=60_000)
    box = plot.bounding_box()
    assert box is not None and box["width"] <= 390
    assert_no_streamlit_error(page)
    screenshot(page, "generalization-390")
