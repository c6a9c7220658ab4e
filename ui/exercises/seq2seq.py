"""Exercises of the seq2seq lesson: each answer is computed by dlcore.seq2seq on the preset it names.

dlcore is imported inside the solvers: the course map counts exercises before torch has loaded."""

from __future__ import annotations

from ui.exercises import Exercise
from ui.experiments import seq2seq as experiment

TRAP_OUTPUTS = ("A_C", "A_D", "B_D", "empty")
SHORT_OUTPUTS = ("empty", "A_B_C", "A_D_C")


def _toy_best(preset: str, beam: int, alpha: float) -> str:
    from dlcore.seq2seq import beam_search, search

    v = experiment.settings(preset)
    toy = search.TOYS[str(v["source"])]()
    tokens = beam_search(toy.step_log_probs, toy.bos, toy.eos, beam, int(v["max_len"]), alpha)[0][0]
    words = [toy.vocab[i] for i in tokens if i != toy.eos]
    return "_".join(words) if words else "empty"


def _greedy_right() -> str:
    """Which strategy translates the early model's number correctly: greedy, beam, both or neither."""
    v = experiment.settings("early")
    rows = {r.strategy: r.right for r in experiment.decode(experiment.translation(v), experiment.search_of(v)).rows}
    return {(True, True): "both", (False, True): "beam", (True, False): "greedy"}.get(
        (bool(rows["greedy"]), bool(rows["beam"])), "neither")


def _bleu() -> float:
    from dlcore.seq2seq import bleu

    v = experiment.settings("bleu")
    return bleu(experiment.bleu_tokens(str(v["candidate"])), experiment.bleu_tokens(str(v["reference"])),
                int(v["bleu_k"]))


def _beam_candidates() -> int:
    """Candidates beam search scores in one step on the early preset: k|Y| (counted by the search itself)."""
    from dlcore.seq2seq import search

    v = experiment.settings("early")
    d = experiment.decoder(experiment.translation(v))
    tr = search.beam_trace(d.step, 0, 1, int(v["beam"]), 2, float(v["alpha"]))   # step 1: one prefix; step 2: k
    first = len(d.words) - 1
    return tr.scored - first


EXERCISES = (
    Exercise("seq2seq", "greedy_trap", "greedy_trap", lambda seed: _toy_best("greedy_trap", 2, 0.0),
             options=TRAP_OUTPUTS),
    Exercise("seq2seq", "too_short", "too_short", lambda seed: _toy_best("too_short", 2, 0.0),
             options=SHORT_OUTPUTS),
    Exercise("seq2seq", "early", "early", lambda seed: _greedy_right(), options=("greedy", "beam", "both", "neither")),
    Exercise("seq2seq", "beam_cost", "early", lambda seed: _beam_candidates()),
    Exercise("seq2seq", "bleu", "bleu", lambda seed: _bleu(), tolerance=0.02),
)
