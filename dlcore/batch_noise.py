r"""Mini-batch noise (course notes 000 §3.2, 001 "“批”的大小对优化效果的影响", 002 lecture 4):
the same ``torch.optim.SGD`` on mini-batches of different sizes.

1. ``regression_paths``: a line $\hat y = w x + b$ fitted by mean squared error; each batch size's
   path through $(w, b)$ on the contour of the *full-data* loss. A batch of $B$ samples gives an
   unbiased gradient whose noise shrinks like $1/\sqrt{B}$.
2. ``sharp_flat``: a one-parameter loss with a sharp and a flat minimum. Sample $i$ sees the
   landscape shifted by $s_i$: $\ell_i(w) = L(w - s_i)$, so the mini-batch gradient is noisier
   where $L$ is curved more. The shifts are spread evenly over $N(0, \tau^2)$ (its quantiles), so
   the training loss is the same for every seed and the seed draws only the mini-batches. Small
   batches get kicked out of the sharp well and end in the flat one; the test set, the training set
   shifted by $\delta$, shows why that matters (Keskar et al. 2017, cited in the notes).

Every run of a batch size is one row of one parameter tensor: SGD updates rows independently,
and each row gets its own batch through a weight vector over the samples
(loss of row $r$ = $\sum_i W_{ri}\,\ell_i$ with $W_{ri}$ = (times $i$ is in the batch) / $B$).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from dlcore.device import generator

MAX_SAMPLES = 256
MAX_STEPS = 1000
MAX_RUNS = 128
MAX_TEST_SHIFT = 1.0   # how far the test data may be shifted (the lab's slider range)
BATCH_SIZES = (1, 8, 32, 0)   # 0 = the full data set


def _batch_weights(n: int, sizes: Sequence[int], runs: int, g: torch.Generator, device) -> Tensor:
    """(len(sizes), runs, n): row (k, r) puts weight 1/B on each of B samples drawn without replacement."""
    w = torch.zeros(len(sizes), runs, n, dtype=torch.float64, device=device)
    for k, b in enumerate(sizes):
        b = n if b in (0, None) or b >= n else b
        if b == n:
            w[k] = 1.0 / n
            continue
        idx = torch.rand(runs, n, generator=g, device=device).argsort(dim=1)[:, :b]   # a random subset per run
        w[k].scatter_(1, idx, 1.0 / b)
    return w


@dataclass(frozen=True)
class RegressionConfig:
    n: int = 64                          # samples
    noise: float = 0.5                   # std of the label noise
    true_w: float = 2.0
    true_b: float = -1.0
    start: tuple[float, float] = (-2.0, 2.5)
    lr: float = 0.1
    steps: int = 150
    batch_sizes: tuple[int, ...] = BATCH_SIZES
    seed: int = 0

    def __post_init__(self) -> None:
        if not 2 <= self.n <= MAX_SAMPLES:
            raise ValueError(f"Invalid n: {self.n} (allowed 2 to {MAX_SAMPLES})")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"Invalid steps: {self.steps} (allowed 1 to {MAX_STEPS})")
        if not 0 < self.lr <= 1.0:
            raise ValueError(f"Invalid learning rate: {self.lr} (allowed above 0, up to 1)")
        if not 0 <= self.noise <= 5:
            raise ValueError(f"Invalid noise: {self.noise} (allowed 0 to 5)")
        if not 1 <= len(self.batch_sizes) <= 6:
            raise ValueError(f"Invalid number of batch sizes: {len(self.batch_sizes)} (allowed 1 to 6)")


@dataclass(frozen=True)
class RegressionResult:
    x: np.ndarray            # (n,) inputs
    y: np.ndarray            # (n,) labels
    paths: np.ndarray        # (K, steps + 1, 2) the (w, b) iterates of each batch size
    full_loss: np.ndarray    # (K, steps + 1) the full-data loss along each path
    optimum: np.ndarray      # (2,) least-squares (w, b)
    batch_sizes: tuple[int, ...]   # with 0 replaced by n


def regression_data(config: RegressionConfig, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    g = generator(config.seed, device)
    x = torch.rand(config.n, generator=g, dtype=torch.float64, device=device) * 2 - 1
    y = config.true_w * x + config.true_b + config.noise * torch.randn(config.n, generator=g, dtype=torch.float64,
                                                                       device=device)
    return x, y


def regression_loss(w: Tensor, b: Tensor, x: Tensor, y: Tensor) -> Tensor:
    r"""Full-data mean squared error $\frac1n\sum_i (w x_i + b - y_i)^2$ for (any shape of) w, b."""
    return ((w[..., None] * x + b[..., None] - y) ** 2).mean(-1)


def regression_paths(config: RegressionConfig, device: torch.device | str = "cpu") -> RegressionResult:
    """SGD on (w, b) with each batch size, ``steps`` updates each, batches reshuffled every step."""
    x, y = regression_data(config, device)
    sizes = tuple(config.n if b in (0, None) or b >= config.n else b for b in config.batch_sizes)
    theta = torch.tensor([config.start] * len(sizes), dtype=torch.float64, device=device, requires_grad=True)  # (K, 2)
    opt = torch.optim.SGD([theta], lr=config.lr)
    g = generator(config.seed + 1, device)
    out = [theta.detach().cpu().numpy().copy()]
    for _ in range(config.steps):
        w = _batch_weights(config.n, sizes, 1, g, device)[:, 0]                    # (K, n)
        residual = theta[:, :1] * x + theta[:, 1:] - y                             # (K, n)
        loss = (w * residual**2).sum()                                             # sum of K batch losses
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(theta.detach().cpu().numpy().copy())
    paths = np.stack(out, axis=1)                                                  # (K, steps + 1, 2)
    p = torch.from_numpy(paths).to(device)
    full = regression_loss(p[..., 0], p[..., 1], x, y).cpu().numpy()
    a = torch.stack([x, torch.ones_like(x)], dim=1)
    optimum = torch.linalg.lstsq(a, y[:, None]).solution[:, 0].cpu().numpy()
    return RegressionResult(x.cpu().numpy(), y.cpu().numpy(), paths, full, optimum, sizes)


# 2) sharp and flat minima -------------------------------------------------------------------

@dataclass(frozen=True)
class SharpFlatConfig:
    sharp_at: float = -1.2
    sharp_width: float = 0.15
    flat_at: float = 1.4
    flat_width: float = 0.6
    depth: float = 1.0          # both wells are this deep before the shifts blur them
    shift_std: float = 0.3      # s_i: quantiles of N(0, shift_std^2), how much samples disagree
    test_shift: float = 0.3     # the test set is the training set shifted by this much
    n: int = 64
    runs: int = 64              # start points spread evenly over [-3, 3]
    lr: float = 0.2             # just below 2 / (curvature of the sharp well): full batch still settles there
    steps: int = 300
    batch_sizes: tuple[int, ...] = BATCH_SIZES
    seed: int = 0

    def __post_init__(self) -> None:
        if not 2 <= self.n <= MAX_SAMPLES:
            raise ValueError(f"Invalid n: {self.n} (allowed 2 to {MAX_SAMPLES})")
        if not 1 <= self.runs <= MAX_RUNS:
            raise ValueError(f"Invalid runs: {self.runs} (allowed 1 to {MAX_RUNS})")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"Invalid steps: {self.steps} (allowed 1 to {MAX_STEPS})")
        if not 0 < self.lr <= 0.5:
            raise ValueError(f"Invalid learning rate: {self.lr} (allowed above 0, up to 0.5)")
        if not 0 <= self.test_shift <= MAX_TEST_SHIFT:
            raise ValueError(f"Invalid test_shift: {self.test_shift} (allowed 0 to {MAX_TEST_SHIFT:g})")
        if not (0 < self.sharp_width and 0 < self.flat_width):
            raise ValueError(f"Invalid well widths: {self.sharp_width}, {self.flat_width} (allowed above 0)")


def landscape(w: Tensor, c: SharpFlatConfig) -> Tensor:
    r"""$L(w) = 0.02 w^2 - a_s e^{-(w-w_s)^2/2\sigma_s^2} - a_f e^{-(w-w_f)^2/2\sigma_f^2}$: a sharp and a flat well.

    The heights $a_k = d\,\sqrt{\sigma_k^2 + \tau^2}/\sigma_k$ ($\tau$ = ``shift_std``) make both wells of
    the *training* loss, which averages $L$ over shifts $s_i \sim N(0, \tau^2)$, about $d$ deep: the
    two minima fit the training data equally well and differ only in sharpness.
    """
    a_sharp = c.depth * math.sqrt(c.sharp_width**2 + c.shift_std**2) / c.sharp_width
    a_flat = c.depth * math.sqrt(c.flat_width**2 + c.shift_std**2) / c.flat_width
    return (0.02 * w * w - a_sharp * torch.exp(-((w - c.sharp_at) ** 2) / (2 * c.sharp_width**2))
            - a_flat * torch.exp(-((w - c.flat_at) ** 2) / (2 * c.flat_width**2)))


def shifts(n: int, std: float, device: torch.device | str = "cpu") -> Tensor:
    r"""$n$ shifts spread evenly over $N(0, \sigma^2)$: $s_i = \sigma\,\Phi^{-1}\big((i + \tfrac12)/n\big)$.

    Random draws would make the training loss itself change with the seed (with 64 samples the
    sharp well's bottom moves by a good part of its width); quantiles keep it fixed.
    """
    q = (torch.arange(n, dtype=torch.float64, device=device) + 0.5) / n
    return std * torch.special.ndtri(q)


@dataclass(frozen=True)
class SharpFlatResult:
    w: np.ndarray            # (G,) grid of the parameter
    train: np.ndarray        # (G,) mean training loss (1/n) sum_i L(w - s_i)
    test: np.ndarray         # (G,) the same on the shifted test samples
    starts: np.ndarray       # (runs,)
    final: np.ndarray        # (K, runs) where each run ended
    flat_share: np.ndarray   # (K,) share of runs that ended in the flat well
    train_loss: np.ndarray   # (K,) mean training loss at the end
    test_loss: np.ndarray    # (K,) mean test loss at the end
    barrier: float           # the top of the hill between the wells (runs right of it are "flat")
    batch_sizes: tuple[int, ...]


def sharp_flat(config: SharpFlatConfig, device: torch.device | str = "cpu") -> SharpFlatResult:
    """Many SGD runs per batch size from evenly spread starts; where do they end, and what does the test set say?"""
    g = generator(config.seed, device)
    s_train = shifts(config.n, config.shift_std, device)
    s_test = config.test_shift + s_train
    sizes = tuple(config.n if b in (0, None) or b >= config.n else b for b in config.batch_sizes)
    starts = torch.linspace(-3, 3, config.runs, dtype=torch.float64, device=device)
    theta = starts.repeat(len(sizes), 1).requires_grad_(True)                     # (K, runs)
    opt = torch.optim.SGD([theta], lr=config.lr)
    for _ in range(config.steps):
        wts = _batch_weights(config.n, sizes, config.runs, g, device)             # (K, runs, n)
        loss = (wts * landscape(theta[..., None] - s_train, config)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    grid = torch.linspace(-3, 3, 601, dtype=torch.float64, device=device)
    with torch.no_grad():
        train = landscape(grid[:, None] - s_train, config).mean(-1)
        test = landscape(grid[:, None] - s_test, config).mean(-1)
        between = (grid > config.sharp_at) & (grid < config.flat_at)
        barrier = float(grid[between][train[between].argmax()])
        final = theta.detach()
        tr = landscape(final[..., None] - s_train, config).mean(-1).mean(-1)
        te = landscape(final[..., None] - s_test, config).mean(-1).mean(-1)
    fin = final.cpu().numpy()
    return SharpFlatResult(grid.cpu().numpy(), train.cpu().numpy(), test.cpu().numpy(), starts.cpu().numpy(),
                           fin, (fin > barrier).mean(axis=1), tr.cpu().numpy(), te.cpu().numpy(), barrier, sizes)


def curvature(w: float, config: SharpFlatConfig) -> float:
    """$L''(w)$ of the un-shifted landscape (autograd twice): how sharp a minimum is."""
    x = torch.tensor(float(w), dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(landscape(x, config), x, create_graph=True)
    (h,) = torch.autograd.grad(g, x)
    return float(h)



def regression_surface(result: RegressionResult, w_range: tuple[float, float] = (-3.0, 5.0),
                       b_range: tuple[float, float] = (-4.0, 4.0), n: int = 81) -> tuple[np.ndarray, ...]:
    """w (n,), b (n,) and the full-data MSE z (n, n) with z[i, j] = loss(w[j], b[i]) for the contour."""
    if not 2 <= n <= 201:
        raise ValueError(f"Invalid grid size: {n} (allowed 2 to 201)")
    w, b = np.linspace(*w_range, n), np.linspace(*b_range, n)
    x, y = torch.from_numpy(result.x), torch.from_numpy(result.y)
    bb, ww = torch.meshgrid(torch.from_numpy(b), torch.from_numpy(w), indexing="ij")
    return w, b, regression_loss(ww, bb, x, y).numpy()
