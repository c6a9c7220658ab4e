"""The convolution lesson's figures as a student sees them (issue 31, items 4, 5 and 10), in a real browser, in both
languages, on a 1400 px screen and a 390 px phone: no two titles, panels (with their tick labels), buttons or slider
labels of one figure overlap, and none is cut off by the figure's edge.

The boxes are read from what Plotly drew: the figure and panel titles (``.gtitle``, ``.annotation-text``), axis
titles, each subplot's plotting area as ``_fullLayout`` places it (after square cells shrank it) grown by its tick
labels, axis titles (the sum under the products), the Play / Pause buttons, and the slider's rail and current value
(its step labels are transparent).
Screenshots: artifacts/screenshots/convolution-<tab>-<lang>-<width>.png.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, wait_idle
from ui.i18n import strings

VIEWS = {"1400": {"width": 1400, "height": 1000}, "390": {"width": 390, "height": 844}}

# Every box one figure draws, in page pixels: [kind, name, left, top, right, bottom], and the figure's own box.
BOXES_JS = """(plot) => {
  const svg = plot.querySelector('.main-svg').getBoundingClientRect();
  const fl = plot._fullLayout;
  const out = [];
  const add = (kind, name, r) => {
    if (r && r.width > 0.5 && r.height > 0.5) out.push([kind, name, r.left, r.top, r.right, r.bottom]);
  };
  const union = (els) => {
    let r = null;
    for (const e of els) {
      const b = e.getBoundingClientRect();
      if (b.width <= 0.5 || b.height <= 0.5) continue;
      r = r ? {left: Math.min(r.left, b.left), top: Math.min(r.top, b.top), right: Math.max(r.right, b.right),
               bottom: Math.max(r.bottom, b.bottom)} : {left: b.left, top: b.top, right: b.right, bottom: b.bottom};
    }
    if (r) { r.width = r.right - r.left; r.height = r.bottom - r.top; }
    return r;
  };
  plot.querySelectorAll('.gtitle').forEach(e => add('title', 'figure title', e.getBoundingClientRect()));
  plot.querySelectorAll('.annotation-text').forEach(e => add('title', 'panel ' + e.textContent,
                                                               e.getBoundingClientRect()));
  plot.querySelectorAll('.infolayer g[class^="g-x"] text, .infolayer g[class^="g-y"] text')
    .forEach(e => add('title', 'axis ' + e.textContent, e.getBoundingClientRect()));
  for (const id of fl._subplots.cartesian) {
    const m = id.match(/^(x\\d*)(y\\d*)$/);
    const xa = fl[m[1].replace('x', 'xaxis')], ya = fl[m[2].replace('y', 'yaxis')];
    const area = {left: svg.left + xa._offset, top: svg.top + ya._offset, right: svg.left + xa._offset + xa._length,
                  bottom: svg.top + ya._offset + ya._length};
    const ticks = union(plot.querySelectorAll(`.subplot.${id} .xaxislayer-above text, ` +
                                              `.subplot.${id} .yaxislayer-above text`));
    const r = ticks ? {left: Math.min(area.left, ticks.left), top: Math.min(area.top, ticks.top),
                       right: Math.max(area.right, ticks.right), bottom: Math.max(area.bottom, ticks.bottom)} : area;
    r.width = r.right - r.left; r.height = r.bottom - r.top;
    add('panel', 'panel ' + id, r);
  }
  plot.querySelectorAll('.textpoint text').forEach(e => add('text', 'text ' + e.textContent,
                                                            e.getBoundingClientRect()));
  plot.querySelectorAll('.updatemenu-button').forEach(e => add('control', 'button ' + e.textContent,
                                                               e.getBoundingClientRect()));
  plot.querySelectorAll('.slider-rail-rect').forEach(e => add('control', 'slider rail', e.getBoundingClientRect()));
  plot.querySelectorAll('.slider-group > text.slider-label').forEach(e => add('control', 'slider ' + e.textContent,
                                                                           e.getBoundingClientRect()));
  return {figure: [svg.left, svg.top, svg.right, svg.bottom], boxes: out};
}"""


def collisions(found: dict) -> list[str]:
    """Pairs of boxes that overlap by more than a pixel each way, and boxes that reach past the figure's edge."""
    boxes, (fl, ft, fr, fb) = found["boxes"], found["figure"]
    bad = []
    for i, (_, a, al, at, ar, ab) in enumerate(boxes):
        if al < fl - 1 or ar > fr + 1 or at < ft - 1 or ab > fb + 1:
            bad.append(f"{a!r} is cut off: [{al:.0f}, {ar:.0f}] x [{at:.0f}, {ab:.0f}] in the figure's "
                       f"[{fl:.0f}, {fr:.0f}] x [{ft:.0f}, {fb:.0f}]")
        for _, b, bl, bt, br, bb in boxes[i + 1:]:
            if min(ar, br) - max(al, bl) > 1 and min(ab, bb) - max(at, bt) > 1:
                bad.append(f"{a!r} overlaps {b!r}")
    return bad


def test_collisions_finds_overlaps_and_cut_off_boxes():
    fig = [0, 0, 100, 100]
    assert collisions({"figure": fig, "boxes": [["title", "a", 0, 0, 50, 10], ["panel", "b", 0, 20, 50, 90]]}) == []
    assert collisions({"figure": fig, "boxes": [["title", "a", 0, 0, 50, 10], ["title", "b", 40, 5, 90, 15]]})
    assert collisions({"figure": fig, "boxes": [["title", "a", -20, 0, 50, 10]]})


def figure_problems(page) -> dict[str, list[str]]:
    """For every visible figure on the page (by title): what collides or is cut off."""
    page.wait_for_timeout(600)    # Plotly sizes each figure to its column after the first paint
    out = {}
    for plot in page.locator(".js-plotly-plot:visible").all():
        plot.scroll_into_view_if_needed()
        found = plot.evaluate(BOXES_JS)
        title = re.sub(r"<[^>]+>", "", plot.evaluate("p => (p.layout.title && p.layout.title.text) || ''"))
        assert len(found["boxes"]) >= 3, f"{title}: nothing measured"
        out[title] = collisions(found)
    return out


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_figure_part_overlaps_another_or_the_edge(page, app_url, lang, view):
    page.set_viewport_size(VIEWS[view])
    goto(page, app_url, path="convolution", lang=lang)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    problems = figure_problems(page)
    assert len(problems) == 1, problems                       # the sliding window
    screenshot(page, f"convolution-slide-{lang}-{view}")
    page.get_by_role("tab", name=strings(lang)["convolution.tabs.transposed"]).click()
    wait_idle(page)
    page.locator(".js-plotly-plot:visible").nth(1).wait_for(timeout=60_000)
    problems |= figure_problems(page)
    screenshot(page, f"convolution-transposed-{lang}-{view}")
    assert_no_streamlit_error(page)
    assert len(problems) == 3 and not any(problems.values()), "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_a_large_padded_input_still_fits_a_phone(page, app_url):
    """16 x 16 with padding 4 and dilation 2: a 24-cell input grid, a 5 x 5 window of 9 taps, a 16 x 16 output."""
    page.set_viewport_size(VIEWS["390"])
    goto(page, app_url, path="convolution", lang="zh",
         query="convolution.size=16&convolution.padding=4&convolution.dilation=2")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    problems = figure_problems(page)
    screenshot(page, "convolution-slide-large-zh-390")
    assert len(problems) == 1 and not any(problems.values()), problems
