"""The seq2seq lesson's settings, each declared once, and the experiments behind its presets and defaults (shared
by the page, the claim tests and the exercises).

No torch at module level: the course map reads the lesson's exercises, and so these settings, before torch loads.
The caps are ``dlcore.seq2seq``'s (a test keeps them equal)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ui.params import Param, defaults

MODELS = Path(__file__).resolve().parents[2] / "assets" / "models" / "seq2seq"
VIEWS = ("decode", "encdec", "bleu", "train")                    # the tabs, in order
SOURCES = ("trained", "early", "greedy_trap", "too_short")         # what is decoded: a bundled model or a toy table
DIRECTIONS = ("digits-en", "digits-zh", "en-digits", "zh-digits")  # dlcore.seq2seq.model.DIRECTIONS
EARLY = 100          # the bundled snapshot of an under-trained model (scripts/train_seq2seq.py)
MAX_BEAM, MAX_LEN, MAX_EXHAUSTIVE = 16, 16, 50_000                 # dlcore.seq2seq.search's caps
MAX_CHARS = 60                                                     # dlcore.seq2seq.number_words.MAX_CHARS
CURVE_STEPS = 300    # the teacher-forcing comparison: two short runs in the training workers
STRATEGIES = ("greedy", "beam", "exhaustive")
COLUMNS = ("strategy", "output", "right", "log_p", "length", "score", "per_step", "scored", "calls")  # seq2seq.cols
NGRAM_COLUMNS = ("n", "matches", "total", "p", "weight")                                          # seq2seq.ngram_cols
LMS = ("seq2seq", "bigram", "unigram", "uniform")                                                   # seq2seq.lms

SETTINGS: tuple[Param, ...] = (
    Param.choice("view", "decode", VIEWS, widget=""),                 # the open tab (the page's tabs draw it)
    Param.choice("source", "early", SOURCES, names="sources", help=True),
    Param.choice("direction", "digits-en", DIRECTIONS, names="directions"),
    Param.bool("attention", False, help=True),
    Param.text("text", "1636", max_len=MAX_CHARS, help=True),
    Param.int("beam", 4, lo=1, hi=MAX_BEAM, help=True),
    Param.float("alpha", 0.75, lo=0.0, hi=1.5, step=0.05, help=True),
    Param.int("max_len", 10, lo=1, hi=MAX_LEN, help=True),
    Param.int("force", 2, lo=1, hi=5, help=True),                      # exposure bias: the first token's rank
    Param.text("candidate", "three hundred and twenty", max_len=MAX_CHARS),
    Param.text("reference", "three hundred and twelve", max_len=MAX_CHARS),
    Param.int("bleu_k", 2, lo=1, hi=4),
)
DEFAULTS = defaults(SETTINGS)

PRESETS: dict[str, dict[str, object]] = {
    "early": {"view": "decode", "source": "early", "direction": "digits-en", "attention": False, "text": "1636",
              "beam": 4, "alpha": 0.75, "max_len": 10},
    "greedy_trap": {"view": "decode", "source": "greedy_trap", "beam": 2, "alpha": 0.0, "max_len": 5},
    "too_short": {"view": "decode", "source": "too_short", "beam": 2, "alpha": 0.0, "max_len": 5},
    "zero": {"view": "encdec", "source": "trained", "direction": "digits-zh", "attention": True, "text": "1010"},
    "derail": {"view": "encdec", "source": "trained", "direction": "digits-en", "attention": False, "text": "312",
               "force": 2},
    "bleu": {"view": "bleu", "candidate": "three hundred and twenty", "reference": "three hundred and twelve",
             "bleu_k": 2},
}


def settings(preset: str | None = None) -> dict[str, object]:
    """Every setting of the lesson's default (``preset`` None) or of a preset applied to the default page."""
    return dict(DEFAULTS) | (PRESETS[preset] if preset else {})


# ---------------------------------------------------------------- models

@lru_cache(maxsize=8)
def blob(direction: str, attention: bool) -> dict:
    """The bundled weights of one model (read-only, shared by every session of the process)."""
    import torch

    return torch.load(MODELS / f"{direction}-{'attention' if attention else 'plain'}.pt", weights_only=True)


@lru_cache(maxsize=16)
def model(direction: str, attention: bool, early: bool = False):
    """The bundled model (eval mode; never trained in place): final weights, or the snapshot after EARLY steps."""
    from dlcore.seq2seq import model as s2s

    return s2s.unpack(blob(direction, attention), EARLY if early else None)


@dataclass(frozen=True)
class Translation:
    """What the lab decodes: a bundled model on the typed number, or a toy table."""
    source: str
    direction: str
    attention: bool
    text: str


@dataclass
class Decoder:
    step: Any                        # step_log_probs(prefix) -> log P (|V|,)
    words: tuple[str, ...]           # the target vocabulary (<bos> 0, <eos> 1)
    src_tokens: tuple[str, ...]      # what the encoder reads ((): a toy)
    reference: tuple[str, ...] | None   # the right output (None: a toy)
    language: str                    # how outputs are written ("en", "zh", "digits"; "en" for toys)
    read_as: int | None              # the number, when the text was typed in another language than the source


def decoder(tr: Translation) -> Decoder:
    """The next-token model of ``tr``; raises ``NumberTextError`` for text that is not a number of the task."""
    from dlcore.seq2seq import model as s2s
    from dlcore.seq2seq import number_words as nw
    from dlcore.seq2seq import search

    if tr.source in search.TOYS:
        toy = search.TOYS[tr.source]()
        return Decoder(toy.step_log_probs, toy.vocab, (), None, "en", None)
    m = model(tr.direction, tr.attention, tr.source == "early")
    src_lang, tgt_lang = s2s.split_direction(tr.direction)
    parsed = nw.parse(tr.text)
    src_tokens = nw.write(parsed.number, src_lang)
    return Decoder(s2s.StepScorer(m, m.src_vocab.ids(src_tokens)), m.tgt_vocab.tokens, src_tokens,
                   nw.write(parsed.number, tgt_lang), tgt_lang, None if parsed.language == src_lang else parsed.number)


def translation(values: Mapping[str, object]) -> Translation:
    return Translation(str(values["source"]), str(values["direction"]), bool(values["attention"]), str(values["text"]))


# ---------------------------------------------------------------- the decoding tab

@dataclass(frozen=True)
class Search:
    beam: int
    alpha: float
    max_len: int


def search_of(values: Mapping[str, object]) -> Search:
    return Search(int(values["beam"]), float(values["alpha"]), int(values["max_len"]))


@dataclass
class Row:
    """One strategy's result in the comparison table."""
    strategy: str
    tokens: tuple[str, ...] | None   # None: refused
    log_prob: float
    score: float
    right: bool | None               # None: no reference (a toy)
    per_step: str                    # candidates a step: |Y|, k|Y|, |Y|^T in all
    scored: int                      # candidates actually scored
    calls: int                       # decoder steps run


@dataclass
class Decoded:
    rows: list[Row]
    nodes: list[tuple[int, tuple[int, ...], float, bool]]   # the beam's candidates, for the tree
    best: tuple[int, ...]
    words: tuple[str, ...]
    vocab: int                        # |Y|
    exhaustive_size: int              # |Y|^T
    src_tokens: tuple[str, ...]
    reference: tuple[str, ...] | None
    language: str
    read_as: int | None
    source_text: str                  # what the encoder reads, as text
    greedy: tuple[int, ...] = ()      # greedy search's tokens


def decode(tr: Translation, s: Search) -> Decoded:
    """Greedy, beam (k, alpha) and exhaustive search (when |Y|^T is within the cap) on ``tr``."""
    import math

    from dlcore.seq2seq import search

    d = decoder(tr)
    bos, eos = 0, 1
    Y = len(d.words) - 1
    size = search.exhaustive_size(Y, s.max_len)
    strip = lambda toks: tuple(d.words[i] for i in toks if i != eos)   # noqa: E731
    right = lambda toks: None if d.reference is None else strip(toks) == d.reference and toks[-1] == eos  # noqa

    def row(name: str, toks: tuple[int, ...], score: float, per_step: str, trace) -> Row:
        lp = score * len(toks) ** s.alpha
        return Row(name, strip(toks), lp, score, right(toks), per_step, trace.scored, trace.calls)

    g = search.beam_trace(d.step, bos, eos, 1, s.max_len, s.alpha)
    b = search.beam_trace(d.step, bos, eos, s.beam, s.max_len, s.alpha)
    rows = [row("greedy", *g.results[0], f"|Y| = {Y}", g), row("beam", *b.results[0], f"k|Y| = {s.beam * Y}", b)]
    if size <= search.MAX_EXHAUSTIVE:
        e = search.exhaustive_trace(d.step, bos, eos, Y + 1, s.max_len, s.alpha)
        rows.append(row("exhaustive", *e.results[0], f"|Y|^T = {size:,}", e))
    else:
        rows.append(Row("exhaustive", None, math.nan, math.nan, None, f"|Y|^T = {Y}^{s.max_len} ≈ {size:.2g}", 0, 0))
    nodes = [(n.step, n.tokens, n.log_prob, n.kept) for n in b.nodes]
    src_text = render(d.src_tokens, tr.direction.split("-")[0]) if d.src_tokens else ""
    return Decoded(rows, nodes, b.results[0][0], d.words, Y, size, d.src_tokens, d.reference, d.language, d.read_as,
                   src_text, g.results[0][0])


def decode_view(tr: Translation, s: Search, lab: Mapping[str, str]) -> tuple[dict, Decoded]:
    """The beam tree (frozen spec) and the decoding results."""
    from ui.figures import seq2seq as figs
    from ui.figures.common import freeze

    r = decode(tr, s)
    return freeze(figs.beam_tree(r.nodes, r.words, r.best, lab, greedy=r.greedy)), r


def table(r: Decoded, strategy: Mapping[str, str], cols: Mapping[str, str]) -> list[dict[str, object]]:
    """The strategies side by side, with translated column names; a refused search has empty cells."""
    out = []
    for row in r.rows:
        done = row.tokens is not None
        right = "" if row.right is None or not done else ("✓" if row.right else "✗")
        values = (strategy[row.strategy], render(row.tokens, r.language) if done else "—", right,
                  round(row.log_prob, 4) if done else None, len(row.tokens) + 1 if done else None,
                  round(row.score, 4) if done else None, row.per_step, row.scored if done else None,
                  row.calls if done else None)
        out.append({cols[c]: x for c, x in zip(COLUMNS, values)})
    return out


def shown_table(r: Decoded, strategy: Mapping[str, str], cols: Mapping[str, str]):
    """``table`` styled for ``st.dataframe``: counts grouped, scores to 4 significant digits, "–" in a refused
    search's empty cells (a bare None shows as "None"); ``.data`` holds the numbers."""
    import pandas as pd

    from ui.figures.common import readable

    return readable(pd.DataFrame(table(r, strategy, cols)), counts=[cols[c] for c in ("length", "scored", "calls")],
                    digits=4)


def mark(text: str, err) -> str:
    """The typed text with the token ``err`` points at in bold red (Markdown), for the error message."""
    from dlcore.seq2seq import number_words as nw

    if err.code in ("empty", "too_long"):
        return f"`{text[:nw.MAX_CHARS]}`" if text.strip() else ""
    language = nw.guess_language(text)
    sep = " " if language == "en" else ""
    tokens = list(text.lower().replace("-", " ").split() if language == "en" else [c for c in text if not c.isspace()])
    if 0 <= err.position < len(tokens):
        tokens[err.position] = f":red[**{tokens[err.position]}**]"
    return sep.join(tokens)


def render(tokens: tuple[str, ...] | None, language: str) -> str:
    from dlcore.seq2seq import number_words as nw

    return "" if tokens is None else (nw.render(tokens, language) if tokens else "∅")


# ---------------------------------------------------------------- encoder-decoder tab

def walk_view(tr: Translation, force: int, lab: Mapping[str, str]) -> tuple[list[dict], dict[str, str]]:
    """The encoder's states, the decoder's distributions and (attention model) the alignment as frozen specs, and
    the texts: the greedy output and the output after forcing the first token to rank ``force``."""
    from dlcore.seq2seq import model as s2s
    from ui.figures import seq2seq as figs
    from ui.figures.common import freeze

    d = decoder(tr)
    m = model(tr.direction, tr.attention, tr.source == "early")
    w = s2s.walkthrough(m, d.src_tokens)
    out = m.tgt_vocab.words(w.output)
    specs = [freeze(figs.decoder_steps(w.probs.numpy(), m.tgt_vocab.tokens, out, lab)),
             freeze(figs.encoder_states(w.states.numpy(), d.src_tokens, lab)),
             freeze(figs.distributions(w.probs.numpy(), m.tgt_vocab.tokens, out, lab))]
    if w.weights is not None:
        specs.append(freeze(figs.alignment(w.weights.numpy(), d.src_tokens, out, lab)))
    greedy, forced = s2s.forced_start(m, d.src_tokens, force)
    words = lambda ids: render(tuple(x for x in m.tgt_vocab.words(ids) if x != "<eos>"), d.language)  # noqa: E731
    return specs, {"source": render(d.src_tokens, s2s.split_direction(tr.direction)[0]), "greedy": words(greedy),
                   "forced": words(forced), "reference": render(d.reference, d.language)}


# ---------------------------------------------------------------- BLEU tab

def bleu_tokens(text: str) -> tuple[str, ...]:
    """Text as BLEU's tokens: Chinese characters one by one, other text split on spaces and hyphens."""
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return tuple(ch for ch in text if not ch.isspace())
    return tuple(text.lower().replace("-", " ").split())


def bleu_view(candidate: str, reference: str, k: int, lab: Mapping[str, str]):
    """BLEU's pieces for one candidate against one reference, and their bar chart (frozen)."""
    from dlcore.seq2seq import bleu_parts
    from ui.figures import seq2seq as figs
    from ui.figures.common import freeze

    parts = bleu_parts(bleu_tokens(candidate), bleu_tokens(reference), k)
    return parts, freeze(figs.bleu_bars(parts.precisions, parts.brevity, parts.score, lab))


def bleu_rows(r: Decoded, k: int, strategy: Mapping[str, str], cols: Mapping[str, str]) -> list[dict[str, object]]:
    """BLEU (order k, at most the reference's length) of each strategy's output for the typed number."""
    from dlcore.seq2seq import bleu

    assert r.reference is not None, "a toy has no reference"
    order = min(k, len(r.reference))
    return [{cols["strategy"]: strategy[row.strategy], cols["output"]: render(row.tokens, r.language),
             cols["bleu"]: round(bleu(row.tokens, r.reference, order), 4)} for row in r.rows if row.tokens is not None]


def ngram_table(parts, cols: Mapping[str, str]) -> list[dict[str, object]]:
    """One row per n: clipped matches, n-grams in the candidate, p_n and its weight 1/2^n."""
    return [{cols["n"]: n, cols["matches"]: m, cols["total"]: tot, cols["p"]: round(p, 4),
             cols["weight"]: f"1/{2 ** n}"}
            for n, (m, tot, p) in enumerate(zip(parts.matches, parts.totals, parts.precisions), start=1)]


def heldout_bleu(direction: str, attention: bool, early: bool, beam: int, alpha: float, k: int
                  ) -> dict[str, tuple[float, float]]:
    """Mean BLEU (d2l's, order ``k``) and exact-match accuracy of greedy and beam search on the held-out numbers."""
    from dlcore.seq2seq import bleu
    from dlcore.seq2seq import model as s2s

    m = model(direction, attention, early)
    numbers = s2s.test_numbers()
    refs = [m.tgt_vocab.words(r[:-1]) for r in s2s.target_sequences(m, numbers)]
    outs = {"greedy": s2s.greedy_batch(m, numbers),
            "beam": [toks for toks, _ in s2s.beam_batch(m, numbers, beam, alpha=alpha)]}
    result = {}
    for name, preds in outs.items():
        words = [m.tgt_vocab.words([y for y in p if y != s2s.EOS]) for p in preds]
        scores = [bleu(w, r, min(k, len(r))) for w, r in zip(words, refs)]
        result[name] = (sum(scores) / len(scores), sum(w == r for w, r in zip(words, refs)) / len(refs))
    return result


def heldout_bleu_figure(direction: str, attention: bool, early: bool, beam: int, alpha: float, k: int,
                     names: Mapping[str, str], lab: Mapping[str, str]) -> tuple[dict, dict[str, tuple[float, float]]]:
    from ui.figures import seq2seq as figs
    from ui.figures.common import freeze

    r = heldout_bleu(direction, attention, early, beam, alpha, k)
    return freeze(figs.test_bleu([names[s] for s in r], [v[0] for v in r.values()], [v[1] for v in r.values()],
                                 lab)), r


# ---------------------------------------------------------------- training tab

RUNS = {"curves": ("forced", "free"), "encoders": ("uni1", "bi1", "uni2", "bi2")}   # seq2seq.runs


def train_configs(what: str, direction: str, attention: bool, seed: int):
    """The short runs compared on the training tab. "curves": the same model and data, with and without teacher
    forcing. "encoders": uni- or bidirectional, 1 or 2 layers (dlcore.seq2seq.model.ENCODERS), teacher forcing."""
    from dlcore.seq2seq import model as s2s

    if what == "curves":
        mc = s2s.ModelConfig(direction=direction, attention=attention, seed=seed)
        return [s2s.TrainConfig(model=mc, steps=CURVE_STEPS, eval_every=50, teacher_forcing=tf, seed=seed)
                for tf in (True, False)]
    return [s2s.TrainConfig(model=s2s.ModelConfig(direction=direction, attention=attention, bidirectional=bi,
                                                  layers=layers, seed=seed), steps=CURVE_STEPS,
                            eval_every=CURVE_STEPS, seed=seed) for bi, layers in s2s.ENCODERS]


def train_figure(what: str, results: list, names: Mapping[str, str], lab: Mapping[str, str]) -> dict:
    """The curves of the teacher-forcing runs, or the encoders' test accuracies, as a frozen spec."""
    from ui.figures import seq2seq as figs
    from ui.figures.common import freeze

    if what == "curves":
        return freeze(figs.curves(dict(zip(names.values(), results)), lab))
    return freeze(figs.encoder_bars(list(names.values()), [float(r) for r in results], lab))


def perplexity_view(direction: str, attention: bool, early: bool, names: Mapping[str, str], lab: Mapping[str, str]):
    """Perplexities of the test targets under the decoder (trained or early) and the n-gram baselines."""
    from dlcore.seq2seq import model as s2s
    from ui.figures import seq2seq as figs
    from ui.figures.common import freeze

    p = s2s.perplexities(model(direction, attention, early))
    values = [p.seq2seq, p.bigram, p.unigram, p.uniform]
    return freeze(figs.perplexity_bars([names[n] for n in ("seq2seq", "bigram", "unigram", "uniform")], values,
                                       lab)), p
