r"""The update rules of the course notes written out by hand (000 §3.2–3.5, 001 "动量算法" to
"Adam", 002 lecture 4): SGD with momentum, AdaGrad, RMSProp and Adam, one step at a time.

Each ``*_step`` function is the formula and nothing else; ``mirror_path`` iterates one of them
on a surface and ``torch_path`` runs the matching ``torch.optim`` class, so a test (and the
lesson page) can show that the two agree to rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


def momentum_step(theta: Tensor, grad: Tensor, m: Tensor, *, lr: float, momentum: float) -> tuple[Tensor, Tensor]:
    r"""SGD with momentum as lecture 4 of the notes writes it.

    $m_{t+1} = \lambda m_t - \eta g_t,\quad \theta_{t+1} = \theta_t + m_{t+1}$, with $m_0 = 0$.

    theta: $\theta_t$; grad: $g_t$; m: $m_t$; lr: $\eta$; momentum: $\lambda$. Returns ($\theta_{t+1}$, $m_{t+1}$).
    Note: torch.optim.SGD keeps $b_t = -m_t/\eta$ instead ($b_{t+1} = \lambda b_t + g_t$,
    $\theta_{t+1} = \theta_t - \eta b_{t+1}$); with a constant $\eta$ the iterates are the same.
    """
    m = momentum * m - lr * grad
    return theta + m, m


def adagrad_step(theta: Tensor, grad: Tensor, r: Tensor, *, lr: float, eps: float = 1e-10) -> tuple[Tensor, Tensor]:
    r"""AdaGrad: every coordinate's step is divided by the root of its summed squared gradients.

    $r_t = r_{t-1} + g_t^2,\quad \theta_{t+1} = \theta_t - \dfrac{\eta}{\sqrt{r_t} + \epsilon}\, g_t$, with $r_0 = 0$.

    theta: $\theta_t$; grad: $g_t$; r: $r_{t-1}$; lr: $\eta$; eps: $\epsilon$. Returns ($\theta_{t+1}$, $r_t$).
    Note: the notes write $\sigma_t = \sqrt{\tfrac{1}{t+1}\sum_{j\le t} g_j^2}$ with the decaying rate
    $\eta_t = \eta / \sqrt{t+1}$; the two $\sqrt{t+1}$ cancel, which gives exactly this rule (torch's).
    """
    r = r + grad * grad
    return theta - lr * grad / (r.sqrt() + eps), r


def rmsprop_step(theta: Tensor, grad: Tensor, v: Tensor, *, lr: float, alpha: float = 0.99,
                 eps: float = 1e-8) -> tuple[Tensor, Tensor]:
    r"""RMSProp: an exponentially decaying average of squared gradients replaces AdaGrad's sum.

    $v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\quad \theta_{t+1} = \theta_t - \dfrac{\eta}{\sqrt{v_t} + \epsilon}\, g_t$,
    with $v_0 = 0$.

    theta: $\theta_t$; grad: $g_t$; v: $v_{t-1}$ ($\sigma_{t-1}^2$ in the notes); lr: $\eta$; alpha: $\alpha$.
    Note: the notes start from $\sigma_0 = |g_0|$; torch (and this function) start from $v_0 = 0$,
    so the first steps are larger by up to $1/\sqrt{1-\alpha}$.
    """
    v = alpha * v + (1 - alpha) * grad * grad
    return theta - lr * grad / (v.sqrt() + eps), v


def adam_step(theta: Tensor, grad: Tensor, m: Tensor, v: Tensor, t: int, *, lr: float,
              betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> tuple[Tensor, Tensor, Tensor]:
    r"""Adam: momentum on the gradient plus RMSProp's scaling, both bias-corrected.

    $m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,$
    $\hat m_t = m_t / (1-\beta_1^t),\quad \hat v_t = v_t / (1-\beta_2^t),\quad
    \theta_{t+1} = \theta_t - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)$, with $t = 1, 2, \ldots$

    theta: $\theta$; grad: $g_t$; m, v: $m_{t-1}, v_{t-1}$; t: the step number $t \ge 1$; betas: ($\beta_1$, $\beta_2$).
    Returns ($\theta_{t+1}$, $m_t$, $v_t$). Same rule as torch.optim.Adam (amsgrad=False, no weight decay).
    """
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * grad               # first moment: the momentum
    v = beta2 * v + (1 - beta2) * grad * grad        # second moment: RMSProp's average
    m_hat = m / (1 - beta1**t)                       # bias corrections: m_0 = v_0 = 0
    v_hat = v / (1 - beta2**t)
    return theta - lr * m_hat / (v_hat.sqrt() + eps), m, v


RULES = ("momentum", "adagrad", "rmsprop", "adam")


@dataclass(frozen=True)
class RuleCheck:
    rule: str
    mirror: np.ndarray     # (steps + 1, 2) iterates of the hand-written rule
    reference: np.ndarray  # (steps + 1, 2) iterates of torch.optim
    max_error: float       # max |mirror - reference| over all steps


def _grad(fn: Callable[[Tensor, Tensor], Tensor], theta: Tensor) -> Tensor:
    q = theta.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(q[0], q[1]), q)
    return g


def mirror_path(rule: str, fn: Callable[[Tensor, Tensor], Tensor], start: Sequence[float], steps: int,
                **hp: float) -> np.ndarray:
    """(steps + 1, 2) float64 iterates of the hand-written ``rule`` on f(x, y) from ``start``."""
    if rule not in RULES:
        raise ValueError(f"Invalid rule: {rule!r} (allowed {', '.join(RULES)})")
    theta = torch.tensor(list(start), dtype=torch.float64)
    state = [torch.zeros_like(theta), torch.zeros_like(theta)]
    out = [theta.numpy().copy()]
    for t in range(1, steps + 1):
        g = _grad(fn, theta)
        if rule == "momentum":
            theta, state[0] = momentum_step(theta, g, state[0], **hp)
        elif rule == "adagrad":
            theta, state[0] = adagrad_step(theta, g, state[0], **hp)
        elif rule == "rmsprop":
            theta, state[0] = rmsprop_step(theta, g, state[0], **hp)
        else:
            theta, state[0], state[1] = adam_step(theta, g, state[0], state[1], t, **hp)
        out.append(theta.numpy().copy())
    return np.stack(out)


TORCH = {"momentum": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
         "adam": torch.optim.Adam}


def torch_path(rule: str, fn: Callable[[Tensor, Tensor], Tensor], start: Sequence[float], steps: int,
               **hp: float) -> np.ndarray:
    """The same iterates from the ``torch.optim`` class that implements ``rule``."""
    theta = torch.tensor(list(start), dtype=torch.float64, requires_grad=True)
    opt = TORCH[rule]([theta], foreach=False, **hp)
    out = [theta.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        fn(theta[0], theta[1]).backward()
        opt.step()
        out.append(theta.detach().numpy().copy())
    return np.stack(out)


def check_rule(rule: str, fn: Callable[[Tensor, Tensor], Tensor], start: Sequence[float], steps: int,
               **hp: float) -> RuleCheck:
    """Hand-written rule against torch.optim on the same surface and start."""
    if not 1 <= steps <= 500:
        raise ValueError(f"Invalid steps: {steps} (allowed 1 to 500)")
    a, b = mirror_path(rule, fn, start, steps, **hp), torch_path(rule, fn, start, steps, **hp)
    both = np.isfinite(a) & np.isfinite(b)
    err = float(np.abs(a - b)[both].max()) if both.any() else float("nan")
    return RuleCheck(rule, a, b, err)
