r"""Decoding a sequence from a model of the next token: greedy, beam and exhaustive search, and BLEU.

d2l, "Beam Search": the decoder gives P(y_t | y_1..y_{t-1}, c) at every step; the sequence's log-probability is
the sum of the steps' log-probabilities, and a candidate of length L (counting <eos>) is scored

$$\frac{1}{L^\alpha}\log P(y_1,\dots,y_L\mid c) = \frac{1}{L^\alpha}\sum_{t=1}^{L}\log P(y_t\mid y_1,\dots,y_{t-1},c).$$

- greedy search keeps the single most likely token at every step: |Y| candidates a step;
- beam search keeps the k most likely prefixes at every step: k|Y| candidates a step;
- exhaustive search scores every sequence: |Y|^T of them for T steps.

A model here is a function ``step_log_probs(prefix) -> Tensor (|Y|,)`` of the tokens chosen so far (``prefix[0]``
is <bos>); it is called once per prefix a strategy expands, which is the cost each strategy reports.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

StepFn = Callable[[tuple[int, ...]], Tensor]
MAX_BEAM = 16          # beam width a learner may ask for
MAX_LEN = 16           # output tokens a learner may ask for (every target here is shorter)
MAX_EXHAUSTIVE = 50_000   # |Y|^T: exhaustive search is refused beyond this many sequences
MAX_BLEU_K = 4


def sequence_score(log_prob: float, length: int, alpha: float) -> float:
    r"""d2l's length-normalised score \frac{1}{L^\alpha}\log P; L counts <eos> when it was produced."""
    return log_prob / length ** alpha


@dataclass(frozen=True)
class Node:
    """One candidate a search scored: its tokens after <bos>, log P, whether it was kept, and its parent step."""
    step: int                    # 1-based position of its last token
    tokens: tuple[int, ...]
    log_prob: float
    kept: bool                   # among the k best of its step (beam) or the argmax (greedy)
    finished: bool               # its last token is <eos>


@dataclass
class SearchTrace:
    """What a search did: its ranked results, every candidate it scored (for the tree), and its cost."""
    results: list[tuple[tuple[int, ...], float]]
    nodes: list[Node] = field(default_factory=list)
    calls: int = 0               # prefixes expanded: calls of step_log_probs
    scored: int = 0              # candidates whose log-probability was computed (calls x |Y|)


def _check(beam_size: int, max_len: int, alpha: float) -> None:
    if not 1 <= beam_size <= MAX_BEAM:
        raise ValueError(f"Invalid beam size: {beam_size} (allowed 1..{MAX_BEAM})")
    if not 1 <= max_len <= MAX_LEN:
        raise ValueError(f"Invalid max_len: {max_len} (allowed 1..{MAX_LEN})")
    if not (math.isfinite(alpha) and 0.0 <= alpha <= 2.0):
        raise ValueError(f"Invalid alpha: {alpha} (allowed 0..2)")


def beam_trace(step_log_probs: StepFn, bos: int, eos: int, beam_size: int, max_len: int,
               alpha: float = 0.0) -> SearchTrace:
    r"""Beam search with every candidate it looked at (see :func:`beam_search`)."""
    _check(beam_size, max_len, alpha)
    alive: list[tuple[tuple[int, ...], float]] = [((), 0.0)]   # (tokens after <bos>, log P)
    finished: list[tuple[tuple[int, ...], float]] = []
    trace = SearchTrace([])
    for t in range(1, max_len + 1):
        # 1) every alive prefix extended by every token: k|Y| candidates
        candidates: list[tuple[tuple[int, ...], float]] = []
        for tokens, lp in alive:
            step = step_log_probs((bos, *tokens)).detach().double().cpu().tolist()
            trace.calls += 1
            trace.scored += len(step) - 1   # |Y|: every token but <bos>
            candidates += [((*tokens, y), lp + step_y) for y, step_y in enumerate(step)]
        # 2) keep the k most probable (by log P, as d2l ranks them); ties keep the lower token id
        order = sorted(range(len(candidates)), key=lambda i: -candidates[i][1])
        kept = set(order[:beam_size])
        trace.nodes += [Node(t, toks, lp, i in kept, toks[-1] == eos) for i, (toks, lp) in enumerate(candidates)
                        if i in kept or math.isfinite(lp)]
        # 3) a kept candidate that ends in <eos> is finished; the others stay alive
        alive = []
        for i in order[:beam_size]:
            (finished if candidates[i][0][-1] == eos else alive).append(candidates[i])
        if not alive:
            break
    pool = finished + alive   # alive ones reached max_len without <eos>
    trace.results = sorted(((toks, sequence_score(lp, len(toks), alpha)) for toks, lp in pool),
                           key=lambda r: -r[1])
    return trace


def beam_search(step_log_probs: StepFn, bos: int, eos: int, beam_size: int, max_len: int,
                alpha: float = 0.0) -> list[tuple[tuple[int, ...], float]]:
    r"""Beam search (d2l, "Beam Search"), best first.

    At each step t every kept prefix y_{1..t-1} is extended by every token y_t, and the ``beam_size`` (k)
    candidates with the highest \log P(y_1..y_t | c) are kept; a kept candidate ending in <eos> is finished.
    The search stops when no prefix is alive or after ``max_len`` (T) steps. Every finished candidate, and every
    prefix alive at step T, is scored \frac{1}{L^\alpha}\log P with L its length counting <eos>.

    step_log_probs: prefix (starting with ``bos``) -> \log P(y_t | prefix) over the vocabulary Y, shape (|Y|,).
    Returns [(tokens, score), ...] best first; tokens exclude ``bos`` and end with ``eos`` when it was produced.
    ``beam_size=1`` is greedy search; a beam at least as wide as the number of prefixes is exhaustive search.
    .. note:: ranking inside the beam uses log P (d2l keeps "the k candidates with the highest conditional
       probability"); \alpha only changes the final choice among the candidates.
    """
    return beam_trace(step_log_probs, bos, eos, beam_size, max_len, alpha).results


def greedy_search(step_log_probs: StepFn, bos: int, eos: int, max_len: int) -> tuple[tuple[int, ...], float]:
    r"""Greedy search: y_t = \arg\max_y \log P(y | y_1..y_{t-1}, c) until <eos> or ``max_len`` tokens.

    Returns (tokens, log P). Same as ``beam_search(..., beam_size=1)[0]`` with \alpha = 0.
    """
    _check(1, max_len, 0.0)
    tokens: tuple[int, ...] = ()
    lp = 0.0
    while len(tokens) < max_len and (not tokens or tokens[-1] != eos):
        step = step_log_probs((bos, *tokens)).detach().double().cpu()
        y = int(step.argmax())
        tokens, lp = (*tokens, y), lp + float(step[y])
    return tokens, lp


def exhaustive_size(vocab: int, max_len: int) -> int:
    """|Y|^T: the number of sequences exhaustive search scores (its cost in the lesson's table)."""
    return vocab ** max_len


def exhaustive_trace(step_log_probs: StepFn, bos: int, eos: int, vocab: int, max_len: int,
                     alpha: float = 0.0) -> SearchTrace:
    r"""Exhaustive search: score every sequence of at most T = ``max_len`` tokens that ends in <eos> (or reaches T
    without it) by \frac{1}{L^\alpha}\log P, best first. Refused when |Y|^T exceeds MAX_EXHAUSTIVE.

    vocab: |V|, the size of ``step_log_probs``'s output (|Y| + 1 with <bos>). Prefixes of probability 0 (toy tables,
    <bos>) are not extended; every other prefix is.
    """
    _check(1, max_len, alpha)
    if exhaustive_size(vocab - 1, max_len) > MAX_EXHAUSTIVE:
        raise ValueError(f"Invalid exhaustive search: |Y|^T = {vocab - 1}^{max_len} sequences "
                         f"(allowed <= {MAX_EXHAUSTIVE})")
    trace = SearchTrace([])
    done: list[tuple[tuple[int, ...], float]] = []
    frontier: list[tuple[tuple[int, ...], float]] = [((), 0.0)]
    for _ in range(max_len):
        nxt = []
        for tokens, lp in frontier:
            step = step_log_probs((bos, *tokens)).detach().double().cpu().tolist()
            trace.calls += 1
            trace.scored += len(step) - 1   # |Y|: every token but <bos>
            for y, step_y in enumerate(step):
                cand = ((*tokens, y), lp + step_y)
                if math.isfinite(cand[1]):   # a sequence of probability 0 is never the best: not extended
                    (done if y == eos else nxt).append(cand)
        frontier = nxt
    pool = done + frontier
    trace.results = sorted(((toks, sequence_score(lp, len(toks), alpha)) for toks, lp in pool), key=lambda r: -r[1])
    return trace


# ---------------------------------------------------------------- BLEU

def ngram_counts(tokens: Sequence[str], n: int) -> Counter:
    """How often each n-gram (a tuple of n tokens) occurs in ``tokens``."""
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


@dataclass(frozen=True)
class BleuParts:
    """BLEU's pieces for one prediction: p_n = matches_n / total_n, the brevity penalty, the score."""
    matches: tuple[int, ...]     # clipped n-gram matches, n = 1..k
    totals: tuple[int, ...]      # n-grams in the prediction
    precisions: tuple[float, ...]
    brevity: float
    score: float


def bleu_parts(pred_tokens: Sequence[str], label_tokens: Sequence[str], k: int) -> BleuParts:
    r"""BLEU as d2l defines it, with its pieces:

    \mathrm{BLEU} = \exp\Big(\min\big(0, 1 - \tfrac{len_{label}}{len_{pred}}\big)\Big)\prod_{n=1}^{k} p_n^{1/2^n}

    p_n: the share of the prediction's n-grams that also occur in the label, each label n-gram matched at most
    as often as it occurs there (clipped counts). pred_tokens, label_tokens: token lists (no <bos>/<eos>).
    .. note:: d2l's code divides by zero when the prediction is empty or shorter than n. Here an empty
       prediction scores 0 (its brevity penalty is e^{-\infty}), and an n with no n-gram in the prediction
       contributes a factor 1 (nothing to match: the brevity penalty already charges for the short output).
    """
    if not 1 <= k <= MAX_BLEU_K:
        raise ValueError(f"Invalid k: {k} (allowed 1..{MAX_BLEU_K})")
    if not label_tokens:
        raise ValueError("Invalid label: it has no tokens")
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    matches, totals, precisions = [], [], []
    for n in range(1, k + 1):
        pred, label = ngram_counts(pred_tokens, n), ngram_counts(label_tokens, n)
        matches.append(sum(min(c, label[g]) for g, c in pred.items()))   # clipped counts
        totals.append(max(len_pred - n + 1, 0))
        precisions.append(matches[-1] / totals[-1] if totals[-1] else 1.0)
    if len_pred == 0:
        return BleuParts(tuple(matches), tuple(totals), tuple(precisions), 0.0, 0.0)
    brevity = math.exp(min(0.0, 1 - len_label / len_pred))
    score = brevity * math.prod(p ** (0.5 ** n) for n, p in enumerate(precisions, start=1))
    return BleuParts(tuple(matches), tuple(totals), tuple(precisions), brevity, score)


def bleu(pred_tokens: Sequence[str], label_tokens: Sequence[str], k: int) -> float:
    r"""d2l's BLEU of one prediction against one label (see :func:`bleu_parts`)."""
    return bleu_parts(pred_tokens, label_tokens, k).score


# ---------------------------------------------------------------- explicit toy models

@dataclass(frozen=True)
class ToyModel:
    """A next-token model written as a table: prefix (after <bos>) -> probabilities over ``vocab``.

    Prefixes not in the table end the sentence (P(<eos>) = 1). Token 0 is <bos>, token 1 is <eos>.
    """
    vocab: tuple[str, ...]
    table: dict[tuple[str, ...], dict[str, float]]

    @property
    def bos(self) -> int:
        return 0

    @property
    def eos(self) -> int:
        return 1

    def step_log_probs(self, prefix: tuple[int, ...]) -> Tensor:
        """log P(y | prefix) over the vocabulary (<bos> gets probability 0)."""
        words = tuple(self.vocab[i] for i in prefix[1:])
        probs = self.table.get(words, {"<eos>": 1.0})
        p = torch.tensor([probs.get(w, 0.0) for w in self.vocab], dtype=torch.float64)
        return p.log()


def toy_greedy_trap() -> ToyModel:
    """Greedy takes "A" (0.5) at step 1, but every continuation of A is unlikely: the best sequence starts with "B".

    P(A C <eos>) = 0.5 * 0.4 = 0.20 (greedy's pick); P(B D <eos>) = 0.4 * 0.9 = 0.36 (beam 2 keeps B and finds it).
    """
    return ToyModel(("<bos>", "<eos>", "A", "B", "C", "D"), {
        (): {"A": 0.5, "B": 0.4, "<eos>": 0.1},
        ("A",): {"C": 0.4, "D": 0.3, "<eos>": 0.3},
        ("B",): {"D": 0.9, "C": 0.05, "<eos>": 0.05},
        ("A", "C"): {"<eos>": 1.0}, ("A", "D"): {"<eos>": 1.0},
        ("B", "C"): {"<eos>": 1.0}, ("B", "D"): {"<eos>": 1.0},
    })


def toy_too_short() -> ToyModel:
    """Stopping at once has probability 0.4; every sentence of three words has at most 0.6 * 0.7 * 0.8 = 0.336 and
    three tokens more to pay for. With alpha = 0, beam search prefers the empty output; dividing log P by L^alpha
    (alpha = 0.75) picks "A B C <eos>" instead."""
    return ToyModel(("<bos>", "<eos>", "A", "B", "C", "D"), {
        (): {"<eos>": 0.4, "A": 0.6},
        ("A",): {"B": 0.7, "D": 0.3},
        ("A", "B"): {"C": 0.8, "D": 0.2},
        ("A", "D"): {"C": 0.5, "D": 0.5},
        ("A", "B", "C"): {"<eos>": 1.0},
    })


TOYS = {"greedy_trap": toy_greedy_trap, "too_short": toy_too_short}
