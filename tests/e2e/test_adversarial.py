"""The adversarial lesson in a real browser: the attacked digit, a preset, the geometry tab, an upload."""

import io

import numpy as np
from PIL import Image

from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, wait_idle

FRAMES_JS = "() => document.querySelector('.js-plotly-plot')._transitionData._frames.length"
TITLE_JS = "() => document.querySelector('.js-plotly-plot').layout.title.text"
METRICS_JS = ("() => Array.from(document.querySelectorAll('[data-testid=\"stMetricValue\"]'))"
              ".map(e => e.textContent)")


def test_default_attack_flips_the_digit_and_the_robust_preset_resists(page, app_url):
    goto(page, app_url, path="adversarial", lang="en")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert page.evaluate(FRAMES_JS) == 21                       # clean image + 20 PGD iterates
    assert "attacked digit" in page.evaluate(TITLE_JS)
    metrics = page.evaluate(METRICS_JS)
    assert metrics[0] == "1 → 8" and metrics[3] == "yes"
    assert_no_streamlit_error(page)
    screenshot(page, "adversarial-attack-en")
    page.get_by_text("Concept", exact=True).click()
    page.locator(".katex").first.wait_for()                      # the formulas render
    assert page.locator(".katex-error").count() == 0
    screenshot(page, "adversarial-concept-en")
    page.get_by_text("Concept", exact=True).click()
    page.get_by_role("button", name="The robust model resists").click()
    wait_idle(page)
    page.wait_for_function(METRICS_JS + ".length == 4 && " + METRICS_JS[6:] + "[3] === 'no'")
    assert page.evaluate(METRICS_JS)[0] == "1 → 1"
    assert "adversarial.model=robust" in page.url
    assert_no_streamlit_error(page)


def test_geometry_tab_in_chinese_draws_the_ball_and_the_path(page, app_url):
    goto(page, app_url, path="adversarial", lang="zh")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.get_by_role("tab", name="二维几何").click()
    wait_idle(page)
    page.wait_for_function("() => document.querySelector('.js-plotly-plot').layout.title.text.includes('双月牙')")
    assert page.evaluate(FRAMES_JS) == 11                       # start + 10 PGD steps
    page.get_by_role("button", name="看投影（二维）").click()
    wait_idle(page)
    page.wait_for_function("() => document.querySelector('.js-plotly-plot').data[5].line.dash === 'solid'")  # L2 disc
    page.get_by_text("橙色虚线段指向圆心").first.wait_for()
    assert_no_streamlit_error(page)
    page.get_by_role("tab", name="二维几何").scroll_into_view_if_needed()
    screenshot(page, "adversarial-geometry-zh")


def test_curves_tab_and_an_uploaded_digit(page, app_url):
    goto(page, app_url, path="adversarial", lang="en", query="adversarial.source=upload")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    img = np.full((64, 48), 255, dtype=np.uint8)
    img[8:56, 20:28] = 0                                        # a thick dark "1" on white paper
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "one.png", "mimeType": "image/png", "buffer": buf.getvalue()}])
    wait_idle(page)
    page.wait_for_function(METRICS_JS + ".length == 4 && " + METRICS_JS[6:] + "[0].startsWith('1 →')")
    screenshot(page, "adversarial-upload-en")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "fake.png", "mimeType": "image/png", "buffer": b"not an image at all"}])
    wait_idle(page)
    page.get_by_text("This file is not an image that can be read").first.wait_for()
    page.get_by_role("tab", name="Robustness curves").click()
    wait_idle(page)
    curves = ("Array.from(document.querySelectorAll('.js-plotly-plot'))"
              ".find(p => p.layout.title.text.includes('Test accuracy'))")
    page.wait_for_function(f"() => !!{curves}", timeout=60_000)
    assert page.evaluate(f"() => {curves}.data.length") == 5   # 2 models x 2 attacks + the chosen eps
    screenshot(page, "adversarial-curves-en")
