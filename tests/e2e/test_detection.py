"""The detection lesson in a real browser: the IoU figure on the photo, a typed box recomputes it, the NMS
animation steps in the browser, and the page at a phone's width."""

from tests.e2e.conftest import (
    assert_no_streamlit_error,
    goto,
    plot_titles,
    screenshot,
    steady_point,
    wait_for_title,
    wait_idle,
)

FRAMES_JS = ("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
             ".map(p => (p._transitionData && p._transitionData._frames || []).length)")


def test_typing_a_box_recomputes_the_iou_in_english(page, app_url):
    goto(page, app_url, path="detection", lang="en")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    wait_for_title(page, "t.includes('IoU = 0.231')", timeout=30_000)
    assert page.locator(".js-plotly-plot image").count() >= 1          # the photo is drawn under the boxes
    screenshot(page, "detection-iou-en")
    box = page.get_by_role("textbox", name="Box B (x1, y1, x2, y2)")
    box.fill("150, 90, 390, 330")
    box.press("Enter")
    wait_idle(page)
    wait_for_title(page, "t.includes('IoU = 1.000')", timeout=30_000)
    assert "detection.box_b=" in page.url
    box.fill("390, 90, 150, 330")
    box.press("Enter")
    wait_idle(page)
    page.get_by_text("x2 must be larger than x1").first.wait_for(timeout=30_000)
    screenshot(page, "detection-bad-box-en")


def test_nms_animation_and_presets_in_chinese(page, app_url):
    goto(page, app_url, path="detection", lang="zh")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.get_by_role("tab", name="逐步 NMS").click()
    wait_idle(page)
    wait_for_title(page, "t.includes('保留 3 个')", timeout=60_000)
    assert 4 in page.evaluate(FRAMES_JS)                                # 3 rounds + the start
    page.get_by_role("button", name="NMS 阈值太低").click()
    wait_idle(page)
    wait_for_title(page, "t.includes('保留 2 个')", timeout=60_000)
    assert_no_streamlit_error(page)
    screenshot(page, "detection-nms-zh")
    page.get_by_role("tab", name="小检测器").click()
    wait_idle(page)
    wait_for_title(page, "t.includes('精确率')", timeout=60_000)
    assert any("留出场景" in t for t in plot_titles(page))
    screenshot(page, "detection-detector-zh")


def test_an_uploaded_photo_replaces_the_bundled_one_and_a_bad_file_gets_a_message(page, app_url, tmp_path):
    import numpy as np
    from PIL import Image

    good, bad = tmp_path / "mine.png", tmp_path / "notes.png"
    Image.fromarray(np.full((120, 180, 3), (200, 30, 30), dtype=np.uint8)).save(good)
    bad.write_bytes(b"not a picture at all")
    goto(page, app_url, path="detection", lang="en", query="detection.photo=upload")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    before = page.evaluate("() => document.querySelector('.js-plotly-plot image').getAttribute('href')")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(bad))
    wait_idle(page)
    page.get_by_text("is not an image the lab can read").first.wait_for(timeout=30_000)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(good))
    wait_idle(page)
    page.wait_for_function("(old) => document.querySelector('.js-plotly-plot image').getAttribute('href') != old",
                           arg=before, timeout=30_000)
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    screenshot(page, "detection-upload-en")


POINT_JS = """([x, y]) => {
    const gd = document.querySelectorAll('.js-plotly-plot')[0];
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
    return [box.left + xa.l2p(x), box.top + ya.l2p(y)];
}"""


def test_clicking_the_photo_moves_the_anchors_to_that_pixel(page, app_url):
    goto(page, app_url, path="detection", lang="en")
    page.get_by_role("tab", name="Anchor boxes").click()
    wait_idle(page)
    wait_for_title(page, "t.includes('pixel (row 213, column 320)')", timeout=60_000)
    page.locator(".js-plotly-plot").first.evaluate("e => e.scrollIntoView({block: 'center'})")
    x, y = steady_point(page, POINT_JS, [80.5, 48.5])                   # a clickable point: row 48, column 80
    page.mouse.click(x, y)
    wait_idle(page)
    wait_for_title(page, "t.includes('pixel (row 48, column 80)')", timeout=30_000)
    assert "detection.px_row=48" in page.url and "detection.px_col=80" in page.url
    assert_no_streamlit_error(page)
    screenshot(page, "detection-anchors-click-en")


def test_the_lesson_fits_a_phone(page, app_url):
    page.set_viewport_size({"width": 390, "height": 844})
    goto(page, app_url, path="detection", lang="en")
    plot = page.locator(".js-plotly-plot").first
    plot.wait_for(timeout=60_000)
    assert plot.bounding_box()["width"] <= 390
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 400
    assert_no_streamlit_error(page)
    screenshot(page, "detection-phone-en")
