r"""The same small CNN on digits with no normalization, BatchNorm, LayerNorm, GroupNorm or InstanceNorm
(seed 001: BN allows larger learning rates and suffers at small batches; seed 004: BN's placement).

The layers are ``torch.nn``'s (our hand-written versions in :mod:`dlcore.normalization.layers` are tested
equal to them).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlcore import data
from dlcore.device import generator, seeded

METHODS = ("none", "batch", "layer", "group", "instance")
MAX_TRAIN_STEPS = 500
MAX_TRAIN_BATCH = 128
MAX_LR = 3.0
GROUPS = (1, 2, 4, 8)      # GroupNorm groups: each divides the 8, 16 and 32 channels of small_cnn


# ---------------------------------------------------------------- training side by side on digits

@dataclass(frozen=True)
class TrainConfig:
    method: str = "batch"      # one of METHODS
    batch: int = 16
    lr: float = 0.1            # plain SGD: every method learns at 0.1; at 1.0 the un-normalized net fails
    steps: int = 300
    groups: int = 4            # GroupNorm groups (channels 8 and 16 are both divisible)
    record_every: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"Invalid method: {self.method!r} (allowed: {', '.join(METHODS)})")
        if not 2 <= self.batch <= MAX_TRAIN_BATCH:
            raise ValueError(f"Invalid batch: {self.batch} (allowed 2 to {MAX_TRAIN_BATCH}; BatchNorm refuses 1)")
        if not 0 < self.lr <= MAX_LR:
            raise ValueError(f"Invalid learning rate: {self.lr} (allowed above 0, at most {MAX_LR:g})")
        if not 1 <= self.steps <= MAX_TRAIN_STEPS:
            raise ValueError(f"Invalid steps: {self.steps} (allowed 1 to {MAX_TRAIN_STEPS})")
        if self.groups not in GROUPS:
            raise ValueError(f"Invalid groups: {self.groups} (allowed: {GROUPS}, the divisors of 8 channels)")
        if not 1 <= self.record_every <= self.steps:
            raise ValueError(f"Invalid record_every: {self.record_every} (allowed 1 to steps = {self.steps})")


def make_norm(method: str, C: int, H: int, W: int, groups: int = 4) -> nn.Module:
    """The torch layer for ``method`` after a conv with C channels of H x W (ours are tested equal to these)."""
    if method == "none":
        return nn.Identity()
    if method == "batch":
        return nn.BatchNorm2d(C)
    if method == "layer":
        return nn.LayerNorm([C, H, W])          # the seed's layer_norm: every value of one sample together
    if method == "group":
        return nn.GroupNorm(groups, C)
    if method == "instance":
        return nn.InstanceNorm2d(C, affine=True)
    raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")


def make_norm_1d(method: str, C: int, groups: int = 4) -> nn.Module:
    """The same choice after a fully-connected layer of C features (instance norm has no positions there: none)."""
    if method in ("none", "instance"):
        return nn.Identity()
    if method == "batch":
        return nn.BatchNorm1d(C)                # statistics over the batch only: N values per feature
    if method == "layer":
        return nn.LayerNorm(C)
    if method == "group":
        return nn.GroupNorm(groups, C)
    raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")


def small_cnn(method: str, groups: int = 4, seed: int = 0) -> nn.Sequential:
    """8x8 digit -> [conv 3x3 -> norm -> ReLU] x 2 (8 channels, then 16 with stride 2) -> FC 32 -> norm -> ReLU
    -> 10."""
    with seeded(seed):
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), make_norm(method, 8, 8, 8, groups), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), make_norm(method, 16, 4, 4, groups), nn.ReLU(),
            nn.Flatten(), nn.Linear(16 * 4 * 4, 32), make_norm_1d(method, 32, groups), nn.ReLU(),
            nn.Linear(32, 10),
        )


@dataclass(frozen=True)
class TrainHistory:
    config: TrainConfig
    step: np.ndarray          # (R,) steps at which the rest was recorded
    loss: np.ndarray          # (R,) mean training loss since the previous record (NaN after divergence)
    test_acc: np.ndarray      # (R,) accuracy on the 360 test digits in eval mode (NaN after divergence)
    diverged_at: int | None   # the step whose loss was not finite, if any
    seconds: float


def train(config: TrainConfig, device: torch.device | str = "cpu") -> TrainHistory:
    r"""Train :func:`small_cnn` with ``config.method`` by plain SGD, $\theta \leftarrow \theta - \eta\nabla\mathcal{L}$.

    Batches of ``config.batch`` digits drawn at random (private generator); cross-entropy loss. Every
    ``record_every`` steps the model is switched to eval mode (BN then uses its running statistics) and
    scored on the test digits. A non-finite loss stops the run: it is reported, not raised.
    """
    t0 = time.perf_counter()
    x_tr, y_tr = (v.to(device) for v in data.digits("train"))
    x_te, y_te = (v.to(device) for v in data.digits("test"))
    model = small_cnn(config.method, config.groups, config.seed).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr)
    g = generator(config.seed, device)
    steps, losses, accs, window = [], [], [], []
    diverged = None
    for step in range(1, config.steps + 1):
        idx = torch.randint(len(x_tr), (config.batch,), generator=g, device=device)
        loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
        if not torch.isfinite(loss):
            diverged = step
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        window.append(float(loss.detach()))
        if step % config.record_every == 0 or step == config.steps:
            model.eval()
            with torch.no_grad():
                acc = float((model(x_te).argmax(1) == y_te).float().mean())
            model.train()
            steps.append(step)
            losses.append(sum(window) / len(window))
            accs.append(acc if math.isfinite(losses[-1]) else float("nan"))
            window = []
    at = [s for s in range(config.record_every, config.steps + 1, config.record_every)]
    if not at or at[-1] != config.steps:
        at.append(config.steps)
    pad = len(at) - len(steps)
    return TrainHistory(config, np.asarray(at), np.asarray(losses + [np.nan] * pad),
                        np.asarray(accs + [np.nan] * pad), diverged, time.perf_counter() - t0)
