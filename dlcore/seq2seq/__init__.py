"""Sequence to sequence: number words across languages, a GRU encoder-decoder, greedy / beam / exhaustive search
and BLEU (d2l, "Encoder-Decoder Architecture", "Sequence to Sequence Learning", "Beam Search")."""

from dlcore.seq2seq.search import (  # noqa: F401  (the lesson's public names)
    MAX_BEAM,
    MAX_EXHAUSTIVE,
    MAX_LEN,
    beam_search,
    beam_trace,
    bleu,
    bleu_parts,
    exhaustive_trace,
    greedy_search,
)
