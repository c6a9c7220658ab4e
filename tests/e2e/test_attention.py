"""The attention lesson in a real browser: the by-hand heatmaps, the toy Transformer and MiniLM, en and zh.

Every click that reruns the script is followed by a wait for what it must change (a figure title, a message,
the URL), with generous timeouts: CI runs this on a loaded 2-core machine.
"""

import pytest

from tests.e2e.conftest import assert_no_streamlit_error, goto, screenshot, wait_idle

RERUN_MS = 30_000      # one ordinary rerun on a busy machine
LOAD_MS = 120_000      # the first MiniLM load on a busy machine

FIGS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => ({
    title: ((p.layout.title && p.layout.title.text) || '').replace(/<[^>]+>/g, ''),
    types: p.data.map(d => d.type),
    xs: p._fullData.map(d => (d.x ? d.x.length : 0)),
}))"""
HAS_TITLE_JS = """t => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .some(p => p.layout.title && p.layout.title.text.replace(/<[^>]+>/g, '').includes(t))"""
ROW_SUMS_JS = """(args) => {
    const [t, i] = args;
    const p = Array.from(document.querySelectorAll('.js-plotly-plot'))
        .find(p => p.layout.title.text.replace(/<[^>]+>/g, '').includes(t));
    return Array.from(p._fullData[i].z).map(r => Array.from(r));
}"""


def _figs(page) -> list[dict]:
    return page.evaluate(FIGS_JS)


def _fig(page, title_part: str) -> dict:
    return next(f for f in _figs(page) if title_part in f["title"])


def _wait_title(page, title_part: str, timeout: float = RERUN_MS) -> None:
    page.wait_for_function(HAS_TITLE_JS, arg=title_part, timeout=timeout)


def _wait_text(page, testid: str, text: str, timeout: float = RERUN_MS) -> None:
    page.locator(f'[data-testid="{testid}"]', has_text=text).first.wait_for(timeout=timeout)


def _weights(page, title_part: str, trace: int) -> list[list[float]]:
    return page.evaluate(ROW_SUMS_JS, [title_part, trace])


def _toggle(page, label: str) -> None:
    """Streamlit draws its own switch over the input; click the label that holds it."""
    page.locator("label").filter(has=page.get_by_role("switch", name=label)).click()


def _tall_screenshot(page, name: str, height: int = 2300) -> None:
    """Streamlit scrolls inside its own container, so make the viewport tall enough for the whole lab."""
    page.set_viewport_size({"width": 1400, "height": height})
    page.wait_for_timeout(800)
    screenshot(page, name)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.wait_for_timeout(300)


def _open(page, app_url, lang: str, query: str = "") -> None:
    goto(page, app_url, path="attention", lang=lang, query=query, timeout=LOAD_MS)
    page.locator(".js-plotly-plot").first.wait_for(timeout=LOAD_MS)
    wait_idle(page)


def test_by_hand_heatmaps_rows_sum_to_one_and_the_scaling_toggle_reaches_figure_and_url(page, app_url):
    _open(page, app_url, "en")
    hand = _fig(page, "Scaled dot-product attention")
    assert "× 0.577 / τ), τ = 1" in hand["title"]                   # 1/√3 for the example's d_k = 3
    assert hand["types"] == ["heatmap"] * 3                          # scores, weights, output
    weights = _weights(page, "Scaled dot-product attention", 1)
    assert len(weights) == 4 and all(abs(sum(row) - 1) < 1e-5 for row in weights)
    assert any("Two scoring functions" in f["title"] for f in _figs(page))
    _wait_text(page, "stAlertContentSuccess", "Every row of the attention weights sums to 1 (4 rows")
    assert_no_streamlit_error(page)
    _tall_screenshot(page, "attention-hand-en")

    _toggle(page, "Divide by √d_k")
    _wait_title(page, "× 1 / τ), τ = 1")
    wait_idle(page)
    page.wait_for_function("() => location.search.includes('attention.scaled=0')", timeout=RERUN_MS)
    unscaled = _weights(page, "Scaled dot-product attention", 1)
    assert all(abs(sum(row) - 1) < 1e-5 for row in unscaled)
    assert unscaled[0][0] > weights[0][0] + 0.1                       # sharper without the 1/√d_k
    _wait_text(page, "stAlertContentSuccess", "Every row of the attention weights sums to 1")
    assert_no_streamlit_error(page)
    _tall_screenshot(page, "attention-hand-unscaled-en")


def test_saturate_preset_in_chinese_draws_the_saturation_curve_and_reaches_the_url(page, app_url):
    _open(page, app_url, "zh")
    assert "缩放点积注意力" in _fig(page, "softmax(QKᵀ")["title"]
    _wait_text(page, "stAlertContentSuccess", "注意力权重的每一行之和都是 1（共 4 行")
    assert not any("饱和" in f["title"] for f in _figs(page))

    page.get_by_role("button", name="去掉 √d_k，把 d_k 调大").click()
    _wait_title(page, "没有 1/√d_k 时，d_k 越大 softmax 越饱和")
    wait_idle(page)
    for part in ("attention.source=random", "attention.scaled=0", "attention.d_k=512"):
        page.wait_for_function("p => location.search.includes(p)", arg=part, timeout=RERUN_MS)
    assert "× 1 / τ)" in _fig(page, "缩放点积注意力")["title"]
    weights = _weights(page, "缩放点积注意力", 1)
    assert len(weights) == 6                                          # six random tokens
    assert sorted(max(row) for row in weights)[3] > 0.9               # d_k = 512 unscaled: nearly one-hot rows
    _wait_text(page, "stAlertContentSuccess", "共 6 行")
    _wait_text(page, "stAlertContentInfo", "d_k = 512 且不缩放时")
    assert_no_streamlit_error(page)
    _tall_screenshot(page, "attention-saturate-zh", height=2600)


def test_toy_transformer_reverses_in_chinese_and_a_bad_symbol_gives_the_translated_error(page, app_url):
    _open(page, app_url, "zh")
    page.get_by_role("tab", name="训练好的小 Transformer").click()
    _wait_title(page, "反转模型的交叉注意力")
    wait_idle(page)
    cross = _fig(page, "反转模型的交叉注意力")
    assert cross["types"] == ["heatmap"] * 8                         # 2 layers x 4 heads
    assert cross["xs"][0] == 9                                        # 8 digits and <eos>
    _wait_text(page, "stMarkdownContainer", "模型写出 6 2 9 5 1 4 1 3（正确答案：6 2 9 5 1 4 1 3）——正确。")
    page.wait_for_function("() => location.search.includes('attention.view=toy')", timeout=RERUN_MS)
    _tall_screenshot(page, "attention-toy-zh")

    box = page.get_by_role("textbox", name="你的数字串")
    box.fill("2718")
    box.press("Enter")
    _wait_text(page, "stMarkdownContainer", "模型写出 8 1 7 2（正确答案：8 1 7 2）")
    wait_idle(page)
    assert _fig(page, "反转模型的交叉注意力")["xs"][0] == 5              # the map shrinks to 4 digits and <eos>

    box.fill("12x4")
    box.press("Enter")
    _wait_text(page, "stAlertContentError", "只允许数字 0-9，但第 3 个符号是“x”")
    wait_idle(page)
    page.wait_for_function("() => location.search.includes('attention.digits=12x4')", timeout=RERUN_MS)
    cross = _fig(page, "反转模型的交叉注意力")                           # still drawn, for the example
    assert cross["types"] == ["heatmap"] * 8 and cross["xs"][0] == 9
    _wait_text(page, "stMarkdownContainer", "源序列 3 1 4 1 5 9 2 6")
    assert page.locator('[data-testid="stException"]').count() == 0
    _tall_screenshot(page, "attention-toy-bad-symbol-zh")


def test_minilm_grid_loads_rerenders_for_a_typed_sentence_and_reopens_in_chinese(page, app_url):
    _open(page, app_url, "en")
    page.get_by_role("tab", name="Pretrained MiniLM").click()
    _wait_title(page, "All 6 layers × 12 heads of MiniLM", timeout=LOAD_MS)   # the first load of the model
    wait_idle(page, timeout=LOAD_MS)
    grid = _fig(page, "All 6 layers × 12 heads")
    assert grid["types"] == ["heatmap"] * 72                          # layers x heads
    assert grid["xs"][0] == 13                                        # [CLS] + 11 tokens + [SEP]
    titles = [f["title"] for f in _figs(page)]
    assert "Layer 1, head 1" in titles and "Where “cat” looks (this head)" in titles
    _wait_text(page, "stMarkdownContainer", "[CLS] the cat sat on the mat because it was tired . [SEP]")
    assert_no_streamlit_error(page)
    _tall_screenshot(page, "attention-minilm-en", height=3000)

    box = page.get_by_role("textbox", name="Your sentence")
    box.fill("I love deep learning")
    box.press("Control+Enter")
    _wait_title(page, "Where “love” looks (this head)")
    wait_idle(page)
    assert _fig(page, "All 6 layers × 12 heads")["xs"][0] == 6        # [CLS] i love deep learning [SEP]
    page.wait_for_function("() => location.search.includes('attention.sentence=I+love+deep+learning')",
                           timeout=RERUN_MS)
    _wait_text(page, "stMarkdownContainer", "[CLS] i love deep learning [SEP]")
    assert_no_streamlit_error(page)
    _tall_screenshot(page, "attention-minilm-sentence-en", height=3000)

    _open(page, app_url, "zh", query="attention.view=bert&attention.sentence=I%20love%20deep%20learning")
    _wait_title(page, "MiniLM 在你的句子上的全部 6 层 × 12 个头", timeout=LOAD_MS)
    _wait_title(page, "“love”看向哪里（这个头）")
    wait_idle(page)
    assert _fig(page, "MiniLM 在你的句子上")["types"] == ["heatmap"] * 72
    assert "第 1 层，第 1 个头" in [f["title"] for f in _figs(page)]
    assert_no_streamlit_error(page)
    _tall_screenshot(page, "attention-minilm-zh", height=3000)


_OVERLAPS_JS = """() => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot')).find(p => p.getClientRects().length > 0);
  const box = e => e.getBoundingClientRect();
  const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const bars = Array.from(gd.querySelectorAll('.colorbar'));
  const labels = Array.from(gd.querySelectorAll('.ytick text, .y2tick text, .ytitle, .y2title, .xtick text, '
                                                + '.x2tick text')).filter(l => !l.closest('.colorbar'));
  return {bars: bars.length, labels: labels.length,
          overlaps: bars.flatMap(b => labels.filter(l => hit(box(b), box(l))).map(l => l.textContent))};
}"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_positional_colour_bar_covers_no_labels_of_the_next_map(page, app_url, lang):
    """Issue 31: the encoding's colour bar covered the similarity map's labels (Plotly's drawn boxes, 1400 px)."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    goto(page, app_url, path="attention", lang=lang, query="attention.view=positions")
    page.locator(".js-plotly-plot .colorbar").first.wait_for(timeout=60_000)
    wait_idle(page)
    found = page.evaluate(_OVERLAPS_JS)
    page.locator(".js-plotly-plot").first.screenshot(path=str(screenshot(page, f"attention-positions-{lang}")))
    assert found["bars"] == 2 and found["labels"] > 10
    assert not found["overlaps"], f"{lang}: the colour bar covers {found['overlaps']}"
