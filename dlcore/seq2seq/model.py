r"""A GRU encoder-decoder that translates numbers, with or without additive attention (d2l, "Sequence to Sequence
Learning" and "Bahdanau Attention").

Encoder: the source tokens x_1..x_S through an embedding and a GRU: h_s = f(x_s, h_{s-1}); the context
c = h_S is its last hidden state. Decoder: a GRU whose state starts at c and whose input at step t is the
embedding of the previous target token y_{t-1} concatenated with a context vector:

- plain (d2l's Seq2SeqDecoder): the same c = h_S at every step;
- attention (d2l's Seq2SeqAttentionDecoder): c_t = \sum_s \alpha(s_{t-1}, h_s) h_s, the additive attention of
  :func:`dlcore.attention.mechanism.additive_attention` with the decoder's previous state s_{t-1} as the query and the
  encoder's states h_1..h_S as keys and values.

Then P(y_t | y_{<t}, x) = softmax(W_o s_t + b_o). Training either feeds the true previous token (teacher forcing)
or the model's own previous argmax (free running); prediction always feeds its own output.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcore import training
from dlcore.attention import mechanism as att
from dlcore.device import generator, seeded
from dlcore.seq2seq import number_words as nw
from dlcore.sequences import rnn

DIRECTIONS = ("digits-en", "digits-zh", "en-digits", "zh-digits")   # the bundled models' directions
MAX_STEPS = 3000                          # a live training run
TEST_SIZE = 500                           # held-out numbers
MAX_TARGET = 9                            # longest target in tokens (+ <eos>): "seven thousand seven hundred and ..."


@dataclass(frozen=True)
class Vocab:
    """Token <-> id. Target vocabularies start with <bos> (0) and <eos> (1); source ones with <pad> (0)."""
    tokens: tuple[str, ...]

    def ids(self, tokens: tuple[str, ...] | list[str]) -> list[int]:
        return [self.tokens.index(t) for t in tokens]

    def words(self, ids: tuple[int, ...] | list[int]) -> tuple[str, ...]:
        return tuple(self.tokens[i] for i in ids)

    def __len__(self) -> int:
        return len(self.tokens)


BOS, EOS, PAD = 0, 1, 0


def source_vocab(language: str) -> Vocab:
    return Vocab(("<pad>", *nw.VOCABULARY[language]))


def target_vocab(language: str) -> Vocab:
    return Vocab(("<bos>", "<eos>", *nw.VOCABULARY[language]))


def split_direction(direction: str) -> tuple[str, str]:
    if direction not in DIRECTIONS:
        raise ValueError(f"Invalid direction: {direction!r} (allowed {DIRECTIONS})")
    src, tgt = direction.split("-")
    return src, tgt


@dataclass(frozen=True)
class ModelConfig:
    direction: str = "digits-en"
    attention: bool = False
    embed: int = 32
    hidden: int = 64
    attn_hidden: int = 32     # h of the additive attention's MLP
    bidirectional: bool = False   # encoder: a second GRU reads the source backwards (states of both are summed)
    layers: int = 1           # encoder GRU layers (the decoder starts from the top layer's last state)
    seed: int = 0

    def __post_init__(self) -> None:
        split_direction(self.direction)
        if self.layers not in (1, 2):
            raise ValueError(f"Invalid encoder layers: {self.layers} (allowed 1, 2)")
        if not (4 <= self.embed <= 128 and 4 <= self.hidden <= 128 and 4 <= self.attn_hidden <= 128):
            raise ValueError(f"Invalid sizes: embed {self.embed}, hidden {self.hidden}, attention {self.attn_hidden} "
                             "(allowed 4..128)")


@dataclass
class Memory:
    """What the decoder reads from the encoder: every state, which are real tokens, and the last state c."""
    states: Tensor     # (B, S, H) h_1..h_S (zeros at padding)
    mask: Tensor       # (B, S) True at real tokens
    context: Tensor    # (B, H) c = h_S of each sequence


class Seq2Seq(nn.Module):
    """The encoder-decoder; :meth:`encode` and :meth:`step` are the two halves of one translation."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        src, tgt = split_direction(config.direction)
        self.config = config
        self.src_vocab, self.tgt_vocab = source_vocab(src), target_vocab(tgt)
        E, H = config.embed, config.hidden
        self.src_embed = nn.Embedding(len(self.src_vocab), E, padding_idx=PAD)
        self.encoder = nn.GRU(E, H, num_layers=config.layers, bidirectional=config.bidirectional, batch_first=True)
        self.tgt_embed = nn.Embedding(len(self.tgt_vocab), E)
        self.decoder = nn.GRU(E + H, H, batch_first=True)
        self.out = nn.Linear(H, len(self.tgt_vocab))
        if config.attention:
            A = config.attn_hidden
            self.w_q = nn.Parameter(torch.randn(A, H) / math.sqrt(H))
            self.w_k = nn.Parameter(torch.randn(A, H) / math.sqrt(H))
            self.w_v = nn.Parameter(torch.randn(A) / math.sqrt(A))

    def encode(self, src: Tensor) -> Memory:
        r"""src: (B, S) ids, right-padded with <pad>. h_s = GRU(embed(x_s), h_{s-1}); c = h_S of each row.

        Bidirectional: h_s = \overrightarrow{h}_s + \overleftarrow{h}_s (the notes join the two directions; a sum
        keeps the decoder's size H) and c = \overrightarrow{h}_S + \overleftarrow{h}_1, each direction's last state.
        Two layers: the states and c are the top layer's.
        """
        lengths = (src != PAD).sum(1)
        packed = nn.utils.rnn.pack_padded_sequence(self.src_embed(src), lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        out, h = self.encoder(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        if self.config.bidirectional:
            H = self.config.hidden
            return Memory(states[..., :H] + states[..., H:], src != PAD, h[-2] + h[-1])
        return Memory(states, src != PAD, h[-1])                                      # (B, S, H), (B, S), (B, H)

    def step(self, y_prev: Tensor, s: Tensor, memory: Memory) -> tuple[Tensor, Tensor, Tensor | None]:
        r"""One decoder step: (logits (B, |V|) of y_t, new state s_t (B, H), attention weights (B, S) or None).

        y_prev: y_{t-1} ids (B,); s: s_{t-1} (B, H). The context is c (plain) or
        c_t = \sum_s \alpha(s_{t-1}, h_s) h_s (attention).
        """
        weights = None
        if self.config.attention:
            ctx, w = att.additive_attention(s[:, None], memory.states, memory.states, self.w_q, self.w_k, self.w_v,
                                            mask=memory.mask[:, None])                  # (B, 1, H), (B, 1, S)
            ctx, weights = ctx[:, 0], w[:, 0]
        else:
            ctx = memory.context
        x = torch.cat([self.tgt_embed(y_prev), ctx], -1)[:, None]                      # (B, 1, E + H)
        out, h = self.decoder(x, s[None].contiguous())
        logits = self.out(out[:, 0])
        logits[:, BOS] = float("-inf")                                                   # <bos> is never output
        return logits, h[0], weights

    def forward(self, src: Tensor, tgt_in: Tensor, teacher_forcing: bool = True) -> Tensor:
        """Logits (B, T, |V|) for every target step. tgt_in: (B, T) = <bos> y_1 .. y_{T-1}. With teacher forcing
        the decoder reads tgt_in; free running reads its own previous argmax (after the first <bos>)."""
        memory = self.encode(src)
        s, y = memory.context, tgt_in[:, 0]
        logits = []
        for t in range(tgt_in.shape[1]):
            lo, s, _ = self.step(y, s, memory)
            logits.append(lo)
            if t + 1 < tgt_in.shape[1]:
                y = tgt_in[:, t + 1] if teacher_forcing else lo.detach().argmax(-1)
        return torch.stack(logits, 1)


def make_model(config: ModelConfig, device: torch.device | str = "cpu") -> Seq2Seq:
    with seeded(config.seed):
        model = Seq2Seq(config)
    return model.to(device)


# ---------------------------------------------------------------- data

def test_numbers() -> list[int]:
    """The held-out numbers (same for every run): TEST_SIZE of 1..9999, drawn so every digit length appears.
    0 always stays in training: "zero" occurs in no other number, so a model that never saw it could not know it."""
    g = generator(2024)
    perm = torch.randperm(nw.MAX_NUMBER + 1, generator=g).tolist()
    small = [n for n in perm if 0 < n < 100][:20]                # a few one- and two-digit numbers
    rest = [n for n in perm if n >= 100 and n not in small][:TEST_SIZE - len(small)]
    return sorted(small + rest)


def train_numbers() -> list[int]:
    held = set(test_numbers())
    return [n for n in range(nw.MAX_NUMBER + 1) if n not in held]


@lru_cache(maxsize=1)
def _train_by_length() -> tuple[tuple[int, ...], ...]:
    """The training numbers grouped by digit count (1, 2, 3, 4)."""
    pool = train_numbers()
    return tuple(tuple(n for n in pool if len(str(n)) == k) for k in range(1, len(str(nw.MAX_NUMBER)) + 1))


def sample_numbers(size: int, g: torch.Generator) -> list[int]:
    """``size`` training numbers: a digit count 1-4 uniformly, then a number of that length (short numbers would be
    rare otherwise: 10 of 10,000 have one digit)."""
    groups = _train_by_length()
    picks = torch.randint(0, len(groups), (size,), generator=g).tolist()
    index = torch.rand(size, generator=g).tolist()
    return [groups[p][int(u * len(groups[p]))] for p, u in zip(picks, index)]


def encode_batch(model: Seq2Seq, numbers: list[int], device: torch.device | str = "cpu"
                 ) -> tuple[Tensor, Tensor, Tensor]:
    """(src (B, S), tgt_in (B, T), tgt_out (B, T)) for ``numbers``; tgt_out is y_1..y_L <eos>, padded with -100."""
    src_lang, tgt_lang = split_direction(model.config.direction)
    srcs = [model.src_vocab.ids(nw.write(n, src_lang)) for n in numbers]
    tgts = [model.tgt_vocab.ids(nw.write(n, tgt_lang)) + [EOS] for n in numbers]
    S, T = max(map(len, srcs)), max(map(len, tgts))
    src = torch.tensor([s + [PAD] * (S - len(s)) for s in srcs])
    tgt_out = torch.tensor([t + [-100] * (T - len(t)) for t in tgts])
    tgt_in = torch.tensor([[BOS] + [max(y, EOS) for y in t[:-1]] + [EOS] * (T - len(t)) for t in tgts])
    return src.to(device), tgt_in.to(device), tgt_out.to(device)


# ---------------------------------------------------------------- training

@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = ModelConfig()
    steps: int = 1200
    batch: int = 64
    lr: float = 5e-3          # Adam with a cosine decay: ~99% of test numbers right in 1200 steps
    clip: float = 1.0         # gradient clipping threshold
    teacher_forcing: bool = True
    eval_every: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"Invalid steps: {self.steps} (allowed 1..{MAX_STEPS})")
        if not 1 <= self.batch <= 256:
            raise ValueError(f"Invalid batch: {self.batch} (allowed 1..256)")
        if not (math.isfinite(self.lr) and 0 < self.lr <= 0.1):
            raise ValueError(f"Invalid learning rate: {self.lr} (allowed (0, 0.1])")


@dataclass
class TrainState:
    """A training run in progress; ``history`` holds (step, training loss, test accuracy, test loss)."""
    config: TrainConfig
    model: Seq2Seq
    optimizer: torch.optim.Optimizer
    gen: torch.Generator
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None   # dlcore.training.CosineToZero
    step: int = 0
    history: list[tuple[int, float, float, float]] = field(default_factory=list)
    seconds: float = 0.0
    snapshots: dict[int, dict[str, Tensor]] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.step >= self.config.steps


def init_training(config: TrainConfig, device: torch.device | str = "cpu") -> TrainState:
    model = make_model(config.model, device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    return TrainState(config, model, opt, generator(config.seed + 1), training.CosineToZero(opt, config.steps))


def sequence_loss(logits: Tensor, tgt_out: Tensor) -> Tensor:
    """Mean cross-entropy over the real target tokens (-100 marks padding)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=-100)


def train_steps(state: TrainState, n: int, device: torch.device | str = "cpu",
                snapshot_at: tuple[int, ...] = ()) -> TrainState:
    r"""Up to ``n`` Adam steps on random training numbers; evaluate on the test numbers every ``eval_every``.

    Each step: a batch, the cross-entropy of every target token given the decoder's inputs (the true previous
    token with teacher forcing, its own previous argmax without), gradient clipping, and the cosine learning rate
    \eta_k = \eta (1 + \cos(\pi k / K)) / 2 over K = ``steps`` (:class:`dlcore.training.CosineToZero`).
    ``snapshot_at``: steps whose weights to keep.
    """
    cfg = state.config
    t0 = time.perf_counter()
    state.model.train()
    for _ in range(n):
        if state.done:
            break
        src, tgt_in, tgt_out = encode_batch(state.model, sample_numbers(cfg.batch, state.gen), device)
        loss = sequence_loss(state.model(src, tgt_in, cfg.teacher_forcing), tgt_out)
        training.step(state.model, state.optimizer, state.scheduler, loss, cfg.clip)
        state.step += 1
        if state.step in snapshot_at:
            state.snapshots[state.step] = {k: v.detach().clone() for k, v in state.model.state_dict().items()}
        if state.step % cfg.eval_every == 0 or state.step == cfg.steps:
            acc, test_loss = evaluate(state.model, device)
            state.history.append((state.step, float(loss.detach()), acc, test_loss))
            state.model.train()
    state.model.eval()
    state.seconds += time.perf_counter() - t0
    return state


def greedy_batch(model: Seq2Seq, numbers: list[int], max_len: int = MAX_TARGET + 1,
                 device: torch.device | str = "cpu") -> list[tuple[int, ...]]:
    """Greedy translations of many numbers at once (the fast path of :func:`dlcore.seq2seq.search.greedy_search`
    for this model; tested equal). Each result ends with <eos> unless it ran out of steps."""
    src, _, _ = encode_batch(model, numbers, device)
    with torch.inference_mode():
        memory = model.encode(src)
        s, y = memory.context, torch.full((len(numbers),), BOS, device=device)
        outs = []
        for _ in range(max_len):
            logits, s, _ = model.step(y, s, memory)
            y = logits.argmax(-1)
            outs.append(y)
    rows = torch.stack(outs, 1).tolist()
    return [tuple(r[:r.index(EOS) + 1]) if EOS in r else tuple(r) for r in rows]


def evaluate(model: Seq2Seq, device: torch.device | str = "cpu") -> tuple[float, float]:
    """(share of test numbers whose greedy translation is exactly right, teacher-forced test loss)."""
    model.eval()
    numbers = test_numbers()
    _, tgt_lang = split_direction(model.config.direction)
    preds = greedy_batch(model, numbers, device=device)
    right = [model.tgt_vocab.ids(nw.write(n, tgt_lang)) + [EOS] for n in numbers]
    acc = sum(list(p) == r for p, r in zip(preds, right)) / len(numbers)
    with torch.inference_mode():
        src, tgt_in, tgt_out = encode_batch(model, numbers, device)
        loss = float(sequence_loss(model(src, tgt_in), tgt_out))
    return acc, loss


# ---------------------------------------------------------------- one translation, step by step

class StepScorer:
    """``step_log_probs(prefix)`` of one source sentence for :mod:`dlcore.seq2seq.search`: encodes once, and keeps
    the decoder state of every prefix it has seen, so each new prefix costs one decoder step."""

    def __init__(self, model: Seq2Seq, src_ids: list[int], device: torch.device | str = "cpu") -> None:
        self.model = model
        with torch.inference_mode():
            self.memory = model.encode(torch.tensor([src_ids], device=device))
        self.device = device
        self.cache: dict[tuple[int, ...], tuple[Tensor, Tensor, Tensor | None]] = {}
        self.calls = 0

    def _state(self, prefix: tuple[int, ...]) -> tuple[Tensor, Tensor, Tensor | None]:
        """(state after reading ``prefix``, log P of the next token (|V|,), attention weights of that step)."""
        if prefix not in self.cache:
            s = self.memory.context if len(prefix) == 1 else self._state(prefix[:-1])[0]
            with torch.inference_mode():
                logits, s_new, w = self.model.step(torch.tensor([prefix[-1]], device=self.device), s, self.memory)
            self.calls += 1
            self.cache[prefix] = (s_new, F.log_softmax(logits[0].double(), -1), None if w is None else w[0])
        return self.cache[prefix]

    def __call__(self, prefix: tuple[int, ...]) -> Tensor:
        return self._state(tuple(prefix))[1]

    def attention(self, prefix: tuple[int, ...]) -> Tensor | None:
        """The attention weights over the source when the decoder predicts the token after ``prefix``."""
        return self._state(tuple(prefix))[2]


# ---------------------------------------------------------------- bundled weights

def half(weights: dict[str, Tensor]) -> dict[str, Tensor]:
    """Weights as float16 on the CPU (what the bundled files store)."""
    return {k: v.detach().cpu().half().clone() for k, v in weights.items()}


def pack(state: TrainState) -> dict:
    """A model as a plain dict (``torch.save``; ``torch.load(weights_only=True)``): its config, its final weights
    (float16) and those of every snapshot (``"snapshots"``: step -> weights)."""
    cfg = state.config.model
    return {"model": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__},
            "state_dict": half(state.model.state_dict()),
            "snapshots": {int(k): half(v) for k, v in state.snapshots.items()}}


def unpack(blob: dict, snapshot: int | None = None, device: torch.device | str = "cpu") -> Seq2Seq:
    """The read-only model (eval mode, float32) from :func:`pack`'s dict: its final weights, or the snapshot taken
    after ``snapshot`` steps."""
    model = make_model(ModelConfig(**blob["model"]), device)
    weights = blob["state_dict"] if snapshot is None else blob["snapshots"][snapshot]
    model.load_state_dict({k: v.float() for k, v in weights.items()})
    return model.eval()


def beam_batch(model: Seq2Seq, numbers: list[int], beam_size: int, max_len: int = MAX_TARGET + 1,
               alpha: float = 0.0, device: torch.device | str = "cpu") -> list[tuple[tuple[int, ...], float]]:
    r"""Beam search for many numbers at once: the best (tokens, score) of each, as
    :func:`dlcore.seq2seq.search.beam_search` returns it first (the fast path for test-set BLEU; tested equal).

    The k beams of every sentence run as one batch of N k rows; a slot whose beam finished (or never started)
    holds \log P = -\infty, so it adds no candidate.
    """
    src, _, _ = encode_batch(model, numbers, device)
    N, k = len(numbers), beam_size
    with torch.inference_mode():
        memory = model.encode(src)
        rep = Memory(*(x.repeat_interleave(k, 0) for x in (memory.states, memory.mask, memory.context)))
        s = rep.context                                                         # (N k, H)
        lp = torch.full((N, k), float("-inf"), dtype=torch.float64, device=device)
        lp[:, 0] = 0.0                                                          # one live beam: <bos>
        tokens = torch.full((N, k, 0), BOS, dtype=torch.long, device=device)
        y = torch.full((N * k,), BOS, device=device)
        pool: list[list[tuple[tuple[int, ...], float]]] = [[] for _ in range(N)]
        for _ in range(max_len):
            logits, s, _ = model.step(y, s, rep)
            V = logits.shape[-1]
            cand = lp[:, :, None] + F.log_softmax(logits.double(), -1).view(N, k, V)   # (N, k, V)
            top, index = cand.view(N, -1).topk(k, -1)                                    # (N, k)
            beam, y = index // V, index % V
            rows = (torch.arange(N, device=device)[:, None] * k + beam).view(-1)
            tokens = torch.cat([tokens[torch.arange(N, device=device)[:, None], beam], y[..., None]], -1)
            s = s[rows]
            ended = (y == EOS) & torch.isfinite(top)
            for i, j in ended.nonzero().tolist():
                pool[i].append((tuple(tokens[i, j].tolist()), float(top[i, j])))
            lp = top.masked_fill(ended, float("-inf"))
            y = y.view(-1)
            if not torch.isfinite(lp).any():
                break
        for i, j in torch.isfinite(lp).nonzero().tolist():
            pool[i].append((tuple(tokens[i, j].tolist()), float(lp[i, j])))
    return [max(((t, p / len(t) ** alpha) for t, p in cands), key=lambda r: r[1]) for cands in pool]


# ---------------------------------------------------------------- what the lesson shows of one translation

@dataclass
class Walkthrough:
    """One greedy translation, step by step: the encoder's states and gates, the decoder's distributions."""
    source: tuple[str, ...]
    states: Tensor            # (S, H) encoder h_s
    update: Tensor            # (S, H) encoder update gate z_s (torch's convention: z -> 1 keeps the old state)
    output: tuple[int, ...]   # greedy tokens (ending in <eos> unless cut at max_len)
    probs: Tensor             # (T, |V|) P(y_t | y_<t, x) at each step
    weights: Tensor | None    # (T, S) attention weights of each step, or None (plain model)


def walkthrough(model: Seq2Seq, src_tokens: tuple[str, ...], max_len: int = MAX_TARGET + 1,
                device: torch.device | str = "cpu") -> Walkthrough:
    """Encode ``src_tokens`` with the hand-written GRU cells of :mod:`dlcore.sequences.rnn` (the lesson on gates), then
    decode greedily, keeping every step's distribution and attention."""
    src_ids = model.src_vocab.ids(src_tokens)
    with torch.inference_mode():
        trace = rnn.gru_sequence(model.src_embed(torch.tensor(src_ids, device=device)),
                                 rnn.cell_from_layer(model.encoder))
    scorer = StepScorer(model, src_ids, device)
    prefix: tuple[int, ...] = (BOS,)
    probs, weights = [], []
    while len(prefix) == 1 or (len(prefix) <= max_len and prefix[-1] != EOS):
        lp = scorer(prefix)
        probs.append(lp.exp().float())
        w = scorer.attention(prefix)
        if w is not None:
            weights.append(w.float())
        prefix = (*prefix, int(lp.argmax()))
    return Walkthrough(tuple(src_tokens), trace.h.cpu(), trace.z.cpu(), prefix[1:], torch.stack(probs).cpu(),
                       torch.stack(weights).cpu() if weights else None)


def forced_start(model: Seq2Seq, src_tokens: tuple[str, ...], rank: int, max_len: int = MAX_TARGET + 1,
                 device: torch.device | str = "cpu") -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Exposure bias, one example: (greedy output, output when the first token is forced to the ``rank``-th most
    likely one, 1 = greedy's own, and the decoder then continues from its own outputs)."""
    if not 1 <= rank <= 5:
        raise ValueError(f"Invalid rank: {rank} (allowed 1..5)")
    scorer = StepScorer(model, model.src_vocab.ids(src_tokens), device)
    outs = []
    for r in (1, rank):
        prefix = (BOS, int(scorer((BOS,)).topk(r).indices[-1]))
        while len(prefix) <= max_len and prefix[-1] != EOS:
            prefix = (*prefix, int(scorer(prefix).argmax()))
        outs.append(prefix[1:])
    return outs[0], outs[1]


# ---------------------------------------------------------------- the decoder as a language model

def target_sequences(model: Seq2Seq, numbers: list[int]) -> list[list[int]]:
    """The target ids of ``numbers``, each ending with <eos> (what a language model of the output predicts)."""
    _, tgt = split_direction(model.config.direction)
    return [model.tgt_vocab.ids(nw.write(n, tgt)) + [EOS] for n in numbers]


@dataclass(frozen=True)
class Perplexities:
    r"""\exp(-\frac{1}{N}\sum_t \log P(y_t | \cdot)) on the test targets under four models of the next token."""
    seq2seq: float     # the decoder, given the source and the true previous tokens
    bigram: float      # P(y_t | y_{t-1}) counted on the training targets (add-one smoothing)
    unigram: float     # P(y_t) counted on the training targets (add-one smoothing)
    uniform: float     # 1 / |Y|: equals |Y|
    vocab: int         # |Y| (every token but <bos>)


def perplexities(model: Seq2Seq, device: torch.device | str = "cpu") -> Perplexities:
    r"""Perplexity \exp(\text{mean NLL}) of the test targets under the decoder and under n-gram baselines."""
    V = len(model.tgt_vocab)
    Y = V - 1

    def pairs(numbers: list[int]) -> Tensor:   # (N, 2): every (y_{t-1}, y_t) of the targets, y_0 = <bos>
        return torch.tensor([(prev, y) for seq in target_sequences(model, numbers)
                             for prev, y in zip([BOS, *seq[:-1]], seq)])

    train, test = pairs(train_numbers()), pairs(test_numbers())
    uni = torch.bincount(train[:, 1], minlength=V).double() + 1                       # add-one smoothing
    bi = torch.bincount(train[:, 0] * V + train[:, 1], minlength=V * V).double().view(V, V) + 1
    uni[BOS], bi[:, BOS] = 0, 0                               # <bos> is never predicted
    uni, bi = uni / uni.sum(), bi / bi.sum(1, keepdim=True)
    nll_uni = float(-uni[test[:, 1]].log().mean())
    nll_bi = float(-bi[test[:, 0], test[:, 1]].log().mean())
    src, tgt_in, tgt_out = encode_batch(model, test_numbers(), device)
    with torch.inference_mode():
        nll = float(sequence_loss(model(src, tgt_in).double(), tgt_out))
    return Perplexities(math.exp(nll), math.exp(nll_bi), math.exp(nll_uni), float(Y), Y)


# ---------------------------------------------------------------- teacher forcing vs free running

def train_curves(config: TrainConfig, device: torch.device | str = "cpu") -> list[tuple[int, float, float, float]]:
    """A whole (short) training run's history: (step, training loss, test accuracy, test loss) every eval."""
    return train_steps(init_training(config, device), config.steps, device).history


ENCODERS = ((False, 1), (True, 1), (False, 2), (True, 2))   # (bidirectional, layers) compared in the lesson


def encoder_accuracy(config: TrainConfig, device: torch.device | str = "cpu") -> float:
    """Test accuracy (greedy, exact) after a short training run of ``config`` (one bar of the encoder comparison)."""
    return train_steps(init_training(config, device), config.steps, device).history[-1][2]
