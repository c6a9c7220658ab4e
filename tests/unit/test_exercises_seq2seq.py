"""The seq2seq lesson's exercises: every answer against a hand-derived value or an independent computation made
here (products of the toy tables' probabilities, d2l's BLEU code, k|Y|); none depends on the global seed."""

from __future__ import annotations

import itertools
import math

import pytest

from tests.unit.seq2seq.test_search_words import d2l_bleu
from ui.exercises import for_lesson
from ui.experiments import seq2seq as experiment

S = "seq2seq"
EX = {ex.name: ex for ex in for_lesson(S)}


def test_the_exercises_run_the_lessons_presets_in_guided_order():
    assert [ex.preset for ex in for_lesson(S)] == ["greedy_trap", "too_short", "early", "early", "bleu"]


def _best_by_hand(table: dict, alpha: float) -> tuple[str, ...]:
    """Every complete sequence of a toy table, scored by hand: product of probabilities, divided by L^alpha."""
    seqs = []
    for prefix, probs in table.items():
        for token, p in probs.items():
            if token == "<eos>":
                chain, prob = prefix, p
                for i in range(len(prefix)):
                    prob *= table[prefix[:i]][prefix[i]]
                seqs.append((chain, math.log(prob) / (len(chain) + 1) ** alpha))
    for prefix, probs in table.items():   # prefixes absent from the table end with P(<eos>) = 1
        for token, p in probs.items():
            if token != "<eos>" and (*prefix, token) not in table:
                chain, prob = (*prefix, token), p
                for i in range(len(prefix)):
                    prob *= table[prefix[:i]][prefix[i]]
                seqs.append((chain, math.log(prob) / (len(chain) + 1) ** alpha))
    return max(seqs, key=lambda s: s[1])[0]


def test_greedy_trap_answer_is_the_most_probable_sequence_by_hand():
    from dlcore.seq2seq import search

    assert EX["greedy_trap"].answer() == "B_D" == "_".join(_best_by_hand(search.toy_greedy_trap().table, 0.0))


def test_too_short_answer_is_the_empty_output_by_hand():
    from dlcore.seq2seq import search

    assert _best_by_hand(search.toy_too_short().table, 0.0) == ()
    assert EX["too_short"].answer() == "empty"
    assert _best_by_hand(search.toy_too_short().table, 0.75) == ("A", "B", "C")


def test_early_answer_only_beam_search_is_right():
    assert EX["early"].answer() == "beam"


def test_beam_cost_is_k_times_the_output_vocabulary():
    v = experiment.settings("early")
    from dlcore.seq2seq import number_words as nw

    assert EX["beam_cost"].answer() == str(v["beam"] * (len(nw.EN_WORDS) + 1)) == "128"


def test_bleu_answer_is_d2l_code_and_the_hand_value():
    v = experiment.settings("bleu")
    assert float(EX["bleu"].answer()) == pytest.approx(d2l_bleu(v["candidate"], v["reference"], v["bleu_k"]))
    assert float(EX["bleu"].answer()) == pytest.approx(0.75 ** 0.5 * (2 / 3) ** 0.25, abs=1e-6)


@pytest.mark.parametrize("ex", list(EX.values()), ids=lambda e: e.name)
def test_answers_do_not_depend_on_the_seed(ex):
    assert len({ex.answer(seed) for seed in range(3)}) == 1
    assert ex.grade(ex.answer()).correct


def test_no_option_repeats():
    for ex in EX.values():
        if ex.options:
            assert len(set(ex.options)) == len(ex.options)
            assert all(a != b for a, b in itertools.combinations(ex.options, 2))
