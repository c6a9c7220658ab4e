"""The experiments behind the attention lesson's presets and defaults (shared by the page, the claim tests and,
later, the exercises)."""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from dlcore import attention as att
from dlcore import bert_attention as bert

DEFAULTS: dict[str, object] = {
    "view": "hand",
    # attention by hand
    "source": "typed", "scaled": True, "n_tokens": 6, "d_k": 64, "causal": False, "temperature": 1.0, "n_pad": 0,
    # multi-head
    "d_model": 16, "n_heads": 4, "heads_causal": False,
    # positional encoding
    "pe_len": 64, "pe_dim": 32, "words": "the cat sat on the mat", "use_pe": False,
    # the trained toy Transformer
    "kind": "cross", "task": "reverse", "digits": "31415926", "model": "bundled",
    # pretrained MiniLM
    "sentence": bert.EXAMPLE, "layer": 1, "head": 1, "token": 2,
}
TYPED_SHAPE = {"n_q": 4, "n_k": 5, "d_k": 3, "d_v": 2}   # the typed tables start as att.example_qkv of this shape
RANDOM_D_V = 4                                            # value size of random Q, K, V

PRESETS: dict[str, dict[str, object]] = {
    "saturate": {"view": "hand", "source": "random", "d_k": 512, "scaled": False, "temperature": 1.0},
    "hard": {"view": "hand", "source": "typed", "scaled": True, "temperature": 0.01},
    "causal": {"view": "hand", "causal": True, "n_pad": 1, "temperature": 1.0},
    "order_blind": {"view": "positions", "use_pe": False},
    "reverse": {"view": "toy", "task": "reverse", "kind": "cross"},
    "previous": {"view": "bert"},
}
JUMP_TO = {"previous": "previous"}   # preset -> the MiniLM head role its button jumps to


def settings(preset: str | None = None) -> dict[str, object]:
    """The lesson's settings: the defaults, with ``preset``'s values merged over them."""
    return {**DEFAULTS, **(PRESETS[preset] if preset else {})}


def random_qkv(values: Mapping[str, object], seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """The random Q, K, V of the by-hand tab: ``n_tokens`` queries and keys of size ``d_k``."""
    n = int(values["n_tokens"])
    return att.random_qkv(n, n, int(values["d_k"]), RANDOM_D_V, seed)


def hand_inputs(values: Mapping[str, object], seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """Q, K, V of the by-hand tab before the learner edits a table: random, or the typed tables' example."""
    return random_qkv(values, seed) if values["source"] == "random" else att.example_qkv(*TYPED_SHAPE.values())


def hand_config(values: Mapping[str, object], seed: int, n_keys: int) -> att.HandConfig:
    """The by-hand tab's settings; at most ``n_keys`` keys can be padding."""
    return att.HandConfig(scaled=bool(values["scaled"]), temperature=float(values["temperature"]),
                          causal=bool(values["causal"]), n_pad=min(int(values["n_pad"]), n_keys), seed=seed)


def hand(values: Mapping[str, object], seed: int) -> att.HandResult:
    """Every intermediate of the by-hand tab for ``values`` (with unedited tables)."""
    q, k, v = hand_inputs(values, seed)
    return att.attention_by_hand(q, k, v, hand_config(values, seed, k.shape[0]))


def heads_config(values: Mapping[str, object], seed: int) -> att.HeadsConfig:
    return att.HeadsConfig(int(values["n_tokens"]), int(values["d_model"]), int(values["n_heads"]),
                           bool(values["heads_causal"]), seed)


def words(values: Mapping[str, object]) -> tuple[str, ...]:
    """The sentence of the positional-encoding tab as words."""
    return tuple(str(values["words"]).split())
