""""Try this" in a real browser (issue 31, item 3): after a preset click the figure it changed is on the screen (the
optimizer race, whose buttons sit under a long lab; convolution, whose figure is on a tab; adversarial attacks, whose
preset opens another tab), its note comes along, and the note goes when the learner switches tabs.
Screenshots: artifacts/screenshots/presets-<lesson>.png.
"""

from __future__ import annotations

import pytest

import ui.lesson
import ui.presets
from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, wait_idle


def test_every_lesson_gets_its_presets_from_the_kit():
    assert ui.lesson.presets is ui.presets.presets

# The top of the first figure of the open tab panel (tab) or of the lesson, or null when there is none
_TOP_JS = """(tab) => {
  const main = document.querySelector('[data-testid="stMain"]');
  const visible = (el) => el.getClientRects().length > 0 && el.getBoundingClientRect().height > 0;
  const scope = tab ? Array.from(main.querySelectorAll('[role="tabpanel"]')).find(visible) : main;
  const plot = scope && Array.from(scope.querySelectorAll('.js-plotly-plot')).find(visible);
  return plot ? plot.getBoundingClientRect().top : null;
}"""
IN_VIEW_JS = f"(tab) => {{ const top = ({_TOP_JS})(tab); return top !== null && top >= 0 && top < innerHeight - 200; }}"


def _click_preset(page, label: str) -> None:
    button = page.get_by_role("button", name=label, exact=True)
    button.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    button.click()
    wait_idle(page, 120_000)


@pytest.mark.parametrize(("lesson", "label", "tab"), [
    ("optimizer_race", "Escaping a saddle point", False),
    ("convolution", "Stride 2 halves the size", False),
    ("adversarial", "See the projection (2D)", True),
])
def test_a_preset_brings_the_figure_it_changed_into_view(page, app_url, lesson, label, tab):
    page.set_viewport_size({"width": 1400, "height": 1000})
    goto(page, app_url, path=lesson, lang="en", timeout=120_000)
    page.locator(".js-plotly-plot:visible").first.wait_for(timeout=90_000)
    _click_preset(page, label)
    try:
        page.wait_for_function(IN_VIEW_JS, arg=tab, timeout=20_000)
    finally:
        screenshot(page, f"presets-{lesson}")
    assert_no_streamlit_error(page)
    assert page.locator('[data-testid="stToast"]').count() >= 1      # the note travels with the figure


def test_a_presets_note_goes_when_the_learner_switches_tabs(page, app_url):
    page.set_viewport_size({"width": 1400, "height": 1000})
    goto(page, app_url, path="adversarial", lang="zh", timeout=120_000)
    page.locator(".js-plotly-plot:visible").first.wait_for(timeout=90_000)
    _click_preset(page, "看投影（二维）")
    page.locator('[data-testid="stAlertContentInfo"]').filter(has_text="投影").first.wait_for(timeout=30_000)
    page.get_by_role("tab", name="攻击一个数字").click()
    wait_idle(page, 120_000)
    page.wait_for_function("() => !Array.from(document.querySelectorAll('[data-testid=\"stAlertContentInfo\"]'))"
                           ".some(e => e.innerText.includes('投影'))", timeout=20_000)
    assert_no_streamlit_error(page)
