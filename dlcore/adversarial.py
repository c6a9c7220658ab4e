r"""Adversarial examples: FGSM (Goodfellow et al. 2015), iterative FGSM / BIM (Kurakin et al. 2017)
and projected gradient descent, PGD (Madry et al. 2018), under an $L_\infty$ or $L_2$ budget,
untargeted or targeted (course notes 002, lecture 23).

An attack changes the input $x^0$ into $x = x^0 + \delta$ to make the loss large while
$d(x^0, x) = \|\delta\| \le \varepsilon$ and $x \in [0, 1]^d$ (still a picture):

- untargeted: maximise $L(x) = e(f(x), y)$, the cross-entropy to the true label $y$;
- targeted: maximise $L(x) = e(f(x), y) - e(f(x), y^{target})$, i.e. minimise the lecture's
  $-e(y, \hat y) + e(y, y^{target})$: move away from $y$ and towards $y^{target}$. For softmax
  cross-entropy the log-sum-exp terms cancel and this is the logit margin $z_{target} - z_y$.

All attacks run in pixel space $[0, 1]$ (the models normalise inside) on a model in eval mode,
and use ``torch.autograd.grad`` so shared models never accumulate ``.grad``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcore.device import generator

NORMS = ("linf", "l2")
METHODS = ("fgsm", "bim", "pgd")
MAX_EPS = {"linf": 0.5, "l2": 4.0}   # L2 of an 8x8 image in [0, 1] is at most 8
MAX_STEPS = 100
MAX_BATCH = 2048                     # more than the 360 test digits; keeps one call bounded
CURVE_EPS = {"linf": (0.0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3),
             "l2": (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)}
CURVE_STEPS = 20                     # PGD-20 with alpha = 2.5 eps / steps (Madry et al.)


def _check_budget(eps: float, norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"Invalid norm: {norm!r} (allowed {', '.join(NORMS)})")
    if not 0.0 <= eps <= MAX_EPS[norm]:
        raise ValueError(f"Invalid eps: {eps} (allowed 0 <= eps <= {MAX_EPS[norm]} for {norm})")


def _check(x: Tensor, eps: float, norm: str) -> None:
    """The attack's inputs: a budget inside the caps, at most MAX_BATCH images, pixels in [0, 1]."""
    _check_budget(eps, norm)
    if len(x) > MAX_BATCH:
        raise ValueError(f"Invalid batch: {len(x)} inputs (allowed at most {MAX_BATCH} per attack)")
    if not (float(x.min()) >= 0.0 and float(x.max()) <= 1.0):
        raise ValueError(f"Invalid input: pixels from {float(x.min())} to {float(x.max())} (allowed [0, 1])")


def _check_steps(alpha: float, steps: int, norm: str) -> None:
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"Invalid steps: {steps} (allowed 1 to {MAX_STEPS})")
    if not 0.0 < alpha <= 2 * MAX_EPS[norm]:
        raise ValueError(f"Invalid alpha: {alpha} (allowed 0 < alpha <= {2 * MAX_EPS[norm]} for {norm})")


def _per_example_norm(v: Tensor, norm: str) -> Tensor:
    """$\\|v_i\\|$ of each example, shaped (N, 1, ..., 1) to broadcast against v."""
    flat = v.flatten(1)
    n = flat.abs().amax(1) if norm == "linf" else flat.norm(dim=1)
    return n.view(-1, *([1] * (v.dim() - 1)))


def perturbation_norms(delta: Tensor) -> tuple[Tensor, Tensor]:
    r"""$(\|\delta_i\|_\infty, \|\delta_i\|_2)$ per example: the largest pixel change and the root of the squared
    sum."""
    flat = delta.flatten(1)
    return flat.abs().amax(1), flat.norm(dim=1)


def attack_loss(logits: Tensor, y: Tensor, target: Tensor | None = None) -> Tensor:
    r"""The objective an attack *maximises*, summed over the batch (so examples do not interact).

    untargeted: $\sum_i e(f(x_i), y_i)$; targeted: $\sum_i e(f(x_i), y_i) - e(f(x_i), y^{target}_i)$,
    with $e$ the cross-entropy. logits: (N, K); y, target: (N,) class indices.
    """
    loss = F.cross_entropy(logits, y, reduction="sum")
    if target is not None:
        loss = loss - F.cross_entropy(logits, target, reduction="sum")
    return loss


def input_gradient(model: nn.Module, x: Tensor, y: Tensor, target: Tensor | None = None) -> Tensor:
    r"""$\nabla_x L(x)$ of :func:`attack_loss`, shape of x. The model must be in eval mode."""
    assert not model.training, \
        "put the model in eval mode (model.eval()): dropout or BatchNorm would make the attack random"
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = attack_loss(model(x), y, target)
        (grad,) = torch.autograd.grad(loss, x)
    return grad


def ascent_step(x: Tensor, grad: Tensor, alpha: float, norm: str) -> Tensor:
    r"""One steepest-ascent step of length $\alpha$ in the attack's norm.

    $L_\infty$: $x + \alpha\,\mathrm{sign}(g)$ (every pixel moves by $\alpha$);
    $L_2$: $x + \alpha\, g / \|g\|_2$ (along the gradient). A zero gradient does not move.
    """
    if norm == "linf":
        return x + alpha * grad.sign()
    return x + alpha * grad / _per_example_norm(grad, "l2").clamp_min(1e-12)


def project(delta: Tensor, eps: float, norm: str) -> Tensor:
    r"""Euclidean projection of each $\delta_i$ onto the ball $\{\|\delta\| \le \varepsilon\}$.

    $L_\infty$: clip every pixel to $[-\varepsilon, \varepsilon]$;
    $L_2$: $\delta \cdot \min(1, \varepsilon / \|\delta\|_2)$ (shrink towards 0 if outside).
    """
    if norm == "linf":
        return delta.clamp(-eps, eps)
    scale = (eps / _per_example_norm(delta, "l2").clamp_min(1e-12)).clamp(max=1.0)
    return delta * scale


def to_box(x0: Tensor, x: Tensor, eps: float, norm: str) -> Tensor:
    r"""Project $x$ onto the ball around $x^0$, then clip to the pixel box $[0, 1]$.

    Clipping moves every coordinate of $\delta$ towards 0, so the result stays in the ball.
    For $L_\infty$ this is the exact projection onto ball $\cap$ box; for $L_2$ it is feasible
    but not always the nearest point of the intersection (the usual practice).
    """
    return (x0 + project(x - x0, eps, norm)).clamp(0.0, 1.0)


def random_point_in_ball(x0: Tensor, eps: float, norm: str, g: torch.Generator) -> Tensor:
    r"""A uniformly random point of the $\varepsilon$-ball around $x^0$, clipped to the box.

    $L_\infty$: $\delta \sim U[-\varepsilon, \varepsilon]^d$. $L_2$: a Gaussian direction scaled to
    radius $\varepsilon\,u^{1/d}$, $u \sim U[0, 1]$ (uniform in the disc / ball).
    """
    shape, dev = x0.shape, x0.device
    if norm == "linf":
        delta = (torch.rand(shape, generator=g, device=dev) * 2 - 1) * eps
    else:
        d = x0[0].numel()
        direction = torch.randn(shape, generator=g, device=dev)
        direction = direction / _per_example_norm(direction, "l2").clamp_min(1e-12)
        radius = eps * torch.rand((shape[0],) + (1,) * (x0.dim() - 1), generator=g, device=dev) ** (1.0 / d)
        delta = direction * radius
    return (x0 + delta).clamp(0.0, 1.0)


def fgsm(model: nn.Module, x: Tensor, y: Tensor, eps: float, target: Tensor | None = None,
         norm: str = "linf") -> Tensor:
    r"""Fast gradient sign method: one step of length $\varepsilon$ from $x^0$.

    $x = \mathrm{clip}_{[0,1]}\big(x^0 + \varepsilon\,\mathrm{sign}(\nabla_x L(x^0))\big)$.
    ``norm="l2"`` gives the fast gradient method $x^0 + \varepsilon\, g / \|g\|_2$.
    x: $x^0$ (N, ...) in [0, 1]; y: true labels (N,); target: $y^{target}$ (N,) or None.
    """
    _check(x, eps, norm)
    grad = input_gradient(model, x, y, target)
    return ascent_step(x, grad, eps, norm).clamp(0.0, 1.0).detach()


@dataclass(frozen=True)
class PGDStep:
    stepped: Tensor     # after the gradient step, before projection (may leave the ball / box)
    projected: Tensor   # after projection onto ball and box: the next iterate


def pgd_iterates(model: nn.Module, x: Tensor, y: Tensor, eps: float, alpha: float, steps: int,
                 norm: str = "linf", random_start: bool = True, target: Tensor | None = None,
                 seed: int | None = None) -> Iterator[PGDStep]:
    r"""PGD one step at a time:
    $x^{t+1} = \Pi_{B_\varepsilon(x^0) \cap [0,1]^d}\big(x^t + \alpha\, s(\nabla_x L(x^t))\big)$.

    $s$ is sign for $L_\infty$ and $g / \|g\|_2$ for $L_2$; $x^{(0)}$ is $x^0$ or a random point
    of the ball (``random_start``, drawn from a private generator seeded with ``seed``).
    Yields a :class:`PGDStep` per iteration; :func:`pgd` keeps the last one.
    """
    _check(x, eps, norm)
    _check_steps(alpha, steps, norm)
    x0 = x.detach()
    xt = x0
    if random_start:
        xt = random_point_in_ball(x0, eps, norm, generator(0 if seed is None else seed, x0.device))
    for _ in range(steps):
        stepped = ascent_step(xt, input_gradient(model, xt, y, target), alpha, norm)
        xt = to_box(x0, stepped, eps, norm).detach()
        yield PGDStep(stepped.detach(), xt)


def pgd(model: nn.Module, x: Tensor, y: Tensor, eps: float, alpha: float, steps: int,
        norm: str = "linf", random_start: bool = True, target: Tensor | None = None,
        seed: int | None = None) -> Tensor:
    r"""Projected gradient descent (Madry et al.): the last iterate of :func:`pgd_iterates`.

    Returns $x$ with $\|x - x^0\| \le \varepsilon$ in ``norm`` per example and $x \in [0, 1]$.
    """
    last = x.detach()
    for step in pgd_iterates(model, x, y, eps, alpha, steps, norm, random_start, target, seed):
        last = step.projected
    return last


def bim(model: nn.Module, x: Tensor, y: Tensor, eps: float, alpha: float, steps: int,
        norm: str = "linf", target: Tensor | None = None) -> Tensor:
    """Basic iterative method (iterative FGSM): PGD that starts at $x^0$ itself, no random start."""
    return pgd(model, x, y, eps, alpha, steps, norm, random_start=False, target=target)


# ---------------------------------------------------------------------------------------------
# What the lesson shows
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AttackConfig:
    method: str = "pgd"          # "fgsm" | "bim" | "pgd"
    norm: str = "linf"
    eps: float = 0.1             # flips most digits of the standard model, few of the robust one
    alpha: float = 0.01          # steps * alpha = 2 eps: enough to cross the ball and come back
    steps: int = 20
    random_start: bool = True
    target: int | None = None    # a class index for a targeted attack
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"Invalid method: {self.method!r} (allowed {', '.join(METHODS)})")
        _check_budget(self.eps, self.norm)
        _check_steps(self.alpha, self.steps, self.norm)
        if self.target is not None and not 0 <= self.target < 10:
            raise ValueError(f"Invalid target: {self.target} (allowed a class 0 to 9, or None)")


@dataclass(frozen=True)
class AttackResult:
    x: np.ndarray             # (8, 8) original
    x_adv: np.ndarray         # (8, 8) adversarial
    delta: np.ndarray         # (8, 8) x_adv - x
    probs: np.ndarray         # (10,) softmax before
    probs_adv: np.ndarray     # (10,) softmax after
    linf: float
    l2: float
    label: int                # y: the true class, or the model's reading of an upload
    pred: int
    pred_adv: int
    success: bool             # untargeted: pred_adv != label; targeted: pred_adv == target
    path_probs: np.ndarray    # (T+1, 10) softmax at x^0 and after every iterate (T = 1 for FGSM)
    path_images: np.ndarray   # (T+1, 8, 8) the iterates


def attack_digit(model: nn.Module, x: Tensor, label: int | None, config: AttackConfig,
                 device: torch.device | str = "cpu") -> AttackResult:
    """Attack one image (1, 1, 8, 8) with true ``label`` as ``config`` says; keep every iterate for the animation.

    ``label=None`` (an uploaded picture has no ground truth): the model's own reading of x is $y$.
    """
    device = torch.device(device)
    x0 = x.to(device).reshape(1, 1, 8, 8)
    if label is None:
        with torch.inference_mode():
            label = int(model(x0).argmax(1))
    y = torch.tensor([label], device=device)
    target = None if config.target is None else torch.tensor([config.target], device=device)
    if config.method == "fgsm":
        iterates = [fgsm(model, x0, y, config.eps, target, config.norm)]
    else:
        iterates = [s.projected for s in pgd_iterates(
            model, x0, y, config.eps, config.alpha, config.steps, config.norm,
            random_start=config.method == "pgd" and config.random_start, target=target, seed=config.seed)]
    images = torch.cat([x0] + iterates)                          # (T+1, 1, 8, 8)
    with torch.inference_mode():
        probs = model(images).softmax(1)                         # (T+1, 10)
    x_adv = images[-1:]
    linf, l2 = perturbation_norms(x_adv - x0)
    pred, pred_adv = int(probs[0].argmax()), int(probs[-1].argmax())
    success = pred_adv == config.target if config.target is not None else pred_adv != label
    return AttackResult(
        x=x0[0, 0].cpu().numpy(), x_adv=x_adv[0, 0].cpu().numpy(), delta=(x_adv - x0)[0, 0].cpu().numpy(),
        probs=probs[0].cpu().numpy(), probs_adv=probs[-1].cpu().numpy(), linf=float(linf), l2=float(l2),
        label=label, pred=pred, pred_adv=pred_adv, success=bool(success), path_probs=probs.cpu().numpy(),
        path_images=images[:, 0].cpu().numpy())


def adversarial_accuracy(model: nn.Module, x: Tensor, y: Tensor, method: str, eps: float, norm: str = "linf",
                         steps: int = CURVE_STEPS, seed: int = 0) -> float:
    r"""Accuracy on $x$ after the attack (FGSM, or PGD-``steps`` with $\alpha = 2.5\varepsilon/$steps and a random
    start)."""
    assert method in ("fgsm", "pgd"), f"robustness is measured with fgsm or pgd, got {method!r}"
    if eps == 0:
        x_adv = x
    elif method == "fgsm":
        x_adv = fgsm(model, x, y, eps, norm=norm)
    else:
        x_adv = pgd(model, x, y, eps, 2.5 * eps / steps, steps, norm, random_start=True, seed=seed)
    with torch.inference_mode():
        return float((model(x_adv).argmax(1) == y).float().mean())


@dataclass(frozen=True)
class RobustnessCurves:
    eps: np.ndarray                     # (E,)
    accuracy: dict[str, np.ndarray]     # "<model>/<method>" -> (E,) test accuracy


def robustness_curves(models: dict[str, nn.Module], x: Tensor, y: Tensor, norm: str = "linf",
                      eps_grid: tuple[float, ...] | None = None, steps: int = CURVE_STEPS,
                      seed: int = 0) -> RobustnessCurves:
    """Test accuracy against FGSM and PGD over ``eps_grid`` for each model (10 eps x 2 attacks x 2 models ~ seconds)."""
    grid = CURVE_EPS[norm] if eps_grid is None else eps_grid
    assert len(grid) <= 16, f"at most 16 eps values, got {len(grid)}"
    acc = {f"{name}/{method}": np.array([adversarial_accuracy(m, x, y, method, e, norm, steps, seed) for e in grid])
           for name, m in models.items() for method in ("fgsm", "pgd")}
    return RobustnessCurves(np.array(grid), acc)


# ---------------------------------------------------------------------------------------------
# The 2D geometry view
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DecisionGrid:
    xs: np.ndarray      # (G,)
    ys: np.ndarray      # (G,)
    prob: np.ndarray    # (G, G) P(class 1) at (ys[i], xs[j])


def decision_grid(model: nn.Module, n: int = 101, device: torch.device | str = "cpu") -> DecisionGrid:
    """P(class 1) of a 2D classifier on an n x n grid over the unit square (the boundary is the 0.5 level)."""
    assert 2 <= n <= 301, f"grid side must be in [2, 301], got {n}"
    xs = torch.linspace(0, 1, n, device=device)
    gy, gx = torch.meshgrid(xs, xs, indexing="ij")
    with torch.inference_mode():
        p = model(torch.stack([gx.flatten(), gy.flatten()], 1)).softmax(1)[:, 1].reshape(n, n)
    return DecisionGrid(xs.cpu().numpy(), xs.cpu().numpy(), p.cpu().numpy())


@dataclass(frozen=True)
class PGDPath:
    start: np.ndarray       # (2,) x^(0): x^0 or the random start
    stepped: np.ndarray     # (T, 2) after each gradient step, before projection
    projected: np.ndarray   # (T, 2) after each projection
    prob: np.ndarray        # (T+1,) P(true class) at x^(0) and each iterate
    moved: np.ndarray       # (T,) distance the projection moved the point (0: step stayed inside)


def pgd_path_2d(model: nn.Module, point: tuple[float, float], label: int, eps: float, alpha: float,
                steps: int, norm: str = "linf", random_start: bool = False, seed: int = 0,
                device: torch.device | str = "cpu") -> PGDPath:
    """Every PGD iterate for one 2D point, with the point before and after each projection."""
    x0 = torch.tensor([point], dtype=torch.float32, device=device)
    if not (float(x0.min()) >= 0 and float(x0.max()) <= 1):
        raise ValueError(f"Invalid point: {point} (allowed the unit square [0, 1]^2)")
    y = torch.tensor([label], device=device)
    start = x0
    if random_start:
        start = random_point_in_ball(x0, eps, norm, generator(seed, x0.device))
    iterates = list(pgd_iterates(model, x0, y, eps, alpha, steps, norm, random_start, seed=seed))
    stepped = torch.cat([s.stepped for s in iterates])
    projected = torch.cat([s.projected for s in iterates])
    with torch.inference_mode():
        prob = model(torch.cat([start, projected])).softmax(1)[:, label]
    return PGDPath(start[0].cpu().numpy(), stepped.cpu().numpy(), projected.cpu().numpy(), prob.cpu().numpy(),
                   (stepped - projected).norm(dim=1).cpu().numpy())


def ball_outline(center: tuple[float, float], eps: float, norm: str, n: int = 73) -> np.ndarray:
    r"""Points (n, 2) on the boundary of $\{\|p - c\| = \varepsilon\}$: a square for $L_\infty$, a circle for $L_2$."""
    cx, cy = center
    if norm == "linf":
        return np.array([[cx - eps, cy - eps], [cx + eps, cy - eps], [cx + eps, cy + eps],
                         [cx - eps, cy + eps], [cx - eps, cy - eps]])
    t = np.linspace(0, 2 * math.pi, n)
    return np.stack([cx + eps * np.cos(t), cy + eps * np.sin(t)], 1)
