r"""Activation functions, weight initialization, and what both do to a signal sent through a deep net.

Definitions follow ``torch.nn.functional``; derivatives come from autograd. The deep-signal
experiment is the one in the course notes (seed 001 "梯度消失与梯度爆炸", seed 003 §6 "参数初始化"):
a stack of $L$ fully connected layers $z_l = a_{l-1} W_l^\top$, $a_l = f(z_l)$ fed a standard-normal
batch, with the backward signal $\delta_l = (\delta_{l+1} W_{l+1}) \odot f'(z_l)$ of a fixed loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

if TYPE_CHECKING:     # pandas is imported where a table is made: a training worker imports this module
    import pandas as pd  # for its activations and initialisers only, and pandas would add ~65 MB to it

SATURATION = 0.05        # a unit is saturated where f'(z) < 5% of the activation's largest f'
MAX_DEPTH = 50
MAX_WIDTH = 512
MAX_BATCH = 256
HIST_BINS = 60
MAX_POINTS = 5001          # grid points of one drawn curve
MAX_RIDGES = 10           # layers drawn in the distribution view


@dataclass(frozen=True)
class Activation:
    name: str                                   # as in torch.nn.functional ("leaky_relu")
    fn: Callable[[Tensor, float], Tensor]       # f(x, slope); slope only matters for leaky_relu / prelu
    formula: str                                # plain-text definition shown in the table
    uses_slope: bool = False


def _prelu(x: Tensor, slope: float) -> Tensor:
    # PReLU learns its slope; here it is one shared parameter initialised to `slope`
    return F.prelu(x, torch.full((1,), slope, dtype=x.dtype, device=x.device))


ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (
    Activation("sigmoid", lambda x, s: torch.sigmoid(x), "1 / (1 + e^(−x))"),
    Activation("tanh", lambda x, s: torch.tanh(x), "(e^x − e^(−x)) / (e^x + e^(−x))"),
    Activation("relu", lambda x, s: F.relu(x), "max(0, x)"),
    Activation("leaky_relu", lambda x, s: F.leaky_relu(x, s), "max(0, x) + α·min(0, x)", uses_slope=True),
    Activation("prelu", _prelu, "max(0, x) + a·min(0, x), a learned", uses_slope=True),
    Activation("elu", lambda x, s: F.elu(x), "x if x > 0 else e^x − 1"),
    Activation("selu", lambda x, s: F.selu(x), "1.0507·(x if x > 0 else 1.6733·(e^x − 1))"),
    Activation("celu", lambda x, s: F.celu(x), "max(0, x) + min(0, e^x − 1)"),
    Activation("gelu", lambda x, s: F.gelu(x), "x·Φ(x)"),
    Activation("silu", lambda x, s: F.silu(x), "x·sigmoid(x)  (Swish)"),
    Activation("mish", lambda x, s: F.mish(x), "x·tanh(softplus(x))"),
    Activation("softplus", lambda x, s: F.softplus(x), "ln(1 + e^x)"),
    Activation("softsign", lambda x, s: F.softsign(x), "x / (1 + |x|)"),
    Activation("hardsigmoid", lambda x, s: F.hardsigmoid(x), "min(max(x/6 + 1/2, 0), 1)"),
    Activation("hardtanh", lambda x, s: F.hardtanh(x), "min(max(x, −1), 1)"),
    Activation("hardswish", lambda x, s: F.hardswish(x), "x·hardsigmoid(x)"),
    Activation("relu6", lambda x, s: F.relu6(x), "min(max(x, 0), 6)"),
    Activation("identity", lambda x, s: x, "x  (no activation: the net stays linear)"),
)}


def relevant_slope(names: Iterable[str], slope: float, default: float = 0.01) -> float:
    """``slope`` if one of the activations ``names`` uses it (Leaky ReLU, PReLU), else ``default``: the others
    ignore it, so a cache keyed on the result computes one experiment for every slope."""
    return slope if any(ACTIVATIONS[n].uses_slope for n in names) else default


def activate(name: str, x: Tensor, slope: float = 0.01) -> Tensor:
    """f(x) for the activation ``name`` of :data:`ACTIVATIONS`; ``slope`` is Leaky ReLU's / PReLU's α."""
    if name not in ACTIVATIONS:
        raise ValueError(f"Invalid activation: {name!r} (allowed: {', '.join(ACTIVATIONS)})")
    return ACTIVATIONS[name].fn(x, slope)


def derivative(name: str, z: Tensor, slope: float = 0.01) -> Tensor:
    r"""f'(z) elementwise, by autograd: the gradient of $\sum_i f(z_i)$ with respect to $z$.

    Where f has a kink (ReLU at 0) autograd returns PyTorch's one-sided choice (0 for ReLU).
    """
    z = z.detach().requires_grad_(True)
    with torch.enable_grad():
        (dz,) = torch.autograd.grad(activate(name, z, slope).sum(), z)
    return dz


@dataclass(frozen=True)
class Curve:
    x: np.ndarray          # (P,)
    y: np.ndarray          # f(x)
    dy: np.ndarray         # f'(x), autograd
    saturated: np.ndarray  # (P,) bool: f'(x) < 5% of max f'
    max_derivative: float


def curve(name: str, lo: float = -6.0, hi: float = 6.0, points: int = 601, slope: float = 0.01) -> Curve:
    """f and f' on an even grid of ``points`` values in [lo, hi], with the saturated points marked."""
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"Invalid grid: [{lo}, {hi}] (allowed: finite lo < hi)")
    if not 2 <= points <= MAX_POINTS:
        raise ValueError(f"Invalid number of points: {points} (allowed 2 to {MAX_POINTS})")
    x = torch.linspace(lo, hi, points, dtype=torch.float64)
    y = activate(name, x, slope)
    dy = derivative(name, x, slope)
    peak = max_derivative(name, slope)
    return Curve(x.numpy(), y.detach().numpy(), dy.numpy(), (dy.abs() < SATURATION * peak).numpy(), peak)


@lru_cache(maxsize=128)
def max_derivative(name: str, slope: float = 0.01) -> float:
    r"""$\max_x |f'(x)|$ over $x\in[-20, 20]$ (fine grid, float64): 1/4 for sigmoid, 1 for tanh and ReLU."""
    x = torch.linspace(-20.0, 20.0, 40001, dtype=torch.float64)
    return float(derivative(name, x, slope).abs().max())


@dataclass(frozen=True)
class Properties:
    name: str
    formula: str
    lower: float           # inf f (numerically, out to x = -1e6); -inf when unbounded below
    upper: float
    mean_normal: float     # E f(z) for z ~ N(0, 1)
    var_normal: float      # Var f(z) for z ~ N(0, 1)
    zero_centred: bool     # |E f(z)| < 0.05 for z ~ N(0, 1)
    monotonic: bool        # f' >= 0 everywhere
    saturates: str         # "none", "left", "right" or "both": f' -> below 5% of max f' as x -> -inf / +inf
    zero_gradient: bool    # f' is exactly 0 on some interval (units there get no gradient at all)
    max_derivative: float
    argmax_derivative: float
    derivative_at_0: float


@lru_cache(maxsize=128)
def properties(name: str, slope: float = 0.01) -> Properties:
    """The property table row of one activation, measured numerically (float64, autograd)."""
    x = torch.linspace(-20.0, 20.0, 40001, dtype=torch.float64)
    y, dy = activate(name, x, slope), derivative(name, x, slope)
    y_far = activate(name, torch.tensor([-1e6, -1e4, 1e4, 1e6], dtype=torch.float64), slope)
    lower = min(float(y.min()), float(y_far[0]))
    upper = max(float(y.max()), float(y_far[3]))
    unbounded_below = float(y_far[0]) < float(y_far[1]) - 1.0     # still falling far out: no floor
    unbounded_above = float(y_far[3]) > float(y_far[2]) + 1.0
    # E f(z), Var f(z) for z ~ N(0,1): trapezoid rule on [-12, 12] (the tails beyond weigh < 1e-30)
    z = torch.linspace(-12.0, 12.0, 24001, dtype=torch.float64)
    phi = torch.exp(-z**2 / 2) / math.sqrt(2 * math.pi)
    fz = activate(name, z, slope)
    mean = float(torch.trapezoid(fz * phi, z))
    var = float(torch.trapezoid((fz - mean) ** 2 * phi, z))
    peak = float(dy.abs().max())
    edge = derivative(name, torch.tensor([-50.0, 50.0], dtype=torch.float64), slope).abs() < SATURATION * peak
    sides = {(False, False): "none", (True, False): "left", (False, True): "right", (True, True): "both"}
    run_of_zeros = (dy[:-1] == 0) & (dy[1:] == 0)
    return Properties(
        name=name, formula=ACTIVATIONS[name].formula,
        lower=-math.inf if unbounded_below else lower, upper=math.inf if unbounded_above else upper,
        mean_normal=mean, var_normal=var, zero_centred=abs(mean) < 0.05,
        monotonic=bool((dy >= -1e-12).all()), saturates=sides[(bool(edge[0]), bool(edge[1]))],
        zero_gradient=bool(run_of_zeros.any()), max_derivative=peak,
        argmax_derivative=float(x[dy.abs().argmax()]),
        derivative_at_0=float(derivative(name, torch.zeros(1, dtype=torch.float64), slope)[0]),
    )


def property_table(slope: float = 0.01) -> pd.DataFrame:
    """One :class:`Properties` row per activation in :data:`ACTIVATIONS`."""
    import pandas as pd

    return pd.DataFrame([properties(name, slope).__dict__ for name in ACTIVATIONS])


# ---- initialization ---------------------------------------------------------------------------

INITS = ("zeros", "constant", "normal", "uniform", "xavier_uniform", "xavier_normal", "kaiming_uniform",
         "kaiming_normal", "lecun_uniform", "lecun_normal", "orthogonal")
SCALED_INITS = ("constant", "normal", "uniform")   # take a number: constant_<c>, normal_<sigma>, uniform_<a>
MAX_INIT_SCALE = 10.0


def parse_init(init: str) -> tuple[str, float]:
    """``"normal_0.01"`` -> ``("normal", 0.01)``; ``"xavier_normal"`` -> ``("xavier_normal", nan)``."""
    kind, _, number = init.rpartition("_") if init.split("_")[0] in SCALED_INITS else (init, "", "")
    if kind in SCALED_INITS:
        try:
            value = float(number)
        except ValueError as e:
            raise ValueError(f"Invalid init: {init!r} ({number!r} is not a number)") from e
        if not (math.isfinite(value) and 0 <= value <= MAX_INIT_SCALE):
            raise ValueError(f"Invalid init scale: {value} in {init!r} (allowed 0 to {MAX_INIT_SCALE:g})")
        return kind, value
    if init not in INITS or init in SCALED_INITS:
        raise ValueError(f"Invalid init: {init!r} (allowed: {', '.join(i for i in INITS if i not in SCALED_INITS)}, "
                         f"or {', '.join(f'{i}_<number>' for i in SCALED_INITS)})")
    return init, math.nan


def init_weight_(w: Tensor, init: str, generator: torch.Generator | None = None) -> Tensor:
    r"""Fill the (fan_out, fan_in) matrix ``w`` in place with ``torch.nn.init``.

    Variances: Xavier $2/(n_{in}+n_{out})$ (Glorot & Bengio 2010); Kaiming $2/n_{in}$ (He et al. 2015,
    for ReLU); LeCun $1/n_{in}$ (LeCun et al. 1998, ``kaiming_*`` with the "linear" gain);
    ``normal_<sigma>`` is $N(0,\sigma^2)$, ``uniform_<a>`` is $U(-a, a)$, ``constant_<c>`` sets every weight to $c$.
    """
    kind, value = parse_init(init)
    g = generator
    with torch.no_grad():
        if kind == "zeros":
            return torch.nn.init.zeros_(w)
        if kind == "constant":
            return torch.nn.init.constant_(w, value)
        if kind == "normal":
            return torch.nn.init.normal_(w, 0.0, value, generator=g)
        if kind == "uniform":
            return torch.nn.init.uniform_(w, -value, value, generator=g)
        if kind.startswith("xavier"):
            fill = torch.nn.init.xavier_uniform_ if kind.endswith("uniform") else torch.nn.init.xavier_normal_
            return fill(w, gain=1.0, generator=g)
        if kind.startswith(("kaiming", "lecun")):
            fill = torch.nn.init.kaiming_uniform_ if kind.endswith("uniform") else torch.nn.init.kaiming_normal_
            gain = "relu" if kind.startswith("kaiming") else "linear"
            return fill(w, mode="fan_in", nonlinearity=gain, generator=g)
        return torch.nn.init.orthogonal_(w, gain=1.0, generator=g)


def init_variance(init: str, fan_in: int, fan_out: int) -> float:
    """The variance of one weight under ``init`` (the published formulas; orthogonal: 1/fan_in for a square matrix)."""
    kind, value = parse_init(init)
    return {"zeros": 0.0, "constant": 0.0, "normal": value**2, "uniform": value**2 / 3,
            "xavier_uniform": 2 / (fan_in + fan_out), "xavier_normal": 2 / (fan_in + fan_out),
            "kaiming_uniform": 2 / fan_in, "kaiming_normal": 2 / fan_in,
            "lecun_uniform": 1 / fan_in, "lecun_normal": 1 / fan_in,
            "orthogonal": 1 / max(fan_in, fan_out)}[kind]


# ---- a signal through a deep network ------------------------------------------------------------

@dataclass(frozen=True)
class SignalConfig:
    depth: int = 20              # hidden layers L
    width: int = 256             # units per layer n
    activation: str = "tanh"
    init: str = "xavier_normal"
    batch: int = 256             # B standard-normal inputs
    batchnorm: bool = False      # BatchNorm (batch statistics, gamma=1, beta=0) between W and f
    slope: float = 0.01          # Leaky ReLU / PReLU alpha
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.depth <= MAX_DEPTH:
            raise ValueError(f"Invalid depth: {self.depth} (allowed 1 to {MAX_DEPTH})")
        if not 1 <= self.width <= MAX_WIDTH:
            raise ValueError(f"Invalid width: {self.width} (allowed 1 to {MAX_WIDTH})")
        if not 2 <= self.batch <= MAX_BATCH:
            raise ValueError(f"Invalid batch: {self.batch} (allowed 2 to {MAX_BATCH})")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"Invalid activation: {self.activation!r} (allowed: {', '.join(ACTIVATIONS)})")
        if not 0.0 <= self.slope <= 1.0:
            raise ValueError(f"Invalid slope: {self.slope} (allowed 0 to 1)")
        parse_init(self.init)


@dataclass(frozen=True)
class Signal:
    stats: pd.DataFrame       # one row per hidden layer, see deep_signal
    layers: np.ndarray        # (R,) the layers whose histograms are kept, see ridge_layers
    edges: np.ndarray         # (HIST_BINS + 1,) shared histogram bin edges of a_l
    hist: np.ndarray          # (R, HIST_BINS) fraction of a_l's values in each bin
    outside: np.ndarray       # (R,) fraction of a_l's values beyond the edges or not finite
    max_derivative: float     # max |f'|, the per-layer factor in the chain-rule bound
    first_nonfinite: int | None   # first layer (1-based) with inf / NaN activations, None if all finite


def _edges(name: str, acts: list[Tensor], slope: float) -> Tensor:
    """Bin edges shared by every layer: the activation's range if bounded, else the pooled 1%-99% quantiles."""
    p = properties(name, slope)
    if math.isfinite(p.lower) and math.isfinite(p.upper):
        lo, hi = p.lower, p.upper
    else:
        step = max(1, acts[0].numel() * len(acts) // 20000)    # ~20k values are plenty for two quantiles
        pooled = torch.cat([a.flatten()[::step] for a in acts])
        pooled = pooled[torch.isfinite(pooled)].double()
        if pooled.numel() == 0:
            lo, hi = -1.0, 1.0
        else:
            lo, hi = float(pooled.quantile(0.01)), float(pooled.quantile(0.99))
            lo = p.lower if math.isfinite(p.lower) else lo
    if not hi > lo:
        hi = lo + 1.0   # every value equal (zero init): any bin width will do
    pad = (hi - lo) * 0.05
    return torch.linspace(lo - pad, hi + pad, HIST_BINS + 1, dtype=torch.float64)


def histogram(v: Tensor, lo: float, hi: float, bins: int) -> Tensor:
    """Share of ``v``'s values in each of ``bins`` equal bins on [lo, hi] (float64, sums to <= 1).

    The same binning as ``torch.histc`` - bin ``floor((v - lo) * bins / (hi - lo))``, ``hi`` itself in the
    last bin, values outside [lo, hi] and NaN not counted - by one ``bincount``: ~6x faster on the CPU.
    """
    flat = v.detach().flatten()
    pos = ((flat - lo) * (bins / (hi - lo))).floor_().clamp_(0, bins - 1)
    inside = (flat >= lo) & (flat <= hi)                      # False for NaN
    idx = torch.where(inside, pos, bins).long()               # outside / NaN -> an extra bin, dropped
    return torch.bincount(idx, minlength=bins + 1)[:bins].double() / max(1, flat.numel())


def deep_signal(config: SignalConfig, device: torch.device | str = "cpu") -> Signal:
    r"""Send a standard-normal batch through ``depth`` layers and backpropagate a fixed loss.

    Forward: $a_0 = x \sim N(0, I)$, $z_l = a_{l-1} W_l^\top$ (then BatchNorm if asked),
    $a_l = f(z_l)$, for $l = 1..L$; every $W_l$ is $n\times n$, drawn by ``init`` (biases are zero).
    Loss: $\mathcal{L} = \frac1B \sum_b u_b^\top a_L^{(b)}$ with fixed random directions $u_b\sim N(0, I)$ (one
    per input, like a target), so the backward signal starts at the same size whatever the forward pass did.
    Backward: $\delta_l = \partial\mathcal{L}/\partial z_l = (\delta_{l+1} W_{l+1}) \odot f'(z_l)$ and
    $\partial\mathcal{L}/\partial W_l = \delta_l^\top a_{l-1}$; without BatchNorm each layer multiplies
    $\|\delta\|$ by at most $\|W_{l+1}\|_2 \max|f'|$ — for sigmoid $\max f' = 1/4$.

    Columns of ``stats``: layer (1 = first hidden layer), act_mean, act_std (of $a_l$), saturated_frac (share of
    $f'(z_l)$ below 5% of $\max|f'|$), dead_frac (share of the $n$ units whose $f'$ is exactly 0 on every input
    of the batch), grad_norm ($\|\partial\mathcal{L}/\partial W_l\|_F$), pre_std (of $z_l$), delta_norm
    ($\|\delta_l\|_F$). Overflow stays visible as inf / NaN; it never raises.
    The lab runs :func:`deep_signal_fast`, the same numbers with fewer passes (tested equal to this one).
    """
    c = config
    g = torch.Generator(device=device).manual_seed(int(c.seed))
    x = torch.randn(c.batch, c.width, generator=g, device=device)     # a_0, (B, n)
    u = torch.randn(c.batch, c.width, generator=g, device=device)     # the loss directions u_b, (B, n)
    linears = [nn.utils.skip_init(nn.Linear, c.width, c.width, bias=False, device=device) for _ in range(c.depth)]
    for linear in linears:
        init_weight_(linear.weight, c.init, g)
    norm = nn.BatchNorm1d(c.width, affine=False, track_running_stats=False, device=device) if c.batchnorm \
        else nn.Identity()                                              # batch statistics, gamma = 1, beta = 0
    # 1) forward: z_l = a_{l-1} W_l^T (normalised), a_l = f(z_l)
    a, zs, acts = x, [], []
    for linear in linears:
        z = norm(linear(a))                                             # (B, n)
        z.retain_grad()                                                 # keep delta_l = dL/dz_l
        a = activate(c.activation, z, c.slope)
        zs.append(z)
        acts.append(a.detach())
    # 2) backward of L = (1/B) sum_b u_b . a_L: fills z_l.grad and W_l.grad
    loss = (a * u).sum(dim=1).mean()
    loss.backward()
    # 3) per-layer statistics (float64: squares of 1e-30 or 1e30 stay representable)
    peak = max_derivative(c.activation, c.slope)
    rows = []
    for i, (linear, z, act) in enumerate(zip(linears, zs, acts)):
        d = derivative(c.activation, z, c.slope).abs()                 # |f'(z_l)|, (B, n)
        rows.append({
            "layer": i + 1, "act_mean": float(act.double().mean()), "act_std": float(act.double().std()),
            "saturated_frac": float((d < SATURATION * peak).double().mean()),
            "dead_frac": float((d == 0).all(dim=0).double().mean()),     # f' = 0 on every input of the batch
            "grad_norm": float(linear.weight.grad.double().norm()),     # ||dL/dW_l||_F
            "pre_std": float(z.detach().double().std()), "delta_norm": float(z.grad.double().norm()),
        })
    return _signal(c, rows, acts, peak)


def _signal(c: SignalConfig, rows: list[dict], acts: list[Tensor], peak: float) -> Signal:
    """The :class:`Signal` of the per-layer ``rows`` and activations ``acts``: the table (f' shares of layers that
    overflowed set to NaN) and the histograms of the drawn layers on shared edges."""
    import pandas as pd

    stats = pd.DataFrame(rows)
    overflowed = ~np.isfinite(stats["pre_std"].to_numpy())
    stats.loc[overflowed, ["saturated_frac", "dead_frac"]] = np.nan   # f'(inf / NaN) says nothing
    nonfinite = [row["layer"] for row in rows if not math.isfinite(row["act_std"])]  # std is inf / NaN iff some a is
    edges = _edges(c.activation, acts, c.slope)
    layers = ridge_layers(c.depth)
    hist = torch.stack([histogram(acts[layer - 1], float(edges[0]), float(edges[-1]), HIST_BINS) for layer in layers])
    outside = (1.0 - hist.sum(dim=1)).clamp_(0.0, 1.0)
    return Signal(stats=stats, layers=np.array(layers), edges=edges.numpy(), hist=hist.cpu().numpy(),
                  outside=outside.cpu().numpy(), max_derivative=peak,
                  first_nonfinite=nonfinite[0] if nonfinite else None)


def deep_signal_fast(config: SignalConfig, device: torch.device | str = "cpu") -> Signal:
    """Fast path of :func:`deep_signal` for the lab: the same experiment and the same numbers
    (``tests/unit/test_activations.py`` checks them equal), in fewer passes and less memory.

    What it does differently: f'(z_l) comes from each layer's own activation node of the forward graph (no second
    forward through f), reduced to its two shares at once so only one layer's f' is held at a time; autograd
    returns dL/dz_l (and, under BatchNorm, dL/dm_l for m_l = a_{l-1} W_l^T) instead of the weight gradients,
    which are formed one layer at a time, so the L of them are never all held at once.
    """
    c = config
    g = torch.Generator(device=device).manual_seed(int(c.seed))
    x = torch.randn(c.batch, c.width, generator=g, device=device)
    u = torch.randn(c.batch, c.width, generator=g, device=device)
    weights = [init_weight_(torch.empty(c.width, c.width, device=device), c.init, g).requires_grad_(True)
               for _ in range(c.depth)]
    # 1) forward, keeping z_l and a_l (and, under BatchNorm, the product m_l = a_{l-1} W_l^T it normalises)
    a, zs, ms, outs, acts = x, [], [], [], []
    for w in weights:
        m = a @ w.T                                             # (B, n)
        z = F.batch_norm(m, None, None, training=True, eps=1e-5) if c.batchnorm else m
        a = activate(c.activation, z, c.slope)
        zs.append(z)
        ms.append(m)
        outs.append(a)
        acts.append(a.detach())
    # 2) f'(z_l) through each layer's own activation node, reduced to its two shares at once
    peak = max_derivative(c.activation, c.slope)
    ones = torch.ones_like(x)
    shares = []
    for o, z in zip(outs, zs):
        d = (torch.autograd.grad(o, z, ones, retain_graph=True)[0] if o is not z else ones).abs()
        shares.append((int(torch.count_nonzero(d < SATURATION * peak)) / d.numel(),
                       int(torch.count_nonzero(d.amax(dim=0) == 0)) / d.shape[1]))   # f' = 0 on every input
        del d
    # 3) the backward of the fixed loss: dL/dz_l (and dL/dm_l); dL/dW_l = (dL/dm_l)^T a_{l-1} below
    loss = (a * u).sum(dim=1).mean()
    grads = torch.autograd.grad(loss, zs + ms if c.batchnorm else zs)
    z_grads = grads[: c.depth]
    m_grads = grads[c.depth:] if c.batchnorm else z_grads
    # 4) per-layer statistics (float64 where a square could leave float32's range)
    f64 = torch.float64
    rows = []
    for i, (z, act, gz, gm, (saturated, dead)) in enumerate(zip(zs, acts, z_grads, m_grads, shares)):
        z = z.detach()
        v = act.double()
        mean, std = v.mean(), v.std()         # two plain passes beat torch.std_mean on the CPU
        gw = (x if i == 0 else acts[i - 1]).T @ gm          # (dL/dW_l)^T, the product autograd computes
        rows.append({
            "layer": i + 1, "act_mean": float(mean), "act_std": float(std),
            "saturated_frac": saturated, "dead_frac": dead,
            "grad_norm": float(torch.linalg.vector_norm(gw, dtype=f64)),
            "pre_std": float(z.double().std()), "delta_norm": float(torch.linalg.vector_norm(gz, dtype=f64)),
        })
    return _signal(c, rows, acts, peak)


def deep_net_stats(depth: int, width: int, activation: str, init: str, batch: int, seed: int,
                   *, batchnorm: bool = False, slope: float = 0.01, device: torch.device | str = "cpu") -> pd.DataFrame:
    """Per-layer statistics of :func:`deep_signal` (computed by its fast path): layer, act_mean, act_std,
    saturated_frac, dead_frac, grad_norm (and pre_std, delta_norm), one row per hidden layer, first row = first
    hidden layer."""
    config = SignalConfig(depth=depth, width=width, activation=activation, init=init, batch=batch,
                          batchnorm=batchnorm, slope=slope, seed=seed)
    return deep_signal_fast(config, device).stats


def ridge_layers(depth: int, most: int = MAX_RIDGES) -> list[int]:
    """Up to ``most`` layers (1-based), evenly spread, always the first and the last."""
    if depth <= most:
        return list(range(1, depth + 1))
    return sorted({int(round(v)) for v in np.linspace(1, depth, most)})


def activation_bound(max_derivative: float, depth: int) -> np.ndarray:
    r"""$(\max|f'|)^{L-l}$ for $l = 1..L$: how much the activations alone can shrink (or grow) the
    gradient between the last layer and layer $l$ — $4^{-(L-l)}$ for sigmoid (weights multiply on top)."""
    return max_derivative ** (depth - np.arange(1, depth + 1, dtype=np.float64))


def backward_ratio(stats: pd.DataFrame) -> float:
    r"""$\|\delta_1\| / \|\delta_L\|$ with $\delta_l = \partial\mathcal{L}/\partial z_l$: how much the backward pass
    shrinks (far below 1: vanishing gradient) or grows (far above 1: exploding gradient) the gradient on its way
    from the last hidden layer back to the first. NaN where $\|\delta_L\|$ is 0 or not finite.

    Not the ratio of the weight gradients: $\partial\mathcal{L}/\partial W_l = \delta_l^\top a_{l-1}$ also carries the
    forward signal, and when $a_{l-1}$ grows toward the input as fast as $\delta_l$ shrinks (tiny tanh weights)
    the weight gradients are level across the layers although every one of them is tiny.
    """
    first, last = float(stats["delta_norm"].iloc[0]), float(stats["delta_norm"].iloc[-1])
    return first / last if math.isfinite(last) and last > 0 else math.nan
