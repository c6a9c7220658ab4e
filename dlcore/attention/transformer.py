r"""A tiny encoder-decoder Transformer (Vaswani et al. 2017; seed 004 "Transformer") trained on copy,
reverse and sort of digit strings, whose attention maps are readable.

Source ``x_1 .. x_n <eos>`` goes through the encoder (bidirectional self-attention); the decoder reads
``<bos> y_1 .. y_{t}`` under a causal mask and attends to the encoder output (cross-attention) to predict
``y_{t+1}``. Every attention call is :func:`dlcore.attention.mechanism.multi_head_attention`, so the maps on the page
are the weights the model used. Blocks are pre-LayerNorm (x + Attn(LN(x)), x + FFN(LN(x))), which trains
stably without warm-up at this size.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcore import training
from dlcore.attention.mechanism import multi_head_attention, positional_encoding
from dlcore.device import generator, seeded

PAD, BOS, EOS = 0, 1, 2
DIGITS = "0123456789"
VOCAB = 3 + len(DIGITS)
SYMBOLS = ("·", "<bos>", "<eos>", *DIGITS)
TASKS = ("copy", "reverse", "sort")
MAX_LEN = 10               # longest digit string (training and the learner's input)
MAX_TRAIN_STEPS = 5000     # a live retraining run
EVAL_SIZE = 500


# ---------------------------------------------------------------- tasks and the learner's input

def target(task: str, digits: list[int]) -> list[int]:
    """The answer the model should write: the digits, reversed, or sorted (digits as 0-9)."""
    if task not in TASKS:
        raise ValueError(f"Invalid task: {task!r} (allowed {TASKS})")
    return list(digits) if task == "copy" else digits[::-1] if task == "reverse" else sorted(digits)


@dataclass(frozen=True)
class Problem:
    """Why a typed sequence is rejected: a code for the page's message, the 1-based position and the symbol."""
    code: str          # "empty" | "too_long" | "bad_symbol"
    position: int = 0
    symbol: str = ""


def parse_digits(text: str, max_len: int = MAX_LEN) -> tuple[list[int], Problem | None]:
    """Digits from the learner's text (spaces and commas ignored); ([], problem) when it cannot be used."""
    symbols = [ch for ch in text if not ch.isspace() and ch != ","]
    if not symbols:
        return [], Problem("empty")
    for pos, ch in enumerate(symbols):
        if ch not in DIGITS:
            return [], Problem("bad_symbol", pos + 1, ch)
    if len(symbols) > max_len:
        return [], Problem("too_long", max_len + 1, symbols[max_len])
    return [int(ch) for ch in symbols], None


def encode_source(digits: list[int]) -> list[int]:
    return [3 + d for d in digits] + [EOS]


def batch(task: str, size: int, length: int, g: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """``size`` random digit strings of one ``length``: source (B, n+1), decoder input (B, n+1) starting
    with <bos>, decoder target (B, n+1) ending with <eos>. One length per batch, so no padding is needed."""
    x = torch.randint(0, 10, (size, length), generator=g)
    y = x if task == "copy" else x.flip(1) if task == "reverse" else x.sort(1).values
    eos = torch.full((size, 1), EOS)
    bos = torch.full((size, 1), BOS)
    return torch.cat([x + 3, eos], 1), torch.cat([bos, y + 3], 1), torch.cat([y + 3, eos], 1)


# ---------------------------------------------------------------- the model

@dataclass(frozen=True)
class ModelConfig:
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2          # encoder layers = decoder layers
    d_ff: int = 128
    max_len: int = MAX_LEN + 2

    def __post_init__(self) -> None:
        if not (1 <= self.n_layers <= 4 and 1 <= self.n_heads <= 8 and 1 <= self.d_model <= 128):
            raise ValueError(f"Invalid model size: {self.n_layers} layers, {self.n_heads} heads, d_model "
                             f"{self.d_model} (allowed 1..4, 1..8, 1..128)")
        if self.d_model % self.n_heads:
            raise ValueError(f"Invalid n_heads: {self.n_heads} (allowed a divisor of d_model = {self.d_model})")


class Attention(nn.Module):
    """Multi-head attention holding W_q, W_k, W_v, W_o; forward is :func:`multi_head_attention`."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.q, self.k, self.v, self.o = (nn.Linear(d_model, d_model) for _ in range(4))

    def forward(self, x: Tensor, memory: Tensor | None = None, causal: bool = False) -> tuple[Tensor, Tensor]:
        src = x if memory is None else memory
        r = multi_head_attention(x, src, src, self.q.weight, self.k.weight, self.v.weight, self.o.weight,
                                 self.n_heads, self.q.bias, self.k.bias, self.v.bias, self.o.bias, causal=causal)
        return r.output, r.weights                        # (B, T, d), (B, h, T, S)


class Block(nn.Module):
    """Pre-LN block: self-attention, optional cross-attention, position-wise feed-forward network."""

    def __init__(self, cfg: ModelConfig, cross: bool) -> None:
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(cfg.d_model), Attention(cfg.d_model, cfg.n_heads)
        self.ln_x, self.cross = ((nn.LayerNorm(cfg.d_model), Attention(cfg.d_model, cfg.n_heads)) if cross
                                 else (None, None))
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.ffn = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_ff), nn.ReLU(), nn.Linear(cfg.d_ff, cfg.d_model))

    def forward(self, x: Tensor, memory: Tensor | None = None, causal: bool = False
                ) -> tuple[Tensor, Tensor, Tensor | None]:
        a, w_self = self.attn(self.ln1(x), causal=causal)
        x = x + a
        w_cross = None
        if self.cross is not None:
            a, w_cross = self.cross(self.ln_x(x), memory=memory)
            x = x + a
        return x + self.ffn(self.ln2(x)), w_self, w_cross


@dataclass
class AttentionMaps:
    """Weights of every attention call: (n_layers, h, T_query, T_key) each, for one sequence."""
    encoder: Tensor      # encoder self-attention over the source
    decoder: Tensor      # decoder self-attention (causal: zero above the diagonal)
    cross: Tensor        # decoder queries -> encoder outputs


class TinyTransformer(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(VOCAB, cfg.d_model)
        self.register_buffer("pe", positional_encoding(cfg.max_len, cfg.d_model), persistent=False)
        self.encoder = nn.ModuleList(Block(cfg, cross=False) for _ in range(cfg.n_layers))
        self.decoder = nn.ModuleList(Block(cfg, cross=True) for _ in range(cfg.n_layers))
        self.ln_enc, self.ln_dec = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, VOCAB)

    def _inputs(self, tokens: Tensor) -> Tensor:
        return self.embed(tokens) * math.sqrt(self.cfg.d_model) + self.pe[: tokens.shape[1]]

    def forward(self, src: Tensor, tgt_in: Tensor) -> tuple[Tensor, AttentionMaps]:
        """src: (B, S) token ids; tgt_in: (B, T). Returns logits (B, T, VOCAB) and the maps of the first sequence."""
        maps: dict[str, list[Tensor]] = {"encoder": [], "decoder": [], "cross": []}
        x = self._inputs(src)
        for block in self.encoder:
            x, w, _ = block(x)
            maps["encoder"].append(w[0])
        memory = self.ln_enc(x)
        y = self._inputs(tgt_in)
        for block in self.decoder:
            y, w, wc = block(y, memory=memory, causal=True)
            maps["decoder"].append(w[0])
            maps["cross"].append(wc[0])
        return self.head(self.ln_dec(y)), AttentionMaps(*(torch.stack(maps[k])
                                                          for k in ("encoder", "decoder", "cross")))


def make_model(cfg: ModelConfig, seed: int, device: torch.device | str = "cpu") -> TinyTransformer:
    with seeded(seed):
        model = TinyTransformer(cfg)
    return model.to(device)


# ---------------------------------------------------------------- reading a trained model

@dataclass
class Reading:
    source: list[str]      # source symbols (digits and <eos>)
    decoder_in: list[str]  # <bos> and the model's own answer
    written: list[str]     # what each decoder position predicted: the answer, then <eos> (if it stopped)
    output: list[str]      # what the model wrote (until <eos> or the length cap)
    expected: list[str]
    correct: bool
    maps: AttentionMaps

    def labels(self, kind: str) -> tuple[list[str], list[str]]:
        """(key labels, query labels) of the maps of ``kind`` ("encoder", "decoder" or "cross")."""
        keys = self.decoder_in if kind == "decoder" else self.source
        return keys, self.source if kind == "encoder" else self.written


def run_on(model: TinyTransformer, task: str, digits: list[int], device: torch.device | str = "cpu") -> Reading:
    """Greedy decoding of the answer, then one pass over it to read every attention map.

    The decoder's causal mask makes that pass compute exactly what the step-by-step decoding saw.
    """
    if not (1 <= len(digits) <= MAX_LEN and all(0 <= d <= 9 for d in digits)):
        raise ValueError(f"Invalid digits: {digits[:MAX_LEN + 1]} (allowed 1..{MAX_LEN} digits 0-9)")
    src = torch.tensor([encode_source(digits)], device=device)
    out = [BOS]
    with torch.inference_mode():
        for _ in range(len(digits) + 1):
            logits, _ = model(src, torch.tensor([out], device=device))
            nxt = int(logits[0, -1].argmax())
            if nxt == EOS:
                break
            out.append(nxt)
        logits, maps = model(src, torch.tensor([out], device=device))
    wrote = [SYMBOLS[i] for i in out[1:]]
    expected = [str(d) for d in target(task, digits)]
    predicted = [SYMBOLS[i] for i in logits[0].argmax(-1).tolist()]
    return Reading([SYMBOLS[i] for i in src[0].tolist()], [SYMBOLS[i] for i in out], predicted, wrote, expected,
                   wrote == expected, AttentionMaps(maps.encoder.cpu(), maps.decoder.cpu(), maps.cross.cpu()))


def sequence_accuracy(model: TinyTransformer, task: str, lengths: tuple[int, ...] = tuple(range(1, MAX_LEN + 1)),
                      n: int = EVAL_SIZE, seed: int = 12345, device: torch.device | str = "cpu") -> float:
    """Share of ``n`` fresh strings (lengths spread over ``lengths``) answered exactly, by greedy decoding."""
    g = generator(seed)
    right = 0
    per = max(1, n // len(lengths))
    with torch.inference_mode():
        for length in lengths:
            src, _, tgt_out = (t.to(device) for t in batch(task, per, length, g))
            out = torch.full((per, 1), BOS, device=device)
            for _ in range(length + 1):
                logits, _ = model(src, out)
                out = torch.cat([out, logits[:, -1:].argmax(-1)], 1)
            right += int((out[:, 1:] == tgt_out).all(1).sum())
    return right / (per * len(lengths))


# ---------------------------------------------------------------- training

@dataclass(frozen=True)
class TrainConfig:
    task: str = "reverse"
    steps: int = 3000          # cosine schedule length; the bundled models use TASK_STEPS
    batch: int = 128
    lr: float = 2e-3           # Adam; pre-LN makes this stable without warm-up at this size
    weight_decay: float = 0.0
    clip: float = 1.0
    eval_every: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"Invalid task: {self.task!r} (allowed {TASKS})")
        if not 1 <= self.steps <= MAX_TRAIN_STEPS:
            raise ValueError(f"Invalid steps: {self.steps} (allowed 1..{MAX_TRAIN_STEPS})")
        if not 1 <= self.batch <= 256:
            raise ValueError(f"Invalid batch: {self.batch} (allowed 1..256)")


TASK_STEPS = {"copy": 2000, "reverse": 3000, "sort": 2000}   # enough for 100% exact answers at every length


@dataclass
class TrainState:
    config: TrainConfig
    model: TinyTransformer
    optimizer: torch.optim.Optimizer
    gen: torch.Generator
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None   # dlcore.training.CosineToZero
    step: int = 0
    history: list[tuple[int, float, float]] = field(default_factory=list)   # (step, loss, token accuracy)
    seconds: float = 0.0

    @property
    def done(self) -> bool:
        return self.step >= self.config.steps


def init_training(config: TrainConfig, model_config: ModelConfig = ModelConfig(),
                  device: torch.device | str = "cpu") -> TrainState:
    model = make_model(model_config, config.seed, device)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return TrainState(config, model, opt, generator(config.seed + 1), training.CosineToZero(opt, config.steps))


def train_steps(state: TrainState, n: int, device: torch.device | str = "cpu") -> TrainState:
    r"""Up to ``n`` steps of teacher-forced cross-entropy with AdamW, gradient clipping and the cosine schedule
    \eta_k = \eta (1 + \cos(\pi k / K)) / 2 (:class:`dlcore.training.CosineToZero`); records (step, loss,
    token accuracy) every ``eval_every``."""
    cfg = state.config
    t0 = time.perf_counter()
    state.model.train()
    for _ in range(n):
        if state.done:
            break
        # lengths drawn with probability proportional to n: long strings are the hard ones
        length = int(torch.multinomial(torch.arange(1.0, MAX_LEN + 1), 1, generator=state.gen)) + 1
        src, tgt_in, tgt_out = (t.to(device) for t in batch(cfg.task, cfg.batch, length, state.gen))
        logits, _ = state.model(src, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt_out.reshape(-1))
        value = training.step(state.model, state.optimizer, state.scheduler, loss, cfg.clip)
        state.step += 1
        if state.step % cfg.eval_every == 0 or state.done:
            acc = float((logits.argmax(-1) == tgt_out).float().mean())
            state.history.append((state.step, value, acc))
    state.model.eval()
    state.seconds += time.perf_counter() - t0
    return state


def train_for(state: TrainState, seconds: float, chunk: int = 50, device: torch.device | str = "cpu"):
    """Train in chunks of ``chunk`` steps until done or ``seconds`` of wall time; yields the state after each chunk."""
    t0 = time.perf_counter()
    while not state.done and time.perf_counter() - t0 < seconds:
        yield train_steps(state, chunk, device)


# ---------------------------------------------------------------- bundled weights

def pack(state: TrainState, accuracy: float) -> dict:
    """A trained model as a plain dict for ``torch.save`` (weights stored as float16 to stay small)."""
    return {"task": state.config.task, "model_config": dict(vars(state.model.cfg)),
            "train_config": dict(vars(state.config)), "accuracy": accuracy, "history": state.history,
            "state_dict": {k: v.detach().cpu().half().clone() for k, v in state.model.state_dict().items()}}


def unpack(blob: dict, device: torch.device | str = "cpu") -> TinyTransformer:
    """The read-only model (eval mode, float32) from :func:`pack`'s dict."""
    model = make_model(ModelConfig(**blob["model_config"]), 0, device)
    model.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
    return model.eval()
