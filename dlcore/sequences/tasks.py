r"""Toy sequence tasks whose solutions make LSTM gates readable, the small models that solve them, and their gates.

Three tasks (seed 001, "how the forget and input gates give long and short memory"):

- **recall**: the first symbol (a-d) followed by a stretch of digits; at the end, name the first symbol.
  A solution writes the symbol into a cell once ($i\to1$), then holds it ($f\to1$, $i\to0$).
- **brackets**: a text of ``(``, ``)`` and letters; at every step, the current nesting depth. A solution
  keeps a counter in a cell: $+$ on ``(``, $-$ on ``)``, unchanged on letters.
- **adding** (Hochreiter & Schmidhuber 1997): digits, two of them marked ``*``; at every step, the sum
  of the marked values so far (the answer at the end is the adding problem's). A cell accumulates.

Models are one recurrent layer (``nn.LSTM``, ``nn.GRU`` or ``nn.RNN``) and a linear read-out at every step.
Their gates are recomputed with :mod:`dlcore.sequences.rnn`'s hand-written cells from the layer's own weights.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcore import training
from dlcore.device import generator, seeded
from dlcore.sequences import rnn

MAX_TYPED = 100              # symbols a learner may type
MAX_DEPTH = 6                # deepest nesting the bracket task knows
MARK = "*"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
MODEL_KINDS = ("lstm", "gru", "rnn_tanh")
MAX_TRAIN_STEPS = 6000       # a live retraining run
MAX_TRAIN_LEN = 60           # longest training sequence a learner may ask for
MAX_HIDDEN = 16
ADD_TOLERANCE = 0.04         # an adding answer counts as right within this (the usual threshold)
EVAL_SIZE = 512


@dataclass(frozen=True)
class Task:
    name: str
    n_in: int
    n_out: int               # classes; 1 means regression
    every_step: bool         # loss at every step (else only at the last)
    min_len: int             # training lengths are drawn from [min_len, max_len]
    steps: int               # training steps of the bundled model (and the default of a live run)
    hidden: int              # hidden units of the bundled model: few enough to read every unit's gates
    example: str             # what the page shows first


TASKS = {
    "recall": Task("recall", n_in=14, n_out=4, every_step=False, min_len=5, steps=1000, hidden=4,
                   example="c" + "3141592653589793" * 2),
    "brackets": Task("brackets", n_in=3, n_out=MAX_DEPTH + 1, every_step=True, min_len=10, steps=1500, hidden=8,
                     example="(a(b)(c(d(e)f)g)h)((i))j(k(l(m)))"),
    "adding": Task("adding", n_in=2, n_out=1, every_step=True, min_len=5, steps=5000, hidden=8,
                   example="3814*72095463*58127096431"),
}


# ---------------------------------------------------------------- the learner's typed sequence

@dataclass(frozen=True)
class Problem:
    """Why a typed sequence stops being valid: an i18n-able code, the position (0-based) and the symbol."""
    code: str      # "empty" | "too_long" | "bad_symbol" | "bad_first" | "unbalanced" | "too_deep" | "mark" | "marks"
    position: int = 0
    symbol: str = ""


def tokenize(task: str, text: str) -> tuple[list[str], Problem | None]:
    """The valid prefix of ``text`` as a list of time steps, and the first problem found (None if all valid).

    Spaces are ignored. recall: a-d, then digits. brackets: ( ) and letters, depth 0..MAX_DEPTH.
    adding: digits, a digit may be preceded by ``*`` (marked); at most two marks. Longer than
    MAX_TYPED steps: cut there.
    """
    if task not in TASKS:
        raise ValueError(f"Invalid task: {task!r} (allowed {tuple(TASKS)})")
    symbols = [ch for ch in text.lower() if not ch.isspace()]
    if not symbols:
        return [], Problem("empty")
    tokens: list[str] = []
    depth, marks, pending_mark = 0, 0, False
    for pos, ch in enumerate(symbols):
        if task == "recall":
            ok_set = "abcd" if pos == 0 else "0123456789"
            if ch not in ok_set:
                return tokens, Problem("bad_first" if pos == 0 else "bad_symbol", pos, ch)
        elif task == "brackets":
            if ch not in "()" and ch not in LETTERS:
                return tokens, Problem("bad_symbol", pos, ch)
            if ch == ")" and depth == 0:
                return tokens, Problem("unbalanced", pos, ch)
            if ch == "(" and depth == MAX_DEPTH:
                return tokens, Problem("too_deep", pos, ch)
            depth += {"(": 1, ")": -1}.get(ch, 0)
        else:
            if ch == MARK:
                if pending_mark:
                    return tokens, Problem("mark", pos, ch)
                if marks == 2:
                    return tokens, Problem("marks", pos, ch)
                pending_mark = True
                continue
            if not ch.isdigit():
                return tokens, Problem("bad_symbol", pos, ch)
            ch = MARK + ch if pending_mark else ch
            marks += pending_mark
            pending_mark = False
        if len(tokens) == MAX_TYPED:
            return tokens, Problem("too_long", pos, ch)
        tokens.append(ch)
    if pending_mark:
        return tokens, Problem("mark", len(symbols) - 1, MARK)
    return tokens, None


def encode(task: str, tokens: list[str]) -> Tensor:
    """Time steps -> model input (T, n_in). recall: one-hot of 14; brackets: one-hot of ( ) letter;
    adding: (value / 9, marked)."""
    if task == "recall":
        index = ["abcd0123456789".index(s) for s in tokens]
        return F.one_hot(torch.tensor(index, dtype=torch.long), 14).float()
    if task == "brackets":
        index = [{"(": 0, ")": 1}.get(s, 2) for s in tokens]
        return F.one_hot(torch.tensor(index, dtype=torch.long), 3).float()
    return torch.tensor([[int(s[-1]) / 9, float(s.startswith(MARK))] for s in tokens])


def targets(task: str, tokens: list[str]) -> np.ndarray:
    """The right answer at every step: recall the first symbol's index (0-3), brackets the depth,
    adding the running sum of marked values."""
    if task == "recall":
        return np.full(len(tokens), "abcd".index(tokens[0]), dtype=np.float64)
    if task == "brackets":
        return np.cumsum([{"(": 1, ")": -1}.get(s, 0) for s in tokens]).astype(np.float64)
    return np.cumsum([int(s[-1]) / 9 if s.startswith(MARK) else 0.0 for s in tokens])


# ---------------------------------------------------------------- random training data

def batch(task: str, size: int, length: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """``size`` random sequences of ``length`` steps: inputs (B, T, n_in) and targets (B, T) (recall: (B,))."""
    if task == "recall":
        first = torch.randint(0, 4, (size, 1), generator=g)
        rest = torch.randint(4, 14, (size, length - 1), generator=g)
        x = F.one_hot(torch.cat([first, rest], 1), 14).float()
        return x, first[:, 0]
    if task == "brackets":
        u = torch.rand(size, length, generator=g)
        depth = torch.zeros(size, dtype=torch.long)
        kinds, depths = [], []
        for t in range(length):
            # ( with p 0.35, ) with p 0.35, a letter otherwise; no ) at depth 0, no ( at MAX_DEPTH
            k = torch.where(u[:, t] < 0.35, 0, torch.where(u[:, t] < 0.7, 1, 2))
            k = torch.where((k == 1) & (depth == 0), 2, k)
            k = torch.where((k == 0) & (depth == MAX_DEPTH), 2, k)
            depth = depth + (k == 0).long() - (k == 1).long()
            kinds.append(k)
            depths.append(depth)
        return F.one_hot(torch.stack(kinds, 1), 3).float(), torch.stack(depths, 1)
    values = torch.randint(0, 10, (size, length), generator=g).float() / 9
    pos = torch.stack([torch.randperm(length, generator=g)[:2] for _ in range(size)])  # two distinct marks
    marked = torch.zeros(size, length).scatter_(1, pos, 1.0)
    return torch.stack([values, marked], -1), torch.cumsum(values * marked, 1)


# ---------------------------------------------------------------- models and training

class SeqModel(nn.Module):
    """One recurrent layer and a linear read-out at every step: (B, T, n_in) -> (B, T, n_out)."""

    def __init__(self, kind: str, n_in: int, hidden: int, n_out: int) -> None:
        super().__init__()
        if kind not in MODEL_KINDS:
            raise ValueError(f"Invalid model kind: {kind!r} (allowed {MODEL_KINDS})")
        self.kind = kind
        layer = {"lstm": nn.LSTM, "gru": nn.GRU}.get(kind)
        self.rnn = layer(n_in, hidden, batch_first=True) if layer else nn.RNN(n_in, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)
        return self.head(out)


@dataclass(frozen=True)
class TrainConfig:
    task: str = "recall"
    kind: str = "lstm"
    hidden: int = 8
    max_len: int = 40        # recall: the LSTM solves 40; a tanh RNN stalls beyond ~20
    lr: float = 1e-2         # Adam; with clipping at 1.0 this is stable for every task here
    batch: int = 64
    clip: float = 1.0        # gradient clipping theta
    steps: int = 1000        # length of the cosine learning-rate schedule, and the cap of one run
    target: float | None = 0.98  # stop early once the evaluation accuracy reaches this; None: run every step
    eval_every: int = 50
    forget_bias: float = 1.0  # initial LSTM b_f (Jozefowicz et al. 2015)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"Invalid task: {self.task!r} (allowed {tuple(TASKS)})")
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"Invalid model kind: {self.kind!r} (allowed {MODEL_KINDS})")
        if not 1 <= self.hidden <= MAX_HIDDEN:
            raise ValueError(f"Invalid hidden size: {self.hidden} (allowed 1..{MAX_HIDDEN})")
        if not TASKS[self.task].min_len <= self.max_len <= MAX_TRAIN_LEN:
            raise ValueError(f"Invalid max_len: {self.max_len} (allowed {TASKS[self.task].min_len}..{MAX_TRAIN_LEN} "
                             f"for {self.task})")
        if not 1 <= self.steps <= MAX_TRAIN_STEPS:
            raise ValueError(f"Invalid steps: {self.steps} (allowed 1..{MAX_TRAIN_STEPS})")

    @staticmethod
    def for_task(task: str, **changes) -> TrainConfig:
        """The bundled model's settings for ``task`` (step count, hidden size), with ``changes``."""
        return TrainConfig(**{"task": task, "steps": TASKS[task].steps, "hidden": TASKS[task].hidden, **changes})


def make_model(config: TrainConfig, device: torch.device | str = "cpu") -> SeqModel:
    task = TASKS[config.task]
    with seeded(config.seed):
        model = SeqModel(config.kind, task.n_in, config.hidden, task.n_out)
    if config.kind == "lstm":
        H = config.hidden
        with torch.no_grad():
            model.rnn.bias_ih_l0[H:2 * H] = config.forget_bias
            model.rnn.bias_hh_l0[H:2 * H] = 0.0
    return model.to(device)


def loss_fn(task: str, out: Tensor, y: Tensor) -> Tensor:
    """Cross-entropy at the last step (recall) or every step (brackets); MSE at every step (adding)."""
    if task == "recall":
        return F.cross_entropy(out[:, -1], y)
    if task == "brackets":
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    return F.mse_loss(out[..., 0], y)


def accuracy(task: str, out: Tensor, y: Tensor) -> float:
    """recall: last step right; brackets: every step right; adding: |answer - sum| < ADD_TOLERANCE at the end."""
    if task == "recall":
        return float((out[:, -1].argmax(-1) == y).float().mean())
    if task == "brackets":
        return float((out.argmax(-1) == y).float().mean())
    return float(((out[:, -1, 0] - y[:, -1]).abs() < ADD_TOLERANCE).float().mean())


def eval_set(config: TrainConfig, device: torch.device | str = "cpu") -> list[tuple[Tensor, Tensor]]:
    """A fixed evaluation set: EVAL_SIZE sequences at four lengths up to max_len (seed independent of training)."""
    g = generator(12345)
    task = TASKS[config.task]
    lengths = np.linspace(task.min_len, config.max_len, 4).round().astype(int)
    return [tuple(t.to(device) for t in batch(config.task, EVAL_SIZE // 4, int(n), g)) for n in lengths]


def evaluate(model: SeqModel, config: TrainConfig, device: torch.device | str = "cpu") -> float:
    with torch.inference_mode():
        accs = [accuracy(config.task, model(x), y) for x, y in eval_set(config, device)]
    return float(np.mean(accs))


def accuracy_at(model: SeqModel, task: str, length: int, device: torch.device | str = "cpu") -> float:
    """Accuracy on EVAL_SIZE fresh sequences of exactly ``length`` steps (the hardest length of a run)."""
    x, y = batch(task, EVAL_SIZE, length, generator(54321))
    with torch.inference_mode():
        return accuracy(task, model(x.to(device)), y.to(device))


@dataclass
class TrainState:
    """A training run in progress (kept per learner in the page's session state)."""
    config: TrainConfig
    model: SeqModel
    optimizer: torch.optim.Optimizer
    gen: torch.Generator
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None   # dlcore.training.CosineToZero
    step: int = 0
    history: list[tuple[int, float, float]] = field(default_factory=list)  # (step, loss, eval accuracy)
    last_loss: float = float("nan")
    seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        return self.history[-1][2] if self.history else 0.0

    @property
    def done(self) -> bool:
        target = self.config.target
        return self.step >= self.config.steps or (target is not None and self.accuracy >= target)


def init_training(config: TrainConfig, device: torch.device | str = "cpu") -> TrainState:
    model = make_model(config, device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    return TrainState(config, model, opt, generator(config.seed + 1), training.CosineToZero(opt, config.steps))


def train_steps(state: TrainState, n: int, device: torch.device | str = "cpu") -> TrainState:
    r"""Up to ``n`` Adam steps, evaluating every ``eval_every``; stops when done.

    Each step: a batch of one random length, the task's loss, gradient clipping at \theta = ``config.clip``,
    and the cosine learning-rate schedule \eta_k = \eta (1 + \cos(\pi k / K)) / 2 over K = ``config.steps``
    (:class:`dlcore.training.CosineToZero`; the adding task needs the late small steps to get its sums within 0.04).
    """
    cfg, task = state.config, TASKS[state.config.task]
    t0 = time.perf_counter()
    state.model.train()
    for _ in range(n):
        if state.done:
            break
        length = int(torch.randint(task.min_len, cfg.max_len + 1, (1,), generator=state.gen))
        x, y = batch(cfg.task, cfg.batch, length, state.gen)
        loss = loss_fn(cfg.task, state.model(x.to(device)), y.to(device))
        state.last_loss = training.step(state.model, state.optimizer, state.scheduler, loss, cfg.clip)
        state.step += 1
        if state.step % cfg.eval_every == 0 or state.step == cfg.steps:
            state.model.eval()
            state.history.append((state.step, state.last_loss, evaluate(state.model, cfg, device)))
            state.model.train()
    state.model.eval()
    state.seconds += time.perf_counter() - t0
    return state


# ---------------------------------------------------------------- reading the gates

@dataclass
class GateTrace:
    """A model's internals over one typed sequence: each gate / state (H, T); predictions and targets (T,)."""
    tokens: list[str]
    gates: dict[str, np.ndarray]     # lstm: i, f, g, o, c, h; gru: r, z, n, h; rnn: h
    prediction: np.ndarray           # (T,) class index or value
    confidence: np.ndarray           # (T,) probability of the predicted class (1.0 for regression)
    target: np.ndarray               # (T,)


def trace(model: SeqModel, task: str, tokens: list[str]) -> GateTrace:
    """Run the hand-written cell of :mod:`dlcore.sequences.rnn` over ``tokens`` with ``model``'s weights."""
    if not 1 <= len(tokens) <= MAX_TYPED:
        raise ValueError(f"Invalid sequence length: {len(tokens)} steps (allowed 1..{MAX_TYPED})")
    device = next(model.parameters()).device
    x = encode(task, tokens).to(device)   # (T, n_in)
    cell = rnn.cell_from_layer(model.rnn)
    with torch.inference_mode():
        if model.kind == "lstm":
            tr = rnn.lstm_sequence(x, cell)
            gates = {k: getattr(tr, k) for k in ("i", "f", "g", "o", "c", "h")}
        elif model.kind == "gru":
            tr = rnn.gru_sequence(x, cell)
            gates = {k: getattr(tr, k) for k in ("r", "z", "n", "h")}
        else:
            gates = {"h": rnn.rnn_sequence(x, cell)}
        out = model.head(gates["h"])       # (T, n_out)
    if TASKS[task].n_out == 1:
        pred, conf = out[:, 0], torch.ones(len(tokens))
    else:
        prob = out.softmax(-1)
        conf, pred = prob.max(-1)
    return GateTrace(tokens, {k: v.T.cpu().numpy() for k, v in gates.items()}, pred.float().cpu().numpy(),
                     conf.cpu().numpy(), targets(task, tokens))


def gate_summary(tr: GateTrace, units: list[int]) -> dict[str, float]:
    """Mean gate values of ``units``: input gate at the first step (i0) and after it (i), keep gate after the
    first step (keep: LSTM f, GRU z). NaN where the model has no such gate."""
    nan = float("nan")
    keep = tr.gates.get("f", tr.gates.get("z"))
    i = tr.gates.get("i")
    rest = slice(1, None)
    return {"i0": float(i[units, 0].mean()) if i is not None else nan,
            "i": float(i[units, rest].mean()) if i is not None and i.shape[1] > 1 else nan,
            "keep": float(keep[units, rest].mean()) if keep is not None and keep.shape[1] > 1 else nan}


def answer_text(task: str, value: float) -> str:
    """A prediction or target as the learner reads it: a letter, a depth, a sum."""
    if task == "recall":
        return "abcd"[int(value)]
    return f"{value:.2f}" if task == "adding" else str(int(value))


@dataclass
class UnitRoles:
    """What each hidden unit does, measured on the evaluation sequences."""
    role: list[str]            # "memory" | "counter" | "other" per unit
    score: np.ndarray          # (H,) recall: share of the final state's variance explained by the first symbol;
                               # brackets / adding: |correlation| of the state with depth / running sum
    keep: np.ndarray           # (H,) mean keep gate (LSTM f, GRU z) after the first step; NaN for a plain RNN


MEMORY_SCORE = 0.5
COUNTER_SCORE = 0.9


def unit_roles(model: SeqModel, config: TrainConfig) -> UnitRoles:
    """Tag units as memories (recall: the final state separates the first symbols, eta^2 >= MEMORY_SCORE)
    or counters (|corr(state, depth or running sum)| >= COUNTER_SCORE). The state is C for an LSTM, h otherwise."""
    device = next(model.parameters()).device
    x, y = eval_set(config, device)[-1]
    cell = rnn.cell_from_layer(model.rnn)
    xs = x.transpose(0, 1)   # (T, B, n_in)
    with torch.inference_mode():
        if model.kind == "lstm":
            tr = rnn.lstm_sequence(xs, cell)
            state, keep = tr.c, tr.f
        elif model.kind == "gru":
            tr = rnn.gru_sequence(xs, cell)
            state, keep = tr.h, tr.z
        else:
            state, keep = rnn.rnn_sequence(xs, cell), None
    state = state.double().cpu()                     # (T, B, H)
    H = state.shape[-1]
    keep_mean = keep[1:].double().mean((0, 1)).cpu().numpy() if keep is not None else np.full(H, np.nan)
    if config.task == "recall":
        final = state[-1]                            # (B, H)
        total = ((final - final.mean(0)) ** 2).sum(0)
        within = sum(((final[y.cpu() == k] - final[y.cpu() == k].mean(0)) ** 2).sum(0) for k in range(4))
        score = (1 - within / total.clamp_min(1e-12)).numpy()
        role = ["memory" if s >= MEMORY_SCORE else "other" for s in score]
    else:
        quantity = y.transpose(0, 1).double().cpu()  # (T, B)
        s = state.reshape(-1, H)
        q = quantity.reshape(-1, 1)
        sc, qc = s - s.mean(0), q - q.mean(0)
        score = ((sc * qc).sum(0) / (sc.norm(dim=0) * qc.norm(dim=0)).clamp_min(1e-12)).abs().numpy()
        role = ["counter" if v >= COUNTER_SCORE else "other" for v in score]
    return UnitRoles(role, score, keep_mean)


def featured(roles: UnitRoles, n: int = 3) -> list[int]:
    """The units worth showing: the first ``n`` with a role, or else the one with the highest score."""
    return [k for k, r in enumerate(roles.role) if r != "other"][:n] or [int(np.argmax(roles.score))]


# ---------------------------------------------------------------- bundled weights

def pack(state: TrainState) -> dict:
    """A trained model as a plain dict (``torch.save`` / ``torch.load(weights_only=True)``)."""
    cfg = state.config
    return {"config": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__},
            "state_dict": {k: v.detach().cpu().clone() for k, v in state.model.state_dict().items()},
            "steps": state.step, "accuracy": state.accuracy}


def unpack(blob: dict, device: torch.device | str = "cpu") -> tuple[SeqModel, TrainConfig]:
    """The read-only model (eval mode) and its config from :func:`pack`'s dict."""
    config = TrainConfig(**blob["config"])
    model = make_model(config, device)
    model.load_state_dict(blob["state_dict"])
    return model.eval(), config
