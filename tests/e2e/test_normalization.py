"""The normalization lesson in a real browser: the cube is drawn, a click on a cell picks it, tabs recompute."""

from dlcore.normalization import lab
from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, steady_box, wait_idle
from ui.experiments import normalization as experiment

PLOTS = ".js-plotly-plot"


def _cells_plot(page):
    """The unfolded-cube chart: the 2D plot whose title starts with the given text."""
    return page.locator(PLOTS).filter(has=page.locator("text.gtitle", has_text="unfolded")).first


def test_cube_is_drawn_and_clicking_a_cell_picks_it(page, app_url):
    goto(page, app_url, path="normalization", lang="en")
    page.locator(PLOTS).first.wait_for(timeout=60_000)
    assert page.locator(PLOTS).count() >= 3                  # cube, unfolded grid, statistics maps
    assert page.locator(".js-plotly-plot .gl-container, .js-plotly-plot canvas").count() >= 1   # the 3D scene
    page.get_by_text("normalized with the mean and variance of the").first.wait_for()
    cells = _cells_plot(page)
    cells.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    points = cells.locator(".scatterlayer .points path")
    assert points.count() == 4 * 6 * 9
    # a real mouse click on sample 3, channel 5, position 7: point n*C*S + c*S + s of the trace
    box = steady_box(points.nth(3 * 54 + 5 * 9 + 7))
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_idle(page)
    page.wait_for_function("() => location.search.includes('normalization.c=5')", timeout=20_000)
    assert "normalization.n=3" in page.url and "normalization.s=7" in page.url
    page.get_by_text("(sample 3, channel 5, position 7)").first.wait_for()
    assert_no_streamlit_error(page)
    screenshot(page, "normalization-axes-en")


def test_group_norm_and_batch_size_tab_in_chinese(page, app_url):
    goto(page, app_url, path="normalization", lang="zh", query="normalization.kind=group&normalization.groups=3")
    page.locator(PLOTS).first.wait_for(timeout=60_000)
    page.get_by_text("G = 3 的 GroupNorm").first.wait_for()
    page.get_by_role("tab", name="批量大小与评估模式").click()
    wait_idle(page)
    page.get_by_text("BatchNorm 的统计量来自批次").first.wait_for(timeout=30_000)
    page.get_by_text("滑动统计量追赶一个不断变化的层").first.wait_for()
    assert_no_streamlit_error(page)
    screenshot(page, "normalization-batch-zh")


def test_training_tab_shows_curves_and_bad_lengths_give_a_message(page, app_url):
    goto(page, app_url, path="normalization", lang="en")
    page.get_by_role("tab", name="Train side by side").click()
    wait_idle(page, timeout=120_000)
    page.locator(PLOTS).filter(has=page.locator("text.gtitle", has_text="small CNN")).first.wait_for(timeout=120_000)
    page.get_by_text("batch size 128").first.wait_for()
    assert_no_streamlit_error(page)
    screenshot(page, "normalization-train-en")
    page.get_by_role("tab", name="Padded sequences").click()
    wait_idle(page)
    box = page.get_by_role("textbox", name="Sequence lengths")
    box.fill("3, x")
    box.press("Enter")
    wait_idle(page)
    page.get_by_text("use whole numbers separated by commas").first.wait_for()
    assert page.locator(PLOTS).count() >= 2                  # the example is shown instead
    screenshot(page, "normalization-sequences-en")


def test_gamma_beta_give_back_the_input(page, app_url):
    goto(page, app_url, path="normalization", lang="en")
    page.get_by_role("tab", name="γ and β").click()
    wait_idle(page)
    page.locator(PLOTS).filter(has=page.locator("text.gtitle", has_text="before and after BatchNorm")).first.wait_for()
    d = experiment.DEFAULTS   # the numbers the page should print, computed here from dlcore
    before = lab.affine_view(d["gamma"], d["beta"], d["a_channel"], seed=0)
    page.get_by_text(f"keeps {100 * before.kept_y:.0f}% of y").first.wait_for()   # beta = 0: a ReLU keeps about half
    page.get_by_role("button", name="give the input back").click()
    wait_idle(page)
    page.wait_for_function("() => location.search.includes('normalization.beta=')")
    back = lab.affine_view(before.std, before.mean, d["a_channel"], seed=0)       # gamma = sigma, beta = mu
    page.get_by_text(f"keeps {100 * back.kept_y:.0f}% of y").first.wait_for()    # the raw channel again
    assert_no_streamlit_error(page)
    screenshot(page, "normalization-affine-en")
