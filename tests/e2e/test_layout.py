"""What a student sees, in a real browser, for every lesson (issue 31): the main figure on the first screen at
1400 x 1000 (English), no sideways scrolling on a 390 x 844 phone (Chinese), and no machine text (a literal
``**`` left by the Markdown parser, a Python ``None``) in either. Screenshots of both views land in
artifacts/screenshots/layout-<lesson>-<view>.png.

One server and one browser for the whole module; each lesson is opened once per view.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot
from ui import catalog

LESSONS = catalog.available()
FIRST_SCREEN_PX = 700
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}

# The rendered text of the lesson (the main column), code blocks left out: Python source may say None.
_TEXT_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  let text = main ? main.innerText : '';
  for (const code of main ? main.querySelectorAll('pre, code') : []) text = text.split(code.innerText).join(' ');
  return text;
}"""
_TOP_JS = """() => {
  for (const el of [document.scrollingElement, ...document.querySelectorAll('[data-testid="stMain"], section')])
    if (el) el.scrollTop = 0;
  const plot = Array.from(document.querySelectorAll('.js-plotly-plot')).find(p => p.getClientRects().length > 0
                                                                              && p.getBoundingClientRect().height > 0);
  return plot ? plot.getBoundingClientRect().top : null;
}"""
# Every scrolling box of the page frame (the document and Streamlit's main column), not an element's own scroller
_OVERFLOW_JS = """() => {
  const boxes = [document.scrollingElement, document.querySelector('[data-testid="stMain"]'),
                 document.querySelector('[data-testid="stMainBlockContainer"]')].filter(Boolean);
  const over = boxes.map(b => [b.getAttribute && b.getAttribute('data-testid') || b.tagName,
                               b.scrollWidth, b === document.scrollingElement ? window.innerWidth : b.clientWidth]);
  const wide = Array.from(document.querySelectorAll('[data-testid="stMain"] *')).filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > window.innerWidth + 1 && !e.closest('[data-testid="stDataFrame"]');
  }).slice(0, 5).map(e => (e.getAttribute('data-testid') || e.className || e.tagName).toString().slice(0, 60)
                          + ' right=' + Math.round(e.getBoundingClientRect().right));
  return {over, wide};
}"""


def machine_text(text: str) -> list[str]:
    """Snippets of rendered text that show markup or a Python value instead of words."""
    found = []
    for m in re.finditer(r"\*\*|\bNone\b", text):
        found.append(text[max(0, m.start() - 30):m.end() + 30].replace("\n", " "))
    return found


def test_machine_text_finds_stray_bold_marks_and_none():
    assert machine_text("**注意看：**下面") and machine_text("accuracy: None")
    assert machine_text("Nonetheless, 58.6 %") == []


def _open(page, app_url, slug: str, lang: str, viewport: dict[str, int], shot: str) -> None:
    """Open the lesson at ``viewport`` and wait for its first figure; the screenshot is taken even if it fails."""
    page.set_viewport_size(viewport)
    try:
        goto(page, app_url, path=slug, lang=lang, timeout=120_000)
        page.locator(".js-plotly-plot:visible").first.wait_for(timeout=90_000)   # not one in a closed expander
        page.wait_for_timeout(500)   # Plotly sizes the figure to its column after the first paint
        page.evaluate(_TOP_JS)
    finally:
        screenshot(page, shot)
    assert_no_streamlit_error(page)


@pytest.mark.parametrize("lesson", LESSONS, ids=[x.slug for x in LESSONS])
def test_main_figure_on_the_first_screen_at_1400_px(page, app_url, lesson):
    _open(page, app_url, lesson.slug, "en", DESKTOP, f"layout-{lesson.slug}-1400-en")
    top = page.evaluate(_TOP_JS)
    text = machine_text(page.evaluate(_TEXT_JS))
    assert top is not None and top <= FIRST_SCREEN_PX, (
        f"{lesson.slug}: the first figure starts {top:.0f} px down (the first screen is {FIRST_SCREEN_PX} px)")
    assert not text, f"{lesson.slug} (en) shows machine text: {text}"


@pytest.mark.parametrize("lesson", LESSONS, ids=[x.slug for x in LESSONS])
def test_no_sideways_scrolling_on_a_390_px_phone(page, app_url, lesson):
    _open(page, app_url, lesson.slug, "zh", PHONE, f"layout-{lesson.slug}-390-zh")
    found = page.evaluate(_OVERFLOW_JS)
    text = machine_text(page.evaluate(_TEXT_JS))
    over = [f"{name}: {scroll} px of content in {width} px" for name, scroll, width in found["over"]
            if scroll > width + 1]
    assert not over, f"{lesson.slug} scrolls sideways at 390 px: {over}; widest: {found['wide']}"
    assert not text, f"{lesson.slug} (zh) shows machine text: {text}"
