"""The CNN-architectures lesson in a real browser: the spatial transformer's figure is drawn and follows a preset,
a training tab fills in Chinese, and the page reads at 390 px."""

from tests.e2e.conftest import assert_no_streamlit_error, goto, plot_titles, screenshot, wait_for_title, wait_idle

PLOT = ".js-plotly-plot"


def test_spatial_transformer_is_drawn_and_a_preset_changes_theta(page, app_url):
    goto(page, app_url, path="cnn_architectures", lang="en")
    page.locator(PLOT).first.wait_for(timeout=60_000)
    assert any("θ = [[0.87, -0.5, 0]" in t for t in plot_titles(page))
    assert page.locator(f"{PLOT} .heatmaplayer image, {PLOT} .hm image").count() >= 2   # input and output
    page.get_by_role("button", name="Scale 2").click()
    wait_idle(page)
    wait_for_title(page, "t.includes('θ = [[2, 0, 0], [0, 2, 0]]')", timeout=20_000)
    assert "cnn_architectures.scale=2" in page.url
    page.get_by_text("the digit fills only the middle half").first.wait_for()
    assert_no_streamlit_error(page)
    screenshot(page, "cnn_architectures-stn-en")


def test_why_convolution_trains_and_draws_the_shift_test_in_chinese(page, app_url):
    goto(page, app_url, path="cnn_architectures", lang="zh")
    page.locator(PLOT).first.wait_for(timeout=60_000)
    page.get_by_role("tab", name="为什么用卷积").click()
    wait_idle(page, timeout=180_000)
    wait_for_title(page, "t.includes('每个测试数字平移 k 个像素后的测试准确率')", timeout=180_000)
    page.get_by_text("三者都只见过居中的数字").first.wait_for()
    assert_no_streamlit_error(page)
    screenshot(page, "cnn_architectures-why-zh")


def test_the_lesson_reads_on_a_phone(page, app_url):
    page.set_viewport_size({"width": 390, "height": 900})
    goto(page, app_url, path="cnn_architectures", lang="en", query="cnn_architectures.scale=2")
    page.locator(PLOT).first.wait_for(timeout=60_000)
    width = page.evaluate("() => document.querySelector('.js-plotly-plot').getBoundingClientRect().width")
    assert width <= 390
    assert any("θ = [[1.73, -1, 0]" in t for t in plot_titles(page))
    assert_no_streamlit_error(page)
    screenshot(page, "cnn_architectures-phone-en")


def test_the_trained_spatial_transformer_tab_trains_and_draws_both_figures(page, app_url):
    goto(page, app_url, path="cnn_architectures", lang="en")
    page.locator(PLOT).first.wait_for(timeout=60_000)
    page.get_by_role("tab", name="Trained spatial transformer").click()
    wait_idle(page, timeout=300_000)
    wait_for_title(page, "t.includes('The trained STN on distorted test digits')", timeout=300_000)
    wait_for_title(page, "t.includes('the same CNN with and without a spatial transformer')", timeout=60_000)
    page.get_by_text("From the class labels alone the localisation network learned").first.wait_for()
    assert page.locator(f"{PLOT} .heatmaplayer image, {PLOT} .hm image").count() >= 18   # 3 rows x 6 digits
    assert_no_streamlit_error(page)
    screenshot(page, "cnn_architectures-stn-trained-en")
