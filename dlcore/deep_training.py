r"""Training the same deep MLP with different activations and initializations (seed 001 "梯度消失", seed 003 §6).

A plain full-batch SGD loop on a 2D toy problem; every few steps it records the loss, the accuracy,
the share of dead hidden units (ReLU-style units whose $f'$ is 0 on every training point) and the
gradient norm of the first layer. Who learns, who stalls, and how a too-large learning rate kills ReLUs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcore import data
from dlcore.activations import ACTIVATIONS, activate, derivative, init_weight_, parse_init

MAX_DEPTH = 20
MAX_WIDTH = 128
MAX_STEPS = 1000
MAX_POINTS = 512
MAX_RACERS = 6
MAX_LR = 10.0
DATASETS = ("moons", "circles")
OPTIMIZERS = ("sgd", "adam")

# (activation, init) pairs a learner can race; names are "<activation>|<init>"
RACERS = ("sigmoid|xavier_normal", "tanh|xavier_normal", "relu|kaiming_normal", "relu|normal_0.01",
          "sigmoid|normal_1", "tanh|normal_1", "leaky_relu|kaiming_normal", "gelu|kaiming_normal",
          "selu|lecun_normal", "relu|xavier_normal", "relu|zeros")


@dataclass(frozen=True)
class TrainConfig:
    depth: int = 8              # hidden layers: deep enough for sigmoid to stall
    width: int = 32
    optimizer: str = "sgd"      # full batch; "adam" shows dead ReLUs piling up as lr grows
    lr: float = 0.1
    steps: int = 300
    dataset: str = "moons"
    points: int = 256
    batchnorm: bool = False
    slope: float = 0.01         # Leaky ReLU alpha
    record_every: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.depth <= MAX_DEPTH:
            raise ValueError(f"Invalid depth: {self.depth} (allowed 1 to {MAX_DEPTH})")
        if not 2 <= self.width <= MAX_WIDTH:
            raise ValueError(f"Invalid width: {self.width} (allowed 2 to {MAX_WIDTH})")
        if not 0 < self.lr <= MAX_LR:
            raise ValueError(f"Invalid learning rate: {self.lr} (allowed above 0, at most {MAX_LR:g})")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"Invalid steps: {self.steps} (allowed 1 to {MAX_STEPS})")
        if not 8 <= self.points <= MAX_POINTS:
            raise ValueError(f"Invalid points: {self.points} (allowed 8 to {MAX_POINTS})")
        if self.dataset not in DATASETS:
            raise ValueError(f"Invalid dataset: {self.dataset!r} (allowed: {', '.join(DATASETS)})")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Invalid optimizer: {self.optimizer!r} (allowed: {', '.join(OPTIMIZERS)})")
        if not 0.0 <= self.slope <= 1.0:
            raise ValueError(f"Invalid slope: {self.slope} (allowed 0 to 1)")
        if not 1 <= self.record_every <= self.steps:
            raise ValueError(f"Invalid record_every: {self.record_every} (allowed 1 to steps = {self.steps})")


class Act(nn.Module):
    """One activation of :data:`dlcore.activations.ACTIVATIONS` as a module."""

    def __init__(self, name: str, slope: float = 0.01) -> None:
        super().__init__()
        self.name, self.slope = name, slope

    def forward(self, x: Tensor) -> Tensor:
        return activate(self.name, x, self.slope)


def build_mlp(config: TrainConfig, activation: str, init: str) -> nn.Sequential:
    """2 -> [Linear(width) -> (BatchNorm) -> f] x depth -> Linear(1); weights by ``init``, biases 0.

    The output layer uses the same ``init`` so a bad initialization is bad all the way.
    Built under ``config.seed``: two builds with the same arguments are identical.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"Invalid activation: {activation!r} (allowed: {', '.join(ACTIVATIONS)})")
    parse_init(init)
    g = torch.Generator().manual_seed(config.seed)
    layers: list[nn.Module] = []
    n_in = 2
    for _ in range(config.depth):
        layers.append(nn.Linear(n_in, config.width))
        if config.batchnorm:
            layers.append(nn.BatchNorm1d(config.width))
        layers.append(Act(activation, config.slope))
        n_in = config.width
    layers.append(nn.Linear(n_in, 1))
    for m in layers:
        if isinstance(m, nn.Linear):
            init_weight_(m.weight, init, g)
            nn.init.zeros_(m.bias)
    return nn.Sequential(*layers)


def toy_data(config: TrainConfig, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """The training points (N, 2), standardised per feature, and float labels (N,) in {0, 1}."""
    if config.dataset == "moons":
        x, y = data.two_moons(config.points, noise=0.1, seed=config.seed)
    else:
        x, y = data.circles(config.points, factor=0.5, noise=0.08, seed=config.seed)
    x = (x - x.mean(0)) / x.std(0)
    return x.to(device), y.float().to(device)


@dataclass(frozen=True)
class TrainHistory:
    activation: str
    init: str
    step: np.ndarray            # (R,) steps at which the rest was recorded (0 = before training)
    loss: np.ndarray            # (R,) binary cross-entropy on the training set (NaN once it diverged)
    accuracy: np.ndarray        # (R,)
    dead_frac: np.ndarray       # (R,) share of hidden units with f' = 0 on every training point
    first_grad_norm: np.ndarray  # (R,) ||dL/dW_1||: how much the first layer is told to change


def dead_forward(model: nn.Sequential, x: Tensor, activation: str, slope: float) -> tuple[Tensor, float]:
    """Logits (N,) with their graph, and the dead share of hidden units, from one forward pass."""
    h, dead, units = x, 0, 0
    for m in model:
        if isinstance(m, Act):
            d = derivative(activation, h.detach(), slope)          # (N, width)
            dead += int((d == 0).all(dim=0).sum())
            units += d.shape[1]
        h = m(h)
    return h.squeeze(1), dead / max(units, 1)


def train(config: TrainConfig, activation: str, init: str, device: torch.device | str = "cpu") -> TrainHistory:
    r"""Full-batch training on the toy data, ``steps`` updates of ``torch.optim.SGD`` or ``torch.optim.Adam``.

    SGD: $\theta \leftarrow \theta - \eta \nabla_\theta \mathcal{L}$ with $\mathcal{L}$ the binary cross-entropy
    of the logit and $\eta$ = ``lr``; Adam with its default betas. Records every ``record_every`` steps and
    after the last. A run whose loss turns inf / NaN stops there; the remaining records are NaN.
    """
    model = build_mlp(config, activation, init).to(device)
    x, y = toy_data(config, device)
    if config.optimizer == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=config.lr)
    first = model[0].weight
    steps, losses, accs, deads, grads = [], [], [], [], []
    for step in range(config.steps + 1):
        record = step % config.record_every == 0 or step == config.steps
        if record:
            logits, dead = dead_forward(model, x, activation, config.slope)
        else:
            logits = model(x).squeeze(1)
        loss = F.binary_cross_entropy_with_logits(logits, y)
        opt.zero_grad()
        loss.backward()
        if record:
            steps.append(step)
            losses.append(float(loss.detach()))
            accs.append(float(((logits.detach() > 0).float() == y).float().mean()))
            deads.append(dead)
            grads.append(float(first.grad.double().norm()))
        if not torch.isfinite(loss) or step == config.steps:
            break
        opt.step()
    at = np.arange(0, config.steps + 1, config.record_every)
    if at[-1] != config.steps:
        at = np.append(at, config.steps)
    pad = len(at) - len(steps)

    def full(values: list[float]) -> np.ndarray:
        return np.concatenate([np.asarray(values, dtype=np.float64), np.full(pad, np.nan)])

    return TrainHistory(activation, init, at, full(losses), full(accs), full(deads), full(grads))


def diverged_at(history: TrainHistory) -> int | None:
    """The step of the first NaN record of ``history`` (a run stops when its loss turns inf / NaN and the records
    after that are NaN), or None for a run that never diverged."""
    bad = np.isnan(history.loss)
    return int(history.step[np.argmax(bad)]) if bad.any() else None


def race(config: TrainConfig, racers: tuple[str, ...], device: torch.device | str = "cpu") -> list[TrainHistory]:
    """:func:`train` for each ``"<activation>|<init>"`` racer on the same data, same seed."""
    if not 1 <= len(racers) <= MAX_RACERS:
        raise ValueError(f"Invalid number of racers: {len(racers)} (allowed 1 to {MAX_RACERS})")
    out = []
    for racer in racers:
        activation, _, init = racer.partition("|")
        out.append(train(config, activation, init, device))
    return out
