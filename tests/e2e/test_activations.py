"""The activations lesson in a real browser: presets open the right tab, the pieces animation plays client-side."""

from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, wait_idle

PLOT_BY_TITLE = ("(t) => [...document.querySelectorAll('.js-plotly-plot')]"
                 ".find(p => p.layout && p.layout.title && p.layout.title.text.includes(t))")


def _plot(page, title: str, what: str):
    return page.evaluate(f"(t) => {{ const p = ({PLOT_BY_TITLE})(t); return p ? {what} : null; }}", title)


def test_zoo_then_kaiming_preset_opens_the_deep_signal_in_english(page, app_url):
    goto(page, app_url, path="activations", lang="en")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert _plot(page, "Each activation function", "p.data.length") == 13      # 6 panels x (f, f') + legend entry
    page.get_by_role("button", name="Kaiming keeps ReLU alive at depth 50").click()
    wait_idle(page)
    page.wait_for_function(f"() => !!({PLOT_BY_TITLE})('Layer by layer: ReLU, Kaiming normal')", timeout=60_000)
    page.wait_for_function("() => location.search.includes('activations.depth=50')", timeout=10_000)
    assert "activations.activation=relu" in page.url
    n_layers = _plot(page, "Layer by layer", "p._fullData[0].x.length")
    assert n_layers == 50
    # the note stays under the presets; a toast repeats it for a while, so look in the note itself
    page.get_by_test_id("stAlertContentInfo").get_by_text("Kaiming's variance 2/n makes up for ReLU").wait_for()
    assert_no_streamlit_error(page)
    screenshot(page, "activations-signal-en")


def test_pieces_animation_plays_without_a_server_rerun_in_chinese(page, app_url):
    goto(page, app_url, path="activations", lang="zh")
    page.get_by_role("tab", name="用小片拼出任意曲线").click()
    wait_idle(page)
    page.wait_for_function(f"() => !!({PLOT_BY_TITLE})('目标曲线')", timeout=60_000)
    assert _plot(page, "目标曲线", "p._transitionData._frames.length") == 15
    before = _plot(page, "目标曲线", "p.data[2].name")
    assert before.startswith("12 个小片之和")
    page.locator(".js-plotly-plot").filter(has_text="目标曲线").get_by_text("播放", exact=True).click()
    page.wait_for_timeout(900)
    during = _plot(page, "目标曲线", "p.data[2].name")
    assert during != before and "个小片之和" in during
    assert page.locator('[data-testid="stStatusWidget"]').count() == 0      # no rerun while playing
    assert_no_streamlit_error(page)
    page.wait_for_timeout(3500)
    screenshot(page, "activations-pieces-zh")


def test_dead_relu_preset_trains_and_draws_the_race_in_chinese(page, app_url):
    goto(page, app_url, path="activations", lang="zh")
    page.get_by_role("button", name="学习率过大会杀死 ReLU").click()
    wait_idle(page)
    page.wait_for_function(f"() => !!({PLOT_BY_TITLE})('同一个深层网络')", timeout=90_000)
    names = _plot(page, "同一个深层网络", "p.data.filter(d => d.showlegend !== false).map(d => d.name)")
    assert names == ["ReLU + Kaiming 正态", "Leaky ReLU + Kaiming 正态", "tanh + Xavier 正态"]
    relu_dead = _plot(page, "同一个深层网络", "p._fullData[2].y.length")
    assert relu_dead == 51                                               # record_every = steps // 50
    page.wait_for_function("() => location.search.includes('activations.optimizer=adam')", timeout=10_000)
    assert_no_streamlit_error(page)
    screenshot(page, "activations-train-zh")


def test_the_load_generators_browser_sampler_finds_and_moves_a_slider(page, app_url):
    # bench.loadgen's real-browser samples press ArrowRight on the first slider of a lesson: its selector must
    # match this Streamlit's slider, or the sampler silently records page opens only
    from bench.loadgen import SLIDER_THUMB

    goto(page, app_url, path="activations", lang="en")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    thumb = page.locator(SLIDER_THUMB).first
    assert thumb.count() == 1
    thumb.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => location.search.includes('activations.slope=0.02')", timeout=30_000)
    wait_idle(page)
    assert_no_streamlit_error(page)
