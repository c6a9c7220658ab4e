r"""The normalization lab's experiments on real data: a batch of conv activations checked against ``torch.nn``,
how BN's statistics depend on batch size, running statistics that lag, padded sequences, and gamma / beta.

Every function takes a frozen config (or plain values), computes with :mod:`dlcore.normalization.layers` and returns
a small dataclass of numpy arrays; seed 001 ("BN": test-time statistics, "LN": BN's weak points), seed 004 (LN in the
Transformer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcore import data
from dlcore.device import generator
from dlcore.normalization import layers as norm

MAX_CUBE = (8, 12, 16)      # largest (N, C, H*W) of the axes view
MAX_BATCH = 256             # largest batch any experiment draws
MAX_REPEATS = 200           # batches drawn per batch size in the noise experiment
MAX_DRIFT_STEPS = 300
MAX_SEQS, MAX_SEQ_LEN, MAX_FEATURES, MAX_EXTRA_PAD = 8, 16, 8, 24
CONV_CHANNELS = 8           # channels of the fixed conv layer whose activations the lab normalizes
LAYERS = ("conv", "fc")     # a conv layer has 8 x 8 positions per image and channel; a fully-connected one has 1


def _check_channel(channel: int) -> None:
    if not 0 <= channel < CONV_CHANNELS:
        raise ValueError(f"Invalid channel: {channel} (allowed 0 to {CONV_CHANNELS - 1})")


# ---------------------------------------------------------------- a real batch: conv activations of digits

@lru_cache(maxsize=4)
def _activation_pool(split: str, seed: int) -> Tensor:
    """Every digit of ``split`` through one fixed random 3x3 conv layer: (N, 8, 8, 8) on the CPU."""
    x, _ = data.digits(split)
    g = generator(seed)
    w = torch.randn(CONV_CHANNELS, 1, 3, 3, generator=g) * 0.5
    b = torch.randn(CONV_CHANNELS, generator=g)        # channels get different means: what BN's columns show
    return F.conv2d(x, w, b, padding=1)


@lru_cache(maxsize=4)
def _fc_pool(split: str, seed: int) -> Tensor:
    """Every digit of ``split`` through one fixed random fully-connected layer 64 -> 8: (N, 8), one value per
    feature."""
    x, _ = data.digits(split)
    g = generator(seed + 1)
    w = torch.randn(64, CONV_CHANNELS, generator=g) / 4
    return x.reshape(len(x), 64) @ w + torch.randn(CONV_CHANNELS, generator=g)


def _pool(layer: str, split: str, seed: int) -> Tensor:
    """Activations of the fixed "conv" (N, 8, 8, 8) or "fc" (N, 8) layer on every digit of ``split``."""
    if layer not in LAYERS:
        raise ValueError(f"Invalid layer: {layer!r} (allowed: {', '.join(LAYERS)})")
    return _activation_pool(split, seed) if layer == "conv" else _fc_pool(split, seed)


def conv_activations(n: int, seed: int = 0, shift: float = 0.0, split: str = "train",
                     device: torch.device | str = "cpu") -> Tensor:
    """``n`` random digits (chosen by ``seed``) through a fixed random conv layer, plus ``shift``: (n, 8, 8, 8).

    ``shift`` adds a constant to every activation: a hard input with a large mean and a small spread.
    """
    pool = _activation_pool(split, seed)
    if not 1 <= n <= min(MAX_BATCH, len(pool)):
        raise ValueError(f"Invalid batch size: {n} (allowed 1 to {min(MAX_BATCH, len(pool))})")
    idx = torch.randperm(len(pool), generator=generator(seed))[:n]
    return (pool[idx] + shift).to(device)


@dataclass(frozen=True)
class CheckRow:
    kind: str           # "batch", "layer", "instance", "group"
    mode: str           # "train" or "eval"
    torch_name: str     # the torch module or functional compared with
    max_abs_diff: float  # max |ours - torch| over every output element
    max_mean: float     # largest |mean| of x_hat over the sets (should be ~0)
    std_lo: float       # smallest and largest std of x_hat over the sets (should be ~1)
    std_hi: float
    sets: int           # how many (mean, variance) pairs were computed


def compare_with_torch(x: Tensor, groups: int, momentum: float = 0.1, steps: int = 20, seed: int = 0) -> list[CheckRow]:
    r"""Our four normalizations on x (N, C, H, W) next to ``torch.nn``'s, with the same random $\gamma, \beta$.

    Eval mode: ``steps`` training batches (x plus noise) update our running statistics and an
    ``nn.BatchNorm2d``'s, then both normalize x with them.
    """
    N, C, H, W = x.shape
    g = generator(seed, x.device)
    gamma = 1 + 0.5 * torch.randn(C, generator=g, device=x.device)
    beta = torch.randn(C, generator=g, device=x.device)
    rows: list[CheckRow] = []

    def row(kind: str, mode: str, name: str, ours: Tensor, ref: Tensor, x_hat: Tensor | None) -> None:
        """x_hat: our output without gamma / beta, whose per-set mean and std are reported (None in eval mode,
        where the batch's own statistics are not used)."""
        nan = float("nan")
        m = norm.moments(kind, x_hat, groups, eps=0.0) if x_hat is not None else None
        rows.append(CheckRow(kind, mode, name, float((ours - ref).abs().max()),
                             float(m.mean.abs().max()) if m else nan, float(m.std.min()) if m else nan,
                             float(m.std.max()) if m else nan, norm.set_count(kind, tuple(x.shape), groups)))

    with torch.no_grad():
        bn = nn.BatchNorm2d(C, momentum=momentum).to(x.device)
        bn.weight.copy_(gamma)
        bn.bias.copy_(beta)
        row("batch", "train", "nn.BatchNorm2d", norm.batch_norm(x, gamma, beta), bn(x), norm.batch_norm(x))
        rm, rv = torch.zeros(C, device=x.device), torch.ones(C, device=x.device)
        bn.reset_running_stats()
        for _ in range(steps):
            xb = x + 0.1 * x.std() * torch.randn(x.shape, generator=g, device=x.device)
            rm, rv = norm.update_running_stats(xb, rm, rv, momentum)
            bn(xb)
        bn.eval()
        row("batch", "eval", "nn.BatchNorm2d.eval()", norm.batch_norm_eval(x, rm, rv, gamma, beta), bn(x), None)
        ln = nn.LayerNorm([C, H, W]).to(x.device)
        gl, bl = gamma[:, None, None].expand(C, H, W).contiguous(), beta[:, None, None].expand(C, H, W).contiguous()
        ln.weight.copy_(gl)
        ln.bias.copy_(bl)
        row("layer", "train", "nn.LayerNorm([C, H, W])", norm.layer_norm(x, (C, H, W), gl, bl), ln(x),
            norm.layer_norm(x, (C, H, W)))
        inn = nn.InstanceNorm2d(C, affine=True).to(x.device)
        inn.weight.copy_(gamma)
        inn.bias.copy_(beta)
        row("instance", "train", "nn.InstanceNorm2d", norm.instance_norm(x, gamma, beta), inn(x), norm.instance_norm(x))
        gn = nn.GroupNorm(groups, C).to(x.device)
        gn.weight.copy_(gamma)
        gn.bias.copy_(beta)
        row("group", "train", f"nn.GroupNorm({groups}, {C})", norm.group_norm(x, groups, gamma, beta), gn(x),
            norm.group_norm(x, groups))
    return rows


@dataclass(frozen=True)
class BatchOfOne:
    conv_bn_minus_in: float   # max |BN - IN| for one image through a conv layer: the same operation
    fc_error: str             # what our batch_norm says for one sample of a fully-connected layer
    torch_error: str          # what torch says


def batch_of_one(seed: int = 0) -> BatchOfOne:
    """Batch norm with a batch of one: on conv activations it is instance norm; on (1, C) it is refused."""
    x = conv_activations(1, seed)
    diff = float((norm.batch_norm(x) - norm.instance_norm(x)).abs().max())
    fc = x.mean(dim=(2, 3))                                         # (1, C): one sample, C features
    errors = []
    for fn in (lambda: norm.batch_norm(fc), lambda: F.batch_norm(fc, None, None, training=True)):
        try:
            fn()
            errors.append("")
        except (ValueError, RuntimeError) as e:
            errors.append(str(e))
    return BatchOfOne(diff, errors[0], errors[1])


# ---------------------------------------------------------------- batch size: how noisy are BN's statistics?

@dataclass(frozen=True)
class NoiseConfig:
    batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    repeats: int = 60          # random batches per size: enough for a stable spread, cheap at every size
    layer: str = "fc"          # "conv": 64 values per image and channel; "fc": one
    channel: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= len(self.batch_sizes) <= 10:
            raise ValueError(f"Invalid batch sizes: {self.batch_sizes} (allowed: 1 to 10 of them)")
        if not all(1 <= b <= MAX_BATCH for b in self.batch_sizes):
            raise ValueError(f"Invalid batch sizes: {self.batch_sizes} (allowed 1 to {MAX_BATCH} each)")
        if not 2 <= self.repeats <= MAX_REPEATS:
            raise ValueError(f"Invalid repeats: {self.repeats} (allowed 2 to {MAX_REPEATS})")
        if self.layer not in LAYERS:
            raise ValueError(f"Invalid layer: {self.layer!r} (allowed: {', '.join(LAYERS)})")
        _check_channel(self.channel)


@dataclass(frozen=True)
class BatchNoise:
    batch_sizes: np.ndarray       # (S,)
    batch_means: np.ndarray       # (S, R) mean of the channel that BN computes in R random batches of each size
    batch_stds: np.ndarray        # (S, R) the matching standard deviations
    population_mean: float        # over every training image: what the running mean estimates
    population_std: float
    predicted_spread: np.ndarray  # (S,) std of one image's mean / sqrt(batch size): the spread to expect
    bn_deviation: np.ndarray      # (S,) RMS change of one fixed image's BN output, across its batches (NaN: refused)
    ln_deviation: np.ndarray      # (S,) the same for layer norm (0: it never looks at batch-mates)


def batch_noise(config: NoiseConfig, device: torch.device | str = "cpu") -> BatchNoise:
    r"""How BN's batch mean wanders as the batch shrinks, and what that does to one image's output.

    For each size B: R batches drawn with replacement from the training activations give R batch means
    $\mu_B$; their spread is $\mathrm{std}(\bar x_{\text{image}})/\sqrt{B}$ in expectation. Then one fixed test
    image joins R random groups of B - 1 batch-mates: its BN output is compared with the output under the
    population statistics, and its LN output with LN of the image alone. A batch of one in a
    fully-connected layer has a single value per feature: BN refuses it (NaN).
    """
    pool = _pool(config.layer, "train", config.seed).to(device)               # (P, C, *)
    probe_all = _pool(config.layer, "test", config.seed)[:1].to(device)       # (1, C, *)
    A = pool[:, config.channel].reshape(len(pool), -1)                       # (P, M) M values per image
    probe = probe_all[0, config.channel].reshape(-1)                         # (M,)
    mu, var = A.mean(), ((A - A.mean()) ** 2).mean()
    ref = (probe - mu) / torch.sqrt(var + norm.EPS)
    ln_alone = norm.layer_norm(probe_all, tuple(probe_all.shape[1:]))
    g = generator(config.seed, device)
    R = config.repeats
    means, stds, bn_dev, ln_dev = [], [], [], []
    for B in config.batch_sizes:
        xb = A[torch.randint(len(A), (R, B), generator=g, device=device)]        # (R, B, M)
        m = xb.mean(dim=(1, 2))
        means.append(m)
        stds.append(((xb - m[:, None, None]) ** 2).mean(dim=(1, 2)).sqrt())
        mates = A[torch.randint(len(A), (R, B - 1), generator=g, device=device)]
        with_probe = torch.cat([probe.expand(R, 1, -1), mates], dim=1)           # (R, B, M), the probe first
        pm = with_probe.mean(dim=(1, 2), keepdim=True)
        pv = ((with_probe - pm) ** 2).mean(dim=(1, 2), keepdim=True)
        out = (with_probe[:, 0] - pm[:, 0]) / torch.sqrt(pv[:, 0] + norm.EPS)         # (R, M)
        refused = B * A.shape[1] <= 1
        bn_dev.append(torch.tensor(float("nan")) if refused else ((out - ref) ** 2).mean().sqrt().cpu())
        worst = 0.0
        for _ in range(min(R, 8)):                                              # LN of the whole batch, 8 batches
            idx = torch.randint(len(pool), (B - 1,), generator=g, device=device)
            batch = torch.cat([probe_all, pool[idx]])
            worst = max(worst, float((norm.layer_norm(batch, tuple(batch.shape[1:]))[0] - ln_alone[0]).abs().max()))
        ln_dev.append(worst)
    sizes = np.asarray(config.batch_sizes)
    image_means = A.mean(dim=1)
    return BatchNoise(sizes, torch.stack(means).cpu().numpy(), torch.stack(stds).cpu().numpy(), float(mu),
                      float(var.sqrt()), float(image_means.std(correction=0)) / np.sqrt(sizes),
                      torch.stack(bn_dev).numpy(), np.asarray(ln_dev))


# ---------------------------------------------------------------- train vs eval: running statistics that lag

@dataclass(frozen=True)
class DriftConfig:
    momentum: float = 0.1      # torch's default: the new batch's weight in the running average
    batch: int = 16
    steps: int = 150
    drift_until: int = 60      # the layer's output moves for this many steps (as weights learn), then stays
    channel: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.momentum <= 1:
            raise ValueError(f"Invalid momentum: {self.momentum} (allowed above 0, at most 1)")
        if not 2 <= self.batch <= MAX_BATCH:
            raise ValueError(f"Invalid batch: {self.batch} (allowed 2 to {MAX_BATCH})")
        if not 1 <= self.steps <= MAX_DRIFT_STEPS:
            raise ValueError(f"Invalid steps: {self.steps} (allowed 1 to {MAX_DRIFT_STEPS})")
        if not 0 <= self.drift_until <= MAX_DRIFT_STEPS:
            raise ValueError(f"Invalid drift_until: {self.drift_until} (allowed 0 to {MAX_DRIFT_STEPS})")
        _check_channel(self.channel)


@dataclass(frozen=True)
class Drift:
    step: np.ndarray          # (T,) 1..steps
    batch_mean: np.ndarray    # (T,) mean of each training batch (what train mode uses)
    running_mean: np.ndarray  # (T,) running mean after the step (what eval mode uses)
    true_mean: np.ndarray     # (T,) mean of the layer's output over the whole data at that step
    batch_var: np.ndarray
    running_var: np.ndarray
    true_var: np.ndarray
    mismatch: np.ndarray      # (T,) RMS of eval-mode minus train-mode output on held-out images


def drift_scale_shift(step: int, drift_until: int, std0: float) -> tuple[float, float]:
    r"""Spread factor s and rise b of the layer's output at ``step``: from (1, 0) to (2.5, 3 std0), then fixed.

    The output at ``step`` is $\mu_0 + s (a - \mu_0) + b$: its mean rises by b and its spread grows s-fold.
    """
    u = 1.0 if drift_until == 0 else min(step / drift_until, 1.0)
    return 1.0 + 1.5 * u, 3.0 * std0 * u


def train_eval_drift(config: DriftConfig, device: torch.device | str = "cpu") -> Drift:
    r"""BN's running statistics chasing a layer whose output moves during training.

    Step t draws a batch of the (drifting) activations $a_t = \mu_0 + s_t (a - \mu_0) + b_t$, normalizes it with its own
    $\mu_B, \sigma_B^2$ (train mode) and updates $\hat\mu, \hat\sigma^2$ with
    :func:`dlcore.normalization.layers.update_running_stats`, starting from torch's (0, 1). The mismatch is what
    eval mode would change on held-out images:
    RMS of $\frac{a-\hat\mu}{\sqrt{\hat\sigma^2+\epsilon}} - \frac{a-\mu_t}{\sqrt{\sigma_t^2+\epsilon}}$.
    """
    A = _activation_pool("train", config.seed)[:, config.channel:config.channel + 1].to(device)  # (P, 1, H, W)
    held = _activation_pool("test", config.seed)[:64, config.channel:config.channel + 1].to(device)
    mu0, var0 = float(A.mean()), float(A.var(correction=0))
    g = generator(config.seed, device)
    rm, rv = torch.zeros(1, device=device), torch.ones(1, device=device)
    out = {k: [] for k in ("bm", "rm", "tm", "bv", "rv", "tv", "mis")}
    for t in range(1, config.steps + 1):
        s, b = drift_scale_shift(t, config.drift_until, var0 ** 0.5)
        xb = mu0 + s * (A[torch.randint(len(A), (config.batch,), generator=g, device=device)] - mu0) + b
        rm, rv = norm.update_running_stats(xb, rm, rv, config.momentum)
        tm, tv = mu0 + b, s * s * var0
        h = mu0 + s * (held - mu0) + b
        eval_out = norm.batch_norm_eval(h, rm, rv)
        ideal = (h - tm) / math.sqrt(tv + norm.EPS)
        for k, v in (("bm", xb.mean()), ("rm", rm[0]), ("tm", tm), ("bv", xb.var(correction=0)), ("rv", rv[0]),
                     ("tv", tv), ("mis", ((eval_out - ideal) ** 2).mean().sqrt())):
            out[k].append(float(v))
    arr = {k: np.asarray(v) for k, v in out.items()}
    return Drift(np.arange(1, config.steps + 1), arr["bm"], arr["rm"], arr["tm"], arr["bv"], arr["rv"], arr["tv"],
                 arr["mis"])


# ---------------------------------------------------------------- padded sequences: BN mixes in the padding

def parse_lengths(text: str) -> tuple[int, ...]:
    """Sequence lengths typed as "7, 4, 2"; raises ValueError with a reason code (an i18n key's last part)."""
    parts = [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError("empty")
    if not all(p.isdigit() for p in parts):
        raise ValueError("not_int")
    lengths = tuple(int(p) for p in parts)
    if len(lengths) > MAX_SEQS:
        raise ValueError("count")
    if not all(1 <= n <= MAX_SEQ_LEN for n in lengths):
        raise ValueError("range")
    if sum(lengths) < 2:
        raise ValueError("too_few")
    return lengths


@dataclass(frozen=True)
class SequenceConfig:
    lengths: tuple[int, ...] = (7, 4, 2, 5)
    features: int = 4
    feature: int = 0           # the feature the figures show
    extra_pad: int = 0         # padding beyond the longest sequence, as if a longer batch-mate were there
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= len(self.lengths) <= MAX_SEQS:
            raise ValueError(f"Invalid lengths: {self.lengths} (allowed: 1 to {MAX_SEQS} sequences)")
        if not all(1 <= n <= MAX_SEQ_LEN for n in self.lengths):
            raise ValueError(f"Invalid lengths: {self.lengths} (allowed 1 to {MAX_SEQ_LEN} each)")
        if sum(self.lengths) < 2:
            raise ValueError(f"Invalid lengths: {self.lengths} (allowed: at least two real tokens)")
        if not 2 <= self.features <= MAX_FEATURES:
            raise ValueError(f"Invalid features: {self.features} (allowed 2 to {MAX_FEATURES})")
        if not 0 <= self.feature < self.features:
            raise ValueError(f"Invalid feature: {self.feature} (allowed 0 to features - 1 = {self.features - 1})")
        if not 0 <= self.extra_pad <= MAX_EXTRA_PAD:
            raise ValueError(f"Invalid extra_pad: {self.extra_pad} (allowed 0 to {MAX_EXTRA_PAD})")


@dataclass(frozen=True)
class SequenceResult:
    x: np.ndarray          # (B, T, D) the padded batch (0 at padding)
    mask: np.ndarray       # (B, T) True at real tokens
    bn: np.ndarray         # (B, T, D) batch norm over every position, padding included
    masked_bn: np.ndarray  # (B, T, D) batch norm over real tokens only
    ln: np.ndarray         # (B, T, D) layer norm of each token over its D features
    bn_mean: np.ndarray    # (D,) the per-feature mean BN uses (padding included)
    real_mean: np.ndarray  # (D,) the per-feature mean of the real tokens
    pads: np.ndarray       # (P,) extra padding in the sweep
    sweep: dict[str, np.ndarray]  # "bn" / "masked_bn" / "ln" -> (P,) output of sequence 1, token 1, ``feature``


def padded_batch(lengths: tuple[int, ...], features: int, total_len: int, seed: int = 0,
                 device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """Random token vectors (feature d has mean 2.5 -> -1.5) padded with zeros to ``total_len``: (x, mask)."""
    g = generator(seed, device)
    offsets = torch.linspace(2.5, -1.5, features, device=device)
    tokens = offsets + torch.randn(len(lengths), MAX_SEQ_LEN, features, generator=g, device=device)
    T = max(total_len, max(lengths))
    mask = torch.arange(T, device=device)[None, :] < torch.tensor(lengths, device=device)[:, None]   # (B, T)
    x = torch.zeros(len(lengths), T, features, device=device)
    keep = min(T, MAX_SEQ_LEN)
    x[:, :keep] = tokens[:, :keep]
    return x * mask[..., None], mask


def sequences(config: SequenceConfig, device: torch.device | str = "cpu") -> SequenceResult:
    """BN, masked BN and LN on a padded batch, and a sweep over how much padding the batch carries."""
    T0 = max(config.lengths)
    D = config.features
    x, mask = padded_batch(config.lengths, D, T0 + config.extra_pad, config.seed, device)
    bn = norm.sequence_batch_norm(x)
    mbn = norm.masked_batch_norm(x, mask)
    ln = norm.layer_norm(x, (D,))
    pads = np.arange(0, MAX_EXTRA_PAD + 1, 2)
    sweep: dict[str, list[float]] = {"bn": [], "masked_bn": [], "ln": []}
    for p in pads:
        xs, ms = padded_batch(config.lengths, D, T0 + int(p), config.seed, device)
        sweep["bn"].append(float(norm.sequence_batch_norm(xs)[0, 0, config.feature]))
        sweep["masked_bn"].append(float(norm.masked_batch_norm(xs, ms)[0, 0, config.feature]))
        sweep["ln"].append(float(norm.layer_norm(xs, (D,))[0, 0, config.feature]))
    m = mask[..., None].float()
    return SequenceResult(x.cpu().numpy(), mask.cpu().numpy(), bn.cpu().numpy(), mbn.cpu().numpy(),
                          ln.cpu().numpy(), x.mean(dim=(0, 1)).cpu().numpy(),
                          ((x * m).sum(dim=(0, 1)) / m.sum(dim=(0, 1))).cpu().numpy(), pads,
                          {k: np.asarray(v) for k, v in sweep.items()})


# ---------------------------------------------------------------- gamma and beta give back what was removed

@dataclass(frozen=True)
class AffineView:
    x: np.ndarray        # (M,) one channel's activations over a batch
    x_hat: np.ndarray    # (M,) after normalization: mean 0, variance ~1
    y: np.ndarray        # (M,) gamma * x_hat + beta
    mean: float          # mu_B of the channel
    std: float           # sqrt(sigma_B^2 + eps): with gamma = std and beta = mean, y = x
    kept_x: float        # share of values a ReLU would keep (> 0), before and after
    kept_y: float


def affine_view(gamma: float, beta: float, channel: int = 0, n: int = 64, seed: int = 0,
                device: torch.device | str = "cpu") -> AffineView:
    r"""One channel of a real batch before and after :func:`dlcore.normalization.layers.batch_norm` with
    $\gamma_c$ = gamma, $\beta_c$ = beta."""
    _check_channel(channel)
    if not math.isfinite(gamma) or not math.isfinite(beta):
        raise ValueError(f"Invalid gamma, beta: {gamma}, {beta} (allowed: finite numbers)")
    x = conv_activations(n, seed, device=device)
    gam = torch.ones(CONV_CHANNELS, device=device)
    bet = torch.zeros(CONV_CHANNELS, device=device)
    gam[channel], bet[channel] = gamma, beta
    x_hat = norm.batch_norm(x)[:, channel].reshape(-1)
    y = norm.batch_norm(x, gam, bet)[:, channel].reshape(-1)
    xc = x[:, channel].reshape(-1)
    mean = float(xc.mean())
    std = math.sqrt(float(((xc - xc.mean()) ** 2).mean()) + norm.EPS)
    return AffineView(xc.cpu().numpy(), x_hat.cpu().numpy(), y.cpu().numpy(), mean, std,
                      float((xc > 0).float().mean()), float((y > 0).float().mean()))
