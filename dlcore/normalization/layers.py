r"""Batch, layer, instance and group normalization written out (seed 001 "BN" / "LN", in torch).

All four compute $\hat x_i = (x_i - \mu_i) / \sqrt{\sigma_i^2 + \epsilon}$, $y_i = \gamma \hat x_i + \beta$ with
$\mu_i = \frac{1}{m}\sum_{k \in \mathcal{S}_i} x_k$ and
$\sigma_i^2 = \frac{1}{m}\sum_{k \in \mathcal{S}_i}(x_k - \mu_i)^2$; they differ only in the set $\mathcal{S}_i$
of $m$ elements that share statistics with element $i$ of an (N, C, H, W) tensor (Wu & He, "Group
Normalization", 2018, eq. 1-3 and Fig. 2). The recipes follow the NumPy code of seed 001 ("BN", "LN"); BN's
test-time running statistics follow ``nn.BatchNorm2d``. The experiments that use them live in
:mod:`dlcore.normalization.lab`, the side-by-side training in :mod:`dlcore.normalization.training`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

EPS = 1e-5
KINDS = ("batch", "layer", "instance", "group")


# ---------------------------------------------------------------- the four normalizations

def _affine(x_hat: Tensor, gamma: Tensor | None, beta: Tensor | None, shape: tuple[int, ...]) -> Tensor:
    """$y = \\gamma \\hat x + \\beta$ with per-channel (or per-element) parameters viewed as ``shape``."""
    y = x_hat
    if gamma is not None:
        y = y * gamma.reshape(shape)
    if beta is not None:
        y = y + beta.reshape(shape)
    return y


def _normalize(x: Tensor, dims: tuple[int, ...], eps: float) -> Tensor:
    """Subtract the mean and divide by the (biased) standard deviation over ``dims``."""
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)  # divide by m, not m - 1
    return (x - mean) / torch.sqrt(var + eps)


def _channel_shape(x: Tensor) -> tuple[int, ...]:
    return (1, x.shape[1]) + (1,) * (x.dim() - 2)


def batch_norm(x: Tensor, gamma: Tensor | None = None, beta: Tensor | None = None, eps: float = EPS) -> Tensor:
    r"""Batch normalization in training mode: statistics per channel over (N, H, W).

    $\mu_c = \frac{1}{NHW}\sum_{n,h,w} x_{nchw}$, $\sigma_c^2 = \frac{1}{NHW}\sum_{n,h,w}(x_{nchw}-\mu_c)^2$,
    $y = \gamma_c \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c$.

    x: (N, C, *) (a fully-connected layer is (N, C)); gamma, beta: (C,) or None; eps: $\epsilon$.
    Same as ``F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)``. Like torch, it refuses a
    channel with a single value (N = 1 and no spatial size): its variance would be 0 and $\hat x$ all zeros.
    """
    m = x.numel() // x.shape[1]
    if m <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(x.shape)}")
    dims = (0,) + tuple(range(2, x.dim()))                                      # N, H, W: keep C
    return _affine(_normalize(x, dims, eps), gamma, beta, _channel_shape(x))


def layer_norm(x: Tensor, normalized_shape: tuple[int, ...], gamma: Tensor | None = None,
               beta: Tensor | None = None, eps: float = EPS) -> Tensor:
    r"""Layer normalization: statistics per sample over its last ``len(normalized_shape)`` dimensions.

    For (N, C, H, W) with normalized_shape = (C, H, W): $\mu_n = \frac{1}{CHW}\sum_{c,h,w} x_{nchw}$, and
    $y = \gamma \odot \hat x + \beta$ with $\gamma, \beta$ of shape ``normalized_shape`` (one per element, as in
    ``nn.LayerNorm``). For a sequence (B, T, D) with normalized_shape = (D,) every token is normalized alone.
    Same as ``F.layer_norm(x, normalized_shape, gamma, beta, eps)``.
    """
    k = len(normalized_shape)
    if tuple(x.shape[-k:]) != tuple(normalized_shape):
        raise ValueError(f"Invalid normalized_shape: {tuple(normalized_shape)} (allowed: the last {k} dimensions "
                         f"of x, {tuple(x.shape[-k:])})")
    dims = tuple(range(x.dim() - k, x.dim()))
    return _affine(_normalize(x, dims, eps), gamma, beta, tuple(normalized_shape))


def instance_norm(x: Tensor, gamma: Tensor | None = None, beta: Tensor | None = None, eps: float = EPS) -> Tensor:
    r"""Instance normalization: statistics per sample and channel over (H, W).

    $\mu_{nc} = \frac{1}{HW}\sum_{h,w} x_{nchw}$; gamma, beta: (C,) or None.
    Same as ``F.instance_norm(x, weight=gamma, bias=beta, eps=eps)`` (``nn.InstanceNorm2d(C, affine=True)``).
    """
    if x.dim() < 3 or x[0, 0].numel() <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {tuple(x.shape)}")
    dims = tuple(range(2, x.dim()))                                             # H, W: keep N and C
    return _affine(_normalize(x, dims, eps), gamma, beta, _channel_shape(x))


def group_norm(x: Tensor, groups: int, gamma: Tensor | None = None, beta: Tensor | None = None,
               eps: float = EPS) -> Tensor:
    r"""Group normalization: channels split into ``groups`` groups of C/G; statistics per sample and group.

    $\mu_{ng} = \frac{G}{CHW}\sum_{c \in g}\sum_{h,w} x_{nchw}$; G = 1 is layer norm with per-channel
    $\gamma, \beta$, G = C is instance norm. gamma, beta: (C,) or None.
    Same as ``F.group_norm(x, groups, gamma, beta, eps)``.
    """
    N, C = x.shape[:2]
    if groups < 1 or C % groups:
        raise ValueError(f"Expected number of channels in input to be divisible by num_groups, got {C} and {groups}")
    xg = x.reshape(N, groups, C // groups, -1)                                  # (N, G, C/G, H*W)
    x_hat = _normalize(xg, (2, 3), eps).reshape(x.shape)
    return _affine(x_hat, gamma, beta, _channel_shape(x))


def normalize(kind: str, x: Tensor, gamma: Tensor | None = None, beta: Tensor | None = None, *,
              groups: int = 1, eps: float = EPS) -> Tensor:
    """One of :data:`KINDS` on (N, C, *) with per-channel gamma / beta (layer norm: GroupNorm with G = 1)."""
    if kind == "batch":
        return batch_norm(x, gamma, beta, eps)
    if kind == "layer":
        return group_norm(x, 1, gamma, beta, eps)
    if kind == "instance":
        return instance_norm(x, gamma, beta, eps)
    if kind == "group":
        return group_norm(x, groups, gamma, beta, eps)
    raise ValueError(f"unknown normalization {kind!r}; choose one of {KINDS}")


# ---------------------------------------------------------------- running statistics (BN at test time)

def update_running_stats(x: Tensor, running_mean: Tensor, running_var: Tensor,
                         momentum: float = 0.1) -> tuple[Tensor, Tensor]:
    r"""The running statistics after one training batch, as ``nn.BatchNorm2d`` keeps them.

    $\hat\mu \leftarrow (1-m)\hat\mu + m\,\mu_B$,
    $\hat\sigma^2 \leftarrow (1-m)\hat\sigma^2 + m\,\frac{M}{M-1}\sigma_B^2$ with $m$ = ``momentum`` and $M = NHW$
    values per channel. Note: torch stores the *unbiased* batch variance (divide by M - 1) in ``running_var``
    while it normalizes the batch with the biased one; and torch's momentum is the weight of the *new* batch
    (1 - the usual "momentum" of an exponential average).
    Returns new tensors; the inputs are not changed.
    """
    dims = (0,) + tuple(range(2, x.dim()))
    M = x.numel() // x.shape[1]
    mean = x.mean(dim=dims)
    var = ((x - mean.reshape(_channel_shape(x))) ** 2).sum(dim=dims) / (M - 1)  # unbiased
    return (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var


def batch_norm_eval(x: Tensor, running_mean: Tensor, running_var: Tensor, gamma: Tensor | None = None,
                    beta: Tensor | None = None, eps: float = EPS) -> Tensor:
    r"""Batch normalization in eval mode: the stored $\hat\mu_c, \hat\sigma_c^2$ instead of the batch's.

    $y = \gamma_c \frac{x - \hat\mu_c}{\sqrt{\hat\sigma_c^2 + \epsilon}} + \beta_c$: each sample's output no longer
    depends on its batch-mates. Same as ``nn.BatchNorm2d.eval()`` / ``F.batch_norm(..., training=False)``.
    """
    shape = _channel_shape(x)
    x_hat = (x - running_mean.reshape(shape)) / torch.sqrt(running_var.reshape(shape) + eps)
    return _affine(x_hat, gamma, beta, shape)


# ---------------------------------------------------------------- which elements share statistics

def divisors(C: int) -> tuple[int, ...]:
    """The group counts GroupNorm accepts for C channels: every G that divides C (1 = LayerNorm, C = InstanceNorm)."""
    return tuple(G for G in range(1, C + 1) if C % G == 0)


def check_groups(groups: int | None, C: int) -> None:
    """Raise ``ValueError`` unless ``groups`` divides the C channels (GroupNorm's C/G channels per group)."""
    if groups is None or not 1 <= groups <= C or C % groups:
        raise ValueError(f"Invalid groups: {groups} (allowed: a divisor of C = {C}: {divisors(C)})")


def fit_groups(groups: int, C: int) -> int:
    """The largest divisor of C that is at most ``groups`` (at least 1): what a groups setting becomes when C
    changes under it."""
    return max(G for G in divisors(C) if G <= max(groups, 1))


def norm_groups(kind: str, shape: tuple[int, ...], index: tuple[int, ...], groups: int | None = None) -> Tensor:
    """Boolean mask of ``shape`` (N, C, *spatial): the elements whose mean and variance ``index`` shares.

    batch: same channel (every sample, every position); layer: same sample; instance: same sample and
    channel; group: same sample and same group of C/G consecutive channels.
    """
    if not len(index) == len(shape) >= 2:
        raise ValueError(f"Invalid index: {index} (allowed: one coordinate per axis of {shape})")
    if not all(0 <= i < s for i, s in zip(index, shape)):
        raise ValueError(f"Invalid index: {index} (allowed: inside {shape})")
    n, c = index[0], index[1]
    mask = torch.zeros(shape, dtype=torch.bool)
    if kind == "batch":
        mask[:, c] = True
    elif kind == "layer":
        mask[n] = True
    elif kind == "instance":
        mask[n, c] = True
    elif kind == "group":
        C = shape[1]
        check_groups(groups, C)
        size = C // groups
        g = c // size
        mask[n, g * size:(g + 1) * size] = True
    else:
        raise ValueError(f"unknown normalization {kind!r}; choose one of {KINDS}")
    return mask


def set_count(kind: str, shape: tuple[int, ...], groups: int = 1) -> int:
    """How many separate (mean, variance) pairs ``kind`` computes for a tensor of ``shape``."""
    N, C = shape[:2]
    return {"batch": C, "layer": N, "instance": N * C, "group": N * groups}[kind]


@dataclass(frozen=True)
class Moments:
    mean: Tensor   # (N, C): the mean that plane (n, c) is normalized with
    std: Tensor    # (N, C): the matching sqrt(var + eps)


def moments(kind: str, x: Tensor, groups: int = 1, eps: float = EPS) -> Moments:
    r"""Per (sample, channel) plane, the $\mu$ and $\sqrt{\sigma^2+\epsilon}$ that ``kind`` uses on x (N, C, *).

    Every plane shares one pair in all four methods, so an (N, C) map shows the structure: batch norm gives
    columns, layer norm rows, instance norm every cell, group norm blocks of C/G cells.
    """
    N, C = x.shape[:2]
    if kind == "batch":
        dims = (0,) + tuple(range(2, x.dim()))
        mean = x.mean(dim=dims)                                                 # (C,)
        var = ((x - mean.reshape(_channel_shape(x))) ** 2).mean(dim=dims)
        mean, var = mean.expand(N, C), var.expand(N, C)
    else:
        G = {"layer": 1, "instance": C, "group": groups}.get(kind)
        if G is None:
            raise ValueError(f"unknown normalization {kind!r}; choose one of {KINDS}")
        check_groups(G, C)
        xg = x.reshape(N, G, -1)                                                # (N, G, C/G * H*W)
        mean = xg.mean(dim=-1)                                                  # (N, G)
        var = ((xg - mean[..., None]) ** 2).mean(dim=-1)
        mean, var = mean.repeat_interleave(C // G, dim=1), var.repeat_interleave(C // G, dim=1)
    return Moments(mean.clone(), torch.sqrt(var + eps))


# ---------------------------------------------------------------- padded sequences: count real tokens only

def masked_batch_norm(x: Tensor, mask: Tensor, gamma: Tensor | None = None, beta: Tensor | None = None,
                      eps: float = EPS) -> Tensor:
    r"""Batch normalization of padded sequences that counts real tokens only.

    x: (B, T, D) with padding; mask: (B, T), True at real tokens. Per feature d:
    $\mu_d = \frac{\sum_{b,t} m_{bt} x_{btd}}{\sum_{b,t} m_{bt}}$, $\sigma_d^2$ likewise; padding outputs 0.
    Equal to :func:`batch_norm` on the real tokens packed as (M, D).
    """
    m = mask[..., None].to(x.dtype)                                           # (B, T, 1)
    count = m.sum(dim=(0, 1))
    if float(count.max()) <= 1:
        raise ValueError("Expected more than 1 real token per feature when training")
    mean = (x * m).sum(dim=(0, 1)) / count                                    # (D,)
    var = (((x - mean) ** 2) * m).sum(dim=(0, 1)) / count
    y = (x - mean) / torch.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y * m


def sequence_batch_norm(x: Tensor, gamma: Tensor | None = None, beta: Tensor | None = None, eps: float = EPS) -> Tensor:
    """Plain batch norm on (B, T, D): per feature over every (b, t) position, padding included."""
    B, T, D = x.shape
    return batch_norm(x.reshape(B * T, D), gamma, beta, eps).reshape(B, T, D)
