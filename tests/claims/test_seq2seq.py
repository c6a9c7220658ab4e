"""Claim tests: every sentence of the seq2seq lesson that says what the lab shows, run through dlcore."""

import json
import math

import pytest
import torch

from dlcore.seq2seq import beam_search, beam_trace, bleu, bleu_parts, exhaustive_trace, greedy_search, search
from dlcore.seq2seq import model as s2s
from dlcore.seq2seq import number_words as nw
from ui.experiments import seq2seq as experiment


def _words(d, tokens):
    return [d.words[i] for i in tokens if i != 1]


def test_promise_1636_in_english_and_chinese():
    """“A small GRU encoder–decoder turns 1636 into “one thousand six hundred and thirty-six” and 一千六百三十六.”"""
    for direction, text in (("digits-en", "one thousand six hundred and thirty-six"), ("digits-zh", "一千六百三十六")):
        for attention in (False, True):
            d = experiment.decoder(experiment.Translation("trained", direction, attention, "1636"))
            tokens, _ = greedy_search(d.step, 0, 1, 12)
            assert nw.render(tuple(_words(d, tokens)), direction[-2:]) == text


def test_early_preset_greedy_slips_and_beam_recovers():
    """“After only 100 training steps the model is unsure: greedy search ends 1636 with “sixty-six”, while beam search
    with k = 4 keeps a less likely prefix and returns the right words.”"""
    v = experiment.settings("early")
    assert v["source"] == "early" and experiment.EARLY == 100 and v["beam"] == 4
    d = experiment.decoder(experiment.translation(v))
    greedy, _ = greedy_search(d.step, 0, 1, v["max_len"])
    assert _words(d, greedy)[-2:] == ["sixty", "six"]
    best = beam_search(d.step, 0, 1, v["beam"], v["max_len"], v["alpha"])[0][0]
    assert tuple(_words(d, best)) == nw.to_english(1636)
    # "keeps a less likely prefix": the right answer's first-step-6 prefix is not greedy's at the step where they part
    part = next(i for i, (a, b) in enumerate(zip(greedy, best)) if a != b)
    lp_g = sum(float(d.step((0, *greedy[:t]))[greedy[t]]) for t in range(part + 1))
    lp_b = sum(float(d.step((0, *best[:t]))[best[t]]) for t in range(part + 1))
    assert lp_b < lp_g


def test_greedy_trap_preset():
    """“Greedy search takes A (0.5) and ends with A C, probability 0.20; beam search with k = 2 also keeps B and finds
    B D with probability 0.36, the best sequence, as exhaustive search confirms.”"""
    v = experiment.settings("greedy_trap")
    toy = search.toy_greedy_trap()
    greedy, lp = greedy_search(toy.step_log_probs, 0, 1, v["max_len"])
    assert [toy.vocab[i] for i in greedy] == ["A", "C", "<eos>"] and math.exp(lp) == pytest.approx(0.20)
    assert math.exp(float(toy.step_log_probs((0,))[2])) == pytest.approx(0.5)
    tokens, score = beam_search(toy.step_log_probs, 0, 1, v["beam"], v["max_len"], v["alpha"])[0]
    assert [toy.vocab[i] for i in tokens] == ["B", "D", "<eos>"] and math.exp(score) == pytest.approx(0.36)
    ex = exhaustive_trace(toy.step_log_probs, 0, 1, len(toy.vocab), v["max_len"], v["alpha"])
    assert ex.results[0][0] == tokens


def test_too_short_preset():
    """“With α = 0 beam search returns the empty output, because stopping at once (0.4) beats A B C (0.336); raise α to
    0.75 and the length-normalised score picks A B C.”"""
    v = experiment.settings("too_short")
    assert v["alpha"] == 0.0
    toy = search.toy_too_short()
    results = dict(beam_search(toy.step_log_probs, 0, 1, v["beam"], v["max_len"], 0.0))
    assert max(results, key=results.get) == (1,) and math.exp(results[(1,)]) == pytest.approx(0.4)
    assert math.exp(results[(2, 3, 4, 1)]) == pytest.approx(0.336)
    best = beam_search(toy.step_log_probs, 0, 1, v["beam"], v["max_len"], 0.75)[0][0]
    assert [toy.vocab[i] for i in best] == ["A", "B", "C", "<eos>"]


def test_zero_preset_writes_ling_and_yi_shi():
    """“The Chinese model writes 一千零一十 for 1010: one 零 for the zero digit, and 一十, not 十, after a higher
    unit.”"""
    d = experiment.decoder(experiment.translation(experiment.settings("zero")))
    tokens, _ = greedy_search(d.step, 0, 1, 12)
    assert "".join(_words(d, tokens)) == "一千零一十" == "".join(nw.to_chinese(1010))


def test_derail_preset_one_forced_word_changes_the_number():
    """“Force the first word to the model's second choice and the decoder carries on from it: 312 becomes “one hundred
    and twelve”.”"""
    v = experiment.settings("derail")
    _, txt = experiment.walk_view(experiment.translation(v), v["force"], {k: k for k in experiment_labels()})
    assert txt["greedy"] == "three hundred and twelve" and txt["forced"] == "five hundred and twelve"


def experiment_labels():
    from ui.figures import seq2seq as figs

    return figs.LABELS


def test_bleu_preset_by_hand():
    """“The candidate has 3 of 4 words and 2 of 3 word pairs of the reference and the same length, so BLEU =
    (3/4)^(1/2) × (2/3)^(1/4) ≈ 0.78.”"""
    v = experiment.settings("bleu")
    parts = bleu_parts(experiment.bleu_tokens(v["candidate"]), experiment.bleu_tokens(v["reference"]), v["bleu_k"])
    assert parts.matches == (3, 2) and parts.totals == (4, 3) and parts.brevity == 1.0
    assert round(parts.score, 2) == 0.78


def test_toy_notice_the_trained_model_greedy_and_beam_almost_always_agree():
    """“the trained one is so sure of itself that greedy and beam search almost always agree”"""
    numbers = s2s.test_numbers()
    for attention in (False, True):
        m = experiment.model("digits-en", attention)
        greedy = s2s.greedy_batch(m, numbers)
        beam = [t for t, _ in s2s.beam_batch(m, numbers, 4, alpha=0.75)]
        assert sum(g == b for g, b in zip(greedy, beam)) >= 0.99 * len(numbers)


def test_decode_notice_candidates_per_step():
    """“Greedy search scores |Y| = {y} candidates a step; beam search k|Y|, keeping the best k = {k}”"""
    v = experiment.DEFAULTS
    d = experiment.decoder(experiment.translation(v))
    Y = len(d.words) - 1
    assert Y == 32
    g = beam_trace(d.step, 0, 1, 1, v["max_len"])
    b = beam_trace(d.step, 0, 1, v["beam"], v["max_len"], v["alpha"])
    assert g.scored == Y * g.calls and b.scored == Y * b.calls
    assert b.calls <= 1 + v["beam"] * (v["max_len"] - 1)
    for t in range(2, 4):   # a full step: k prefixes alive, k|Y| candidates, k kept
        assert sum(n.step == t for n in b.nodes if math.isfinite(n.log_prob)) == v["beam"] * Y
        assert sum(n.kept for n in b.nodes if n.step == t) == v["beam"]


def test_attention_notice_rows_sum_to_one_and_plain_notice_same_context():
    """“every row sums to 1” and “Without attention the decoder sees the same context at every step: c = h_S”"""
    m = experiment.model("digits-en", True)
    w = s2s.walkthrough(m, tuple("2019"))
    torch.testing.assert_close(w.weights.sum(-1), torch.ones(w.weights.shape[0]))
    plain = experiment.model("digits-en", False)
    src = torch.tensor([plain.src_vocab.ids(list("2019"))])
    with torch.no_grad():
        mem = plain.encode(src)
        torch.testing.assert_close(mem.context, mem.states[:, -1])
        scrambled = s2s.Memory(torch.randn_like(mem.states), mem.mask, mem.context)
        a = plain.step(torch.tensor([0]), mem.context, mem)[0]
        b = plain.step(torch.tensor([0]), mem.context, scrambled)[0]
    torch.testing.assert_close(a, b)


def test_perplexity_notice_order():
    """“The decoder, which also reads the source, is nearly certain of every next token ({model}); a bigram language
    model of the words alone reaches {bigram}, a unigram {unigram}, and uniform guessing |Y| = {y}.”"""
    for direction in ("digits-en", "digits-zh"):
        p = s2s.perplexities(experiment.model(direction, False))
        assert p.seq2seq < 1.1 < p.bigram < p.unigram < p.uniform == p.vocab


def test_help_and_train_intro_steps_and_same_data():
    """“Trained: the bundled model after 1,200 training steps. Early: the same run after 100 steps” and “Two short
    runs of {steps} steps each, the same model and data … one feeds the decoder the true previous token”"""
    summary = json.loads((experiment.MODELS / "summary.json").read_text())
    assert all(v["steps"] == 1200 for v in summary.values()) and len(summary) == 8
    assert all(experiment.EARLY in experiment.blob(d, a)["snapshots"] for d in experiment.DIRECTIONS
               for a in (False, True))
    forced, free = experiment.train_configs("curves", "digits-en", False, 0)
    assert forced.teacher_forcing and not free.teacher_forcing
    assert (forced.model, forced.seed, forced.steps) == (free.model, free.seed, free.steps) == \
        (free.model, free.seed, experiment.CURVE_STEPS)


def test_concept_held_out_and_bleu_is_one_only_for_the_label():
    """“500 numbers are held out as the test set.” and “BLEU is 1 exactly when the prediction equals the label.”"""
    assert len(s2s.test_numbers()) == 500 == s2s.TEST_SIZE
    label = nw.to_english(1636)
    assert bleu(label, label, 4) == 1.0
    assert bleu(label[:-1], label, 4) < 1 and bleu(label + ("six",), label, 4) < 1


@pytest.mark.slow
def test_concept_free_running_learns_more_slowly_for_the_plain_model():
    """“Free running (feeding the model's own guesses while training) closes the gap but learns more slowly.”"""
    forced, free = experiment.train_configs("curves", "digits-en", False, 0)
    a, b = s2s.train_curves(forced), s2s.train_curves(free)
    assert a[-1][2] > b[-1][2] and a[len(a) // 2][2] > b[len(b) // 2][2]


def test_encoders_intro_a_bidirectional_state_has_read_the_whole_number():
    """“A bidirectional encoder's state at a token has read the whole number, both before and after it; a
    one-directional one only what came before.”"""
    from dlcore.seq2seq.model import ModelConfig, make_model

    for bi in (True, False):
        m = make_model(ModelConfig(bidirectional=bi, seed=3)).eval()
        with torch.no_grad():
            first = [m.encode(torch.tensor([m.src_vocab.ids(list(n))])).states[0, 0] for n in ("1234", "1239")]
        assert torch.allclose(*first) is (not bi)


@pytest.mark.slow
def test_encoders_notice_bidirectional_is_well_ahead_after_300_steps():
    """“On digits → English after 300 steps the one-layer bidirectional encoder is well ahead of the one-layer
    one-directional one.”"""
    configs = experiment.train_configs("encoders", "digits-en", False, 0)
    assert [(c.model.bidirectional, c.model.layers) for c in configs[:2]] == [(False, 1), (True, 1)]
    assert all(c.steps == 300 for c in configs)
    uni, bi = (s2s.encoder_accuracy(c) for c in configs[:2])
    assert bi > uni + 0.05


def test_test_bleu_notice_exhaustive_is_beyond_the_cap():
    """“Exhaustive search is left out: its |Y|^T sequences per number are far beyond the cap.”"""
    from dlcore.seq2seq.model import MAX_TARGET

    for direction in ("digits-en", "digits-zh"):
        Y = len(experiment.model(direction, False).tgt_vocab) - 1
        assert search.exhaustive_size(Y, MAX_TARGET + 1) > 1000 * search.MAX_EXHAUSTIVE
