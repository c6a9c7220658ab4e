"""dlcore.seq2seq: number words against hand-written cases, beam search against brute force, BLEU against d2l."""

from __future__ import annotations

import collections
import itertools
import math

import pytest
import torch

from dlcore.seq2seq import beam_search, beam_trace, bleu, bleu_parts, exhaustive_trace, greedy_search, search
from dlcore.seq2seq import number_words as nw

# ---------------------------------------------------------------- number words

HAND = {   # written out by hand, not by the generators
    0: ("zero", "零"), 7: ("seven", "七"), 10: ("ten", "十"), 12: ("twelve", "十二"), 19: ("nineteen", "十九"),
    20: ("twenty", "二十"), 45: ("forty-five", "四十五"), 100: ("one hundred", "一百"),
    101: ("one hundred and one", "一百零一"), 110: ("one hundred and ten", "一百一十"),
    112: ("one hundred and twelve", "一百一十二"), 312: ("three hundred and twelve", "三百一十二"),
    500: ("five hundred", "五百"), 1000: ("one thousand", "一千"), 1005: ("one thousand and five", "一千零五"),
    1010: ("one thousand and ten", "一千零一十"), 1050: ("one thousand and fifty", "一千零五十"),
    1100: ("one thousand one hundred", "一千一百"), 1105: ("one thousand one hundred and five", "一千一百零五"),
    1200: ("one thousand two hundred", "一千二百"), 2019: ("two thousand and nineteen", "二千零一十九"),
    2345: ("two thousand three hundred and forty-five", "二千三百四十五"),
    7070: ("seven thousand and seventy", "七千零七十"), 9999: ("nine thousand nine hundred and ninety-nine",
                                                           "九千九百九十九"),
}


@pytest.mark.parametrize("n", sorted(HAND))
def test_generators_write_the_hand_written_english_and_chinese(n):
    en, zh = HAND[n]
    assert nw.render(nw.to_english(n), "en") == en
    assert nw.render(nw.to_chinese(n), "zh") == zh
    assert nw.to_digits(n) == tuple(str(n))


def test_ten_to_nineteen_drop_the_one_only_when_nothing_comes_before():
    assert nw.to_chinese(15)[0] == "十" and nw.to_chinese(115)[2:4] == ("一", "十")


def test_one_zero_character_stands_for_a_run_of_zeros_and_trailing_zeros_are_silent():
    for n in range(nw.MAX_NUMBER + 1):
        zh = "".join(nw.to_chinese(n))
        assert "零零" not in zh
        assert not (n and zh.endswith("零"))
        assert ("零" in zh) == (n == 0 or bool(__import__("re").search(r"[1-9]0+[1-9]", str(n))))


def test_and_appears_exactly_when_a_part_below_a_hundred_follows_a_hundred_or_thousand():
    for n in range(nw.MAX_NUMBER + 1):
        assert ("and" in nw.to_english(n)) == (n >= 100 and 0 < n % 100)


@pytest.mark.parametrize("language", ["digits", "en", "zh"])
def test_parse_reads_back_every_number_the_generators_write(language):
    for n in range(0, nw.MAX_NUMBER + 1, 7):
        assert nw.parse(nw.render(nw.write(n, language), language)).number == n


@pytest.mark.parametrize("text,code,position,token", [
    ("", "empty", 0, ""), ("   ", "empty", 0, ""),
    ("three hundred twelve", "grammar", 2, "twelve"),     # no "and"
    ("一十二", "grammar", 0, "一"),                          # 十二 alone
    ("一千零零五", "grammar", 3, "零"),
    ("three hundred and twelfe", "unknown", 3, "twelfe"),
    ("三百一十二万", "unknown", 5, "万"), ("12a", "digits" and "unknown", 2, "a"),
    ("12345", "range", 4, "5"), ("ten thousand", "range", 0, "ten"), ("0312", "grammar", 0, "0"),
    ("x" * 61, "too_long", 60, "x"),
])
def test_bad_typed_numbers_say_what_and_where(text, code, position, token):
    with pytest.raises(nw.NumberTextError) as err:
        nw.parse(text)
    assert (err.value.code, err.value.position, err.value.token) == (code, position, token)
    assert isinstance(err.value, ValueError)


def test_writing_a_number_out_of_range_raises():
    for bad in (-1, 10_000, 3.0, True):
        with pytest.raises(ValueError):
            nw.to_english(bad)


# ---------------------------------------------------------------- search against brute force

def random_model(vocab: int, seed: int, eos: int = 1, bos: int = 0, peaked: float = 2.0):
    """A random next-token table over every prefix (deterministic in the prefix)."""
    def step(prefix):
        g = torch.Generator().manual_seed(hash((seed, prefix)) % (2**31))
        logits = peaked * torch.randn(vocab, generator=g, dtype=torch.float64)
        logits[bos] = float("-inf")
        return torch.log_softmax(logits, -1)
    return step


def brute_force(step, bos, eos, vocab, max_len, alpha):
    """Every sequence of length <= max_len that ends in <eos>, and every one of length max_len without it."""
    tokens = [y for y in range(vocab) if y not in (bos, eos)]
    best = []
    for L in range(1, max_len + 1):
        for body in itertools.product(tokens, repeat=L - 1):
            for last in ((eos,) if L < max_len else (eos, *tokens)):
                seq = (*body, last)
                lp = sum(float(step((bos, *seq[:t]))[seq[t]]) for t in range(L))
                best.append((seq, lp / L ** alpha))
    return max(best, key=lambda r: r[1])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("alpha", [0.0, 0.75])
def test_a_beam_wider_than_every_prefix_finds_the_brute_force_optimum(seed, alpha):
    vocab, max_len = 4, 4        # 2 ordinary tokens, <bos>, <eos>: at most 3^3 alive prefixes
    step = random_model(vocab, seed, peaked=1.0)
    seq, score = brute_force(step, 0, 1, vocab, max_len, alpha)
    results = beam_search(step, 0, 1, beam_size=search.MAX_BEAM, max_len=max_len, alpha=alpha)
    assert results[0][0] == seq
    assert results[0][1] == pytest.approx(score, abs=1e-12)
    ex = exhaustive_trace(step, 0, 1, vocab, max_len, alpha)
    assert ex.results[0][0] == seq and ex.results[0][1] == pytest.approx(score, abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_beam_one_is_greedy_search(seed):
    step = random_model(6, seed)

    def hand_greedy(max_len):
        out, lp = (), 0.0
        while len(out) < max_len and (not out or out[-1] != 1):
            p = step((0, *out))
            y = max(range(6), key=lambda i: float(p[i]))
            out, lp = (*out, y), lp + float(p[y])
        return out, lp
    for max_len in (1, 3, 8):
        expected = hand_greedy(max_len)
        for tokens, lp in (beam_search(step, 0, 1, 1, max_len)[0], greedy_search(step, 0, 1, max_len)):
            assert tokens == expected[0] and lp == pytest.approx(expected[1], abs=1e-12)


def test_results_are_ranked_and_scored_by_length_normalised_log_probability():
    step = random_model(5, 11)
    for alpha in (0.0, 0.5, 1.0):
        results = beam_search(step, 0, 1, 3, 6, alpha)
        scores = [s for _, s in results]
        assert scores == sorted(scores, reverse=True)
        for tokens, s in results:
            lp = sum(float(step((0, *tokens[:t]))[tokens[t]]) for t in range(len(tokens)))
            assert s == pytest.approx(lp / len(tokens) ** alpha, abs=1e-12)
            assert 0 not in tokens and (1 not in tokens[:-1])


def test_greedy_misses_the_best_sequence_of_the_trap_and_beam_two_finds_it():
    toy = search.toy_greedy_trap()
    names = lambda toks: [toy.vocab[i] for i in toks]   # noqa: E731
    greedy, lp = greedy_search(toy.step_log_probs, toy.bos, toy.eos, 5)
    assert names(greedy) == ["A", "C", "<eos>"] and lp == pytest.approx(math.log(0.5 * 0.4))
    best = beam_search(toy.step_log_probs, toy.bos, toy.eos, 2, 5)[0]
    assert names(best[0]) == ["B", "D", "<eos>"] and best[1] == pytest.approx(math.log(0.4 * 0.9))
    assert brute_force(toy.step_log_probs, 0, 1, len(toy.vocab), 3, 0.0)[0] == best[0]


def test_alpha_zero_prefers_the_too_short_output_and_length_normalisation_fixes_it():
    toy = search.toy_too_short()
    names = lambda toks: [toy.vocab[i] for i in toks]   # noqa: E731
    short = beam_search(toy.step_log_probs, toy.bos, toy.eos, 2, 6, alpha=0.0)[0]
    assert names(short[0]) == ["<eos>"] and short[1] == pytest.approx(math.log(0.4))
    fixed = beam_search(toy.step_log_probs, toy.bos, toy.eos, 2, 6, alpha=0.75)[0]
    assert names(fixed[0]) == ["A", "B", "C", "<eos>"]
    assert fixed[1] == pytest.approx(math.log(0.6 * 0.7 * 0.8) / 4 ** 0.75)


def test_the_trace_keeps_k_candidates_a_step_and_counts_its_cost():
    step = random_model(6, 3)
    tr = beam_trace(step, 0, 1, beam_size=3, max_len=5)
    for t in {n.step for n in tr.nodes}:
        assert sum(n.kept for n in tr.nodes if n.step == t) <= 3
    assert tr.scored == 5 * tr.calls and tr.calls <= 1 + 3 * 4


@pytest.mark.parametrize("kwargs", [dict(beam_size=0, max_len=3), dict(beam_size=search.MAX_BEAM + 1, max_len=3),
                                    dict(beam_size=2, max_len=0), dict(beam_size=2, max_len=search.MAX_LEN + 1),
                                    dict(beam_size=2, max_len=3, alpha=-1.0),
                                    dict(beam_size=2, max_len=3, alpha=float("nan"))])
def test_search_sizes_beyond_the_caps_raise(kwargs):
    with pytest.raises(ValueError):
        beam_search(random_model(4, 0), 0, 1, **kwargs)


def test_exhaustive_search_is_refused_past_its_size():
    with pytest.raises(ValueError, match="exhaustive"):
        exhaustive_trace(random_model(40, 0), 0, 1, 40, 4)


# ---------------------------------------------------------------- BLEU

def d2l_bleu(pred_seq, label_seq, k):
    """d2l's code (section "Sequence to Sequence Learning"), verbatim but for the argument types."""
    pred_tokens, label_tokens = pred_seq.split(' '), label_seq.split(' ')
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    score = math.exp(min(0, 1 - len_label / len_pred))
    for n in range(1, k + 1):
        num_matches, label_subs = 0, collections.defaultdict(int)
        for i in range(len_label - n + 1):
            label_subs[' '.join(label_tokens[i: i + n])] += 1
        for i in range(len_pred - n + 1):
            if label_subs[' '.join(pred_tokens[i: i + n])] > 0:
                num_matches += 1
                label_subs[' '.join(pred_tokens[i: i + n])] -= 1
        score *= math.pow(num_matches / (len_pred - n + 1), math.pow(0.5, n))
    return score


def test_bleu_of_a_hand_derived_case():
    # pred A B B C D, label A B C D E F: p1 = 4/5 (B only once), p2 = 3/4 (AB, BC, CD; not BB),
    # bp = exp(1 - 6/5)
    parts = bleu_parts("A B B C D".split(), "A B C D E F".split(), 2)
    assert parts.matches == (4, 3) and parts.totals == (5, 4)
    assert parts.brevity == pytest.approx(math.exp(-0.2))
    assert parts.score == pytest.approx(math.exp(-0.2) * 0.8 ** 0.5 * 0.75 ** 0.25)


def test_bleu_matches_d2l_code_on_random_sentences():
    g = torch.Generator().manual_seed(0)
    words = "a b c d e".split()
    for _ in range(300):
        k = int(torch.randint(1, 5, (1,), generator=g))
        lp, ll = (int(x) for x in torch.randint(k, 9, (2,), generator=g))
        pred = [words[int(i)] for i in torch.randint(0, 5, (lp,), generator=g)]
        label = [words[int(i)] for i in torch.randint(0, 5, (ll,), generator=g)]
        assert bleu(pred, label, k) == pytest.approx(d2l_bleu(" ".join(pred), " ".join(label), k), abs=1e-12)


def test_matches_are_clipped_counts():
    pred, label = "the the the the".split(), "the cat the".split()
    assert bleu_parts(pred, label, 1).matches == (2,)        # "the" counts at most twice, as in the label
    for n in (1, 2):
        p, q = collections.Counter(zip(*[pred[i:] for i in range(n)])), \
            collections.Counter(zip(*[label[i:] for i in range(n)]))
        assert bleu_parts(pred, label, n).matches[-1] == sum((p & q).values())


def test_perfect_prediction_scores_one_and_brevity_only_penalises_short_ones():
    label = "three hundred and twelve".split()
    assert bleu(label, label, 4) == 1.0
    assert bleu_parts(label + ["extra"], label, 1).brevity == 1.0
    assert bleu_parts(label[:2], label, 1).brevity == pytest.approx(math.exp(1 - 4 / 2))


def test_bleu_edge_cases_empty_and_shorter_than_n():
    assert bleu([], ["five"], 2) == 0.0
    # one token: no bigram to match, so only p1 and the brevity penalty count
    assert bleu(["five"], ["twenty", "five"], 2) == pytest.approx(math.exp(1 - 2) * 1.0 ** 0.5)
    with pytest.raises(ValueError):
        bleu(["a"], ["a"], 0)
    with pytest.raises(ValueError):
        bleu(["a"], [], 1)
