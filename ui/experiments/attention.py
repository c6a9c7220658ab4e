"""The experiments behind the attention lesson's presets and defaults (shared by the page, the claim tests and,
later, the exercises)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor

from dlcore.attention import bert
from dlcore.attention import mechanism as att
from dlcore.attention import transformer as tr
from ui.figures import attention as figs
from ui.figures.common import freeze
from ui.params import Param, defaults

VIEWS = ("hand", "heads", "positions", "toy", "bert")   # the tabs, in order
KINDS = ("encoder", "decoder", "cross")                 # the toy Transformer's kinds of attention
TEMPS = (0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0)
WIDTHS = (8, 16, 32, 64)                                # d_model of the heads tab, d of the positional encoding
TYPED_SHAPE = {"n_q": 4, "n_k": 5, "d_k": 3, "d_v": 2}   # the typed tables start as att.example_qkv of this shape
TYPED_SIZES = tuple(f"shape_{name}" for name in TYPED_SHAPE)        # their settings
SETTINGS: tuple[Param, ...] = (
    Param.choice("view", "hand", VIEWS, widget=""),     # the open tab (the page's tabs draw it)
    # attention by hand
    Param.choice("source", "typed", ("typed", "random"), widget="segmented", names="sources"),
    Param.bool("scaled", True, help=True),
    Param.int("n_tokens", 6, lo=2, hi=att.MAX_TOKENS),
    Param.choice("d_k", 64, att.D_K_STEPS, widget="select_slider", help=True),
    Param.bool("causal", False, help=True),
    Param.choice("temperature", 1.0, TEMPS, widget="select_slider", help=True),
    Param.int("n_pad", 0, lo=0, hi=att.MAX_TOKENS - 1, step=1, widget="number", help=True),
    *(Param.int(f"shape_{name}", size, lo=1, hi=att.MAX_TOKENS if name in ("n_q", "n_k") else att.MAX_TYPED_DIM,
                step=1, widget="number") for name, size in TYPED_SHAPE.items()),   # the typed tables' sizes
    # multi-head
    Param.choice("d_model", 16, WIDTHS, widget="select_slider"),
    Param.choice("n_heads", 4, (1, 2, 4, 8), widget="segmented"),
    Param.bool("heads_causal", False),
    # positional encoding
    Param.int("pe_len", 64, lo=2, hi=att.MAX_POSITIONS),
    Param.choice("pe_dim", 32, WIDTHS, widget="select_slider"),
    Param.text("words", "the cat sat on the mat", max_len=80),                   # help: the page fills in the cap
    Param.bool("use_pe", False),
    # the trained toy Transformer
    Param.choice("kind", "cross", KINDS, names="kinds"),
    Param.choice("task", "reverse", tr.TASKS, names="tasks"),
    Param.text("digits", "31415926", max_len=40),
    Param.choice("model", "bundled", ("bundled", "mine"), widget="segmented", names="models"),
    # pretrained MiniLM (its 6 layers of 12 heads)
    Param.text("sentence", bert.EXAMPLE, max_len=bert.MAX_CHARS, widget="text_area"),
    Param.int("layer", 1, lo=1, hi=6),
    Param.int("head", 1, lo=1, hi=12),
    Param.int("token", 2, lo=0, hi=bert.MAX_TOKENS - 1, widget=""),   # a select box over the sentence's tokens
)
DEFAULTS = defaults(SETTINGS)
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
    return random_qkv(values, seed) if values["source"] == "random" else typed_start(values)


def typed_start(values: Mapping[str, object]) -> tuple[Tensor, Tensor, Tensor]:
    """The typed tables' example Q, K, V at the chosen sizes (before the learner edits a cell)."""
    return att.example_qkv(*(int(values[f"shape_{name}"]) for name in TYPED_SHAPE))


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


# ---------------------------------------------------------------- each tab's figures, as frozen specs
# What the page caches (``lesson.cached``) and draws. ``lab``: ``ui.i18n.labels("attention", figs.LABELS)``, the
# figures' labels in the learner's language, so it also keys the cache by language.

def hand_figures(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: att.HandConfig, lab: Mapping[str, str]
                 ) -> tuple[dict, dict, tuple[int, float, list[int]]]:
    """The by-hand tab's two figures for Q, K, V (as typed or drawn) and the row-sum report of the weights."""
    r = att.attention_by_hand(*(torch.from_numpy(m) for m in (q, k, v)), config)
    scale = 1 / float(np.sqrt(q.shape[1])) if config.scaled else 1.0
    return (*map(freeze, figs.hand_figures(r, scale, config.temperature, lab)), att.row_sum_report(r.row_sums))


def saturation_figure(n_tokens: int, seed: int, d_k: int, lab: Mapping[str, str]) -> dict:
    """How the softmax saturates as d_k grows, scaled and unscaled, with ``d_k`` marked."""
    sat = att.saturation_curve(att.D_K_STEPS, n_tokens, seed)
    return freeze(figs.saturation_figure(sat.d_k.numpy(), sat.max_weight.numpy(), sat.entropy.numpy(), d_k, lab))


def heads_figures(config: att.HeadsConfig, lab: Mapping[str, str]) -> tuple[dict, dict, dict[str, float]]:
    """The heads tab's two figures and the largest difference of each output from ``nn.MultiheadAttention``'s."""
    demo = att.heads_demo(config)
    return (*map(freeze, figs.heads_figures(demo, lab)), demo.max_error)


def positions_figure(n_positions: int, d: int, lab: Mapping[str, str]) -> dict:
    """The sinusoidal encoding of ``n_positions`` positions in ``d`` dimensions and their dot products."""
    pe = att.positional_encoding(n_positions, d)
    return freeze(figs.positions_figure(pe.numpy(), (pe @ pe.T).numpy(), lab))


def permutation_figure(words: tuple[str, ...], use_pe: bool, seed: int, lab: Mapping[str, str]) -> tuple[dict, float]:
    """Self-attention on the sentence and on a shuffle of it, and the largest change of a word's output."""
    p = att.permutation_demo(words, use_pe, seed)
    return freeze(figs.permutation_figure(p.weights.numpy(), list(words), p.order, p.change.numpy(), lab)), \
        float(p.change.max())


def toy_figure(maps: np.ndarray, kind: str, task: str, keys: list[str], queries: list[str],
               lab: Mapping[str, str]) -> dict:
    """Layers x heads of one kind of attention of the toy Transformer (maps: (layers, heads, T_q, T_k))."""
    return freeze(figs.toy_figure(maps, kind, task, keys, queries, lab))


def jump(preset: str, key: str) -> dict[str, str]:
    """The session value that makes ``preset``'s button open the MiniLM head it points at (none for most)."""
    return {key: JUMP_TO[preset]} if preset in JUMP_TO else {}


def sentence_view(model, tokenizer, text: str, lab: Mapping[str, str]
                  ) -> tuple[bert.BertAttention, tuple[dict, dict, dict], dict[str, tuple[int, int]], float]:
    """MiniLM's attention on ``text``; its figures (every head, the heads' roles, each layer's mean); the standout
    head of each role (0-based layer, head); the largest difference of our first layer from the model's."""
    ours, theirs = bert.attention_from_scratch(model, tokenizer, text, layer=0)
    panels = bert.head_panels(ba := bert.bert_attention(model, tokenizer, text))
    return (ba, tuple(map(freeze, figs.sentence_figures(ba, panels, lab))), {k: p[2] for k, p in panels.items()},
            float((ours - theirs).abs().max()))


def head_figures(weights: np.ndarray, tokens: tuple[str, ...], layer: int, head: int, token: int,
                 lab: Mapping[str, str]) -> tuple[dict, dict]:
    """One MiniLM head large (``weights``: its (T, T) map; 1-based layer, head) and ``token``'s lines."""
    return tuple(map(freeze, figs.bert_head_figures(weights, list(tokens), layer, head, token, lab)))
