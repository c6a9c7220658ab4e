"""No cut-off controls (issue 31, item 9) in the activations, normalization and LSTM-gates lessons, on every tab, in
both languages, at 1400 px and on a 390 px phone: no select box shows a truncated value, no multiselect chip is
cut, no segmented control or pill row overflows its column, and sliders side by side keep their tracks level
when one label wraps."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import goto, screenshot

LESSONS = {"activations": 4, "normalization": 5, "lstm_gates": 3}   # lesson -> number of tabs

CUT_OFF_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');   // the lesson, not the sidebar
  const seen = e => e.checkVisibility();
  const out = [];
  for (const i of main.querySelectorAll('[data-testid="stSelectbox"] input[role="combobox"]'))
    if (seen(i) && i.scrollWidth > i.clientWidth + 1) out.push('select box: ' + i.value);
  for (const t of main.querySelectorAll('[data-testid="stMultiSelect"] [data-baseweb="tag"] span'))
    if (seen(t) && t.scrollWidth > t.clientWidth + 1) out.push('chip: ' + t.textContent);
  for (const g of main.querySelectorAll('[data-testid="stButtonGroup"]'))
    if (seen(g) && g.scrollWidth > g.clientWidth + 1) out.push('button group: ' + g.textContent);
  for (const row of main.querySelectorAll('[data-testid="stHorizontalBlock"]')) {
    const cols = Array.from(row.children).map(c => c.getBoundingClientRect().top);
    if (Math.max(...cols) - Math.min(...cols) > 3) continue;   // stacked on a phone: one above the other
    const tracks = row.querySelectorAll('[data-testid="stSlider"] [role="group"] > [data-orientation="horizontal"]');
    const tops = Array.from(tracks)
      .filter(s => seen(s) && s.closest('[data-testid="stHorizontalBlock"]') === row)
      .map(s => s.getBoundingClientRect().top);
    if (tops.length > 1 && Math.max(...tops) - Math.min(...tops) > 3)
      out.push('sliders not level: ' + row.innerText.slice(0, 80));
  }
  return out;
}"""


def _settled(page) -> None:
    """Let the tab's widgets draw (they come before any training, which need not finish here)."""
    page.wait_for_timeout(400)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0",
                           timeout=60_000)
    page.wait_for_timeout(1200)


@pytest.mark.parametrize("width", [1400, 390])
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("lesson", list(LESSONS))
def test_no_control_is_cut_off_on_any_tab(page, app_url, lesson, lang, width):
    page.set_viewport_size({"width": width, "height": 1000})
    goto(page, app_url, path=lesson, lang=lang)
    problems = []
    for tab in range(LESSONS[lesson]):
        page.get_by_role("tab").nth(tab).click(timeout=90_000)
        _settled(page)
        problems += [f"tab {tab}: {p}" for p in page.evaluate(CUT_OFF_JS)]
        if width == 390 or lang == "zh":
            screenshot(page, f"controls-{lesson}-{lang}-{width}-tab{tab}")
    assert not problems, problems
