"""AppTest of the seq2seq lesson: the beam tree and strategy table, presets, tabs, URL state and bad input in both
languages, with the figures' values checked against dlcore run independently of the page."""

import math

import numpy as np
import pytest

from dlcore.seq2seq import beam_search, bleu_parts, greedy_search, search
from tests.support import all_text, figures, open_page, widget
from ui.experiments import seq2seq as experiment
from ui.i18n import strings

PAGE = "pages/seq2seq.py"


def _tab(at, name: str, lang: str = "en"):
    at.session_state["seq2seq.tab"] = strings(lang)[f"seq2seq.tabs.{name}"]
    return at.run()


def _fig(at, title_key: str, lang: str = "en") -> dict:
    title = strings(lang)[f"seq2seq.fig.{title_key}"]
    return next(f for f in figures(at) if f["layout"]["title"]["text"] == title)


def _table(at, lang: str = "en") -> dict[str, dict]:
    cols = {c: strings(lang)[f"seq2seq.cols.{c}"] for c in experiment.COLUMNS}
    df = at.dataframe[0].value
    return {row[cols["strategy"]]: {c: row[cols[c]] for c in experiment.COLUMNS} for _, row in df.iterrows()}


def _kept(fig: dict, lang: str = "en") -> dict:
    kept = strings(lang)["seq2seq.fig.kept"]
    return next(tr for tr in fig["data"] if tr.get("name") == kept)


def _kept_texts(fig: dict) -> list[str]:
    return list(_kept(fig)["text"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_default_tree_and_table_show_greedy_slipping_and_beam_recovering(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    fig = _fig(at, "tree_title", lang)
    table = _table(at, lang)
    names = {s: strings(lang)[f"seq2seq.strategies.{s}"] for s in experiment.STRATEGIES}
    assert table[names["greedy"]]["output"] == "one thousand six hundred and sixty-six"
    assert table[names["beam"]]["output"] == "one thousand six hundred and thirty-six"
    assert table[names["beam"]]["right"] == "✓" and table[names["greedy"]]["right"] == "✗"
    # the page's numbers are the search's own, run here on the same model
    d = experiment.decoder(experiment.translation(experiment.DEFAULTS))
    best = beam_search(d.step, 0, 1, 4, 10, 0.75)[0]
    assert table[names["beam"]]["score"] == pytest.approx(best[1], abs=1e-4)
    assert table[names["beam"]]["per_step"] == "k|Y| = 128"
    assert at.warning and "32^10" in at.warning[0].value      # exhaustive search refused, with its size
    if lang == "en":
        kept = _kept(fig)
        assert sum(1 for x in kept["x"] if x == 1) == 4          # k = 4 candidates kept at step 1
        assert any(t.startswith("thirty") for t in _kept_texts(fig))


def test_beam_width_one_is_greedy_on_the_page():
    at = open_page(PAGE, "en")
    widget(at, "seq2seq.beam").set_value(1).run()
    table = _table(at)
    assert table["Greedy"]["output"] == table["Beam"]["output"] == "one thousand six hundred and sixty-six"
    fig = _fig(at, "tree_title")
    xs = np.asarray(_kept(fig)["x"])
    assert all((xs == t).sum() == 1 for t in set(xs.tolist()))  # one kept candidate a step


def test_greedy_trap_preset_matches_exhaustive_and_brute_force_numbers():
    at = open_page(PAGE, "en")
    at.button(key="seq2seq.preset_btn.greedy_trap").click().run()
    assert not at.exception and not at.error and not at.warning
    table = _table(at)
    assert table["Greedy"]["output"] == "A C" and table["Beam"]["output"] == "B D" == table["Exhaustive"]["output"]
    assert table["Beam"]["log_p"] == pytest.approx(math.log(0.36), abs=1e-4)
    assert table["Greedy"]["log_p"] == pytest.approx(math.log(0.20), abs=1e-4)
    assert any(t == "B -0.92" for t in _kept_texts(_fig(at, "tree_title")))
    assert "0.36" in all_text(at)


def test_too_short_preset_then_alpha_fixes_it():
    at = open_page(PAGE, "zh")
    at.button(key="seq2seq.preset_btn.too_short").click().run()
    beam = strings("zh")["seq2seq.strategies.beam"]
    assert _table(at, "zh")[beam]["output"] == "∅"
    widget(at, "seq2seq.alpha").set_value(0.75).run()
    row = _table(at, "zh")[beam]
    toy = search.toy_too_short()
    assert row["output"] == "A B C"
    assert row["score"] == pytest.approx(beam_search(toy.step_log_probs, 0, 1, 2, 5, 0.75)[0][1], abs=1e-4)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("text,code", [("three hundred twelve", "grammar"), ("三百一十二万", "unknown"),
                                       ("", "empty"), ("12345", "range")])
def test_bad_numbers_get_a_translated_message_and_the_page_keeps_working(lang, text, code):
    at = open_page(PAGE, lang)
    widget(at, "seq2seq.text").set_value(text).run()
    assert not at.exception
    assert len(at.error) == 1
    message = strings(lang)[f"seq2seq.problems.{code}"]
    assert at.error[0].value.startswith(message.split("{")[0].strip()[:6])
    assert _fig(at, "tree_title", lang)                           # the default number is decoded instead


def test_words_in_another_language_are_read_exactly_then_encoded_as_digits():
    at = open_page(PAGE, "en")
    widget(at, "seq2seq.text").set_value("一千六百三十六").run()
    assert not at.error and "Read as 1636" in all_text(at)


def test_url_reopens_the_experiment_and_bad_values_fall_back_with_a_note():
    at = open_page(PAGE, "en", {"seq2seq.source": "greedy_trap", "seq2seq.beam": "2", "seq2seq.alpha": "0"})
    assert _table(at)["Beam"]["output"] == "B D"
    at = open_page(PAGE, "en", {"seq2seq.beam": "99", "seq2seq.max_len": "abc"})
    assert not at.exception
    assert at.warning and "seq2seq.beam" in at.warning[0].value
    assert widget(at, "seq2seq.beam").value == experiment.DEFAULTS["beam"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_encoder_decoder_tab_distributions_and_alignment_rows_sum_to_one(lang):
    at = open_page(PAGE, lang, {"seq2seq.source": "trained", "seq2seq.attention": "1",
                                "seq2seq.direction": "digits-zh", "seq2seq.text": "1010"})
    at = _tab(at, "encdec", lang)
    assert not at.exception and not at.error
    dist, align = _fig(at, "dist_title", lang), _fig(at, "align_title", lang)
    steps = _fig(at, "steps_title", lang)                   # one frame per output token, the chosen one coloured
    assert [f["name"] for f in steps["frames"]] == list(dist["data"][0]["y"])
    np.testing.assert_allclose(steps["frames"][0]["data"][0]["y"][0], dist["data"][0]["z"][0].max(), atol=1e-4)
    np.testing.assert_allclose(np.asarray(dist["data"][0]["z"]).sum(1), 1.0, atol=1e-4)
    np.testing.assert_allclose(np.asarray(align["data"][0]["z"]).sum(1), 1.0, atol=1e-4)
    assert list(dist["data"][0]["y"]) == ["1: 一", "2: 千", "3: 零", "4: 一", "5: 十", "6: <eos>"]
    d = experiment.decoder(experiment.translation(experiment.settings("zero")))
    tokens, _ = greedy_search(d.step, 0, 1, 10)
    assert [d.words[i] for i in tokens] == ["一", "千", "零", "一", "十", "<eos>"]


def test_plain_model_has_no_alignment_and_the_toys_have_no_encoder():
    at = _tab(open_page(PAGE, "en", {"seq2seq.source": "trained"}), "encdec")
    titles = [f["layout"]["title"]["text"] for f in figures(at)]
    assert strings("en")["seq2seq.fig.align_title"] not in titles and len(titles) == 3
    at = _tab(open_page(PAGE, "en", {"seq2seq.source": "too_short"}), "encdec")
    assert at.info and not figures(at)


def test_bleu_tab_bars_are_d2l_bleu_pieces_and_the_test_set_chart_is_drawn():
    at = _tab(open_page(PAGE, "en"), "bleu")
    assert not at.exception and not at.error
    bars = _fig(at, "bleu_title")["data"][0]["y"]
    parts = bleu_parts("three hundred and twenty".split(), "three hundred and twelve".split(), 2)
    np.testing.assert_allclose(bars, [*parts.precisions, parts.brevity, parts.score], atol=1e-6)
    assert parts.score == pytest.approx(0.75 ** 0.5 * (2 / 3) ** 0.25)
    test = _fig(at, "test_title")
    r = experiment.heldout_bleu("digits-en", False, True, 4, 0.75, 2)
    np.testing.assert_allclose(test["data"][0]["y"], [r["greedy"][0], r["beam"][0]], atol=1e-6)
    widget(at, "seq2seq.reference").set_value("  ").run()
    assert at.error and not at.exception


def test_train_tab_perplexities_order_from_decoder_to_uniform():
    at = _tab(open_page(PAGE, "zh"), "train", "zh")
    assert not at.exception and not at.error
    values = np.asarray(_fig(at, "ppl_title", "zh")["data"][0]["y"])
    assert values[0] < values[1] < values[2] < values[3] == 32.0


@pytest.mark.slow
def test_train_tab_buttons_run_short_trainings_and_draw_their_results(monkeypatch):
    from dlcore.seq2seq import model as s2s

    monkeypatch.setattr(experiment, "CURVE_STEPS", 20)   # the same code path, in seconds
    at = _tab(open_page(PAGE, "en", {"seq2seq.source": "trained"}), "train")
    at.button(key="seq2seq.go_curves").click().run()
    assert not at.exception and not at.error
    curves = _fig(at, "curve_title")
    forced, free = experiment.train_configs("curves", "digits-en", False, 0)
    expected = s2s.train_curves(forced)
    np.testing.assert_allclose(curves["data"][0]["y"], [h[2] for h in expected])   # test accuracy at step 20
    at.button(key="seq2seq.go_encoders").click().run()
    bars = _fig(at, "encoder_title")["data"][0]
    assert len(bars["y"]) == 4 and all(0 <= a <= 1 for a in bars["y"])


def test_bleu_tab_scores_the_model_s_own_outputs_against_the_reference():
    at = _tab(open_page(PAGE, "en"), "bleu")
    rows = {r["Strategy"]: r for _, r in at.dataframe[1].value.iterrows()}
    ref = "one thousand six hundred and thirty six".split()
    assert rows["Beam"]["BLEU against the reference"] == pytest.approx(1.0)
    greedy = "one thousand six hundred and sixty six".split()
    assert rows["Greedy"]["BLEU against the reference"] == pytest.approx(
        bleu_parts(greedy, ref, 2).score, abs=1e-4)
    assert rows["Greedy"]["BLEU against the reference"] < 1
