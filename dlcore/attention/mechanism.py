r"""Attention from its equations: scaled dot-product and additive scoring, masks, multi-head attention and
sinusoidal positional encoding (seed 004, "attention scoring", "multi-head attention", "self-attention and
positional encoding"; Vaswani et al. 2017, Bahdanau et al. 2015).

Every function takes tensors already on the device it should run on (``device=`` where it creates them)
and uses the mask convention of ``torch.nn.functional.scaled_dot_product_attention``: a boolean mask is
True where a query **may** attend to a key; a float mask is added to the scores.

.. note:: ``torch.nn.MultiheadAttention`` uses the opposite boolean convention (``attn_mask`` and
   ``key_padding_mask`` are True where attention is **forbidden**).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from dlcore.device import generator

MAX_TOKENS = 12          # queries or keys in the "by hand" lab (a heatmap per matrix stays readable)
MAX_TYPED_DIM = 8        # columns of Q, K, V a learner may type
MAX_DK = 512             # d_k of random Q, K (the saturation experiment needs a large one)
MIN_TEMPERATURE = 0.01   # tau -> 0 is hard attention; 0 itself would divide by zero
MAX_TEMPERATURE = 10.0
MAX_HEADS = 8
MAX_D_MODEL = 64
MAX_POSITIONS = 256
D_K_STEPS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)   # d_k values of the saturation curve


# ---------------------------------------------------------------- masks

def causal_mask(n_queries: int, n_keys: int, device: torch.device | str = "cpu") -> Tensor:
    """Boolean (L, S) mask, True on and below the diagonal: query i may see keys 0..i (top-left aligned,
    as ``is_causal=True`` in ``scaled_dot_product_attention``)."""
    return torch.ones(n_queries, n_keys, dtype=torch.bool, device=device).tril()


def padding_mask(n_queries: int, n_keys: int, n_pad: int, device: torch.device | str = "cpu") -> Tensor:
    """Boolean (L, S) mask that hides the last ``n_pad`` keys (padding tokens) from every query."""
    if not 0 <= n_pad <= n_keys:
        raise ValueError(f"Invalid n_pad: {n_pad} (allowed 0..{n_keys}, the number of keys)")
    keep = torch.arange(n_keys, device=device) < n_keys - n_pad
    return keep.expand(n_queries, n_keys).clone()


def _as_additive(mask: Tensor | None, dtype: torch.dtype) -> Tensor | None:
    if mask is None or mask.dtype != torch.bool:
        return mask
    # -inf so masked positions get zero weight after softmax
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(~mask, float("-inf"))


# ---------------------------------------------------------------- scaled dot-product

def masked_softmax(logits: Tensor) -> Tensor:
    r"""softmax over the last axis, where a row whose logits are all -inf (every key masked) gets zero
    weights instead of NaN: \alpha_{ij} = e^{s_{ij}} / \sum_j e^{s_{ij}}.

    .. note:: a fully masked row has no keys to average, so it gets weight 0 everywhere (it sums to 0,
       not 1) and its output is the zero vector, as ``scaled_dot_product_attention`` returns.
       ``nn.MultiheadAttention`` returns NaN there instead.
    """
    dead = torch.isneginf(logits).all(-1, keepdim=True)
    weights = torch.softmax(logits.masked_fill(dead, 0.0), dim=-1)
    return weights.masked_fill(dead, 0.0)


def scaled_dot_product(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None, causal: bool = False,
                       scale: float | None = None) -> tuple[Tensor, Tensor]:
    r"""Scaled dot-product attention.

    \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\big(Q K^\top / \sqrt{d_k} + M\big) V

    q: Q (..., L, d_k); k: K (..., S, d_k); v: V (..., S, d_v); mask: M as a boolean (True = may attend)
    or float (added) tensor broadcastable to (..., L, S); causal: also hide keys j > i; scale: the factor
    in place of 1/\sqrt{d_k} (``scale = 1 / (\tau \sqrt{d_k})`` gives a softmax temperature \tau).
    Returns (output (..., L, d_v), weights (..., L, S)); each weight row sums to 1 (0 if fully masked).
    Same result as ``F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, scale=scale)``,
    except that ours also accepts ``mask`` and ``causal`` together (both apply).
    """
    L, S, d_k = q.shape[-2], k.shape[-2], q.shape[-1]
    if k.shape[-1] != d_k:
        raise ValueError(f"Invalid key size: {k.shape[-1]} (allowed d_k = {d_k}, the queries' size)")
    if v.shape[-2] != S:
        raise ValueError(f"Invalid number of values: {v.shape[-2]} (allowed one per key: {S})")
    scale = 1.0 / math.sqrt(d_k) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale                    # (..., L, S)
    additive = _as_additive(mask, scores.dtype)
    if additive is not None:
        scores = scores + additive
    if causal:
        scores = scores.masked_fill(~causal_mask(L, S, q.device), float("-inf"))
    weights = masked_softmax(scores)
    return weights @ v, weights                                   # (..., L, d_v), (..., L, S)


# ---------------------------------------------------------------- additive (Bahdanau) scoring

def additive_attention(q: Tensor, k: Tensor, v: Tensor, w_q: Tensor, w_k: Tensor, w_v: Tensor,
                       mask: Tensor | None = None, causal: bool = False) -> tuple[Tensor, Tensor]:
    r"""Additive attention (Bahdanau et al. 2015): a one-hidden-layer MLP scores each query-key pair.

    a(\mathbf q, \mathbf k) = \mathbf w_v^\top \tanh(\mathbf W_q \mathbf q + \mathbf W_k \mathbf k)

    q: (..., L, d_q); k: (..., S, d_k); v: (..., S, d_v); w_q: W_q (h, d_q); w_k: W_k (h, d_k);
    w_v: \mathbf w_v (h,). Queries and keys may have different sizes. Masks as in :func:`scaled_dot_product`.
    Returns (output (..., L, d_v), weights (..., L, S)).
    """
    hidden = torch.tanh((q @ w_q.T).unsqueeze(-2) + (k @ w_k.T).unsqueeze(-3))   # (..., L, S, h)
    scores = hidden @ w_v                                                         # (..., L, S)
    additive = _as_additive(mask, scores.dtype)
    if additive is not None:
        scores = scores + additive
    if causal:
        scores = scores.masked_fill(~causal_mask(q.shape[-2], k.shape[-2], q.device), float("-inf"))
    weights = masked_softmax(scores)
    return weights @ v, weights


def additive_weights(d_q: int, d_k: int, hidden: int, seed: int, device: torch.device | str = "cpu"
                     ) -> tuple[Tensor, Tensor, Tensor]:
    """Random W_q (h, d_q), W_k (h, d_k), w_v (h,) for :func:`additive_attention` (Xavier-uniform scale)."""
    g = generator(seed, device)

    def uniform(*shape: int) -> Tensor:
        bound = math.sqrt(6.0 / sum(shape))
        return (torch.rand(*shape, generator=g, device=device) * 2 - 1) * bound
    return uniform(hidden, d_q), uniform(hidden, d_k), uniform(hidden, 1)[:, 0]


# ---------------------------------------------------------------- the "by hand" lab

@dataclass(frozen=True)
class HandConfig:
    scaled: bool = True            # divide by sqrt(d_k)
    temperature: float = 1.0       # tau: softmax(s / tau)
    causal: bool = False
    n_pad: int = 0                 # the last n_pad keys are padding
    additive_hidden: int = 8       # h of the additive scorer
    seed: int = 0

    def __post_init__(self) -> None:
        if not MIN_TEMPERATURE <= self.temperature <= MAX_TEMPERATURE:   # NaN fails too
            raise ValueError(f"Invalid temperature: {self.temperature} (allowed {MIN_TEMPERATURE}..{MAX_TEMPERATURE})")
        if not 0 <= self.n_pad <= MAX_TOKENS:
            raise ValueError(f"Invalid n_pad: {self.n_pad} (allowed 0..{MAX_TOKENS})")
        if not 1 <= self.additive_hidden <= 64:
            raise ValueError(f"Invalid additive_hidden: {self.additive_hidden} (allowed 1..64)")


@dataclass(frozen=True)
class HandResult:
    scores: Tensor           # (L, S) raw Q K^T
    logits: Tensor           # (L, S) scores * scale / tau, -inf where masked
    weights: Tensor          # (L, S) softmax rows
    output: Tensor           # (L, d_v)
    mask: Tensor             # (L, S) True where a query may attend
    additive_weights: Tensor  # (L, S) Bahdanau weights on the same Q, K, V and mask
    additive_output: Tensor  # (L, d_v)
    row_sums: Tensor         # (L,) 1 for every row with a visible key, 0 for a fully masked row
    entropy: Tensor          # (L,) bits of each weight row
    scale: float             # the factor that multiplied Q K^T


def check_qkv(q: Tensor, k: Tensor, v: Tensor) -> None:
    """Shape and size rules for learner matrices: ``ValueError`` naming the rule a table breaks."""
    if not q.ndim == k.ndim == v.ndim == 2:
        raise ValueError(f"Invalid Q, K, V: {q.ndim}, {k.ndim}, {v.ndim} dimensions (allowed matrices)")
    if not (1 <= q.shape[0] <= MAX_TOKENS and 1 <= k.shape[0] <= MAX_TOKENS):
        raise ValueError(f"Invalid rows: Q {q.shape[0]}, K {k.shape[0]} (allowed 1..{MAX_TOKENS})")
    if q.shape[1] != k.shape[1]:
        raise ValueError(f"Invalid d_k: Q has {q.shape[1]} columns, K {k.shape[1]} (allowed the same)")
    if v.shape[0] != k.shape[0]:
        raise ValueError(f"Invalid V: {v.shape[0]} rows (allowed one per key: {k.shape[0]})")
    if max(q.shape[1], v.shape[1]) > MAX_DK:
        raise ValueError(f"Invalid columns: {max(q.shape[1], v.shape[1])} (allowed at most {MAX_DK})")
    if not all(torch.isfinite(m).all() for m in (q, k, v)):
        raise ValueError("Invalid entries: not all finite (allowed finite numbers)")


def attention_by_hand(q: Tensor, k: Tensor, v: Tensor, config: HandConfig) -> HandResult:
    r"""Every intermediate of one attention call, for the heatmaps:
    S = QK^\top, \; A = \mathrm{softmax}(S \cdot c / \tau + M), \; Y = AV with c = 1/\sqrt{d_k} (or 1).

    The additive scorer sees the same Q, K, V and mask, so the two weight maps can be compared.
    """
    check_qkv(q, k, v)
    L, S = q.shape[0], k.shape[0]
    if config.n_pad > S:
        raise ValueError(f"Invalid n_pad: {config.n_pad} (allowed 0..{S}, the number of keys)")
    mask = padding_mask(L, S, config.n_pad, q.device)
    if config.causal:
        mask = mask & causal_mask(L, S, q.device)
    scale = (1.0 / math.sqrt(q.shape[1]) if config.scaled else 1.0) / config.temperature
    output, weights = scaled_dot_product(q, k, v, mask=mask, scale=scale)
    scores = q @ k.T
    logits = (scores * scale).masked_fill(~mask, float("-inf"))
    w_q, w_k, w_v = additive_weights(q.shape[1], k.shape[1], config.additive_hidden, config.seed, q.device)
    add_out, add_w = additive_attention(q, k, v, w_q.to(q.dtype), w_k.to(q.dtype), w_v.to(q.dtype), mask=mask)
    return HandResult(scores, logits, weights, output, mask, add_w, add_out, weights.sum(-1), entropy_bits(weights),
                      scale)


EXAMPLE_Q = ((2, 0, 0), (0, 2, 0), (0, 0, 2), (1, 1, 1))              # q1..q3 each match one key, q4 all
EXAMPLE_K = ((2, 0, 0), (0, 2, 0), (0, 0, 2), (1, 1, 0), (0, 0, 0))   # k5 matches nothing
EXAMPLE_V = ((1, 0), (0, 1), (-1, 0), (0, -1), (0.5, 0.5))


def example_qkv(n_q: int, n_k: int, d_k: int, d_v: int) -> tuple[Tensor, Tensor, Tensor]:
    """The lab's starting Q, K, V, cut or zero-padded to (n_q, d_k), (n_k, d_k), (n_k, d_v)."""
    def fit(rows: tuple, n: int, d: int) -> Tensor:
        out = torch.zeros(n, d)
        src = torch.tensor(rows, dtype=torch.float32)[:n, :d]
        out[: src.shape[0], : src.shape[1]] = src
        return out
    return fit(EXAMPLE_Q, n_q, d_k), fit(EXAMPLE_K, n_k, d_k), fit(EXAMPLE_V, n_k, d_v)


def random_qkv(n_queries: int, n_keys: int, d_k: int, d_v: int, seed: int,
               device: torch.device | str = "cpu") -> tuple[Tensor, Tensor, Tensor]:
    """Q, K, V with independent N(0, 1) entries, so each raw score q.k has variance d_k."""
    if not (1 <= n_queries <= MAX_TOKENS and 1 <= n_keys <= MAX_TOKENS):
        raise ValueError(f"Invalid number of tokens: {n_queries} queries, {n_keys} keys (allowed 1..{MAX_TOKENS})")
    if not (1 <= d_k <= MAX_DK and 1 <= d_v <= MAX_DK):
        raise ValueError(f"Invalid d_k, d_v: {d_k}, {d_v} (allowed 1..{MAX_DK})")
    g = generator(seed, device)
    return (torch.randn(n_queries, d_k, generator=g, device=device),
            torch.randn(n_keys, d_k, generator=g, device=device),
            torch.randn(n_keys, d_v, generator=g, device=device))


def row_sum_report(row_sums: Tensor) -> tuple[int, float, list[int]]:
    """(rows that attend somewhere, their largest |sum - 1|, indices of fully masked rows whose sum is 0)."""
    live = row_sums > 0
    dev = float((row_sums[live] - 1).abs().max()) if live.any() else 0.0
    return int(live.sum()), dev, torch.nonzero(~live).flatten().tolist()


def shuffled_order(n: int, seed: int) -> list[int]:
    """A random permutation of 0..n-1 that is never the identity (for n > 1)."""
    order = torch.randperm(n, generator=generator(seed)).tolist()
    return order[1:] + order[:1] if order == sorted(order) else order


def entropy_bits(weights: Tensor) -> Tensor:
    r"""Entropy of each weight row in bits, H = -\sum_j \alpha_j \log_2 \alpha_j (0 log 0 = 0):
    0 for hard attention on one key, \log_2 S for uniform attention over S keys."""
    return -(weights * torch.log2(weights.clamp_min(1e-30))).sum(-1)


@dataclass(frozen=True)
class Saturation:
    d_k: Tensor              # (n,) the d_k values tried
    max_weight: Tensor       # (2, n) mean largest weight per row: [scaled, unscaled]
    entropy: Tensor          # (2, n) mean row entropy in bits
    logit_std: Tensor        # (2, n) std of the logits


def saturation_curve(d_ks: tuple[int, ...], n_tokens: int, seed: int, n_samples: int = 64,
                     device: torch.device | str = "cpu") -> Saturation:
    r"""Why 1/\sqrt{d_k}: for random q, k with unit-variance entries, q \cdot k has variance d_k, so unscaled
    logits grow like \sqrt{d_k} and the softmax saturates (one weight -> 1, gradients -> 0)."""
    if not all(1 <= d <= MAX_DK for d in d_ks):
        raise ValueError(f"Invalid d_k: {d_ks} (allowed 1..{MAX_DK})")
    if not 2 <= n_tokens <= MAX_TOKENS:
        raise ValueError(f"Invalid n_tokens: {n_tokens} (allowed 2..{MAX_TOKENS})")
    g = generator(seed, device)
    out = torch.zeros(3, 2, len(d_ks), device=device)
    for i, d in enumerate(d_ks):
        q = torch.randn(n_samples, n_tokens, d, generator=g, device=device)
        k = torch.randn(n_samples, n_tokens, d, generator=g, device=device)
        raw = q @ k.transpose(-2, -1)
        for j, logits in enumerate((raw / math.sqrt(d), raw)):
            w = torch.softmax(logits, -1)
            out[:, j, i] = torch.stack([w.max(-1).values.mean(), entropy_bits(w).mean(), logits.std()])
    return Saturation(torch.tensor(d_ks), out[0].cpu(), out[1].cpu(), out[2].cpu())


# ---------------------------------------------------------------- multi-head attention

@dataclass(frozen=True)
class MultiHeadResult:
    output: Tensor     # (B, L, d_model) after W_o
    weights: Tensor    # (B, h, L, S) per head; .mean(1) is what nn.MultiheadAttention averages
    heads: Tensor      # (B, h, L, d_head) each head's output before concatenation
    concat: Tensor     # (B, L, d_model) the heads side by side, the input of W_o


def multi_head_attention(x_q: Tensor, x_k: Tensor, x_v: Tensor, w_q: Tensor, w_k: Tensor, w_v: Tensor, w_o: Tensor,
                         n_heads: int, b_q: Tensor | None = None, b_k: Tensor | None = None, b_v: Tensor | None = None,
                         b_o: Tensor | None = None, mask: Tensor | None = None,
                         causal: bool = False) -> MultiHeadResult:
    r"""Multi-head attention: project, split into h heads, attend in each, concatenate, project.

    \mathbf h_i = \mathrm{Attention}(X_q W_i^{(q)}, X_k W_i^{(k)}, X_v W_i^{(v)}), \quad
    \mathrm{MHA} = [\mathbf h_1, \dots, \mathbf h_h] W_o^\top

    x_q: (B, L, d_model); x_k, x_v: (B, S, d_model); w_q, w_k, w_v, w_o: (d_model, d_model) in the
    ``nn.Linear`` layout (y = x W^\top + b), rows i*d_head..(i+1)*d_head-1 of w_q being head i's W_i^{(q)};
    mask: (L, S) or (B, 1 | h, L, S), True = may attend. With
    ``in_proj_weight = cat(w_q, w_k, w_v)`` and ``out_proj.weight = w_o`` this is ``nn.MultiheadAttention``
    (``batch_first=True``, ``need_weights=True, average_attn_weights=False``, mask inverted).
    """
    B, L, d_model = x_q.shape
    S = x_k.shape[1]
    if d_model % n_heads:
        raise ValueError(f"Invalid n_heads: {n_heads} (allowed a divisor of d_model = {d_model})")
    d_head = d_model // n_heads

    def project(x: Tensor, w: Tensor, b: Tensor | None, n: int) -> Tensor:
        y = x @ w.T + (b if b is not None else 0)
        return y.view(B, n, n_heads, d_head).transpose(1, 2)              # (B, h, n, d_head)

    q, k, v = project(x_q, w_q, b_q, L), project(x_k, w_k, b_k, S), project(x_v, w_v, b_v, S)
    heads, weights = scaled_dot_product(q, k, v, mask=mask, causal=causal)  # (B, h, L, d_head), (B, h, L, S)
    concat = heads.transpose(1, 2).reshape(B, L, d_model)                 # (B, L, h * d_head)
    output = concat @ w_o.T + (b_o if b_o is not None else 0)
    return MultiHeadResult(output, weights, heads, concat)


@dataclass(frozen=True)
class HeadsConfig:
    n_tokens: int = 6
    d_model: int = 16
    n_heads: int = 4
    causal: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.n_tokens <= MAX_TOKENS:
            raise ValueError(f"Invalid n_tokens: {self.n_tokens} (allowed 1..{MAX_TOKENS})")
        if not 1 <= self.d_model <= MAX_D_MODEL:
            raise ValueError(f"Invalid d_model: {self.d_model} (allowed 1..{MAX_D_MODEL})")
        if not 1 <= self.n_heads <= MAX_HEADS:
            raise ValueError(f"Invalid n_heads: {self.n_heads} (allowed 1..{MAX_HEADS})")
        if self.d_model % self.n_heads:   # the two caps depend on each other
            raise ValueError(f"Invalid n_heads: {self.n_heads} (allowed a divisor of d_model = {self.d_model})")


@dataclass(frozen=True)
class HeadsDemo:
    x: Tensor             # (L, d_model) the token vectors
    result: MultiHeadResult
    torch_weights: Tensor  # (h, L, L) nn.MultiheadAttention with the same weights
    torch_output: Tensor  # (L, d_model)
    max_error: dict       # name -> largest |ours - torch|
    projections: tuple[Tensor, ...] = ()   # (W_q, W_k, W_v, W_o, b_q, b_k, b_v, b_o) both were given


def heads_demo(config: HeadsConfig, device: torch.device | str = "cpu") -> HeadsDemo:
    """Self-attention of random tokens through :func:`multi_head_attention` and through
    ``nn.MultiheadAttention`` holding the very same weights, with the differences."""
    g = generator(config.seed, device)
    D, L = config.d_model, config.n_tokens
    x = torch.randn(1, L, D, generator=g, device=device)
    bound = math.sqrt(3.0 / D)   # uniform with variance 1/D: unit-scale projections
    w = [(torch.rand(D, D, generator=g, device=device) * 2 - 1) * bound for _ in range(4)]
    b = [torch.randn(D, generator=g, device=device) * 0.1 for _ in range(4)]
    mask = causal_mask(L, L, device) if config.causal else None
    ours = multi_head_attention(x, x, x, *w, n_heads=config.n_heads, b_q=b[0], b_k=b[1], b_v=b[2], b_o=b[3],
                                mask=mask)
    mha = torch.nn.MultiheadAttention(D, config.n_heads, batch_first=True, device=device)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat(w[:3]))
        mha.in_proj_bias.copy_(torch.cat(b[:3]))
        mha.out_proj.weight.copy_(w[3])
        mha.out_proj.bias.copy_(b[3])
    with torch.inference_mode():
        ref_out, ref_w = mha(x, x, x, attn_mask=None if mask is None else ~mask, need_weights=True,
                             average_attn_weights=False)
        _, ref_avg = mha(x, x, x, attn_mask=None if mask is None else ~mask, need_weights=True)
    errors = {"weights": float((ours.weights - ref_w).abs().max()),
              "averaged": float((ours.weights.mean(1) - ref_avg).abs().max()),
              "output": float((ours.output - ref_out).abs().max())}
    return HeadsDemo(x[0].cpu(), MultiHeadResult(*(t.cpu() for t in (ours.output, ours.weights, ours.heads,
                                                                      ours.concat))),
                     ref_w[0].cpu(), ref_out[0].cpu(), errors, tuple(t.cpu() for t in (*w, *b)))


# ---------------------------------------------------------------- positional encoding

def positional_encoding(n_positions: int, d_model: int, device: torch.device | str = "cpu") -> Tensor:
    r"""Sinusoidal positional encoding (Vaswani et al. 2017, sec. 3.5), interleaved layout:

    PE_{pos, 2i} = \sin(pos / 10000^{2i/d}), \quad PE_{pos, 2i+1} = \cos(pos / 10000^{2i/d})

    n_positions: positions 0..n-1; d_model: d (an odd d drops the last cosine). Returns (n, d).
    """
    if not (1 <= n_positions <= 100_000 and 1 <= d_model <= 4096):
        raise ValueError(f"Invalid n_positions, d_model: {n_positions}, {d_model} (allowed 1..100000, 1..4096)")
    pos = torch.arange(n_positions, dtype=torch.float64, device=device)[:, None]          # (n, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64, device=device)             # 2i
    angle = pos / 10000.0 ** (two_i / d_model)                                          # (n, ceil(d/2))
    pe = torch.zeros(n_positions, d_model, dtype=torch.float64, device=device)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe.float()


def word_vectors(words: list[str], d: int, seed: int, device: torch.device | str = "cpu") -> Tensor:
    """A fixed random N(0, 1) vector per distinct word (the same word always gets the same vector): (L, d)."""
    if not (1 <= len(words) <= MAX_TOKENS and 1 <= d <= MAX_D_MODEL):
        raise ValueError(f"Invalid words, d: {len(words)}, {d} (allowed 1..{MAX_TOKENS}, 1..{MAX_D_MODEL})")
    vocab = sorted(set(words))
    table = torch.randn(len(vocab), d, generator=generator(seed, device), device=device)
    return table[[vocab.index(w) for w in words]]


def permutation_demo(words: tuple[str, ...], use_positions: bool, seed: int) -> PermutationResult:
    """:func:`permutation_experiment` on the words of a sentence (16-d word vectors) and a fixed shuffle of them."""
    return permutation_experiment(word_vectors(list(words), 16, seed), shuffled_order(len(words), seed + 1),
                                  use_positions, seed)


@dataclass(frozen=True)
class PermutationResult:
    order: list              # the permutation: permuted[j] = tokens[order[j]]
    weights: Tensor          # (2, L, L) [original, permuted] self-attention weights
    change: Tensor           # (L,) |y_i(original) - y_i(permuted)| per token (same token, new place)


def permutation_experiment(embeddings: Tensor, order: list[int], use_positions: bool, seed: int,
                           ) -> PermutationResult:
    r"""Self-attention (one head, random W_q, W_k, W_v) on a sequence and on a shuffle of it.

    Without positions, attention is permutation-equivariant: shuffling the tokens shuffles the outputs
    and each token's output is unchanged, \mathrm{Attn}(PX) = P\,\mathrm{Attn}(X). Adding
    :func:`positional_encoding` to X breaks this: a token's output then depends on where it stands.
    embeddings: (L, d) token vectors; order: a permutation of 0..L-1.
    """
    L, d = embeddings.shape
    if sorted(order) != list(range(L)):
        raise ValueError(f"Invalid order: {order} (allowed a permutation of 0..{L - 1})")
    device = embeddings.device
    embeddings = embeddings.double()   # float64, so "unchanged" shows as ~1e-16, not float32 round-off
    g = generator(seed, device)
    w_q, w_k, w_v = (torch.randn(d, d, generator=g, device=device, dtype=torch.float64) / math.sqrt(d)
                     for _ in range(3))
    pe = positional_encoding(L, d, device).double() if use_positions else torch.zeros(L, d, device=device)
    perm = torch.tensor(order, device=device)
    outs, ws = [], []
    for x in (embeddings, embeddings[perm]):
        x = x + pe
        y, w = scaled_dot_product(x @ w_q.T, x @ w_k.T, x @ w_v.T)
        outs.append(y)
        ws.append(w)
    back = torch.empty_like(perm)
    back[perm] = torch.arange(L, device=device)     # token i now stands at place back[i]
    change = (outs[0] - outs[1][back]).norm(dim=-1)
    return PermutationResult(list(order), torch.stack(ws).float().cpu(), change.float().cpu())
