r"""Recurrent cells written out gate by gate (RNN, LSTM, GRU) and the gradient that flows back through them.

The equations are the course notes' (seed 001 "LSTM" / "GRU", d2l 9.x in seed 004), written with
PyTorch's own weights so every step can be checked against ``torch.nn``:

$$i_t=\sigma(W_{ii}x_t+b_{ii}+W_{hi}h_{t-1}+b_{hi}),\quad f_t=\sigma(\dots),\quad
\tilde C_t = g_t=\tanh(\dots),\quad o_t=\sigma(\dots)$$
$$C_t = f_t\odot C_{t-1} + i_t\odot g_t,\qquad h_t = o_t\odot\tanh(C_t).$$

torch packs the four gates' rows in the order i, f, g, o (``weight_ih`` is ``(4H, D)``); the GRU's
in the order r, z, n. :func:`gradient_flow` measures $\|\partial L/\partial h_t\|$ for every step $t$
of one sequence by autograd (backpropagation through time), the quantity whose product of Jacobians
vanishes or explodes in a plain RNN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcore.device import generator, seeded

KINDS = ("rnn_tanh", "rnn_relu", "gru", "lstm")
INITS = ("default", "identity")   # "identity": W_hh = radius * I, the notes' trick for ReLU RNNs
MAX_HIDDEN_STEP = 4               # hidden units in the step-through
MAX_FLOW_LEN = 200                # sequence length of the gradient-flow experiment
MAX_FLOW_HIDDEN = 64
FLOW_INPUT = 4                    # input size of the gradient-flow experiment
STATE_LIMIT = 5.0                 # |x|, |h_{t-1}|, |C_{t-1}| a learner may type into the step-through
BIAS_LIMIT = 6.0                  # |keep-gate bias| and the hand-set weights' scale


# ---------------------------------------------------------------- one step of each cell

@dataclass
class LSTMStep:
    """Everything one LSTM step computes. Shapes (..., H); ``pre`` is (..., 4H) in torch's order i, f, g, o."""
    i: Tensor    # input gate
    f: Tensor    # forget gate
    g: Tensor    # candidate cell state \tilde C_t
    o: Tensor    # output gate
    c: Tensor    # new cell state C_t
    h: Tensor    # new hidden state h_t
    pre: Tensor  # gate pre-activations before sigma / tanh


@dataclass
class GRUStep:
    """One GRU step. Shapes (..., H); ``pre`` is (..., 3H) in torch's order r, z, n (n's includes r's gating)."""
    r: Tensor    # reset gate
    z: Tensor    # update gate (torch: the weight of the *old* state)
    n: Tensor    # candidate hidden state \tilde h_t
    h: Tensor    # new hidden state h_t
    pre: Tensor


def _affine(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    return F.linear(x, weight, bias)


def lstm_step(x: Tensor, h: Tensor, c: Tensor, cell: nn.LSTMCell) -> LSTMStep:
    r"""One LSTM step with ``cell``'s weights, gate by gate.

    a = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh} = [a_i; a_f; a_g; a_o]
    i = \sigma(a_i),  f = \sigma(a_f),  g = \tilde C_t = \tanh(a_g),  o = \sigma(a_o)
    C_t = f \odot C_{t-1} + i \odot g,   h_t = o \odot \tanh(C_t)

    x: x_t (..., D); h: h_{t-1} (..., H); c: C_{t-1} (..., H). Same result as ``cell(x, (h, c))``.
    The notes write one matrix W_f acting on the concatenation [h_{t-1}, x_t]; torch splits it into
    W_{if} (acting on x) and W_{hf} (acting on h) and keeps two biases, whose sum is the notes' b_f.
    """
    H = cell.hidden_size
    pre = _affine(x, cell.weight_ih, cell.bias_ih) + _affine(h, cell.weight_hh, cell.bias_hh)  # (..., 4H)
    a_i, a_f, a_g, a_o = pre.split(H, dim=-1)
    i, f, g, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
    c_new = f * c + i * g             # the additive memory path
    h_new = o * torch.tanh(c_new)
    return LSTMStep(i=i, f=f, g=g, o=o, c=c_new, h=h_new, pre=pre)


def gru_step(x: Tensor, h: Tensor, cell: nn.GRUCell) -> GRUStep:
    r"""One GRU step with ``cell``'s weights, gate by gate (torch's convention).

    r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}),   z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz})
    n = \tilde h_t = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn}))
    h_t = (1 - z) \odot n + z \odot h_{t-1}

    x: x_t (..., D); h: h_{t-1} (..., H). Same result as ``cell(x, h)``.
    .. note:: the notes (after Cho et al.) write h_t = (1 - z) h_{t-1} + z \tilde h_t and apply r to
       h_{t-1} *before* the matrix; torch lets z weight the old state (as d2l does) and applies r after W_{hn}.
       z's sense is flipped (here z -> 1 keeps the memory), and the candidate differs whenever r_t != 1:
       :func:`gru_candidate_reset_before` computes the notes' version.
    """
    H = cell.hidden_size
    gx = _affine(x, cell.weight_ih, cell.bias_ih)   # (..., 3H)
    gh = _affine(h, cell.weight_hh, cell.bias_hh)   # (..., 3H)
    xr, xz, xn = gx.split(H, dim=-1)
    hr, hz, hn = gh.split(H, dim=-1)
    r = torch.sigmoid(xr + hr)
    z = torch.sigmoid(xz + hz)
    a_n = xn + r * hn
    n = torch.tanh(a_n)
    h_new = (1 - z) * n + z * h
    return GRUStep(r=r, z=z, n=n, h=h_new, pre=torch.cat([xr + hr, xz + hz, a_n], dim=-1))


def gru_candidate_reset_before(x: Tensor, h: Tensor, r: Tensor, cell: nn.GRUCell) -> Tensor:
    r"""The notes' GRU candidate, with the reset gate applied *before* the matrix product.

    \tilde h_t = \tanh(W_h [r_t \odot h_{t-1}, x_t]) = \tanh(W_{in} x_t + b_{in} + W_{hn} (r_t \odot h_{t-1}) + b_{hn})

    x: x_t (..., D); h: h_{t-1} (..., H); r: r_t (..., H); ``cell``'s n rows supply W_{in}, W_{hn}, b_{in}, b_{hn}
    (the notes' W_h split the way torch stores it; the notes have no biases).
    .. note:: :func:`gru_step` follows torch (``nn.GRUCell``, cuDNN): r_t \odot (W_{hn} h_{t-1} + b_{hn}), the reset
       gate *after* the product. The two agree when r_t = 1 and differ in general otherwise.
    """
    H = cell.hidden_size
    w_in, w_hn = cell.weight_ih[2 * H:], cell.weight_hh[2 * H:]
    b_in = None if cell.bias_ih is None else cell.bias_ih[2 * H:]
    b_hn = None if cell.bias_hh is None else cell.bias_hh[2 * H:]
    return torch.tanh(_affine(x, w_in, b_in) + _affine(r * h, w_hn, b_hn))


def rnn_step(x: Tensor, h: Tensor, cell: nn.RNNCell) -> Tensor:
    r"""One step of a plain (Elman) RNN: h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}).

    \phi is tanh or ReLU (``cell.nonlinearity``). The notes write h_t = f(U h_{t-1} + W x_t + b): U is
    torch's W_{hh}, W is W_{ih}. Same result as ``cell(x, h)``.
    """
    a = _affine(x, cell.weight_ih, cell.bias_ih) + _affine(h, cell.weight_hh, cell.bias_hh)
    return torch.tanh(a) if cell.nonlinearity == "tanh" else torch.relu(a)


# ---------------------------------------------------------------- whole sequences

@dataclass
class LSTMTrace:
    """Every gate and state of an LSTM over a sequence: each (T, ..., H)."""
    i: Tensor
    f: Tensor
    g: Tensor
    o: Tensor
    c: Tensor
    h: Tensor


@dataclass
class GRUTrace:
    """Every gate and state of a GRU over a sequence: each (T, ..., H)."""
    r: Tensor
    z: Tensor
    n: Tensor
    h: Tensor


def lstm_sequence(xs: Tensor, cell: nn.LSTMCell, h0: Tensor | None = None, c0: Tensor | None = None) -> LSTMTrace:
    """Run :func:`lstm_step` over ``xs`` (T, ..., D) from (h0, c0) (zeros if None); same h as ``nn.LSTM``."""
    shape = (*xs.shape[1:-1], cell.hidden_size)
    h = torch.zeros(shape, dtype=xs.dtype, device=xs.device) if h0 is None else h0
    c = torch.zeros(shape, dtype=xs.dtype, device=xs.device) if c0 is None else c0
    steps = []
    for x in xs:
        s = lstm_step(x, h, c, cell)
        h, c = s.h, s.c
        steps.append(s)
    return LSTMTrace(*(torch.stack([getattr(s, k) for s in steps]) for k in ("i", "f", "g", "o", "c", "h")))


def gru_sequence(xs: Tensor, cell: nn.GRUCell, h0: Tensor | None = None) -> GRUTrace:
    """Run :func:`gru_step` over ``xs`` (T, ..., D) from h0 (zeros if None); same h as ``nn.GRU``."""
    h = torch.zeros((*xs.shape[1:-1], cell.hidden_size), dtype=xs.dtype, device=xs.device) if h0 is None else h0
    steps = []
    for x in xs:
        s = gru_step(x, h, cell)
        h = s.h
        steps.append(s)
    return GRUTrace(*(torch.stack([getattr(s, k) for s in steps]) for k in ("r", "z", "n", "h")))


def rnn_sequence(xs: Tensor, cell: nn.RNNCell, h0: Tensor | None = None) -> Tensor:
    """Run :func:`rnn_step` over ``xs`` (T, ..., D); returns h (T, ..., H), same as ``nn.RNN``."""
    h = torch.zeros((*xs.shape[1:-1], cell.hidden_size), dtype=xs.dtype, device=xs.device) if h0 is None else h0
    out = []
    for x in xs:
        h = rnn_step(x, h, cell)
        out.append(h)
    return torch.stack(out)


def cell_from_layer(layer: nn.RNNBase) -> nn.Module:
    """The first layer of an ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` as the matching cell, sharing its weights."""
    assert layer.num_layers == 1 and not layer.bidirectional, "only single-layer, one-direction layers"
    D, H, bias = layer.input_size, layer.hidden_size, layer.bias
    if isinstance(layer, nn.LSTM):
        assert layer.proj_size == 0, "projected LSTMs are not covered"
        cell: nn.Module = nn.LSTMCell(D, H, bias=bias)
    elif isinstance(layer, nn.GRU):
        cell = nn.GRUCell(D, H, bias=bias)
    else:
        cell = nn.RNNCell(D, H, bias=bias, nonlinearity=layer.nonlinearity)
    cell = cell.to(device=layer.weight_ih_l0.device, dtype=layer.weight_ih_l0.dtype)
    cell.weight_ih = layer.weight_ih_l0
    cell.weight_hh = layer.weight_hh_l0
    cell.bias_ih = layer.bias_ih_l0 if bias else None
    cell.bias_hh = layer.bias_hh_l0 if bias else None
    return cell


# ---------------------------------------------------------------- the step-through lab

WEIGHT_PRESETS = ("random", "latch")
MEMORY_STEPS = 20   # steps of zero input after the shown step, to watch the memory fade or stay


@dataclass(frozen=True)
class CellConfig:
    """The step-through: one cell, one step, everything set by the learner."""
    kind: str = "lstm"               # "lstm" or "gru"
    hidden: int = 2
    x: float = 1.0                   # x_t (input size 1, so it is one slider)
    h: tuple[float, ...] = (0.5, -0.5)
    c: tuple[float, ...] = (1.0, -1.0)
    weights: str = "latch"           # "latch": hand-set so each gate has one job; "random": torch's init
    keep_bias: float = 3.0           # LSTM b_f, GRU b_z: +3 keeps the memory, -3 drops it
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("lstm", "gru"):
            raise ValueError(f"Invalid cell kind: {self.kind!r} (allowed 'lstm', 'gru')")
        if not 1 <= self.hidden <= MAX_HIDDEN_STEP:
            raise ValueError(f"Invalid hidden size: {self.hidden} (allowed 1..{MAX_HIDDEN_STEP})")
        if len(self.h) != self.hidden or len(self.c) != self.hidden:
            raise ValueError(f"Invalid state length: h has {len(self.h)}, c has {len(self.c)} values "
                             f"(allowed one per unit: {self.hidden})")
        if not all(abs(v) <= STATE_LIMIT for v in (self.x, *self.h, *self.c)):   # NaN fails too
            raise ValueError(f"Invalid input or state: x={self.x}, h={self.h}, c={self.c} "
                             f"(allowed |value| <= {STATE_LIMIT})")
        if not abs(self.keep_bias) <= BIAS_LIMIT:
            raise ValueError(f"Invalid keep bias: {self.keep_bias} (allowed -{BIAS_LIMIT}..{BIAS_LIMIT})")
        if self.weights not in WEIGHT_PRESETS:
            raise ValueError(f"Invalid weights: {self.weights!r} (allowed {WEIGHT_PRESETS})")


LATCH_SIGN = (1.0, -1.0, 0.5, -0.5)  # unit k stores LATCH_SIGN[k] * tanh(2x): different units, different copies


def make_cell(config: CellConfig, device: torch.device | str = "cpu") -> nn.Module:
    """The cell of the step-through, input size 1.

    "random": torch's own initialisation U(-1/sqrt(H), 1/sqrt(H)) under ``config.seed``.
    "latch": recurrent weights 0 and each gate driven by x alone: the input gate opens (and the LSTM's
    forget gate closes) when x > 0.5, the candidate is +-tanh(2x), the output gate is open.
    In both, the keep gate's bias (LSTM: b_f = b_{if} + b_{hf}; GRU: b_z) is set to ``keep_bias``.
    """
    H = config.hidden
    with seeded(config.seed):
        cell = nn.LSTMCell(1, H) if config.kind == "lstm" else nn.GRUCell(1, H)
    cell = cell.to(device)
    w_ih, w_hh, b_ih, b_hh = cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh
    sign = torch.tensor(LATCH_SIGN[:H], device=device)
    keep = slice(H, 2 * H)  # LSTM rows of f; GRU rows of z
    with torch.no_grad():
        if config.weights == "latch":
            w_hh.zero_()
            b_hh.zero_()
            w_ih.zero_()
            b_ih.zero_()
            if config.kind == "lstm":
                w_ih[0:H, 0], b_ih[0:H] = 6.0, -3.0            # i: open when x > 0.5
                w_ih[H:2 * H, 0] = -6.0                        # f: close when writing
                w_ih[2 * H:3 * H, 0] = 2.0 * sign              # g = +-tanh(2x)
                b_ih[3 * H:4 * H] = 3.0                        # o: open
            else:
                b_ih[0:H] = 3.0                                # r: open
                w_ih[H:2 * H, 0] = -6.0                        # z: let the candidate in when x > 0.5
                w_ih[2 * H:3 * H, 0] = 2.0 * sign              # n = +-tanh(2x)
        b_ih[keep] += config.keep_bias - (b_ih[keep] + b_hh[keep])  # b_ih + b_hh = keep_bias on the keep rows
    return cell


@dataclass
class StepResult:
    """The step-through: the step's values (each (H,)) and the memory over MEMORY_STEPS steps of zero input."""
    values: dict[str, np.ndarray]   # lstm: x, h_prev, c_prev, i, f, g, o, c, h, pre; gru: x, h_prev, r, z, n, h, pre
    memory: np.ndarray               # (MEMORY_STEPS + 1, H): C_t (LSTM) or h_t (GRU), starting with this step's


def step_through(config: CellConfig, device: torch.device | str = "cpu") -> StepResult:
    """One step of the configured cell from (h_{t-1}, C_{t-1}), then MEMORY_STEPS steps with x = 0."""
    cell = make_cell(config, device)
    x = torch.tensor([config.x], device=device)
    h = torch.tensor(config.h, device=device)
    zero = torch.zeros(1, device=device)
    with torch.inference_mode():
        if config.kind == "lstm":
            c = torch.tensor(config.c, device=device)
            s = lstm_step(x, h, c, cell)
            values = {"x": x, "h_prev": h, "c_prev": c, "i": s.i, "f": s.f, "g": s.g, "o": s.o, "c": s.c,
                      "h": s.h, "pre": s.pre}
            trace = lstm_sequence(zero.expand(MEMORY_STEPS, 1), cell, s.h, s.c)
            memory = torch.cat([s.c[None], trace.c])
        else:
            s = gru_step(x, h, cell)
            values = {"x": x, "h_prev": h, "r": s.r, "z": s.z, "n": s.n, "h": s.h, "pre": s.pre}
            trace = gru_sequence(zero.expand(MEMORY_STEPS, 1), cell, s.h)
            memory = torch.cat([s.h[None], trace.h])
    return StepResult({k: v.cpu().numpy() for k, v in values.items()}, memory.cpu().numpy())


def keep_share(keep_bias: float) -> float:
    r"""The keep gate's value \sigma(b) when only its bias b acts (LSTM f, GRU z; x = 0 and h-weights 0)."""
    return float(1 / (1 + np.exp(-keep_bias)))


def closed_form_memory(keep_bias: float, start: np.ndarray, steps: int = MEMORY_STEPS) -> np.ndarray:
    r"""The "latch" cell's memory under zero input in closed form: m_t = \sigma(b)^t m_0, t = 0..steps.

    With the latch weights and x = 0 nothing is written (LSTM: g = tanh(0) = 0; GRU: n = 0), so only the
    keep gate acts. keep_bias: b; start: m_0 (H,), this step's C_t (LSTM) or h_t (GRU). Returns (steps + 1, H).
    """
    return keep_share(keep_bias) ** np.arange(steps + 1)[:, None] * start


def parse_vector(text: str, n: int, limit: float = STATE_LIMIT) -> tuple[float, ...]:
    """``"0.5, -1"`` -> one float per unit; a single number is used for every unit.

    Raises ValueError("count" | "number" | "range") so the page can say what is wrong.
    """
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    if len(parts) not in (1, n):
        raise ValueError("count")
    try:
        values = [float(p) for p in parts]
    except ValueError as e:
        raise ValueError("number") from e
    if not all(np.isfinite(v) and abs(v) <= limit for v in values):
        raise ValueError("range")
    return tuple(values * n if len(values) == 1 else values)


# ---------------------------------------------------------------- gradient flow (BPTT)

@dataclass(frozen=True)
class FlowConfig:
    """The gradient-flow experiment: every kind on the same random input sequence."""
    seq_len: int = 60
    hidden: int = 16
    radius: float = 1.0      # spectral radius of the RNNs' W_hh (rescaled); 1.0 = edge of vanishing / exploding
    init: str = "default"    # RNN W_hh: "default" (torch's uniform init, rescaled) or "identity" (radius * I)
    keep_bias: float = 1.0   # LSTM b_f and GRU b_z: 1.0 is the usual LSTM forget-bias init (Jozefowicz et al. 2015)
    clip: float = 1.0        # gradient-clipping threshold theta on ||grad_params||
    seed: int = 0

    def __post_init__(self) -> None:
        if not 2 <= self.seq_len <= MAX_FLOW_LEN:
            raise ValueError(f"Invalid sequence length: {self.seq_len} (allowed 2..{MAX_FLOW_LEN})")
        if not 1 <= self.hidden <= MAX_FLOW_HIDDEN:
            raise ValueError(f"Invalid hidden size: {self.hidden} (allowed 1..{MAX_FLOW_HIDDEN})")
        if not 0.0 < self.radius <= 2.0:
            raise ValueError(f"Invalid spectral radius: {self.radius} (allowed (0, 2])")
        if self.init not in INITS:
            raise ValueError(f"Invalid init: {self.init!r} (allowed {INITS})")
        if not abs(self.keep_bias) <= BIAS_LIMIT:
            raise ValueError(f"Invalid keep bias: {self.keep_bias} (allowed -{BIAS_LIMIT}..{BIAS_LIMIT})")
        if not self.clip > 0:
            raise ValueError(f"Invalid clipping threshold: {self.clip} (allowed > 0)")


def spectral_radius(w: Tensor) -> float:
    """max |eigenvalue| of a square matrix."""
    return float(torch.linalg.eigvals(w.double()).abs().max())


def make_flow_cell(kind: str, input_size: int, hidden: int, seed: int, *, radius: float = 1.0,
                   init: str = "default", keep_bias: float = 1.0, device: torch.device | str = "cpu") -> nn.Module:
    """A freshly initialised cell of ``kind`` for the gradient-flow experiment.

    RNNs: W_hh is torch's init rescaled to spectral radius ``radius``, or ``radius * I`` for init
    "identity" (with zero biases, as in Le et al. 2015). LSTM / GRU: torch's init, with the keep
    gate's bias (b_f / b_z) set to ``keep_bias``.
    """
    if kind not in KINDS:
        raise ValueError(f"Invalid cell kind: {kind!r} (allowed {KINDS})")
    with seeded(seed):
        if kind == "lstm":
            cell: nn.Module = nn.LSTMCell(input_size, hidden)
        elif kind == "gru":
            cell = nn.GRUCell(input_size, hidden)
        else:
            cell = nn.RNNCell(input_size, hidden, nonlinearity=kind.removeprefix("rnn_"))
    cell = cell.to(device)
    with torch.no_grad():
        if kind.startswith("rnn"):
            if init == "identity":
                cell.weight_hh.copy_(radius * torch.eye(hidden, device=device))
                cell.bias_ih.zero_()
                cell.bias_hh.zero_()
            else:
                cell.weight_hh.mul_(radius / spectral_radius(cell.weight_hh.cpu()))
        else:
            keep = slice(hidden, 2 * hidden)
            cell.bias_ih[keep] = keep_bias
            cell.bias_hh[keep] = 0.0
    return cell


@dataclass
class FlowResult:
    """Per-step gradient norms of one kind, and the parameter gradient before and after clipping."""
    norms: np.ndarray        # (T,) ||dL/dh_t||, index 0 = first step
    param_norm: float        # ||dL/dtheta|| over all the cell's parameters
    clipped_norm: float      # the same after clipping at theta


def state_gradients(cell: nn.Module, xs: Tensor, readout: Tensor) -> tuple[Tensor, float]:
    r"""BPTT on L = v^\top h_T: the norm of \partial L / \partial h_t for every t, and ||\partial L/\partial\theta||.

    cell: an ``nn.LSTMCell`` / ``nn.GRUCell`` / ``nn.RNNCell``; xs: (T, D); readout: v (H,).
    \partial L/\partial h_t is the total derivative through every later step (for the LSTM it includes the
    path through the cell state C). Parameter grads are left in ``cell``'s ``.grad`` for clipping.
    """
    cell.zero_grad(set_to_none=True)
    H = cell.hidden_size
    h = torch.zeros(H, device=xs.device, dtype=xs.dtype)
    c = torch.zeros_like(h)
    hs = []
    for x in xs:
        if isinstance(cell, nn.LSTMCell):
            s = lstm_step(x, h, c, cell)
            h, c = s.h, s.c
        elif isinstance(cell, nn.GRUCell):
            h = gru_step(x, h, cell).h
        else:
            h = rnn_step(x, h, cell)
        h.retain_grad()
        hs.append(h)
    loss = readout @ h
    loss.backward()
    norms = torch.stack([t.grad.norm() for t in hs]).detach()
    param_norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in cell.parameters()))
    return norms, float(param_norm)


def clip_grad_norm(params: list[Tensor], max_norm: float) -> float:
    r"""Gradient clipping (seed 004): g \leftarrow \min(1, \theta / \|g\|)\, g over all params together.

    Returns the norm before clipping; same rule as ``torch.nn.utils.clip_grad_norm_`` (which adds 1e-6
    to the denominator).
    """
    grads = [p.grad for p in params if p.grad is not None]
    total = torch.sqrt(sum((g.double() ** 2).sum() for g in grads))
    scale = min(1.0, max_norm / (float(total) + 1e-6))
    for g in grads:
        g.mul_(scale)
    return float(total)


def _flow_inputs(seq_len: int, seed: int, device: torch.device | str) -> tuple[Tensor, Tensor]:
    g = generator(seed + 1, device)
    return torch.rand(seq_len, FLOW_INPUT, generator=g, device=device), g  # U(0, 1), like pixel intensities


def flow(kind: str, config: FlowConfig, device: torch.device | str = "cpu") -> FlowResult:
    """Gradient norms per step for one kind under ``config`` (same inputs and readout for every kind)."""
    xs, g = _flow_inputs(config.seq_len, config.seed, device)
    readout = torch.randn(config.hidden, generator=g, device=device)
    readout = readout / readout.norm()
    cell = make_flow_cell(kind, FLOW_INPUT, config.hidden, config.seed, radius=config.radius, init=config.init,
                          keep_bias=config.keep_bias, device=device)
    cell, xs, readout = cell.double(), xs.double(), readout.double()  # float64: norms down to ~1e-300 stay visible
    norms, param_norm = state_gradients(cell, xs, readout)
    clip_grad_norm(list(cell.parameters()), config.clip)
    clipped = float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in cell.parameters())))
    return FlowResult(norms.cpu().numpy(), param_norm, clipped)


def gradient_flow(kind: str, seq_len: int, hidden: int, seed: int, **options) -> np.ndarray:
    r"""\|\partial L/\partial h_t\| for t = 1..T (index 0 = first step) of a fresh ``kind`` cell on random inputs.

    kind: "rnn_tanh" | "rnn_relu" | "gru" | "lstm"; L = v^\top h_T with a fixed unit vector v.
    ``options`` are the other :class:`FlowConfig` fields (radius, init, keep_bias, clip).
    """
    return flow(kind, FlowConfig(seq_len=seq_len, hidden=hidden, seed=seed, **options)).norms
