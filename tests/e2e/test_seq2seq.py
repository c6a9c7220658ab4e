"""The seq2seq lesson in a real browser: the beam tree is drawn, a preset changes it, tabs and a phone width work."""

from tests.e2e.conftest import assert_no_streamlit_error, goto, plot_titles, screenshot, wait_idle

TREE_TEXTS_JS = ("() => Array.from(document.querySelector('.js-plotly-plot').querySelectorAll('text'))"
                 ".map(e => e.textContent)")


def test_the_beam_tree_is_drawn_and_the_greedy_trap_preset_redraws_it_in_english(page, app_url):
    goto(page, app_url, path="seq2seq", lang="en")
    page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
    texts = page.evaluate(TREE_TEXTS_JS)
    assert any(s.startswith("thousand") for s in texts)            # the digits -> English model's tokens
    screenshot(page, "seq2seq-decode-en")
    page.get_by_role("button", name="A greedy trap").click()
    wait_idle(page)
    page.wait_for_function("() => Array.from(document.querySelector('.js-plotly-plot').querySelectorAll('text'))"
                           ".some(e => e.textContent.startsWith('B -0.92'))")
    assert "seq2seq.source=greedy_trap" in page.url
    assert_no_streamlit_error(page)
    screenshot(page, "seq2seq-trap-en")


def test_the_encoder_decoder_tab_shows_attention_in_chinese(page, app_url):
    goto(page, app_url, path="seq2seq", lang="zh",
         query="seq2seq.view=encdec&seq2seq.source=trained&seq2seq.attention=1&seq2seq.direction=digits-zh"
               "&seq2seq.text=1010")
    page.get_by_role("tab", name="编码器–解码器内部").wait_for(timeout=90_000)
    page.locator(".js-plotly-plot").nth(2).wait_for(timeout=60_000)
    titles = plot_titles(page)
    assert any("注意力对齐" in s for s in titles), titles
    assert_no_streamlit_error(page)
    screenshot(page, "seq2seq-encdec-zh")


def test_bad_input_points_at_the_token_and_the_phone_width_still_draws(page, app_url):
    page.set_viewport_size({"width": 390, "height": 844})
    goto(page, app_url, path="seq2seq", lang="en", query="seq2seq.text=three%20hundred%20and%20twelfe")
    page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
    page.get_by_text("is not a word or character of the task").first.wait_for()
    assert page.locator('[data-testid="stAlertContentError"] strong', has_text="twelfe").count() >= 1
    width = page.evaluate("() => document.querySelector('.js-plotly-plot').getBoundingClientRect().width")
    assert 250 < width <= 390
    assert page.locator('[data-testid="stException"]').count() == 0   # a message, not a traceback
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    screenshot(page, "seq2seq-phone-en")


def test_bleu_and_training_tabs_draw_their_charts(page, app_url):
    goto(page, app_url, path="seq2seq", lang="en", query="seq2seq.view=bleu")
    page.get_by_text("n-gram precisions, brevity penalty and BLEU").first.wait_for(timeout=90_000)
    page.get_by_text("The 500 held-out numbers").first.wait_for(timeout=60_000)
    assert_no_streamlit_error(page)
    screenshot(page, "seq2seq-bleu-en")
    page.get_by_role("tab", name="Teacher forcing and perplexity").click()
    wait_idle(page)
    page.get_by_text("Perplexity of the test targets").first.wait_for(timeout=60_000)
    assert_no_streamlit_error(page)
    screenshot(page, "seq2seq-train-en")
